"""What every solver shares: its options, its result and the per-iteration record."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from daskgd.losses import Loss
from daskgd.objective import Objective
from daskgd.penalties import ElasticNet

logger = logging.getLogger("daskgd")


@dataclass(frozen=True)
class SolverOptions:
    """Hyper-parameters a solver may use (each solver documents which)."""

    max_iter: int = 100
    tol: float | None = 1e-4  # None: no early stopping (sgd only)
    # sgd: "auto", "constant", "invscaling", "optimal" or "adaptive"; gd: "auto" or "constant"
    learning_rate: str = "auto"
    eta0: float = 0.01
    power_t: float = 0.25
    batch_size: int = 1024
    local_steps: int = 1
    n_iter_no_change: int = 5
    seed: int = 0
    verbose: int = 0
    # sgd only ------------------------------------------------------------------------------
    alpha: float = 0.0  # penalty strength, for the "optimal" schedule
    sample_rates: bool = False  # eta0 and schedules per sample (scikit-learn's SGD), see sgd.py
    shuffle: bool = True
    average: int = 0  # > 0: Polyak-average the iterates from this step on
    early_stopping: bool = False  # stop on a held-out validation score
    validation_fraction: float = 0.1


@dataclass
class SolverResult:
    """theta : (n_params,) final parameters; history : one dict per iteration."""

    theta: np.ndarray
    n_iter: int
    converged: bool
    message: str
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Requirements:
    """What a solver needs from the problem; checked before any cluster work.

    smooth_penalty : the penalty must be differentiable (no L1 part)
    hessian : the loss must be twice differentiable
    differentiable : the loss must be differentiable (not hinge-like)
    losses : the only losses the solver handles, or None for any
    single_output : the solver handles only K = 1 (no multinomial / one-vs-rest)
    """

    smooth_penalty: bool = True
    hessian: bool = False
    differentiable: bool = True
    losses: tuple[str, ...] | None = None
    single_output: bool = False

    def unmet(self, loss: Loss, penalty: ElasticNet, n_outputs: int) -> str | None:
        """Why this problem does not suit the solver, or None when it does."""
        if self.losses is not None and loss.name not in self.losses:
            return f"it only handles the loss {' / '.join(self.losses)}, not {loss.name!r}"
        if self.smooth_penalty and not penalty.smooth:
            return "it needs a smooth penalty ('l2' or none), not an L1 or elastic-net one"
        if self.differentiable and not loss.differentiable:
            return f"it needs a differentiable loss, and {loss.name!r} is not"
        if self.hessian and not loss.twice_differentiable:
            return f"it needs the loss's Hessian, and {loss.name!r} has none"
        if self.single_output and n_outputs > 1:
            return "it handles one output only"
        return None


class Solver(Protocol):
    """A driver-side optimisation loop over an ``Objective``."""

    name: ClassVar[str]
    requires: ClassVar[Requirements]

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult: ...


class Recorder:
    """Collects one record per iteration (and logs it when ``verbose``)."""

    def __init__(self, objective: Objective, solver: str, verbose: int) -> None:
        self.objective = objective
        self.solver = solver
        self.verbose = verbose
        self.start = time.perf_counter()
        self.history: list[dict[str, Any]] = []

    def __call__(self, iteration: int, value: float, grad_norm: float, step: float) -> None:
        record = {
            "iteration": iteration,
            "objective": float(value),
            "grad_norm": float(grad_norm),
            "step": float(step),
            "elapsed": time.perf_counter() - self.start,
            "passes": self.objective.engine.n_passes,
        }
        self.history.append(record)
        if self.verbose:
            logger.info(
                "daskgd %s: iteration %d objective %.10g grad_norm %.3g step %.3g "
                "(%.2f s, %.1f passes)", self.solver, iteration, value, grad_norm, step,
                record["elapsed"], record["passes"],
            )


def grad_norm(grad: np.ndarray) -> float:
    """The stopping measure of the gradient solvers: its largest absolute entry."""
    return float(np.max(np.abs(grad))) if grad.size else 0.0
