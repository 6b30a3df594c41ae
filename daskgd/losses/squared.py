"""Half squared error, the loss of least squares, ridge and their SGD variants."""

from __future__ import annotations

import numpy as np


class HalfSquaredError:
    """``l(y, eta) = 0.5 * (eta - y)**2``; identity link."""

    name = "squared_error"
    is_classifier = False
    differentiable = True
    twice_differentiable = True

    def n_outputs(self, n_classes: int) -> int:
        return 1

    def curvature(self, target_mean: np.ndarray) -> float:
        return 1.0

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        residual = eta - y
        return 0.5 * residual * residual

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        return 0.5 * residual * residual, residual

    def gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return eta - y, np.ones(eta.shape)

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        return np.asarray(target_mean, dtype=float)[:1]

    def __repr__(self) -> str:
        return "HalfSquaredError()"
