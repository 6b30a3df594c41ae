"""Sparse X (cases C-05 and C-22's sparse part) and X chunked along columns (case C-10).

Sparse input is every scipy.sparse format and dask arrays of sparse chunks; it must give the
model the dense equivalent gives, for every estimator and solver, with sample weights, with
explicit zeros and empty rows, and keep predictions lazy on dask input. Exact and
second-order solvers are compared by coefficients, first-order ones by the documented
objective (``_models_common.objective``). A dask X with column blocks must give the model of
row-only chunks and say (one INFO log line) that its column blocks were joined.
"""

from __future__ import annotations

import functools
import logging
import pickle
import warnings
from typing import Any

import dask.array as da
import numpy as np
import pytest
import scipy.sparse
from _models_common import (
    EXACT,
    assert_rel,
    c05_data,
    n_iter,
    no_convergence_warning,
    objective,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from daskgd import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
    SGDRegressor,
    _kernels,
)
from daskgd._data import check_X, join_column_blocks
from daskgd.losses import HalfSquaredError, MultinomialLogLoss

# ---------------------------------------------------------------- data


@functools.cache
def design(n: int = 90, d: int = 6) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """A CSR design with ~40% non-zeros, some explicitly stored zeros and three empty rows,
    and the same matrix dense."""
    rng = np.random.default_rng(0)
    nonzero = rng.random((n, d)) < 0.4
    stored = nonzero | (rng.random((n, d)) < 0.1)  # the extra entries are stored zeros
    stored[[3, 40, 77]] = False
    dense = np.where(nonzero & stored, rng.standard_normal((n, d)), 0.0)
    rows, cols = np.nonzero(stored)
    X = scipy.sparse.csr_matrix((dense[rows, cols], (rows, cols)), shape=(n, d))
    assert X.nnz > np.count_nonzero(dense) and X.getnnz(axis=1)[40] == 0
    return X, dense


@functools.cache
def targets(kind: str) -> np.ndarray:
    _, X = design()
    rng = np.random.default_rng(1)
    eta = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5, -0.7])
    if kind == "regression":
        return eta + 1.0 + 0.3 * rng.standard_normal(len(eta))
    if kind == "binary":
        return (eta + 0.5 * rng.standard_normal(len(eta)) > 0).astype(int)
    if kind == "three":
        scores = np.column_stack([eta, -eta, 0.3 * rng.standard_normal(len(eta))])
        return np.argmax(scores + 0.3 * rng.standard_normal(scores.shape), axis=1)
    return rng.poisson(np.exp(0.3 + eta / 3)).astype(np.float64)


@functools.cache
def weights() -> np.ndarray:
    return np.random.default_rng(2).uniform(0.2, 3.0, size=design()[1].shape[0])


