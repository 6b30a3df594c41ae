"""What every solver shares: its options, its result and the per-iteration record."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
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
    verbose: int = 0  # read by the estimator, which turns it into callbacks (the observer)
    #: Sees each iteration's record and the solver state; returns a reason to stop, or None.
    observer: Observer | None = None
    # sgd only ------------------------------------------------------------------------------
    alpha: float = 0.0  # penalty strength, for the "optimal" schedule
    sample_rates: bool = False  # eta0 and schedules per sample (scikit-learn's SGD), see sgd.py
    shuffle: bool = True
    average: int = 0  # > 0: Polyak-average the iterates from this step on
    early_stopping: bool = False  # stop on a held-out validation score
    validation_fraction: float = 0.1


class Observer(Protocol):
    """Watches the solver loop (``daskgd.callbacks.CallbackList`` is one).

    Called with each iteration's record and the solver's state (``"theta"``, the iterate,
    shape (n_params,)); returns the reason to stop after this iteration, or None.
    """

    def __call__(self, record: Mapping[str, Any], state: Mapping[str, Any]) -> str | None: ...


@dataclass
class SolverResult:
    """theta : (n_params,) final parameters; history : one dict per iteration."""

    theta: np.ndarray
    n_iter: int
    converged: bool
    message: str
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Why an observer stopped the solver before its own stopping rule (None: it did not).
    stop_reason: str | None = None


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
    """Collects one record per iteration and shows it to the fit's observer, if any.

    Calling it returns True when the observer asks the solver to stop after this
    iteration; the solver then returns ``stopped(...)``, the iterate reached, not converged.
    """

    def __init__(self, objective: Objective, solver: str, options: SolverOptions) -> None:
        self.objective = objective
        self.solver = solver
        self.observer = options.observer
        self.start = time.perf_counter()
        self.history: list[dict[str, Any]] = []
        self.stop_reason: str | None = None

    def __call__(
        self, iteration: int, value: float, grad_norm: float, step: float, *,
        theta: np.ndarray | None = None, **extra: Any,
    ) -> bool:
        """Record an iteration; ``theta`` (n_params,) is the iterate reached, ``extra``
        more entries of the record. Returns whether to stop."""
        record = {
            "iteration": iteration,
            "objective": float(value),
            "grad_norm": float(grad_norm),
            "step": float(step),
            "elapsed": time.perf_counter() - self.start,
            "passes": self.objective.engine.n_passes,
            **extra,
        }
        self.history.append(record)
        if self.observer is not None and self.stop_reason is None:
            self.stop_reason = self.observer(record, {"theta": theta})
        return self.stop_reason is not None

    def stopped(self, theta: np.ndarray, n_iter: int) -> SolverResult:
        """The result of a solver stopped by its observer after iteration ``n_iter``."""
        return SolverResult(theta, n_iter, False, str(self.stop_reason), self.history,
                            stop_reason=self.stop_reason)


def grad_norm(grad: np.ndarray) -> float:
    """The stopping measure of the gradient solvers: its largest absolute entry."""
    return float(np.max(np.abs(grad))) if grad.size else 0.0
