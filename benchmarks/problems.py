"""The registry of benchmark problems: seeded synthetic data and one objective per kind.

A problem is data (:class:`Problem`), not code: its kind names the objective, its size and
seed fix the data. Every block of rows is a pure function of ``(problem, block)``, so the
same rows can be built on the driver (NumPy, for scikit-learn and the objective) and on the
workers (a persisted dask array, for daskgd and dask-ml) without sending X over the network.

Every objective is written on the scale of the scikit-learn estimator of the same name
(docs/objectives.md); each adapter maps its library's regularisation onto it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dask
import dask.array as da
import numpy as np
from scipy.special import logsumexp

#: The kinds of problem and the scikit-learn estimator whose objective each one uses.
KINDS = {
    "logistic": "LogisticRegression(C)",
    "multinomial": "LogisticRegression(C), 5 classes",
    "lstsq": "LinearRegression()",
    "ridge": "Ridge(alpha)",
    "poisson": "PoissonRegressor(alpha)",
}

#: Number of informative directions in the true coefficients.
N_INFORMATIVE = 5


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    n, d : int
        Rows and features.
    C : float
        Inverse regularisation of the logistic kinds (scikit-learn's ``C``).
    alpha : float
        Regularisation of ``ridge`` (sum scale) and ``poisson`` (mean scale).
    n_classes : int
        Classes of ``multinomial``.
    seed : int
        Seed of the true coefficients and of every block.
    n_chunks : int
        Row blocks of the dask array (and of the driver-side generation).
    """

    kind: str
    n: int
    d: int
    C: float = 1.0
    alpha: float = 1.0
    n_classes: int = 5
    seed: int = 0
    n_chunks: int = 100

    @property
    def name(self) -> str:
        return f"{self.kind} {_size(self.n)}x{self.d}"

    @property
    def is_classifier(self) -> bool:
        return self.kind in ("logistic", "multinomial")

    def bounds(self) -> np.ndarray:
        """Row offsets of the blocks: block ``i`` is rows ``bounds[i]:bounds[i + 1]``."""
        n_chunks = max(1, min(self.n_chunks, self.n))
        return np.linspace(0, self.n, n_chunks + 1).round().astype(np.int64)

    def with_size(self, n: int, d: int) -> Problem:
        return replace(self, n=n, d=d)


