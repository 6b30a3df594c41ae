"""Input checks and the blockwise reduction shared by every metric.

A metric is a kernel (the partial statistics of some rows) and a combine (of two partial
statistics); ``_reduce`` runs the kernel on each row block of the inputs and combines the
results in a tree of tasks on the cluster, or runs it once on the driver for in-memory inputs.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
from dask.delayed import Delayed, delayed

from daskgd._data import dask_frame_values

# Fan-in of the tree that combines per-block statistics on the cluster.
_SPLIT_EVERY = 8

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
