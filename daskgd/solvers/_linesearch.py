"""Armijo backtracking, written once for every solver that takes line-searched steps."""

from __future__ import annotations

import numpy as np

#: Sufficient-decrease constant and backtracking factor.
ARMIJO_C1 = 1e-4
SHRINK = 0.5
#: How many shrunken steps one cheap round of the line search evaluates at once.
N_FRACTIONS = 30


def armijo_ok(value: float, start_value: float, step: float, slope: float) -> bool:
    """Whether ``value`` at ``step`` along a direction of directional derivative ``slope``
    decreases the objective enough (and is finite)."""
    return bool(np.isfinite(value)) and value <= start_value + ARMIJO_C1 * step * slope


def backtracking_fractions() -> np.ndarray:
    """Fractions of the first trial step tried next, largest first: 1/2, 1/4, ..."""
    return SHRINK ** np.arange(1, N_FRACTIONS + 1)
