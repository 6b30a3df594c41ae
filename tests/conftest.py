"""Shared fixtures: one real LocalCluster of worker processes for the whole session, and a
watch on its scheduler that proves which tasks (if any) a call sent to the cluster."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from distributed import Client, LocalCluster, default_client
from distributed.diagnostics.plugin import SchedulerPlugin

SHARED_CASES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "cases")
SOLVER_PREFIXES = ("daskgd-grad", "daskgd-hess", "daskgd-gram", "daskgd-linesearch", "daskgd-sgd")


@pytest.fixture(scope="session")
def cluster():
    """Two single-threaded worker processes (with nannies, so a killed worker restarts)."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=40,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="session", autouse=True)
def client(cluster):
    """The session's client, active for every test so fits never start their own cluster."""
    with Client(cluster) as client:
        yield client


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------- watching the scheduler


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) else str(key[0]) if isinstance(key, tuple) else str(key)


class KeyRecorder(SchedulerPlugin):
    """Records every key that enters the scheduler or changes state (runs in the scheduler)."""

    name = "daskgd-tests-key-recorder"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def update_graph(self, scheduler: Any, *, keys: Any = (), tasks: Any = (), **kwargs: Any):
        self.keys.extend(_key_name(k) for k in list(keys) + list(tasks))

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        self.keys.append(_key_name(key))


def _task_keys(dask_scheduler: Any) -> list[str]:
    return [_key_name(k) for k in list(dask_scheduler.tasks)]


class ClusterWatch:
    """What reached the session scheduler inside ``with watch():``."""

    def __init__(
        self, client: Client, recorder: KeyRecorder, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.caplog = caplog
        self.new_keys: list[str] = []

    @contextlib.contextmanager
    def __call__(self) -> Iterator[ClusterWatch]:
        # A round trip through the scheduler first, so earlier messages are processed.
        before = set(self.client.run_on_scheduler(_task_keys))
        mark = len(self.recorder.keys)
        self.new_keys = []
        try:
            yield self
        finally:
            after = self.client.run_on_scheduler(_task_keys)
            seen = self.recorder.keys[mark:] + after
            self.new_keys = sorted({k for k in seen if k not in before})

    def solver_keys(self) -> list[str]:
        return [k for k in self.new_keys if k.startswith(SOLVER_PREFIXES)]

    def started_a_cluster(self) -> bool:
        """Whether a fit in this test started a LocalCluster of its own (logged by daskgd)."""
        return any("started a LocalCluster" in r.getMessage() for r in self.caplog.records)


@pytest.fixture(scope="module")
def recorder(cluster: Any) -> Iterator[KeyRecorder]:
    plugin = KeyRecorder()

    async def add() -> None:
        cluster.scheduler.add_plugin(plugin, name=KeyRecorder.name)

    async def remove() -> None:
        cluster.scheduler.remove_plugin(name=KeyRecorder.name)

    cluster.sync(add)
    yield plugin
    cluster.sync(remove)


@pytest.fixture
def watch(client: Client, recorder: KeyRecorder, caplog: pytest.LogCaptureFixture) -> ClusterWatch:
    """``with watch():`` records what reaches the session scheduler (see ``ClusterWatch``)."""
    caplog.set_level(logging.INFO, logger="daskgd")
    return ClusterWatch(client, recorder, caplog)


@pytest.fixture
def session_client_stays_default(client: Client) -> Iterator[None]:
    """After each test the session client must still be the default one.

    A stray client (e.g. one a fit started and failed to close) would make every later test
    run elsewhere; it is closed here so one failure does not cascade.
    """
    yield
    stray = default_client()
    for _ in range(10):
        if stray is client:
            break
        cluster = getattr(stray, "cluster", None)
        stray.close()
        if cluster is not None:
            cluster.close()
        stray = default_client()
    assert stray is client
