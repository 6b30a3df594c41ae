"""daskgd and the dask cluster: which client a fit uses, what it leaves behind, what survives
the cluster (C-23), worker loss during a fit, lazy prediction and task names.

Every test runs on real ``LocalCluster``s of worker processes. Tests that start their own
cluster make it the active client while it is open and check that the session client is the
default again afterwards.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import skops.io
from distributed import Client, Future, LocalCluster, default_client, get_task_stream
from distributed.diagnostics.plugin import SchedulerPlugin
from distributed.utils import key_split

from daskgd import LinearRegression, LogisticRegression, Ridge, SGDClassifier

REPO = Path(__file__).resolve().parents[1]


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) else str(key[0]) if isinstance(key, tuple) else str(key)


class KeyRecorder(SchedulerPlugin):
    """Runs in the (in-process) scheduler: records keys as they change state, and can set an
    event once ``count`` distinct keys starting with ``trigger`` have started processing."""

    def __init__(self, trigger: str | None = None, count: int = 0) -> None:
        self.keys: list[str] = []
        self.trigger, self.count = trigger, count
        self.started: set[str] = set()
        self.event = threading.Event()

    def update_graph(self, scheduler: Any, *, keys: Any = (), tasks: Any = (), **kwargs: Any):
        self.keys.extend(_key_name(k) for k in list(keys) + list(tasks))

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        name = _key_name(key)
        self.keys.append(name)
        if self.trigger and finish == "processing" and name.startswith(self.trigger):
            self.started.add(name)
            if len(self.started) >= self.count:
                self.event.set()


@contextlib.contextmanager
def recording(cluster: LocalCluster, plugin: KeyRecorder | None = None) -> Iterator[KeyRecorder]:
    """Install ``plugin`` on ``cluster``'s scheduler for the duration of the block."""
    plugin = plugin or KeyRecorder()
    name = f"daskgd-tests-{id(plugin)}"

    async def add() -> None:
        cluster.scheduler.add_plugin(plugin, name=name)

    async def remove() -> None:
        cluster.scheduler.remove_plugin(name=name)

    cluster.sync(add)
    try:
        yield plugin
    finally:
        cluster.sync(remove)


def _scheduler_keys(client: Client) -> set[str]:
    return set(client.run_on_scheduler(
        lambda dask_scheduler: [_key_name(k) for k in list(dask_scheduler.tasks)]
    ))


@contextlib.contextmanager
def no_cluster_work(client: Client, cluster: LocalCluster) -> Iterator[None]:
    """Assert that nothing reaches ``cluster``'s scheduler inside the block."""
    before = _scheduler_keys(client)
    with recording(cluster) as plugin:
        yield
        after = _scheduler_keys(client)
    new = sorted({k for k in plugin.keys + list(after) if k not in before})
    assert new == [], f"work reached the scheduler: {new[:5]}"


def _local_cluster(n_workers: int) -> LocalCluster:
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", silence_logs=logging.ERROR)


# ---------------------------------------------------------------- walking a fitted model


def _forbidden(value: Any, addresses: set[str]) -> str | None:
    """Why ``value`` must not be in a fitted model, or None."""
    if isinstance(value, Future | Client | LocalCluster | da.Array):
        return type(value).__name__
    module = type(value).__module__ or ""
    if module.split(".")[0] in {"distributed", "dask"}:
        return f"{module}.{type(value).__name__}"
    if isinstance(value, str | bytes):
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        if "://" in text or any(a in text for a in addresses):
            return f"address-like string {text!r}"
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return f"ndarray subclass {type(value).__name__}"
    return None


