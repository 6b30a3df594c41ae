"""Distributed (mini-batch and local) stochastic gradient descent."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from daskgd.objective import Objective
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult


def learning_rate_schedule(
    options: SolverOptions, objective: Objective, steps_per_epoch: int
) -> Callable[[int], float]:
    """The step size of the ``t``-th SGD step (``t`` counts from 1).

    ``"auto"``: ``1 / (L * sqrt(epoch))`` with ``L`` the objective's smoothness bound
    (estimated from the column variances in the validation pass), so the default needs no
    tuning and adapts to the scale of the features. ``"constant"``: ``eta0``.
    ``"invscaling"``: ``eta0 / t**power_t``, as in scikit-learn.
    """
    eta0, power_t = options.eta0, options.power_t
    if options.learning_rate == "constant":
        return lambda t: eta0
    if options.learning_rate == "invscaling":
        return lambda t: eta0 / t**power_t
    base = 1.0 / objective.smoothness_bound()
    return lambda t: base / math.sqrt(1 + (t - 1) // steps_per_epoch)


class SGD:
    """Synchronous distributed SGD with optional local steps (local SGD).

    Each round, every chunk takes its share of a mini-batch of ``batch_size`` rows (its
    positive-weight rows are permuted once per epoch with a seed derived from
    ``(random_state, epoch, chunk)``, so the result does not depend on which worker holds
    which chunk). With ``local_steps=1`` the driver adds the chunks' gradients and takes one
    step; with ``local_steps=k > 1`` each chunk takes ``k`` steps on its own mini-batches and
    the driver averages the models, weighted by the sample weight each used. An epoch is
    one pass over the data; ``max_iter`` counts epochs, and the fit stops when the epoch's
    mean objective has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    Learning rate: see ``learning_rate_schedule``.
    """

    name: ClassVar[str] = "sgd"
    requires: ClassVar[Requirements] = Requirements(smooth_penalty=False, differentiable=False)

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        record = Recorder(objective, self.name, options.verbose)
        k = options.local_steps
        n_rounds = max(1, math.ceil(objective.summary.n_positive / (options.batch_size * k)))
        schedule = learning_rate_schedule(options, objective, n_rounds * k)
        theta = theta0.copy()
        t = 0
        best = np.inf
        stalled = 0
        converged = False
        epoch = 0
        message = "maximum number of epochs reached"
        for epoch in range(1, options.max_iter + 1):
            loss_sum = weight_sum = 0.0
            rate = schedule(t + 1)
            for r in range(n_rounds):
                rates = tuple(schedule(t + j + 1) for j in range(k))
                t += k
                theta, weight, loss = objective.sgd_round(
                    theta, options.seed, epoch, r, n_rounds, rates
                )
                loss_sum += loss
                weight_sum += weight
            value = loss_sum / weight_sum + objective.penalty.value(objective.coef_block(theta))
            if not (np.isfinite(value) and np.isfinite(theta).all()):
                raise ValueError(
                    f"Floating-point under-/overflow occurred at epoch #{epoch}: SGD "
                    "diverged. Scale the features (e.g. sklearn.preprocessing."
                    "StandardScaler) or use a smaller eta0."
                )
            record(epoch, value, float("nan"), rate)
            if options.tol is not None:
                stalled = stalled + 1 if value > best - options.tol else 0
                best = min(best, value)
                if stalled >= options.n_iter_no_change:
                    converged, message = True, f"no improvement by tol in {stalled} epochs"
                    break
        return SolverResult(theta, epoch, converged, message, record.history)
