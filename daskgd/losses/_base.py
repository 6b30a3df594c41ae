"""The interface every loss implements: per-sample values on the linear predictor."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Loss(Protocol):
    """A per-sample loss ``l(y, eta)`` of the linear predictor ``eta = X @ coef + intercept``.

    Implementations are small, stateless and picklable: they travel to the workers inside
    each task. All arrays are 1-D of shape (n_rows,).
    """

    name: str
    #: An upper bound of the second derivative with respect to ``eta``.
    curvature_bound: float
    #: Whether ``y`` holds class codes (0/1) rather than real targets.
    is_classifier: bool

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss, shape (n_rows,)."""
        ...

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample loss and its derivative with respect to ``eta``, both (n_rows,)."""
        ...

    def hessian(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Second derivative with respect to ``eta``, shape (n_rows,)."""
        ...

    def initial_eta(self, y_mean: float) -> float:
        """The constant predictor minimising the weighted loss, given the weighted mean of y."""
        ...
