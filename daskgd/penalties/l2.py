"""Smooth penalties on the coefficients. The intercept is never penalised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class L2:
    """``0.5 * strength * ||coef||**2``; ``strength == 0`` means no penalty."""

    strength: float = 1.0

    smooth = True

    def value(self, coef: np.ndarray) -> float:
        return 0.5 * self.strength * float(coef @ coef)

    def gradient(self, coef: np.ndarray) -> np.ndarray:
        return self.strength * coef

    def scaled(self, factor: float) -> L2:
        """The same penalty with its strength multiplied by ``factor``."""
        return L2(self.strength * factor)


def no_penalty() -> L2:
    """The absent penalty (an L2 of strength zero)."""
    return L2(0.0)
