"""Solver cases from ``../shared/cases/`` (C-07, C-08, C-12, C-17), for every solver.

- C-07: a column-vector y (shape (n, 1)) is raveled with a ``DataConversionWarning``, as
  scikit-learn does, and never broadcast: ``coef_`` has shape (3,) (``(1, 3)`` for the
  classifier); noiseless least squares gives the exact coefficients to solver tolerance; and
  every estimator fits the same model as with the raveled y. NumPy, pandas, dask arrays and
  dask DataFrames.
- C-08: the same 400x3 data as NumPy, pandas, and a dask array in 1, 4 and 8 chunks give the
  same coefficients (least squares and logistic regression); and the same chunks give the
  same bits wherever in memory they lie.
- C-12: a constant target gives zero coefficients and the constant as intercept, with no NaN
  and no floating-point warning on the driver or the workers; also with weights, dask chunks
  and a zero target.
- C-17: the collinear 5x4 design, float64 and float32, NumPy, one dask chunk and chunks of 2
  rows: the least-squares fitted values, the minimum-norm coefficients and no shrinkage;
  siblings of its kind (duplicated and combined columns, more features than rows) against
  scikit-learn's minimum-norm solution.

Hard-coded values come from the case text or from closed forms; references are
scikit-learn's least-squares / Newton solutions. ``sgd`` is a stochastic method: where its
tolerances differ from the others', the comment at the test says why.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sklm
from dask import delayed
from distributed import Client
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from daskgd import LinearRegression, LogisticRegression, Ridge

SOLVERS = ["lbfgs", "gd", "sgd"]

#: Settings under which each solver should reach the exact solution of a problem whose
#: optimum fits every row (noiseless least squares). lbfgs and gd stop on the largest
#: gradient entry; sgd has no gradient test, and with every row's gradient zero at the
#: optimum (interpolation) its steps converge linearly, so a fixed budget of small local
#: mini-batches suffices.
EXACT = {
    "lbfgs": {"tol": 1e-7},  # reached by the gradient test (1e-10 is below float64 limits)
    "gd": {"tol": 1e-8},
    "sgd": {"tol": None, "max_iter": 10, "batch_size": 10, "local_steps": 20, "random_state": 0},
}
#: Accuracy of sgd on noiseless data (no tol to derive a bound from): far below any
#: stochastic error on noisy data, far above rounding.
SGD_EXACT_ATOL = 1e-6




def _coef(model: Any) -> np.ndarray:
    return np.ravel(model.coef_).astype(np.float64)


def _intercept(model: Any) -> float:
    return float(np.ravel(model.intercept_)[0])


def _solver_bound(X: np.ndarray, tol: float) -> float:
    """How far from the optimum a least-squares fit that stopped at ``tol`` can be.

    Solvers stop when the largest gradient entry of the mean-scaled objective is at most
    ``tol`` (docs/objectives.md). In the centred parametrisation its Hessian is the
    covariance of X (and 1 for the intercept), and the iterates stay in the row space of the
    centred data, so ``|theta - theta*| <= |grad| / lam`` with ``lam`` the smallest non-zero
    eigenvalue there and ``|grad| <= sqrt(p + 1) * tol``; the intercept ``b = c - mu @ coef``
    adds up to ``|mu|`` times the coefficient error.
    """
    eigenvalues = np.linalg.eigvalsh(np.cov(X.T, bias=True))
    lam = min(float(eigenvalues[eigenvalues > 1e-10 * eigenvalues.max()].min()), 1.0)
    mu = float(np.linalg.norm(X.mean(axis=0)))
    return (1.0 + mu) * np.sqrt(X.shape[1] + 1) * tol / lam


def _exact_atol(solver: str, X: np.ndarray) -> float:
    if solver == "sgd":
        return SGD_EXACT_ATOL
    return _solver_bound(X, EXACT[solver]["tol"])


# ---------------------------------------------------------------- C-07: y of shape (n, 1)

C07_COEF = np.array([1.0, 2.0, 3.0])
C07_INTERCEPT = 0.5


@pytest.fixture(scope="module")
def c07() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noiseless y = X @ [1, 2, 3] + 0.5, and binary labels from the same X (with noise)."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((200, 3))
    y = X @ C07_COEF + C07_INTERCEPT
    labels = (X @ C07_COEF + C07_INTERCEPT + 2.0 * rng.standard_normal(200) > 0).astype(int)
    return X, y, labels


def _column(X: np.ndarray, y: np.ndarray, container: str) -> tuple[Any, Any]:
    """X and y as a column vector (n, 1) in the given container."""
    if container == "numpy":
        return X, y.reshape(-1, 1)
    if container == "pandas":
        return pd.DataFrame(X, columns=["a", "b", "c"]), pd.DataFrame({"y": y})
    if container == "dask_dataframe":
        return (
            dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c"]), npartitions=4),
            dd.from_pandas(pd.DataFrame({"y": y}), npartitions=4),
        )
    return da.from_array(X, chunks=(50, 3)), da.from_array(y.reshape(-1, 1), chunks=(50, 1))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sgd, tol=None
@pytest.mark.parametrize("container", ["numpy", "pandas", "dask", "dask_dataframe"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_c07_column_vector_y_gives_exact_coefficients(
    solver: str, container: str, c07: Any
) -> None:
    X, y, _ = c07
    Xc, yc = _column(X, y, container)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        model = LinearRegression(solver=solver, **EXACT[solver]).fit(Xc, yc)
    assert model.coef_.shape == (3,)
    assert np.ndim(model.intercept_) == 0
    atol = _exact_atol(solver, X)
    assert_allclose(model.coef_, C07_COEF, rtol=0, atol=atol)
    assert abs(model.intercept_ - C07_INTERCEPT) <= atol
    prediction = np.asarray(model.predict(Xc))
    assert prediction.shape == (200,)
    assert_allclose(prediction, y, rtol=0, atol=10 * atol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sgd, tol=None
@pytest.mark.parametrize("estimator", ["ridge", "logistic"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_c07_column_vector_y_is_raveled_for_every_estimator(
    solver: str, estimator: str, c07: Any
) -> None:
    """A column-vector y gives the model of the raveled y, bit for bit, and its shapes."""
    X, y, labels = c07
    target = labels if estimator == "logistic" else y

    def make() -> Any:
        params = {"solver": solver, **EXACT[solver]}
        return LogisticRegression(**params) if estimator == "logistic" else Ridge(**params)

    flat = make().fit(X, target)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = make().fit(X, target.reshape(-1, 1))
    expected_shape = (1, 3) if estimator == "logistic" else (3,)
    assert column.coef_.shape == flat.coef_.shape == expected_shape
    assert np.shape(column.intercept_) == np.shape(flat.intercept_)
    assert_array_equal(column.coef_, flat.coef_)
    assert_array_equal(column.intercept_, flat.intercept_)
    if estimator == "logistic":
        assert_array_equal(column.classes_, [0, 1])
        assert column.predict(X).shape == (200,)


# ---------------------------------------------------------------- C-08: containers, chunks

#: C-08 settings: lbfgs and gd to a tight tol; sgd ten epochs of local mini-batches.
C08_PARAMS = {
    "lbfgs": {"tol": 1e-7},  # reached by the gradient test (1e-10 is below float64 limits)
    "gd": {"tol": 1e-8},
    "sgd": {"tol": None, "max_iter": 10, "batch_size": 20, "local_steps": 10, "random_state": 0},
}
C08_CONTAINERS = ["numpy", "pandas", "dask-1", "dask-4", "dask-8"]


@pytest.fixture(scope="module")
def c08() -> dict[str, Any]:
    """400x3 Gaussian X; a noisy linear target and noisy binary labels; their optima."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((400, 3))
    signal = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    y = signal + 0.5 * rng.standard_normal(400)
    labels = (signal + rng.standard_normal(400) > 0).astype(np.int64)
    linear = sklm.LinearRegression().fit(X, y)
    logistic = sklm.LogisticRegression(solver="newton-cholesky", tol=1e-12).fit(X, labels)
    # Standard errors of (coef, intercept), from the closed forms: sigma^2 (A'A)^-1 for least
    # squares, the inverse Hessian of the (C=1) penalised log-likelihood for the logistic model.
    A = np.column_stack([X, np.ones(len(X))])
    residual = y - linear.predict(X)
    sigma2 = residual @ residual / (len(y) - A.shape[1])
    p = logistic.predict_proba(X)[:, 1]
    hessian = A.T @ (A * (p * (1 - p))[:, None]) + np.diag([1.0, 1.0, 1.0, 0.0])
    return {
        "X": X,
        "targets": {"linear": y, "logistic": labels},
        "optima": {
            "linear": (_coef(linear), _intercept(linear)),
            "logistic": (_coef(logistic), _intercept(logistic)),
        },
        "standard_errors": {
            "linear": np.sqrt(np.diag(sigma2 * np.linalg.inv(A.T @ A))),
            "logistic": np.sqrt(np.diag(np.linalg.inv(hessian))),
        },
    }


