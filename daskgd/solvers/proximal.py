"""Accelerated proximal gradient (FISTA) for L1 and elastic-net penalties."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from daskgd.objective import Objective, Point
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult

#: How much the step may grow after an accepted iteration, and shrink on a rejected one.
GROW, SHRINK = 2.0, 0.5


class Proximal:
    """FISTA with backtracking on the step and adaptive (function-value) restart.

    Minimises smooth loss + L2 part by gradient steps and the L1 part by its prox
    (soft-thresholding; the intercept is never thresholded). Each iteration is **one round
    trip**: from ``x_new`` and the previous iterate, the workers return the loss and gradient
    at ``x_new`` and at the extrapolated point ``y = x_new + beta * (x_new - x)`` from one
    read of X (``Objective.points_on_line``), so the next step and a possible restart are both
    ready. The step ``1/L`` starts from the smoothness bound of the validation pass, shrinks
    when the descent condition fails and grows otherwise, never beyond the curvature measured
    along the last step. Stops when the largest
    entry of the minimum-norm subgradient is at most ``tol``.
    """

    name: ClassVar[str] = "proximal"
    requires: ClassVar[Requirements] = Requirements(smooth_penalty=False)

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options)
        tol = options.tol or 0.0
        L = objective.smoothness_bound()
        x = objective.points_on_line(theta0, theta0, [1.0])[0]
        y, t = x, 1.0
        if record(0, objective.total_value(x), objective.optimality(x), 0.0, theta=x.theta):
            return record.stopped(x.theta, 0)
        n_iter = 0
        while n_iter < options.max_iter:
            if objective.optimality(x) <= tol:
                return SolverResult(x.theta, n_iter, True, "subgradient below tol",
                                    record.history)
            x_new_theta = objective.prox(y.theta - y.grad / L, 1.0 / L)
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_new
            x_new, y_new = objective.points_on_line(x.theta, x_new_theta, [1.0, 1.0 + beta])
            accepted, curvature = _accept(y, x_new, L, objective.precision)
            if not accepted:
                L /= SHRINK
                if not np.isfinite(L) or L > 1e300:
                    break
                continue
            n_iter += 1
            if objective.total_value(x_new) > objective.total_value(x):
                # Momentum overshoots: restart from the new point without it.
                y, t = x_new, 1.0
            else:
                y, t = y_new, t_new
            x = x_new
            if record(n_iter, objective.total_value(x), objective.optimality(x), 1.0 / L,
                      theta=x.theta):
                return record.stopped(x.theta, n_iter)
            # Longer steps next time, but never beyond the curvature just measured.
            L = max(L / GROW, curvature)
        converged = objective.optimality(x) <= tol
        return SolverResult(x.theta, n_iter, converged,
                            "subgradient below tol" if converged else
                            "maximum number of iterations reached", record.history)


def _accept(y: Point, x_new: Point, L: float, precision: float) -> tuple[bool, float]:
    """Whether the step from ``y`` to ``x_new`` passes the descent test for ``1/L``; and the
    curvature measured along it, ``(g(x) - g(y)).d / |d|^2``.

    The test is the descent lemma of the smooth part, ``f(x) <= f(y) + g.d + L/2 |d|^2``.
    Near the optimum both sides agree to within the rounding of the values (``precision``
    of X's dtype, times a margin), and comparing them would accept or reject by chance;
    there the step is judged by the curvature from the gradients instead, which rounding
    does not blur.
    """
    step = x_new.theta - y.theta
    squared = float(step @ step)
    if squared == 0.0:
        return True, 0.0
    curvature = max(float((x_new.grad - y.grad) @ step), 0.0) / squared
    if not np.isfinite(x_new.value):
        return False, curvature
    bound = y.value + float(y.grad @ step) + 0.5 * L * squared
    noise = 64.0 * precision * max(abs(y.value), abs(x_new.value))
    if abs(x_new.value - bound) <= noise:
        return curvature <= L, curvature
    return x_new.value <= bound, curvature
