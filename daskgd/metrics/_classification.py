"""Classification metrics: accuracy, precision, recall and F1 on the confusion table, and
log loss on per-label sums of ``-log p``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn import metrics as skm

from daskgd.metrics._reduce import (
    _as_array,
    _check_lengths,
    _check_numeric,
    _problems,
    _raise,
    _reduce,
    _weight_problems,
)
from daskgd.metrics._tables import _label_problems, _labels_table


def _sklearn_on_table(
    metric: Callable[..., Any], y_true: Any, y_pred: Any, sample_weight: Any, **kwargs: Any
) -> Any:
    """scikit-learn's ``metric`` on the confusion table: one sample per table row."""
    table = _labels_table(y_true, y_pred, sample_weight, b_name="y_pred", b_is_label=True)
    return metric(table.a, table.b, sample_weight=table.weight, **kwargs)


def accuracy_score(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Share (or, with ``normalize=False``, weight) of samples predicted right, as scikit-learn.

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
        Class labels (numbers or strings).
    normalize : bool
    sample_weight : array-like or dask collection of shape (n_samples,), optional

    Returns
    -------
    float
    """
    return float(_sklearn_on_table(
        skm.accuracy_score, y_true, y_pred, sample_weight, normalize=normalize
    ))


_PRF_DOC = """{what}, as scikit-learn's ``{name}`` (same ``labels``, ``pos_label``,
    ``average`` in ``"binary"``, ``"micro"``, ``"macro"``, ``"weighted"`` or None, and
    ``zero_division``), from the weighted confusion table reduced on the cluster.

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
        Class labels (numbers or strings).
    labels, pos_label, average, zero_division
        As scikit-learn.
    sample_weight : array-like or dask collection of shape (n_samples,), optional

    Returns
    -------
    float, or ndarray of shape (n_labels,) with ``average=None``
