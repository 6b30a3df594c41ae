"""Metrics computed where the data are: scikit-learn's scores on dask inputs.

Every function takes scikit-learn's arguments and returns scikit-learn's value for the same
data. The inputs may be NumPy arrays, pandas objects, dask arrays (any row chunking, also
unknown chunk sizes) or dask Series/DataFrames, mixed freely. When one of them is a dask
collection the metric is **one dask computation**: a task per row block computes partial
statistics of its rows (weighted sums, a moment triple, or a small table keyed by label or
score), a tree of tasks combines them on the cluster, and only the combined statistics reach
the driver. In-memory inputs go through the same per-block code on the driver.

Combined statistics and their size (see ``docs/metrics.md``):

- regression (``mean_squared_error``, ``mean_absolute_error``, ``r2_score``): total weight,
  weighted sums of squared and absolute errors, and the weighted mean and centred sum of
  squares of ``y_true`` (merged pairwise, Chan et al.), so R² needs one pass and stays exact;
- classification (``accuracy_score``, ``precision_score``, ``recall_score``, ``f1_score``):
  the weighted confusion table, one row per (true label, predicted label) pair that occurs;
- ``log_loss``: per true label, its weight and the weighted sums of ``-log p`` per column;
- ``roc_auc_score``: per (label, distinct score), the count and weight: O(number of distinct
  scores) memory, which for continuous scores is up to one row per sample.

The class-based metrics finish by calling scikit-learn on the combined table (one sample per
table row, its weight as ``sample_weight``), so labels, averaging, ``zero_division``,
warnings and errors are scikit-learn's own.
"""

from __future__ import annotations

import functools
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
from dask.delayed import Delayed, delayed
from scipy.special import xlogy
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from daskgd._data import dask_frame_values

__all__ = [
    "accuracy_score",
    "d2_tweedie_score",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
]

# Fan-in of the tree that combines per-block statistics on the cluster.
_SPLIT_EVERY = 8

# ---------------------------------------------------------------- inputs and the reduction


def _as_array(value: Any, name: str, ndims: tuple[int, ...]) -> Any:
    """``value`` as a NumPy or dask array with one of ``ndims`` dimensions.

    pandas objects become NumPy, dask Series/DataFrames dask arrays; a (n, 1) column is
    taken as a vector when vectors are expected.
    """
    if value is None:
        return None
    if isinstance(value, pd.DataFrame | pd.Series):
        value = value.to_numpy()
    elif type(value).__module__.startswith("dask") and hasattr(value, "to_dask_array"):
        meta = value._meta
        dtypes = list(meta.dtypes) if meta.ndim == 2 else [meta.dtype]
        if all(pd.api.types.is_numeric_dtype(t) for t in dtypes):
            # nullable (Float64, Int64, boolean) or mixed columns: float64, pd.NA as NaN
            value = dask_frame_values(value)
        else:
            value = value.to_dask_array()
    if not isinstance(value, da.Array):
        value = np.asarray(value)
    if value.ndim == 2 and value.shape[1] == 1 and 1 in ndims and 2 not in ndims:
        value = value[:, 0]
    if value.ndim not in ndims:
        expected = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {expected}; got {value.ndim}-D, shape {value.shape}.")
    if value.ndim == 2 and isinstance(value, da.Array) and len(value.chunks[1]) > 1:
        value = value.rechunk({1: -1})  # every task sees whole rows
    return value


def _check_numeric(value: Any, name: str) -> None:
    if value is not None and value.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {value.dtype}.")


def _known_rows(a: Any) -> bool:
    return not isinstance(a, da.Array) or not any(np.isnan(c) for c in a.chunks[0])


def _check_lengths(arrays: dict[str, Any]) -> None:
    """Equal row counts where they are known (unknown ones are checked on the cluster)."""
    known = [(k, int(v.shape[0])) for k, v in arrays.items() if v is not None and _known_rows(v)]
    for name, n in known[1:]:
        if n != known[0][1]:
            raise ValueError(
                f"{known[0][0]} and {name} have different numbers of samples: "
                f"{known[0][0]} has {known[0][1]}, {name} has {n}."
            )


class _Mismatch:
    """What a task returns when blocks assumed aligned (unknown chunk sizes) are not."""


def _block_stats(kernel: Callable[..., Any], *blocks: Any) -> Any:
    if len({b.shape[0] for b in blocks if b is not None}) > 1:
        return _Mismatch()
    return kernel(*blocks)


