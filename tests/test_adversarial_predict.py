"""Adversarial cases for predict on dask input: NaN or infinity raise, as on NumPy input."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp

from daskgd import LinearRegression, LogisticRegression


@pytest.mark.parametrize("kind", ["dense", "csr", "coo", "column-blocks"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predict_on_dask_with_non_finite_raises(kind: str, bad: float) -> None:
    """A NaN or infinity in a dask X makes predict raise when computed, instead of
    silently predicting NaN (regression) or the first class (classification)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    reg = LinearRegression().fit(X, X[:, 1])
    X_bad = X.copy()
    X_bad[25, 1] = bad
    if kind == "column-blocks":
        dX = da.from_array(X_bad, chunks=(10, 2))
    elif kind == "dense":
        dX = da.from_array(X_bad, chunks=(10, -1))
    else:
        fmt = kind
        dX = da.from_array(X_bad, chunks=(10, -1)).map_blocks(
            lambda b: sp.csr_matrix(b).asformat(fmt), dtype=float,
            meta=sp.csr_matrix((0, 0)).asformat(fmt),
        )
    for call in (clf.predict, clf.predict_proba, reg.predict):
        with pytest.raises(ValueError, match="NaN or infinity"):
            call(dX).compute()
    # finite blocks predict as NumPy input does
    good = da.from_array(X, chunks=(10, -1))
    np.testing.assert_array_equal(clf.predict(good).compute(), clf.predict(X))
