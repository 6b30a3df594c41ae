"""Binomial log-loss (binary logistic regression), exact for any margin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logit

from daskgd.losses._base import PROB_FLOOR, BaseLoss, as_vector, check_n_classes


@dataclass(frozen=True)
class BinomialLogLoss(BaseLoss):
    """``l(y, eta) = log(1 + exp(eta)) - y * eta`` for ``y`` in {0, 1}; logit link.

    ``eta`` is the log-odds of class 1. The loss is evaluated as
    ``-(y * log_expit(eta) + (1 - y) * log_expit(-eta))``, which equals the formula above for
    any ``y`` in [0, 1] and keeps full relative accuracy in both tails (where
    ``logaddexp(0, eta) - y * eta`` cancels to 0 or loses digits). Gradient ``expit(eta) - y``
    and Hessian ``expit(eta) * expit(-eta)`` are likewise tail-accurate.
    """

    name = "log_loss"
    is_classifier = True

    def n_outputs(self, n_classes: int) -> int:
        """One column (the log-odds of class 1); only binary problems are accepted."""
        check_n_classes(n_classes)
        if n_classes > 2:
            raise ValueError(
                f"BinomialLogLoss is binary, got {n_classes} classes; use MultinomialLogLoss "
                "or the one-vs-rest LogMarginLoss"
            )
        return 1

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return -(y * log_expit(eta) + (1.0 - y) * log_expit(-eta))

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p1, p0 = expit(eta), expit(-eta)
        # (1 - y) p1 - y p0 == p1 - y, without the cancellation of p1 - 1 when y = 1.
        grad = (1.0 - y) * p1 - y * p0
        return self._loss(y, eta), grad

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p1, p0 = expit(eta), expit(-eta)
        return (1.0 - y) * p1 - y * p0, p1 * p0

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The log-odds of the class-1 frequency, shape (1,).

        ``target_mean`` holds the two class frequencies; a frequency of 0 or 1 (one class
        only) is clipped to ``PROB_FLOOR`` to keep the start finite.
        """
        p1 = as_vector(target_mean, 2)[1]
        return np.array([logit(np.clip(p1, PROB_FLOOR, 1.0 - PROB_FLOOR))])

    def curvature(self, target_mean: np.ndarray) -> float:
        """0.25, the maximum of ``p (1 - p)``."""
        return 0.25
