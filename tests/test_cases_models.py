"""Model cases from ``../shared/cases/``: C-01, C-05, C-11, C-14, C-15, C-16 (full-batch
part), C-17, C-18 (multinomial part), C-19 (full-batch part), C-20 and C-22, each with
siblings that cover its kind of fault, on the session's real cluster. C-05 and C-22 here
use dense input; their sparse parts are in ``test_sparse.py``.

The ``sgd`` solver is covered by its own test files; "every solver" here means every
full-batch solver (lstsq, lbfgs, newton, gd, proximal) that accepts the model. Expected values
come from the case text, closed forms or scikit-learn fits. Overflow / invalid-value
``RuntimeWarning``s are turned into errors on the workers too where a case forbids them.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from typing import Any

import dask.array as da
import numpy as np
import pytest
import sklearn.linear_model as sk
from _models_common import (
    EQUIVALENCE_RTOL,
    EQUIVALENCE_TOL,
    FIRST_ORDER,
    assert_rel,
    c05_data,
    n_iter,
    no_convergence_warning,
    objective,
)
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from daskgd import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)

LEAST_SQUARES_SOLVERS = ("lstsq", "lbfgs", "newton", "gd", "proximal")
GLM_SOLVERS = ("lbfgs", "newton", "gd", "proximal")


FLOAT_WARNINGS = r"(overflow|invalid value|divide by zero) encountered"


@pytest.fixture
def float_warnings_are_errors(client: Any) -> Iterator[None]:
    """Overflow / invalid-value / divide-by-zero RuntimeWarnings raise, on the driver and in
    every worker process, for the duration of the test."""

    def install(pattern: str = FLOAT_WARNINGS) -> None:
        import warnings

        warnings.filterwarnings("error", message=pattern, category=RuntimeWarning)

    def uninstall(pattern: str = FLOAT_WARNINGS) -> None:
        import warnings

        warnings.filters[:] = [
            f for f in warnings.filters
            if not (f[0] == "error" and f[1] is not None and f[1].pattern == pattern)
        ]
        warnings._filters_mutated()  # type: ignore[attr-defined]

    client.run(install)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=FLOAT_WARNINGS, category=RuntimeWarning)
        with np.errstate(over="warn", invalid="warn", divide="warn"):
            yield
    client.run(uninstall)


def test_float_warnings_fixture_reaches_the_workers(
    client: Any, float_warnings_are_errors: None
) -> None:
    """The harness the overflow checks rely on: an overflow inside a task is an error."""

    def overflow() -> float:
        return float(np.exp(np.array([1000.0]))[0])

    with pytest.raises(RuntimeWarning, match="overflow"):
        client.submit(overflow, pure=False).result()
    with pytest.raises(RuntimeWarning, match="overflow"):
        overflow()


def _dask(a: np.ndarray, rows: Any) -> da.Array:
    return da.from_array(a, chunks=(rows, *a.shape[1:]))


def _fit_quietly(est: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[warnings.WarningMessage]]:
    """Fit, returning the ConvergenceWarnings raised (other warnings pass through)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(*args, **kwargs)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    assert bool(convergence) == (not est.converged_)
    return est, convergence


# ================================================================ C-01: three classes


