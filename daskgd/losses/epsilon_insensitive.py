"""Epsilon-insensitive losses of support vector regression (SGDRegressor)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd.losses._base import BaseLoss, as_vector, check_parameter


@dataclass(frozen=True)
class EpsilonInsensitive(BaseLoss):
    """``l = max(0, |y - eta| - epsilon)``: linear SVR, non-smooth (subgradient only).

    The subgradient is ``sign(eta - y)`` outside the band and 0 inside (and on its edges), as
    in scikit-learn's SGD.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the band where errors cost nothing, >= 0.
    """

    epsilon: float = 0.1

    name = "epsilon_insensitive"
    is_classifier = False
    differentiable = False
    twice_differentiable = False

    def __post_init__(self) -> None:
        check_parameter(self, "epsilon", self.epsilon)

    def n_outputs(self, n_classes: int) -> int:
        """One column of ``eta`` (regressor)."""
        return 1

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        excess = np.abs(residual) - self.epsilon
        grad = np.where(excess > 0.0, np.sign(residual), 0.0)
        return np.maximum(excess, 0.0, out=excess), grad

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The weighted mean of ``y``, shape (1,): a start (the best constant is a median)."""
        return as_vector(target_mean, 1).copy()

    def curvature(self, target_mean: np.ndarray) -> float:
        """1: no curvature (non-smooth); the subgradients have size at most 1."""
        return 1.0


@dataclass(frozen=True)
class SquaredEpsilonInsensitive(BaseLoss):
    """``l = max(0, |y - eta| - epsilon)**2``: squared linear SVR (no factor 1/2, as sklearn).

    Gradient ``2 sign(eta - y) max(0, |y - eta| - epsilon)``; Hessian 2 outside the band and
    0 inside (C1 loss, piecewise-constant Hessian).

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the band where errors cost nothing, >= 0.
    """

    epsilon: float = 0.1

    name = "squared_epsilon_insensitive"
    is_classifier = False

    def __post_init__(self) -> None:
        check_parameter(self, "epsilon", self.epsilon)

    def n_outputs(self, n_classes: int) -> int:
        """One column of ``eta`` (regressor)."""
        return 1

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        excess = np.maximum(np.abs(residual) - self.epsilon, 0.0)
        grad = 2.0 * np.sign(residual) * excess
        return excess * excess, grad

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = eta - y
        excess = np.maximum(np.abs(residual) - self.epsilon, 0.0)
        return 2.0 * np.sign(residual) * excess, np.where(excess > 0.0, 2.0, 0.0)

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The weighted mean of ``y``, shape (1,): a start, exact when ``epsilon = 0``."""
        return as_vector(target_mean, 1).copy()

    def curvature(self, target_mean: np.ndarray) -> float:
        """2, the second derivative outside the band."""
        return 2.0