def _c08_input(X: np.ndarray, y: np.ndarray, container: str) -> tuple[Any, Any]:
    if container == "numpy":
        return X, y
    if container == "pandas":
        return pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y, name="y")
    n_chunks = int(container.split("-")[1])
    rows = len(y) // n_chunks
    return da.from_array(X, chunks=(rows, 3)), da.from_array(y, chunks=rows)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sgd, tol=None
@pytest.mark.parametrize("estimator", ["linear", "logistic"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_c08_same_coefficients_whatever_the_container_or_chunking(
    solver: str, estimator: str, c08: dict[str, Any]
) -> None:
    X, y = c08["X"], c08["targets"][estimator]
    opt_coef, opt_intercept = c08["optima"][estimator]
    cls = LogisticRegression if estimator == "logistic" else LinearRegression
    fits = {
        name: cls(solver=solver, **C08_PARAMS[solver]).fit(*_c08_input(X, y, name))
        for name in C08_CONTAINERS
    }
    # NumPy and pandas: the same rows in the same chunks, so the same bits.
    assert_array_equal(_coef(fits["pandas"]), _coef(fits["numpy"]))
    assert _intercept(fits["pandas"]) == _intercept(fits["numpy"])
    for name, model in fits.items():
        coef, intercept = _coef(model), _intercept(model)
        if solver == "sgd":
            # SGD draws its mini-batches in every chunk (seeded per chunk), so another chunking
            # is another random path and equality to the bit cannot hold. What holds: every
            # chunking ends closer to the optimum than two standard errors of the estimate
            # itself (the optimisation error is below the statistical error), whatever the
            # container or chunking.
            error = np.abs(np.append(coef - opt_coef, intercept - opt_intercept))
            assert (error <= 2 * c08["standard_errors"][estimator]).all(), (name, error)
        else:
            base = fits["numpy"]
            assert_allclose(coef, _coef(base), rtol=1e-10, atol=0, err_msg=name)
            assert_allclose(intercept, _intercept(base), rtol=1e-10, atol=0, err_msg=name)
            # ... and that common value is the optimum, to solver tolerance.
            assert_allclose(coef, opt_coef, rtol=1e-6, err_msg=name)
            assert_allclose(intercept, opt_intercept, rtol=1e-6, err_msg=name)


def _block_at(X: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``X`` starting ``offset`` bytes past a 64-byte boundary (run on a worker).

    Arrays that arrive through distributed's serialisation start wherever their frame put
    them, often not on an 8-byte boundary; this makes that placement deterministic.
    """
    raw = np.zeros(X.nbytes + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64 + offset
    out = raw[start : start + X.nbytes].view(X.dtype).reshape(X.shape)
    out[...] = X
    return out


@pytest.mark.parametrize("estimator", ["linear", "logistic"])
def test_c08_kind_result_does_not_depend_on_where_chunks_lie_in_memory(
    estimator: str, c08: dict[str, Any]
) -> None:
    """The same values in the same chunks, once 8-byte aligned and once not (as after a
    transfer between workers): the same sums in the same order, so the same fit to the bit."""
    X, y = c08["X"], c08["targets"][estimator]
    cls = LogisticRegression if estimator == "logistic" else LinearRegression
    fits = {}
    for offset in (0, 4):
        blocks = [
            da.from_delayed(delayed(_block_at)(X[i : i + 50], offset), shape=(50, 3),
                            dtype=X.dtype)
            for i in range(0, len(X), 50)
        ]
        dX = da.concatenate(blocks)
        fits[offset] = cls(solver="gd", tol=1e-8).fit(dX, da.from_array(y, chunks=50))
    aligned, unaligned = fits[0], fits[4]
    assert [h["objective"] for h in unaligned.history_] == [
        h["objective"] for h in aligned.history_
    ]
    assert_array_equal(_coef(unaligned), _coef(aligned))
    assert _intercept(unaligned) == _intercept(aligned)


# ---------------------------------------------------------------- C-12: constant target


def _raise_on_runtime_warnings(dask_worker: Any) -> None:
    guard = warnings.catch_warnings()
    guard.__enter__()
    warnings.simplefilter("error", RuntimeWarning)
    dask_worker._daskgd_tests_warnings = guard


def _restore_warnings(dask_worker: Any) -> None:
    guard = getattr(dask_worker, "_daskgd_tests_warnings", None)
    if guard is not None:
        guard.__exit__(None, None, None)
        del dask_worker._daskgd_tests_warnings


@pytest.fixture
def workers_raise_on_runtime_warnings(client: Client) -> Iterator[None]:
    """Floating-point warnings (division by zero, invalid values, overflow) raise on every
    worker while the test runs, so a kernel that divides by zero fails the fit."""
    client.run(_raise_on_runtime_warnings)
    try:
        yield
    finally:
        client.run(_restore_warnings)


def _divide_by_zero() -> float:
    return float(np.float64(1.0) / np.float64(0.0))


def test_worker_guard_catches_division_by_zero(
    client: Client, workers_raise_on_runtime_warnings: None
) -> None:
    """The guard the C-12 tests rely on is live: a division by zero in a task raises."""
    with pytest.raises(RuntimeWarning, match="divide by zero"):
        client.submit(_divide_by_zero, pure=False).result()


C12_VARIANTS = ["numpy", "dask", "weighted", "zero-target"]


@pytest.mark.parametrize("variant", C12_VARIANTS)
@pytest.mark.parametrize("estimator", ["linear", "ridge"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_c12_constant_target(
    solver: str, estimator: str, variant: str, workers_raise_on_runtime_warnings: None
) -> None:
    rng = np.random.default_rng(12)
    X = 5.0 + 2.0 * rng.standard_normal((120, 3))  # columns with non-zero means
    value = 0.0 if variant == "zero-target" else 3.0
    y = np.full(120, value)
    w = rng.uniform(0.1, 3.0, 120) if variant == "weighted" else None
    Xc, yc = (da.from_array(X, chunks=(30, 3)), da.from_array(y, chunks=30)) if (
        variant == "dask"
    ) else (X, y)
    model = (Ridge(solver=solver) if estimator == "ridge" else LinearRegression(solver=solver))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(Xc, yc, sample_weight=w)
    bad = [
        str(c.message) for c in caught
        if issubclass(c.category, RuntimeWarning | ConvergenceWarning)
    ]
    assert bad == []
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_)
    # The best constant is the target itself, reached from the start (zero coefficients and
    # the mean target as intercept); only the weighted mean may round in the last bits.
    assert_allclose(model.coef_, 0.0, rtol=0, atol=1e-12)
    assert abs(model.intercept_ - value) <= 1e-12 * max(1.0, value)
    assert_allclose(np.asarray(model.predict(X)), value, rtol=0, atol=1e-11)


# ---------------------------------------------------------------- C-17: collinear design

C17_X = np.array([1.0, 4.0, 8.0, 12.0, 16.0])
C17_DESIGN = np.column_stack([C17_X, C17_X + 1, C17_X + 2, C17_X + 3])
C17_Y = np.array([3.0, 4.3, 5.2, 6.1, 7.8])
C17_FITTED = np.array([3.126, 4.023, 5.220, 6.417, 7.614])
C17_COEF = 0.0748
C17_INTERCEPT = 2.378


def _c17_input(dtype: type, layout: str) -> tuple[Any, Any]:
    X = C17_DESIGN.astype(dtype)
    if layout == "numpy":
        return X, C17_Y
    rows = 5 if layout == "one-chunk" else 2  # "chunks-of-2": 2, 2, 1
    return da.from_array(X, chunks=(rows, 4)), da.from_array(C17_Y, chunks=rows)


@pytest.mark.parametrize("layout", ["numpy", "one-chunk", "chunks-of-2"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_c17_collinear_design(solver: str, dtype: type, layout: str) -> None:
    # Every solver at its defaults. For sgd that means mini-batches of 1024 rows, so on five
    # rows every step uses them all: its decaying steps then reach the fit to the case's
    # 1e-3 (the genuinely stochastic run is the next test).
    X, y = _c17_input(dtype, layout)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no error, and no warning either
        model = LinearRegression(solver=solver).fit(X, y)
    coef = _coef(model)
    fitted = np.asarray(model.predict(C17_DESIGN.astype(dtype)), dtype=np.float64)
    assert_allclose(fitted, C17_FITTED, rtol=0, atol=1e-3)
    # Minimum norm: the four collinear columns share the weight equally (the rounding of
    # float32 columns aside), 0.0748 each, intercept 2.378.
    assert_allclose(coef, coef.mean(), rtol=1e-5 if dtype == np.float32 else 1e-9)
    assert_allclose(coef, C17_COEF, rtol=0, atol=1e-4)
    assert abs(_intercept(model) - C17_INTERCEPT) <= 1e-3
    # No shrinkage: together the columns carry the full least-squares slope of y on x
    # (a closed form), which Ridge (next test) would shrink.
    slope = np.polyfit(C17_X, C17_Y, 1)[0]
    assert abs(coef.sum() - slope) <= 1e-3 * slope


def test_c17_is_sensitive_to_shrinkage() -> None:
    """The no-shrinkage check above would catch even a light penalty: Ridge(alpha=1) (the
    same as scikit-learn's) carries a slope more than 1e-3 below the least-squares one."""
    slope = np.polyfit(C17_X, C17_Y, 1)[0]
    ridge = Ridge(alpha=1.0, tol=1e-8).fit(C17_DESIGN, C17_Y)
    assert_allclose(ridge.coef_, sklm.Ridge(alpha=1.0).fit(C17_DESIGN, C17_Y).coef_, rtol=1e-6)
    assert slope - ridge.coef_.sum() > 1e-3 * slope


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # tol=None
@pytest.mark.parametrize("layout", ["numpy", "one-chunk", "chunks-of-2"])
def test_c17_stochastic_sgd(layout: str) -> None:
    # Single-row SGD (five local steps per round, fifty epochs, the default decaying step).
    # The fit does not interpolate (residuals up to 0.32), so single-row gradients never
    # vanish and the iterate keeps moving by about the step size times them: fitted values
    # within 5e-2 is what this budget genuinely gives. What holds exactly for any mini-batch
    # is the minimum-norm structure: the steps stay in the row space of the centred data,
    # where the four columns are one, so the four coefficients remain equal.
    X, y = _c17_input(np.float64, layout)
    model = LinearRegression(
        solver="sgd", batch_size=1, local_steps=5, max_iter=50, tol=None, random_state=0
    ).fit(X, y)
    coef = _coef(model)
    assert_allclose(coef, coef.mean(), rtol=1e-9)
    fitted = np.asarray(model.predict(C17_DESIGN), dtype=np.float64)
    assert_allclose(fitted, C17_FITTED, rtol=0, atol=5e-2)


def _rank_deficient(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    if kind == "combined-columns":
        base = rng.standard_normal((60, 3))
        # A duplicated column and a sum of two others: rank 3 of 5 (4 with the intercept).
        X = np.column_stack([base, base[:, 0], base[:, 1] + base[:, 2]])
        y = base @ np.array([1.0, -1.0, 2.0]) + 0.5 + 0.3 * rng.standard_normal(60)
    else:  # "wide": more features than rows, so the least-squares fit interpolates
        X = rng.standard_normal((8, 12))
        y = rng.standard_normal(8)
    return X, y


def _null_space_part(X: np.ndarray, coef: np.ndarray) -> float:
    """Size of the part of ``coef`` outside the row space of the centred data.

    Minimisers of rank-deficient least squares differ only there; the minimum-norm one has
    none of it, and iterates started at zero that move along gradients never gain any.
    """
    _, singular, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    rows = vt[singular > 1e-10 * singular.max()]
    return float(np.linalg.norm(coef - rows.T @ (rows @ coef)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sgd, tol=None
@pytest.mark.parametrize(
    ("solver", "kind"),
    [
        pytest.param(solver, kind, id=f"{solver}-{kind}")
        for solver in SOLVERS
        for kind in ("combined-columns", "wide")
    ],
)
def test_c17_kind_rank_deficient_designs_give_the_minimum_norm_solution(
    solver: str, kind: str
) -> None:
    X, y = _rank_deficient(kind)
    reference = sklm.LinearRegression().fit(X, y)  # centred lstsq: the minimum-norm solution
    assert _null_space_part(X, reference.coef_) <= 1e-10
    dX = da.from_array(X, chunks=(X.shape[0] // 2, X.shape[1]))
    dy = da.from_array(y, chunks=X.shape[0] // 2)
    if solver == "sgd":
        model = LinearRegression(
            solver="sgd", tol=None, max_iter=40, batch_size=4, local_steps=8, random_state=0
        ).fit(dX, dy)
    else:
        model = LinearRegression(solver=solver, **EXACT[solver]).fit(dX, dy)
    coef = _coef(model)
    # Every solver: no part outside the row space, whatever the mini-batches.
    assert _null_space_part(X, coef) <= 1e-10 * max(1.0, float(np.linalg.norm(coef)))
    if solver != "sgd":
        atol = _solver_bound(X, EXACT[solver]["tol"])
        assert_allclose(coef, reference.coef_, rtol=0, atol=atol)
        assert abs(_intercept(model) - reference.intercept_) <= atol
    elif kind == "combined-columns":
        # Stochastic, on noisy data (noise 0.3): fitted values within 0.05.
        assert_allclose(model.predict(X), reference.predict(X), rtol=0, atol=5e-2)
    else:
        # The minimum-norm fit interpolates (R^2 = 1), but single-row steps approach it
        # slowly along the flattest direction of the row space (eigenvalue 0.06 against a
        # trace of 10): after 40 epochs, most of the variance is fitted.
        assert model.score(X, y) >= 0.9
