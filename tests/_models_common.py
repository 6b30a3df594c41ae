"""Helpers shared by the model test files: bundled data, documented objectives, comparisons.

Not a test module. The objectives are written out here from ``docs/objectives.md`` and the
estimators' docstrings, independently of ``daskgd.objective``, so that the tests check the
library against the documentation rather than against itself.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse
from distributed.diagnostics.plugin import SchedulerPlugin
from scipy.special import log_softmax, xlogy
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from daskgd import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
)

#: The full-batch solvers (``sgd`` is covered by its own test files).
FULL_BATCH = ("lstsq", "lbfgs", "newton", "gd", "proximal")
#: Solvers whose answer is exact or second-order accurate: compared by coefficients.
EXACT = ("lstsq", "newton", "lbfgs")
#: First-order solvers: compared by the objective gap.
FIRST_ORDER = ("gd", "proximal")

#: ``tol`` for fits compared with other daskgd fits of the same minimiser (weights against
#: repeated rows, chunkings, row orders): converged well inside ``EQUIVALENCE_RTOL``.
EQUIVALENCE_TOL = {"lstsq": 1e-10, "newton": 1e-10, "auto": 1e-10, "lbfgs": 1e-8,
                   "gd": 1e-6, "proximal": 1e-6}
EQUIVALENCE_RTOL = {"lstsq": 1e-7, "newton": 1e-7, "auto": 1e-7, "lbfgs": 1e-6,
                    "gd": 1e-5, "proximal": 1e-5}

# ---------------------------------------------------------------- bundled data (cached)


@functools.cache
def c05_data() -> tuple[scipy.sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Case C-05: a 300 x 20 CSR matrix with ~10% non-zeros, regression and binary targets."""
    rng = np.random.default_rng(5)
    Xs = scipy.sparse.random(300, 20, density=0.1, format="csr", random_state=5)
    y = Xs @ rng.standard_normal(20) + 0.5 + 0.1 * rng.standard_normal(300)
    return Xs, np.asarray(y), (np.asarray(y) > np.median(y)).astype(int)



def _standardised(X: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(X)


@functools.cache
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return _standardised(X), y


@functools.cache
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised(X), y


@functools.cache
def breast_cancer_few() -> tuple[np.ndarray, np.ndarray]:
    """Four columns (mean radius, texture, smoothness, symmetry): not separable, so an
    unpenalised fit has a finite minimiser."""
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised(X[:, [0, 1, 4, 8]]), y


@functools.cache
def wine() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_wine(return_X_y=True)
    return _standardised(X), y


@functools.cache
def wine_few() -> tuple[np.ndarray, np.ndarray]:
    """The first four wine columns: three classes, not separable."""
    X, y = load_wine(return_X_y=True)
    return _standardised(X[:, :4]), y


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits, ten classes, the 8x8 images pooled to 4x4 (16 features) so that the
    multinomial model keeps 170 parameters."""
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16)
    return _standardised(X), y


@functools.cache
def counts() -> tuple[np.ndarray, np.ndarray]:
    """A seeded synthetic count set: 400 rows, 5 features, log-linear Poisson means."""
    rng = np.random.default_rng(20240601)
    X = rng.standard_normal((400, 5))
    y = rng.poisson(np.exp(0.5 + X @ np.array([0.3, -0.2, 0.1, 0.0, 0.25])))
    return _standardised(X), y.astype(np.float64)


# ---------------------------------------------------------------- documented objectives


def _penalty_value(coef: np.ndarray, l1: float, l2: float) -> float:
    c = np.ravel(coef)
    return float(l1 * np.abs(c).sum() + 0.5 * l2 * c @ c)


def objective(
    model: type, params: dict[str, Any], coef: Any, intercept: Any, X: np.ndarray, y: Any,
    sample_weight: Any = None,
) -> float:
    """The objective ``F(coef, b)`` each estimator documents it minimises.

    With sample weights ``s`` (total ``S``) and ``eta = X @ coef + b``:
    ``LinearRegression``: ``0.5 sum s (y - eta)**2``; ``Ridge``: plus ``0.5 alpha |coef|**2``;
    ``Lasso`` / ``ElasticNet``: ``(1/2S) sum s (y - eta)**2 + alpha * (l1_ratio |coef|_1 +
    0.5 (1 - l1_ratio) |coef|**2)``; ``LogisticRegression``: ``C sum s logloss + R(coef)``
    (``sum s logloss`` without a penalty); ``PoissonRegressor``: ``(1/2S) sum s deviance +
    0.5 alpha |coef|**2``.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    S = s.sum()
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    if model is LogisticRegression:
        _, codes = np.unique(np.asarray(y), return_inverse=True)
        coef2 = np.atleast_2d(coef)
        Z = X @ coef2.T + np.ravel(intercept)
        if coef2.shape[0] == 1:
            z = Z[:, 0]
            losses = np.logaddexp(0.0, z) - codes * z
        else:
            losses = -log_softmax(Z, axis=1)[np.arange(n), codes]
        C = params.get("C", 1.0)
        penalty = params.get("penalty", "l2")
        if penalty is None or np.isinf(C):
            return float(s @ losses)
        ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, params.get("l1_ratio"))
        return float(C * (s @ losses) + _penalty_value(coef2, ratio, 1.0 - ratio))
    y = np.asarray(y, dtype=np.float64)
    c = np.ravel(coef)
    eta = X @ c + float(np.ravel(intercept)[0])
    if model is LinearRegression:
        return float(0.5 * s @ (y - eta) ** 2)
    if model is Ridge:
        return float(0.5 * s @ (y - eta) ** 2 + _penalty_value(c, 0.0, params.get("alpha", 1.0)))
    if model in (Lasso, ElasticNet):
        alpha = params.get("alpha", 1.0)
        ratio = 1.0 if model is Lasso else params.get("l1_ratio", 0.5)
        return float(
            (s @ (y - eta) ** 2) / (2 * S) + _penalty_value(c, alpha * ratio, alpha * (1 - ratio))
        )
    if model is PoissonRegressor:
        deviance = 2.0 * (xlogy(y, y) - y * eta - y + np.exp(eta))
        return float((s @ deviance) / (2 * S) + _penalty_value(c, 0.0, params.get("alpha", 1.0)))
    raise AssertionError(f"no documented objective for {model}")