"""


def _prf(metric: Callable[..., Any], what: str) -> Callable[..., Any]:
    def score(
        y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
        average: str | None = "binary", sample_weight: Any = None,
        zero_division: Any = "warn",
    ) -> Any:
        if average == "samples":
            raise ValueError("average='samples' is for multilabel targets, which are not "
                             "supported; use 'binary', 'micro', 'macro', 'weighted' or None.")
        value = _sklearn_on_table(
            metric, y_true, y_pred, sample_weight, labels=labels, pos_label=pos_label,
            average=average, zero_division=zero_division,
        )
        return value if average is None else float(value)

    score.__name__ = score.__qualname__ = metric.__name__
    score.__doc__ = _PRF_DOC.format(what=what, name=metric.__name__)
    return score


precision_score = _prf(skm.precision_score, "Precision ``tp / (tp + fp)``")
recall_score = _prf(skm.recall_score, "Recall ``tp / (tp + fn)``")
f1_score = _prf(skm.f1_score, "F1 score ``2 tp / (2 tp + fp + fn)``")


# ---------------------------------------------------------------- log loss


@dataclass(frozen=True)
class _LossTable:
    """Per true label: weight and Σ w (-log p_k) for every column k of the probabilities.

    labels : (n_labels,); weight : (n_labels,); neg_log : (n_labels, n_columns);
    low, high : smallest and largest probability; unnormalised : rows not summing to one.
    """

    labels: np.ndarray
    weight: np.ndarray
    neg_log: np.ndarray
    low: float
    high: float
    unnormalised: int
    problems: frozenset[str]


def _two_columns(p: np.ndarray) -> np.ndarray:
    """(n,) or (n, 1) probabilities of the positive class -> (n, 2), as scikit-learn."""
    p = p[:, None] if p.ndim == 1 else p
    return np.hstack([1 - p, p]) if p.shape[1] == 1 else p


def _loss_table(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> _LossTable:
    p = np.asarray(p)
    p = p.astype(p.dtype if p.dtype == np.float32 else np.float64)
    problems = _label_problems(y, "y_true") | _problems(p, "y_proba") | _weight_problems(w)
    p = _two_columns(p)
    if problems or len(y) == 0:
        return _LossTable(y[:0], np.zeros(0), np.zeros((0, p.shape[1])), np.inf, -np.inf, 0,
                          problems)
    eps = np.finfo(p.dtype).eps
    unnormalised = int(np.sum(~np.isclose(p.sum(axis=1), 1, rtol=np.sqrt(eps))))
    weight = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    labels, inv = np.unique(y, return_inverse=True)
    neg_log = -np.log(np.clip(p, eps, 1 - eps).astype(np.float64))
    sums = np.stack(
        [np.bincount(inv.ravel(), weight * neg_log[:, k], len(labels)) for k in range(p.shape[1])],
        axis=1,
    )
    return _LossTable(labels, np.bincount(inv.ravel(), weight, len(labels)), sums,
                      float(p.min()), float(p.max()), unnormalised, frozenset())


def _merge_loss_tables(s: _LossTable, t: _LossTable) -> _LossTable:
    labels, inv = np.unique(np.concatenate([s.labels, t.labels]), return_inverse=True)
    inv = inv.ravel()
    neg_log = np.zeros((len(labels), s.neg_log.shape[1]))
    np.add.at(neg_log, inv, np.concatenate([s.neg_log, t.neg_log]))
    return _LossTable(
        labels, np.bincount(inv, np.concatenate([s.weight, t.weight]), len(labels)), neg_log,
        min(s.low, t.low), max(s.high, t.high), s.unnormalised + t.unnormalised,
        s.problems | t.problems,
    )


def _log_loss_classes(labels: Any, n_columns: int) -> np.ndarray | None:
    """The declared classes, checked before any cluster work (None if not given)."""
    if labels is None:
        return None
    classes = np.unique(np.asarray(labels))
    if not np.array_equal(classes, np.asarray(labels)):
        warnings.warn(
            f"Labels passed were {labels}. But this function assumes labels are ordered "
            f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure that "
            "the columns of y_prob correspond to this ordering.", UserWarning, stacklevel=3,
        )
    if len(classes) < 2:
        raise ValueError(f"The labels array needs to contain at least two labels, got {classes}.")
    if len(classes) != n_columns:
        raise ValueError(
            "The number of classes in labels is different from that in y_proba. Classes "
            f"found in labels: {classes}"
        )
    return classes


def log_loss(
    y_true: Any, y_proba: Any, *, normalize: bool = True, sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Cross-entropy ``-Σ w log p[y] / Σ w``, as scikit-learn 1.9's ``log_loss``.

    Probabilities are clipped to ``[eps, 1 - eps]`` (``eps`` of their dtype); rows that do
    not sum to one give scikit-learn's ``UserWarning``.

    Parameters
    ----------
    y_true : array-like or dask collection of shape (n_samples,)
        Class labels (numbers or strings).
    y_proba : array-like or dask collection of shape (n_samples,) or (n_samples, n_classes)
        Probabilities of the classes in sorted order; a vector is the probability of the
        greater of two classes.
    normalize : bool
        Mean (True) or sum (False) of the per-sample losses.
    sample_weight : array-like or dask collection of shape (n_samples,), optional
    labels : array-like, optional
        All the classes, when ``y_true`` may not hold them all.

    Returns
    -------
    float
    """
    y_true = _as_array(y_true, "y_true", (1,))
    y_proba = _as_array(y_proba, "y_proba", (1, 2))
    sample_weight = _as_array(sample_weight, "sample_weight", (1,))
    _check_numeric(y_proba, "y_proba")
    _check_numeric(sample_weight, "sample_weight")
    n_columns = 2 if y_proba.ndim == 1 or y_proba.shape[1] == 1 else int(y_proba.shape[1])
    classes = _log_loss_classes(labels, n_columns)
    arrays = {"y_true": y_true, "y_proba": y_proba, "sample_weight": sample_weight}
    _check_lengths(arrays)
    table: _LossTable = _reduce("log-loss", _loss_table, _merge_loss_tables, arrays)
    _raise(table.problems)
    _check_probabilities(table)
    columns = _class_columns(table.labels, classes, n_columns)
    total = float(table.neg_log[np.arange(len(columns)), columns].sum())
    if not normalize:
        return total
    weight = float(table.weight.sum())
    if weight == 0:
        raise ValueError("Sample weights must contain at least one non-zero number "
                         "(sample_weight sums to zero).")
    return total / weight


def _check_probabilities(table: _LossTable) -> None:
    if table.high > 1:
        raise ValueError(f"y_proba contains values greater than 1: {table.high}")
    if table.low < 0:
        raise ValueError(f"y_proba contains values lower than 0: {table.low}")
    if table.unnormalised:
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=3)


def _class_columns(found: np.ndarray, classes: np.ndarray | None, n_columns: int) -> np.ndarray:
    """Column of y_proba for each label found in y_true (classes in sorted order)."""
    if classes is None:
        if len(found) == 1:
            raise ValueError(
                f"y_true contains only one label ({found[0]}). Please provide the list of all "
                "expected class labels explicitly through the labels argument."
            )
        if len(found) != n_columns:
            raise ValueError(
                f"y_true and y_proba contain different number of classes: {len(found)} vs "
                f"{n_columns}. Please provide the true labels explicitly through the labels "
                f"argument. Classes found in y_true: {found}"
            )
        return np.arange(len(found))
    missing = ~np.isin(found, classes)
    if missing.any():
        raise ValueError(
            f"y_true contains values {set(found[missing].tolist())} not belonging to the passed "
            f"labels {classes.tolist()}."
        )
    return np.searchsorted(classes, found)
