"""The fitted estimator's summary table, shown under scikit-learn's HTML repr in Jupyter."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

#: (fitted attribute, label) of the rows, in order.
ROWS = (
    ("solver_", "solver"),
    ("n_iter_", "iterations"),
    ("converged_", "converged"),
    ("fit_time_", "fit time"),
    ("passes", "passes over X"),
    ("placement_", "placement"),
)


def fit_summary(estimator: Any) -> dict[str, str]:
    """How the last fit went, as display strings; empty for an unfitted estimator.

    Parameters
    ----------
    estimator : LinearModelBase

    Returns
    -------
    dict of str to str
        Label -> value, in the order of ``ROWS``, for the attributes the model has.
    """
    if not hasattr(estimator, "coef_") or not hasattr(estimator, "solver_"):
        return {}
    history = getattr(estimator, "history_", None) or []
    values = {name: getattr(estimator, name, None) for name, _ in ROWS}
    values["passes"] = history[-1].get("passes") if history else None
    summary = {}
    for name, label in ROWS:
        value = values[name]
        if value is None:
            continue
        if name == "fit_time_":
            text = f"{value:.2f} s"
        elif name == "passes":
            text = f"{value:.1f}" if math.isfinite(value) else str(value)
        elif name == "n_iter_":
            counts = np.ravel(value)  # an array of one count on the classifiers, as sklearn's
            text = str(int(counts[0])) if counts.size == 1 else str(counts.tolist())
        elif name == "converged_" and not value and getattr(estimator, "stop_reason_", None):
            text = f"False ({estimator.stop_reason_})"
        else:
            text = str(value)
        summary[label] = text
    return summary


def fit_summary_html(estimator: Any) -> str:
    """``fit_summary`` as a small HTML table, or "" for an unfitted estimator."""
    summary = fit_summary(estimator)
    if not summary:
        return ""
    rows = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(label)}</th>'
        f'<td style="text-align:left">{html.escape(value)}</td></tr>'
        for label, value in summary.items()
    )
    return (f'<table class="daskgd-fit-summary" style="margin-top:0.5em">'
            f"<caption style=\"text-align:left\">daskgd fit</caption>{rows}</table>")