def _size(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# ---------------------------------------------------------------- data


def true_coef(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The generating ``(coef (K, d), intercept (K,))``: a few informative directions."""
    rng = np.random.default_rng([problem.seed, 0])
    k = problem.n_classes if problem.kind == "multinomial" else 1
    coef = np.zeros((k, problem.d))
    m = min(N_INFORMATIVE, problem.d)
    coef[:, :m] = rng.standard_normal((k, m))
    # Scale the predictor's spread so no kind is trivially separable or saturated.
    spread = {"logistic": 2.0, "multinomial": 1.5, "lstsq": 2.0, "ridge": 2.0, "poisson": 0.4}
    coef *= spread[problem.kind] / np.linalg.norm(coef, axis=1, keepdims=True)
    intercept = np.full(k, 0.5)
    return coef, intercept


def make_block(problem: Problem, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``bounds[block]:bounds[block + 1]`` of the problem: ``(X, y)``, float64."""
    lo, hi = problem.bounds()[block : block + 2]
    rng = np.random.default_rng([problem.seed, 1, block])
    X = rng.standard_normal((int(hi - lo), problem.d))
    coef, intercept = true_coef(problem)
    eta = X @ coef.T + intercept
    if problem.kind == "logistic":
        # Bernoulli labels: classes overlap, so the data is not separable.
        y = (rng.random(len(X)) < 1 / (1 + np.exp(-eta[:, 0]))).astype(np.float64)
    elif problem.kind == "multinomial":
        y = np.argmax(eta + rng.gumbel(size=eta.shape), axis=1).astype(np.float64)
    elif problem.kind == "poisson":
        y = rng.poisson(np.exp(eta[:, 0])).astype(np.float64)
    else:
        y = eta[:, 0] + rng.standard_normal(len(X))
    return X, y


def make_numpy(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The whole problem in driver memory, filled block by block (no second copy of X)."""
    bounds = problem.bounds()
    X = np.empty((problem.n, problem.d))
    y = np.empty(problem.n)
    for i in range(len(bounds) - 1):
        X[bounds[i] : bounds[i + 1]], y[bounds[i] : bounds[i + 1]] = make_block(problem, i)
    return X, y


def make_dask(problem: Problem) -> tuple[da.Array, da.Array]:
    """The problem as lazy dask arrays whose blocks are generated on the workers.

    The caller persists them (``dask.persist(X, y)``); each block's ``(X, y)`` pair is made
    by one task, so X and y of a block land on the same worker.
    """
    bounds = problem.bounds()
    xs, ys = [], []
    for i in range(len(bounds) - 1):
        rows = int(bounds[i + 1] - bounds[i])
        pair = dask.delayed(make_block, pure=True)(problem, i)
        xs.append(da.from_delayed(pair[0], (rows, problem.d), dtype=np.float64))
        ys.append(da.from_delayed(pair[1], (rows,), dtype=np.float64))
    return da.concatenate(xs), da.concatenate(ys)


# ---------------------------------------------------------------- objectives


def objective(
    problem: Problem, X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: np.ndarray
) -> float:
    """The problem's objective on the scikit-learn scale (docs/objectives.md).

    Parameters
    ----------
    problem : Problem
    X, y : ndarray
        The whole data, on the driver.
    coef : ndarray of shape (K, d)
    intercept : ndarray of shape (K,)

    Returns
    -------
    float
        ``logistic``/``multinomial``: ``C * sum(logloss) + 0.5 ||W||^2``;
        ``lstsq``: ``0.5 * sum(r^2)``; ``ridge``: ``0.5 * sum(r^2) + 0.5 * alpha ||w||^2``;
        ``poisson``: ``mean(half deviance) + 0.5 * alpha ||w||^2``.
    """
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept = np.ravel(np.asarray(intercept, dtype=np.float64))
    eta = X @ coef.T + intercept
    penalty = 0.5 * float(np.sum(coef**2))
    if problem.kind == "logistic":
        z = eta[:, 0]
        return problem.C * float(np.sum(np.logaddexp(0.0, z) - y * z)) + penalty
    if problem.kind == "multinomial":
        picked = np.take_along_axis(eta, y.astype(np.int64)[:, None], axis=1)[:, 0]
        return problem.C * float(np.sum(logsumexp(eta, axis=1) - picked)) + penalty
    if problem.kind == "lstsq":
        return 0.5 * float(np.sum((y - eta[:, 0]) ** 2))
    if problem.kind == "ridge":
        return 0.5 * float(np.sum((y - eta[:, 0]) ** 2)) + problem.alpha * penalty
    if problem.kind == "poisson":
        z = eta[:, 0]
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        half_deviance = ylogy - y * z - y + np.exp(z)
        return float(np.mean(half_deviance)) + problem.alpha * penalty
    raise ValueError(f"unknown problem kind {problem.kind!r}")


def reference_fit(problem: Problem, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A tightly converged ``(coef, intercept)``: scikit-learn, Newton to 1e-12 or exact."""
    from sklearn import linear_model as lm

    if problem.kind in ("logistic", "multinomial"):
        model = lm.LogisticRegression(C=problem.C, solver="newton-cholesky", tol=1e-12,
                                      max_iter=200)
    elif problem.kind == "poisson":
        model = lm.PoissonRegressor(alpha=problem.alpha, solver="newton-cholesky", tol=1e-12,
                                    max_iter=200)
    elif problem.kind == "lstsq":
        model = lm.LinearRegression()
    elif problem.kind == "ridge":
        model = lm.Ridge(alpha=problem.alpha, solver="cholesky")
    else:
        raise ValueError(f"unknown problem kind {problem.kind!r}")
    model.fit(X, y)
    return np.atleast_2d(model.coef_), np.ravel(model.intercept_)


# ---------------------------------------------------------------- the registry

#: Problems by size tier. ``tiny`` is for the CI test, ``quick`` for ``--quick``.
SIZES = {
    "tiny": [(4_000, 10)],
    "quick": [(20_000, 20)],
    "small": [(200_000, 50)],
    "large": [(2_000_000, 100)],
    "xlarge": [(4_000_000, 100)],
}

#: Regularisation per kind (the rest of each problem's data).
DEFAULTS: dict[str, dict[str, float]] = {
    "logistic": {"C": 1.0},
    "multinomial": {"C": 1.0},
    "lstsq": {},
    "ridge": {"alpha": 100.0},
    "poisson": {"alpha": 1e-4},
}


def make_problem(kind: str, n: int, d: int, n_chunks: int = 100) -> Problem:
    """The registered problem of this kind at this size."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}; known: {sorted(KINDS)}")
    params = DEFAULTS[kind]
    return Problem(kind, n, d, C=params.get("C", 1.0), alpha=params.get("alpha", 1.0),
                   n_chunks=n_chunks)
