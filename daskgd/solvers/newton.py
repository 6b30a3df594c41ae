"""Newton's method with a distributed Hessian: few passes over the data when n >> d."""

from __future__ import annotations

import dataclasses
import logging
from typing import ClassVar

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigh

from daskgd.objective import Objective, Point
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult
from daskgd.solvers._linesearch import armijo_ok, backtracking_fractions
from daskgd.solvers.lbfgs import LBFGS

logger = logging.getLogger("daskgd")

#: Below this estimate of the reciprocal condition number the Hessian is not trusted.
MIN_RCOND = 1e-12


class Newton:
    """Newton's method: gradient and Hessian in one round trip, a Cholesky solve on the driver.

    Each iteration the workers return the loss, its gradient and the Hessian blocks
    ``X' D X`` ((n_features + 1) * K square, reduced on the driver); the driver solves for
    the Newton direction and tries the full step, whose evaluation brings the next
    Hessian with it (one pass per iteration when the step is accepted, as it nearly always
    is close to the solution). A rejected step is backtracked with the cached predictions
    (see ``Objective.line_values``). A singular Hessian (the multinomial intercepts,
    collinear features without a penalty) gets the minimum-norm step of its
    pseudo-inverse; if no descent direction comes out at all, the fit continues with
    L-BFGS from the current iterate. Stops when the largest gradient entry is at most ``tol``.
    """

    name: ClassVar[str] = "newton"
    requires: ClassVar[Requirements] = Requirements(smooth_penalty=True, hessian=True)

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options)
        tol = options.tol or 0.0
        point = objective.value_grad_hess(theta0)
        if record(0, point.value, objective.optimality(point), 0.0, theta=point.theta):
            return record.stopped(point.theta, 0)
        for n_iter in range(1, options.max_iter + 1):
            if objective.optimality(point) <= tol:
                return SolverResult(point.theta, n_iter - 1, True, "gradient below tol",
                                    record.history)
            direction = _newton_direction(point)
            if direction is None:
                return self._fall_back(objective, point, options, record, n_iter - 1)
            step = _line_search(objective, point, direction)
            if step is None:
                converged = (objective.optimality(point) <= np.sqrt(max(tol, 1e-16))
                             or _at_precision_limit(objective, point, direction))
                return SolverResult(point.theta, n_iter, converged,
                                    "line search found no decrease (limit of precision)",
                                    record.history)
            point, length = step
            if record(n_iter, point.value, objective.optimality(point), length,
                      theta=point.theta):
                return record.stopped(point.theta, n_iter)
        converged = objective.optimality(point) <= tol
        return SolverResult(point.theta, options.max_iter, converged,
                            "gradient below tol" if converged else
                            "maximum number of iterations reached", record.history)

    @staticmethod
    def _fall_back(
        objective: Objective, point: Point, options: SolverOptions, record: Recorder, done: int
    ) -> SolverResult:
        logger.info("daskgd newton: Hessian too ill-conditioned at iteration %d; continuing "
                    "with L-BFGS", done)
        rest = dataclasses.replace(options, max_iter=max(1, options.max_iter - done))
        # L-BFGS goes on in this recorder, so the observer sees its iterations as they come.
        result = LBFGS().run(objective, point, rest, record)
        if result.stop_reason is not None:
            return dataclasses.replace(result, n_iter=done + result.n_iter)
        return SolverResult(result.theta, done + result.n_iter, result.converged,
                            f"Hessian ill-conditioned; L-BFGS: {result.message}",
                            record.history)


def _newton_direction(point: Point) -> np.ndarray | None:
    """``-H^{-1} g``: by Cholesky, or on a singular H the minimum-norm ``-H^+ g``.

    A singular Hessian with the gradient orthogonal to its null space is common and
    harmless: the intercepts of the multinomial model (adding a constant to all of them
    changes nothing) or collinear features without a penalty; the pseudo-inverse step then
    stays in the row space, as scikit-learn's minimum-norm solutions do. Returns None when
    no descent direction comes out (the caller falls back to L-BFGS).
    """
    assert point.hess is not None
    H, g = point.hess, point.grad
    diag = np.diag(H)
    # Jacobi scaling; coordinates with no curvature at all (a constant column) keep scale 1,
    # so rounding noise in their gradient is not blown up.
    scale = np.where(diag > 1e-14 * max(float(diag.max(initial=0.0)), 0.0),
                     np.sqrt(np.abs(diag)), 1.0)
    # Scaled first: the factorisation then judges conditioning, not units.
    scaled = H / np.outer(scale, scale)
    direction = None
    try:
        factor = cho_factor(scaled, lower=True, check_finite=True)
        pivots = np.abs(np.diag(factor[0]))
        if pivots.min() ** 2 >= MIN_RCOND * pivots.max() ** 2:
            direction = -cho_solve(factor, g / scale) / scale
    except (LinAlgError, ValueError):
        pass
    if direction is None:
        # Singular: the pseudo-inverse of H itself, so the step has minimum norm in the
        # parameters (not in scaled ones) and stays in the row space, as scikit-learn's.
        try:
            values, vectors = eigh(H)
        except (LinAlgError, ValueError):
            return None
        keep = values > MIN_RCOND * max(float(values.max(initial=0.0)), 0.0)
        inverse = np.zeros_like(values)
        inverse[keep] = 1.0 / values[keep]
        direction = -(vectors @ (inverse * (vectors.T @ g)))
    ok = np.isfinite(direction).all() and float(g @ direction) < 0
    return direction if ok else None


#: How many roundings of the objective value the Newton decrement may be and still count as
#: zero: a decrease that small cannot be told apart from rounding, so no step can show it.
DECREMENT_ROUNDINGS = 64.0


def _at_precision_limit(objective: Objective, point: Point, direction: np.ndarray) -> bool:
    """Whether the Newton decrement ``g' H^-1 g`` is below the rounding of the objective.

    The decrement is the decrease a full Newton step predicts (twice over) and does not
    depend on the units of the features, unlike the gradient, whose entries for a feature
    scaled by 1e12 keep rounding noise far above any absolute ``tol``. When the line search
    fails with the predicted decrease already lost in rounding, the iterate is as good as
    float64 can tell, and the fit has converged.
    """
    decrement = -float(point.grad @ direction)
    noise = DECREMENT_ROUNDINGS * objective.precision * max(1.0, abs(point.value))
    logger.debug("daskgd newton: line search failed with decrement %.3g (noise %.3g)",
                 decrement, noise)
    return decrement <= noise


def _line_search(
    objective: Objective, point: Point, direction: np.ndarray
) -> tuple[Point, float] | None:
    slope = float(point.grad @ direction)
    trial = objective.value_grad_hess(point.theta + direction)
    if armijo_ok(trial.value, point.value, 1.0, slope):
        return trial, 1.0
    fractions = backtracking_fractions()
    values = objective.line_values(point.theta, trial.theta, fractions)
    for fraction, value in zip(fractions, values):
        if armijo_ok(value, point.value, fraction, slope):
            return objective.value_grad_hess(point.theta + fraction * direction), fraction
    return None
