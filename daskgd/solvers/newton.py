"""Newton's method with a distributed Hessian: few passes over the data when n >> d."""

from __future__ import annotations

import dataclasses
import logging
from typing import ClassVar

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve

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
    (see ``Objective.line_values``). When the Hessian is singular or too ill-conditioned
    for a Cholesky factorisation (unpenalised collinear or separable problems, the
    over-parametrised unpenalised multinomial), the fit continues with L-BFGS from the
    current iterate. Stops when the largest gradient entry is at most ``tol``.
    """

    name: ClassVar[str] = "newton"
    requires: ClassVar[Requirements] = Requirements(smooth_penalty=True, hessian=True)

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options.verbose)
        tol = options.tol or 0.0
        point = objective.value_grad_hess(theta0)
        record(0, point.value, objective.optimality(point), 0.0)
        for n_iter in range(1, options.max_iter + 1):
            if objective.optimality(point) <= tol:
                return SolverResult(point.theta, n_iter - 1, True, "gradient below tol",
                                    record.history)
            direction = _newton_direction(point)
            if direction is None:
                return self._fall_back(objective, point, options, record, n_iter - 1)
            step = _line_search(objective, point, direction)
            if step is None:
                converged = objective.optimality(point) <= np.sqrt(max(tol, 1e-16))
                return SolverResult(point.theta, n_iter, converged,
                                    "line search found no decrease (limit of precision)",
                                    record.history)
            point, length = step
            record(n_iter, point.value, objective.optimality(point), length)
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
        result = LBFGS().solve(objective, point.theta, rest)
        for entry in result.history[1:]:
            record(done + entry["iteration"], entry["objective"], entry["grad_norm"],
                   entry["step"])
        return SolverResult(result.theta, done + result.n_iter, result.converged,
                            f"Hessian ill-conditioned; L-BFGS: {result.message}",
                            record.history)


def _newton_direction(point: Point) -> np.ndarray | None:
    """``-H^{-1} g`` by Cholesky, or None when H is not safely positive definite."""
    assert point.hess is not None
    H = point.hess
    scale = np.sqrt(np.maximum(np.diag(H), np.finfo(float).tiny))
    try:
        # Jacobi scaling first: the factorisation then judges conditioning, not units.
        factor = cho_factor(H / np.outer(scale, scale), lower=True, check_finite=True)
    except (LinAlgError, ValueError):
        return None
    diag = np.abs(np.diag(factor[0]))
    if diag.min() ** 2 < MIN_RCOND * diag.max() ** 2:
        return None
    direction = -cho_solve(factor, point.grad / scale) / scale
    return direction if float(point.grad @ direction) < 0 else None


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
