"""Half squared error, the loss of least squares, ridge, lasso and their SGD variants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd.losses._base import BaseLoss, as_vector


@dataclass(frozen=True)
class HalfSquaredError(BaseLoss):
    """``l(y, eta) = 0.5 * (eta - y)**2``; identity link.

    Gradient ``eta - y``, Hessian 1. The best constant is the weighted mean of ``y``.
    """

    name = "squared_error"
    is_classifier = False

    def n_outputs(self, n_classes: int) -> int:
        """One column of ``eta`` (regressor)."""
        return 1

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        residual = eta - y
        return 0.5 * residual * residual

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        return 0.5 * residual * residual, residual

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return eta - y, np.ones_like(eta)

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The weighted mean of ``y``, shape (1,)."""
        return as_vector(target_mean, 1).copy()

    def curvature(self, target_mean: np.ndarray) -> float:
        """1: the second derivative is constant."""
        return 1.0
