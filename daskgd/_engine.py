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
        shuffle_seed: int | None = None,
    ) -> tuple[Engine, DataSummary]:
        """Validate the data in one pass, place its chunks and summarise it.

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
        """
        token = uuid.uuid4().hex[:12]
        if data.is_dask:
            return cls._place_dask(client, data, classify, token, check, class_factors,
                                   shuffle_seed)
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
        shuffle_seed: int | None = None,
    ) -> tuple[Engine, DataSummary]:
        X, y, w = _align_rows(client, _whole_rows(data.X), data.y, data.sample_weight)
        n_blocks = X.numblocks[0]
        x_blocks, y_blocks = _block_futures(X), _block_futures(y)
        w_blocks: list[Future | None] = [None] * n_blocks
        if w is not None:
            w_blocks[:] = _block_futures(w)
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
        try:
            stats = engine.map(_kernels.chunk_stats_kernel, (classify,), name="validate", passes=1)
            summary = summarise(stats, classify)
            check(summary)
            # Empty blocks (e.g. filtered DataFrame partitions) take no part in the fit.
            blocks[:] = [b for b in blocks if stats[b].n_rows > 0]
            summary.chunk_sizes = tuple(stats[b].n_rows for b in blocks)
            factors = None
            if classify:
                assert summary.classes is not None
                factors = class_factors(summary)
                encoding.append((summary.classes, factors))
            if shuffle_seed is not None:
                # Validated as given (errors name the user's rows); the shuffled blocks replace
                # the original ones, which the graph still re-creates a lost block from.
                X, y, w = _shuffled_rows(client, X, y, w, len(blocks), shuffle_seed)
                x_blocks[:], y_blocks[:] = _block_futures(X), _block_futures(y)
                w_blocks[:] = [None] * len(blocks) if w is None else _block_futures(w)
                blocks[:] = range(len(blocks))
                summary.chunk_sizes = tuple(int(c) for c in X.chunks[0])
                engine._keepalive = [X, y, w]
            if classify or shuffle_seed is not None:
                old = engine.chunks
                engine.chunks = [build(b) for b in blocks]
                client.cancel(old)
            else:
                engine.chunks = [engine.chunks[b] for b in blocks]
            engine._regroup()
            if factors is not None:
                assert summary.classes is not None
                stats = engine.map(_kernels.chunk_stats_kernel, (True,), name="validate", passes=1)
                summary = _resummarise(stats, summary.classes)
            return engine, summary
        except BaseException:
            # Invalid data, an error raised on a worker, an interrupt: nothing this placement
            # put on the cluster outlives it (the traceback would otherwise hold the chunks).
            engine.close()
            raise

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
        return _kernels.add_results(
            self.map(kernel, args, name=name, passes=passes, pass_chunk_id=pass_chunk_id)
        )


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
