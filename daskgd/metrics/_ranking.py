"""ROC AUC, binary and multiclass one-vs-rest, from (label, distinct score) tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from daskgd.metrics._reduce import _as_array, _check_lengths, _check_numeric, _raise, _reduce
from daskgd.metrics._tables import _labels_table, _merge_tables, _Table, _table


def roc_auc_score(
    y_true: Any, y_score: Any, *, average: str | None = "macro", sample_weight: Any = None,
    max_fpr: float | None = None, multi_class: str = "raise", labels: Any = None,
) -> Any:
    """Area under the ROC curve, exact, as scikit-learn's: binary, or multiclass one-vs-rest.

    Tied scores count as scikit-learn counts them (one step of the curve per distinct
    score). The cluster reduces a table of (label, distinct score) rows with their weights
    in a tree of tasks (one table per column of a multiclass ``y_score``): memory O(number
    of distinct scores) on the task that combines last, and on the driver.

    Parameters
    ----------
    y_true : array-like or dask collection of shape (n_samples,)
        Class labels (numbers or strings). Binary: the greater label is the positive class.
    y_score : array-like or dask collection of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the positive class (probabilities or decision values).
        Multiclass: probabilities of the classes in sorted order (rows summing to one).
    average : {"macro", "weighted", "micro"} or None
        Multiclass only: how the one-vs-rest AUCs are averaged, as scikit-learn.
    sample_weight : array-like or dask collection of shape (n_samples,), optional
    max_fpr : float in (0, 1], optional
        Binary only: standardised partial AUC up to this false positive rate.
    multi_class : {"raise", "ovr"}
        ``"ovr"`` for multiclass targets (``"ovo"`` is not implemented).
    labels : array-like of shape (n_classes,), optional
        Multiclass only: the classes of the columns of ``y_score``, sorted.

    Returns
    -------
    float, or ndarray of shape (n_classes,) for multiclass with ``average=None``
        NaN with an ``UndefinedMetricWarning`` (scikit-learn's behaviour) when ``y_true``
        holds one class.
    """
    if max_fpr is not None and not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1]; got {max_fpr!r}.")
    scores = _as_array(y_score, "y_score", (1, 2))
    if scores.ndim == 2 and scores.shape[1] > 2:
        return _ovr_roc_auc(y_true, scores, sample_weight, max_fpr, multi_class, average,
                            labels)
    table = _labels_table(y_true, y_score, sample_weight, b_name="y_score", b_is_label=False)
    if len(np.unique(table.a)) > 2:
        raise ValueError(
            f"y_true has {len(np.unique(table.a))} classes: pass y_score of shape "
            "(n_samples, n_classes) and multi_class='ovr'."
        )
    return float(skm.roc_auc_score(table.a, table.b, sample_weight=table.weight,
                                   max_fpr=max_fpr))


@dataclass(frozen=True)
class _ColumnTables:
    """One (y_true, score) table per column of y_score; rows whose scores do not sum to 1."""

    tables: tuple[_Table, ...]
    unnormalised: int


def _column_tables(y: np.ndarray, scores: np.ndarray, w: np.ndarray | None) -> _ColumnTables:
    tables = tuple(
        _table(y, scores[:, k], w, b_name="y_score", b_is_label=False)
        for k in range(scores.shape[1])
    )
    if any(t.problems for t in tables):  # NaN: reported as such, not as unnormalised rows
        return _ColumnTables(tables, 0)
    return _ColumnTables(tables, int(np.sum(~np.isclose(1, scores.sum(axis=1)))))


def _merge_column_tables(s: _ColumnTables, t: _ColumnTables) -> _ColumnTables:
    return _ColumnTables(
        tuple(_merge_tables(a, b) for a, b in zip(s.tables, t.tables)),
        s.unnormalised + t.unnormalised,
    )


def _ovr_classes(labels: Any, n_columns: int) -> np.ndarray | None:
    """The declared classes of the columns, checked as scikit-learn checks them."""
    if labels is None:
        return None
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) != len(labels):
        raise ValueError("Parameter 'labels' must be unique")
    if not np.array_equal(classes, labels):
        raise ValueError("Parameter 'labels' must be ordered")
    if len(classes) != n_columns:
        raise ValueError(f"Number of given labels, {len(classes)}, not equal to the number of "
                         f"columns in 'y_score', {n_columns}")
    return classes


def _ovr_roc_auc(
    y_true: Any, scores: Any, sample_weight: Any, max_fpr: float | None, multi_class: str,
    average: str | None, labels: Any,
) -> Any:
    """One-vs-rest AUCs from per-column tables, averaged as scikit-learn averages them."""
    if max_fpr is not None and max_fpr != 1:
        raise ValueError("Partial AUC computation not available in multiclass setting, "
                         f"'max_fpr' must be set to `None`, received `max_fpr={max_fpr}` instead")
    if multi_class != "ovr":
        raise ValueError(f"multi_class must be 'ovr' for a multiclass y_score here; got "
                         f"{multi_class!r} ('ovo' is not implemented).")
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError("average must be one of ('micro', 'macro', 'weighted', None) for "
                         "multiclass problems")
    classes = _ovr_classes(labels, int(scores.shape[1]))
    y_true = _as_array(y_true, "y_true", (1,))
    sample_weight = _as_array(sample_weight, "sample_weight", (1,))
    _check_numeric(scores, "y_score")
    _check_numeric(sample_weight, "sample_weight")
    arrays = {"y_true": y_true, "y_score": scores, "sample_weight": sample_weight}
    _check_lengths(arrays)
    result: _ColumnTables = _reduce("roc-auc-ovr", _column_tables, _merge_column_tables, arrays)
    for table in result.tables:
        _raise(table.problems)
    if result.unnormalised:
        raise ValueError("Target scores need to be probabilities for multiclass roc_auc, i.e. "
                         "they should sum up to 1.0 over classes")
    found = np.unique(result.tables[0].a)
    if classes is None:
        if len(found) != scores.shape[1]:
            raise ValueError("Number of classes in y_true not equal to the number of columns "
                             "in 'y_score'")
        classes = found
    elif np.setdiff1d(found, classes).size:
        raise ValueError("'y_true' contains labels not in parameter 'labels'")
    # Column k against the rest: positives are the rows of class k.
    binary = [(t.a == c).astype(int) for t, c in zip(result.tables, classes)]
    if average == "micro":
        return float(skm.roc_auc_score(
            np.concatenate(binary), np.concatenate([t.b for t in result.tables]),
            sample_weight=np.concatenate([t.weight for t in result.tables]),
        ))
    aucs = np.array([
        skm.roc_auc_score(y, t.b, sample_weight=t.weight) for y, t in zip(binary, result.tables)
    ])
    if average is None:
        return aucs
    if average == "macro":
        return float(np.mean(aucs))
    support = np.array([t.weight[y == 1].sum() for y, t in zip(binary, result.tables)])
    if np.isclose(support.sum(), 0):
        return 0.0
    aucs[support == 0] = 0  # as scikit-learn: a class without weight adds nothing, not NaN
    return float(np.average(aucs, weights=support))
