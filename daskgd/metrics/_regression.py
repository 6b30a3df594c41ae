"""Regression metrics: MSE, MAE and R² from one moment triple, D² from Poisson moments."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import xlogy
from sklearn.exceptions import UndefinedMetricWarning

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
