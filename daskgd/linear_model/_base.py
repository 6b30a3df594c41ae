"""What the estimators share: parameter checks, the fit pipeline and prediction."""

from __future__ import annotations

import dataclasses
import logging
import numbers
import time
import warnings
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Tags, check_random_state
from sklearn.utils.validation import check_is_fitted

from daskgd import _kernels, _streaming
from daskgd._data import (
    DataSummary,
    _feature_names,
    _is_dask_frame,
    as_fit_input,
    check_X,
    join_column_blocks,
    summarise,
)
from daskgd._engine import Engine, fit_client
from daskgd.callbacks import CallbackList, FitInfo, as_callback_list
from daskgd.linear_model._html import fit_summary_html
from daskgd.losses import Loss
from daskgd.objective import Objective
from daskgd.penalties import ElasticNet, no_penalty
from daskgd.solvers import (
    Solver,
    SolverOptions,
    SolverResult,
    check_solver,
    choose_solver,
    get_solver,
    solves_from_gram,
)

LEARNING_RATES = ("auto", "constant", "invscaling")

logger = logging.getLogger("daskgd")


def _check_number(
    value: Any, name: str, *, low: float, integer: bool = False, strict: bool = False,
    allow_inf: bool = False,
) -> None:
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok:
        ok = (value > low if strict else value >= low) and (
            allow_inf or np.isfinite(value)
        )
    if not ok:
        what = "an integer" if integer else "a number"
        rel = ">" if strict else ">="
        raise ValueError(f"{name} must be {what} {rel} {low}; got {value!r}.")


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}.")


