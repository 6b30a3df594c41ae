"""L2, L1 and elastic-net penalties as one family: ``l1 * ||coef||_1 + 0.5 * l2 * ||coef||**2``.

Ridge is ``l1 = 0``, the lasso ``l2 = 0``; scikit-learn's ``alpha`` and ``l1_ratio`` map to
``l1 = alpha * l1_ratio`` and ``l2 = alpha * (1 - l1_ratio)``. One class keeps the prox, the
value and the scaling written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ElasticNet:
    """``l1 * ||coef||_1 + 0.5 * l2 * ||coef||_2**2`` (both strengths >= 0)."""

    l1: float = 0.0
    l2: float = 0.0

    @property
    def smooth(self) -> bool:
        return self.l1 == 0.0

    @property
    def is_zero(self) -> bool:
        return self.l1 == 0.0 and self.l2 == 0.0

    def value(self, coef: np.ndarray) -> float:
        value = 0.5 * self.l2 * float(np.vdot(coef, coef))
        if self.l1:
            value += self.l1 * float(np.abs(coef).sum())
        return value

    def gradient(self, coef: np.ndarray) -> np.ndarray:
        if not self.smooth:
            raise ValueError("an L1 penalty has no gradient; use its prox")
        return self.l2 * coef

    def curvature(self) -> float:
        return self.l2

    def prox(self, coef: np.ndarray, step: float) -> np.ndarray:
        # Soft-threshold for the L1 part, then shrink for the L2 part (they commute this way).
        shrunk = np.sign(coef) * np.maximum(np.abs(coef) - step * self.l1, 0.0)
        return shrunk / (1.0 + step * self.l2)

    def scaled(self, factor: float) -> ElasticNet:
        return ElasticNet(self.l1 * factor, self.l2 * factor)


def l2(strength: float) -> ElasticNet:
    """``0.5 * strength * ||coef||**2``."""
    return ElasticNet(0.0, float(strength))


def l1(strength: float) -> ElasticNet:
    """``strength * ||coef||_1``."""
    return ElasticNet(float(strength), 0.0)


def elastic_net(alpha: float, l1_ratio: float) -> ElasticNet:
    """scikit-learn's ``alpha * (l1_ratio * ||coef||_1 + 0.5 * (1 - l1_ratio) * ||coef||**2)``."""
    return ElasticNet(float(alpha) * float(l1_ratio), float(alpha) * (1.0 - float(l1_ratio)))


def no_penalty() -> ElasticNet:
    """The absent penalty."""
    return ElasticNet(0.0, 0.0)


#: scikit-learn's penalty names (``None``: no penalty).
PENALTY_NAMES: tuple[str | None, ...] = ("l2", "l1", "elasticnet", None)


def check_penalty_name(name: object) -> None:
    """Raise a ``ValueError`` unless ``name`` is one of ``PENALTY_NAMES``."""
    if name not in PENALTY_NAMES:
        raise ValueError(f"penalty must be one of {list(PENALTY_NAMES)}; got {name!r}.")


def from_name(name: str | None, strength: float, l1_ratio: float | None) -> ElasticNet:
    """scikit-learn's named penalty of the given strength: ``"l2"`` ``0.5 * s * ||w||**2``,
    ``"l1"`` ``s * ||w||_1``, ``"elasticnet"`` mixed by ``l1_ratio``, ``None`` nothing."""
    if name is None:
        return no_penalty()
    ratio = {"l2": 0.0, "l1": 1.0}.get(name, l1_ratio)
    assert ratio is not None, "l1_ratio is checked with the parameters"
    return elastic_net(strength, float(ratio))
