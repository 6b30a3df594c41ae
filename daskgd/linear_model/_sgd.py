"""SGDRegressor and SGDClassifier: scikit-learn's SGD family, trained by distributed SGD."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dask.array as da
import numpy as np
from scipy.special import expit, log_expit, logsumexp
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from daskgd._data import DataSummary
from daskgd.linear_model._base import LinearModelBase, _check_number
from daskgd.linear_model._class_weight import check_class_weight, class_weight_factors
from daskgd.linear_model._docs import CLUSTER_NOTE
from daskgd.linear_model._logistic import _labels, _lazy
from daskgd.linear_model._scoring import DaskClassifierMixin, DaskRegressorMixin
from daskgd.losses import Loss, get_loss
from daskgd.objective import Objective
from daskgd.penalties import ElasticNet, check_penalty_name, from_name
from daskgd.solvers import Solver, SolverOptions, SolverResult
from daskgd.solvers.sgd import SCHEDULES, SGDResult, SGDState

REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
CLASSIFICATION_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron")
ROW_PLACEMENTS = ("contiguous", "shuffled")
_EPSILON_LOSSES = ("huber", "epsilon_insensitive", "squared_epsilon_insensitive")

_PARAMS_DOC = """    penalty : {{"l2", "l1", "elasticnet", None}}, default="l2"
        ``R(coef)``: ``0.5 * ||coef||**2``, ``||coef||_1``, or ``l1_ratio * ||coef||_1 +
        0.5 * (1 - l1_ratio) * ||coef||**2``. Applied by its proximal map after each step, so
        L1 gives exact zeros. The intercept is not penalised.
    alpha : float, default=0.0001
        Strength of the penalty (>= 0); also sets the ``"optimal"`` schedule (then > 0).
    l1_ratio : float or None, default=0.15
        L1 share of the ``"elasticnet"`` penalty, in [0, 1].
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training rows) of ``fit``.
    tol : float or None, default=1e-3
        Stop when the epoch objective (mean loss before each step plus the penalty) has not
        improved on its best by ``tol`` for ``n_iter_no_change`` epochs in a row, or, with
        ``early_stopping``, the validation score. None: run ``max_iter`` epochs.
    shuffle : bool, default=True
        Visit the rows in a new pseudorandom order every epoch (seeded by ``random_state``
        and the step counter, the same however the data are chunked or placed). False: in
        their order, chunk after chunk.
{epsilon}    random_state : int, RandomState instance or None, default=None
        Seeds the row order, the validation split and ``row_placement="shuffled"``.
    learning_rate : {{"constant", "optimal", "invscaling", "adaptive", "auto"}}, \