def mean_scale(model: type, params: dict[str, Any], sample_weight: Any, n: int) -> float:
    """``a * S`` of docs/objectives.md: ``F / (a S)`` is the objective ``history_`` records
    (Lasso, ElasticNet and Poisson are already written on that scale: factor 1)."""
    if model in (Lasso, ElasticNet, PoissonRegressor):
        return 1.0
    S = float(n if sample_weight is None else np.sum(sample_weight))
    if model is LogisticRegression:
        C = params.get("C", 1.0)
        if params.get("penalty", "l2") is not None and np.isfinite(C):
            return C * S
    return S


# ---------------------------------------------------------------- comparisons


def assert_rel(actual: Any, desired: Any, rtol: float, what: str = "") -> None:
    """Elementwise agreement to ``rtol`` relative to the largest entry of ``desired``."""
    actual = np.asarray(actual, dtype=np.float64)
    desired = np.asarray(desired, dtype=np.float64)
    scale = float(np.max(np.abs(desired), initial=0.0))
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale, err_msg=what)


def n_iter(est: Any) -> int:
    """``n_iter_`` as an int (LogisticRegression stores it as a one-element array)."""
    return int(np.ravel(est.n_iter_)[0])


@contextlib.contextmanager
def no_convergence_warning() -> Iterator[None]:
    """Turn a ConvergenceWarning into an error inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        yield


class GraphCounter(SchedulerPlugin):
    """Counts the task graphs submitted to the scheduler (runs in the scheduler).

    Unlike the transition counter it ignores the asynchronous release of earlier tests' keys:
    an unchanged count means nothing was submitted, i.e. no cluster work was started.
    """

    name = "daskgd-tests-graph-counter"

    def __init__(self) -> None:
        self.graphs = 0

    def update_graph(self, scheduler: Any, **kwargs: Any) -> None:
        self.graphs += 1

    def count(self, client: Any) -> int:
        """The number of graphs so far, once the client's pending messages have arrived."""
        time.sleep(0.05)  # let the client's batched stream flush
        client.run_on_scheduler(lambda: None)
        return self.graphs


@contextlib.contextmanager
def watch_graphs(cluster: Any) -> Iterator[GraphCounter]:
    """Install a ``GraphCounter`` on the (in-process) scheduler of ``cluster``."""
    counter = GraphCounter()

    async def add() -> None:
        cluster.scheduler.add_plugin(counter, name=GraphCounter.name)

    async def remove() -> None:
        cluster.scheduler.remove_plugin(name=GraphCounter.name)

    cluster.sync(add)
    try:
        yield counter
    finally:
        cluster.sync(remove)
