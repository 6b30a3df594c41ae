"""Logistic regression (binary for now)."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import ClassifierMixin

from daskgd._data import DataSummary
from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.linear_model._linear import _CLUSTER_NOTE, _SOLVER_DOC
from daskgd.losses import BinomialLogLoss, Loss
from daskgd.penalties import ElasticNet, l2, no_penalty


def _binary_proba(z: np.ndarray) -> np.ndarray:
    """(n, 2) class probabilities from decision values, exact for any margin."""
    return np.column_stack([expit(-z), expit(z)])


def _labels(z: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The predicted label of each decision value (class 1 where ``z > 0``)."""
    return classes[(z > 0).astype(np.intp)]


def _binary_log_proba(z: np.ndarray) -> np.ndarray:
    return np.column_stack([log_expit(-z), log_expit(z)])


class LogisticRegression(ClassifierMixin, LinearModelBase):
    __doc__ = f"""Binary logistic regression fitted by a distributed gradient method.

    Minimises ``C * sum_i s_i * logloss_i + 0.5 * ||coef||**2`` (no penalty with
    ``penalty=None`` or ``C=inf``), the objective of
    :class:`sklearn.linear_model.LogisticRegression`; the intercept is not penalised. Any two
    labels work (strings, {{-1, 1}}, {{1, 2}}, ...); ``classes_`` holds them sorted and
    ``predict`` returns them. Three or more classes raise a ``ValueError`` until the
    multinomial model lands.

    Parameters
    ----------
    penalty : {{"l2", None}}, default="l2"
    C : float, default=1.0
        Inverse regularisation strength (> 0; ``inf`` means no penalty).
    fit_intercept : bool, default=True
{_SOLVER_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_iter_ : ndarray of shape (1,)
    history_, converged_, solver_, n_features_in_, feature_names_in_
        As for :class:`daskgd.LinearRegression`.
{_CLUSTER_NOTE}
    """

    _classify = True

    def __init__(
        self, penalty: str | None = "l2", *, C: float = 1.0, fit_intercept: bool = True,
        solver: str = "lbfgs", max_iter: int = 100, tol: float = 1e-4,
        learning_rate: str | float = "auto", eta0: float = 0.01, power_t: float = 0.25,
        batch_size: int = 1024, local_steps: int = 1, random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.batch_size = batch_size
        self.local_steps = local_steps
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> Any:
        if self.penalty not in ("l2", None):
            raise ValueError(
                f"penalty must be 'l2' or None; got {self.penalty!r} ('l1' and "
                "'elasticnet' are not available yet)."
            )
        _check_number(self.C, "C", low=0, strict=True, allow_inf=True)
        return super()._check_params()

    def _loss(self) -> Loss:
        return BinomialLogLoss()

    def _unpenalised(self) -> bool:
        return self.penalty is None or np.isinf(self.C)

    def _penalty(self, weight_sum: float) -> ElasticNet:
        # C * sum_i s_i * l_i + 0.5 * ||w||**2, divided by C * S.
        return no_penalty() if self._unpenalised() else l2(1.0 / (float(self.C) * weight_sum))

    def _check_summary(self, summary: DataSummary) -> None:
        assert summary.classes is not None
        n_classes = summary.classes.size
        if n_classes < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {summary.classes[0]!r}"
            )
        if n_classes > 2:
            raise ValueError(
                f"y has {n_classes} classes {list(summary.classes)}; LogisticRegression "
                "supports two classes so far (multinomial is planned)."
            )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit the model on a dask cluster.

        Parameters
        ----------
        X : array-like, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
            Two distinct labels of any sortable type.
        sample_weight : array-like or dask array of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        classes = self._fit(X, y, sample_weight)
        assert classes is not None
        self.classes_ = classes
        self.n_iter_ = np.array([self.n_iter_])  # type: ignore[assignment]
        return self

    def decision_function(self, X: Any) -> Any:
        """Decision values ``X @ coef_.T + intercept_``, shape (n_samples,); lazy for dask."""
        return super().decision_function(X)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, 2), columns in ``classes_`` order."""
        z = self.decision_function(X)
        if isinstance(z, da.Array):
            return da.map_blocks(_binary_proba, z, new_axis=1, chunks=(z.chunks[0], (2,)),
                                 dtype=np.float64)
        return _binary_proba(z)

    def predict_log_proba(self, X: Any) -> Any:
        """Logarithm of ``predict_proba``, finite for any margin; shape (n_samples, 2)."""
        z = self.decision_function(X)
        if isinstance(z, da.Array):
            return da.map_blocks(_binary_log_proba, z, new_axis=1,
                                 chunks=(z.chunks[0], (2,)), dtype=np.float64)
        return _binary_log_proba(z)

    def predict(self, X: Any) -> Any:
        """Predicted labels (from ``classes_``), shape (n_samples,); lazy for dask input."""
        z = self.decision_function(X)
        classes = self.classes_
        if isinstance(z, da.Array):
            return da.map_blocks(_labels, z, classes, dtype=classes.dtype)
        return _labels(z, classes)