def _combine_all(combine: Callable[[Any, Any], Any], *parts: Any) -> Any:
    if any(isinstance(p, _Mismatch) for p in parts):
        return _Mismatch()
    return functools.reduce(combine, parts)


def _resolved(arrays: list[Any]) -> list[Any]:
    """Copies of the dask arrays with unknown row chunk sizes, with the sizes computed (in one
    computation; the user's arrays are left as they are)."""
    unknown = [i for i, a in enumerate(arrays) if isinstance(a, da.Array) and not _known_rows(a)]
    lengths = dask.compute(
        [[delayed(len)(b) for b in arrays[i].to_delayed().ravel()] for i in unknown]
    )[0]
    out = list(arrays)
    for i, rows in zip(unknown, lengths):
        a = arrays[i]
        out[i] = da.Array(a.dask, a.name, (tuple(rows), *a.chunks[1:]), meta=a._meta)
    return out


def _aligned(arrays: list[Any]) -> list[Any] | None:
    """The inputs as dask arrays on the row chunks of the first dask one; None if that needs
    chunk sizes that are unknown.

    With unknown chunk sizes, dask inputs with as many blocks are assumed aligned (each task
    checks its blocks' lengths).
    """
    present = [a for a in arrays if a is not None]
    dask_arrays = [a for a in present if isinstance(a, da.Array)]
    ref = dask_arrays[0]
    if not all(_known_rows(a) for a in dask_arrays):
        twins = len(dask_arrays) == len(present) and all(
            a.numblocks[0] == ref.numblocks[0] for a in dask_arrays
        )
        return arrays if twins else None
    rows = ref.chunks[0]
    out = []
    for a in arrays:
        if a is None or (isinstance(a, da.Array) and a.chunks[0] == rows):
            out.append(a)
        elif isinstance(a, da.Array):
            out.append(a.rechunk({0: rows}))
        else:
            out.append(da.from_array(a, chunks=(rows, *a.shape[1:])))
    return out


def _graph(
    name: str, kernel: Callable[..., Any], combine: Callable[[Any, Any], Any], arrays: list[Any]
) -> Delayed:
    """One task per row block (``daskgd-metrics-<name>-block``), then a combining tree."""
    token = uuid.uuid4().hex[:12]
    n_blocks = next(a for a in arrays if a is not None).numblocks[0]
    blocks = [a.to_delayed().ravel() if a is not None else [None] * n_blocks for a in arrays]
    level = [
        delayed(_block_stats, pure=True)(
            kernel, *(b[i] for b in blocks),
            dask_key_name=f"daskgd-metrics-{name}-block-{token}-{i}",
        )
        for i in range(n_blocks)
    ]
    depth = 0
    while len(level) > 1:
        level = [
            delayed(_combine_all, pure=True)(
                combine, *level[j : j + _SPLIT_EVERY],
                dask_key_name=f"daskgd-metrics-{name}-combine-{token}-{depth}-{j}",
            )
            for j in range(0, len(level), _SPLIT_EVERY)
        ]
        depth += 1
    return level[0]


def _reduce(
    name: str, kernel: Callable[..., Any], combine: Callable[[Any, Any], Any],
    named: dict[str, Any],
) -> Any:
    """The combined statistics of ``kernel`` over the row blocks of ``arrays``.

    In-memory inputs: one block, on the driver. Dask inputs: one dask computation on the
    active ``distributed.Client`` (or dask's default scheduler); blocks that differ are
    rechunked to the first dask array's row chunks, and chunk sizes are computed only when
    they are unknown and the inputs cannot be assumed aligned.
    """
    arrays = list(named.values())
    if not any(isinstance(a, da.Array) for a in arrays):
        return kernel(*arrays)
    aligned = _aligned(arrays)
    if aligned is not None:
        result = dask.compute(_graph(name, kernel, combine, aligned))[0]
        if not isinstance(result, _Mismatch):
            return result
        # Unknown chunk sizes that differ: compute them, then rechunk.
    resolved = _resolved(arrays)
    _check_lengths(dict(zip(named, resolved)))
    aligned = _aligned(resolved)
    assert aligned is not None
    return dask.compute(_graph(name, kernel, combine, aligned))[0]


def _problems(values: Any, name: str) -> frozenset[str]:
    """Non-finite values in a float array, as messages naming the argument."""
    if values.dtype.kind in "fc" and values.size and not np.all(np.isfinite(values)):
        return frozenset({f"Input {name} contains NaN or infinity."})
    return frozenset()


