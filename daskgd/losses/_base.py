"""The interface every loss implements: per-sample values on the linear predictor."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Loss(Protocol):
    """A per-sample loss ``l(y, eta)`` of the linear predictor ``eta = X @ coef.T + intercept``.

    ``eta`` has shape (n_rows,) for single-output losses and (n_rows, n_outputs) otherwise.
    """

    name: str
    is_classifier: bool
    differentiable: bool
    twice_differentiable: bool

    def n_outputs(self, n_classes: int) -> int:
        """Columns of ``eta`` (regressors are asked with ``n_classes=0``)."""
        ...

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss, shape (n_rows,)."""
        ...

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample loss (n_rows,) and its derivative with respect to ``eta`` (eta's shape)."""
        ...

    def gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Derivative (eta's shape) and second derivative: (n_rows,) or (n_rows, K, K)."""
        ...

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The best constant predictor, shape (n_outputs,)."""
        ...

    def curvature(self, target_mean: np.ndarray) -> float:
        """A bound (or typical size) of the second derivative, for default step sizes."""
        ...