def walk(value: Any, path: str, addresses: set[str], out: list[str], depth: int = 0) -> None:
    assert depth < 20, f"{path} nests too deeply"
    problem = _forbidden(value, addresses)
    if problem:
        out.append(f"{path}: {problem}")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            walk(k, f"{path}[key]", addresses, out, depth + 1)
            walk(v, f"{path}[{k!r}]", addresses, out, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, v in enumerate(value):
            walk(v, f"{path}[{i}]", addresses, out, depth + 1)
    elif isinstance(value, np.ndarray) and value.dtype == object:
        for i, v in enumerate(value.ravel()):
            walk(v, f"{path}.flat[{i}]", addresses, out, depth + 1)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        for k, v in vars(value).items():
            walk(v, f"{path}.{k}", addresses, out, depth + 1)


def assert_plain(model: Any, addresses: set[str]) -> None:
    problems: list[str] = []
    walk(model, type(model).__name__, addresses, problems)
    assert problems == [], problems
    fitted = {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    for name in ("coef_", "intercept_"):
        assert type(fitted[name]) in (np.ndarray, np.float64, np.float32), name


# ================================================================ C-23


def _c23_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(23)
    X = rng.standard_normal((2000, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 1.0 + 0.3 * rng.standard_normal(2000)
    labels = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(2000) > 0, "yes", "no")
    return {"X": X, "y": y, "labels": labels}


def _predictions(models: dict[str, Any], X: Any) -> dict[str, np.ndarray]:
    out = {}
    for name, model in models.items():
        out[f"{name}.predict"] = model.predict(X)
        if hasattr(model, "predict_proba"):
            out[f"{name}.predict_proba"] = model.predict_proba(X)
            out[f"{name}.decision_function"] = model.decision_function(X)
    return out


def _compute(preds: dict[str, Any], **kwargs: Any) -> dict[str, np.ndarray]:
    keys = list(preds)
    values = dask.compute(*[preds[k] for k in keys], **kwargs)
    return dict(zip(keys, values))


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray], where: str) -> None:
    assert set(a) == set(b)
    for k in a:
        assert isinstance(b[k], np.ndarray), (where, k)
        np.testing.assert_array_equal(b[k], a[k], err_msg=f"{where}: {k}")


_NO_CLUSTER_SCRIPT = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import dask, dask.array as da
    import skops.io
    from distributed import default_client
    X = np.load(sys.argv[1])
    out = {}
    for kind, path in (("pickle", sys.argv[2]), ("skops", sys.argv[3])):
        if kind == "pickle":
            with open(path, "rb") as f:
                models = pickle.load(f)
        else:
            models = {n: skops.io.load(p, trusted=skops.io.get_untrusted_types(file=p))
                      for n, p in json.loads(open(path).read()).items()}
        for name, model in models.items():
            out[f"{kind}.{name}.predict"] = model.predict(X).tolist()
            lazy = model.predict(da.from_array(X, chunks=(500, 4)))
            out[f"{kind}.{name}.dask_predict"] = lazy.compute(scheduler="threads").tolist()
            if hasattr(model, "predict_proba"):
                out[f"{kind}.{name}.predict_proba"] = model.predict_proba(X).tolist()
    try:
        default_client()
        out["client"] = True
    except ValueError:
        out["client"] = False
    print(json.dumps(out))
""")


def test_c23_predictions_do_not_depend_on_the_cluster(
    client: Client, cluster: LocalCluster, tmp_path: Path
) -> None:
    data = _c23_data()
    X = data["X"]
    # --- fit on cluster A (2 workers), data persisted there
    with _local_cluster(2) as cluster_a, Client(cluster_a) as client_a:
        assert default_client() is client_a
        addresses = set(client_a.scheduler_info(n_workers=-1)["workers"]) | {
            client_a.scheduler.address}
        Xd = da.from_array(X, chunks=(500, 4)).persist()
        yd = da.from_array(data["y"], chunks=500).persist()
        labels = da.from_array(data["labels"], chunks=500).persist()
        client_a.wait_for_workers(2)
        with get_task_stream(client_a) as stream_a, recording(cluster) as session_keys:
            models = {
                "linear": LinearRegression().fit(Xd, yd),
                "ridge_sgd": Ridge(alpha=3.0, solver="sgd", max_iter=5, random_state=0,
                                   batch_size=256).fit(Xd, yd),
                "logistic": LogisticRegression(C=0.5).fit(Xd, labels),
            }
        names_a = {key_split(t["key"]) for t in stream_a.data}
        # solver="auto": lstsq (Gram statistics with the validation pass) for least
        # squares, newton (Hessian) for the logistic fit.
        assert {"daskgd-validate", "daskgd-hess", "daskgd-sgd"} <= names_a, names_a
        assert not [k for k in session_keys.keys if k.startswith("daskgd-")], (
            "the fit must use the active client (cluster A), not the session cluster")
        on_a = _compute(_predictions(models, Xd))
    assert client_a.status == "closed"
    assert default_client() is client, "the session client must be the default again"

    numpy_reference = _predictions(models, X)
    _assert_same(numpy_reference, on_a, "cluster A (dask) vs NumPy")

    # --- the fitted estimators hold only plain NumPy parameters
    for name, model in models.items():
        assert_plain(model, addresses)
        assert isinstance(model.coef_, np.ndarray), name
        blob = pickle.dumps(model)
        assert b"distributed" not in blob and b"tcp://" not in blob, name

    # --- no cluster at all: NumPy predictions need none (nothing reaches the session one)
    with no_cluster_work(client, cluster):
        without = _predictions(models, X)
        lazy = _compute(_predictions(models, da.from_array(X, chunks=(500, 4))),
                        scheduler="sync")
    _assert_same(on_a, without, "no cluster (NumPy)")
    _assert_same(on_a, lazy, "no cluster (dask, synchronous scheduler)")

    # --- a new cluster with 3 other workers
    with _local_cluster(3) as cluster_b, Client(cluster_b) as client_b:
        assert default_client() is client_b
        assert not set(client_b.scheduler_info(n_workers=-1)["workers"]) & addresses
        Xb = da.from_array(X, chunks=(500, 4)).persist()
        with get_task_stream(client_b) as stream_b:
            on_b = _compute(_predictions(models, Xb))
        assert "daskgd-predict" in {key_split(t["key"]) for t in stream_b.data}
    assert default_client() is client
    _assert_same(on_a, on_b, "cluster B (3 workers)")

    # --- copies saved and loaded with skops and with pickle
    skops_paths = {}
    for name, model in models.items():
        path = tmp_path / f"{name}.skops"
        skops.io.dump(model, path)
        untrusted = skops.io.get_untrusted_types(file=path)
        assert not [t for t in untrusted
                    if t.split(".")[0] in {"distributed", "dask"}], untrusted
        loaded = skops.io.load(path, trusted=untrusted)
        assert type(loaded) is type(model)
        assert_plain(loaded, addresses)
        _assert_same(_predictions({name: model}, X), _predictions({name: loaded}, X),
                     f"skops {name}")
        skops_paths[name] = str(path)
    copies = pickle.loads(pickle.dumps(models))
    _assert_same(on_a, _predictions(copies, X), "pickle")

    # --- and in a fresh process with no dask cluster anywhere
    np.save(tmp_path / "X.npy", X)
    with open(tmp_path / "models.pkl", "wb") as f:
        pickle.dump(models, f)
    (tmp_path / "skops.json").write_text(json.dumps(skops_paths))
    result = subprocess.run(
        [sys.executable, "-c", _NO_CLUSTER_SCRIPT, str(tmp_path / "X.npy"),
         str(tmp_path / "models.pkl"), str(tmp_path / "skops.json")],
        capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    fresh = json.loads(result.stdout.strip().splitlines()[-1])
    assert fresh.pop("client") is False
    for kind in ("pickle", "skops"):
        for name in models:
            for method in ("predict", "dask_predict", "predict_proba"):
                key = f"{kind}.{name}.{method}"
                if method == "predict_proba" and name != "logistic":
                    continue
                ref = on_a[f"{name}.{method.replace('dask_', '')}"]
                np.testing.assert_array_equal(np.asarray(fresh[key], dtype=ref.dtype), ref,
                                              err_msg=key)


# ================================================================ worker loss during a fit


def _kill_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    n, d = 40_000, 10
    X = rng.standard_normal((n, d)) * np.linspace(1.0, 30.0, d)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return {"X": X, "y": y, "labels": (y + 3 * rng.standard_normal(n) > 0).astype(np.int64)}


KILL_CASES: dict[str, tuple[Callable[[], Any], str, str]] = {
    # solver -> (estimator factory, target, task prefix that triggers the kill)
    "lbfgs": (lambda: LinearRegression(solver="lbfgs", tol=1e-12, max_iter=500), "y",
              "daskgd-grad"),
    "sgd": (lambda: LogisticRegression(solver="sgd", max_iter=5, batch_size=2000, tol=0.0,
                                       random_state=0), "labels", "daskgd-sgd"),
    # Shuffled placement: lost chunks of the moved rows are re-sent or recomputed too.
    "sgd-shuffled": (lambda: SGDClassifier(row_placement="shuffled", local_steps=2, max_iter=5,
                                           batch_size=2000, tol=None, random_state=0),
                     "labels", "daskgd-sgd"),
}


def _worker_pids(client: Client) -> dict[str, int]:
    return client.run(os.getpid)


@pytest.fixture
def kill_cluster(client: Client) -> Iterator[tuple[LocalCluster, Client]]:
    """A cluster of its own for a test that kills a worker, active while the test runs.

    A nanny on a loaded machine can take minutes to bring a killed worker back (or fail to);
    on a cluster of its own that cannot leave the session's cluster short of a worker for
    the tests that follow.
    """
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=40,
    ) as cluster, Client(cluster) as own:
        yield cluster, own
    assert default_client() is client  # the session's client is active again


@pytest.mark.parametrize("container", ["numpy", "dask"])
@pytest.mark.parametrize("solver", list(KILL_CASES))
def test_fit_survives_a_killed_worker(
    solver: str, container: str, kill_cluster: tuple[LocalCluster, Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster, client = kill_cluster
    make, target, trigger = KILL_CASES[solver]
    data = _kill_data()
    X: Any = data["X"]
    y: Any = data[target]
    if container == "dask":
        X, y = da.from_array(X, chunks=(5_000, 10)), da.from_array(y, chunks=5_000)
    client.wait_for_workers(2)
    reference = make().fit(X, y)
    caplog.set_level(logging.WARNING, logger="daskgd")

    pids = _worker_pids(client)
    assert len(pids) == 2
    victim = sorted(pids.values())[0]
    killed: dict[str, float] = {}

    def kill_when_the_fit_is_under_way(plugin: KeyRecorder) -> None:
        if plugin.event.wait(60):
            os.kill(victim, signal.SIGKILL)  # the worker process, not its nanny
            killed["at"] = time.monotonic()

    with recording(cluster, KeyRecorder(trigger=trigger, count=4)) as plugin:
        killer = threading.Thread(target=kill_when_the_fit_is_under_way, args=(plugin,))
        killer.start()
        try:
            model = make().fit(X, y)
            finished = time.monotonic()
        finally:
            plugin.event.set()  # release the thread if the fit failed early
            killer.join()
    assert "at" in killed, "the worker was not killed"
    assert killed["at"] < finished, "the worker must die while the fit is running"
    assert victim not in _worker_pids(client).values()
    if container == "numpy":
        # Scattered chunks cannot be recomputed by dask: daskgd must have re-sent them.
        assert any("retrying" in r.getMessage() for r in caplog.records
                   if r.name == "daskgd"), "no retry after losing scattered chunks"
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-10,
                               atol=1e-14)
    assert model.n_iter_ == reference.n_iter_


# ================================================================ lazy prediction


@pytest.fixture(scope="module")
def small_models() -> dict[str, Any]:
    rng = np.random.default_rng(5)
    X = rng.standard_normal((600, 3))
    y = X @ [1.0, 2.0, -1.0] + 0.2 * rng.standard_normal(600)
    return {
        "X": X,
        "linear": LinearRegression().fit(X, y),
        "logistic": LogisticRegression().fit(X, np.where(y > 0, "up", "down")),
    }


@pytest.mark.parametrize("container", ["dask_array", "dask_dataframe"])
def test_predict_on_dask_input_is_lazy(
    container: str, small_models: dict[str, Any], client: Client, cluster: LocalCluster
) -> None:
    X = small_models["X"]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    Xd = (da.from_array(X, chunks=(150, 3)) if container == "dask_array"
          else dd.from_pandas(frame, npartitions=4))
    outputs = {}
    with no_cluster_work(client, cluster):
        for name in ("linear", "logistic"):
            model = small_models[name]
            methods = ["predict"] + (
                ["decision_function", "predict_proba", "predict_log_proba"]
                if name == "logistic" else [])
            for method in methods:
                result = getattr(model, method)(Xd)
                assert isinstance(result, da.Array), (name, method)
                outputs[name, method] = result
    assert any(key_split(k).startswith("daskgd-") for k in
               dict(outputs["linear", "predict"].__dask_graph__()))
    with get_task_stream(client) as stream:
        computed = dask.compute(*outputs.values())
    assert stream.data, "compute must run on the active client"
    for (name, method), value in zip(outputs, computed):
        expected = getattr(small_models[name], method)(X)
        assert isinstance(value, np.ndarray)
        assert value.shape == expected.shape and value.dtype == expected.dtype
        if value.dtype.kind in "UO":
            np.testing.assert_array_equal(value, expected)
        else:
            np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


def test_lazy_predictions_never_share_keys(
    small_models: dict[str, Any], client: Client
) -> None:
    """Different models, or one model on different data, give differently named graphs, so
    computing them together or after a persisted one never mixes their results."""
    X = small_models["X"]
    X2 = X[::-1] * 2.0
    first = small_models["linear"]
    second = LinearRegression().fit(X, X @ [-3.0, 0.5, 4.0] + 7.0)
    lazy = {
        "first on X": (first.predict(da.from_array(X, chunks=(150, 3))), first.predict(X)),
        "second on X": (second.predict(da.from_array(X, chunks=(150, 3))), second.predict(X)),
        "first on X2": (first.predict(da.from_array(X2, chunks=(150, 3))), first.predict(X2)),
        "logistic on X": (small_models["logistic"].decision_function(
            da.from_array(X, chunks=(150, 3))), small_models["logistic"].decision_function(X)),
    }
    names = [value.name for value, _ in lazy.values()]
    assert len(set(names)) == len(names), names
    computed = dask.compute(*[value for value, _ in lazy.values()])
    for (what, (_, expected)), value in zip(lazy.items(), computed):
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12, err_msg=what)
    kept = lazy["first on X"][0].persist()  # held in cluster memory meanwhile
    for what in ("second on X", "first on X2"):
        value, expected = lazy[what]
        np.testing.assert_allclose(value.compute(), expected, rtol=1e-12, atol=1e-12,
                                   err_msg=what)
    del kept


def test_predict_on_numpy_and_pandas_returns_numpy(
    small_models: dict[str, Any], client: Client, cluster: LocalCluster
) -> None:
    X = small_models["X"]
    with no_cluster_work(client, cluster):
        for value in (X, pd.DataFrame(X)):
            for name in ("linear", "logistic"):
                assert type(small_models[name].predict(value)) is np.ndarray
            assert type(small_models["logistic"].predict_proba(value)) is np.ndarray


# ================================================================ which client a fit uses


def test_fit_uses_the_active_client_and_never_closes_it(
    client: Client, cluster: LocalCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="daskgd")
    n_clients = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.clients))
    workers = set(client.scheduler_info(n_workers=-1)["workers"])
    X = np.random.default_rng(1).standard_normal((300, 2))
    y = X @ [1.0, 1.0]
    with recording(cluster) as plugin:
        LinearRegression().fit(X, y)
        LogisticRegression(solver="sgd", max_iter=3, random_state=0).fit(
            da.from_array(X, chunks=(100, 2)), y > 0)
    assert any(k.startswith("daskgd-gram") for k in plugin.keys)  # solver="auto": lstsq
    assert any(k.startswith("daskgd-sgd") for k in plugin.keys)
    assert client.status == "running"
    assert default_client() is client
    assert set(client.scheduler_info(n_workers=-1)["workers"]) == workers
    assert client.run_on_scheduler(
        lambda dask_scheduler: len(dask_scheduler.clients)) == n_clients
    assert not any("LocalCluster" in r.getMessage() for r in caplog.records)
    assert client.submit(sum, [1, 2]).result() == 3  # still usable


def test_fit_releases_what_it_placed(client: Client, cluster: LocalCluster) -> None:
    """After a fit, none of its chunks or tasks stay in cluster memory."""
    X = np.random.default_rng(2).standard_normal((400, 3))
    y = X.sum(axis=1)
    for fit_X in (X, da.from_array(X, chunks=(100, 3))):
        LinearRegression().fit(fit_X, y)
        assert _daskgd_keys_left(client) == []


def _daskgd_keys_left(client: Client, timeout: float = 10.0) -> list[str]:
    """The daskgd keys still on the scheduler once released ones have had time to go."""
    deadline = time.monotonic() + timeout
    while True:
        left = [k for k in _scheduler_keys(client) if k.startswith("daskgd-")]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _mixed_label_chunks() -> tuple[da.Array, da.Array]:
    X = np.random.default_rng(3).standard_normal((400, 3))
    y = np.array([1, "a"] * 200, dtype=object)  # refused by the check on the workers
    return da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100)


@pytest.mark.parametrize("failure", ["summary", "worker"])
def test_failed_placement_releases_what_it_placed(client: Client, failure: str) -> None:
    """Bad dask data found by the validation pass (on the driver's summary or raised inside
    a worker task) leaves none of the fit's chunks on the cluster, even while the caller
    holds the exception (whose traceback references the placement)."""
    if failure == "summary":
        X = np.random.default_rng(3).standard_normal((400, 3))
        X[250, 1] = np.nan
        Xd, yd = da.from_array(X, chunks=(100, 3)), da.from_array(X.sum(axis=1), chunks=100)
        est: Any = LinearRegression()
    else:
        Xd, yd = _mixed_label_chunks()
        est = LogisticRegression()
    with pytest.raises(ValueError) as caught:
        est.fit(Xd, yd)
    assert caught.value is not None  # the exception and its traceback are still alive here
    assert _daskgd_keys_left(client) == []


_NO_CLIENT_SCRIPT = textwrap.dedent("""
    import json, logging, sys, time
    import numpy as np, psutil
    import dask.array as da
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="LOG %(name)s %(levelname)s %(message)s")
    from distributed import default_client
    from daskgd import LinearRegression
    X = np.random.default_rng(0).standard_normal((500, 3))
    y = X @ [1.0, 2.0, 3.0] + 1.0
    coefs = [LinearRegression().fit(X, y).coef_.tolist(),
             LinearRegression().fit(da.from_array(X, chunks=(100, 3)), y).coef_.tolist()]
    try:
        default_client()
        client_left = True
    except ValueError:
        client_left = False
    def workers():
        return [p.cmdline() for p in psutil.Process().children(recursive=True)
                if "resource_tracker" not in " ".join(p.cmdline())]
    deadline = time.monotonic() + 20
    while workers() and time.monotonic() < deadline:
        time.sleep(0.2)
    print(json.dumps({"coefs": coefs, "client_left": client_left, "children": workers()}))
