"""Half squared error, the loss of least squares, ridge and their SGD variants."""

from __future__ import annotations

import numpy as np


class HalfSquaredError:
    """``l(y, eta) = 0.5 * (eta - y)**2``; identity link."""

    name = "squared_error"
    #: Largest second derivative with respect to eta (sets default step sizes).
    curvature_bound = 1.0
    is_classifier = False

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        residual = eta - y
        return 0.5 * residual * residual

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        return 0.5 * residual * residual, residual

    def hessian(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def initial_eta(self, y_mean: float) -> float:
        return float(y_mean)

    def __repr__(self) -> str:
        return "HalfSquaredError()"
