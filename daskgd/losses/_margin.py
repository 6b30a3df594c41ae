"""One-vs-rest margin losses: a function of ``z = t * eta`` with targets ``t`` in {-1, +1}."""

from __future__ import annotations

import numpy as np

from daskgd.losses._base import BaseLoss, as_vector, check_n_classes, diagonal_hessian


class MarginLoss(BaseLoss):
    """A classifier loss ``phi(t * eta)`` with one-vs-rest semantics (scikit-learn's SGD).

    For 1-D ``eta`` (binary, ``y`` in {0, 1}) the target is ``t = 2 y - 1``. For ``eta`` of
    shape (n, K) (K >= 3 classes) output ``k`` sees ``t_k = +1`` if ``y == k`` else ``-1``,
    and the loss is summed over the K outputs; the outputs are independent, so the Hessian is
    diagonal (still returned as (n, K, K)).

    Subclasses implement ``_phi``, ``_phi_dphi``, ``_dphi_d2phi`` (functions of the margin
    ``z``, elementwise) and ``_best_constant`` (the minimiser over ``c`` of
    ``p phi(c) + (1 - p) phi(-c)``, elementwise in the positive frequency ``p``).
    """

    is_classifier = True
    eta_ndims = (1, 2)

    def n_outputs(self, n_classes: int) -> int:
        """1 for a binary problem, one column per class (one-vs-rest) otherwise."""
        check_n_classes(n_classes)
        return 1 if n_classes == 2 else n_classes

    # -- elementwise functions of the margin, to implement ------------------------------------

    def _phi(self, z: np.ndarray) -> np.ndarray:
        return self._phi_dphi(z)[0]

    def _phi_dphi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _dphi_d2phi(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _best_constant(self, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- the Loss interface on top of them ----------------------------------------------------

    @staticmethod
    def _signs(y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        if eta.ndim == 1:
            return 2.0 * y - 1.0
        return np.where(y[:, None] == np.arange(eta.shape[1]), 1.0, -1.0)

    @staticmethod
    def _sum_outputs(values: np.ndarray) -> np.ndarray:
        return values if values.ndim == 1 else values.sum(axis=1)

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return self._sum_outputs(self._phi(self._signs(y, eta) * eta))

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        signs = self._signs(y, eta)
        phi, dphi = self._phi_dphi(signs * eta)
        dphi *= signs  # d phi(t eta) / d eta = t phi'(z)
        return self._sum_outputs(phi), dphi

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        signs = self._signs(y, eta)
        dphi, d2phi = self._dphi_d2phi(signs * eta)
        dphi *= signs
        return dphi, diagonal_hessian(d2phi)  # t**2 = 1

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The best constant per output, shape (1,) for 2 classes and (K,) for K >= 3.

        ``target_mean`` holds the weighted class frequencies; each output's constant depends
        only on the frequency of its positive class.
        """
        freq = as_vector(target_mean)
        if freq.shape[0] < 2:
            raise ValueError(f"target_mean must hold >= 2 class frequencies, got {freq.shape}")
        positive = freq[1:] if freq.shape[0] == 2 else freq
        return np.asarray(self._best_constant(np.clip(positive, 0.0, 1.0)), dtype=np.float64)
