"""L-BFGS: SciPy's L-BFGS-B on the driver, one round trip to the cluster per evaluation."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize

from daskgd.objective import Objective, Point
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult, grad_norm

#: A gradient this many times smaller than at the start, where the line search can no longer
#: tell objective values apart, counts as converged (the float64 limit of a value-based search).
PRECISION_LIMIT = 1e-8  # about sqrt(eps): f - f* ~ |g|^2 falls below rounding of f


class LBFGS:
    """Limited-memory BFGS with SciPy's line search.

    Uses ``max_iter`` (iterations) and ``tol`` (``gtol``: the largest absolute entry of the
    projected gradient of the mean-scaled objective, as in scikit-learn's ``lbfgs``). Unlike
    scikit-learn, there is no stop on a small relative decrease of the objective, which can
    end a fit on an ill-conditioned problem long before the gradient is small; the fit also
    counts as converged when the line search fails with the gradient ``PRECISION_LIMIT``
    times below its start and below ``sqrt(tol)`` (floating-point precision is exhausted).
    """

    name: ClassVar[str] = "lbfgs"
    requires: ClassVar[Requirements] = Requirements()

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options)
        start = objective.value_grad(theta0)
        if record(0, start.value, grad_norm(start.grad), 0.0, theta=start.theta):
            return record.stopped(start.theta, 0)
        return self.run(objective, start, options, record)

    def run(
        self, objective: Objective, start: Point, options: SolverOptions, record: Recorder
    ) -> SolverResult:
        """Iterate from the evaluated ``start``, recording into ``record`` (whose history
        may already hold iterations of another solver: the numbering goes on from them)."""
        last: dict[str, Any] = {}

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            point = objective.value_grad(theta)
            last["theta"], last["point"] = theta.copy(), point
            return point.value, point.grad

        def callback(intermediate_result: Any) -> None:
            point = last["point"]
            value = float(intermediate_result.fun)
            norm = grad_norm(point.grad) if np.array_equal(last["theta"], intermediate_result.x) \
                else float("nan")
            if record(len(record.history), value, norm, float("nan"),
                      theta=intermediate_result.x):
                raise StopIteration  # SciPy ends the run at this iterate

        result = minimize(
            fun, start.theta, jac=True, method="L-BFGS-B", callback=callback,
            options={
                "maxiter": options.max_iter,
                "maxfun": max(15000, 2 * options.max_iter),
                "gtol": options.tol or 0.0,
                # Stop on the gradient only (the documented criterion): a relative-decrease
                # test would end the fit early and call it converged.
                "ftol": 0.0,
                "maxls": 50,
                "maxcor": 10,
            },
        )
        if record.stop_reason is not None:
            return record.stopped(np.asarray(result.x, dtype=float), int(result.nit))
        final = grad_norm(np.asarray(result.jac))
        converged = final <= (options.tol or 0.0)
        message = str(result.message)
        limit = min(PRECISION_LIMIT * grad_norm(start.grad),
                    np.sqrt(options.tol or 0.0))
        if not converged and result.status in (0, 2) and final <= limit:
            # The line search cannot decrease f any more in float64: a tol below this point
            # cannot be reached by any method that compares objective values.
            converged = True
            message = f"gradient at the limit of float64 precision ({final:.2g}); {message}"
        return SolverResult(
            theta=np.asarray(result.x, dtype=float), n_iter=int(result.nit),
            converged=converged, message=message, history=record.history,
        )