class LinearModelBase(BaseEstimator):
    """Base of the daskgd estimators: a linear predictor fitted by a distributed solver.

    Subclasses give ``_loss()``, ``_penalty()`` (on the estimator's scale), ``_data_scale()``
    and whether they classify. The fit uses the active ``distributed.Client`` or, when there
    is none, a ``LocalCluster`` started and closed for the fit.
    """

    _classify = False

    # ---------------------------------------------------------------- hooks

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X, kept sparse in every kernel
        return tags

    def _loss(self) -> Loss:
        raise NotImplementedError

    def _loss_for(self, n_classes: int) -> Loss:
        """The loss once the number of classes is known (e.g. multinomial for K > 2)."""
        return self._loss()

    def _penalty(self, weight_sum: float) -> ElasticNet:
        """The penalty on the mean-loss scale of ``Objective``, given the total weight."""
        return no_penalty()

    def _check_summary(self, summary: DataSummary) -> None:
        """Raise for data this estimator cannot fit (e.g. one class); may adjust ``summary``
        before the labels are encoded (e.g. to classes fixed in advance)."""

    def _solve(
        self, solver: Solver, objective: Objective, theta0: np.ndarray, options: SolverOptions
    ) -> SolverResult:
        """Run the solver (estimators that carry solver state between fits override this)."""
        return solver.solve(objective, theta0, options)

    def _class_factors(self, summary: DataSummary) -> np.ndarray | None:
        """Per-class sample-weight factors (``class_weight``), or None."""
        return None

    def _shuffle_seed(self, options: SolverOptions) -> int | None:
        """Seed of the row permutation applied at placement, or None to keep the row order
        (the default: only the SGD estimators offer ``row_placement``)."""
        return None

    # ---------------------------------------------------------------- parameters

    def _check_params(self) -> SolverOptions:
        if self.solver != "auto":
            get_solver(self.solver)
        _check_number(self.max_iter, "max_iter", low=1, integer=True)
        if self.tol is None:
            if self.solver != "sgd":
                raise ValueError(
                    "tol=None (no early stopping) is only for solver='sgd'; "
                    f"solver={self.solver!r} needs a number >= 0."
                )
        else:
            _check_number(self.tol, "tol", low=0)
        for name in ("fit_intercept", "warm_start"):
            _check_bool(getattr(self, name), name)
        _check_number(self.verbose, "verbose", low=0, integer=True)
        learning_rate, eta0 = self.learning_rate, self.eta0
        if isinstance(learning_rate, numbers.Real) and not isinstance(learning_rate, bool):
            _check_number(learning_rate, "learning_rate", low=0, strict=True)
            learning_rate, eta0 = "constant", float(learning_rate)
        elif learning_rate not in LEARNING_RATES:
            raise ValueError(
                f"learning_rate must be one of {list(LEARNING_RATES)} or a positive number; "
                f"got {learning_rate!r}."
            )
        if self.solver == "gd" and learning_rate == "invscaling":
            raise ValueError(
                "learning_rate='invscaling' is a schedule for solver='sgd'; solver='gd' takes "
                "'auto' (line search) or 'constant' / a number."
            )
        _check_number(eta0, "eta0", low=0, strict=True)
        _check_number(self.power_t, "power_t", low=0)
        _check_number(self.batch_size, "batch_size", low=1, integer=True)
        _check_number(self.local_steps, "local_steps", low=1, integer=True)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return SolverOptions(
            max_iter=int(self.max_iter), tol=None if self.tol is None else float(self.tol),
            learning_rate=learning_rate,
            eta0=float(eta0), power_t=float(self.power_t), batch_size=int(self.batch_size),
            local_steps=int(self.local_steps), seed=seed, verbose=int(self.verbose),
        )

    # ---------------------------------------------------------------- fit

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, callbacks: Any = None
    ) -> np.ndarray | None:
        """Fit ``coef_`` and ``intercept_``; returns the classes for classifiers."""
        started = time.perf_counter()
        options = self._check_params()
        observers = as_callback_list(callbacks, options.verbose)
        if observers:
            options = dataclasses.replace(options, observer=observers)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        loss = self._loss()
        if self.solver != "auto":
            # Loss / penalty pairing, before any data is read (the output count comes later).
            check_solver(self.solver, loss, self._penalty(1.0), 1)
        data = as_fit_input(X, y, sample_weight, classify=self._classify)
        placement = _streaming.placement_setting()  # a bad setting fails before cluster work
        summary = None
        if not data.is_dask:
            # In-memory data is checked here, before any cluster is contacted or started.
            chunk = _kernels.make_chunk(data.X, data.y, data.sample_weight)
            summary = summarise([_kernels.chunk_stats(chunk, self._classify)], self._classify)
            self._check_summary(summary)
        warm = self._warm_start_params(data.n_features)
        with fit_client() as client:
            dashboard = _dashboard_link(client)
            logger.info("daskgd: fitting %s on the cluster at %s; dashboard: %s",
                        type(self).__name__, getattr(client.scheduler, "address", "?"),
                        dashboard or "none (install bokeh to serve it)")
            engine, summary = Engine.place(
                client, data, self._classify, summary=summary, check=self._check_summary,
                class_factors=self._class_factors, shuffle_seed=self._shuffle_seed(options),
                placement=placement,
                gram=solves_from_gram(self.solver, loss, data.n_features),
            )
            try:
                n_classes = 0 if summary.classes is None else summary.classes.size
                loss = self._loss_for(n_classes)
                n_outputs = loss.n_outputs(n_classes)
                penalty = self._penalty(summary.weight_sum)
                name = self.solver
                if name == "auto":
                    name = choose_solver(loss, penalty, n_outputs, summary.n_samples,
                                         data.n_features, streamed=engine.streamed)
                check_solver(name, loss, penalty, n_outputs)
                solver = get_solver(name)
                objective = Objective(
                    loss, penalty, self.fit_intercept, summary, engine, n_outputs=n_outputs,
                )
                theta0 = objective.initial_theta()
                if warm is not None and warm[0].shape == (n_outputs, data.n_features):
                    theta0 = objective.theta_from(*warm)
                info = FitInfo(
                    estimator=type(self).__name__, solver=solver.name,
                    max_iter=options.max_iter, n_samples=summary.n_samples,
                    n_features=data.n_features, n_params=objective.n_params,
                    placement="stream" if engine.streamed else "persist",
                    dashboard_link=dashboard,
                )
                result = self._observed_solve(observers, info, solver, objective, theta0,
                                              options)
            finally:
                engine.close()
        coef, intercept = objective.split(result.theta)
        dtype = data.X.dtype
        self.coef_ = coef.astype(dtype)
        self.intercept_ = intercept.astype(dtype)
        self.n_iter_ = result.n_iter
        self.history_ = result.history
        self.solver_ = solver.name
        self.placement_ = "stream" if engine.streamed else "persist"
        self.converged_ = result.converged
        self.stop_reason_ = result.stop_reason
        self.fit_time_ = time.perf_counter() - started
        self.n_features_in_ = data.n_features
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if not result.converged and result.stop_reason is None:  # a stop asked for is no warning
            warnings.warn(
                f"{type(self).__name__} (solver={solver.name!r}) did not converge in "
                f"{result.n_iter} iterations: {result.message}. Increase max_iter or tol, or "
                "scale the features.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return summary.classes

    def _observed_solve(
        self, observers: CallbackList, info: FitInfo, solver: Solver, objective: Objective,
        theta0: np.ndarray, options: SolverOptions,
    ) -> SolverResult:
        """``_solve`` between the callbacks' ``on_fit_begin`` and ``on_fit_end`` (also when
        the solver fails, so progress bars are closed)."""
        if not observers:
            return self._solve(solver, objective, theta0, options)
        observers.begin(info)
        start = time.perf_counter()
        try:
            result = self._solve(solver, objective, theta0, options)
        except BaseException as exc:
            info.error, info.elapsed = exc, time.perf_counter() - start
            try:
                observers.end(info)
            except Exception:  # the solver's error is the one to raise
                logger.exception("daskgd: a callback failed in on_fit_end after the fit "
                                 "failed")
            raise
        info.n_iter, info.converged, info.message = (result.n_iter, result.converged,
                                                     result.message)
        info.stop_reason, info.elapsed = result.stop_reason, time.perf_counter() - start
        if result.stop_reason is not None:
            logger.info("daskgd %s: %s", solver.name, result.stop_reason)
        observers.end(info)
        return result

    # ---------------------------------------------------------------- display

    def _repr_html_inner(self) -> str:
        """scikit-learn's HTML, and for a fitted model a table of how the fit went."""
        return super()._repr_html_inner() + fit_summary_html(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        bundle: dict[str, str] = super()._repr_mimebundle_(**kwargs)
        if "text/html" in bundle:
            bundle["text/html"] += fit_summary_html(self)
        return bundle

    def _warm_start_params(self, n_features: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The fitted ``(coef (K, d), intercept (K,))`` to start from, with ``warm_start``."""
        if not getattr(self, "warm_start", False) or not hasattr(self, "coef_"):
            return None
        coef = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
        if coef.shape[1] != n_features:
            return None
        intercept = np.ravel(np.asarray(self.intercept_, dtype=np.float64))
        return coef, np.broadcast_to(intercept, (coef.shape[0],)).copy()

    # ---------------------------------------------------------------- predict

    def _prediction_input(self, X: Any) -> Any:
        """X checked against what the model was fitted on; columns matched by name."""
        check_is_fitted(self, "coef_")
        fitted_names = getattr(self, "feature_names_in_", None)
        names = _feature_names(X) if isinstance(X, pd.DataFrame) or _is_dask_frame(X) else None
        self._warn_on_feature_names(fitted_names, names)
        if fitted_names is not None and names is not None:
            columns = list(X.columns)
            missing = [c for c in fitted_names if c not in columns]
            unseen = [c for c in columns if c not in set(fitted_names)]
            if missing or unseen:
                raise ValueError(
                    "The feature names should match those that were passed during fit: "
                    f"missing {missing}, unseen {unseen}."
                )
            if columns != list(fitted_names):
                X = X[list(fitted_names)]
        Xc, _ = check_X(X)
        if Xc.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {Xc.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        if isinstance(Xc, da.Array):
            return join_column_blocks(Xc)
        if _kernels.first_non_finite(Xc) is not None:
            raise ValueError("Input X contains NaN or infinity.")
        return Xc

    def _warn_on_feature_names(
        self, fitted: np.ndarray | None, given: np.ndarray | None
    ) -> None:
        """scikit-learn's warnings when only one of fit and predict had feature names (the
        columns are then used by position)."""
        cls = type(self).__name__
        if fitted is not None and given is None:
            warnings.warn(
                f"X does not have valid feature names, but {cls} was fitted with feature "
                "names; its columns are used by position.", UserWarning, stacklevel=4,
            )
        elif fitted is None and given is not None:
            warnings.warn(
                f"X has feature names, but {cls} was fitted without feature names",
                UserWarning, stacklevel=4,
            )

    def _linear_predictor(self, X: Any) -> np.ndarray | da.Array:
        """Linear predictor ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like, scipy.sparse or dask array of shape (n_samples, n_features)

        Returns
        -------
        ndarray or dask array of shape (n_samples,)
            Lazy (a dask array) when X is a dask collection.
        """
        Xc = self._prediction_input(X)
        coef = np.atleast_2d(np.asarray(self.coef_, dtype=np.float64))
        intercept = np.ravel(np.asarray(self.intercept_, dtype=np.float64))
        if isinstance(Xc, da.Array):
            if coef.shape[0] == 1:
                return da.map_blocks(
                    _kernels.predict_linear, Xc, coef, intercept, drop_axis=1,
                    dtype=np.float64, meta=np.empty((0,)), token="daskgd-predict",
                )
            return da.map_blocks(
                _kernels.predict_linear, Xc, coef, intercept, dtype=np.float64,
                chunks=(Xc.chunks[0], (coef.shape[0],)), meta=np.empty((0, 0)),
                token="daskgd-predict",
            )
        return _kernels.predict_linear(Xc, coef, intercept)


def _dashboard_link(client: Any) -> str | None:
    """The dashboard address of ``client``'s cluster, or None when it serves none."""
    try:
        link = client.dashboard_link
    except (KeyError, AttributeError, ValueError):  # no "dashboard" service (no bokeh)
        return None
    return str(link) if link else None
