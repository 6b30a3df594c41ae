"""The only module that talks to dask during a fit (with its helper ``_streaming``).

``Engine`` places the row chunks on the cluster once (scattered from NumPy input, persisted
from dask input, or, for dask input larger than memory, streamed: see ``_streaming``) as
**one shard per worker** (a future holding the chunks that worker holds) and answers the
solvers' oracle calls with **one round of tasks per call: one task per shard**. Each task
loops over its shard's chunks (``_kernels.run_shard``) and returns per-chunk results, or for
sums its partial sums over a fixed summation tree of the chunks, which the driver completes;
so results do not depend on where chunks live.

A call that fails because a worker died is retried after the lost chunks are re-placed
(re-sent from the driver for NumPy input and streamed chunks, recomputed from the graph for
persisted dask input): tasks are pure functions of (chunks, coefficients), so the retried
call gives the same sums.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import math
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.system import CPU_COUNT
from distributed import (
    Client,
    Future,
    LocalCluster,
    default_client,
    futures_of,
    get_worker,
    wait,
    worker_client,
)
from distributed.scheduler import KilledWorker

from daskgd import _kernels, _streaming
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
    """The client a fit runs on; only a client started here is closed afterwards.

    In order of preference:

    1. Inside a task on a dask worker (e.g. a fit under ``joblib.parallel_backend("dask")``):
       ``distributed.worker_client()``, which secedes the task from the worker's thread pool
       so the fit's own tasks can run there too (no deadlock with single-threaded workers).
    2. The active ``distributed.Client``.
    3. A client connected to the scheduler named by dask's ``scheduler-address`` setting
       (the ``DASK_SCHEDULER_ADDRESS`` environment variable): how joblib's worker processes
       reach the caller's cluster. Closed after the fit; the cluster stays up.
    4. A ``LocalCluster`` started for this fit, logged, and closed when the block exits:
       one single-threaded worker process per core, or worker threads when this process
       cannot start processes.
    """
    if _in_worker_task():
        # Checked before the active client: a worker's own default client does not secede.
        with worker_client() as client:
            yield client
    elif (active := _active_client()) is not None:
        # Errors raised by the fit pass through: this client is the caller's, left open.
        yield active
    elif address := dask.config.get("scheduler-address", None):
        with Client(address) as client:
            logger.info("daskgd: no active dask Client; connected to %s (from dask's "
                        "scheduler-address setting) for this fit.", address)
            yield client
    else:
        with _local_cluster() as cluster, Client(cluster) as client:
            logger.warning(
                "daskgd: no active dask Client; started a LocalCluster for this fit "
                "(%d workers, dashboard %s). It is closed when the fit ends; create a "
                "distributed.Client first to reuse a cluster.",
                len(cluster.workers),
                client.dashboard_link,
            )
            yield client


def _in_worker_task() -> bool:
    """Whether this code runs inside a task on a dask worker."""
    try:
        get_worker()
    except ValueError:
        return False
    return True


def _active_client() -> Client | None:
    try:
        return default_client()
    except ValueError:
        return None


def _local_cluster() -> LocalCluster:
    """One single-threaded worker per core: processes, or threads where processes cannot
    be started (a daemonic process, or one started by loky, whose start method its
    children cannot use)."""
    process = multiprocessing.current_process()
    method = multiprocessing.get_start_method(allow_none=True)
    if process.daemon or (method is not None
                          and method not in multiprocessing.get_all_start_methods()):
        why = "it is daemonic" if process.daemon else f"its start method is {method!r}"
        logger.warning("daskgd: this process cannot start worker processes (%s); the "
                       "LocalCluster for this fit runs its workers as threads.", why)
        return LocalCluster(n_workers=CPU_COUNT, threads_per_worker=1,
                            processes=False, dashboard_address=":0")
    return LocalCluster(threads_per_worker=1, processes=True, dashboard_address=":0")


class Engine:
    """Row chunks placed on a cluster as one shard per worker, and the map-reduce over them.

    Parameters
    ----------
    client : distributed.Client
    shards : list of Future
        Each holds a ``_kernels.Shard``: the chunks one worker holds, with their chunk ids.
    shard_ids : list of list of int
        The chunk ids of each shard; together ``0 .. n_chunks - 1``.
    holders : list of str or None
        The worker each shard was sent to (None: let the scheduler choose). Tasks go there
        without waiting for the shards: placement and the first calls are one stream of
        tasks.
    rebuild : callable
        ``rebuild(s)`` returns a new future for shard ``s`` after it was lost.
    token : str
        Unique to the fit; part of every task key.
    keepalive : sequence
        Dask collections whose graphs re-create lost chunks.
    """

    def __init__(
        self, client: Client, shards: list[Future], shard_ids: list[list[int]],
        holders: list[str | None], rebuild: Callable[[int], Future], token: str,
        keepalive: Sequence[Any] = (),
    ) -> None:
        self.client = client
        self.shards = shards
        self.shard_ids = shard_ids
        self._rebuild = rebuild
        self.token = token
        self._keepalive = list(keepalive)
        self._calls = itertools.count()
        self.n_passes = 0.0
        self.n_calls = 0
        self.max_retries = 5
        self.holders = holders
        #: Whether the chunks are streamed from their source each pass (``LazyChunk``).
        self.streamed = False

    @property
    def n_chunks(self) -> int:
        return sum(len(ids) for ids in self.shard_ids)

    # ------------------------------------------------------------------ placement

    @classmethod
    def place(
        cls, client: Client, data: FitInput, classify: bool, *,
        summary: DataSummary | None = None,
        check: Callable[[DataSummary], None] = lambda summary: None,
        class_factors: Callable[[DataSummary], np.ndarray | None] = lambda summary: None,
        shuffle_seed: int | None = None, placement: str | None = None, gram: bool = False,
    ) -> tuple[Engine, DataSummary]:
        """Validate the data in one pass, place its chunks and summarise it.

        ``placement`` (default: the ``daskgd.placement`` dask setting) says whether dask data
        is persisted in cluster memory or streamed from its source each pass (see
        ``_streaming``); ``"auto"`` streams X when it would fill too much of the workers'
        memory. NumPy data is in the driver's memory already and is always scattered.

        NumPy data comes with its ``summary``, made on the driver before anything is sent;
        dask data is persisted and checked by one round of tasks on the cluster, and
        ``check(summary)`` may then refuse it before the labels are encoded. When
        ``class_factors(summary)`` gives per-class weight factors (``class_weight``), the
        sample weights are multiplied by them as the labels are encoded, and the summary
        is made again from the reweighted chunks (one more pass for dask data).

        With ``shuffle_seed``, every row goes to a chunk by the seeded permutation
        :func:`row_permutation` (the same for NumPy and dask input, whatever the chunking):
        on the driver for NumPy data, by one all-to-all exchange of the rows for dask data
        (after validation, so errors name the rows as given), into as many chunks as the
        input has non-empty ones. Row ``i`` of the placed data is input row ``perm[i]``.

        With ``gram`` (a least-squares fit solved from its Gram statistics) the validation
        pass of dask data also sums the data's ``_kernels.Moments`` into
        ``summary.moments``, so that the solve needs no second pass.
        """
        token = uuid.uuid4().hex[:12]
        if data.is_dask:
            setting = _streaming.placement_setting() if placement is None else placement
            if setting == "auto" and unknown_chunks(data.X):
                # Sizes first (one read, nothing persisted): "auto" weighs X's bytes.
                X, y, w = _streaming.resolve_chunk_sizes(
                    client, [data.X, data.y, data.sample_weight])
                data = dataclasses.replace(data, X=X, y=y, sample_weight=w)
            streamed = _streaming.choose_placement(client, data.X, setting,
                                                   shuffled=shuffle_seed is not None)
            return cls._place_dask(client, data, classify, token, check, class_factors,
                                   shuffle_seed, streamed, gram and not classify)
        assert summary is not None, "NumPy data is summarised on the driver first"
        if shuffle_seed is not None:
            data = _permuted_input(data, shuffle_seed)
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
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"]) or [None]
        n_chunks = max(len(workers), math.ceil(_kernels.nbytes(X) / NUMPY_CHUNK_BYTES))
        n_chunks = min(n, len(workers) * math.ceil(n_chunks / len(workers)))
        bounds = np.linspace(0, n, n_chunks + 1).astype(int)
        local = [
            Chunk(whole.X[a:b], whole.y[a:b], None if whole.w is None else whole.w[a:b])
            for a, b in itertools.pairwise(bounds)
        ]
        summary.chunk_sizes = tuple(int(b - a) for a, b in itertools.pairwise(bounds))
        # Contiguous runs of chunks, one run per worker: each worker sends few partial sums.
        shard_ids = [ids.tolist() for ids in np.array_split(np.arange(n_chunks), len(workers))]
        shard_ids = [ids for ids in shard_ids if ids]

        def rebuild(s: int, worker: str | None = None) -> Future:
            shard = _kernels.Shard(tuple(shard_ids[s]), tuple(local[i] for i in shard_ids[s]))
            return client.scatter([shard], workers=None if worker is None else [worker],
                                  hash=False)[0]

        holders = [workers[s % len(workers)] for s in range(len(shard_ids))]
        shards = [rebuild(s, holder) for s, holder in enumerate(holders)]
        return cls(client, shards, shard_ids, holders, rebuild, token), summary

    @classmethod
    def _place_dask(
        cls, client: Client, data: FitInput, classify: bool, token: str,
        check: Callable[[DataSummary], None],
        class_factors: Callable[[DataSummary], np.ndarray | None],
        shuffle_seed: int | None = None, streamed: bool = False, gram: bool = False,
    ) -> tuple[Engine, DataSummary]:
        source: _Blocks | _LazyBlocks
        if streamed:
            # Nothing of X is persisted: each chunk is the graph of its block (_streaming).
            X, y, w = _streaming.aligned_rows(
                client, _whole_rows(data.X), data.y, data.sample_weight)
            source = _LazyBlocks(client, _streaming.lazy_chunks(X, y, w))
        else:
            X, y, w = _align_rows(client, _whole_rows(data.X), data.y, data.sample_weight)
            source = _Blocks(client, X, y, w)
        # Filled in once the validation pass has found them: the blocks kept (non-empty),
        # and the label encoding (classes, class factors).
        kept: list[int] = list(range(source.n))
        encoding: list[tuple[np.ndarray, np.ndarray | None]] = []
        calls = itertools.count()

        def build(ids: list[int]) -> Future:
            blocks = [kept[i] for i in ids]
            holder = source.holder(blocks)
            if isinstance(source, _LazyBlocks):
                return source.scatter(ids, blocks, encoding[0] if encoding else None, holder)
            # Pure tasks over the persisted blocks: a lost shard is recomputed from them.
            key = f"daskgd-place-{token}-{next(calls)}"
            shard = client.submit(
                _kernels.make_shard, ids, *source.futures(blocks), key=key, pure=False,
                **_near(holder),
            )
            if encoding:
                shard = client.submit(
                    _kernels.encode_shard, shard, ids, [True] * len(ids), *encoding[0],
                    key=key + "-codes", pure=False,
                )
            return shard

        shard_ids = source.by_holder(kept)
        engine = cls(client, [build(ids) for ids in shard_ids], shard_ids,
                     [source.holder(ids) for ids in shard_ids],
                     lambda s: build(engine.shard_ids[s]), token, keepalive=[X, y, w])
        engine.streamed = streamed
        try:
            moments = None
            if gram:
                stats, moments = engine.map_reduce(
                    _kernels.chunk_stats_moments_kernel, (), name="validate", passes=1)
            else:
                stats = engine.map(_kernels.chunk_stats_kernel, (classify,), name="validate",
                                   passes=1)
            summary = summarise(stats, classify)
            summary.moments = moments
            check(summary)
            # Empty blocks (e.g. filtered DataFrame partitions) take no part in the fit.
            kept[:] = [b for b in range(source.n) if stats[b].n_rows > 0]
            summary.chunk_sizes = tuple(stats[b].n_rows for b in kept)
            factors = None
            if classify:
                assert summary.classes is not None
                factors = class_factors(summary)
                encoding.append((summary.classes, factors))
            if shuffle_seed is not None:
                # Validated as given (errors name the user's rows); the shuffled blocks replace
                # the original ones, which the graph still re-creates a lost block from.
                X, y, w = _shuffled_rows(client, X, y, w, len(kept), shuffle_seed)
                source = _Blocks(client, X, y, w)
                kept[:] = range(source.n)
                summary.chunk_sizes = tuple(int(c) for c in X.chunks[0])
                engine._keepalive = [X, y, w]
                engine._replace_shards(source.by_holder(kept), build, source.holder)
            elif classify or len(kept) < source.n:
                engine._reencode(kept, encoding[0] if encoding else (None, None))
            if factors is not None:
                assert summary.classes is not None
                stats = engine.map(_kernels.chunk_stats_kernel, (True,), name="validate",
                                   passes=1)
                summary = _resummarise(stats, summary.classes)
            return engine, summary
        except BaseException:
            # Invalid data, an error raised on a worker, an interrupt: nothing this placement
            # put on the cluster outlives it (the traceback would otherwise hold the chunks).
            engine.close()
            raise

    def _replace_shards(
        self, shard_ids: list[list[int]], build: Callable[[list[int]], Future],
        holder: Callable[[list[int]], str | None],
    ) -> None:
        old = self.shards
        self.shard_ids = shard_ids
        self.shards = [build(ids) for ids in shard_ids]
        self.holders = [holder(ids) for ids in shard_ids]
        self.client.cancel(old)

    def _reencode(
        self, kept: list[int], encoding: tuple[np.ndarray | None, np.ndarray | None]
    ) -> None:
        """Drop the chunks not ``kept``, renumber the rest and encode their labels, in place
        on the workers (one task per shard)."""
        position = {chunk: i for i, chunk in enumerate(kept)}
        old, new_ids, tasks, holders = self.shards, [], [], []
        for s, ids in enumerate(self.shard_ids):
            keep = [i in position for i in ids]
            new = [position[i] for i in ids if i in position]
            if not new:
                continue  # a shard of empty blocks only
            new_ids.append(new)
            holders.append(self.holders[s])
            tasks.append(self.client.submit(
                _kernels.encode_shard, old[s], new, keep, *encoding,
                key=f"daskgd-place-{self.token}-codes-{s}", pure=False,
                **_near(self.holders[s]),
            ))
        # The old shards are released, not cancelled: the new ones are computed from them.
        self.shards, self.shard_ids, self.holders = tasks, new_ids, holders
        del old

    def close(self) -> None:
        """Release everything this fit placed on the cluster."""
        futures = list(self.shards)
        self.shards = []
        self._keepalive = []
        # The rebuild closure holds the placed blocks' futures (and this engine: a cycle);
        # dropping it releases them now instead of at the next garbage collection.
        self._rebuild = _closed
        with contextlib.suppress(Exception):
            self.client.cancel(futures)

    # ------------------------------------------------------------------ location, recovery

    def _locate(self) -> None:
        """Wait for the shards and learn which worker holds each."""
        wait(self.shards)
        who_has = self.client.who_has(self.shards)
        self.holders = [
            sorted(holders)[0] if (holders := who_has.get(f.key)) else None
            for f in self.shards
        ]

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
        for s, future in enumerate(self.shards):
            if future.status in ("cancelled", "lost", "error"):
                self.shards[s] = self._rebuild(s)
        self._locate()

    # ------------------------------------------------------------------ map-reduce

    def map(
        self, kernel: Callable[..., Any], args: tuple, *, name: str, passes: float,
        pass_chunk_id: bool = False,
    ) -> list[Any]:
        """Run ``kernel`` on every chunk, one task per shard; the per-chunk results in order.

        ``name`` names the tasks (``daskgd-<name>``) in the dashboard; ``passes`` is how many
        reads of X the call makes, for the fit's record. A call that fails because the
        cluster lost a worker is retried after the lost chunks are re-placed.
        """
        return self._in_chunk_order(
            self._call(kernel, args, name, passes, pass_chunk_id, tree=False))

    def reduce(
        self, kernel: Callable[..., Any], args: tuple, *, name: str, passes: float,
        pass_chunk_id: bool = False,
    ) -> Any:
        """The sum over all chunks of ``kernel``'s results, added on the workers as far as
        each can (``_kernels.tree_partials``): the same to the last bit wherever chunks
        live."""
        return self._total(self._call(kernel, args, name, passes, pass_chunk_id, tree=True))

    def map_reduce(
        self, kernel: Callable[..., Any], args: tuple, *, name: str, passes: float,
    ) -> tuple[list[Any], Any]:
        """For a kernel returning pairs ``(kept, added)``: the per-chunk ``kept`` in order,
        as :meth:`map` gives them, and the sum of ``added`` over all chunks, as
        :meth:`reduce` gives it; one read of the data for both."""
        per_shard = self._call(kernel, args, name, passes, False, tree=True, split=True)
        return (self._in_chunk_order([kept for kept, _ in per_shard]),
                self._total([partials for _, partials in per_shard]))

    def _in_chunk_order(self, per_shard: list[list[Any]]) -> list[Any]:
        """Per-chunk results of every shard, in chunk id order."""
        results: list[Any] = [None] * self.n_chunks
        for ids, shard_results in zip(self.shard_ids, per_shard):
            for i, r in zip(ids, shard_results):
                results[i] = r
        return results

    def _total(self, per_shard: list[dict[tuple[int, int], Any]]) -> Any:
        """The sum over all chunks from every shard's partial sums over the tree."""
        partials: dict[tuple[int, int], Any] = {}
        for shard_partials in per_shard:
            partials.update(shard_partials)
        return _kernels.tree_total(partials, self.n_chunks)

    def _call(
        self, kernel: Callable[..., Any], args: tuple, name: str, passes: float,
        pass_chunk_id: bool, tree: bool, split: bool = False,
    ) -> list[Any]:
        for attempt in itertools.count(1):
            try:
                results = self._call_once(kernel, args, name, pass_chunk_id, tree, split)
            except _RaisedByTask as raised:
                raise raised.error from None
            except _LOST as error:
                if attempt > self.max_retries:
                    raise
                self._recover(error, attempt)
                continue
            self.n_calls += 1
            self.n_passes += passes
            return results
        raise AssertionError("unreachable")  # pragma: no cover

    def _call_once(
        self, kernel: Callable[..., Any], args: tuple, name: str, pass_chunk_id: bool,
        tree: bool, split: bool,
    ) -> list[Any]:
        call = next(self._calls)
        n_chunks = self.n_chunks if tree else None
        tasks = [
            self.client.submit(
                _kernels.run_shard, kernel, shard, args, pass_chunk_id, n_chunks, split,
                key=f"daskgd-{name}-{self.token}-{call}-{s}",
                # Where the shard is; None: no holder (lost, or its task failed), so the
                # scheduler places the task and a failed shard raises its error on gather.
                **_near(holder), pure=False,
            )
            for s, (shard, holder) in enumerate(zip(self.shards, self.holders))
        ]
        try:
            return self.client.gather(tasks, direct=True)
        except OSError as error:
            if any(t.status == "error" for t in tasks):
                # The task raised it itself (a streamed chunk's file is gone, unreadable):
                # no worker was lost, and a retry would read the same missing file again.
                raise _RaisedByTask(error) from error
            raise