@functools.cache
def c01_data(n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(
        n_samples=600, n_features=5, n_informative=4, n_redundant=0, n_classes=n_classes,
        random_state=0,
    )
    return X, y


@functools.cache
def c01_reference(n_classes: int, labels: str) -> Any:
    X, y = c01_data(n_classes)
    return sk.LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(
        X, _labels(y, labels))


def _labels(y: np.ndarray, kind: str) -> np.ndarray:
    if kind == "int":
        return y
    # Names whose sorted order differs from the codes: classes_ order must follow the names.
    names = np.array(["zebra", "ant", "moth", "bee"])
    return names[y]


def _c01_cases() -> list[Any]:
    cases = [pytest.param(3, "int", s, id=f"3-int-{s}",
                          marks=[pytest.mark.slow] if s == "proximal" else [])
             for s in ("auto", *GLM_SOLVERS)]
    cases += [pytest.param(3, "str", s, id=f"3-str-{s}") for s in ("auto", "lbfgs", "newton")]
    cases += [pytest.param(4, "int", s, id=f"4-int-{s}") for s in ("auto", "lbfgs", "newton")]
    return cases


@pytest.mark.parametrize(("n_classes", "labels", "solver"), _c01_cases())
def test_c01_multinomial_not_a_silent_binary_fit(
    n_classes: int, labels: str, solver: str
) -> None:
    X, y_codes = c01_data(n_classes)
    y = _labels(y_codes, labels)
    ref = c01_reference(n_classes, labels)
    tol = 1e-7 if solver in FIRST_ORDER else 1e-10
    est = LogisticRegression(solver=solver, tol=tol, max_iter=2000)
    with no_convergence_warning():
        est.fit(_dask(X, 150), _dask(y, 150))
    np.testing.assert_array_equal(est.classes_, np.sort(np.unique(y)))
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    assert est.coef_.shape == (n_classes, 5)
    assert est.intercept_.shape == (n_classes,)
    proba = est.predict_proba(_dask(X, 150)).compute()
    assert proba.shape == (600, n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    predicted = est.predict(X)
    assert set(np.unique(predicted)) <= set(est.classes_)
    accuracy = float(np.mean(predicted == y))
    assert accuracy == pytest.approx(ref.score(X, y), abs=2 / 600)
    assert accuracy > 0.6  # a binary fit of this data scores 0.42
    if solver in FIRST_ORDER:
        f_ref = objective(LogisticRegression, {}, ref.coef_, ref.intercept_, X, y)
        f_est = objective(LogisticRegression, {}, est.coef_, est.intercept_, X, y)
        assert abs(f_est - f_ref) <= 1e-6 * abs(f_ref)
    else:
        assert_rel(est.coef_, ref.coef_, 1e-5, "coef_")
        np.testing.assert_allclose(proba, ref.predict_proba(X), atol=1e-6)


# ================================================================ C-05: sparse input


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize(("model", "reference"), [
    (Ridge(alpha=0.5, tol=1e-10), sk.Ridge(alpha=0.5, solver="cholesky")),
    (Lasso(alpha=0.01), sk.Lasso(alpha=0.01, tol=1e-14, max_iter=1_000_000)),
    (LogisticRegression(tol=1e-10), sk.LogisticRegression(solver="newton-cholesky", tol=1e-12)),
], ids=["ridge", "lasso", "logistic"])
def test_c05_dense_equivalent_matches_sklearn(model: Any, reference: Any, container: str) -> None:
    Xs, y_reg, y_cls = c05_data()
    y = y_cls if isinstance(model, LogisticRegression) else y_reg
    dense = Xs.toarray()
    ref = clone(reference).fit(dense, y)
    X = dense if container == "numpy" else _dask(dense, 75)
    with no_convergence_warning():
        est = clone(model).fit(X, y)
    assert_rel(est.coef_, ref.coef_, 1e-5, "coef_")
    assert_rel(est.intercept_, ref.intercept_, 1e-5, "intercept_")


# Sparse input itself (every format, dask arrays of sparse chunks): tests/test_sparse.py.


# ================================================================ C-11: huge feature values


@functools.cache
def c11_data(variant: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    n = 1000
    X = rng.standard_normal((n, 3))
    y = (X[:, 1] + 0.5 * X[:, 2] + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    if variant == "500-900":
        big = rng.random(n) < 0.05
        X[big, 0] = rng.uniform(500.0, 900.0, big.sum())
    else:  # "1e15": a column scaled by up to 1e12 around an offset of 1e15
        X[:, 0] = 1e15 + rng.uniform(-1.0, 1.0, n) * 1e12
    return X, y


@functools.cache
def c11_target_accuracy(variant: str) -> float:
    """scikit-learn's accuracy: on the raw data, and (where its raw fit breaks down on the
    1e15 column) in a pipeline with a StandardScaler, whichever is higher."""
    X, y = c11_data(variant)
    raw = sk.LogisticRegression(max_iter=1000).fit(X, y).score(X, y)
    scaled = make_pipeline(StandardScaler(), sk.LogisticRegression()).fit(X, y).score(X, y)
    return max(raw, scaled)


def _c11_cases() -> list[Any]:
    cases = []
    for variant in ("500-900", "1e15"):
        for solver in ("auto", *GLM_SOLVERS):
            marks = []
            if solver in FIRST_ORDER:
                marks.append(pytest.mark.slow)
            cases.append(pytest.param(variant, solver, id=f"{variant}-{solver}", marks=marks))
    return cases


@pytest.mark.parametrize(("variant", "solver"), _c11_cases())
def test_c11_large_values_stay_finite(
    variant: str, solver: str, float_warnings_are_errors: None
) -> None:
    X, y = c11_data(variant)
    est, warned = _fit_quietly(LogisticRegression(solver=solver), X, y)
    assert np.isfinite(est.coef_).all() and np.isfinite(est.intercept_).all()
    proba = est.predict_proba(X)
    assert np.isfinite(proba).all()
    accuracy = est.score(X, y)
    # Never silently worse: scikit-learn's accuracy, or a ConvergenceWarning that says why.
    if not warned:
        assert accuracy >= c11_target_accuracy(variant) - 2 / len(y), accuracy


def test_c11_offset_does_not_change_the_model() -> None:
    """The 1e15 offset is removed by centring: the same model as on X - 1e15."""
    X, y = c11_data("1e15")
    shifted = X.copy()
    shifted[:, 0] -= 1e15  # exact (Sterbenz)
    a, _ = _fit_quietly(LogisticRegression(solver="newton"), X, y)
    b, _ = _fit_quietly(LogisticRegression(solver="newton"), shifted, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(shifted), atol=1e-6)
    assert_rel(a.coef_, b.coef_, 1e-5)


def test_c11_offset_does_not_break_convergence() -> None:
    X, y = c11_data("1e15")
    shifted = X.copy()
    shifted[:, 0] -= 1e15
    b = LogisticRegression(solver="newton").fit(shifted, y)
    assert b.converged_
    with no_convergence_warning():
        a = LogisticRegression(solver="newton").fit(X, y)
    assert a.converged_


# ================================================================ C-14: unscaled Poisson


@functools.cache
def c14_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(14)
    x1 = rng.uniform(0.0, 3000.0, 1000)
    x2 = rng.standard_normal(1000)
    y = rng.poisson(np.exp(0.5 + 0.0005 * x1 + 0.3 * x2)).astype(np.float64)
    return np.column_stack([x1, x2]), y


def _c14_cases() -> list[Any]:
    cases = []
    for solver in ("auto", *GLM_SOLVERS):
        marks = []
        if solver in FIRST_ORDER:
            marks.append(pytest.mark.slow)  # max_iter=100 round trips on unscaled data
        cases.append(pytest.param(solver, marks=marks))
    return cases


@pytest.mark.parametrize("solver", _c14_cases())
def test_c14_unscaled_poisson_never_silent_zeros(solver: str) -> None:
    X, y = c14_data()
    est, warned = _fit_quietly(PoissonRegressor(alpha=0.0, solver=solver), X, y)
    assert np.isfinite(est.coef_).all()
    if warned:
        return  # at worst a ConvergenceWarning
    assert np.all(est.coef_ != 0.0)
    # Close to the generating coefficients (statistical error only) ...
    np.testing.assert_allclose(est.coef_, [0.0005, 0.3], rtol=0.1)
    # ... and to the exact maximum-likelihood fit.
    ref = sk.PoissonRegressor(alpha=0.0, solver="newton-cholesky", tol=1e-12).fit(X, y)
    assert_rel(est.coef_, ref.coef_, 1e-3, "coef_")


def test_c14_sklearn_lbfgs_is_the_failure_being_guarded_against() -> None:
    """The case's premise still holds: scikit-learn's lbfgs returns zeros here silently."""
    X, y = c14_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = sk.PoissonRegressor(alpha=0.0, solver="lbfgs").fit(X, y)
    assert np.all(ref.coef_ == 0.0)


# ================================================================ C-15: zero-weight outliers


@functools.cache
def c15_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(15)
    X = rng.standard_normal((200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 4.0 + 0.3 * rng.standard_normal(200)
    return X, y


C15_LAYOUTS = {
    # rows given zero weight, and the dask row chunks
    "first-50-one-chunk": (np.arange(50), (50, 50, 100)),
    "every-4th": (np.arange(0, 200, 4), (37, 63, 100)),
}


def _c15_params(solver: str) -> dict[str, Any]:
    return {"solver": solver, "tol": EQUIVALENCE_TOL[solver], "max_iter": 2000}


@functools.cache
def c15_reference(model: type, solver: str, layout: str) -> Any:
    X, y = c15_data()
    keep = np.setdiff1d(np.arange(200), C15_LAYOUTS[layout][0])
    y = np.abs(y) if model is PoissonRegressor else y
    with no_convergence_warning():
        return model(**_c15_params(solver)).fit(X[keep], y[keep])


def _c15_cases() -> list[Any]:
    cases = [pytest.param(LinearRegression, s, id=f"ols-{s}") for s in LEAST_SQUARES_SOLVERS]
    cases += [pytest.param(PoissonRegressor, s, id=f"poisson-{s}",
                           marks=[pytest.mark.slow] if s in FIRST_ORDER else [])
              for s in GLM_SOLVERS]
    return cases


@pytest.mark.parametrize("layout", sorted(C15_LAYOUTS))
@pytest.mark.parametrize(("model", "solver"), _c15_cases())
def test_c15_zero_weight_rows_with_outlying_targets(
    model: type, solver: str, layout: str
) -> None:
    X, y = c15_data()
    y = np.abs(y) if model is PoissonRegressor else y
    rows, chunks = C15_LAYOUTS[layout]
    w = np.ones(200)
    w[rows] = 0.0
    y_shifted = y.copy()
    y_shifted[rows] += 1000.0
    with no_convergence_warning():
        est = model(**_c15_params(solver)).fit(
            _dask(X, chunks), _dask(y_shifted, chunks), sample_weight=_dask(w, chunks))
    ref = c15_reference(model, solver, layout)
    rtol = EQUIVALENCE_RTOL[solver]
    assert_rel(est.coef_, ref.coef_, rtol, "coef_")
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=rtol)


# ================================================================ C-16: sorted labels


@functools.cache
def c16_data(n_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 rows of each class, sorted by label (each 100-row chunk holds one class), and a
    shuffling order."""
    rng = np.random.default_rng(16)
    X = rng.standard_normal((1000, 3))
    if n_classes == 2:
        y = (X @ np.array([1.0, -1.0, 0.5]) + rng.logistic(size=1000) > 0).astype(np.int64)
    else:
        y = np.argmax(X @ rng.standard_normal((3, 3)) + rng.gumbel(size=(1000, 3)), axis=1)
    keep = np.concatenate([np.flatnonzero(y == k)[:100] for k in range(n_classes)])
    assert keep.size == 100 * n_classes
    return X[keep], y[keep], rng.permutation(keep.size)


def _c16_cases() -> list[Any]:
    return [pytest.param(k, s, id=f"{k}-{s}", marks=[pytest.mark.slow] if (
        k == 3 and s in FIRST_ORDER) else []) for k in (2, 3) for s in ("auto", *GLM_SOLVERS)]


@pytest.mark.parametrize(("n_classes", "solver"), _c16_cases())
def test_c16_row_order_does_not_matter(n_classes: int, solver: str) -> None:
    X, y, perm = c16_data(n_classes)
    tol = EQUIVALENCE_TOL[solver]
    sorted_fit = LogisticRegression(solver=solver, tol=tol, max_iter=2000)
    shuffled_fit = LogisticRegression(solver=solver, tol=tol, max_iter=2000)
    with no_convergence_warning():
        # One class per chunk: the first chunk has only class 0.
        sorted_fit.fit(_dask(X, 100), _dask(y, 100))
        shuffled_fit.fit(X[perm], y[perm])
    np.testing.assert_array_equal(sorted_fit.classes_, np.arange(n_classes))
    assert sorted_fit.coef_.shape == (1 if n_classes == 2 else n_classes, 3)
    rtol = EQUIVALENCE_RTOL[solver]
    assert_rel(sorted_fit.coef_, shuffled_fit.coef_, rtol, "coef_")
    assert_rel(sorted_fit.intercept_, shuffled_fit.intercept_, rtol, "intercept_")


@pytest.mark.parametrize("labels", ["int", "str"])
def test_c16_classes_found_over_all_chunks(labels: str) -> None:
    """The last class appears only in the last chunk, and some chunks hold one class."""
    X, y, _ = c16_data(3)
    y = np.array(["a", "b", "c"])[y] if labels == "str" else y
    est = LogisticRegression(solver="newton", tol=1e-8).fit(_dask(X, 100), _dask(y, 100))
    np.testing.assert_array_equal(est.classes_, np.unique(y))
    assert set(est.predict(X)) == set(np.unique(y))


# ================================================================ C-17: collinear columns

C17_FITTED = np.array([3.126, 4.023, 5.220, 6.417, 7.614])


def c17_data(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([1.0, 4.0, 8.0, 12.0, 16.0])
    X = np.column_stack([x, x + 1, x + 2, x + 3]).astype(dtype)
    return X, np.array([3.0, 4.3, 5.2, 6.1, 7.8])


def _c17_cases() -> list[Any]:
    cases = []
    for solver in ("auto", *LEAST_SQUARES_SOLVERS):
        for dtype in (np.float64, np.float32):
            for chunks in ("numpy", 5, 2):
                # proximal on float32 spends ~1000 rejected steps (one round trip each)
                # before it stops: see test_proximal_float32_reaches_a_tol_gd_reaches.
                slow = solver == "proximal" and dtype == np.float32
                cases.append(pytest.param(
                    solver, dtype, chunks, id=f"{solver}-{np.dtype(dtype).name}-{chunks}",
                    marks=[pytest.mark.slow] if slow else []))
    return cases


@pytest.mark.parametrize(("solver", "dtype", "chunks"), _c17_cases())
def test_c17_collinear_least_squares(solver: str, dtype: Any, chunks: Any) -> None:
    X, y = c17_data(dtype)
    Xf = X if chunks == "numpy" else _dask(X, chunks)
    yf = y if chunks == "numpy" else _dask(y, chunks)
    est, _ = _fit_quietly(LinearRegression(solver=solver), Xf, yf)  # no error
    assert est.coef_.dtype == dtype
    assert est.coef_.shape == (4,)
    np.testing.assert_allclose(est.predict(X), C17_FITTED, atol=1e-3)
    # Every solver returns the minimum-norm solution (LinearRegression's docstring).
    np.testing.assert_allclose(est.coef_, 0.0748, atol=1e-3)
    assert est.intercept_ == pytest.approx(2.378, abs=1e-3)
    if solver == "auto":
        assert est.solver_ == "lstsq"
        assert est.converged_
        ref = sk.LinearRegression().fit(X.astype(np.float64), y)
        assert_rel(est.coef_, ref.coef_, 1e-5 if dtype == np.float64 else 1e-4)


# ================================================================ C-18: extreme softmax


def _three_class_model() -> LogisticRegression:
    """A fitted 3-class model, then coef_ = I and intercept_ = 0: decision values = X."""
    rng = np.random.default_rng(18)
    X = rng.standard_normal((90, 3))
    model = LogisticRegression(solver="newton").fit(X, np.argmax(X, axis=1))
    model.coef_ = np.eye(3)
    model.intercept_ = np.zeros(3)
    return model


C18_DECISIONS = np.array([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -1002.0]])
C18_PROBA = np.array([[0.7311, 0.2689, 0.0], [0.6652, 0.2447, 0.0900]])


@pytest.mark.parametrize("shift", [0.0, 500.0])
@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_c18_multinomial_extreme_decision_values(
    container: str, shift: float, float_warnings_are_errors: None
) -> None:
    model = _three_class_model()
    # The same decision values from an intercept and shifted inputs.
    model.intercept_ = np.full(3, shift)
    X = C18_DECISIONS - shift
    Xf = _dask(X, 1) if container == "dask" else X
    # Underflow to 0 is the right answer for exp(-1005); overflow and NaN are not.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        results = [model.decision_function(Xf), model.predict_proba(Xf),
                   model.predict_log_proba(Xf), model.predict(Xf)]
        if container == "dask":
            assert all(isinstance(r, da.Array) for r in results)
            results = list(da.compute(*results))
    z, proba, log_proba, labels = results
    np.testing.assert_allclose(z, C18_DECISIONS)
    assert np.isfinite(proba).all() and np.isfinite(log_proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(proba, C18_PROBA, atol=1e-4)
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-12, atol=1e-300)
    # The shifted softmax in logs: z - max - log(sum(exp(z - max))).
    shifted = C18_DECISIONS - C18_DECISIONS.max(axis=1, keepdims=True)
    expected_log = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_proba, expected_log, rtol=1e-12)
    np.testing.assert_array_equal(labels, [0, 0])


# ================================================================ C-19: zero-weight chunks


@functools.cache
def c19_data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(19)
    X = rng.standard_normal((300, 3))
    eta = X @ np.array([0.8, -0.5, 0.3])
    if kind == "regression":
        y = eta + 1.0 + 0.3 * rng.standard_normal(300)
    elif kind == "classification":
        y = (eta + rng.logistic(size=300) > 0).astype(np.int64)
    else:
        y = rng.poisson(np.exp(eta + 0.5)).astype(np.float64)
    return X, y


C19_MODELS = {"ridge": (Ridge, "regression"), "logistic": (LogisticRegression, "classification"),
              "poisson": (PoissonRegressor, "counts")}


def _c19_cases() -> list[Any]:
    cases = [pytest.param("ridge", s, id=f"ridge-{s}") for s in LEAST_SQUARES_SOLVERS]
    cases += [pytest.param(m, s, id=f"{m}-{s}", marks=[pytest.mark.slow] if (
        m == "poisson" and s in FIRST_ORDER) else [])
        for m in ("logistic", "poisson") for s in GLM_SOLVERS]
    return cases


def _c19_fit(model: str, solver: str, X: Any, y: Any, w: Any = None) -> Any:
    cls, _ = C19_MODELS[model]
    with no_convergence_warning():
        return cls(solver=solver, tol=EQUIVALENCE_TOL[solver], max_iter=2000).fit(
            X, y, sample_weight=w)


@functools.cache
def c19_without_middle(model: str, solver: str) -> Any:
    X, y = c19_data(C19_MODELS[model][1])
    keep = np.r_[0:100, 200:300]
    return _c19_fit(model, solver, X[keep], y[keep])


@pytest.mark.parametrize(("model", "solver"), _c19_cases())
def test_c19_all_zero_weight_chunk_is_skipped(model: str, solver: str) -> None:
    X, y = c19_data(C19_MODELS[model][1])
    w = np.ones(300)
    w[100:200] = 0.0
    est = _c19_fit(model, solver, _dask(X, 100), _dask(y, 100), _dask(w, 100))
    ref = c19_without_middle(model, solver)
    assert_rel(est.coef_, ref.coef_, EQUIVALENCE_RTOL[solver], "coef_")
    assert_rel(est.intercept_, ref.intercept_, EQUIVALENCE_RTOL[solver], "intercept_")


@pytest.mark.parametrize(("model", "solver"), _c19_cases())
def test_c19_zero_weight_rows_added_or_inside_a_chunk(model: str, solver: str) -> None:
    X, y = c19_data(C19_MODELS[model][1])
    base = _c19_fit(model, solver, X[:201], y[:201])
    # 99 zero-weight rows appended to the same 201 rows (their own 100-row chunk is 99 % zero).
    w = np.r_[np.ones(201), np.zeros(99)]
    added = _c19_fit(model, solver, _dask(X, 100), _dask(y, 100), _dask(w, 100))
    rtol = EQUIVALENCE_RTOL[solver]
    assert_rel(added.coef_, base.coef_, rtol, "coef_ with 99 zero-weight rows")
    assert_rel(added.intercept_, base.intercept_, rtol, "intercept_")


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("model", sorted(C19_MODELS))
def test_c19_weights_zero_everywhere_is_a_clear_error(model: str, container: str) -> None:
    cls, kind = C19_MODELS[model]
    X, y = c19_data(kind)
    w = np.zeros(300)
    args = (X, y, w) if container == "numpy" else (_dask(X, 100), _dask(y, 100), _dask(w, 100))
    with pytest.raises(ValueError, match="sample_weight"):
        cls().fit(*args[:2], sample_weight=args[2])


# ================================================================ C-20: Poisson with exposure

C20_X = np.array([[1.0], [1.5], [2.0], [3.0]])
C20_COUNTS = np.array([0.0, 1.0, 2.0, 2.0])
C20_EXPOSURE = np.array([1.0, 1.0, 2.0, 2.0])


@pytest.mark.parametrize("chunks", ["numpy", 4, 2])
@pytest.mark.parametrize("solver", ["auto", *GLM_SOLVERS])
def test_c20_poisson_rates_with_exposure_weights(solver: str, chunks: Any) -> None:
    rate = C20_COUNTS / C20_EXPOSURE
    args = (C20_X, rate, C20_EXPOSURE)
    if chunks != "numpy":
        args = tuple(_dask(a, chunks) for a in args)
    est = PoissonRegressor(alpha=0.0, solver=solver, tol=1e-7, max_iter=1000)
    with no_convergence_warning():
        est.fit(*args[:2], sample_weight=args[2])
    assert est.intercept_ == pytest.approx(-1.08455, abs=1e-4)
    assert est.coef_[0] == pytest.approx(0.41149, abs=1e-4)


@pytest.mark.parametrize("solver", ["auto", *GLM_SOLVERS])
def test_c20_repeating_rows_by_weight_is_the_same(solver: str) -> None:
    rate = C20_COUNTS / C20_EXPOSURE
    repeats = C20_EXPOSURE.astype(int)
    est = PoissonRegressor(alpha=0.0, solver=solver, tol=1e-7, max_iter=1000)
    with no_convergence_warning():
        est.fit(np.repeat(C20_X, repeats, axis=0), np.repeat(rate, repeats))
    assert est.intercept_ == pytest.approx(-1.08455, abs=1e-4)
    assert est.coef_[0] == pytest.approx(0.41149, abs=1e-4)


# ================================================================ C-22: weights and alpha


@functools.cache
def c22_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(22)
    return rng.uniform(size=(10, 3)), rng.uniform(size=10), rng.uniform(0.2, 3.0, size=10)


C22_CHUNKS = ["numpy", 3]


def _c22(X: np.ndarray, v: Any, chunks: Any) -> Any:
    return v if chunks == "numpy" or v is None else _dask(v, chunks)


def _c22_tol(solver: str) -> float:
    return EQUIVALENCE_TOL[solver]


def _c22_ridge_cases() -> list[Any]:
    # proximal needs ~100 round trips a fit on this unscaled design: one chunking is quick.
    return [pytest.param(s, w, c, id=f"{s}-{w}-{c}", marks=[pytest.mark.slow] if (
        s == "proximal" and c != "numpy") else [])
        for s in LEAST_SQUARES_SOLVERS for w in ("none", "unequal") for c in C22_CHUNKS]


@pytest.mark.parametrize(("solver", "weights", "chunks"), _c22_ridge_cases())
def test_c22_ridge_doubling_weights_and_alpha_changes_nothing(
    solver: str, weights: str, chunks: Any
) -> None:
    X, y, w_unequal = c22_data()
    w = None if weights == "none" else w_unequal
    w2 = 2.0 * (np.ones(10) if w is None else w)
    tol = _c22_tol(solver)
    with no_convergence_warning():
        a = Ridge(alpha=0.05, solver=solver, tol=tol, max_iter=5000).fit(
            _c22(X, X, chunks), _c22(X, y, chunks), sample_weight=_c22(X, w, chunks))
        b = Ridge(alpha=0.10, solver=solver, tol=tol, max_iter=5000).fit(
            _c22(X, X, chunks), _c22(X, y, chunks), sample_weight=_c22(X, w2, chunks))
    assert_rel(b.coef_, a.coef_, 1e-5, "coef_")
    assert b.intercept_ == pytest.approx(a.intercept_, rel=1e-5)
    # And it is scikit-learn's Ridge (same objective, sum of weighted squared errors).
    ref = sk.Ridge(alpha=0.05, solver="cholesky").fit(X, y, sample_weight=w)
    if solver in FIRST_ORDER:
        params = {"alpha": 0.05}
        f_ref = objective(Ridge, params, ref.coef_, ref.intercept_, X, y, w)
        f_est = objective(Ridge, params, a.coef_, a.intercept_, X, y, w)
        assert abs(f_est - f_ref) <= 1e-6 * abs(f_ref)
    else:
        assert_rel(a.coef_, ref.coef_, 1e-5, "coef_ vs scikit-learn")


def _c22_normalised_cases() -> list[Any]:
    cases = [pytest.param(Lasso, {"alpha": 0.01}, s, id=f"lasso-{s}")
             for s in ("lstsq", "proximal")]
    cases += [pytest.param(ElasticNet, {"alpha": 0.01, "l1_ratio": 0.5}, s, id=f"enet-{s}")
              for s in ("lstsq", "proximal")]
    cases += [pytest.param(PoissonRegressor, {"alpha": 0.05}, s, id=f"poisson-{s}")
              for s in GLM_SOLVERS]
    return cases


@pytest.mark.parametrize("chunks", [3])
@pytest.mark.parametrize(("model", "params", "solver"), _c22_normalised_cases())
def test_c22_weight_normalised_models_ignore_weight_scale(
    model: type, params: dict[str, Any], solver: str, chunks: Any
) -> None:
    X, y, w = c22_data()
    tol = _c22_tol(solver)
    with no_convergence_warning():
        a = model(**params, solver=solver, tol=tol, max_iter=5000).fit(
            _c22(X, X, chunks), _c22(X, y, chunks), sample_weight=_c22(X, w, chunks))
        b = model(**params, solver=solver, tol=tol, max_iter=5000).fit(
            _c22(X, X, chunks), _c22(X, y, chunks), sample_weight=_c22(X, 3.0 * w, chunks))
    assert_rel(b.coef_, a.coef_, 1e-5, "coef_")
    assert b.intercept_ == pytest.approx(a.intercept_, rel=1e-5)
    assert n_iter(a) >= 1


# C-22 with sparse input (dense against sparse, weights and alpha doubled): tests/test_sparse.py.