def _raise(problems: frozenset[str]) -> None:
    if problems:
        raise ValueError(" ".join(sorted(problems)))


def _weight_problems(w: Any) -> frozenset[str]:
    return frozenset() if w is None else _problems(np.asarray(w, dtype=np.float64),
                                                   "sample_weight")


# ---------------------------------------------------------------- regression


@dataclass(frozen=True)
class _Moments:
    """Additive regression statistics of some rows.

    weight: Σw; mean: Σwy/Σw; m2: Σw(y - mean)²; sse: Σw(y - ŷ)²; sae: Σw|y - ŷ|;
    n: number of rows; problems: messages about invalid values.
    """

    n: int
    weight: float
    mean: float
    m2: float
    sse: float
    sae: float
    problems: frozenset[str]


def _moments(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> _Moments:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    problems = _problems(y, "y_true") | _problems(p, "y_pred") | _weight_problems(w)
    if problems:
        return _Moments(len(y), 0.0, 0.0, 0.0, 0.0, 0.0, problems)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    weight = float(w.sum())
    mean = float(w @ y / weight) if weight else 0.0
    r = y - p
    return _Moments(
        len(y), weight, mean, float(w @ (y - mean) ** 2), float(w @ r**2), float(w @ np.abs(r)),
        frozenset(),
    )


def _merge_moments(a: _Moments, b: _Moments) -> _Moments:
    """Chan et al.'s pairwise update: exact centred sums without a second pass."""
    weight = a.weight + b.weight
    if a.weight == 0 or b.weight == 0:
        mean = a.mean if b.weight == 0 else b.mean
        m2 = a.m2 + b.m2
    else:
        delta = b.mean - a.mean
        mean = a.mean + delta * b.weight / weight
        m2 = a.m2 + b.m2 + delta**2 * a.weight * b.weight / weight
    return _Moments(
        a.n + b.n, weight, mean, m2, a.sse + b.sse, a.sae + b.sae, a.problems | b.problems
    )


def _regression_inputs(y_true: Any, y_pred: Any, sample_weight: Any) -> dict[str, Any]:
    """The regression inputs as vectors, checked before any cluster work."""
    y_true = _as_array(y_true, "y_true", (1,))
    y_pred = _as_array(y_pred, "y_pred", (1,))
    sample_weight = _as_array(sample_weight, "sample_weight", (1,))
    for value, name in ((y_true, "y_true"), (y_pred, "y_pred"), (sample_weight, "sample_weight")):
        _check_numeric(value, name)
    arrays = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight}
    _check_lengths(arrays)
    return arrays


def _regression_moments(y_true: Any, y_pred: Any, sample_weight: Any) -> _Moments:
    arrays = _regression_inputs(y_true, y_pred, sample_weight)
    stats: _Moments = _reduce("regression", _moments, _merge_moments, arrays)
    _raise(stats.problems)
    return stats


def _check_weight_sum(weight: float) -> None:
    """Raise scikit-learn's ``ValueError`` when the weights sum to zero (or there are no rows)."""
    if weight == 0:
        raise ValueError(
            "Sample weights must contain at least one non-zero number (sample_weight sums to "
            "zero, or there are no samples)."
        )


def _weighted_mean(total: float, stats: _Moments) -> float:
    _check_weight_sum(stats.weight)
    return total / stats.weight


def mean_squared_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None
) -> float:
    """Mean squared error, ``Σ w (y_true - y_pred)² / Σ w``, as scikit-learn's.

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
        True and predicted targets.
    sample_weight : array-like or dask collection of shape (n_samples,), optional

    Returns
    -------
    float
    """
    stats = _regression_moments(y_true, y_pred, sample_weight)
    return float(_weighted_mean(stats.sse, stats))


def mean_absolute_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None
) -> float:
    """Mean absolute error, ``Σ w |y_true - y_pred| / Σ w``, as scikit-learn's.

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
    sample_weight : array-like or dask collection of shape (n_samples,), optional

    Returns
    -------
    float
    """
    stats = _regression_moments(y_true, y_pred, sample_weight)
    return float(_weighted_mean(stats.sae, stats))