class _RaisedByTask(Exception):
    """An ``OSError`` a task raised (not a lost connection), passed up without a retry."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def _near(worker: str | None) -> dict[str, Any]:
    """``submit`` arguments that run a task on ``worker`` if it can (anywhere if None)."""
    if worker is None:
        return {}
    return {"workers": [worker], "allow_other_workers": True}


class _LazyBlocks:
    """Streamed row blocks (``_streaming.LazyChunk``), dealt to the workers in contiguous
    runs and sent from the driver, which keeps them to re-send a lost one."""

    def __init__(self, client: Client, chunks: list[_streaming.LazyChunk]) -> None:
        self.n = len(chunks)
        self._client = client
        self._chunks = chunks
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        self._holders = [workers[b * len(workers) // self.n] if workers else None
                         for b in range(self.n)]

    def holder(self, blocks: Sequence[int]) -> str | None:
        return self._holders[blocks[0]] if blocks else None

    def by_holder(self, kept: Sequence[int]) -> list[list[int]]:
        """Positions in ``kept`` grouped by the worker each block is dealt to (in order)."""
        groups: dict[str | None, list[int]] = {}
        for position, block in enumerate(kept):
            groups.setdefault(self._holders[block], []).append(position)
        return list(groups.values())

    def scatter(
        self, ids: Sequence[int], blocks: Sequence[int],
        encoding: tuple[np.ndarray, np.ndarray | None] | None, worker: str | None,
    ) -> Future:
        """The shard of these blocks (labels encoded on load, given ``encoding``), sent."""
        chunks = [self._chunks[b] for b in blocks]
        if encoding is not None:
            chunks = [c.encoded(*encoding) for c in chunks]
        shard = _kernels.Shard(tuple(ids), tuple(chunks))
        # After a worker was lost its address is gone: any worker will do then.
        alive = self._client.scheduler_info(n_workers=-1)["workers"]
        return self._client.scatter([shard], workers=[worker] if worker in alive else None,
                                    hash=False)[0]


def _closed(s: int) -> Future:
    raise RuntimeError("this fit's engine is closed; its data were released")


class _Blocks:
    """The persisted row blocks of X, y and w, and the workers that hold them."""

    def __init__(self, client: Client, X: da.Array, y: da.Array, w: da.Array | None) -> None:
        self.n = X.numblocks[0]
        self._x, self._y = _block_futures(X), _block_futures(y)
        self._w: list[Future | None] = [None] * self.n if w is None else list(_block_futures(w))
        wait(self._x)
        who_has = client.who_has(self._x)
        self._holders = [min(who_has.get(f.key) or ["?"]) for f in self._x]

    def futures(self, blocks: Sequence[int]) -> tuple[list[Any], list[Any], list[Any]]:
        return ([self._x[b] for b in blocks], [self._y[b] for b in blocks],
                [self._w[b] for b in blocks])

    def holder(self, blocks: Sequence[int]) -> str | None:
        """The worker holding most of these blocks (None if none is known)."""
        known = [self._holders[b] for b in blocks if self._holders[b] != "?"]
        return max(sorted(set(known)), key=known.count) if known else None

    def by_holder(self, kept: Sequence[int]) -> list[list[int]]:
        """Positions in ``kept`` grouped by the worker holding each block (in order)."""
        groups: dict[str, list[int]] = {}
        for position, block in enumerate(kept):
            groups.setdefault(self._holders[block], []).append(position)
        return list(groups.values())


def row_permutation(n: int, seed: int) -> np.ndarray:
    """The seeded permutation of ``range(n)`` that row placement ``"shuffled"`` applies.

    A function of ``(n, seed)`` only, so NumPy and dask input, however chunked, are placed
    in the same row order.
    """
    return np.random.default_rng(seed).permutation(n)


def _permuted_input(data: FitInput, seed: int) -> FitInput:
    """In-memory fit data with its rows in :func:`row_permutation` order (copies)."""
    perm = row_permutation(data.X.shape[0], seed)
    w = data.sample_weight
    return dataclasses.replace(
        data, X=data.X[perm], y=data.y[perm], sample_weight=None if w is None else w[perm]
    )


def _shuffled_rows(
    client: Client, X: da.Array, y: da.Array, w: da.Array | None, n_chunks: int, seed: int
) -> tuple[da.Array, da.Array, da.Array | None]:
    """X, y and w (persisted, same row chunks) moved into ``n_chunks`` near-equal row chunks
    in :func:`row_permutation` order, persisted: one all-to-all exchange of the rows."""
    n = X.shape[0]
    perm = row_permutation(n, seed)
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)
    groups = [perm[a:b].tolist() for a, b in itertools.pairwise(bounds)]
    sizes = tuple(int(b - a) for a, b in itertools.pairwise(bounds))
    # dask may merge groups into one chunk (or split columns); re-splitting moves no rows.
    X = da.shuffle(X, groups, axis=0).rechunk({0: sizes, 1: -1})
    y = da.shuffle(y, groups, axis=0).rechunk({0: sizes})
    if w is None:
        X, y = client.persist([X, y])
        return X, y, None
    X, y, w = client.persist([X, y, da.shuffle(w, groups, axis=0).rechunk({0: sizes})])
    return X, y, w


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