default="{learning_rate}"
        The step schedule; ``t`` counts mini-batch steps, and the per-sample rates below are
        scikit-learn's. A step over ``b`` rows (``b`` the mean rows per step) takes ``b``
        times the per-sample rate of its first sample ``s = b * (t - 1) + 1`` (the sum of
        the rates of the samples it stands for), capped at ``1 / L`` with ``L`` a smoothness
        bound of the objective estimated from the data, so no schedule diverges.
        ``"constant"``: ``eta0``. ``"optimal"``: ``1 / (alpha * (t0 + s - 1))``, with
        scikit-learn's ``t0`` heuristic. ``"invscaling"``: ``eta0 / s**power_t``.
        ``"adaptive"``: ``eta0``, divided by 5 each time ``n_iter_no_change`` epochs pass
        without improvement by ``tol`` (fitting stops once the per-sample rate is below
        1e-6). ``"auto"``: ``1 / (L * sqrt(epoch))``.
    eta0 : float, default=0.01
        Per-sample rate of ``"constant"``, ``"invscaling"`` and ``"adaptive"`` (> 0).
    power_t : float, default={power_t}
        Exponent of ``"invscaling"`` (>= 0).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the positive-weight rows (a pseudorandom choice
        seeded by ``random_state``, independent of chunking and placement), never train on
        them, score them after each epoch ({score}, weighted; one extra round of tasks) and
        stop by ``tol`` and ``n_iter_no_change`` on that score. The last model is kept.
    validation_fraction : float, default=0.1
        In (0, 1).
    n_iter_no_change : int, default=5
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_`` and ``intercept_``.
    average : bool or int, default=False
        Report the average of the iterates (averaged SGD) from step ``average`` on
        (``True``: from the first). Training continues from the last iterate.
    batch_size : int, default=256
        Rows per mini-batch step, over all chunks together.
    local_steps : int, default=1
        Steps each chunk takes on its own rows between model averages. 1: every step is a
        synchronous mini-batch step (one round of tasks per step). ``k > 1``: local SGD,
        ``k`` times fewer rounds; the result then depends on the chunking.
    row_placement : {{"contiguous", "shuffled"}}, default="contiguous"
        Which rows each chunk (and so each worker) holds. ``"contiguous"``: the input's own
        row blocks (NumPy input is cut in order); nothing is moved. ``"shuffled"``: each
        row goes to a chunk by a permutation seeded by ``random_state``, the same for any
        container and chunking of the same rows, once before training; with
        ``shuffle=False`` the rows are then visited in that fixed random order. Use
        ``"shuffled"`` for rows sorted (by label or target) or grouped by source: with
        ``shuffle=False`` each round would otherwise take its rows from one or two chunks
        of one class or source, and with ``local_steps > 1`` each chunk would take its
        local steps on one class (the default ``shuffle=True`` draws every round from
        every chunk, which hides most of this, but the epoch objective that ``tol``
        watches is then measured on the chunks' local models and can read too low). Keep
        ``"contiguous"`` when the row order is meant (time-ordered data with
        ``shuffle=False``), when the rows are already mixed, and when the data are too
        large to move. The cost, once per fit: a permuted copy of X on the driver (NumPy
        input), or one all-to-all exchange of the rows between the workers, about one
        pass over X plus the network transfer, with the permutation on the driver (8
        bytes a row, about 40 while the exchange is planned) (dask input). See "Row
        placement for SGD" in docs/architecture.md.
    verbose : int, default=0
        0: silent; 1: a progress bar of the epochs (``daskgd.callbacks.ProgressBar``);
        2: also log each epoch to the ``"daskgd"`` logger (``LogIterations``).
"""

_FITTED_DOC = """    n_iter_ : int
        Epochs run by the last ``fit`` (1 for ``partial_fit``).
    t_ : int
        Mini-batch steps taken by the last ``fit`` and the ``partial_fit`` calls since
        (scikit-learn's ``t_`` counts samples).
    history_ : list of dict
        One record per epoch: ``iteration``, ``objective``, ``step`` (rate of its first
        step), ``steps`` (``t`` at its end), ``validation_score`` (with early stopping),
        ``elapsed``, ``passes``.
    converged_ : bool
    stop_reason_ : str or None
        Which callback stopped the last fit early, and after which epoch; None otherwise.
    fit_time_ : float
        Seconds the last fit took, placement included.
    solver_ : str
        ``"sgd"``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Only when X had string column names.
"""

_NOTES = """
    Distributed SGD differs from scikit-learn's one-sample-at-a-time SGD in ways the
    estimator keeps small: steps are over mini-batches, scaled as above; the objective is
    weight-normalised (``sum_i s_i * loss_i / sum_i s_i``), so rows of zero weight are as
    if removed (they are never sampled and do not count as steps) and scaling all weights
    changes nothing; the intercept starts at the best constant rather than 0; the held-out
    rows of ``early_stopping`` are a uniform, not stratified, draw (they count in the column
    means and the starting intercept, never in a step). With ``local_steps=1``
    the fit does not depend on how the rows are chunked or where chunks live (up to
    rounding in the sums), with either ``row_placement``.
"""


class _BaseSGD(LinearModelBase):
    """What SGDRegressor and SGDClassifier share: parameters, fitting and partial fitting."""

    #: The solver is fixed (a class attribute, not a parameter).
    solver = "sgd"
    _losses: tuple[str, ...] = ()

    def __init__(
        self, loss: str, *, penalty: str | None, alpha: float, l1_ratio: float | None,
        fit_intercept: bool, max_iter: int, tol: float | None, shuffle: bool,
        random_state: Any, learning_rate: str, eta0: float, power_t: float,
        early_stopping: bool, validation_fraction: float, n_iter_no_change: int,
        warm_start: bool, average: bool | int, batch_size: int, local_steps: int,
        row_placement: str, verbose: int,
    ) -> None:
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.average = average
        self.batch_size = batch_size
        self.local_steps = local_steps
        self.row_placement = row_placement
        self.verbose = verbose

    # ---------------------------------------------------------------- parameters

    def _check_params(self) -> SolverOptions:
        if self.loss not in self._losses:
            raise ValueError(f"loss must be one of {list(self._losses)}; got {self.loss!r}.")
        check_penalty_name(self.penalty)
        _check_number(self.alpha, "alpha", low=0)
        if self.penalty == "elasticnet" or self.l1_ratio is not None:
            _check_number(self.l1_ratio, "l1_ratio", low=0)
            if self.l1_ratio > 1:  # type: ignore[operator]
                raise ValueError(f"l1_ratio must be in [0, 1]; got {self.l1_ratio!r}.")
        for name in ("fit_intercept", "shuffle", "early_stopping", "warm_start"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}.")
        _check_number(self.max_iter, "max_iter", low=1, integer=True)
        if self.tol is not None:
            _check_number(self.tol, "tol", low=0)
        if self.learning_rate not in SCHEDULES:
            raise ValueError(
                f"learning_rate must be one of {list(SCHEDULES)}; got {self.learning_rate!r}."
            )
        if self.learning_rate == "optimal" and not self.alpha > 0:
            raise ValueError("alpha must be > 0 since learning_rate is 'optimal': alpha is "
                             "used to compute the optimal learning rate.")
        _check_number(self.eta0, "eta0", low=0, strict=True)
        _check_number(self.power_t, "power_t", low=0)
        _check_number(self.validation_fraction, "validation_fraction", low=0, strict=True)
        if self.validation_fraction >= 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1); got {self.validation_fraction!r}."
            )
        _check_number(self.n_iter_no_change, "n_iter_no_change", low=1, integer=True)
        average = self.average
        if not isinstance(average, bool | np.bool_):
            _check_number(average, "average", low=0, integer=True)
        _check_number(self.batch_size, "batch_size", low=1, integer=True)
        _check_number(self.local_steps, "local_steps", low=1, integer=True)
        if not isinstance(self.row_placement, str) or self.row_placement not in ROW_PLACEMENTS:
            raise ValueError(
                f"row_placement must be one of {list(ROW_PLACEMENTS)}; "
                f"got {self.row_placement!r}."
            )
        _check_number(self.verbose, "verbose", low=0, integer=True)
        partial = self._partial_call
        if partial and self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit.")
        self._loss()  # the loss's own parameters (epsilon)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return SolverOptions(
            max_iter=1 if partial else int(self.max_iter),
            tol=None if partial or self.tol is None else float(self.tol),
            learning_rate=self.learning_rate, eta0=float(self.eta0),
            power_t=float(self.power_t), batch_size=int(self.batch_size),
            local_steps=int(self.local_steps), n_iter_no_change=int(self.n_iter_no_change),
            seed=seed, verbose=int(self.verbose), alpha=float(self.alpha), sample_rates=True,
            shuffle=bool(self.shuffle), average=int(average),
            early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction),
        )

    # ---------------------------------------------------------------- hooks

    # Set for the duration of one call (``_call``): partial_fit or fit, fit's coef_init /
    # intercept_init, partial_fit's fixed classes.
    _partial_call = False
    _init: tuple[np.ndarray | None, np.ndarray | None] | None = None
    _fixed_classes: np.ndarray | None = None

    def _loss(self) -> Loss:
        if self.loss in _EPSILON_LOSSES:
            return get_loss(self.loss, epsilon=float(self.epsilon))
        return get_loss(self.loss)

    def _shuffle_seed(self, options: SolverOptions) -> int | None:
        return options.seed if self.row_placement == "shuffled" else None

    def _penalty(self, weight_sum: float) -> ElasticNet:
        # scikit-learn's SGD objective is already on the mean-loss scale.
        return from_name(self.penalty, float(self.alpha), self.l1_ratio)

    def _warm_start_params(self, n_features: int) -> tuple[np.ndarray, np.ndarray] | None:
        if self._init is not None:
            return _initial_model(*self._init, n_features)
        if not self._partial_call:
            return super()._warm_start_params(n_features)
        if not hasattr(self, "_standard_coef"):
            return None
        if self._standard_coef.shape[1] != n_features:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self._standard_coef.shape[1]} features as input."
            )
        return self._standard_coef, self._standard_intercept

    def _solve(
        self, solver: Solver, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        if self._init is not None and self._init[0] is not None and (
            self._init[0].shape[0] != objective.n_outputs
        ):
            raise ValueError(
                f"coef_init has {self._init[0].shape[0]} row(s) but the model has "
                f"{objective.n_outputs} output(s) (1 for two classes, else one per class)."
            )
        state = SGDState()
        # fit starts counting steps afresh (as scikit-learn); partial_fit continues.
        previous = getattr(self, "_sgd_state", None) if self._partial_call else None
        if previous is not None:
            t, average, n_averaged = previous
            state = SGDState(
                t, None if average is None else objective.theta_from(*average), n_averaged
            )
        result = solver.solve(objective, theta0, options, state=state)  # type: ignore[call-arg]
        assert isinstance(result, SGDResult) and result.standard is not None
        # Plain numpy state, to continue from in partial_fit (and to save with the model).
        self._standard_coef, self._standard_intercept = objective.split(result.standard)
        average = result.state.average
        self._sgd_state = (
            result.state.t, None if average is None else objective.split(average),
            result.state.n_averaged,
        )
        self.t_ = result.state.t
        return result

    @contextlib.contextmanager
    def _call(self, *, partial: bool, init: Any = None, classes: Any = None) -> Iterator[None]:
        """Settings of one ``fit`` / ``partial_fit`` call, for the hooks ``_fit`` runs."""
        self._partial_call, self._init, self._fixed_classes = partial, init, classes
        try:
            yield
        finally:
            del self._partial_call, self._init, self._fixed_classes


_REGRESSOR_DOC = f"""Linear model fitted by minimising a regularised loss with distributed SGD.

    The objective of :class:`sklearn.linear_model.SGDRegressor`:
    ``(1 / S) * sum_i s_i * loss(y_i, x_i @ coef + intercept) + alpha * R(coef)`` with
    sample weights ``s`` (total ``S``). Each round of tasks takes one mini-batch step on
    rows drawn from every chunk (see ``learning_rate``, ``batch_size`` and
    ``local_steps``).

    Parameters
    ----------
    loss : {{"squared_error", "huber", "epsilon_insensitive", \
"squared_epsilon_insensitive"}}, default="squared_error"
        ``0.5 * r**2``; Huber (quadratic for ``|r| <= epsilon``, then linear);
        ``max(0, |r| - epsilon)`` (linear SVR); its square; ``r = y - prediction``.
{_PARAMS_DOC.format(
    epsilon='''    epsilon : float, default=0.1
        The ``epsilon`` of the Huber and epsilon-insensitive losses (>= 0).
''', learning_rate="invscaling", power_t=0.25, score="R²")}
    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : ndarray of shape (1,)
{_FITTED_DOC}
    Notes
    -----{_NOTES}{CLUSTER_NOTE.split("-----", 1)[1]}
    """


class SGDRegressor(DaskRegressorMixin, _BaseSGD):
    __doc__ = _REGRESSOR_DOC
    _losses = REGRESSION_LOSSES

    def __init__(
        self, loss: str = "squared_error", *, penalty: str | None = "l2", alpha: float = 0.0001,
        l1_ratio: float | None = 0.15, fit_intercept: bool = True, max_iter: int = 1000,
        tol: float | None = 1e-3, shuffle: bool = True, epsilon: float = 0.1,
        random_state: Any = None, learning_rate: str = "invscaling", eta0: float = 0.01,
        power_t: float = 0.25, early_stopping: bool = False, validation_fraction: float = 0.1,
        n_iter_no_change: int = 5, warm_start: bool = False, average: bool | int = False,
        batch_size: int = 256, local_steps: int = 1, row_placement: str = "contiguous",
        verbose: int = 0,
    ) -> None:
        super().__init__(
            loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
            max_iter=max_iter, tol=tol, shuffle=shuffle, random_state=random_state,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, warm_start=warm_start, average=average,
            batch_size=batch_size, local_steps=local_steps, row_placement=row_placement,
            verbose=verbose,
        )
        self.epsilon = epsilon

    def _check_params(self) -> SolverOptions:
        _check_number(self.epsilon, "epsilon", low=0)
        return super()._check_params()

    def fit(
        self, X: Any, y: Any, coef_init: Any = None, intercept_init: Any = None,
        sample_weight: Any = None, *, callbacks: Any = None,
    ) -> SGDRegressor:
        """Fit the model on a dask cluster, for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
        coef_init : array-like of shape (n_features,), default=None
            Starting coefficients (default: zeros, or the previous ones with ``warm_start``).
        intercept_init : array-like of shape (1,), default=None
            Starting intercept (default: the best constant).
        sample_weight : array-like or dask array of shape (n_samples,), default=None
        callbacks : callable, daskgd.callbacks.Callback or list of them, default=None
            Shown each iteration's record; one returning True stops the fit (see
            ``daskgd.callbacks``). ``verbose`` adds a progress bar and logging.

        Returns
        -------
        self
        """
        with self._call(partial=False, init=_check_init(coef_init, intercept_init)):
            self._fit(X, y, sample_weight, callbacks)
        self.coef_ = self.coef_[0]
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """One epoch over ``(X, y)``, continuing from the current model and step counter.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
        sample_weight : array-like or dask array of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        with self._call(partial=True):
            self._fit(X, y, sample_weight)
        self.coef_ = self.coef_[0]
        return self

    def predict(self, X: Any) -> Any:
        """Predicted targets, shape (n_samples,); a lazy dask array for dask input."""
        return self._linear_predictor(X)


def _check_init(coef: Any, intercept: Any) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    if coef is None and intercept is None:
        return None
    return (
        None if coef is None else np.atleast_2d(np.asarray(coef, dtype=np.float64)),
        None if intercept is None else np.ravel(np.asarray(intercept, dtype=np.float64)),
    )


def _initial_model(
    coef: np.ndarray | None, intercept: np.ndarray | None, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(coef (K, d), intercept (K,))`` from ``coef_init`` / ``intercept_init``."""
    if coef is None:
        raise ValueError("intercept_init needs coef_init as well.")
    if coef.ndim != 2 or coef.shape[1] != n_features:
        raise ValueError(f"coef_init has shape {coef.shape} but X has {n_features} features.")
    K = coef.shape[0]
    if intercept is None:
        intercept = np.zeros(K)
    if intercept.shape != (K,):
        raise ValueError(f"intercept_init must have shape ({K},); got {intercept.shape}.")
    return coef, intercept


class SGDClassifier(DaskClassifierMixin, _BaseSGD):
    __doc__ = f"""Linear classifier (SVM, logistic regression, ...) fitted by distributed SGD.

    The objective of :class:`sklearn.linear_model.SGDClassifier`:
    ``(1 / S) * sum_i s_i * loss(t_i * (x_i @ coef + intercept)) + alpha * R(coef)`` with
    ``t_i = +1`` for the positive class and ``-1`` otherwise. Two classes give one model
    (``coef_`` of shape (1, n_features)); K >= 3 classes K one-vs-rest models fitted
    together (``coef_`` of shape (K, n_features)), each row of the mini-batch serving all K.

    Parameters
    ----------
    loss : {{"hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"}}, \
default="hinge"
        Linear SVM; logistic regression (``predict_proba``); the smoothed hinge
        ``modified_huber`` (``predict_proba``); the squared hinge; the perceptron.
    class_weight : dict, "balanced" or None, default=None
        Multiplies each sample's weight by the weight of its class, as in
        :class:`daskgd.LogisticRegression` (``"balanced"`` is not for ``partial_fit``).
{_PARAMS_DOC.format(epsilon="", learning_rate="optimal", power_t=0.5, score="accuracy")}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
{_FITTED_DOC}
    Notes
    -----{_NOTES}{CLUSTER_NOTE.split("-----", 1)[1]}
    """

    _classify = True
    _losses = CLASSIFICATION_LOSSES

    def __init__(
        self, loss: str = "hinge", *, penalty: str | None = "l2", alpha: float = 0.0001,
        l1_ratio: float | None = 0.15, fit_intercept: bool = True, max_iter: int = 1000,
        tol: float | None = 1e-3, shuffle: bool = True, random_state: Any = None,
        learning_rate: str = "optimal", eta0: float = 0.01, power_t: float = 0.5,
        early_stopping: bool = False, validation_fraction: float = 0.1,
        n_iter_no_change: int = 5, class_weight: dict | str | None = None,
        warm_start: bool = False, average: bool | int = False,
        batch_size: int = 256, local_steps: int = 1, row_placement: str = "contiguous",
        verbose: int = 0,
    ) -> None:
        super().__init__(
            loss, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
            max_iter=max_iter, tol=tol, shuffle=shuffle, random_state=random_state,
            learning_rate=learning_rate, eta0=eta0, power_t=power_t,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, warm_start=warm_start, average=average,
            batch_size=batch_size, local_steps=local_steps, row_placement=row_placement,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def _check_params(self) -> SolverOptions:
        check_class_weight(self.class_weight)
        return super()._check_params()

    def _class_factors(self, summary: DataSummary) -> np.ndarray | None:
        return class_weight_factors(self.class_weight, summary)

    def _check_summary(self, summary: DataSummary) -> None:
        assert summary.classes is not None and summary.class_weights is not None
        fixed = self._fixed_classes
        if fixed is not None and isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the whole data set and cannot be used with "
                "partial_fit; pass a dict of class weights instead."
            )
        if fixed is None:
            if summary.classes.size < 2:
                raise ValueError(
                    "The number of classes has to be greater than one; got 1 class: "
                    f"{summary.classes[0]!r}"
                )
            class_weight_factors(self.class_weight, summary)  # unknown labels fail early
            return
        unknown = summary.classes[~np.isin(summary.classes, fixed)]
        if unknown.size:
            raise ValueError(
                f"y contains labels not in classes={fixed.tolist()}: {unknown.tolist()}."
            )
        # The classes of partial_fit are fixed: labels are encoded against all of them.
        weights = np.zeros(fixed.size)
        weights[np.searchsorted(fixed, summary.classes)] = summary.class_weights
        summary.classes, summary.class_weights = fixed, weights
        summary.y_mean = float(weights[-1] / summary.weight_sum)
        class_weight_factors(self.class_weight, summary)  # unknown labels fail here, early

    def fit(
        self, X: Any, y: Any, coef_init: Any = None, intercept_init: Any = None,
        sample_weight: Any = None, *, callbacks: Any = None,
    ) -> SGDClassifier:
        """Fit the model on a dask cluster, for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
            Labels of any sortable type; at least two distinct ones.
        coef_init : array-like of shape (1, n_features) or (n_classes, n_features), \
default=None
        intercept_init : array-like of shape (1,) or (n_classes,), default=None
        sample_weight : array-like or dask array of shape (n_samples,), default=None
        callbacks : callable, daskgd.callbacks.Callback or list of them, default=None
            Shown each iteration's record; one returning True stops the fit (see
            ``daskgd.callbacks``). ``verbose`` adds a progress bar and logging.

        Returns
        -------
        self
        """
        with self._call(partial=False, init=_check_init(coef_init, intercept_init)):
            classes = self._fit(X, y, sample_weight, callbacks)
        assert classes is not None
        self.classes_ = classes
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> SGDClassifier:
        """One epoch over ``(X, y)``, continuing from the current model and step counter.

        Parameters
        ----------
        X : array-like, scipy.sparse, pandas DataFrame, dask array or dask DataFrame of shape
            (n_samples, n_features)
        y : array-like or dask array of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            Every label the model will know. Required on the first call (y of one call
            need not hold them all), and the same (or None) on later calls.
        sample_weight : array-like or dask array of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        fixed = getattr(self, "classes_", None)
        if classes is not None:
            given = np.unique(np.asarray(classes))
            if fixed is not None and not (
                given.shape == fixed.shape and np.all(given == fixed)
            ):
                raise ValueError(
                    f"classes={given.tolist()} is not the same as on the last call to "
                    f"partial_fit or fit: {fixed.tolist()}."
                )
            if given.size < 2:
                raise ValueError(f"classes must hold at least 2 labels; got {given.tolist()}.")
            fixed = given
        if fixed is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        with self._call(partial=True, classes=fixed):
            self._fit(X, y, sample_weight)
        self.classes_ = fixed
        return self

    # ---------------------------------------------------------------- prediction

    def decision_function(self, X: Any) -> Any:
        """Decision values ``X @ coef_.T + intercept_``: (n_samples,) for two classes, else
        (n_samples, n_classes); lazy for dask input."""
        return self._linear_predictor(X)

    def predict(self, X: Any) -> Any:
        """Predicted labels (from ``classes_``), shape (n_samples,); lazy for dask input.

        The positive class where the decision value is > 0 (two classes), else the class of
        the largest one-vs-rest decision value.
        """
        z = self.decision_function(X)
        classes = self.classes_
        if isinstance(z, da.Array):
            return da.map_blocks(_labels, z, classes, drop_axis=1 if z.ndim == 2 else [],
                                 dtype=classes.dtype)
        return _labels(z, classes)

    def _check_proba(self) -> bool:
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(
                f"probability estimates are not available for loss={self.loss!r}"
            )
        return True

    @available_if(_check_proba)
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order.

        Only for ``loss="log_loss"`` and ``"modified_huber"`` (others raise AttributeError).
        ``log_loss``: ``expit(z)`` for two classes; for more, each class's sigmoid normalised
        over the classes (one-vs-rest, as scikit-learn; computed in log space, finite for
        any margin). ``modified_huber``: ``(clip(z, -1, 1) + 1) / 2``, normalised likewise
        (uniform where every class gets 0).
        """
        check_is_fitted(self, "coef_")
        func = _log_loss_proba if self.loss == "log_loss" else _modified_huber_proba
        z = self.decision_function(X)
        if isinstance(z, da.Array):
            return _lazy(func, z, self.classes_.size)
        return func(z)

    @available_if(_check_proba)
    def predict_log_proba(self, X: Any) -> Any:
        """Logarithm of ``predict_proba`` (``-inf`` where ``modified_huber`` gives 0)."""
        check_is_fitted(self, "coef_")
        if self.loss == "log_loss":
            z = self.decision_function(X)
            if isinstance(z, da.Array):
                return _lazy(_log_loss_log_proba, z, self.classes_.size)
            return _log_loss_log_proba(z)
        p = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return da.log(p) if isinstance(p, da.Array) else np.log(p)


def _log_loss_log_proba(z: np.ndarray) -> np.ndarray:
    if z.ndim == 1:
        return np.column_stack([log_expit(-z), log_expit(z)])
    log_p = log_expit(z)
    return log_p - logsumexp(log_p, axis=1, keepdims=True)


def _log_loss_proba(z: np.ndarray) -> np.ndarray:
    if z.ndim == 1:
        return np.column_stack([expit(-z), expit(z)])
    return np.exp(_log_loss_log_proba(z))


def _modified_huber_proba(z: np.ndarray) -> np.ndarray:
    p = (np.clip(z, -1.0, 1.0) + 1.0) / 2.0
    if z.ndim == 1:
        return np.column_stack([1.0 - p, p])
    total = p.sum(axis=1, keepdims=True)
    zero = total[:, 0] == 0
    p[zero], total[zero] = 1.0, p.shape[1]
    return p / total


__all__ = ["SGDClassifier", "SGDRegressor"]

