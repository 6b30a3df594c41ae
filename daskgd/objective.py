"""The function being minimised: loss + penalty + intercept + sample weights.

For a loss ``l``, sample weights ``s_i`` with total ``S`` and a penalty ``R`` on the
coefficients, the solvers minimise the mean-scaled objective

    f(coef, b) = (1/S) * sum_i s_i * l(y_i, x_i @ coef.T + b) + R(coef)

Every estimator's objective is a positive multiple of this one (``Ridge`` and
``LogisticRegression`` write theirs as sums; the estimator rescales its penalty to this scale
before the fit), so the minimiser is scikit-learn's. ``coef`` has shape (K, n_features) and
``b`` shape (K,), with K = 1 except for the multinomial and one-vs-rest losses.

The parameters are ``theta``, the flattening of ``Theta`` of shape (p, K) with
``p = n_features + fit_intercept``: its first ``n_features`` rows are ``coef.T`` and its last
row (with an intercept) is the *centred* intercept ``c = b + mu @ coef.T``, ``mu`` the
weighted column means. Centring decouples the intercept from the features (far better
conditioning) and keeps every gradient of ``coef`` in the row space of the centred data, so
gradient methods started at zero converge to the minimum-norm solution scikit-learn returns
for rank-deficient least squares. In the raw parameters ``P = [coef.T; b] = T @ Theta`` with
``T = [[I, 0], [-mu, 1]]``; gradients and Hessians are mapped back with ``T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from daskgd import _kernels
from daskgd._data import DataSummary
from daskgd._engine import Engine
from daskgd.losses import Loss
from daskgd.penalties import ElasticNet


@dataclass
class Point:
    """An evaluated parameter vector.

    theta : (n_params,) parameters
    value : smooth part of the objective (loss + L2 part of the penalty)
    grad : (n_params,) gradient of the smooth part
    hess : (n_params, n_params) its Hessian, when asked for
    """

    theta: np.ndarray
    value: float
    grad: np.ndarray
    hess: np.ndarray | None = None


class Objective:
    """``f(theta)``, its gradient and Hessian, each evaluated in one round trip.

    Parameters
    ----------
    loss : Loss
    penalty : ElasticNet
        On the mean-loss scale above. Its L2 part is smooth and joins the loss; its L1 part
        (if any) is left to ``prox``.
    fit_intercept : bool
    summary : DataSummary
        From the validation pass: total weight, column means, target statistics.
    engine : Engine
    n_outputs : int, default=1
        K, the columns of the linear predictor.

    Attributes
    ----------
    precision : float
        Relative rounding of the values: float64's machine epsilon, since every oracle sum
        is computed in float64 (for float32 X too). Solvers that compare values (FISTA's
        descent test, Newton's decrement at a failed line search) treat differences below
        it as rounding.
    """

    precision: float = float(np.finfo(np.float64).eps)

    def __init__(
        self, loss: Loss, penalty: ElasticNet, fit_intercept: bool, summary: DataSummary,
        engine: Engine, n_outputs: int = 1,
    ) -> None:
        self.loss = loss
        self.penalty = penalty
        self.smooth_penalty = ElasticNet(0.0, penalty.l2)
        self.prox_penalty = ElasticNet(penalty.l1, 0.0)
        self.fit_intercept = fit_intercept
        self.summary = summary
        self.engine = engine
        self.n_features = summary.feature_mean.shape[0]
        self.n_outputs = n_outputs
        self.n_rows = self.n_features + int(fit_intercept)
        self.n_params = self.n_rows * n_outputs
        self.feature_mean = summary.feature_mean if fit_intercept else None

    @property
    def smooth(self) -> bool:
        """Whether the whole objective is differentiable (no L1 part)."""
        return self.penalty.smooth

    def smoothness_bound(self) -> float:
        """An estimate of the Lipschitz constant of the gradient of the smooth part.

        ``curvature * (sum of column variances + 1 for the intercept) + l2``: the trace bound
        of the Hessian in the centred parametrisation (without centring, the raw second
        moments). ``1 / bound`` is a safe step for (mini-batch) gradient steps.
        """
        spread = (
            self.summary.feature_var
            if self.fit_intercept
            else self.summary.feature_var + self.summary.feature_mean**2
        )
        curvature = self.loss.curvature(self.summary.target_mean)
        return float(curvature * (spread.sum() + int(self.fit_intercept)) + self.penalty.l2)

    # ---------------------------------------------------------------- parametrisation

    def initial_theta(self) -> np.ndarray:
        """Zero coefficients and the best constant intercepts."""
        Theta = np.zeros((self.n_rows, self.n_outputs))
        if self.fit_intercept:
            Theta[-1] = self.loss.initial_eta(self.summary.target_mean)
        return Theta.reshape(-1)

    def coef_block(self, theta: np.ndarray) -> np.ndarray:
        """The coefficient rows of ``Theta``: ``coef.T``, shape (n_features, K)."""
        return theta.reshape(self.n_rows, self.n_outputs)[: self.n_features]

    def raw(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(coef.T, b)``: shapes (n_features, K) and (K,)."""
        Theta = theta.reshape(self.n_rows, self.n_outputs)
        B = Theta[: self.n_features]
        if not self.fit_intercept:
            return B, np.zeros(self.n_outputs)
        assert self.feature_mean is not None
        return B, Theta[-1] - self.feature_mean @ B

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(coef, intercept)`` of the model at ``theta``: shapes (K, n_features), (K,)."""
        B, b = self.raw(theta)
        return B.T.copy(), b.copy()

    def theta_from(self, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """The parameter vector of a model (coef (K, n_features), intercept (K,))."""
        Theta = np.zeros((self.n_rows, self.n_outputs))
        B = np.asarray(coef, dtype=float).reshape(self.n_outputs, self.n_features).T
        Theta[: self.n_features] = B
        if self.fit_intercept:
            assert self.feature_mean is not None
            Theta[-1] = np.asarray(intercept, dtype=float).reshape(-1) + self.feature_mean @ B
        return Theta.reshape(-1)

    def _to_theta(self, grad_B: np.ndarray, grad_b: np.ndarray) -> np.ndarray:
        """Map a gradient in the raw parameters to ``theta``: ``T' @ [grad_B; grad_b]``."""
        G = np.empty((self.n_rows, self.n_outputs))
        G[: self.n_features] = grad_B
        if self.fit_intercept:
            assert self.feature_mean is not None
            G[: self.n_features] -= np.outer(self.feature_mean, grad_b)
            G[-1] = grad_b
        return G.reshape(-1)

    def _hess_to_theta(self, H_raw: np.ndarray) -> np.ndarray:
        """Map the raw Hessian (d+1, K, d+1, K) to ``theta``: ``T' H T``, (n_params, n_params)."""
        d = self.n_features
        if self.fit_intercept:
            assert self.feature_mean is not None
            T = np.eye(d + 1)
            T[d, :d] = -self.feature_mean
            H = np.einsum("ki,kalc,lj->iajc", T, H_raw, T, optimize=True)
        else:
            H = H_raw[:d, :, :d, :]
        return H.reshape(self.n_params, self.n_params)

    # ---------------------------------------------------------------- the penalty

    def _penalty_terms(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        B = self.coef_block(theta)
        grad = np.zeros((self.n_rows, self.n_outputs))
        grad[: self.n_features] = self.smooth_penalty.gradient(B)
        return self.smooth_penalty.value(B), grad.reshape(-1)

    def nonsmooth_value(self, theta: np.ndarray) -> float:
        """The L1 part of the penalty at ``theta`` (0 for smooth objectives)."""
        return self.prox_penalty.value(self.coef_block(theta))

    def prox(self, theta: np.ndarray, step: float) -> np.ndarray:
        """The proximal map of the L1 part with step ``step`` (the intercept untouched)."""
        if self.prox_penalty.is_zero:
            return theta
        Theta = theta.reshape(self.n_rows, self.n_outputs).copy()
        Theta[: self.n_features] = self.prox_penalty.prox(Theta[: self.n_features], step)
        return Theta.reshape(-1)

    def total_value(self, point: Point) -> float:
        """The whole objective ``f`` (smooth part plus L1 part) at an evaluated point."""
        return point.value + self.nonsmooth_value(point.theta)

    # ---------------------------------------------------------------- oracle calls

    def value_grad(self, theta: np.ndarray) -> Point:
        """Smooth value and gradient at ``theta``: one round trip, one fused pass over X."""
        B, b = self.raw(theta)
        loss_sum, grad_B, grad_b = self.engine.reduce(
            _kernels.loss_grad, (self.loss, B, b), name="grad", passes=1
        )
        S = self.summary.weight_sum
        penalty_value, penalty_grad = self._penalty_terms(theta)
        return Point(
            theta.copy(),
            loss_sum / S + penalty_value,
            self._to_theta(grad_B / S, grad_b / S) + penalty_grad,
        )

    def value_grad_hess(self, theta: np.ndarray) -> Point:
        """Smooth value, gradient and Hessian at ``theta``: one round trip, one pass over X.

        The Hessian (n_params, n_params) is reduced from the workers as ``X' D X`` blocks of
        size (n_features + 1)**2 per pair of outputs.
        """
        B, b = self.raw(theta)
        loss_sum, grad_B, grad_b, H_raw = self.engine.reduce(
            _kernels.loss_grad_hess, (self.loss, B, b), name="hess", passes=1
        )
        S = self.summary.weight_sum
        penalty_value, penalty_grad = self._penalty_terms(theta)
        H = self._hess_to_theta(H_raw / S)
        if self.penalty.l2:
            coef_rows = np.arange(self.n_params).reshape(self.n_rows, self.n_outputs)
            diag = coef_rows[: self.n_features].reshape(-1)
            H[diag, diag] += self.penalty.l2
        return Point(
            theta.copy(), loss_sum / S + penalty_value,
            self._to_theta(grad_B / S, grad_b / S) + penalty_grad, H,
        )

    def points_on_line(
        self, start: np.ndarray, end: np.ndarray, fractions: Sequence[float]
    ) -> list[Point]:
        """Value and gradient at ``start + f * (end - start)`` for each ``f``: one round trip.

        One read of X serves all the points (see ``_kernels.loss_grads_on_line``).
        """
        fs = np.asarray(fractions, dtype=float)
        losses, grad_B, grad_b = self.engine.reduce(
            _kernels.loss_grads_on_line,
            (self.loss, self.raw(start), self.raw(end), fs), name="grad", passes=1,
        )
        S = self.summary.weight_sum
        points = []
        for i, f in enumerate(fs):
            theta = start + f * (end - start)
            penalty_value, penalty_grad = self._penalty_terms(theta)
            points.append(Point(
                theta, losses[i] / S + penalty_value,
                self._to_theta(grad_B[:, :, i] / S, grad_b[:, i] / S) + penalty_grad,
            ))
        return points

    def optimality(self, point: Point) -> float:
        """Largest entry of the minimum-norm subgradient of ``f`` at ``point``.

        Zero exactly at the minimum; with no L1 part it is the largest gradient entry, and
        with one, each zero coefficient counts only by how far its gradient exceeds ``l1``.
        """
        g = point.grad.reshape(self.n_rows, self.n_outputs).copy()
        l1 = self.prox_penalty.l1
        if l1:
            B = self.coef_block(point.theta)
            gB = g[: self.n_features]
            g[: self.n_features] = np.where(
                B != 0, gB + l1 * np.sign(B), np.maximum(np.abs(gB) - l1, 0.0)
            )
        return float(np.max(np.abs(g))) if g.size else 0.0

    def line_values(self, start: np.ndarray, end: np.ndarray, fractions: np.ndarray) -> np.ndarray:
        """Smooth values at ``start + f * (end - start)`` for every fraction ``f``, in one round.

        One read of X gives the linear predictors at both ends; every trial point is then
        scored from them (see ``_kernels.line_losses``). Returns shape (len(fractions),).
        """
        fractions = np.asarray(fractions, dtype=float)
        losses = self.engine.reduce(
            _kernels.line_losses, (self.loss, self.raw(start), self.raw(end), fractions),
            name="linesearch", passes=1,
        )
        S = self.summary.weight_sum
        return np.array([
            loss / S + self._penalty_terms(start + f * (end - start))[0]
            for loss, f in zip(losses, fractions)
        ])

    def centred_gram(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Weighted least-squares statistics about the means, divided by ``S``.

        Returns ``(Xc' W Xc, Xc' W yc, yc' W yc) / S`` (see ``_kernels.centred_gram``); with
        no intercept the data are not centred. From the ``summary.moments`` of the
        validation pass when it summed them (dask data), else from one pass.
        """
        d = self.n_features
        x_mean = self.summary.feature_mean if self.fit_intercept else np.zeros(d)
        y_mean = self.summary.y_mean if self.fit_intercept else 0.0
        if self.summary.moments is not None:
            gram, xy, yy = self.summary.moments.about(x_mean, y_mean)
        else:
            gram, xy, yy = self.engine.reduce(
                _kernels.centred_gram, (x_mean, y_mean), name="gram", passes=1
            )
        S = self.summary.weight_sum
        return gram / S, xy / S, yy / S
