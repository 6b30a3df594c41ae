"""The function being minimised: loss + penalty + intercept + sample weights.

For a loss ``l``, sample weights ``s_i``, a data scale ``a`` (``C`` for logistic regression,
1 otherwise) and an L2 strength ``lam``, the estimators minimise

    F(coef, b) = a * sum_i s_i * l(y_i, x_i @ coef + b) + 0.5 * lam * ||coef||**2

which is scikit-learn's objective for the same estimator and parameters. Solvers see the
equivalent, better-scaled ``f = F / (a * S)`` with ``S = sum_i s_i``:

    f = (1/S) * sum_i s_i * l_i + 0.5 * (lam / (a * S)) * ||coef||**2

With an intercept, the parameters are ``theta = [coef, c]`` with the intercept centred,
``b = c - mu @ coef`` where ``mu`` is the weighted mean of the columns. This decouples the
intercept from the features (far better conditioning) and keeps every gradient of ``coef``
in the row space of the centred data, so gradient methods started at zero converge to the
minimum-norm solution scikit-learn returns for rank-deficient least squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd import _kernels
from daskgd._data import DataSummary
from daskgd._engine import Engine
from daskgd.losses import Loss
from daskgd.penalties import L2


@dataclass
class Point:
    """An evaluated parameter vector: ``theta`` (n_params,), value and gradient."""

    theta: np.ndarray
    value: float
    grad: np.ndarray


class Objective:
    """``f(theta)`` and its gradient, evaluated by the engine in one round trip each.

    Parameters
    ----------
    loss : Loss
    penalty : L2
        On the estimator's scale (``lam`` above); rescaled here to the mean-loss scale.
    fit_intercept : bool
    data_scale : float
        ``a`` above (``C`` for logistic regression).
    summary : DataSummary
        From the validation pass: total weight, column means, mean target.
    engine : Engine
    """

    def __init__(
        self, loss: Loss, penalty: L2, fit_intercept: bool, data_scale: float,
        summary: DataSummary, engine: Engine,
    ) -> None:
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.summary = summary
        self.engine = engine
        self.penalty = penalty.scaled(1.0 / (data_scale * summary.weight_sum))
        self.n_features = summary.feature_mean.shape[0]
        self.n_params = self.n_features + int(fit_intercept)
        self.feature_mean = summary.feature_mean if fit_intercept else None

    def smoothness_bound(self) -> float:
        """An estimate of the Lipschitz constant of the gradient of ``f``.

        ``curvature_bound * (sum of column variances + 1 for the intercept) + l2``: the trace
        bound of the Hessian in the centred parametrisation (without centring, the raw second
        moments). ``1 / bound`` is a safe step for (mini-batch) gradient steps.
        """
        spread = (
            self.summary.feature_var
            if self.fit_intercept
            else self.summary.feature_var + self.summary.feature_mean**2
        )
        return float(
            self.loss.curvature_bound * (spread.sum() + int(self.fit_intercept))
            + self.penalty.strength
        )

    # ---------------------------------------------------------------- parametrisation

    def initial_theta(self) -> np.ndarray:
        """Zero coefficients and the best constant intercept."""
        theta = np.zeros(self.n_params)
        if self.fit_intercept:
            theta[-1] = self.loss.initial_eta(self.summary.y_mean)
        return theta

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """``(coef, intercept)`` of the model at ``theta``; shapes (n_features,), scalar."""
        coef = theta[: self.n_features]
        if not self.fit_intercept:
            return coef, 0.0
        assert self.feature_mean is not None
        return coef, float(theta[-1] - self.feature_mean @ coef)

    def theta_from(self, coef: np.ndarray, intercept: float) -> np.ndarray:
        """The parameter vector of a model, e.g. to warm-start from it."""
        theta = np.zeros(self.n_params)
        theta[: self.n_features] = coef
        if self.fit_intercept:
            assert self.feature_mean is not None
            theta[-1] = intercept + self.feature_mean @ coef
        return theta

    def _finish(self, loss_sum: float, grad_coef: np.ndarray, grad_intercept: float,
                theta: np.ndarray) -> tuple[float, np.ndarray]:
        S = self.summary.weight_sum
        coef = theta[: self.n_features]
        value = loss_sum / S + self.penalty.value(coef)
        grad = np.empty(self.n_params)
        grad[: self.n_features] = grad_coef / S + self.penalty.gradient(coef)
        if self.fit_intercept:
            assert self.feature_mean is not None
            grad[: self.n_features] -= self.feature_mean * (grad_intercept / S)
            grad[-1] = grad_intercept / S
        return value, grad

    # ---------------------------------------------------------------- oracle calls

    def value_grad(self, theta: np.ndarray) -> Point:
        """Value and gradient at ``theta``: one round trip, one fused pass over X."""
        coef, intercept = self.split(theta)
        loss_sum, grad_coef, grad_intercept = self.engine.reduce(
            _kernels.loss_grad, (self.loss, coef, intercept), name="grad", passes=1
        )
        value, grad = self._finish(loss_sum, grad_coef, grad_intercept, theta)
        return Point(theta.copy(), value, grad)

    def line_values(self, start: np.ndarray, end: np.ndarray, fractions: np.ndarray) -> np.ndarray:
        """Values at ``start + f * (end - start)`` for every fraction ``f``, in one round.

        One read of X gives the linear predictors at both ends; every trial point is then
        scored from them (see ``_kernels.line_losses``). Returns shape (len(fractions),).
        """
        fractions = np.asarray(fractions, dtype=float)
        losses = self.engine.reduce(
            _kernels.line_losses,
            (self.loss, self.split(start), self.split(end), fractions),
            name="linesearch", passes=1,
        )
        S = self.summary.weight_sum
        coefs = start[: self.n_features] + np.outer(
            fractions, (end - start)[: self.n_features]
        )
        return np.array([loss / S + self.penalty.value(c) for loss, c in zip(losses, coefs)])

    def sgd_round(
        self, theta: np.ndarray, seed: int, epoch: int, round_: int, n_rounds: int,
        learning_rates: tuple[float, ...],
    ) -> tuple[np.ndarray, float, float]:
        """One round of distributed (local) SGD; see ``_kernels.SGDRound``.

        Returns the averaged parameters, the total weight of the rows used and their
        weighted loss sum (before the steps).
        """
        spec = _kernels.SGDRound(
            seed=seed, epoch=epoch, round=round_, n_rounds=n_rounds,
            learning_rates=learning_rates, l2=self.penalty.strength,
            feature_mean=self.feature_mean, fit_intercept=self.fit_intercept,
        )
        weighted_theta, weight, loss_sum = self.engine.reduce(
            _kernels.sgd_round, (self.loss, theta, spec), name="sgd",
            passes=1.0 / n_rounds, pass_chunk_id=True,
        )
        if weight <= 0:
            return theta, 0.0, 0.0
        return weighted_theta / weight, weight, loss_sum