def r2_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, force_finite: bool = True
) -> float:
    """R², ``1 - Σ w (y - ŷ)² / Σ w (y - ȳ)²``, as scikit-learn's (one pass over the data).

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
    sample_weight : array-like or dask collection of shape (n_samples,), optional
    force_finite : bool
        As scikit-learn: constant ``y_true`` scores 1.0 (perfect predictions) or 0.0
        instead of NaN or -inf.

    Returns
    -------
    float
        NaN, with an ``UndefinedMetricWarning``, for fewer than two samples.

    Raises
    ------
    ValueError
        If the sample weights sum to zero or there are no samples, as scikit-learn.
    """
    stats = _regression_moments(y_true, y_pred, sample_weight)
    _check_weight_sum(stats.weight)
    if stats.n < 2:
        warnings.warn(
            "R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    numerator, denominator = stats.sse, stats.m2
    if force_finite and numerator == 0:
        return 1.0
    if force_finite and denominator == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1 - np.float64(numerator) / np.float64(denominator))


@dataclass(frozen=True)
class _PoissonMoments:
    """Additive Poisson deviance statistics of some rows.

    weight: Σw; mean: Σwy/Σw; spread: Σw y log(y / mean) (the null deviance / 2, about this
    mean); deviance: Σw 2 (y log(y/ŷ) - y + ŷ); n: number of rows.
    """

    n: int
    weight: float
    mean: float
    spread: float
    deviance: float
    problems: frozenset[str]


def _poisson_moments(y: np.ndarray, p: np.ndarray, w: np.ndarray | None) -> _PoissonMoments:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    problems = _problems(y, "y_true") | _problems(p, "y_pred") | _weight_problems(w)
    if not problems and (np.any(y < 0) or np.any(p <= 0)):
        problems = frozenset({
            "Mean Tweedie deviance error with power=1 can only be used on non-negative y and "
            "strictly positive y_pred."
        })
    if problems:
        return _PoissonMoments(len(y), 0.0, 0.0, 0.0, 0.0, problems)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype=np.float64)
    weight = float(w.sum())
    mean = float(w @ y / weight) if weight else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = float(w @ xlogy(y, y / mean)) if mean > 0 else 0.0
    deviance = float(w @ (2 * (xlogy(y, y / p) - y + p)))
    return _PoissonMoments(len(y), weight, mean, spread, deviance, frozenset())


def _merge_poisson(a: _PoissonMoments, b: _PoissonMoments) -> _PoissonMoments:
    """Move both spreads to the joint mean: Σ w y log(y/m) = S_a + Y_a log(m_a/m) + ..."""
    weight = a.weight + b.weight
    mean = (a.weight * a.mean + b.weight * b.mean) / weight if weight else 0.0
    spread = a.spread + b.spread
    for part in (a, b):
        if part.mean > 0:
            spread += part.weight * part.mean * np.log(part.mean / mean)
    return _PoissonMoments(
        a.n + b.n, weight, mean, spread, a.deviance + b.deviance, a.problems | b.problems
    )


def d2_tweedie_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, power: float = 0
) -> float:
    """D², the share of Tweedie deviance explained, as scikit-learn's, for ``power`` 0 or 1.

    ``power=0`` (normal) is R² without ``force_finite``; ``power=1`` (Poisson) is
    ``1 - Σ w d(y, ŷ) / Σ w d(y, ȳ)`` with the Poisson deviance ``d`` and the weighted mean
    ``ȳ``, in one pass (each block's spread about its own mean, moved to the joint mean
    when blocks are combined).

    Parameters
    ----------
    y_true, y_pred : array-like or dask collection of shape (n_samples,)
        For ``power=1``: ``y_true >= 0`` and ``y_pred > 0``.
    sample_weight : array-like or dask collection of shape (n_samples,), optional
    power : {0, 1}

    Returns
    -------
    float
        NaN, with an ``UndefinedMetricWarning``, for fewer than two samples.

    Raises
    ------
    ValueError
        If the sample weights sum to zero or there are no samples, as scikit-learn.
    """
    if power not in (0, 1):
        raise ValueError(f"power must be 0 (normal) or 1 (Poisson) here; got {power!r}.")
    if power == 0:
        stats = _regression_moments(y_true, y_pred, sample_weight)
        numerator, denominator, n, weight = stats.sse, stats.m2, stats.n, stats.weight
    else:
        arrays = _regression_inputs(y_true, y_pred, sample_weight)
        poisson: _PoissonMoments = _reduce("poisson", _poisson_moments, _merge_poisson, arrays)
        _raise(poisson.problems)
        numerator, denominator, n = poisson.deviance, 2 * poisson.spread, poisson.n
        weight = poisson.weight
    _check_weight_sum(weight)
    if n < 2:
        warnings.warn("D^2 score is not well-defined with less than two samples.",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1 - np.float64(numerator) / np.float64(denominator))


# ---------------------------------------------------------------- label tables


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
