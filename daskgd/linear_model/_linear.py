"""Least squares: LinearRegression and Ridge."""

from __future__ import annotations

from typing import Any

from sklearn.base import RegressorMixin

from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.losses import HalfSquaredError, Loss
from daskgd.penalties import ElasticNet, l2

_SOLVER_DOC = """
    solver : {"lbfgs", "gd", "sgd"}, default="lbfgs"
        ``"lbfgs"``: L-BFGS, one distributed loss-and-gradient pass per evaluation.
        ``"gd"``: full-batch gradient descent (line search, or a fixed ``learning_rate``).
        ``"sgd"``: distributed mini-batch / local SGD; ``max_iter`` then counts epochs.
    max_iter : int
        Maximum iterations (epochs for ``"sgd"``).
    tol : float
        Stop when the largest entry of the gradient of the mean-scaled objective is at most
        ``tol`` (``"sgd"``: when the epoch objective improves by less than ``tol`` for 5
        epochs).
    learning_rate : {"auto", "constant", "invscaling"} or float, default="auto"
        ``"gd"``: ``"auto"`` is an Armijo line search, ``"constant"`` a fixed step ``eta0``.
        ``"sgd"``: ``"auto"`` means ``"invscaling"`` (``eta0 / t**power_t``). A number is a
        constant step of that size.
    eta0 : float, default=0.01
        Initial (or constant) step size.
    power_t : float, default=0.25
        Exponent of the ``"invscaling"`` schedule.
    batch_size : int, default=1024
        ``"sgd"``: rows per mini-batch, over all chunks together.
    local_steps : int, default=1
        ``"sgd"``: SGD steps each chunk takes between model averages (local SGD if > 1).
    random_state : int, RandomState instance or None, default=None
        Seeds the SGD sampling (per chunk, so the result does not depend on placement).
    verbose : int, default=0
        Log each iteration to the ``"daskgd"`` logger.
"""

_CLUSTER_NOTE = """
    Notes
    -----
    ``fit`` runs on the active ``distributed.Client`` (the most recently created one). With no
    active client, a ``LocalCluster`` of worker processes is started for the fit, logged to the
    ``"daskgd"`` logger, and closed when the fit ends; create a ``Client`` first to reuse one
    cluster across fits. A client daskgd did not create is never closed.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Iterations (epochs for ``"sgd"``) run.
    history_ : list of dict
        One record per iteration: ``iteration``, ``objective`` (of the mean-scaled
        objective), ``grad_norm``, ``step``, ``elapsed`` (seconds), ``passes`` (over X).
        ``pandas.DataFrame(model.history_)`` tabulates it.
    converged_ : bool
    solver_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X had string column names.
"""


class _LeastSquares(RegressorMixin, LinearModelBase):
    def _loss(self) -> Loss:
        return HalfSquaredError()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _LeastSquares:
        """Fit the model on a dask cluster.

        Parameters
        ----------
        X : array-like, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
        sample_weight : array-like or dask array of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._fit(X, y, sample_weight)
        self.coef_ = self.coef_[0]
        self.intercept_ = self.intercept_[0]
        return self

    def predict(self, X: Any) -> Any:
        """Predicted targets, shape (n_samples,); a lazy dask array for dask input."""
        return self.decision_function(X)


class LinearRegression(_LeastSquares):
    __doc__ = f"""Ordinary least squares fitted by a distributed gradient method.

    Minimises ``0.5 * sum_i s_i * (y_i - x_i @ coef - intercept)**2`` (``s`` the sample
    weights), the objective of :class:`sklearn.linear_model.LinearRegression`. With
    collinear features the gradient solvers, started at zero in a centred
    parametrisation, reach the minimum-norm solution scikit-learn returns.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
{_SOLVER_DOC}
{_ATTRIBUTES_DOC}
{_CLUSTER_NOTE}
    """

    def __init__(
        self, *, fit_intercept: bool = True, solver: str = "lbfgs", max_iter: int = 1000,
        tol: float = 1e-6, learning_rate: str | float = "auto", eta0: float = 0.01,
        power_t: float = 0.25, batch_size: int = 1024, local_steps: int = 1,
        random_state: Any = None, verbose: int = 0,
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
        self.random_state = random_state
        self.verbose = verbose


class Ridge(_LeastSquares):
    __doc__ = f"""Least squares with an L2 penalty, fitted by a distributed gradient method.

    Minimises ``0.5 * sum_i s_i * (y_i - x_i @ coef - intercept)**2 + 0.5 * alpha *
    ||coef||**2``: the same minimiser as :class:`sklearn.linear_model.Ridge` (which writes
    the objective without the factors 0.5). The intercept is not penalised.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the L2 penalty (>= 0).
    fit_intercept : bool, default=True
{_SOLVER_DOC}
{_ATTRIBUTES_DOC}
{_CLUSTER_NOTE}
    """

    def __init__(
        self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "lbfgs",
        max_iter: int = 1000, tol: float = 1e-4, learning_rate: str | float = "auto",
        eta0: float = 0.01, power_t: float = 0.25, batch_size: int = 1024,
        local_steps: int = 1, random_state: Any = None, verbose: int = 0,
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
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> Any:
        _check_number(self.alpha, "alpha", low=0)
        return super()._check_params()

    def _penalty(self, weight_sum: float) -> ElasticNet:
        # 0.5 * sum_i s_i * l_i + 0.5 * alpha * ||w||**2, divided by the total weight S.
        return l2(float(self.alpha) / weight_sum)


__all__ = ["LinearRegression", "Ridge"]
