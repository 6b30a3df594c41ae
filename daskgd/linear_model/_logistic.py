"""Logistic regression: binomial for two classes, multinomial (softmax) for more."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax

from daskgd._data import DataSummary
from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.linear_model._class_weight import check_class_weight, class_weight_factors
from daskgd.linear_model._docs import CLUSTER_NOTE, FITTED_DOC, SOLVER_DOC
from daskgd.linear_model._scoring import DaskClassifierMixin
from daskgd.losses import BinomialLogLoss, Loss, MultinomialLogLoss
from daskgd.penalties import ElasticNet, check_penalty_name, from_name, no_penalty


def _proba(z: np.ndarray) -> np.ndarray:
    """Class probabilities from decision values (n,) or (n, K); exact for any margin."""
    if z.ndim == 1:
        return np.column_stack([expit(-z), expit(z)])
    return softmax(z, axis=1)  # shifts by the row maximum: no overflow


def _log_proba(z: np.ndarray) -> np.ndarray:
    if z.ndim == 1:
        return np.column_stack([log_expit(-z), log_expit(z)])
    return log_softmax(z, axis=1)


def _labels(z: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The predicted label of each row: class 1 where ``z > 0`` (binary), else the argmax."""
    index = (z > 0).astype(np.intp) if z.ndim == 1 else np.argmax(z, axis=1)
    return classes[index]


def _lazy(func: Any, z: da.Array, n_classes: int) -> da.Array:
    """``func`` (probabilities) over the blocks of lazy decision values, (n, n_classes)."""
    if z.ndim == 2:
        return da.map_blocks(func, z, dtype=np.float64)
    return da.map_blocks(func, z, new_axis=1, chunks=(z.chunks[0], (n_classes,)),
                         dtype=np.float64)