def dask_csr(X: Any, n_chunks: int = 3, columns: int | None = None) -> da.Array:
    """A dask array of CSR chunks: ``n_chunks`` row blocks (and column blocks of ``columns``)."""
    rows = -(-X.shape[0] // n_chunks)
    return da.from_array(scipy.sparse.csr_matrix(X), chunks=(rows, columns or X.shape[1]),
                         asarray=False)


def dask_rows(v: np.ndarray, X: da.Array) -> da.Array:
    return da.from_array(v, chunks=(X.chunks[0],))


# ---------------------------------------------------------------- every estimator x solver

LEAST_SQUARES = ("lstsq", "lbfgs", "newton", "gd", "proximal")
SMOOTH = ("lbfgs", "newton", "gd", "proximal")
PROBLEMS = {
    "ols": (LinearRegression, {}, "regression", LEAST_SQUARES),
    "ridge": (Ridge, {"alpha": 1.0}, "regression", LEAST_SQUARES),
    "lasso": (Lasso, {"alpha": 0.05}, "regression", ("lstsq", "proximal")),
    "enet": (ElasticNet, {"alpha": 0.05, "l1_ratio": 0.5}, "regression", ("lstsq", "proximal")),
    "logit": (LogisticRegression, {}, "binary", SMOOTH),
    "logit-l1": (LogisticRegression, {"penalty": "l1", "C": 0.5}, "binary", ("proximal",)),
    "multinomial": (LogisticRegression, {}, "three", SMOOTH),
    "poisson": (PoissonRegressor, {"alpha": 0.1}, "counts", SMOOTH),
}
#: Iterative solvers take the same steps on sparse and dense data (their sums differ by
#: rounding only), so a moderate tol already tells a wrong kernel from a right one. L-BFGS
#: stops at 1e-7: at 1e-8 its line search meets float64 precision on the Poisson problem,
#: and where it then stops depends on that rounding.
TOL = {"lstsq": 1e-12, "newton": 1e-12, "lbfgs": 1e-7, "gd": 1e-6, "proximal": 1e-6}
#: The first-order solvers run this many iterations on both: the same steps must reach the
#: same objective (a wrong sparse kernel moves it at once), at a fraction of a full fit.
FIRST_ORDER_ITERATIONS = 15
#: Coefficient agreement for the exact and second-order solvers.
RTOL = {"lstsq": 1e-8, "newton": 1e-8, "lbfgs": 1e-8}
#: Relative objective gap for the first-order solvers.
GAP = 1e-9


def _fit(name: str, solver: str, X: Any, y: Any, w: Any) -> Any:
    model, params, _, _ = PROBLEMS[name]
    if solver in EXACT:
        with no_convergence_warning():
            return model(**params, solver=solver, tol=TOL[solver], max_iter=5000).fit(
                X, y, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = model(**params, solver=solver, tol=0.0, max_iter=FIRST_ORDER_ITERATIONS).fit(
            X, y, sample_weight=w)
    assert n_iter(est) == FIRST_ORDER_ITERATIONS
    return est


@pytest.mark.parametrize(("name", "solver"), [
    pytest.param(name, solver, id=f"{name}-{solver}")
    for name, (_, _, _, solvers) in PROBLEMS.items() for solver in solvers
])
def test_sparse_gives_the_dense_model(name: str, solver: str) -> None:
    model, params, kind, _ = PROBLEMS[name]
    Xs, X = design()
    y, w = targets(kind), weights()
    dense = _fit(name, solver, X, y, w)
    Xd = dask_csr(Xs)
    fits = {"csr": _fit(name, solver, Xs, y, w),
            "dask-csr": _fit(name, solver, Xd, dask_rows(y, Xd), dask_rows(w, Xd))}
    for container, est in fits.items():
        assert_same_model(est, dense, model, params, solver, (X, y, w), container)


def assert_same_model(est: Any, dense: Any, model: type, params: dict[str, Any], solver: str,
                      data: tuple[np.ndarray, Any, Any], what: str) -> None:
    """Same coefficients (exact solvers) or the same objective (first-order solvers)."""
    if solver in EXACT:
        assert_rel(est.coef_, dense.coef_, RTOL[solver], f"{what} coef_")
        assert_rel(est.intercept_, dense.intercept_, RTOL[solver], f"{what} intercept_")
    else:
        f_dense = objective(model, params, dense.coef_, dense.intercept_, *data)
        f_sparse = objective(model, params, est.coef_, est.intercept_, *data)
        assert abs(f_sparse - f_dense) <= GAP * abs(f_dense), what


@pytest.mark.parametrize("model", [SGDRegressor, SGDClassifier])
def test_sgd_on_sparse_rows_equals_sgd_on_the_same_dense_rows(model: type) -> None:
    Xs, X = design()
    y, w = targets("regression" if model is SGDRegressor else "binary"), weights()
    params = {"random_state": 3, "max_iter": 4, "tol": None, "batch_size": 20}
    dense = model(**params).fit(X, y, sample_weight=w)
    Xd = dask_csr(Xs)
    for est in (model(**params).fit(Xs, y, sample_weight=w),
                model(**params).fit(Xd, dask_rows(y, Xd), sample_weight=dask_rows(w, Xd))):
        assert_rel(est.coef_, dense.coef_, 1e-10, "coef_")
        assert_rel(est.intercept_, dense.intercept_, 1e-10, "intercept_")
        assert est.n_iter_ == dense.n_iter_
    np.testing.assert_allclose(est.predict(Xs), dense.predict(X), rtol=1e-10)


# ---------------------------------------------------------------- C-05, every format

SPARSE_FORMATS = {
    "csr_matrix": scipy.sparse.csr_matrix, "csc_matrix": scipy.sparse.csc_matrix,
    "coo_matrix": scipy.sparse.coo_matrix, "csr_array": scipy.sparse.csr_array,
    "csc_array": scipy.sparse.csc_array, "coo_array": scipy.sparse.coo_array,
    "dask-csr": lambda X: dask_csr(X, n_chunks=4),
}
C05_MODELS = {
    "ols": LinearRegression(), "ridge": Ridge(alpha=0.5, tol=1e-12),
    "lasso": Lasso(alpha=0.01, tol=1e-12), "enet": ElasticNet(alpha=0.01, tol=1e-12),
    "logistic": LogisticRegression(tol=1e-12), "poisson": PoissonRegressor(tol=1e-12),
}


@pytest.mark.parametrize("name", sorted(C05_MODELS))
def test_c05_sparse_matrix_and_dask_of_sparse_chunks_give_the_dense_model(name: str) -> None:
    Xs, y_reg, y_cls = c05_data()
    y = {"logistic": y_cls, "poisson": np.exp(y_reg / 4)}.get(name, y_reg)
    dense = clone(C05_MODELS[name]).fit(Xs.toarray(), y)
    Xd = dask_csr(Xs, n_chunks=4)
    for what, X, target in (("csr_matrix", Xs, y), ("dask", Xd, dask_rows(y, Xd))):
        est = clone(C05_MODELS[name]).fit(X, target)
        assert_rel(est.coef_, dense.coef_, 1e-8, f"{what} coef_")
        assert_rel(est.intercept_, dense.intercept_, 1e-8, f"{what} intercept_")
        assert est.coef_.dtype == np.float64


def test_every_sparse_format_becomes_the_same_csr_and_model() -> None:
    Xs, y, _ = c05_data()
    reference = Ridge(alpha=0.5).fit(Xs, y)
    for fmt, convert in SPARSE_FORMATS.items():
        X = convert(Xs)
        if fmt != "dask-csr":
            checked, _ = check_X(X)
            assert isinstance(checked, scipy.sparse.csr_array), fmt
            assert checked.has_canonical_format and (checked != Xs).nnz == 0, fmt
        est = Ridge(alpha=0.5).fit(X, y)
        assert_rel(est.coef_, reference.coef_, 1e-12, f"{fmt} coef_")


# ---------------------------------------------------------------- C-22, sparse part


@functools.cache
def c22_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(22)
    return rng.uniform(size=(10, 3)), rng.uniform(size=10), rng.uniform(0.2, 3.0, size=10)


def _c22(X: np.ndarray, v: Any, chunks: Any) -> Any:
    if v is None or chunks == "numpy":
        return scipy.sparse.csr_matrix(v) if v is X else v
    if v is X:
        return dask_csr(X, n_chunks=chunks)
    return da.from_array(v, chunks=(-(-len(v) // chunks),))


@pytest.mark.parametrize("chunks", ["numpy", 3])
@pytest.mark.parametrize("solver", LEAST_SQUARES)
def test_c22_sparse_ridge_weights_and_alpha(solver: str, chunks: Any) -> None:
    X, y, w = c22_data()

    def fit(X_: Any, alpha: float, weights_: Any) -> Ridge:
        with no_convergence_warning():
            return Ridge(alpha=alpha, solver=solver, tol=TOL[solver], max_iter=5000).fit(
                X_, _c22(X, y, chunks), sample_weight=_c22(X, weights_, chunks))

    # Dense and sparse agree with unequal weights ...
    sparse = fit(_c22(X, X, chunks), 0.05, w)
    dense = fit(X if chunks == "numpy" else da.from_array(X, chunks=(4, 3)), 0.05, w)
    assert_same_model(sparse, dense, Ridge, {"alpha": 0.05}, solver, (X, y, w), "weighted")
    # ... and doubling the weights and alpha together changes nothing for sparse input.
    doubled = fit(_c22(X, X, chunks), 0.10, 2.0 * w)
    assert_rel(doubled.coef_, sparse.coef_, 1e-5, "coef_")
    assert doubled.intercept_ == pytest.approx(sparse.intercept_, rel=1e-5)


# ---------------------------------------------------------------- bad values, dtypes


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("container", ["csc", "dask-csr"])
def test_non_finite_stored_value_is_the_dense_error(value: float, container: str) -> None:
    Xs, _ = design()
    Xs = Xs.copy()
    k = Xs.indptr[50] + 1  # the second stored entry of row 50
    Xs.data[k] = value
    row, col = 50, int(Xs.indices[k])
    bad = Xs.tocsc() if container == "csc" else dask_csr(Xs)
    with pytest.raises(ValueError, match=rf"X contains NaN or infinity .*row {row}, column {col}"):
        Ridge().fit(bad, targets("regression"))


def test_sparse_dtypes_follow_the_dense_rules() -> None:
    Xs, X = design()
    X32, _ = check_X(Xs.astype(np.float32))
    Xint, _ = check_X(scipy.sparse.csr_matrix(np.arange(12).reshape(4, 3)))
    Xcoo, _ = check_X(Xs.tocoo())
    assert isinstance(X32, scipy.sparse.csr_array) and X32.dtype == np.float32
    assert isinstance(Xint, scipy.sparse.csr_array) and Xint.dtype == np.float64
    assert isinstance(Xcoo, scipy.sparse.csr_array) and Xcoo.has_canonical_format
    assert (Xcoo != Xs).nnz == 0
    y = targets("regression")
    dense = Ridge(alpha=1.0).fit(X.astype(np.float32), y)
    sparse = Ridge(alpha=1.0).fit(Xs.astype(np.float32), y)
    assert sparse.coef_.dtype == np.float32
    assert_rel(sparse.coef_, dense.coef_, 1e-5, "float32 coef_")
    with pytest.raises(ValueError, match=r"Complex data not supported: X"):
        check_X(scipy.sparse.csr_matrix(np.ones((3, 2), dtype=complex)))


def test_duplicate_entries_are_summed_without_touching_the_input() -> None:
    rows, cols, vals = np.array([0, 0, 1, 2]), np.array([1, 1, 0, 2]), np.array([1.0, 2.0, 3, 4])
    X = scipy.sparse.coo_matrix((vals, (rows, cols)), shape=(3, 3))
    csr = scipy.sparse.csr_matrix((vals, cols, np.array([0, 2, 3, 4])), shape=(3, 3))
    for given in (X, csr):
        kept = given.copy()
        out, _ = check_X(given)
        np.testing.assert_array_equal(out.toarray(), X.toarray())
        assert out.has_canonical_format
        np.testing.assert_array_equal(given.data, kept.data)


# ---------------------------------------------------------------- predictions


def test_predictions_on_sparse_input_equal_the_dense_ones() -> None:
    Xs, X = design()
    y = targets("three")
    model = LogisticRegression(tol=1e-10).fit(Xs, y)
    Xd = dask_csr(Xs.tocsc())  # chunks of another format
    for method in ("predict", "predict_proba", "decision_function", "predict_log_proba"):
        expected = getattr(model, method)(X)
        np.testing.assert_allclose(getattr(model, method)(Xs.tocoo()), expected, rtol=1e-12)
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12)
    assert model.score(Xs, y) == model.score(X, y)
    assert model.score(Xd, dask_rows(y, Xd)) == pytest.approx(model.score(X, y), rel=1e-12)
    ridge = Ridge().fit(X, targets("regression"))
    lazy = ridge.predict(dask_csr(Xs))
    assert isinstance(lazy, da.Array) and lazy.ndim == 1
    np.testing.assert_allclose(lazy.compute(), ridge.predict(X), rtol=1e-12)
    with_nan = Xs.copy()
    with_nan.data[7] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        ridge.predict(with_nan)


# ---------------------------------------------------------------- C-10: column blocks


@functools.cache
def c10_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(10)
    X = rng.standard_normal((400, 6))
    y = X @ np.arange(1.0, 7.0) + 0.5 + 0.1 * rng.standard_normal(400)
    return X, y, (y > np.median(y)).astype(int)


C10_LAYOUTS = {
    "dense-100x2": lambda X: da.from_array(X, chunks=(100, 2)),
    "dense-37x4-ragged": lambda X: da.from_array(X, chunks=(37, 4)),
    "sparse-100x2": lambda X: da.from_array(scipy.sparse.csr_matrix(X), chunks=(100, 2),
                                            asarray=False),
}


@pytest.mark.parametrize("layout", sorted(C10_LAYOUTS))
def test_c10_column_blocks_give_the_row_chunked_model(layout: str, caplog: Any) -> None:
    X, y, labels = c10_data()
    Xc = C10_LAYOUTS[layout](X)
    rows = da.from_array(X, chunks=(Xc.chunks[0], 6))
    caplog.set_level(logging.INFO, logger="daskgd")
    for model, target in ((Ridge(alpha=1.0, tol=1e-12), y),
                          (LogisticRegression(tol=1e-12, solver="newton"), labels)):
        reference = clone(model).fit(rows, dask_rows(target, rows))
        caplog.clear()
        est = clone(model).fit(Xc, dask_rows(target, Xc))
        assert_rel(est.coef_, reference.coef_, 1e-10, "coef_")
        assert_rel(est.intercept_, reference.intercept_, 1e-10, "intercept_")
        said = [r.getMessage() for r in caplog.records if r.name == "daskgd"]
        assert len([m for m in said if "column blocks" in m]) == 1, said
        message = next(m for m in said if "column blocks" in m)
        assert f"X had {Xc.numblocks[1]} column blocks" in message
        assert "joined per row block" in message and "one copy of X" in message
        decide = getattr(est, "decision_function", est.predict)  # Ridge has none (sklearn)
        lazy = decide(Xc)
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), decide(X), rtol=1e-12)
    proba, labels_ = est.predict_proba(Xc), est.predict(Xc)
    assert isinstance(proba, da.Array) and isinstance(labels_, da.Array)
    np.testing.assert_allclose(proba.compute(), est.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(labels_.compute(), est.predict(X))


def test_row_chunked_input_logs_nothing_about_columns(caplog: Any) -> None:
    X, y, _ = c10_data()
    caplog.set_level(logging.INFO, logger="daskgd")
    Ridge().fit(da.from_array(X, chunks=(100, 6)), y)
    assert not [r for r in caplog.records if "column blocks" in r.getMessage()]


def test_column_join_is_one_task_per_row_block() -> None:
    X, _, _ = c10_data()
    Xc = da.from_array(X, chunks=(37, 4))
    joined = join_column_blocks(Xc)
    assert joined.chunks == (Xc.chunks[0], (6,))
    layer = joined.__dask_graph__().layers[joined.name]
    assert len(dict(layer)) == Xc.numblocks[0]
    assert not any("rechunk" in str(name) for name in joined.__dask_graph__().layers)
    np.testing.assert_array_equal(joined.compute(), X)
    rows = da.from_array(X, chunks=(37, 6))
    assert join_column_blocks(rows) is rows


# ---------------------------------------------------------------- the kernels on CSR


def _chunks(kind: str) -> tuple[_kernels.Chunk, _kernels.Chunk]:
    Xs, X = design()
    y = targets(kind).astype(np.float64)
    return (_kernels.make_chunk(Xs, y, weights()), _kernels.make_chunk(X, y, weights()))


def test_csr_kernels_equal_the_dense_kernels() -> None:
    sparse, dense = _chunks("three")
    assert isinstance(sparse.X, scipy.sparse.csr_array)
    loss = MultinomialLogLoss()
    rng = np.random.default_rng(4)
    B, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    for got, want in zip(_kernels.loss_grad_hess(sparse, loss, B, b),
                         _kernels.loss_grad_hess(dense, loss, B, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    line = ((B, b), (B + 0.1, b - 0.2), np.array([0.5, 1.0, 1.3]))
    for got, want in zip(_kernels.loss_grads_on_line(sparse, loss, *line),
                         _kernels.loss_grads_on_line(dense, loss, *line)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    s, d = _kernels.chunk_stats(sparse, True), _kernels.chunk_stats(dense, True)
    np.testing.assert_allclose(s.weighted_X_sum, d.weighted_X_sum, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(s.weighted_X_sq_sum, d.weighted_X_sq_sum, rtol=1e-13)


def test_centred_gram_of_csr_equals_the_centred_dense_gram() -> None:
    sparse, dense = _chunks("regression")
    mean = np.array([0.1, -0.2, 0.05, 0.0, 0.3, -0.1])
    for got, want in zip(_kernels.centred_gram(sparse, mean, 0.7),
                         _kernels.centred_gram(dense, mean, 0.7)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    loss = HalfSquaredError()
    start, end = (np.ones((6, 1)), np.zeros(1)), (np.zeros((6, 1)), np.ones(1))
    fractions = np.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(_kernels.line_losses(sparse, loss, start, end, fractions),
                               _kernels.line_losses(dense, loss, start, end, fractions),
                               rtol=1e-13)


def test_sgd_sample_gram_and_holdout_score_on_csr_rows() -> None:
    sparse, dense = _chunks("regression")
    n = sparse.X.shape[0]
    layout = _kernels.SGDLayout((0, n), holdout_keys=(1, 2, 3, 4, 5, 6), n_holdout=20)
    mean = np.array([0.1, -0.2, 0.05, 0.0, 0.3, -0.1])
    keys = (7, 8, 9, 10, 11, 12)
    for got, want in zip(_kernels.sgd_sample_gram(sparse, 0, layout, keys, 50, mean),
                         _kernels.sgd_sample_gram(dense, 0, layout, keys, 50, mean)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    B, b = np.arange(6.0).reshape(6, 1), np.array([0.5])
    score = _kernels.sgd_holdout_score(sparse, 0, B, b, layout, False, 1.0)
    np.testing.assert_allclose(
        score, _kernels.sgd_holdout_score(dense, 0, B, b, layout, False, 1.0), rtol=1e-13)
    assert score[0] > 0  # some held-out rows were scored


def test_csr_chunk_survives_pickling_and_is_sized_by_its_arrays() -> None:
    sparse, dense = _chunks("regression")
    back = pickle.loads(pickle.dumps(sparse))
    assert isinstance(back.X, scipy.sparse.csr_array)
    assert (back.X != sparse.X).nnz == 0
    X = sparse.X
    assert _kernels.nbytes(X) == X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    assert _kernels.nbytes(X) < _kernels.nbytes(dense.X)