""")


def test_fit_without_a_client_starts_and_closes_its_own_cluster() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    result = subprocess.run(
        [sys.executable, "-c", _NO_CLIENT_SCRIPT], capture_output=True, text=True,
        timeout=300, check=False, cwd=REPO, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    logged = [line for line in result.stderr.splitlines()
              if line.startswith("LOG daskgd") and "started a LocalCluster" in line]
    assert len(logged) == 2, result.stderr[-3000:]  # one per fit, each says so
    assert out["client_left"] is False
    assert out["children"] == [], "worker processes were left running"
    for coef in out["coefs"]:
        np.testing.assert_allclose(coef, [1.0, 2.0, 3.0], rtol=1e-5)


# ================================================================ task names


@pytest.mark.parametrize(
    ("solver", "expected"),
    # gd scores shorter steps ("daskgd-linesearch") only when its first trial is rejected.
    [("lbfgs", {"daskgd-grad"}), ("gd", {"daskgd-grad"}), ("sgd", {"daskgd-sgd"}),
     ("newton", {"daskgd-hess"}), ("lstsq", {"daskgd-gram"}), ("proximal", {"daskgd-grad"})],
)
@pytest.mark.parametrize("container", ["numpy", "dask"])
def test_task_names_say_what_they_are(
    solver: str, expected: set[str], container: str, client: Client
) -> None:
    X = np.random.default_rng(3).standard_normal((400, 3))
    y = X @ [1.0, -1.0, 2.0] + 0.1
    user_names: set[str] = set()
    if container == "dask":
        X, y = da.from_array(X, chunks=(100, 3)), da.from_array(y, chunks=100)
        user_names = {key_split(k) for a in (X, y) for k in dict(a.__dask_graph__())}
    with get_task_stream(client) as stream:
        LinearRegression(solver=solver, max_iter=20 if solver != "sgd" else 3,
                         random_state=0, tol=1e-3).fit(X, y)
    names = {key_split(t["key"]) for t in stream.data}
    if solver == "lstsq" and container == "dask":
        # Dask data: the Gram statistics are summed by the validation pass itself.
        expected = {"daskgd-validate"}
        assert "daskgd-gram" not in names, names
    assert expected <= names, names
    ours = names - user_names
    assert ours and all(n.startswith("daskgd-") for n in ours), sorted(ours)
    # Names are short and stable: "daskgd-<what>", the token and call number dropped.
    assert all(n.count("-") == 1 for n in ours), sorted(ours)
