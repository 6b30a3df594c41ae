"""Adversarial cases for ``daskgd.metrics``: inputs where scikit-learn raises must raise."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from sklearn import metrics as skm

from daskgd import metrics as dm


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize(
    "name, kwargs", [("r2_score", {}), ("d2_tweedie_score", {"power": 0}),
                     ("d2_tweedie_score", {"power": 1})],
)
@pytest.mark.parametrize("n_rows", [0, 1, 5])
def test_zero_weight_sum_raises_like_sklearn(
    kind: str, name: str, kwargs: dict, n_rows: int
) -> None:
    """R² and D² with weights summing to zero (or no rows) raise, as mean_squared_error does
    and as scikit-learn does, instead of returning 1.0 or NaN."""
    y = np.arange(1.0, n_rows + 1.0)
    p = y + 0.5
    w = np.zeros(n_rows)
    with pytest.raises(ValueError):
        getattr(skm, name)(y, p, sample_weight=w, **kwargs)
    if kind == "dask":
        y, p, w = (da.from_array(a, chunks=2) for a in (y, p, w))
    with pytest.raises(ValueError, match="non-zero"):
        getattr(dm, name)(y, p, sample_weight=w, **kwargs)
