"""Feature dtypes: float32 kept as float32 on the workers with float64 arithmetic, integer and
boolean features as float64.

A float32 X is placed as float32 (half the memory) but every oracle sum is computed in
float64 (``_kernels.row_blocks``), so a fit on float32 data equals the fit on its
float64 upcast to solver tolerance, not to float32's seven digits.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import pytest
import scipy.sparse
from distributed import Client
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from daskgd import _kernels
from daskgd._data import as_fit_input
from daskgd._engine import Engine
from daskgd.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge


def _standardised(X: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(X)


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return _standardised(X), y


def _cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised(X), y


def _poisson() -> tuple[np.ndarray, np.ndarray]:
    X, _ = _diabetes()
    rng = np.random.default_rng(0)
    return X, rng.poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 2] + 1.0)).astype(float)


# (estimator, data, coefficient rtol). The fits converge tightly, so float32 data and its
# float64 upcast must land on the same coefficients; float32 arithmetic (the accumulation
# in a float32 BLAS product) would leave them ~1e-5 apart. lstsq's dask path sums its Gram
# statistics in another order (chunk-centred moments merged) than the in-memory reference:
# the float64 results agree to ~1e-12, which may round to neighbouring float32 values.
CASES = {
    "lstsq": (lambda: LinearRegression(), _diabetes, 2.5e-7),
    "ridge-lbfgs": (lambda: Ridge(alpha=1.0, solver="lbfgs", tol=1e-10), _diabetes, 1e-7),
    "logistic-newton": (lambda: LogisticRegression(solver="newton", tol=1e-10), _cancer, 1e-7),
    "logistic-lbfgs": (lambda: LogisticRegression(solver="lbfgs", tol=1e-10), _cancer, 1e-7),
    "poisson-lbfgs": (
        lambda: PoissonRegressor(alpha=0.1, solver="lbfgs", tol=1e-10), _poisson, 1e-7
    ),
}


def _containers(X32: np.ndarray) -> dict[str, Any]:
    return {
        "numpy": X32,
        "dask": da.from_array(X32, chunks=(101, -1)),
        "sparse": scipy.sparse.csr_array(X32),
    }


@pytest.mark.parametrize("container", ["numpy", "dask", "sparse"])
@pytest.mark.parametrize("case", list(CASES))
def test_float32_fits_as_its_float64_upcast(case: str, container: str) -> None:
    make, data, rtol = CASES[case]
    X, y = data()
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)  # the same numbers, in float64
    ref = make().fit(X64, y)
    est = make().fit(_containers(X32)[container], y)
    assert est.coef_.dtype == np.float32  # scikit-learn's convention for float32 input
    assert_allclose(est.coef_, ref.coef_.astype(np.float32), rtol=rtol, atol=1e-6)
    assert_allclose(est.intercept_, np.float32(ref.intercept_), rtol=rtol, atol=1e-6)
    # The objective values the solver saw are float64 sums of the same numbers.
    assert est.history_[-1]["objective"] == pytest.approx(ref.history_[-1]["objective"],
                                                           rel=1e-9)


@pytest.mark.parametrize("container", ["numpy", "dask", "sparse"])
def test_float32_chunks_stay_float32_on_the_workers(client: Client, container: str) -> None:
    X, y = _diabetes()
    X32 = X.astype(np.float32)
    data = as_fit_input(_containers(X32)[container], y, None, classify=False)
    summary = None
    if not data.is_dask:
        stats = _kernels.chunk_stats(_kernels.make_chunk(data.X, data.y, None), False)
        from daskgd._data import summarise

        summary = summarise([stats], classify=False)
    engine, _ = Engine.place(client, data, classify=False, summary=summary)
    try:
        dtypes = {
            dtype for shard in client.gather(
                [client.submit(lambda s: [c.X.dtype for c in s.chunks], f)
                 for f in engine.shards])
            for dtype in shard
        }
    finally:
        engine.close()
    assert set(dtypes) == {np.dtype(np.float32)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_blocks_equal_the_whole_float64_kernel(
    dtype: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block-wise computation of a chunk (float32 blocks upcast to float64) gives the
    sums of the whole float64 chunk, also when the chunk spans several blocks, every block
    starts aligned, and an empty chunk gives zeros."""
    rng = np.random.default_rng(0)
    X32 = rng.normal(size=(3000, 7)).astype(dtype)
    y = rng.normal(size=3000)
    w = rng.uniform(0.5, 2.0, size=3000)
    B, b = rng.normal(size=(7, 1)), rng.normal(size=1)
    loss = Ridge()._loss()
    chunk32 = _kernels.make_chunk(X32, y, w)
    chunk64 = _kernels.make_chunk(X32.astype(np.float64), y, w)
    want = _kernels.loss_grad(chunk64, loss, B, b)  # one block
    monkeypatch.setattr(_kernels, "BLOCK_BYTES", 8 * 7 * 250)  # 248 rows a block: 13 blocks
    assert _kernels._block_rows(chunk32.X) == 248
    starts = []
    plain = _kernels.loss_grad.__wrapped__  # type: ignore[attr-defined]

    def spy(chunk: _kernels.Chunk, *args: object) -> object:
        starts.append(chunk.X.ctypes.data % _kernels.ALIGNMENT)
        return plain(chunk, *args)

    got = _kernels.row_blocks(spy)(chunk32, loss, B, b)
    for g, e in zip(got, want):
        assert_allclose(g, e, rtol=1e-12)
    assert len(starts) == 13
    if dtype == np.float64:  # views of the chunk, all aligned
        assert set(starts) == {0}
    empty = _kernels.make_chunk(X32[:0], y[:0], w[:0])
    value, grad_B, grad_b = _kernels.loss_grad(empty, loss, B, b)
    assert value == 0.0
    assert_array_equal(grad_B, np.zeros((7, 1)))
    assert_array_equal(grad_b, np.zeros(1))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, bool])
def test_integer_and_boolean_features_fit_as_float64(dtype: Any) -> None:
    rng = np.random.default_rng(1)
    Xi = rng.integers(0, 2 if dtype is bool else 5, size=(200, 3)).astype(dtype)
    y = Xi.astype(float) @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=200)
    est = LinearRegression().fit(Xi, y)
    ref = LinearRegression().fit(Xi.astype(np.float64), y)
    assert est.coef_.dtype == np.float64
    assert_allclose(est.coef_, ref.coef_, rtol=1e-12)
    assert_allclose(est.predict(Xi), ref.predict(Xi.astype(np.float64)), rtol=1e-12)
