"""Convergence plots of fitted models: objective gap or gradient norm against iterations,
time or passes over the data, for one model or several side by side.

Needs matplotlib (``pip install 'daskgd[plot]'``); it is imported only when a plot is drawn.

What the plots read is each fitted model's ``history_``: a list with one dict per iteration
(full-batch solvers also record their starting point as iteration 0, ``"sgd"`` one record
per epoch, ``"lstsq"`` one record for its single solve), with the keys

- ``iteration``: the iteration (epoch for ``"sgd"``);
- ``objective``: the mean-scaled objective (loss over the total sample weight plus
  penalty). For ``"sgd"`` it is the mean mini-batch objective seen during the epoch, an
  estimate taken along the way rather than the objective at the epoch's end;
- ``grad_norm``: the largest absolute entry of the gradient (NaN for ``"sgd"``, which never
  computes a full gradient, and for an ``"lbfgs"`` iteration whose gradient was not the
  last one SciPy evaluated);
- ``step``: the step length (NaN for ``"lbfgs"``; the epoch's first rate for ``"sgd"``);
- ``elapsed``: seconds since the solver started;
- ``passes``: passes over X so far (fractions for ``"sgd"``, which reads a slice per round);
- ``"sgd"`` only: ``steps`` (mini-batch steps at the epoch's end) and, with early stopping,
  ``validation_score``.

``pandas.DataFrame(model.history_)`` makes it a table with one row per record.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_convergence"]

History = list[dict[str, Any]]

#: x= choices and the history key each one reads.
_X_KEYS = {"iteration": "iteration", "time": "elapsed", "passes": "passes"}
_X_LABELS = {
    "iteration": "iteration (epoch for sgd)",
    "time": "time since the solver started (s)",
    "passes": "passes over the data",
}
_Y_LABELS = {
    "gap": "relative objective gap  (f - f*) / |f*|",
    "objective": "objective f",
    "grad_norm": "gradient norm  max |g_i|",
}


def plot_convergence(
    models: Any,
    *,
    x: Literal["iteration", "time", "passes"] = "iteration",
    y: Literal["gap", "objective", "grad_norm"] = "gap",
    labels: Sequence[str] | None = None,
    reference: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw how one or several fits converged, one line per fit, on one matplotlib Axes.

    Parameters
    ----------
    models : fitted estimator, history, or a list or dict of them
        What to draw: a fitted daskgd estimator (its ``history_`` is read), a history itself
        (a list of per-iteration dicts, or the DataFrame ``pandas.DataFrame(model.history_)``),
        a list of these, or a dict from legend label to these.
    x : {"iteration", "time", "passes"}, default="iteration"
        Horizontal axis: the iteration (epoch for ``"sgd"``), the seconds since the solver
        started, or the passes over the data so far (the fair axis across solvers whose
        iterations cost different numbers of passes).
    y : {"gap", "objective", "grad_norm"}, default="gap"
        Vertical axis. ``"gap"``: the relative objective gap ``(f - f*) / |f*|`` (``f - f*``
        when ``f* == 0``), on a log scale; points at or below ``f*`` (the fit that attains
        it, or SGD's noisy estimates) have no finite logarithm and are not drawn, and a fit
        with no point above ``f*`` (an exact ``"lstsq"`` solve, usually: pass it as
        ``reference`` instead) is left out with a warning. ``"objective"``: the objective
        ``f`` itself, on a linear scale. ``"grad_norm"``: the largest absolute gradient
        entry, on a log scale; fits that record none (``"sgd"``) are left out with a
        warning.
    labels : sequence of str, optional
        Legend labels, one per fit, in order. By default the dict's keys, else each
        estimator's solver (``solver_``; repeated names get ``#2``, ``#3``...), else
        ``"run 1"``, ``"run 2"``... for bare histories.
    reference : float, fitted estimator or history, optional
        ``f*`` for ``y="gap"``: a number, or the last objective of a fit (say the exact
        ``solver="lstsq"`` one). By default the smallest objective recorded by any of the
        fits given. SGD records (their objective is an estimate along the way, see the
        module docstring) count only when every fit given is SGD.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new figure of 6.4 x 4 inches.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with one line per fit (in the order given) and a legend. For
        gap and gradient norm side by side, draw twice onto two Axes of one figure::

            fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
            plot_convergence(models, ax=left)
            plot_convergence(models, y="grad_norm", ax=right)

    Raises
    ------
    ValueError
        ``x``, ``y`` or ``labels`` is not one of the accepted values, ``reference`` is not
        finite, a history is empty or lacks the key to draw, or no fit has a point to draw.
    TypeError
        ``models`` or ``reference`` holds something that is neither an estimator nor a
        history (nor, for ``reference``, a number), or ``ax`` is not a matplotlib Axes.
    sklearn.exceptions.NotFittedError
        An estimator has not been fitted.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> ax = plot_convergence({"gd": gd_model, "lbfgs": lbfgs_model}, x="passes")
    ... # doctest: +SKIP
    """
    if x not in _X_KEYS:
        raise ValueError(f"x must be one of {sorted(_X_KEYS)}; got {x!r}.")
    if y not in _Y_LABELS:
        raise ValueError(f"y must be one of {sorted(_Y_LABELS)}; got {y!r}.")
    runs = _runs(models, labels)
    f_star = _reference_value(reference, runs) if y == "gap" else math.nan
    plt = _pyplot()
    from matplotlib.axes import Axes as AxesType

    if ax is None:
        ax = plt.figure(figsize=(6.4, 4.0)).add_subplot()
    elif not isinstance(ax, AxesType):
        raise TypeError(f"ax must be a matplotlib Axes; got {type(ax).__name__}.")

    skipped = []
    for label, history in runs:
        xs = _column(history, _X_KEYS[x], label)
        if y == "gap":
            ys = _relative_gap(_column(history, "objective", label), f_star)
        else:
            ys = _column(history, y, label)
        if np.isnan(ys).all():
            skipped.append(label)
            continue
        # A solve of one or a few records would be invisible as a line: mark its points.
        marker = "o" if len(history) <= 30 else None
        ax.plot(xs, ys, marker=marker, markersize=4, label=label)
    if skipped:
        why = ("they record no gradient norm (sgd computes no full gradient)"
               if y == "grad_norm" else f"none of their points lies above f* = {f_star:.10g}"
               if y == "gap" else "their objective is NaN throughout")
        if len(skipped) == len(runs):
            raise ValueError(f"Nothing to draw for y={y!r}: {why}.")
        warnings.warn(f"Left out of the plot: {', '.join(skipped)}; {why}.",
                      UserWarning, stacklevel=2)
    if y != "objective":
        ax.set_yscale("log")
    ax.set_xlabel(_X_LABELS[x])
    ax.set_ylabel(_Y_LABELS[y])
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return ax


