"""Label tables: the weighted (y_true, label or score) table of some rows, its merge, and its
reduction over the inputs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from daskgd.metrics._reduce import (
    _as_array,
    _check_lengths,
    _check_numeric,
    _problems,
    _raise,
    _reduce,
    _weight_problems,
)


@dataclass(frozen=True)
class _Table:
    """Rows (a, b) that occur together, with their count and total weight.

    a, b : (n_rows,) values (labels, or a label and a score); count : (n_rows,) int64;
    weight : (n_rows,) float64; problems : messages about invalid values.
    """

    a: np.ndarray
    b: np.ndarray
    count: np.ndarray
    weight: np.ndarray
    problems: frozenset[str]


def _group(a: np.ndarray, b: np.ndarray, count: np.ndarray, weight: np.ndarray) -> _Table:
    """Sum ``count`` and ``weight`` over equal (a, b) pairs."""
    if len(a) == 0:
        return _Table(a, b, count.astype(np.int64), weight.astype(np.float64), frozenset())
    ua, ia = np.unique(a, return_inverse=True)
    ub, ib = np.unique(b, return_inverse=True)
    code = ia.astype(np.int64).ravel() * len(ub) + ib.ravel()
    uc, inv = np.unique(code, return_inverse=True)
    return _Table(
        ua[uc // len(ub)], ub[uc % len(ub)],
        np.bincount(inv, count, len(uc)).astype(np.int64), np.bincount(inv, weight, len(uc)),
        frozenset(),
    )


def _label_problems(values: np.ndarray, name: str) -> frozenset[str]:
    """NaN, or non-integer floats (a continuous target, which has no classes)."""
    problems = _problems(values, name)
    if not problems and values.dtype.kind == "f" and np.any(values != np.round(values)):
        problems = frozenset({
            f"{name} has non-integer values (a continuous target); classification metrics "
            "need class labels."
        })
    return problems


def _table(
    a: np.ndarray, b: np.ndarray, w: np.ndarray | None, *, b_name: str, b_is_label: bool
) -> _Table:
    """The kernel of the label metrics: a block's (y_true, b) table."""
    problems = _label_problems(a, "y_true") | _weight_problems(w)
    problems |= _label_problems(b, b_name) if b_is_label else _problems(b, b_name)
    if problems:
        empty = np.empty(0)
        return _Table(empty, empty, empty.astype(np.int64), empty, problems)
    weight = np.ones(len(a)) if w is None else np.asarray(w, dtype=np.float64)
    try:
        return _group(a, b, np.ones(len(a)), weight)
    except TypeError:  # labels that do not sort together, e.g. strings and numbers
        message = f"y_true and {b_name} mix label types that cannot be compared (e.g. str, int)."
        empty = np.empty(0)
        return _Table(empty, empty, empty.astype(np.int64), empty, frozenset({message}))


def _merge_tables(s: _Table, t: _Table) -> _Table:
    problems = s.problems | t.problems
    if problems:
        return _Table(s.a[:0], s.b[:0], s.count[:0], s.weight[:0], problems)
    if len(s.a) == 0 or len(t.a) == 0:
        return t if len(s.a) == 0 else s
    try:
        return _group(
            np.concatenate([s.a, t.a]), np.concatenate([s.b, t.b]),
            np.concatenate([s.count, t.count]), np.concatenate([s.weight, t.weight]),
        )
    except TypeError:
        message = "labels of different blocks mix types that cannot be compared (e.g. str, int)."
        return _Table(s.a[:0], s.b[:0], s.count[:0], s.weight[:0], frozenset({message}))


def _labels_table(
    y_true: Any, b: Any, sample_weight: Any, *, b_name: str, b_is_label: bool
) -> _Table:
    """The combined (y_true, b) table."""
    y_true = _as_array(y_true, "y_true", (1,))
    b = _as_array(b, b_name, (1,))
    sample_weight = _as_array(sample_weight, "sample_weight", (1,))
    _check_numeric(sample_weight, "sample_weight")
    if not b_is_label:
        _check_numeric(b, b_name)
    arrays = {"y_true": y_true, b_name: b, "sample_weight": sample_weight}
    _check_lengths(arrays)
    kernel = functools.partial(_table, b_name=b_name, b_is_label=b_is_label)
    table: _Table = _reduce("labels", kernel, _merge_tables, arrays)
    _raise(table.problems)
    return table
