"""Seeded synthetic problems of any size, generated block by block with bounded memory.

Rows are generated in blocks of ``GENERATION_ROWS`` rows, block ``k`` from its own seed
``(random_state, 1, k)``: any range of rows can be made alone, so the data are the same
however they are cut into chunks, written, or computed (in any order, on any worker). The
true coefficients come from the seed ``(random_state, 0)``.

Problems (X has independent standard normal features):

- ``"classification"``: ``y ~ Bernoulli(sigmoid(X @ coef + intercept))``, int64 0/1,
  ``coef ~ N(0, 4 / n_features)`` (linear predictor of standard deviation about 2),
  intercept 0.5.
- ``"regression"``: ``y = X @ coef + intercept + N(0, 1)``, float64, ``coef ~ N(0, 1)``,
  intercept 1.
- ``"poisson"``: ``y ~ Poisson(exp(X @ coef + intercept))``, float64,
  ``coef ~ N(0, 0.25 / n_features)``, intercept 0.5.
"""

from __future__ import annotations

import itertools
import numbers
from typing import Any

import dask
import dask.array as da
import numpy as np

#: Rows per generation block (each from its own seed).
GENERATION_ROWS = 1000

KINDS = ("classification", "regression", "poisson")
_INTERCEPTS = {"classification": 0.5, "regression": 1.0, "poisson": 0.5}
_COEF_SCALES = {"classification": 2.0, "regression": None, "poisson": 0.5}


def check_problem(
    n_samples: Any, n_features: Any, kind: Any, chunk_rows: Any, dtype: Any, random_state: Any
) -> np.dtype:
    """Raise a ``ValueError`` naming the first bad argument; the float dtype otherwise."""
    for name, value in (("n_samples", n_samples), ("n_features", n_features),
                        ("chunk_rows", chunk_rows)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}; got {kind!r}.")
    if (not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool)
            or random_state < 0):
        raise ValueError(f"random_state must be an integer >= 0; got {random_state!r}.")
    try:
        out = np.dtype(dtype)
    except TypeError:
        out = None
    if out not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}.")
    return np.dtype(out)


def true_coefficients(kind: str, n_features: int, random_state: int) -> tuple[np.ndarray, float]:
    """``(coef, intercept)`` of the problem: coef of shape (n_features,), float64."""
    coef = np.random.default_rng([random_state, 0]).standard_normal(n_features)
    scale = _COEF_SCALES[kind]
    if scale is not None:
        coef *= scale / np.sqrt(n_features)
    return coef, _INTERCEPTS[kind]


def rows(
    kind: str, n_features: int, start: int, stop: int, random_state: int,
    dtype: np.dtype | str = "float64",
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``start .. stop - 1`` of the problem: X (stop - start, n_features) and y.

    Only the generation blocks that overlap the range are made, one at a time.
    """
    coef, intercept = true_coefficients(kind, n_features, random_state)
    X = np.empty((stop - start, n_features), dtype=dtype)
    y = np.empty(stop - start, dtype=np.int64 if kind == "classification" else np.float64)
    first, last = start // GENERATION_ROWS, (stop - 1) // GENERATION_ROWS
    for k in range(first, last + 1):
        rng = np.random.default_rng([random_state, 1, k])
        block = rng.standard_normal((GENERATION_ROWS, n_features))
        targets = _targets(kind, block @ coef + intercept, rng)
        lo, hi = max(start, k * GENERATION_ROWS), min(stop, (k + 1) * GENERATION_ROWS)
        part = slice(lo - k * GENERATION_ROWS, hi - k * GENERATION_ROWS)
        X[lo - start : hi - start] = block[part]
        y[lo - start : hi - start] = targets[part]
    return X, y


def _targets(kind: str, eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Targets drawn around the linear predictor ``eta`` (float64, one per row)."""
    if kind == "classification":
        return (rng.random(eta.size) < 1 / (1 + np.exp(-eta))).astype(np.int64)
    if kind == "regression":
        return eta + rng.standard_normal(eta.size)
    return rng.poisson(np.exp(eta)).astype(np.float64)


def lazy_problem(
    n_samples: int, n_features: int, *, kind: str = "classification",
    chunk_rows: int = 125_000, dtype: str = "float64", random_state: int = 0,
) -> tuple[da.Array, da.Array]:
    """The problem as lazy dask arrays ``(X, y)``: nothing is generated until computed.

    One task per chunk of ``chunk_rows`` rows makes both its X and y blocks, the same
    values :func:`rows` gives (and ``datasets.make_zarr`` writes).
    """
    float_dtype = check_problem(n_samples, n_features, kind, chunk_rows, dtype, random_state)
    spans = list(itertools.pairwise([*range(0, n_samples, chunk_rows), n_samples]))
    make = dask.delayed(rows, pure=True, nout=2)
    parts = [make(kind, n_features, a, b, random_state, float_dtype) for a, b in spans]
    y_dtype = np.int64 if kind == "classification" else np.float64
    X = da.concatenate([
        da.from_delayed(p[0], (b - a, n_features), dtype=float_dtype)
        for p, (a, b) in zip(parts, spans)
    ])
    y = da.concatenate([
        da.from_delayed(p[1], (b - a,), dtype=y_dtype) for p, (a, b) in zip(parts, spans)
    ])
    return X, y
