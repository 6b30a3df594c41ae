"""Hinge-type margin losses of linear SVMs and the perceptron (SGDClassifier)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from daskgd.losses._base import check_parameter
from daskgd.losses._margin import MarginLoss


@dataclass(frozen=True)
class Hinge(MarginLoss):
    """``phi(z) = max(0, threshold - z)``: linear SVM; non-smooth (subgradient only).

    The subgradient is ``-1`` for ``z <= threshold`` (the edge included, as in scikit-learn,
    so that the perceptron moves away from ``eta = 0``) and 0 above.

    Parameters
    ----------
    threshold : float, default=1.0
        Margin below which a sample costs, >= 0.
    """

    threshold: float = 1.0

    name = "hinge"
    differentiable = False
    twice_differentiable = False

    def __post_init__(self) -> None:
        check_parameter(self, "threshold", self.threshold)

    def _phi_dphi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gap = self.threshold - z
        dphi = np.where(gap >= 0.0, -1.0, 0.0)
        return np.maximum(gap, 0.0, out=gap), dphi

    def _best_constant(self, p: np.ndarray) -> np.ndarray:
        # p (thr - c) + (1 - p)(thr + c) is linear on [-thr, thr] and grows outside: the
        # minimum sits on the edge of the majority side (anywhere in between when p = 1/2).
        return self.threshold * np.sign(2.0 * p - 1.0)

    def curvature(self, target_mean: np.ndarray) -> float:
        """1: no curvature (non-smooth); the subgradients have size at most 1."""
        return 1.0


@dataclass(frozen=True)
class Perceptron(Hinge):
    """The perceptron criterion ``phi(z) = max(0, -z)``: the hinge with threshold 0."""

    threshold: float = field(default=0.0, init=False, repr=False)

    name = "perceptron"


@dataclass(frozen=True)
class SquaredHinge(MarginLoss):
    """``phi(z) = max(0, threshold - z)**2`` (no factor 1/2, as scikit-learn); C1.

    Derivative ``-2 max(0, threshold - z)``, second derivative 2 below the threshold and 0
    above.

    Parameters
    ----------
    threshold : float, default=1.0
        Margin below which a sample costs, >= 0.
    """

    threshold: float = 1.0

    name = "squared_hinge"

    def __post_init__(self) -> None:
        check_parameter(self, "threshold", self.threshold)

    def _phi_dphi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gap = np.maximum(self.threshold - z, 0.0)
        return gap * gap, -2.0 * gap

    def _dphi_d2phi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gap = np.maximum(self.threshold - z, 0.0)
        return -2.0 * gap, np.where(gap > 0.0, 2.0, 0.0)

    def _best_constant(self, p: np.ndarray) -> np.ndarray:
        # Stationary point of p (thr - c)**2 + (1 - p)(thr + c)**2, inside [-thr, thr].
        return self.threshold * (2.0 * p - 1.0)

    def curvature(self, target_mean: np.ndarray) -> float:
        """2, the second derivative below the threshold."""
        return 2.0
