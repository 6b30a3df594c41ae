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
    #: Largest second derivative with respect to eta (sets default step sizes).
    curvature_bound = 0.25
    is_classifier = True

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, eta) - y * eta

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.logaddexp(0.0, eta) - y * eta, expit(eta) - y

    def hessian(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        p = expit(eta)
        return p * (1.0 - p)

    def initial_eta(self, y_mean: float) -> float:
        # The best constant is the logit of the class-1 frequency; clipped for one-sided data.
        p = min(max(float(y_mean), 1e-12), 1.0 - 1e-12)
        return float(np.log(p / (1.0 - p)))

    def __repr__(self) -> str:
        return "BinomialLogLoss()"
