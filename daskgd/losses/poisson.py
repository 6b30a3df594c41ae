"""Half Poisson deviance (Poisson regression with log link)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy

from daskgd.losses._base import PROB_FLOOR, BaseLoss, as_vector

#: Largest exponent evaluated. exp(700) ~ 1e304 is finite, so a diverging iterate gives a huge
#: but finite loss and gradient (a clear signal to a line search) instead of inf/nan.
ETA_MAX = 700.0


@dataclass(frozen=True)
class HalfPoissonDeviance(BaseLoss):
    """``l(y, eta) = exp(eta) - y * eta + y * log(y) - y`` for ``y >= 0``; log link.

    This is half the Poisson deviance of the mean ``mu = exp(eta)``: it is >= 0 and 0 exactly
    at ``mu = y`` (the term ``y * log(y)`` is taken as 0 at ``y = 0``). Gradient
    ``exp(eta) - y``, Hessian ``exp(eta)``.

    Notes
    -----
    ``exp(eta)`` is evaluated as ``exp(min(eta, ETA_MAX))`` with ``ETA_MAX = 700``, so the
    results stay finite without overflow warnings for any ``eta``. Below 700 this changes
    nothing; above it the values are those of a model diverged beyond any count data
    (mean > 1e304), and the loss remains far larger than at any sensible iterate.
    """

    name = "poisson"
    is_classifier = False

    def n_outputs(self, n_classes: int) -> int:
        """One column of ``eta`` (regressor)."""
        return 1

    @staticmethod
    def _mean(eta: np.ndarray) -> np.ndarray:
        return np.exp(np.minimum(eta, ETA_MAX))

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return self._mean(eta) - y * eta + (xlogy(y, y) - y)

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self._mean(eta)
        return mu - y * eta + (xlogy(y, y) - y), mu - y

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self._mean(eta)
        return mu - y, mu

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """``log(mean y)``, shape (1,); a zero mean is floored at ``PROB_FLOOR``."""
        return np.log(np.maximum(as_vector(target_mean, 1), PROB_FLOOR))

    def curvature(self, target_mean: np.ndarray) -> float:
        """``mean y`` (floored at 1e-12): the Hessian ``exp(eta)`` at the intercept-only fit.

        The Hessian is unbounded; this is its typical size near the solution.
        """
        return float(max(as_vector(target_mean, 1)[0], PROB_FLOOR))
