"""Multinomial log-loss (softmax regression) on K columns of eta."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daskgd.losses._base import PROB_FLOOR, BaseLoss, as_vector, check_n_classes


@dataclass(frozen=True)
class MultinomialLogLoss(BaseLoss):
    """``l(y, eta) = logsumexp(eta) - eta[y]`` for ``eta`` of shape (n, K); softmax link.

    Gradient ``softmax(eta) - onehot(y)``; Hessian ``diag(p) - p p^T`` per sample, with
    ``p = softmax(eta)``. The log-sum-exp is shifted by each row's maximum, so any ``eta``
    gives finite results. The loss is invariant to adding a constant to a row of ``eta``;
    :meth:`initial_eta` returns the symmetric (zero-mean) representative, like scikit-learn.
    """

    name = "multinomial"
    is_classifier = True
    eta_ndims = (2,)

    def n_outputs(self, n_classes: int) -> int:
        """One column per class."""
        check_n_classes(n_classes)
        return n_classes

    @staticmethod
    def _log_softmax_parts(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # shifted = eta - max (n, K), lse = log sum exp(shifted) (n,): log p = shifted - lse.
        shifted = eta - eta.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1))
        return shifted, lse

    @staticmethod
    def _codes(y: np.ndarray) -> np.ndarray:
        return y.astype(np.intp)

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        shifted, lse = self._log_softmax_parts(eta)
        return lse - shifted[np.arange(y.shape[0]), self._codes(y)]

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shifted, lse = self._log_softmax_parts(eta)
        rows, codes = np.arange(y.shape[0]), self._codes(y)
        loss = lse - shifted[rows, codes]
        shifted -= lse[:, None]
        grad = np.exp(shifted, out=shifted)  # softmax, reusing the (n, K) buffer
        grad[rows, codes] -= 1.0
        return loss, grad

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shifted, lse = self._log_softmax_parts(eta)
        shifted -= lse[:, None]
        p = np.exp(shifted, out=shifted)
        k = p.shape[1]
        hess = -p[:, :, None] * p[:, None, :]
        idx = np.arange(k)
        hess[:, idx, idx] += p
        p[np.arange(y.shape[0]), self._codes(y)] -= 1.0  # p becomes the gradient
        return p, hess

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """``log(freq) - mean(log(freq))``, shape (n_classes,).

        ``target_mean`` holds the weighted class frequencies; frequencies are clipped to
        ``PROB_FLOOR`` so that an absent class gets a very negative but finite start.
        """
        log_freq = np.log(np.clip(as_vector(target_mean), PROB_FLOOR, 1.0))
        return log_freq - log_freq.mean()

    def curvature(self, target_mean: np.ndarray) -> float:
        """0.5, a bound on the largest eigenvalue of ``diag(p) - p p^T``."""
        return 0.5
