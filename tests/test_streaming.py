"""Streamed placement (data larger than memory): the same model as persisted placement, the
``daskgd.placement`` setting and its ``"auto"`` rule, X never persisted, a lost worker, the
solver choice, and the Zarr generator. The memory bound itself is case C-24
(``tests/test_cases_streaming.py``).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pytest
from distributed import Client, LocalCluster, default_client, wait
from sklearn.exceptions import ConvergenceWarning

from daskgd import (
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    SGDClassifier,
    _streaming,
    _synthetic,
)
from daskgd._data import as_fit_input
from daskgd._engine import Engine
from daskgd.datasets import make_zarr, open_zarr
from daskgd.losses import get_loss
from daskgd.penalties import l1, l2
from daskgd.solvers import choose_solver

N, D, CHUNK = 6_000, 4, 1_500


def _fit(make: Callable[[], Any], X: Any, y: Any, placement: str) -> Any:
    with dask.config.set({"daskgd.placement": placement}), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y)


def _parquet(tmp: Path, X: da.Array, y: da.Array) -> tuple[Any, Any]:
    """X and y written to Parquet (one file per block) and read back as a dask DataFrame."""
    columns = [f"x{j}" for j in range(X.shape[1])]
    frame = dd.from_dask_array(da.concatenate([X, y[:, None].astype(X.dtype)], axis=1),
                               columns=[*columns, "y"])
    frame.to_parquet(tmp)
    df = dd.read_parquet(tmp)
    return df[columns], df["y"]


def _source(kind: str, source: str, tmp: Path) -> tuple[Any, Any]:
    X, y = _synthetic.lazy_problem(N, D, kind=kind, chunk_rows=CHUNK, random_state=3)
    if source == "zarr":
        make_zarr(tmp / "data.zarr", N, D, kind=kind, chunk_rows=CHUNK, dtype="float64",
                  random_state=3)
        X, y = open_zarr(tmp / "data.zarr")
    elif source == "parquet":
        X, y = _parquet(tmp / "data.parquet", X, y)
    return X, y


MODELS: dict[str, tuple[Callable[[], Any], str]] = {
    "logistic-lbfgs": (lambda: LogisticRegression(solver="lbfgs", tol=1e-8), "classification"),
    "logistic-newton": (lambda: LogisticRegression(solver="newton", tol=1e-8),
                        "classification"),
    "lstsq": (lambda: LinearRegression(solver="lstsq"), "regression"),
    "poisson": (lambda: PoissonRegressor(alpha=0.01, tol=1e-8), "poisson"),
    "multinomial": (lambda: LogisticRegression(tol=1e-8), "multinomial"),
}


@pytest.mark.parametrize("source", ["graph", "zarr", "parquet"])
@pytest.mark.parametrize("model", list(MODELS))
def test_streamed_fit_equals_persisted_fit(model: str, source: str, tmp_path: Path) -> None:
    make, kind = MODELS[model]
    X, y = _source("regression" if kind == "multinomial" else kind, source, tmp_path)
    if kind == "multinomial":
        y = y if isinstance(y, da.Array) else y.to_dask_array()
        y = da.digitize(y, np.array([-1.0, 1.0]))  # three classes, lazily
    persisted = _fit(make, X, y, "persist")
    streamed = _fit(make, X, y, "stream")
    assert persisted.placement_ == "persist" and streamed.placement_ == "stream"
    assert streamed.solver_ == persisted.solver_
    np.testing.assert_allclose(streamed.coef_, persisted.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, persisted.intercept_, rtol=1e-10,
                               atol=1e-12)
    assert streamed.n_iter_ == persisted.n_iter_


def test_streamed_fit_with_weights_and_class_weight() -> None:
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK, random_state=4)
    w = da.random.default_rng(1).uniform(0, 2, N, chunks=CHUNK)

    def make() -> Any:
        return LogisticRegression(class_weight="balanced", tol=1e-8)

    fits = {}
    for placement in ("persist", "stream"):
        with dask.config.set({"daskgd.placement": placement}):
            fits[placement] = make().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(fits["stream"].coef_, fits["persist"].coef_, rtol=1e-10)


def test_numpy_input_is_never_streamed() -> None:
    X, y = _synthetic.rows("classification", D, 0, 2_000, 0)
    model = _fit(LogisticRegression, X, y, "stream")
    assert model.placement_ == "persist"


def test_bad_placement_setting_fails_before_cluster_work() -> None:
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK)
    with dask.config.set({"daskgd.placement": "disk"}), pytest.raises(
        ValueError, match=r"daskgd.placement must be one of \['auto', 'persist', 'stream'\]"
    ):
        LogisticRegression().fit(X, y)


def test_shuffled_row_placement_cannot_stream() -> None:
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK)
    with dask.config.set({"daskgd.placement": "stream"}), pytest.raises(
        ValueError, match="row_placement='contiguous' to stream"
    ):
        SGDClassifier(row_placement="shuffled", max_iter=1, tol=None).fit(X, y)


def test_x_is_never_persisted_when_streaming(client: Client) -> None:
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK)
    X = X.map_blocks(np.add, 0.0, name="daskgd-test-x")  # a name to look for
    data = as_fit_input(X, y, None, classify=True)
    engine, summary = Engine.place(client, data, True, placement="stream")
    try:
        assert engine.streamed and summary.n_samples == N

        def in_memory(dask_scheduler: Any) -> dict[str, int]:
            return {str(ts.key): ts.nbytes for ts in dask_scheduler.tasks.values()
                    if ts.state == "memory"}

        wait(engine.shards)  # placement does not wait for the label-encoding tasks
        held = client.run_on_scheduler(in_memory)
        assert not [k for k in held if "daskgd-test-x" in k or "rows-" in k], held
        ours = {k: v for k, v in held.items() if engine.token in k or k in
                {str(f.key) for f in engine.shards}}
        # Only the shards of lazy chunks (graphs and class codes, no X) are held for this fit.
        assert len(ours) == len(engine.shards)
        assert sum(ours.values()) < X.nbytes / 20
    finally:
        engine.close()


def test_numpy_y_with_a_dask_frame_is_split_not_copied(client: Client, tmp_path: Path) -> None:
    """NumPy y with a DataFrame X (unknown partition lengths): each lazy chunk holds its own
    slice of y, not all of it."""
    X, y = _source("classification", "parquet", tmp_path)
    y_numpy = y.compute().to_numpy()
    data = as_fit_input(X, y_numpy, None, classify=True)
    Xa, ya, _ = _streaming.aligned_rows(client, data.X, data.y, None)
    chunks = _streaming.lazy_chunks(Xa, ya, None)
    assert len(chunks) > 1
    for chunk in chunks:
        # its slice of y and a Parquet read task of a few kB
        assert len(pickle.dumps(chunk)) < y_numpy.nbytes / len(chunks) + 16_000
    np.testing.assert_array_equal(np.concatenate([c.load().y for c in chunks]), y_numpy)
    streamed = _fit(LogisticRegression, X, y_numpy, "stream")
    persisted = _fit(LogisticRegression, X, y_numpy, "persist")
    np.testing.assert_allclose(streamed.coef_, persisted.coef_, rtol=1e-10)


# ---------------------------------------------------------------- "auto"


@pytest.fixture
def small_memory_cluster(client: Client) -> Iterator[Client]:
    """Workers whose memory limit is below what their process uses already (a worker takes
    about 60 MiB before it holds any data): no memory is free, so "auto" streams anything.

    The memory monitors are off (the limit is only a number here), so no worker is paused
    or restarted for being over it.
    """
    off = {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
           "distributed.worker.memory.pause": False,
           "distributed.worker.memory.terminate": False}
    with dask.config.set(off), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        memory_limit="32MiB", silence_logs=40,
    ) as cluster, Client(cluster) as own:
        yield own
    assert default_client() is client


def test_auto_streams_when_x_exceeds_the_fraction(
    small_memory_cluster: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="daskgd")
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK)
    model = LogisticRegression().fit(X, y)
    assert model.placement_ == "stream"
    assert any("streamed from its source each pass" in r.getMessage()
               and "auto-stream-fraction=0.5" in r.getMessage() for r in caplog.records)


def test_auto_persists_small_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="daskgd")
    X, y = _synthetic.lazy_problem(N, D, chunk_rows=CHUNK)
    assert LogisticRegression().fit(X, y).placement_ == "persist"
    assert any("persisted in cluster memory: at most 50%" in r.getMessage()
               for r in caplog.records)


def test_auto_with_unknown_chunk_sizes(tmp_path: Path) -> None:
    X, y = _source("classification", "parquet", tmp_path)
    assert np.isnan(X.to_dask_array().shape[0])  # partition lengths unknown
    with dask.config.set({"daskgd.auto-stream-fraction": 1e-9}):
        streamed = LogisticRegression().fit(X, y)
    persisted = LogisticRegression().fit(X, y)
    assert (streamed.placement_, persisted.placement_) == ("stream", "persist")
    np.testing.assert_allclose(streamed.coef_, persisted.coef_, rtol=1e-10)


# ---------------------------------------------------------------- solver choice


def test_auto_solver_prefers_few_passes_when_streaming() -> None:
    logistic, squared = get_loss("log_loss"), get_loss("squared_error")
    # Few rows per parameter: persisted data gets lbfgs, streamed data newton.
    assert choose_solver(logistic, l2(1.0), 1, 100, 20) == "lbfgs"
    assert choose_solver(logistic, l2(1.0), 1, 100, 20, streamed=True) == "newton"
    assert choose_solver(logistic, l2(1.0), 1, 10**6, 1000, streamed=True) == "lbfgs"
    assert choose_solver(squared, l2(1.0), 1, 100, 20, streamed=True) == "lstsq"
    assert choose_solver(logistic, l1(1.0), 1, 100, 20, streamed=True) == "proximal"


def test_auto_solver_of_a_streamed_fit() -> None:
    X, y = _synthetic.lazy_problem(150, 20, chunk_rows=50)  # n_samples < 10 * n_params
    assert _fit(LogisticRegression, X, y, "persist").solver_ == "lbfgs"
    assert _fit(LogisticRegression, X, y, "stream").solver_ == "newton"


# ---------------------------------------------------------------- a lost worker


def _solver_started(dask_scheduler: Any) -> bool:
    return any(str(k).startswith("daskgd-grad") for k in dask_scheduler.tasks)


def test_streamed_fit_survives_a_killed_worker(
    client: Client
) -> None:
    """Lazy chunks are scattered from the driver: a lost one is sent again (or the
    scheduler has copied it already, they are tiny), and the fit gives the same model."""
    X, y = _synthetic.lazy_problem(200_000, 10, chunk_rows=20_000, random_state=2)

    def make() -> Any:
        return LogisticRegression(solver="lbfgs", tol=1e-9, max_iter=200)

    reference = _fit(make, X, y, "persist")
    killed: dict[str, float] = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=50) as cluster, Client(cluster) as own:
        own.wait_for_workers(2)
        victim = sorted(own.run(os.getpid).values())[0]

        def kill_once_the_solver_runs() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not own.run_on_scheduler(_solver_started):
                time.sleep(0.01)
            os.kill(victim, signal.SIGKILL)  # the worker process, not its nanny
            killed["at"] = time.monotonic()

        killer = threading.Thread(target=kill_once_the_solver_runs)
        killer.start()
        try:
            model = _fit(make, X, y, "stream")
            finished = time.monotonic()
        finally:
            killer.join()
    assert default_client() is client
    assert killed["at"] < finished, "the worker must die while the fit is running"
    assert model.n_iter_ > 5
    assert model.placement_ == "stream"
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)


# ---------------------------------------------------------------- the generator


def test_make_zarr_does_not_depend_on_chunking(tmp_path: Path) -> None:
    a = make_zarr(tmp_path / "a.zarr", 10_500, 3, chunk_rows=2_000, kind="poisson",
                  random_state=5)
    make_zarr(tmp_path / "b.zarr", 10_500, 3, chunk_rows=3_333, kind="poisson",
              random_state=5)
    Xa, ya = open_zarr(tmp_path / "a.zarr")
    Xb, yb = open_zarr(tmp_path / "b.zarr")
    assert Xa.dtype == np.float32 and ya.dtype == np.float64
    assert Xa.chunks[0][0] == 2_000 and Xb.chunks[0][0] == 3_333
    np.testing.assert_array_equal(Xa.compute(), Xb.compute())
    np.testing.assert_array_equal(ya.compute(), yb.compute())
    coef, intercept = _synthetic.true_coefficients("poisson", 3, 5)
    assert a["coef"] == coef.tolist() and a["intercept"] == intercept


def test_make_zarr_recovers_its_coefficients(tmp_path: Path) -> None:
    attrs = make_zarr(tmp_path / "r.zarr", 20_000, 3, kind="regression", chunk_rows=5_000,
                      dtype="float64")
    X, y = open_zarr(tmp_path / "r.zarr")
    model = _fit(LinearRegression, X, y, "stream")
    np.testing.assert_allclose(model.coef_, attrs["coef"], atol=0.03)
    np.testing.assert_allclose(model.intercept_, attrs["intercept"], atol=0.03)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_samples": 0}, r"n_samples must be an integer >= 1; got 0"),
    ({"n_features": 2.5}, r"n_features must be an integer >= 1; got 2.5"),
    ({"kind": "survival"}, r"kind must be one of \['classification', 'regression', 'poisson'\]"),
    ({"chunk_rows": -1}, r"chunk_rows must be an integer >= 1; got -1"),
    ({"dtype": "int32"}, r"dtype must be 'float32' or 'float64'; got 'int32'"),
    ({"random_state": None}, r"random_state must be an integer >= 0; got None"),
])
def test_make_zarr_refuses_bad_arguments_before_writing(
    kwargs: dict[str, Any], message: str, tmp_path: Path
) -> None:
    args: dict[str, Any] = {"n_samples": 10, "n_features": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_zarr(tmp_path / "bad.zarr", **args)
    assert not (tmp_path / "bad.zarr").exists()


def test_make_zarr_does_not_overwrite_by_default(tmp_path: Path) -> None:
    make_zarr(tmp_path / "s.zarr", 10, 2)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        make_zarr(tmp_path / "s.zarr", 10, 2)
    make_zarr(tmp_path / "s.zarr", 20, 2, overwrite=True)
    assert open_zarr(tmp_path / "s.zarr")[0].shape == (20, 2)


def test_open_zarr_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No Zarr store"):
        open_zarr(tmp_path / "missing.zarr")
    import zarr

    zarr.open_group(str(tmp_path / "empty.zarr"), mode="w")
    with pytest.raises(ValueError, match="has no array 'X'"):
        open_zarr(tmp_path / "empty.zarr")
