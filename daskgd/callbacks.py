"""Observers of the solver loop: progress bar, logging, and your own callbacks.

Pass them to ``fit``::

    model.fit(X, y, callbacks=[ProgressBar(), LogIterations(), my_function])

Each one sees every iteration's record, the same dict that ends up in ``history_``
(``iteration``, ``objective``, ``grad_norm``, ``step``, ``elapsed``, ``passes``; ``sgd`` adds
``steps`` and, with early stopping, ``validation_score``). A callback that returns ``True``
stops the fit after that iteration: the model keeps the iterate reached, ``converged_`` is
False, no ``ConvergenceWarning`` is raised and ``stop_reason_`` says which callback asked.

A callback is either a plain callable ``f(record) -> bool | None`` or a :class:`Callback`,
which also hears when the fit begins and ends (:class:`FitInfo`). Callbacks run on the driver,
between rounds of tasks: keep them cheap.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from tqdm.auto import tqdm

__all__ = ["Callback", "FitInfo", "LogIterations", "ProgressBar"]

logger = logging.getLogger("daskgd")

#: One iteration's record, as kept in ``history_``.
Record: TypeAlias = Mapping[str, Any]


@dataclass
class FitInfo:
    """What a fit tells its callbacks; the same object is passed to ``on_fit_begin`` and,
    completed, to ``on_fit_end``.

    Attributes
    ----------
    estimator : str
        Class name of the estimator being fitted.
    solver : str
        The solver running (``"auto"`` resolved).
    max_iter : int
        Iterations allowed (epochs for ``"sgd"``).
    n_samples, n_features, n_params : int
        Rows, columns of X, and parameters the solver optimises (coefficients and
        intercepts of every output).
    placement : {"persist", "stream"}
    dashboard_link : str or None
        The dask dashboard of the cluster the fit runs on, when it has one.
    state : dict
        The solver's live state, updated before each ``on_iteration``: ``"theta"``, the
        current iterate, shape (n_params,) (do not modify it). Solvers may add entries; a
        callback that needs the state keeps this object from ``on_fit_begin``.
    n_iter, converged, message, stop_reason, elapsed, error
        Filled in before ``on_fit_end``: iterations run, whether the solver converged, its
        message, the reason a callback stopped the fit (or None), seconds the solver ran,
        and the exception the fit failed with (or None; it is raised after the callbacks).
    """

    estimator: str
    solver: str
    max_iter: int
    n_samples: int
    n_features: int
    n_params: int
    placement: str
    dashboard_link: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    n_iter: int | None = None
    converged: bool | None = None
    message: str | None = None
    stop_reason: str | None = None
    elapsed: float | None = None
    error: BaseException | None = None


class Callback:
    """Base of the callbacks that need more than each record; override what you need.

    ``on_fit_end`` is called whenever ``on_fit_begin`` was, also when the fit fails (then
    ``info.error`` is set), so resources opened at the beginning can be closed.
    """

    def on_fit_begin(self, info: FitInfo) -> None:
        """Called once the data are placed and the solver chosen, before its first step."""

    def on_iteration(self, record: Record) -> bool | None:
        """Called after each iteration (and the starting point, iteration 0, of the
        full-batch solvers). Return True to stop the fit after this iteration."""
        return None

    def on_fit_end(self, info: FitInfo) -> None:
        """Called when the solver has returned or failed."""


class ProgressBar(Callback):
    """A ``tqdm.auto`` progress bar: a widget in Jupyter (with ``ipywidgets`` installed),
    text in a terminal.

    It counts iterations (epochs for ``"sgd"``) up to ``max_iter`` and shows the objective,
    the gradient norm and the passes over the data. The bar is closed when the fit ends,
    also when it fails. One fit at a time: give each concurrent fit its own bar.

    Parameters
    ----------
    **tqdm_kwargs
        Passed to ``tqdm`` (e.g. ``file``, ``leave``, ``mininterval``, ``position``).
    """

    def __init__(self, **tqdm_kwargs: Any) -> None:
        self.tqdm_kwargs = tqdm_kwargs
        self._bar: Any = None

    def on_fit_begin(self, info: FitInfo) -> None:
        self._close()  # a bar left from a fit that never ended
        kwargs = {"desc": f"{info.estimator} ({info.solver})", "unit": "it",
                  **self.tqdm_kwargs}
        self._bar = tqdm(total=info.max_iter, **kwargs)

    def on_iteration(self, record: Record) -> None:
        if self._bar is None:
            return
        # Iteration 0 is the starting point: the bar starts at 0 and shows its objective.
        self._bar.n = int(record["iteration"])
        self._bar.set_postfix(  # a dict keeps this order (keywords would be sorted)
            {"objective": f"{record['objective']:.6g}",
             "grad_norm": f"{record['grad_norm']:.3g}", "passes": f"{record['passes']:.1f}"},
            refresh=False,
        )
        self._bar.update(0)  # redraws when tqdm's mininterval has passed

    def on_fit_end(self, info: FitInfo) -> None:
        if self._bar is not None and info.n_iter is not None:
            self._bar.n = info.n_iter
            if info.error is None:
                self._bar.total = info.n_iter  # a fit that converged early ends the bar full
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogIterations(Callback):
    """Logs the fit's start, each iteration's record and its end to a ``logging`` logger.

    Parameters
    ----------
    logger : logging.Logger or str, default="daskgd"
        The logger, or its name.
    level : int, default=logging.INFO
    """

    def __init__(self, logger: logging.Logger | str = "daskgd", level: int = logging.INFO):
        self.logger = logger
        self.level = level

    def _logger(self) -> logging.Logger:
        return self.logger if isinstance(self.logger, logging.Logger) else \
            logging.getLogger(self.logger)

    def on_fit_begin(self, info: FitInfo) -> None:
        self._logger().log(self.level, "daskgd %s: fitting %s, %d samples x %d features, "
                           "max_iter %d", info.solver, info.estimator, info.n_samples,
                           info.n_features, info.max_iter)
        self._solver = info.solver

    def on_iteration(self, record: Record) -> None:
        self._logger().log(
            self.level, "daskgd %s: iteration %d objective %.10g grad_norm %.3g step %.3g "
            "(%.2f s, %.1f passes)", getattr(self, "_solver", "?"), record["iteration"],
            record["objective"], record["grad_norm"], record["step"], record["elapsed"],
            record["passes"],
        )

    def on_fit_end(self, info: FitInfo) -> None:
        if info.error is not None:
            self._logger().log(self.level, "daskgd %s: fit failed: %r", info.solver,
                               info.error)
        else:
            self._logger().log(self.level, "daskgd %s: %d iterations, converged %s: %s",
                               info.solver, info.n_iter, info.converged, info.message)


# ------------------------------------------------------------------------- used by the fit


class _FunctionCallback(Callback):
    """A plain callable ``f(record) -> bool | None`` as a ``Callback``."""

    def __init__(self, function: Callable[[Record], bool | None]) -> None:
        self.function = function

    def on_iteration(self, record: Record) -> bool | None:
        return self.function(record)


def _name(callback: Any) -> str:
    inner = callback.function if isinstance(callback, _FunctionCallback) else callback
    return getattr(inner, "__qualname__", None) or type(inner).__name__


class CallbackList:
    """The callbacks of one fit, called in order; the solvers' observer.

    Parameters
    ----------
    callbacks : list of Callback
    """

    def __init__(self, callbacks: list[Callback]) -> None:
        self.callbacks = callbacks
        self.info: FitInfo | None = None

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def begin(self, info: FitInfo) -> None:
        self.info = info
        for i, callback in enumerate(self.callbacks):
            try:
                callback.on_fit_begin(info)
            except BaseException as exc:
                # Those that began are ended (progress bars closed), then the error raised.
                info.error = exc
                for begun in self.callbacks[:i]:
                    with contextlib.suppress(Exception):
                        begun.on_fit_end(info)
                raise

    def __call__(self, record: Record, state: Mapping[str, Any]) -> str | None:
        """Show ``record`` to every callback; the reason to stop, or None to go on.

        Every callback sees the record even after one has asked to stop.
        """
        if self.info is not None:
            self.info.state.update(state)
        reason = None
        for callback in self.callbacks:
            answer = callback.on_iteration(record)
            # True, NumPy's True_ too (a comparison of arrays' entries), asks to stop.
            stop = answer is True or (isinstance(answer, np.bool_) and bool(answer))
            if stop and reason is None:
                reason = (f"stopped by callback {_name(callback)} at iteration "
                          f"{record['iteration']}")
        return reason

    def end(self, info: FitInfo) -> None:
        """Tell every callback, even when one of them fails (the first error is raised)."""
        error: BaseException | None = None
        for callback in self.callbacks:
            try:
                callback.on_fit_end(info)
            except BaseException as exc:  # close every bar before raising
                error = error or exc
        self.info = None
        if error is not None:
            raise error


def as_callback_list(callbacks: Any, verbose: int = 0) -> CallbackList:
    """Check ``fit``'s ``callbacks`` argument and add the ``verbose`` ones.

    Parameters
    ----------
    callbacks : None, Callback, callable, or a list or tuple of them
    verbose : int
        >= 1 adds a :class:`ProgressBar`, >= 2 also :class:`LogIterations`.

    Raises
    ------
    TypeError
        When ``callbacks`` or one of its items is neither a ``Callback`` nor callable.
    """
    if callbacks is None:
        given: list[Any] = []
    elif isinstance(callbacks, Callback) or callable(callbacks):
        given = [callbacks]
    elif isinstance(callbacks, list | tuple):
        given = list(callbacks)
    else:
        raise TypeError(
            "callbacks must be a daskgd.callbacks.Callback, a callable f(record) or a list "
            f"of them; got {type(callbacks).__name__}."
        )
    checked: list[Callback] = []
    for i, callback in enumerate(given):
        if isinstance(callback, Callback):
            checked.append(callback)
        elif isinstance(callback, type):
            raise TypeError(f"callbacks[{i}] is the class {callback.__name__}; pass an "
                            f"instance, e.g. {callback.__name__}().")
        elif callable(callback):
            checked.append(_FunctionCallback(callback))
        else:
            raise TypeError(
                f"callbacks[{i}] must be a daskgd.callbacks.Callback or a callable "
                f"f(record); got {type(callback).__name__}: {callback!r}."
            )
    if verbose >= 1:
        checked.append(ProgressBar())
    if verbose >= 2:
        checked.append(LogIterations())
    return CallbackList(checked)