class LogisticRegression(DaskClassifierMixin, LinearModelBase):
    __doc__ = f"""Logistic regression fitted on a dask cluster: binomial or multinomial.

    Minimises ``C * sum_i s_i * logloss_i + R(coef)`` with ``R`` = ``0.5 * ||coef||**2``
    (``"l2"``), ``||coef||_1`` (``"l1"``), ``l1_ratio * ||coef||_1 + 0.5 * (1 - l1_ratio) *
    ||coef||**2`` (``"elasticnet"``) or nothing (``None``, or ``C=inf``): the objective of
    :class:`sklearn.linear_model.LogisticRegression`; the intercept is not penalised. Two
    classes give the binomial model (``coef_`` of shape (1, n_features)); three or more the
    multinomial (softmax) model with ``coef_`` of shape (n_classes, n_features). Any labels
    work (strings, {{-1, 1}}, ...); ``classes_`` holds them sorted and ``predict`` returns them.

    Parameters
    ----------
    penalty : {{"l2", "l1", "elasticnet", None}}, default="l2"
    C : float, default=1.0
        Inverse regularisation strength (> 0; ``inf`` means no penalty).
    l1_ratio : float, default=None
        Share of the L1 part for ``penalty="elasticnet"``, in [0, 1].
    fit_intercept : bool, default=True
    class_weight : dict, "balanced" or None, default=None
        Multiplies each sample's weight by the weight of its class: ``{{label: weight}}``
        (missing labels weigh 1), or ``"balanced"``: ``S / (n_classes * S_k)`` with ``S_k``
        the total sample weight of class k, as scikit-learn.
{SOLVER_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
{FITTED_DOC.replace("n_iter_ : int", "n_iter_ : ndarray of shape (1,)")}
{CLUSTER_NOTE}
    """

    _classify = True

    def __init__(
        self, penalty: str | None = "l2", *, C: float = 1.0, l1_ratio: float | None = None,
        fit_intercept: bool = True, class_weight: dict | str | None = None,
        solver: str = "auto", max_iter: int = 100,
        tol: float = 1e-4, learning_rate: str | float = "auto", eta0: float = 0.01,
        power_t: float = 0.25, batch_size: int = 1024, local_steps: int = 1,
        warm_start: bool = False, random_state: Any = None, verbose: int = 0,
    ) -> None:
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.local_steps = local_steps
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> Any:
        check_penalty_name(self.penalty)
        _check_number(self.C, "C", low=0, strict=True, allow_inf=True)
        if self.C < np.finfo(np.float64).tiny:
            # The penalty is scaled by 1 / C: a subnormal C would make it infinite.
            raise ValueError(
                f"C must be at least {np.finfo(np.float64).tiny:.3g} (its inverse scales the "
                f"penalty and must be finite); got {self.C!r}."
            )
        if self.penalty in ("l2", "l1", None) and self.l1_ratio not in (None, 0, 0.0):
            # scikit-learn >= 1.8 reads l1_ratio alone; fitting another penalty silently would
            # be worse than asking.
            raise ValueError(
                f"l1_ratio={self.l1_ratio!r} is only used with penalty='elasticnet' (got "
                f"penalty={self.penalty!r}); for a pure L1 penalty use penalty='l1'."
            )
        if self.penalty == "elasticnet":
            if self.l1_ratio is None:
                raise ValueError("penalty='elasticnet' needs l1_ratio, a number in [0, 1].")
            _check_number(self.l1_ratio, "l1_ratio", low=0)
            if self.l1_ratio > 1:
                raise ValueError(f"l1_ratio must be in [0, 1]; got {self.l1_ratio!r}.")
        check_class_weight(self.class_weight)
        return super()._check_params()

    def _loss(self) -> Loss:
        return BinomialLogLoss()

    def _loss_for(self, n_classes: int) -> Loss:
        return BinomialLogLoss() if n_classes <= 2 else MultinomialLogLoss()

    def _penalty(self, weight_sum: float) -> ElasticNet:
        # C * sum_i s_i * l_i + R(coef), divided by C * S.
        if np.isinf(self.C):
            return no_penalty()
        penalty = from_name(self.penalty, 1.0, self.l1_ratio)
        # (1 / C) / S, not 1 / (C * S): C * S can underflow to 0 for a tiny C.
        return penalty.scaled(1.0 / float(self.C) / weight_sum)

    def _check_summary(self, summary: DataSummary) -> None:
        assert summary.classes is not None
        if summary.classes.size < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {summary.classes[0]!r}"
            )
        class_weight_factors(self.class_weight, summary)  # unknown labels fail here, early

    def _class_factors(self, summary: DataSummary) -> np.ndarray | None:
        return class_weight_factors(self.class_weight, summary)

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, callbacks: Any = None
    ) -> LogisticRegression:
        """Fit the model on a dask cluster.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
            Labels of any sortable type; at least two distinct ones.
        sample_weight : array-like or dask array of shape (n_samples,), default=None
        callbacks : callable, daskgd.callbacks.Callback or list of them, default=None
            Shown each iteration's record; one returning True stops the fit (see
            ``daskgd.callbacks``). ``verbose`` adds a progress bar and logging.

        Returns
        -------
        self
        """
        classes = self._fit(X, y, sample_weight, callbacks)
        assert classes is not None
        self.classes_ = classes
        if classes.size > 2:
            # The softmax is unchanged by adding a constant to every class's intercept (and,
            # unpenalised, a vector to every class's coefficients): report scikit-learn's
            # symmetric representative, whose intercepts (and coefficients) sum to zero.
            self.intercept_ = self.intercept_ - self.intercept_.mean()
            if self._penalty(1.0).is_zero:
                self.coef_ = self.coef_ - self.coef_.mean(axis=0)
        self.n_iter_ = np.array([self.n_iter_])  # type: ignore[assignment]
        return self

    def decision_function(self, X: Any) -> Any:
        """Decision values ``X @ coef_.T + intercept_``: (n_samples,) for two classes, else
        (n_samples, n_classes); lazy for dask input."""
        return self._linear_predictor(X)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        z = self.decision_function(X)
        if isinstance(z, da.Array):
            return _lazy(_proba, z, self.classes_.size)
        return _proba(z)

    def predict_log_proba(self, X: Any) -> Any:
        """Logarithm of ``predict_proba``, finite for any margin."""
        z = self.decision_function(X)
        if isinstance(z, da.Array):
            return _lazy(_log_proba, z, self.classes_.size)
        return _log_proba(z)

    def predict(self, X: Any) -> Any:
        """Predicted labels (from ``classes_``), shape (n_samples,); lazy for dask input."""
        z = self.decision_function(X)
        classes = self.classes_
        if isinstance(z, da.Array):
            return da.map_blocks(_labels, z, classes, drop_axis=1 if z.ndim == 2 else [],
                                 dtype=classes.dtype)
        return _labels(z, classes)


__all__ = ["LogisticRegression"]
