"""``class_weight``: per-class factors on the sample weights, as scikit-learn defines them."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from daskgd._data import DataSummary


def check_class_weight(class_weight: Any) -> None:
    """Raise a ``ValueError`` unless ``class_weight`` is None, "balanced" or a dict of
    finite non-negative numbers."""
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"class_weight must be a dict, 'balanced' or None; got {class_weight!r}."
        )
    for label, weight in class_weight.items():
        ok = isinstance(weight, numbers.Real) and not isinstance(weight, bool)
        if not ok or not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"class_weight[{label!r}] must be a finite number >= 0; got {weight!r}."
            )


def class_weight_factors(class_weight: Any, summary: DataSummary) -> np.ndarray | None:
    """One factor per class of ``summary.classes`` (sorted), or None for no reweighting.

    ``"balanced"`` gives ``S / (K * S_k)``, ``S_k`` the total sample weight of class k; a
    dict maps labels to factors (labels not in it get 1). Labels in the dict that are not
    in the data raise a ``ValueError``, as in scikit-learn.
    """
    if class_weight is None:
        return None
    classes = summary.classes
    assert classes is not None and summary.class_weights is not None
    if isinstance(class_weight, str):  # "balanced", checked with the parameters
        return summary.weight_sum / (classes.size * summary.class_weights)
    unknown = [label for label in class_weight if label not in set(classes.tolist())]
    if unknown:
        raise ValueError(
            f"class_weight has labels {unknown} that are not in y (classes: "
            f"{classes.tolist()})."
        )
    return np.array([float(class_weight.get(label, 1.0)) for label in classes.tolist()])
