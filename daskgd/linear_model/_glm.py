"""Generalised linear models with a log link: PoissonRegressor."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from sklearn.utils import Tags

from daskgd._data import DataSummary
from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.linear_model._docs import CLUSTER_NOTE, FITTED_DOC, SOLVER_DOC
from daskgd.linear_model._scoring import DaskRegressorMixin, score_predictions
from daskgd.losses import HalfPoissonDeviance, Loss
from daskgd.penalties import ElasticNet, l2


class PoissonRegressor(DaskRegressorMixin, LinearModelBase):
    __doc__ = f"""Poisson regression (log link) fitted on a dask cluster.

    Minimises ``(1 / (2 * S)) * sum_i s_i * deviance(y_i, exp(x_i @ coef + intercept)) +
    0.5 * alpha * ||coef||**2`` with ``S`` the total sample weight: the objective of
    :class:`sklearn.linear_model.PoissonRegressor`. Targets must be >= 0 (counts, or rates
    with the exposure as ``sample_weight``). The intercept is not penalised.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty (>= 0).
    fit_intercept : bool, default=True
{SOLVER_DOC}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
{FITTED_DOC}
{CLUSTER_NOTE}
    """

    def __init__(
        self, *, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "auto",
        max_iter: int = 100, tol: float = 1e-4, learning_rate: str | float = "auto",
        eta0: float = 0.01, power_t: float = 0.25, batch_size: int = 1024,
        local_steps: int = 1, warm_start: bool = False, random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
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

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True  # counts or rates: y >= 0
        return tags

    def _check_params(self) -> Any:
        _check_number(self.alpha, "alpha", low=0)
        return super()._check_params()

    def _loss(self) -> Loss:
        return HalfPoissonDeviance()

    def _penalty(self, weight_sum: float) -> ElasticNet:
        return l2(float(self.alpha))

    def _check_summary(self, summary: DataSummary) -> None:
        if summary.y_min < 0:
            raise ValueError(
                f"y must be >= 0 for PoissonRegressor (counts or rates); its smallest value "
                f"is {summary.y_min!r}."
            )

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, callbacks: Any = None
    ) -> PoissonRegressor:
        """Fit the model on a dask cluster.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
            Non-negative targets.
        sample_weight : array-like or dask array of shape (n_samples,), default=None
        callbacks : callable, daskgd.callbacks.Callback or list of them, default=None
            Shown each iteration's record; one returning True stops the fit (see
            ``daskgd.callbacks``). ``verbose`` adds a progress bar and logging.

        Returns
        -------
        self
        """
        self._fit(X, y, sample_weight, callbacks)
        self.coef_ = self.coef_[0]
        self.intercept_ = self.intercept_[0]
        return self

    def predict(self, X: Any) -> Any:
        """Predicted means ``exp(X @ coef_ + intercept_)``, shape (n_samples,)."""
        eta = self._linear_predictor(X)
        return da.exp(eta) if isinstance(eta, da.Array) else np.exp(eta)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """D², the share of the Poisson deviance explained (scikit-learn's score)."""
        return score_predictions(
            self.predict, X, y, sample_weight, "d2_tweedie_score", power=1
        )


__all__ = ["PoissonRegressor"]
