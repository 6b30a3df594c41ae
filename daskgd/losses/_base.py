"""The interface every loss implements, and the shared plumbing of the implementations.

A loss is a function ``l(y, eta)`` of one sample's target ``y`` and its linear predictor
``eta = x @ coef + intercept`` (one column of ``eta`` per output). The objective sums it over
the rows of a chunk on the workers; the solvers only ever see these sums.

Conventions
-----------
- ``y`` is float64 of shape (n,). Classifiers receive class codes ``0..K-1`` stored as floats.
- ``eta`` is (n,) when ``n_outputs == 1`` and (n, K) otherwise. It may be float32 (the data
  type of ``X``); the losses compute in float64 and always return float64.
- Every result is finite and computed without floating point warnings for any finite ``eta``,
  except where documented (Poisson caps its exponent). Underflow to zero is exact rounding, not
  an error, so it is silenced even when the caller runs under ``np.errstate(all="raise")``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

#: Floor for class frequencies and means whose logarithm is taken: keeps the initial predictor
#: finite (about -27.6 on the log scale) for classes or targets absent from the data.
PROB_FLOOR = 1e-12


@runtime_checkable
class Loss(Protocol):
    """A per-sample loss ``l(y, eta)`` of the linear predictor ``eta = X @ coef + intercept``.

    Implementations are small, stateless and picklable: they travel to the workers inside
    each task. Parameterised losses are frozen dataclasses, so equal parameters compare equal.

    Attributes
    ----------
    name : str
        scikit-learn's name of the loss ("squared_error", "log_loss", "hinge", ...).
    is_classifier : bool
        Whether ``y`` holds class codes ``0..K-1`` (as float64) rather than real targets.
    differentiable : bool
        False for the non-smooth losses (hinge, perceptron, epsilon-insensitive), whose
        ``loss_gradient`` returns a subgradient: usable by SGD only.
    twice_differentiable : bool
        Whether ``gradient_hessian`` is available (Newton-type solvers). Losses with a
        piecewise-constant second derivative (Huber, squared hinge, ...) count as True.
    """

    name: str
    is_classifier: bool
    differentiable: bool
    twice_differentiable: bool

    def n_outputs(self, n_classes: int) -> int:
        """Number of columns of ``eta`` for a problem with ``n_classes`` classes.

        Regressors are called with ``n_classes=0`` and return 1.
        """
        ...

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss, summed over the outputs; shape (n,)."""
        ...

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample loss (n,) and its derivative with respect to ``eta`` (eta's shape)."""
        ...

    def gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Derivative (eta's shape) and second derivative with respect to ``eta``.

        The Hessian has shape (n,) for 1-D ``eta`` and (n, K, K) for ``eta`` of shape (n, K).
        Raises NotImplementedError when ``twice_differentiable`` is False.
        """
        ...

    def initial_eta(self, target_mean: np.ndarray) -> np.ndarray:
        """The constant linear predictor minimising the weighted mean loss, shape (n_outputs,).

        ``target_mean`` is ``[weighted mean of y]`` for regressors and the weighted class
        frequencies, shape (n_classes,), for classifiers. Losses whose best constant depends on
        more than that return a sensible start instead.
        """
        ...

    def curvature(self, target_mean: np.ndarray) -> float:
        """An upper bound of the second derivative with respect to ``eta`` (step size 1/L).

        For losses with unbounded curvature, its typical size near the solution.
        """
        ...


class BaseLoss:
    """Shared plumbing: input checks, float64 casting, underflow silencing.

    Subclasses set the class attributes of :class:`Loss` and implement ``_loss``,
    ``_loss_gradient`` and (when twice differentiable) ``_gradient_hessian`` on checked
    float64 arrays, plus ``n_outputs``, ``initial_eta`` and ``curvature``.
    """

    name: str
    is_classifier: bool
    differentiable: bool = True
    twice_differentiable: bool = True
    #: The dimensions of ``eta`` the loss accepts: (1,) single output, (2,) multinomial.
    eta_ndims: tuple[int, ...] = (1,)

    def loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss summed over outputs.

        Parameters
        ----------
        y : ndarray of shape (n,)
            Targets, or class codes for classifiers.
        eta : ndarray of shape (n,) or (n, K)
            Linear predictor.

        Returns
        -------
        loss : ndarray of shape (n,), float64
        """
        y, eta = self._check(y, eta)
        with np.errstate(under="ignore"):
            return self._loss(y, eta)

    def loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample loss and its derivative with respect to ``eta``.

        Parameters
        ----------
        y : ndarray of shape (n,)
        eta : ndarray of shape (n,) or (n, K)

        Returns
        -------
        loss : ndarray of shape (n,), float64
        gradient : ndarray of eta's shape, float64
            A subgradient for the non-differentiable losses.
        """
        y, eta = self._check(y, eta)
        with np.errstate(under="ignore"):
            return self._loss_gradient(y, eta)

    def gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Derivative and second derivative with respect to ``eta``.

        Parameters
        ----------
        y : ndarray of shape (n,)
        eta : ndarray of shape (n,) or (n, K)

        Returns
        -------
        gradient : ndarray of eta's shape, float64
        hessian : ndarray of shape (n,) for 1-D eta, (n, K, K) for eta of shape (n, K)

        Raises
        ------
        NotImplementedError
            When the loss is not twice differentiable.
        """
        if not self.twice_differentiable:
            raise NotImplementedError(
                f"the {self.name!r} loss has no Hessian; use a first-order (SGD) solver"
            )
        y, eta = self._check(y, eta)
        with np.errstate(under="ignore"):
            return self._gradient_hessian(y, eta)

    # -- to implement -------------------------------------------------------------------------

    def _loss(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        return self._loss_gradient(y, eta)[0]

    def _loss_gradient(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _gradient_hessian(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------------

    def _check(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Copies only when the dtype differs (float32 eta): a few (n,)/(n, K) arrays at most.
        y = np.asarray(y, dtype=np.float64)
        eta = np.asarray(eta, dtype=np.float64)
        if eta.ndim not in self.eta_ndims:
            raise ValueError(
                f"the {self.name!r} loss takes eta with {' or '.join(map(str, self.eta_ndims))} "
                f"dimension(s), got shape {eta.shape}"
            )
        if y.ndim != 1 or y.shape[0] != eta.shape[0]:
            raise ValueError(f"y of shape {y.shape} does not match eta of shape {eta.shape}")
        return y, eta

    def __repr__(self) -> str:  # overridden by the dataclass repr of parameterised losses
        return f"{type(self).__name__}()"


def as_vector(target_mean: np.ndarray, size: int | None = None) -> np.ndarray:
    """``target_mean`` as a 1-D float64 array, checking its length when ``size`` is given."""
    target_mean = np.atleast_1d(np.asarray(target_mean, dtype=np.float64))
    if target_mean.ndim != 1 or (size is not None and target_mean.shape[0] != size):
        want = "1-D" if size is None else f"of shape ({size},)"
        raise ValueError(f"target_mean must be {want}, got shape {target_mean.shape}")
    return target_mean


def diagonal_hessian(diag: np.ndarray) -> np.ndarray:
    """Hessians of separable outputs: (n,) stays (n,); (n, K) becomes (n, K, K) diagonals."""
    if diag.ndim == 1:
        return diag
    n, k = diag.shape
    hess = np.zeros((n, k, k))
    idx = np.arange(k)
    hess[:, idx, idx] = diag
    return hess


def check_parameter(owner: object, name: str, value: float, *, minimum: float = 0.0) -> None:
    """Raise ValueError unless ``value`` is a finite real >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{type(owner).__name__}: {name} must be a real number, got {value!r}")
    if not (np.isfinite(value) and value >= minimum):
        raise ValueError(
            f"{type(owner).__name__}: {name} must be finite and >= {minimum}, got {value!r}"
        )


def check_n_classes(n_classes: int) -> None:
    """Raise ValueError for a classification problem with fewer than 2 classes."""
    if n_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {n_classes}")
