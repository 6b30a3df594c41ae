"""The only module that talks to dask during a fit.

``Engine`` places the row chunks on the cluster once (scattered from NumPy input, persisted
from dask input), groups them by the worker that holds them and answers the solvers' oracle
calls with **one round of tasks per call: one task per worker**. Each task loops over its
worker's chunks (``_kernels.run_group``) and returns per-chunk partial sums, which the driver
adds in chunk order, so results do not depend on where chunks live.

A call that fails because a worker died is retried after the lost chunks are re-placed
(re-sent from the driver for NumPy input, recomputed from the graph for dask input): tasks
are pure functions of (chunks, coefficients), so the retried call gives the same sums.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

import dask.array as da
import numpy as np
from distributed import Client, Future, LocalCluster, futures_of, wait
from distributed.scheduler import KilledWorker

from daskgd import _kernels
from daskgd._data import (
    DataSummary,
    FitInput,
    join_column_blocks,
    summarise,
    unknown_chunks,
)
from daskgd._kernels import Chunk

logger = logging.getLogger("daskgd")

# Errors that mean "the cluster lost something", after which a call is retried.
_LOST = (CancelledError, KilledWorker, OSError)

#: Target size of the chunks NumPy input is split into (bytes of X).
NUMPY_CHUNK_BYTES = 32 * 2**20


@contextlib.contextmanager
def fit_client() -> Iterator[Client]:
    """The active ``distributed.Client``, or a ``LocalCluster`` started for this fit only.

    With no active client, a local cluster of worker processes (one single-threaded worker per
    core) is started, logged, and closed when the block exits. A client found active is never
    closed.
    """
    from distributed import default_client

    try:
        active = default_client()
    except ValueError:
        active = None
    if active is not None:
        # Errors raised by the fit pass through: this client is the caller's, left open.
        yield active
        return
    with (
        LocalCluster(threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        logger.warning(
            "daskgd: no active dask Client; started a LocalCluster for this fit "
            "(%d workers, dashboard %s). It is closed when the fit ends; create a "
            "distributed.Client first to reuse a cluster.",
            len(cluster.workers),
            client.dashboard_link,
        )
        yield client


class Engine:
    """Row chunks placed on a cluster, and the one-task-per-worker map-reduce over them.

    Parameters
    ----------
    client : distributed.Client
    chunks : list of Future
        One future per row chunk, each holding a ``_kernels.Chunk``.
    replace : callable
        ``replace(i)`` returns a new future for chunk ``i`` after it was lost.
    """

    def __init__(
        self, client: Client, chunks: list[Future], replace: Callable[[int], Future],
        token: str, keepalive: Sequence[Any] = (),
    ) -> None:
        self.client = client
        self.chunks = chunks
        self._replace = replace
        self.token = token
        self._keepalive = list(keepalive)  # dask collections whose graphs re-create chunks
        self._calls = itertools.count()
        self.n_passes = 0.0
        self.n_calls = 0
        self.max_retries = 5
        self.groups: dict[str, list[int]] = {}
        self._regroup()

    # ------------------------------------------------------------------ placement

    @classmethod
    def place(
        cls, client: Client, data: FitInput, classify: bool, *,
        summary: DataSummary | None = None,
        check: Callable[[DataSummary], None] = lambda summary: None,
        class_factors: Callable[[DataSummary], np.ndarray | None] = lambda summary: None,
    ) -> tuple[Engine, DataSummary]:
        """Validate the data in one pass, place its chunks and summarise it.

        NumPy data comes with its ``summary``, made on the driver before anything is sent;
        dask data is persisted and checked by one round of tasks on the cluster, and
        ``check(summary)`` may then refuse it before the labels are encoded. When
        ``class_factors(summary)`` gives per-class weight factors (``class_weight``), the
        sample weights are multiplied by them as the labels are encoded, and the summary
        is made again from the reweighted chunks (one more pass for dask data).
        """
        token = uuid.uuid4().hex[:12]
        if data.is_dask:
            return cls._place_dask(client, data, classify, token, check, class_factors)
        assert summary is not None, "NumPy data is summarised on the driver first"
        return cls._place_numpy(client, data, classify, token, summary, class_factors)

    @classmethod
    def _place_numpy(
        cls, client: Client, data: FitInput, classify: bool, token: str, summary: DataSummary,
        class_factors: Callable[[DataSummary], np.ndarray | None],
    ) -> tuple[Engine, DataSummary]:
        X, y, w = data.X, data.y, data.sample_weight
        whole = _kernels.make_chunk(X, y, w)
        if classify:
            assert summary.classes is not None
            factors = class_factors(summary)
            whole = _kernels.encode_labels(whole, summary.classes, factors)
            if factors is not None:
                summary = _resummarise([_kernels.chunk_stats(whole, True)], summary.classes)
        n = X.shape[0]
        n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
        n_chunks = max(n_workers, math.ceil(_kernels.nbytes(X) / NUMPY_CHUNK_BYTES))
        n_chunks = min(n, n_workers * math.ceil(n_chunks / n_workers))
        bounds = np.linspace(0, n, n_chunks + 1).astype(int)
        local = [
            Chunk(whole.X[a:b], whole.y[a:b], None if whole.w is None else whole.w[a:b])
            for a, b in itertools.pairwise(bounds)
        ]
        summary.chunk_sizes = tuple(int(b - a) for a, b in itertools.pairwise(bounds))
        futures = client.scatter(local, hash=False)

        def replace(i: int) -> Future:
            return client.scatter([local[i]], hash=False)[0]

        return cls(client, futures, replace, token), summary

    @classmethod
    def _place_dask(
        cls, client: Client, data: FitInput, classify: bool, token: str,
        check: Callable[[DataSummary], None],
        class_factors: Callable[[DataSummary], np.ndarray | None],
    ) -> tuple[Engine, DataSummary]:
        X, y, w = _align_rows(client, _whole_rows(data.X), data.y, data.sample_weight)
        n_blocks = X.numblocks[0]
        x_blocks, y_blocks = _block_futures(X), _block_futures(y)
        w_blocks = _block_futures(w) if w is not None else [None] * n_blocks
        # Filled in once the validation pass has found them: (classes, class factors).
        encoding: list[tuple[np.ndarray, np.ndarray | None]] = []

        def build(block: int) -> Future:
            # Pure tasks over the persisted blocks: a lost chunk is recomputed from them.
            key = f"daskgd-chunk-{token}-{block}-{uuid.uuid4().hex[:8]}"
            chunk = client.submit(
                _kernels.make_chunk, x_blocks[block], y_blocks[block], w_blocks[block],
                key=key, pure=False,
            )
            if encoding:
                chunk = client.submit(
                    _kernels.encode_labels, chunk, *encoding[0], key=key + "-codes",
                    pure=False,
                )
            return chunk

        blocks = list(range(n_blocks))
        engine = cls(client, [build(b) for b in blocks], lambda i: build(blocks[i]), token,
                     keepalive=[X, y, w])
        stats = engine.map(_kernels.chunk_stats_kernel, (classify,), name="validate", passes=1)
        try:
            summary = summarise(stats, classify)
            check(summary)
        except ValueError:
            engine.close()
            raise
        # Empty blocks (e.g. filtered DataFrame partitions) take no part in the fit.
        blocks[:] = [b for b in blocks if stats[b].n_rows > 0]
        summary.chunk_sizes = tuple(stats[b].n_rows for b in blocks)
        if classify:
            assert summary.classes is not None
            factors = class_factors(summary)
            encoding.append((summary.classes, factors))
            old = engine.chunks
            engine.chunks = [build(b) for b in blocks]
            client.cancel(old)
            engine._regroup()
            if factors is not None:
                stats = engine.map(_kernels.chunk_stats_kernel, (True,), name="validate",
                                   passes=1)
                summary = _resummarise(stats, summary.classes)
        else:
            engine.chunks = [engine.chunks[b] for b in blocks]
            engine._regroup()
        return engine, summary

    def close(self) -> None:
        """Release everything this fit placed on the cluster."""
        futures = list(self.chunks)
        self.chunks = []
        self._keepalive = []
        with contextlib.suppress(Exception):
            self.client.cancel(futures)

    # ------------------------------------------------------------------ grouping, recovery

    def _regroup(self) -> None:
        wait(self.chunks)
        who_has = self.client.who_has(self.chunks)
        groups: dict[str, list[int]] = {}
        for i, future in enumerate(self.chunks):
            holders = who_has.get(future.key) or ("any",)
            groups.setdefault(sorted(holders)[0], []).append(i)
        self.groups = groups

    def _recover(self, error: BaseException, attempt: int) -> None:
        logger.warning(
            "daskgd: a cluster call failed (%s: %s); re-placing lost data and retrying "
            "(attempt %d of %d)", type(error).__name__, error, attempt, self.max_retries,
        )
        deadline = time.monotonic() + 60
        while not self.client.scheduler_info(n_workers=-1)["workers"]:
            if time.monotonic() > deadline:
                raise RuntimeError("daskgd: no workers left in the cluster for 60 s") from error
            time.sleep(0.2)
        for i, future in enumerate(self.chunks):
            if future.status in ("cancelled", "lost", "error"):
                self.chunks[i] = self._replace(i)
        self._regroup()

    # ------------------------------------------------------------------ map-reduce

    def map(
        self, kernel: Callable[..., Any], args: tuple, *, name: str, passes: float,
        pass_chunk_id: bool = False,
    ) -> list[Any]:
        """Run ``kernel`` on every chunk, one task per worker; the per-chunk results in order.

        ``name`` names the tasks (``daskgd-<name>``) in the dashboard; ``passes`` is how many
        reads of X the call makes, for the fit's record. A call that fails because the
        cluster lost a worker is retried after the lost chunks are re-placed.
        """
        for attempt in itertools.count(1):
            try:
                results = self._map_once(kernel, args, name, pass_chunk_id)
            except _LOST as error:
                if attempt > self.max_retries:
                    raise
                self._recover(error, attempt)
                continue
            self.n_calls += 1
            self.n_passes += passes
            return results
        raise AssertionError("unreachable")  # pragma: no cover

    def _map_once(
        self, kernel: Callable[..., Any], args: tuple, name: str, pass_chunk_id: bool
    ) -> list[Any]:
        call = next(self._calls)
        tasks = [
            self.client.submit(
                _kernels.run_group, kernel, ids, [self.chunks[i] for i in ids], args,
                pass_chunk_id,
                key=f"daskgd-{name}-{self.token}-{call}-{g}",
                # "any": a chunk with no holder (lost, or its task failed); the scheduler
                # then places the task, and a failed chunk raises its own error on gather.
                workers=None if worker == "any" else [worker],
                allow_other_workers=worker != "any", pure=False,
            )
            for g, (worker, ids) in enumerate(self.groups.items())
        ]
        per_group = self.client.gather(tasks, direct=True)
        results: list[Any] = [None] * len(self.chunks)
        for ids, group_results in zip(self.groups.values(), per_group):
            for i, r in zip(ids, group_results):
                results[i] = r
        return results

    def reduce(
        self, kernel: Callable[..., Any], args: tuple, *, name: str, passes: float,
        pass_chunk_id: bool = False,
    ) -> Any:
        """``map``, then the sum of the per-chunk results in chunk order."""
        return _add(self.map(kernel, args, name=name, passes=passes, pass_chunk_id=pass_chunk_id))


def _whole_rows(X: da.Array) -> da.Array:
    """X with each row block's column blocks joined (one task per row block), logged.

    Every kernel needs whole rows. A feature-partitioned ``X @ w`` would instead need two
    rounds of tasks per oracle call (partial products per column block, then their sum per
    row block before the loss), which costs more than this one-time join for the feature
    counts linear models have.
    """
    k = X.numblocks[1]
    if k > 1:
        logger.info(
            "daskgd: X had %d column blocks; they were joined per row block at placement "
            "(one task per row block). This costs one copy of X at placement; the cost per "
            "iteration is unchanged.", k,
        )
    return join_column_blocks(X)


def _resummarise(stats: Sequence[_kernels.ChunkStats], classes: np.ndarray) -> DataSummary:
    """The summary of reweighted, encoded chunks, with the original labels as classes."""
    summary = summarise(stats, classify=True)
    summary.classes = classes
    return summary


def _add(results: Sequence[Any]) -> Any:
    """Elementwise sum of per-chunk results (numbers, arrays or tuples of them)."""
    total = results[0]
    for r in results[1:]:
        if isinstance(total, tuple):
            total = tuple(a + b for a, b in zip(total, r))
        else:
            total = total + r
    return total


def _block_futures(a: da.Array) -> list[Future]:
    """The futures of a persisted dask array's row blocks, in block order."""
    by_key = {f.key: f for f in futures_of(a)}
    keys = a.__dask_keys__()
    out = []
    for k in keys:
        k = k[0] if isinstance(k, list) else k
        out.append(by_key[k])
    return out


def _align_rows(
    client: Client, X: da.Array, y: da.Array, w: da.Array | None
) -> tuple[da.Array, da.Array, da.Array | None]:
    """Persist X, y and w, resolve unknown chunk sizes and give y and w X's row chunks."""
    arrays = [a for a in (X, y, w) if a is not None]
    arrays = list(client.persist(arrays))
    for i, a in enumerate(arrays):
        if unknown_chunks(a):
            arrays[i] = a.compute_chunk_sizes()
    X, y = arrays[0], arrays[1]
    w = arrays[2] if w is not None else None
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has 0 samples; at least one is required.")
    for name, v in (("y", y), ("sample_weight", w)):
        if v is not None and v.shape[0] != n:
            raise ValueError(
                f"X and {name} have different numbers of rows: X has {n}, {name} has "
                f"{v.shape[0]}."
            )
    if y.chunks[0] != X.chunks[0]:
        y = client.persist(y.rechunk({0: X.chunks[0]}))
    if w is not None and w.chunks[0] != X.chunks[0]:
        w = client.persist(w.rechunk({0: X.chunks[0]}))
    return X, y, w
