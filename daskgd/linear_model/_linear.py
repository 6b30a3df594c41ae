"""Least squares with optional penalties: LinearRegression, Ridge, Lasso and ElasticNet."""

from __future__ import annotations

from typing import Any

from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.linear_model._docs import CLUSTER_NOTE, FITTED_DOC, SOLVER_DOC
from daskgd.linear_model._scoring import DaskRegressorMixin
from daskgd.losses import HalfSquaredError, Loss
from daskgd.penalties import ElasticNet as ElasticNetPenalty
from daskgd.penalties import elastic_net, l2

_ATTRIBUTES_DOC = f"""
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
{FITTED_DOC}"""


class _LeastSquares(DaskRegressorMixin, LinearModelBase):
    def _loss(self) -> Loss:
        return HalfSquaredError()

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, callbacks: Any = None
    ) -> _LeastSquares:
        """Fit the model on a dask cluster.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
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
        """Predicted targets, shape (n_samples,); a lazy dask array for dask input."""
        return self._linear_predictor(X)


class LinearRegression(_LeastSquares):
    __doc__ = f"""Ordinary least squares fitted on a dask cluster.

    Minimises ``0.5 * sum_i s_i * (y_i - x_i @ coef - intercept)**2`` (``s`` the sample
    weights), the objective of :class:`sklearn.linear_model.LinearRegression`. With
    collinear features every solver returns the minimum-norm solution scikit-learn gives
    (``"lstsq"`` through a pseudo-inverse; the gradient solvers, started at zero in a centred
    parametrisation, converge to it). Nothing is shrunk.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
{SOLVER_DOC}
{_ATTRIBUTES_DOC}
{CLUSTER_NOTE}
    """

    def __init__(
        self, *, fit_intercept: bool = True, solver: str = "auto", max_iter: int = 1000,
        tol: float = 1e-6, learning_rate: str | float = "auto", eta0: float = 0.01,
        power_t: float = 0.25, batch_size: int = 1024, local_steps: int = 1,
        warm_start: bool = False, random_state: Any = None, verbose: int = 0,
    ) -> None:
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


class Ridge(_LeastSquares):
    __doc__ = f"""Least squares with an L2 penalty, fitted on a dask cluster.

    Minimises ``0.5 * sum_i s_i * (y_i - x_i @ coef - intercept)**2 + 0.5 * alpha *
    ||coef||**2``: the same minimiser as :class:`sklearn.linear_model.Ridge` (which writes
    the objective without the factors 0.5). The intercept is not penalised. Scaling the
    sample weights and ``alpha`` together changes nothing.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty (>= 0).
    fit_intercept : bool, default=True
{SOLVER_DOC}
{_ATTRIBUTES_DOC}
{CLUSTER_NOTE}
    """

    def __init__(
        self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "auto",
        max_iter: int = 1000, tol: float = 1e-4, learning_rate: str | float = "auto",
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

    def _check_params(self) -> Any:
        _check_number(self.alpha, "alpha", low=0)
        return super()._check_params()

    def _penalty(self, weight_sum: float) -> ElasticNetPenalty:
        # 0.5 * sum_i s_i * l_i + 0.5 * alpha * ||w||**2, divided by the total weight S.
        return l2(float(self.alpha) / weight_sum)


class ElasticNet(_LeastSquares):
    __doc__ = f"""Least squares with an elastic-net penalty, fitted on a dask cluster.

    Minimises ``(1 / (2 * S)) * sum_i s_i * (y_i - x_i @ coef - intercept)**2 + alpha *
    (l1_ratio * ||coef||_1 + 0.5 * (1 - l1_ratio) * ||coef||**2)`` with ``S`` the total
    sample weight: the objective of :class:`sklearn.linear_model.ElasticNet` (which rescales
    the weights to sum to n_samples, the same thing). Scaling all weights by a constant
    changes nothing. The intercept is not penalised.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the penalty (>= 0).
    l1_ratio : float, default=0.5
        Share of the L1 part, in [0, 1] (1 is the lasso).
    fit_intercept : bool, default=True
{SOLVER_DOC}
{_ATTRIBUTES_DOC}
{CLUSTER_NOTE}
    """

    def __init__(
        self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
        solver: str = "auto", max_iter: int = 1000, tol: float = 1e-4,
        learning_rate: str | float = "auto", eta0: float = 0.01, power_t: float = 0.25,
        batch_size: int = 1024, local_steps: int = 1, warm_start: bool = False,
        random_state: Any = None, verbose: int = 0,
    ) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
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

    def _check_params(self) -> Any:
        _check_number(self.alpha, "alpha", low=0)
        _check_number(self.l1_ratio, "l1_ratio", low=0)
        if self.l1_ratio > 1:
            raise ValueError(f"l1_ratio must be in [0, 1]; got {self.l1_ratio!r}.")
        return super()._check_params()

    def _penalty(self, weight_sum: float) -> ElasticNetPenalty:
        return elastic_net(float(self.alpha), float(self.l1_ratio))


class Lasso(_LeastSquares):
    __doc__ = f"""Least squares with an L1 penalty (the lasso), fitted on a dask cluster.

    Minimises ``(1 / (2 * S)) * sum_i s_i * (y_i - x_i @ coef - intercept)**2 + alpha *
    ||coef||_1``, the objective of :class:`sklearn.linear_model.Lasso`: :class:`ElasticNet`
    with ``l1_ratio=1``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L1 penalty (>= 0).
    fit_intercept : bool, default=True
{SOLVER_DOC}
{_ATTRIBUTES_DOC}
{CLUSTER_NOTE}
    """

    def __init__(
        self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "auto",
        max_iter: int = 1000, tol: float = 1e-4, learning_rate: str | float = "auto",
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

    def _check_params(self) -> Any:
        _check_number(self.alpha, "alpha", low=0)
        return super()._check_params()

    def _penalty(self, weight_sum: float) -> ElasticNetPenalty:
        return elastic_net(float(self.alpha), 1.0)


__all__ = ["ElasticNet", "Lasso", "LinearRegression", "Ridge"]