def _relative_gap(objective: np.ndarray, f_star: float) -> np.ndarray:
    """``(f - f*) / |f*|`` (``f - f*`` when ``f* == 0``), NaN where it is not positive.

    Parameters
    ----------
    objective : ndarray of shape (n_records,)
    f_star : float

    Returns
    -------
    ndarray of shape (n_records,)
        NaN marks points a log scale cannot show (at or below ``f*``).
    """
    scale = abs(f_star) if f_star != 0.0 else 1.0
    gap = (np.asarray(objective, dtype=np.float64) - f_star) / scale
    return np.where(gap > 0.0, gap, np.nan)


# ------------------------------------------------------------------------- inputs


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "daskgd.plotting needs matplotlib (3.7 or later). Install it with: "
            "pip install 'daskgd[plot]'"
        ) from None
    return plt


def _is_history(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame) or (
        isinstance(obj, list | tuple) and len(obj) > 0
        and all(isinstance(record, Mapping) for record in obj)
    )


def _history(obj: Any, where: str) -> tuple[History, str | None]:
    """(records, default label) of an estimator or a history; ``where`` names it in errors."""
    if isinstance(obj, pd.DataFrame):
        records: History = obj.to_dict("records")
        if not records:
            raise ValueError(f"{where} is an empty history: nothing to draw.")
        return records, None
    if _is_history(obj):
        return [dict(record) for record in obj], None
    if isinstance(obj, list | tuple) and len(obj) == 0:
        raise ValueError(f"{where} is an empty history: nothing to draw.")
    if hasattr(obj, "get_params") and hasattr(obj, "fit"):
        history = getattr(obj, "history_", None)
        if history is None:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"{where} ({type(obj).__name__}) is not fitted yet: call fit before plotting."
            )
        if not history:
            raise ValueError(f"{where} ({type(obj).__name__}) has an empty history_.")
        return [dict(record) for record in history], str(getattr(obj, "solver_", "fit"))
    raise TypeError(
        f"{where} must be a fitted daskgd estimator or a history (a list of per-iteration "
        f"dicts, or a DataFrame of one); got {type(obj).__name__}."
    )


def _runs(models: Any, labels: Sequence[str] | None) -> list[tuple[str, History]]:
    """The fits to draw as (label, history) pairs, in order."""
    if isinstance(models, Mapping):
        if labels is not None:
            raise ValueError(
                "labels must not be given with a dict of models: the dict's keys are the "
                "labels."
            )
        if not models:
            raise ValueError("models is an empty dict: nothing to draw.")
        return [(str(key), _history(value, f"models[{key!r}]")[0])
                for key, value in models.items()]
    if _is_history(models) or not isinstance(models, list | tuple):
        found = [_history(models, "models")]
    elif len(models) == 0:
        raise ValueError("models is an empty list: nothing to draw.")
    else:
        found = [_history(item, f"models[{i}]") for i, item in enumerate(models)]
    if labels is not None:
        if isinstance(labels, str) or len(labels) != len(found):
            raise ValueError(
                f"labels must be a sequence of {len(found)} string(s), one per fit; got "
                f"{labels!r}."
            )
        return [(str(label), history) for label, (history, _) in zip(labels, found)]
    names = [name or f"run {i + 1}" for i, (_, name) in enumerate(found)]
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return [(label, history) for label, (history, _) in zip(unique, found)]


def _column(history: History, key: str, label: str) -> np.ndarray:
    try:
        return np.array([float(record[key]) for record in history])
    except KeyError:
        raise ValueError(
            f"The history of {label!r} has no {key!r} entry; a daskgd history_ has "
            "iteration, objective, grad_norm, step, elapsed and passes."
        ) from None


def _is_stochastic(history: History) -> bool:
    # SGD records carry the step counter; their objective is an estimate along the way.
    return "steps" in history[0]


def _reference_value(reference: Any, runs: list[tuple[str, History]]) -> float:
    """``f*``: the given reference, or the best objective the (exact) fits recorded."""
    if reference is None:
        exact = [run for run in runs if not _is_stochastic(run[1])] or runs
        values = np.concatenate([_column(h, "objective", label) for label, h in exact])
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError("No fit recorded a finite objective: there is no gap to draw.")
        return float(values.min())
    if isinstance(reference, bool):
        raise TypeError("reference must be a number, a fitted estimator or a history; got a bool.")
    if isinstance(reference, int | float | np.floating | np.integer):
        value = float(reference)
    else:
        history, _ = _history(reference, "reference")
        value = float(_column(history, "objective", "reference")[-1])
    if not math.isfinite(value):
        raise ValueError(f"reference must be finite; got {value!r}.")
    return value
