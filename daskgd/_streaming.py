"""Streamed placement: row chunks read from their source on every pass, never persisted.

When X does not fit in the cluster's memory (or the ``daskgd.placement`` setting says so),
the engine places a :class:`LazyChunk` per row block instead of the block itself: the culled
dask graph that computes that block of X (and of y and w), a few kilobytes. Every oracle
call loads each chunk inside the worker's task (``LazyChunk.load``, dask's synchronous
scheduler on the small graph), runs the kernel and lets the data go, so a worker holds about
one chunk at a time whatever the number of rows. A lost lazy chunk is sent again from the
driver, which keeps them all.

This module and ``_engine`` are the only ones here that use dask during a fit; the kernels
only ever see the loaded ``_kernels.Chunk``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import dask
import dask.array as da
import dask.local
import numpy as np
from dask.optimization import cull
from dask.typing import Key
from distributed import Client, Future
from distributed.system import MEMORY_LIMIT

from daskgd import _kernels
from daskgd._data import _check_lengths, unknown_chunks

logger = logging.getLogger("daskgd")

#: Values of the ``daskgd.placement`` setting.
PLACEMENTS = ("auto", "persist", "stream")


def placement_setting() -> str:
    """The ``daskgd.placement`` dask setting, checked.

    With ``"auto"`` the ``daskgd.auto-stream-fraction`` setting is checked too, here,
    before any cluster work (``"auto"`` may read the block lengths before it weighs X).

    Raises
    ------
    ValueError
        If the setting is not one of ``PLACEMENTS``, or it is ``"auto"`` and the fraction
        is not a number in (0, 1].
    """
    value = dask.config.get("daskgd.placement", "auto")
    if value not in PLACEMENTS:
        raise ValueError(
            f"The dask setting daskgd.placement must be one of {list(PLACEMENTS)}; got "
            f"{value!r}."
        )
    if value == "auto":
        _auto_fraction()
    return str(value)


def _auto_fraction() -> float:
    """The ``daskgd.auto-stream-fraction`` setting, checked (a number in (0, 1])."""
    value = dask.config.get("daskgd.auto-stream-fraction", 0.5)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(
            "The dask setting daskgd.auto-stream-fraction must be a number in (0, 1]; got "
            f"{value!r}."
        )
    return float(value)


def cluster_memory(client: Client) -> int:
    """Memory the workers have free, in bytes: the sum over workers of their memory limit
    less what their process uses now (the libraries and data they hold already take a
    good part of a small limit). A worker without a limit counts with the memory of this
    machine, the best guess the driver has."""
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return int(sum(
        max(0, (w.get("memory_limit") or MEMORY_LIMIT) - w.get("metrics", {}).get("memory", 0))
        for w in workers
    ))


def choose_placement(
    client: Client, X: da.Array, setting: str, shuffled: bool
) -> bool:
    """Whether to stream X (True) or persist it (False), logged at INFO with the reason.

    ``"auto"`` streams when X's bytes exceed ``daskgd.auto-stream-fraction`` of the
    workers' free memory (:func:`cluster_memory`); X's row chunk sizes must be known. A
    shuffled placement moves every row between workers and must hold X in memory:
    ``"auto"`` persists it and ``"stream"`` is refused.

    Raises
    ------
    ValueError
        ``"stream"`` with a shuffled row placement.
    """
    if shuffled:
        if setting == "stream":
            raise ValueError(
                "row_placement='shuffled' moves every row between workers and needs X in "
                "cluster memory, but the dask setting daskgd.placement is 'stream'; use "
                "row_placement='contiguous' to stream X."
            )
        logger.info("daskgd: X is persisted in cluster memory (row_placement='shuffled' "
                    "needs it there).")
        return False
    if setting != "auto":
        logger.info("daskgd: X is %s (the dask setting daskgd.placement is %r).",
                    "streamed from its source each pass" if setting == "stream"
                    else "persisted in cluster memory", setting)
        return setting == "stream"
    fraction = _auto_fraction()
    memory = cluster_memory(client)
    streamed = bool(X.nbytes > fraction * memory)
    logger.info(
        "daskgd: X (%.1f MiB) is %s: %s %.0f%% of the workers' free memory (%.1f MiB; "
        "daskgd.placement='auto', daskgd.auto-stream-fraction=%s).",
        X.nbytes / 2**20,
        "streamed from its source each pass" if streamed else "persisted in cluster memory",
        "more than" if streamed else "at most", 100 * fraction, memory / 2**20, fraction,
    )
    return streamed


def resolve_chunk_sizes(client: Client, arrays: Sequence[da.Array | None]) -> list[Any]:
    """The arrays with their unknown row chunk sizes (NaN, e.g. from a DataFrame) found.

    One round of tasks reads each block and returns only its length: nothing is persisted,
    so memory stays at a block per task. Arrays with known sizes (and None) come back as
    they are.
    """
    todo = {i: a for i, a in enumerate(arrays) if a is not None and unknown_chunks(a)}
    lengths = [
        da.map_blocks(
            _block_length, a, chunks=((1,) * a.numblocks[0],),
            drop_axis=list(range(1, a.ndim)), dtype=np.int64,
        )
        for a in todo.values()
    ]
    found = client.compute(lengths, sync=True) if lengths else []
    out = list(arrays)
    for (i, a), sizes in zip(todo.items(), found):
        rows = tuple(int(s) for s in sizes)
        out[i] = da.Array(a.dask, a.name, (rows, *a.chunks[1:]), meta=a._meta)
    return out


def _block_length(block: Any) -> np.ndarray:
    return np.array([block.shape[0]])


def aligned_rows(
    client: Client, X: da.Array, y: da.Array, w: da.Array | None
) -> tuple[da.Array, da.Array, da.Array | None]:
    """X, y and w with known row chunks, y and w re-chunked (lazily) to X's rows.

    Raises
    ------
    ValueError
        X has no rows, or y or w has another number of rows than X.
    """
    X, y, w = resolve_chunk_sizes(client, [X, y, w])
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has 0 samples; at least one is required.")
    _check_lengths(n, y, w)
    y = _with_rows(y, X.chunks[0])
    w = None if w is None else _with_rows(w, X.chunks[0])
    return X, y, w


def _with_rows(v: da.Array, rows: tuple[int, ...]) -> da.Array:
    """A vector re-chunked to ``rows``.

    A vector whose graph is only data (NumPy y or weights given with a dask X, wrapped by
    ``dask.array.from_array``) is split on the driver instead: re-chunking it in the graph
    would put all of it in the graph of every chunk that takes a slice of it.
    """
    if v.chunks[0] == rows:
        return v
    if all(isinstance(value, np.ndarray) for value in dict(v.__dask_graph__()).values()):
        return da.from_array(v.compute(scheduler="sync"), chunks=(rows,))
    return v.rechunk({0: rows})


@dataclasses.dataclass(frozen=True, eq=False)
class LazyChunk:
    """A row block of the fit data as the graph that computes it; loaded on every pass.

    Parameters
    ----------
    graph : dict
        The culled dask graph computing exactly this block's ``keys`` (tasks it shares,
        such as reading one Parquet partition for X and y, run once per load).
    keys : dict
        ``"X"``, ``"y"`` and optionally ``"w"`` -> the graph key of that block:
        (n_rows, n_features), (n_rows,) and (n_rows,).
    classes, factors : ndarray or None
        Set by :meth:`encoded`: the labels are replaced by their index in ``classes`` (and
        the weights multiplied by ``factors``) as the chunk is loaded.
    """

    graph: dict[Key, Any]
    keys: dict[str, Key]
    classes: np.ndarray | None = None
    factors: np.ndarray | None = None

    def load(self) -> _kernels.Chunk:
        """Compute the block in this thread (synchronous scheduler) as a kernel ``Chunk``."""
        names = list(self.keys)
        values = dict(zip(names, dask.local.get_sync(self.graph, [self.keys[k] for k in names])))
        chunk = _kernels.make_chunk(values["X"], values["y"], values.get("w"))
        if self.classes is None:
            return chunk
        return _kernels.encode_labels(chunk, self.classes, self.factors)

    def encoded(self, classes: np.ndarray, factors: np.ndarray | None) -> LazyChunk:
        """This chunk with its labels encoded (``_kernels.encode_labels``) on every load."""
        return dataclasses.replace(self, classes=classes, factors=factors)


def lazy_chunks(X: da.Array, y: da.Array, w: da.Array | None) -> list[LazyChunk]:
    """One :class:`LazyChunk` per row block of X (one column block), in block order.

    X, y and w must have the same row chunks. The graphs are optimised together first, so
    a task feeding several of them (a file read) stays one task in each chunk's graph.
    """
    arrays = [a for a in (X, y, w) if a is not None]
    optimised = dask.optimize(*arrays)
    graph: dict[Key, Any] = {}
    for a in optimised:
        graph.update(a.__dask_graph__())
    names = ["X", "y", "w"][: len(arrays)]
    block_keys = [a.__dask_keys__() for a in optimised]
    chunks = []
    for i in range(X.numblocks[0]):
        keys = {
            name: (ks[i][0] if a.ndim == 2 else ks[i])
            for name, a, ks in zip(names, optimised, block_keys)
        }
        culled, _ = cull(graph, list(keys.values()))
        chunks.append(LazyChunk(culled, keys))
    return chunks


def scatter_chunk(client: Client, chunk: LazyChunk, index: int) -> Future:
    """Send a lazy chunk to a worker (``index`` modulo the workers, for balance)."""
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    target = [workers[index % len(workers)]] if workers else None
    return client.scatter([chunk], workers=target, hash=False)[0]
