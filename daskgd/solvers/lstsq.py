"""Exact least squares in one pass: weighted Gram statistics, then a solve on the driver."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

from daskgd.objective import Objective, Point
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult

#: Below this reciprocal condition (after scaling) the normal equations count as singular.
MIN_RCOND = 1e-12
#: Sweeps of coordinate descent allowed per unit of ``max_iter`` (L1 / elastic net).
SWEEPS_PER_ITER = 10


class LeastSquares:
    """One pass over the data for ``Xc' W Xc`` and ``Xc' W yc``, then an exact solve.

    The statistics are centred on each chunk (exact for features with large offsets) and
    are (n_features, n_features): the right solver for least squares when n_features is
    moderate (up to a few thousand). With an L2 penalty or none, the normal equations are
    solved through an eigendecomposition whose tiny eigenvalues are dropped, so collinear
    designs get scikit-learn's minimum-norm solution. With an L1 part (lasso, elastic net),
    cyclic coordinate descent runs on the Gram matrix on the driver, with no further pass
    over the data, to rounding level (``tol`` is not needed: the sweeps are cheap).
    """

    name: ClassVar[str] = "lstsq"
    requires: ClassVar[Requirements] = Requirements(
        smooth_penalty=False, losses=("squared_error",)
    )

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options)
        gram, xy, yy = objective.centred_gram()
        l1, l2 = objective.penalty.l1, objective.penalty.l2
        if l1 == 0.0:
            coef, sweeps, converged = _ridge(gram, xy, l2), 1, True
        else:
            start = objective.coef_block(theta0)[:, 0]
            # The data are not read again, so the solve is made to rounding level.
            exact = 1e-12 * max(1.0, float(np.abs(xy).max(initial=0.0)))
            coef, sweeps, converged = _coordinate_descent(
                gram, xy, l1, l2, start, exact,
                max_sweeps=SWEEPS_PER_ITER * options.max_iter,
            )
        theta = objective.theta_from(coef, np.array([0.0]))
        if objective.fit_intercept:
            # The centred intercept is the weighted mean of y (b = y_mean - mu @ coef).
            theta[-1] = objective.summary.y_mean
        grad = gram @ coef - xy + l2 * coef
        value = 0.5 * float(coef @ gram @ coef - 2.0 * xy @ coef + yy) + 0.5 * l2 * float(
            coef @ coef)
        full_grad = np.zeros(objective.n_params)
        full_grad[: objective.n_features] = grad
        point = Point(theta, value, full_grad)
        # The one iteration is the whole solve: a request to stop after it changes nothing.
        record(1, objective.total_value(point), objective.optimality(point), float(sweeps),
               theta=theta)
        message = "exact solve" if l1 == 0.0 else f"coordinate descent: {sweeps} sweeps"
        return SolverResult(theta, 1, converged, message, record.history)


def _ridge(gram: np.ndarray, xy: np.ndarray, l2: float) -> np.ndarray:
    """Solution of ``(gram + l2 I) coef = xy``; the minimum-norm one when singular.

    A Cholesky solve after Jacobi scaling first, so columns on very different scales (a
    conditioning problem of units, not of information) lose nothing; only a matrix that is
    singular after scaling goes to the pseudo-inverse, whose minimum norm is then in the
    original coordinates, as scikit-learn's.
    """
    A = gram + l2 * np.eye(gram.shape[0])
    diag = np.diag(A)
    if (diag > 0).all():
        scale = np.sqrt(diag)
        try:
            factor = cho_factor(A / np.outer(scale, scale), lower=True)
            pivots = np.abs(np.diag(factor[0]))
            if pivots.min() ** 2 >= MIN_RCOND * pivots.max() ** 2:
                return cho_solve(factor, xy / scale) / scale
        except LinAlgError:
            pass
    values, vectors = eigh(A)
    cutoff = max(float(values.max(initial=0.0)), 0.0) * gram.shape[0] * np.finfo(float).eps
    keep = values > cutoff
    inverse = np.zeros_like(values)
    inverse[keep] = 1.0 / values[keep]
    return vectors @ (inverse * (vectors.T @ xy))


def _coordinate_descent(
    gram: np.ndarray, xy: np.ndarray, l1: float, l2: float, start: np.ndarray, tol: float,
    max_sweeps: int,
) -> tuple[np.ndarray, int, bool]:
    """Minimise ``0.5 c'Gc - xy'c + 0.5 l2 |c|^2 + l1 |c|_1`` by cyclic coordinate descent.

    Returns the coefficients, the sweeps made and whether the optimality condition held.
    """
    coef = start.astype(float).copy()
    gc = gram @ coef
    diag = np.diag(gram) + l2
    for sweep in range(1, max_sweeps + 1):
        largest_change = 0.0
        for j in range(coef.size):
            if diag[j] <= 0.0:
                continue  # a constant column: its coefficient stays at zero
            old = coef[j]
            rho = xy[j] - gc[j] + gram[j, j] * old
            new = np.sign(rho) * max(abs(rho) - l1, 0.0) / diag[j]
            if new != old:
                gc += gram[:, j] * (new - old)
                coef[j] = new
                largest_change = max(largest_change, abs(new - old))
        if _violation(gc - xy + l2 * coef, coef, l1) <= tol or largest_change <= (
            1e-15 * max(1.0, float(np.abs(coef).max()))
        ):
            return coef, sweep, True
    return coef, max_sweeps, _violation(gc - xy + l2 * coef, coef, l1) <= tol


def _violation(grad: np.ndarray, coef: np.ndarray, l1: float) -> float:
    sub = np.where(coef != 0, grad + l1 * np.sign(coef), np.maximum(np.abs(grad) - l1, 0.0))
    return float(np.max(np.abs(sub))) if sub.size else 0.0
