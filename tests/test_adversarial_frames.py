"""Adversarial cases: dask DataFrames with nullable (Float64, Int64, boolean) or mixed
column dtypes are taken as pandas DataFrames are, not refused as non-numeric."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from daskgd import LinearRegression, LogisticRegression
from daskgd import metrics as dm


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    df["flag"] = df.b > 0
    df["y"] = 2 * df.a - df.b + 0.1 * rng.normal(size=40)
    df["c"] = (df.y > 0).astype(int)
    return df.astype({"a": "Float64", "b": "Float64", "y": "Float64", "c": "Int64"})


def test_dask_frame_with_nullable_and_bool_columns_fits_as_pandas() -> None:
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=3)
    features = ["a", "b", "flag"]
    reference = LinearRegression().fit(df[features], df.y)
    model = LinearRegression().fit(ddf[features], ddf.y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    np.testing.assert_allclose(
        model.predict(ddf[features]).compute(), reference.predict(df[features]), rtol=1e-10
    )
    assert model.score(ddf[features], ddf.y) == pytest.approx(
        reference.score(df[features], df.y), rel=1e-10
    )
    clf = LogisticRegression().fit(ddf[features], ddf.c)
    np.testing.assert_allclose(
        clf.coef_, LogisticRegression().fit(df[features], df.c).coef_, rtol=1e-8
    )


def test_dask_frame_with_pd_na_is_refused_as_nan() -> None:
    df = _frame()
    df.loc[5, "a"] = pd.NA
    ddf = dd.from_pandas(df, npartitions=3)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LinearRegression().fit(ddf[["a", "b"]], ddf.c)


def test_metrics_on_nullable_dask_series_equal_sklearn() -> None:
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=3)
    pred = (df.y.to_numpy(dtype=float) * 0.9)
    assert dm.r2_score(ddf.y, pred) == pytest.approx(
        skm.r2_score(df.y.to_numpy(dtype=float), pred), rel=1e-12
    )
    assert dm.accuracy_score(ddf.c, ddf.c) == 1.0


@pytest.mark.parametrize("kind", ["dask", "sparse", "dask-sparse"])
def test_complex_x_gets_the_complex_message_for_every_container(kind: str) -> None:
    """Complex X is refused with scikit-learn's message for dask and sparse input too, not
    with the advice to encode text features."""
    import dask.array as da
    import scipy.sparse as sp

    X = np.arange(12.0).reshape(6, 2) + 1j
    if kind == "dask":
        X = da.from_array(X, chunks=3)
    elif kind == "sparse":
        X = sp.csr_matrix(X)
    else:
        X = da.from_array(sp.csr_matrix(X), chunks=(3, -1), asarray=False)
    with pytest.raises(ValueError, match=r"Complex data not supported.*\bX\b"):
        LinearRegression().fit(X, np.arange(6.0))
