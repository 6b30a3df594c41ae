"""Modified Huber margin loss (SGDClassifier(loss="modified_huber"))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd.losses._margin import MarginLoss


@dataclass(frozen=True)
class ModifiedHuber(MarginLoss):
    """``phi(z) = 0`` for ``z >= 1``, ``(1 - z)**2`` for ``-1 <= z < 1``, ``-4 z`` below.

    A quadratically smoothed hinge that grows linearly for badly misclassified samples; C1,
    with derivative ``-2 (1 - clip(z, -1, 1))`` and second derivative 2 on [-1, 1), 0 outside.
    """

    name = "modified_huber"

    @staticmethod
    def _gap(z: np.ndarray) -> np.ndarray:
        # u = 1 - clip(z, -1, 1) in [0, 2]: phi = u**2 + 4 max(-1 - z, 0) and phi' = -2 u on
        # every piece, without squaring an unbounded margin.
        return 1.0 - np.clip(z, -1.0, 1.0)

    def _phi_dphi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = self._gap(z)
        phi = u * u + 4.0 * np.maximum(-1.0 - z, 0.0)
        return phi, -2.0 * u

    def _dphi_d2phi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d2phi = np.where((z >= -1.0) & (z < 1.0), 2.0, 0.0)
        return -2.0 * self._gap(z), d2phi

    def _best_constant(self, p: np.ndarray) -> np.ndarray:
        # Stationary point of p (1 - c)**2 + (1 - p)(1 + c)**2, inside [-1, 1].
        return 2.0 * p - 1.0

    def curvature(self, target_mean: np.ndarray) -> float:
        """2, the second derivative on [-1, 1)."""
        return 2.0
