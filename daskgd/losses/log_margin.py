"""Logistic loss in margin form, one-vs-rest (SGDClassifier(loss="log_loss"))."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logit

from daskgd.losses._base import PROB_FLOOR
from daskgd.losses._margin import MarginLoss


@dataclass(frozen=True)
class LogMarginLoss(MarginLoss):
    """``phi(z) = log(1 + exp(-z))``, the binary logistic loss of the margin ``z = t eta``.

    For a binary problem this equals :class:`BinomialLogLoss`; for K >= 3 classes it fits K
    independent one-vs-rest logistic models, as scikit-learn's SGDClassifier does (unlike the
    softmax of :class:`MultinomialLogLoss`). Evaluated with ``log_expit``/``expit``, exact in
    both tails.
    """

    name = "log_loss"

    def _phi(self, z: np.ndarray) -> np.ndarray:
        return -log_expit(z)

    def _phi_dphi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -log_expit(z), -expit(-z)

    def _dphi_d2phi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = expit(-z)
        return -q, expit(z) * q

    def _best_constant(self, p: np.ndarray) -> np.ndarray:
        # The log-odds of the positive class, clipped so an absent class stays finite.
        return logit(np.clip(p, PROB_FLOOR, 1.0 - PROB_FLOOR))

    def curvature(self, target_mean: np.ndarray) -> float:
        """0.25, the maximum of ``p (1 - p)``."""
        return 0.25
