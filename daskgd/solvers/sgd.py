"""Distributed (mini-batch and local) stochastic gradient descent.

Rows and randomness
    The positive-weight rows are numbered in chunk order (a cheap first round counts them per
    chunk). Each epoch orders them by a keyed pseudorandom permutation (see
    ``_kernels.permute``) whose key comes from ``(seed, steps taken so far)``, and round ``r``
    of ``R`` takes the ``r``-th slice of that order. Every chunk finds its own rows of the
    slice, so with ``local_steps=1`` each step uses the same rows, and the same result (to
    rounding in the sums), however the data are chunked, wherever the chunks live, and with
    or without extra zero-weight rows. ``shuffle=False`` takes the rows in their order.

Step sizes
    ``t`` counts mini-batch steps (from 1); a round of ``local_steps=k`` takes ``k`` steps.
    With ``sample_rates`` (the SGD estimators) ``eta0`` and the schedules are per *sample*,
    as in scikit-learn, whose ``t`` counts samples: a step over ``b`` rows (``b`` the mean
    rows per step) takes ``b`` times the per-sample rate of its first sample, i.e. the sum of
    the rates of the ``b`` samples it replaces (the linear scaling rule), but never more than
    a step that is stable for ``b``-row mini-batches (:func:`step_limit`). An epoch then
    moves about as far as scikit-learn's one-sample-at-a-time epoch wherever that is stable,
    and no schedule diverges. Without ``sample_rates``, ``eta0`` is the step itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from daskgd import _kernels
from daskgd._kernels import SGDLayout
from daskgd.losses import Loss
from daskgd.objective import Objective
from daskgd.solvers._base import Recorder, Requirements, SolverOptions, SolverResult

#: Random streams, each keyed by (seed, stream, counter).
ORDER_STREAM = 1
HOLDOUT_STREAM = 2
SAMPLE_STREAM = 3
#: Rows sampled to estimate the largest curvature, and the widest model it is done for.
CURVATURE_SAMPLE = 2048
CURVATURE_MAX_FEATURES = 1000
#: ``adaptive`` divides its rate by this after ``n_iter_no_change`` epochs without progress...
ADAPTIVE_DIVISOR = 5.0
#: ... and stops once the per-sample rate is below this (scikit-learn's values).
ADAPTIVE_MIN_RATE = 1e-6

SCHEDULES = ("auto", "constant", "invscaling", "optimal", "adaptive")


def stream_keys(seed: int, stream: int, counter: int) -> tuple[int, ...]:
    """Round keys of the row permutation of one random stream."""
    state = np.random.SeedSequence([seed, stream, counter]).generate_state(
        _kernels.FEISTEL_ROUNDS, np.uint64
    )
    return tuple(int(k) for k in state)


def optimal_initial_rate(loss: Loss, alpha: float) -> float:
    """scikit-learn's first per-sample rate of the ``optimal`` schedule.

    ``typw / max(1, dloss(y=1, eta=-typw))`` with ``typw = alpha**-0.25``, the typical size
    of a weight. The derivative is negative for every loss here, so this is ``typw``.
    """
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    dloss = 0.0
    if 1 in getattr(loss, "eta_ndims", (1,)):
        dloss = float(np.ravel(loss.loss_gradient(np.ones(1), np.array([-typw]))[1])[0])
    return typw / max(1.0, dloss)


class Schedule:
    """The step size of mini-batch step ``t`` (counted from 1).

    ``"auto"``: ``1 / (L * sqrt(epoch))``. With per-sample rates (``sample_rates``, ``b``
    the mean rows per step, ``s = b * (t - 1) + 1`` the first sample of step ``t``) the step
    is ``min(b * eta(s), 1 / L)`` with scikit-learn's per-sample rates ``eta``:
    ``"constant"`` and ``"adaptive"`` ``eta0``, ``"invscaling"`` ``eta0 / s**power_t``,
    ``"optimal"`` ``1 / (alpha * (t0 + s - 1))`` with ``t0`` such that the first rate is
    :func:`optimal_initial_rate`. Without, ``b = 1`` and nothing is capped. ``"adaptive"``
    divides its current step by 5 each time :meth:`decay` is called.

    Parameters
    ----------
    options : SolverOptions
    loss : Loss
        For the ``"optimal"`` schedule's first rate.
    rows_per_step : float
        ``b``, the mean number of rows of a step.
    steps_per_epoch : int
    limit : float
        ``1 / L``, the largest stable step (see :func:`step_limit`).
    """

    def __init__(
        self, options: SolverOptions, loss: Loss, rows_per_step: float, steps_per_epoch: int,
        limit: float,
    ) -> None:
        if options.learning_rate not in SCHEDULES:
            raise ValueError(
                f"learning_rate must be one of {list(SCHEDULES)}; got {options.learning_rate!r}."
            )
        self.kind = options.learning_rate
        self.eta0, self.power_t = options.eta0, options.power_t
        self.limit = limit
        self.capped = options.sample_rates
        self.scale = rows_per_step if options.sample_rates else 1.0
        self.steps_per_epoch = steps_per_epoch
        self.alpha = options.alpha
        if self.kind == "optimal":
            if not options.alpha > 0:
                raise ValueError("learning_rate='optimal' needs alpha > 0 (its rate is "
                                 "1 / (alpha * (t0 + t))).")
            self.t0 = 1.0 / (optimal_initial_rate(loss, options.alpha) * options.alpha)
        self.adaptive = self._step(self.eta0)

    def _step(self, per_sample: float) -> float:
        # The linear scaling rule, capped (per-sample rates) or the rate itself (per-step).
        step = self.scale * per_sample
        return min(step, self.limit) if self.capped else step

    def __call__(self, t: int) -> float:
        """The step size of step ``t``."""
        if self.kind == "auto":
            return self.limit / math.sqrt(1 + (t - 1) // self.steps_per_epoch)
        if self.kind == "constant":
            return self._step(self.eta0)
        if self.kind == "adaptive":
            return self.adaptive
        sample = self.scale * (t - 1) + 1
        if self.kind == "invscaling":
            return self._step(self.eta0 / sample**self.power_t)
        return self._step(1.0 / (self.alpha * (self.t0 + sample - 1)))

    def decay(self) -> bool:
        """``adaptive``: divide the step by 5 unless the per-sample rate is already below
        1e-6; whether it did (False: time to stop). Other schedules never decay."""
        if self.kind != "adaptive" or self.adaptive / self.scale <= ADAPTIVE_MIN_RATE:
            return False
        self.adaptive /= ADAPTIVE_DIVISOR
        return True


@dataclass
class SGDState:
    """What SGD carries from one call to the next (``partial_fit``).

    t : mini-batch steps taken so far
    average : (n_params,) Polyak average of the iterates, or None
    n_averaged : number of steps in that average
    """

    t: int = 0
    average: np.ndarray | None = None
    n_averaged: int = 0


@dataclass
class SGDResult(SolverResult):
    """``theta`` is the model to report (the average, with averaging); ``standard`` the
    last iterate, from which training continues."""

    standard: np.ndarray | None = None
    state: SGDState = field(default_factory=SGDState)


def _layout(objective: Objective, options: SolverOptions) -> SGDLayout:
    """Number the positive-weight rows (one round) and choose the held-out ones."""
    counts = objective.engine.map(_kernels.positive_count, (), name="count", passes=0)
    offsets = tuple(int(v) for v in np.concatenate([[0], np.cumsum(counts)]))
    if not options.early_stopping:
        return SGDLayout(offsets)
    n_rows = offsets[-1]
    n_holdout = math.ceil(options.validation_fraction * n_rows)
    if not 0 < n_holdout < n_rows:
        raise ValueError(
            f"Splitting {n_rows} samples with positive weight into a training and a validation "
            f"set with validation_fraction={options.validation_fraction} leaves one of them "
            "empty. Change validation_fraction, add samples, or set early_stopping=False."
        )
    return SGDLayout(offsets, stream_keys(options.seed, HOLDOUT_STREAM, 0), n_holdout)


def step_limit(
    objective: Objective, layout: SGDLayout, options: SolverOptions, rows_per_step: float
) -> float:
    """``1 / L``: a step size that is stable for mini-batches of ``rows_per_step`` rows.

    Without ``sample_rates``, ``L`` is the objective's trace bound (stable for any batch).
    With it, ``L = c * (lambda_max + trace / b) + l2`` (``c`` the loss's curvature,
    ``lambda_max`` the largest eigenvalue of the weighted feature covariance, or 1 for the
    centred intercept, ``trace`` the trace bound's sum of variances plus 1, ``b`` the rows
    per step): the curvature of the mean objective plus the spread of a ``b``-row batch's
    around it. ``lambda_max`` comes from a uniform sample of at most 2048 rows (one small
    round, for up to 1000 features); never more than the trace bound allows.
    """
    bound = objective.smoothness_bound()
    d = objective.n_features
    if not options.sample_rates or d > CURVATURE_MAX_FEATURES:
        return 1.0 / bound
    centre = objective.feature_mean if objective.fit_intercept else np.zeros(d)
    n_sample = min(CURVATURE_SAMPLE, layout.n_rows)
    gram, weight = objective.engine.reduce(
        _kernels.sgd_sample_gram,
        (layout, stream_keys(options.seed, SAMPLE_STREAM, 0), n_sample, centre),
        name="curvature", passes=n_sample / layout.n_rows, pass_chunk_id=True,
    )
    top = float(np.linalg.eigvalsh(gram / weight)[-1]) if weight > 0 else 0.0
    l2 = objective.penalty.l2
    curvature = objective.loss.curvature(objective.summary.target_mean)
    sharp = curvature * max(top, float(objective.fit_intercept)) + (bound - l2) / rows_per_step
    return 1.0 / min(sharp + l2, bound)


def holdout_score(objective: Objective, theta: np.ndarray, layout: SGDLayout) -> float:
    """Accuracy (classifiers) or R² (regressors) of ``theta`` on the held-out rows: one round.

    Weighted by the sample weights, as scikit-learn's ``score``.
    """
    B, b = objective.raw(theta)
    classify = objective.loss.is_classifier
    sums = objective.engine.reduce(
        _kernels.sgd_holdout_score,
        (B, b, layout, classify, objective.summary.y_mean),
        name="score", passes=layout.n_holdout / layout.n_rows, pass_chunk_id=True,
    )
    if classify:
        return float(sums[1] / sums[0])
    weight, ss_res, y_sum, y_sq_sum = sums
    ss_tot = y_sq_sum - y_sum**2 / weight
    if ss_tot <= 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def _prox(objective: Objective, theta: np.ndarray, step: float) -> np.ndarray:
    """The prox of the whole penalty (L1 and L2 parts) on the coefficient rows."""
    if objective.penalty.is_zero:
        return theta
    Theta = theta.reshape(objective.n_rows, objective.n_outputs).copy()
    d = objective.n_features
    Theta[:d] = objective.penalty.prox(Theta[:d], step)
    return Theta.reshape(-1)


class SGD:
    """Synchronous distributed SGD with optional local steps (local SGD).

    Each round every chunk takes its rows of the round's slice (see the module docstring).
    With ``local_steps=1`` the driver averages the chunks' steps, weighted by the sample
    weight each used, which is one proximal mini-batch step on all the round's rows; with
    ``local_steps=k > 1`` each chunk takes ``k`` steps on its own mini-batches and the
    driver averages the models. An epoch is one pass over the (training) rows; ``max_iter``
    counts epochs, rounds per epoch are ``ceil(n_train / (batch_size * local_steps))``.

    Stopping, as scikit-learn: with ``tol`` set, after ``n_iter_no_change`` epochs in a row
    whose objective (the mean loss of the rows before their step, plus the penalty) did not
    improve on the best by ``tol``, or, with ``early_stopping``, whose validation score on
    the held-out rows (one extra round per epoch) did not improve on the best by ``tol``.
    ``adaptive`` then divides its step by 5 and goes on, until its per-sample rate is below
    1e-6. The last iterate is kept.

    ``average > 0``: the Polyak average of the iterates from step ``average`` on is
    reported (kept on the driver, updated after each round; with local steps the round's
    end point stands for its ``k`` steps).
    """

    name: ClassVar[str] = "sgd"
    requires: ClassVar[Requirements] = Requirements(smooth_penalty=False, differentiable=False)

    def solve(
        self, objective: Objective, theta0: np.ndarray, options: SolverOptions,
        state: SGDState | None = None,
    ) -> SGDResult:
        """Run up to ``options.max_iter`` epochs from ``theta0`` (and ``state``)."""
        state = SGDState() if state is None else state
        record = Recorder(objective, self.name, options)
        layout = _layout(objective, options)
        n_rows = layout.n_rows
        n_train = n_rows - layout.n_holdout
        k = options.local_steps
        n_rounds = max(1, min(n_rows, math.ceil(n_train / (options.batch_size * k))))
        rows_per_step = n_train / (n_rounds * k)
        schedule = Schedule(
            options, objective.loss, rows_per_step, n_rounds * k,
            step_limit(objective, layout, options, rows_per_step),
        )
        theta = theta0.copy()
        t = state.t
        average = None if state.average is None else state.average.copy()
        n_averaged = state.n_averaged
        best = np.inf
        stalled = 0
        converged = options.tol is None
        message = ("ran max_iter epochs (tol=None: no stopping rule)" if converged
                   else "maximum number of epochs reached")
        epoch = 0
        for epoch in range(1, options.max_iter + 1):
            keys = stream_keys(options.seed, ORDER_STREAM, t) if options.shuffle else None
            first_rate = schedule(t + 1)
            value_sum = weight_sum = 0.0
            for r in range(n_rounds):
                rates = tuple(schedule(t + j + 1) for j in range(k))
                spec = _kernels.SGDRound(
                    layout=layout, order_keys=keys, start=r * n_rows // n_rounds,
                    stop=(r + 1) * n_rows // n_rounds, learning_rates=rates,
                    penalty=objective.penalty, feature_mean=objective.feature_mean,
                    fit_intercept=objective.fit_intercept, n_outputs=objective.n_outputs,
                )
                delta, weight, loss = objective.engine.reduce(
                    _kernels.sgd_round, (objective.loss, theta, spec), name="sgd",
                    passes=(spec.stop - spec.start) / n_rows, pass_chunk_id=True,
                )
                if weight <= 0:
                    continue  # only held-out rows in this slice: no step, no count
                penalty = objective.penalty.value(objective.coef_block(theta))
                value_sum += loss + weight * penalty
                weight_sum += weight
                theta = _prox(objective, theta + delta / weight, rates[-1])
                if options.average:
                    # Steps t+1 .. t+k that are at or after step `average`.
                    new = t + k - max(t, options.average - 1)
                    if new > 0:
                        n_averaged += new
                        average = theta.copy() if average is None else (
                            average + (new / n_averaged) * (theta - average))
                t += k
            value = value_sum / weight_sum if weight_sum else float("nan")
            if not (np.isfinite(value) and np.isfinite(theta).all()):
                raise ValueError(
                    f"Floating-point under-/overflow occurred at epoch #{epoch}: SGD "
                    "diverged. Scale the features (e.g. sklearn.preprocessing."
                    "StandardScaler) or use a smaller eta0."
                )
            score = holdout_score(objective, theta, layout) if options.early_stopping else None
            extra = {} if score is None else {"validation_score": score}
            if record(epoch, value, float("nan"), first_rate, theta=theta, steps=t, **extra):
                converged, message = False, str(record.stop_reason)
                break
            if options.tol is None:
                continue
            # Minimise -score or the objective: "no improvement" is not beating best by tol.
            metric = -score if score is not None else value
            stalled = 0 if metric < best - options.tol else stalled + 1
            best = min(best, metric)
            if stalled >= options.n_iter_no_change:
                if schedule.decay():
                    stalled = 0
                    continue
                converged = True
                what = "validation score" if score is not None else "objective"
                message = f"no improvement of the {what} by tol in {stalled} epochs"
                break
        reported = average if options.average and n_averaged > 0 else theta
        assert reported is not None
        return SGDResult(
            reported, epoch, converged, message, record.history,
            stop_reason=record.stop_reason, standard=theta,
            state=SGDState(t, average, n_averaged),
        )
