"""Binomial log-loss (logistic regression), written to be exact for any margin."""

from __future__ import annotations

import numpy as np
from scipy.special import expit


class BinomialLogLoss:
    """``l(y, eta) = log(1 + exp(eta)) - y * eta`` for ``y`` in {0, 1}; logit link.

    ``log(1 + exp(eta))`` is evaluated as ``logaddexp(0, eta)`` and the probability with
    ``expit``, so margins of any size give finite values without overflow warnings.
    """

    name = "log_loss"
    is_classifier = True
    differentiable = True
    twice_differentiable = True

    def n_outputs(self, n_classes: int) -> int:
        return 1

    def curvature(self, target_mean: np.ndarray) -> float:
        return 0.25

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, eta) - y * eta

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.logaddexp(0.0, eta) - y * eta, expit(eta) - y

    def gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = expit(eta)
        return p - y, p * (1.0 - p)

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        # The best constant is the logit of the class-1 frequency; clipped for one-sided data.
        p = min(max(float(target_mean[-1]), 1e-12), 1.0 - 1e-12)
        return np.array([np.log(p / (1.0 - p))])

    def __repr__(self) -> str:
        return "BinomialLogLoss()"
