"""L-BFGS: SciPy's L-BFGS-B on the driver, one round trip to the cluster per evaluation."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize

from daskgd.objective import Objective
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult, grad_norm


class LBFGS:
    """Limited-memory BFGS with SciPy's line search.

    Uses ``max_iter`` (iterations) and ``tol`` (``gtol``: the largest absolute entry of the
    projected gradient of the mean-scaled objective, as in scikit-learn's ``lbfgs``).
    """

    name: ClassVar[str] = "lbfgs"
    requires: ClassVar[Requirements] = Requirements()

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options.verbose)
        last: dict[str, Any] = {}

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            point = objective.value_grad(theta)
            last["theta"], last["point"] = theta.copy(), point
            return point.value, point.grad

        start = objective.value_grad(theta0)
        record(0, start.value, grad_norm(start.grad), 0.0)

        def callback(intermediate_result: Any) -> None:
            point = last["point"]
            value = float(intermediate_result.fun)
            norm = grad_norm(point.grad) if np.array_equal(last["theta"], intermediate_result.x) \
                else float("nan")
            record(len(record.history), value, norm, float("nan"))

        result = minimize(
            fun, theta0, jac=True, method="L-BFGS-B", callback=callback,
            options={
                "maxiter": options.max_iter,
                "maxfun": max(15000, 2 * options.max_iter),
                "gtol": options.tol or 0.0,
                "ftol": 64 * np.finfo(float).eps,
                "maxls": 50,
                "maxcor": 10,
            },
        )
        converged = bool(result.status == 0)
        return SolverResult(
            theta=np.asarray(result.x, dtype=float), n_iter=int(result.nit),
            converged=converged, message=str(result.message), history=record.history,
        )
