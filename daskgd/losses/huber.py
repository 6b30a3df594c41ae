"""Huber loss, as in scikit-learn's SGDRegressor(loss="huber")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd.losses._base import BaseLoss, as_vector, check_parameter


@dataclass(frozen=True)
class Huber(BaseLoss):
    """Quadratic near the target, linear beyond ``epsilon``; residual ``r = y - eta``.

    ``l = 0.5 r**2`` if ``|r| <= epsilon`` else ``epsilon |r| - 0.5 epsilon**2``.
    Gradient ``clip(eta - y, -epsilon, epsilon)``; Hessian 1 inside the band, 0 outside (the
    loss is only C1, but this piecewise Hessian is what Newton-type solvers need).

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the quadratic band, >= 0.
    """

    epsilon: float = 0.1

    name = "huber"
    is_classifier = False

    def __post_init__(self) -> None:
        check_parameter(self, "epsilon", self.epsilon)

    def n_outputs(self, n_classes: int) -> int:
        """One column of ``eta`` (regressor)."""
        return 1

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        eps = self.epsilon
        residual = eta - y
        abs_r = np.abs(residual)
        # 0.5 c**2 + eps (|r| - c) with c = min(|r|, eps): both branches at once, and no square
        # of a huge residual (which would overflow although the loss itself is finite).
        clipped = np.minimum(abs_r, eps)
        loss = clipped * (0.5 * clipped) + eps * (abs_r - clipped)
        return loss, np.clip(residual, -eps, eps, out=residual)

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        hess = (np.abs(residual) <= self.epsilon).astype(np.float64)
        return np.clip(residual, -self.epsilon, self.epsilon, out=residual), hess

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The weighted mean of ``y``, shape (1,): a start, not the Huber location."""
        return as_vector(target_mean, 1).copy()

    def curvature(self, target_mean: np.ndarray) -> float:
        """1, the second derivative inside the band."""
        return 1.0
