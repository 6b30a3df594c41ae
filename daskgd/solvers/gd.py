"""Full-batch distributed gradient descent."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from daskgd.objective import Objective, Point
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult, grad_norm
from daskgd.solvers._linesearch import armijo_ok, backtracking_fractions

#: Largest growth of the step from one iteration to the next.
MAX_STEP_GROWTH = 1e3


class GradientDescent:
    """Gradient descent on the full data, one gradient (one pass over X) per iteration.

    With ``learning_rate="auto"`` (default) the step comes from an Armijo backtracking line
    search started at the Barzilai-Borwein step. The first trial costs one fused
    loss-and-gradient pass (usually the only one: the BB step is mostly accepted). If it is
    rejected, all shorter trial steps are scored in one round from the linear predictors at
    both ends, computed in a single read of X (no pass over X per trial), and the accepted
    point's gradient takes one more pass. With ``learning_rate="constant"`` every step is
    ``eta0`` times the gradient. Stops when the largest gradient entry is at most ``tol`` or after
    ``max_iter`` iterations.
    """

    name: ClassVar[str] = "gd"
    requires: ClassVar[Requirements] = Requirements()

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options)
        tol = options.tol or 0.0
        fixed = options.learning_rate == "constant"
        point = objective.value_grad(theta0)
        if record(0, point.value, grad_norm(point.grad), 0.0, theta=point.theta):
            return record.stopped(point.theta, 0)
        step = 1.0 / objective.smoothness_bound()
        message = "maximum number of iterations reached"
        converged = False
        n_iter = 0
        for n_iter in range(1, options.max_iter + 1):
            if grad_norm(point.grad) <= tol:
                n_iter -= 1
                converged, message = True, "gradient below tol"
                break
            if fixed:
                step = options.eta0
                new = objective.value_grad(point.theta - step * point.grad)
                if not np.isfinite(new.value):
                    message = f"diverged at iteration {n_iter}: reduce eta0"
                    break
            else:
                accepted = self._line_search(objective, point, step)
                if accepted is None:
                    converged = grad_norm(point.grad) <= np.sqrt(tol)
                    message = "line search found no decrease (limit of precision)"
                    break
                new, step = accepted
            stop = record(n_iter, new.value, grad_norm(new.grad), step, theta=new.theta)
            if not fixed:
                step = self._next_step(point, new, step)
            point = new
            if stop:
                return record.stopped(point.theta, n_iter)
        else:
            converged = grad_norm(point.grad) <= tol
            if converged:
                message = "gradient below tol"
        return SolverResult(point.theta, n_iter, converged, message, record.history)

    @staticmethod
    def _line_search(objective: Objective, point: Point, step: float) -> tuple[Point, float] | None:
        direction = -point.grad
        slope = float(point.grad @ direction)
        trial = objective.value_grad(point.theta + step * direction)
        if armijo_ok(trial.value, point.value, step, slope):
            return trial, step
        fractions = backtracking_fractions()
        values = objective.line_values(point.theta, trial.theta, fractions)
        for fraction, value in zip(fractions, values):
            if armijo_ok(value, point.value, step * fraction, slope):
                shorter = step * fraction
                return objective.value_grad(point.theta + shorter * direction), shorter
        return None

    @staticmethod
    def _next_step(old: Point, new: Point, step: float) -> float:
        """Barzilai-Borwein step ``s.s / s.y``, or a doubled step when the curvature is not
        positive; never more than ``MAX_STEP_GROWTH`` times the last one."""
        s = new.theta - old.theta
        y = new.grad - old.grad
        curvature = float(s @ y)
        bb = float(s @ s) / curvature if curvature > 0 else 2.0 * step
        return min(bb, MAX_STEP_GROWTH * step)
