"""A dask scheduler and workers started as separate processes from the ``dask`` command line.

Shared by the tests that need a cluster daskgd did not start and the tests' own
``LocalCluster`` is not part of: everything listens on the loopback address only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from distributed import Client


def _dask_command() -> list[str]:
    """The ``dask`` command of this environment (the venv's, not another on PATH)."""
    beside = Path(sys.executable).with_name("dask")
    return [str(beside)] if beside.exists() else [shutil.which("dask") or "dask"]


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with code {process.returncode}")
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
            info = json.loads(path.read_text())
            if info.get("address"):
                return info
        time.sleep(0.1)
    raise TimeoutError(f"dask scheduler did not write {path} within {timeout} s")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the processes started here by their own handles: the workers first, so
    they close while their scheduler is still there to tell, then the scheduler."""
    workers, scheduler = processes[1:], processes[:1]
    for group in (workers, scheduler):
        for process in group:
            if process.poll() is None:
                process.terminate()
        for process in group:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def cli_cluster(directory: Path, n_workers: int = 2, timeout: float = 120) -> Iterator[str]:
    """Start ``dask scheduler`` and ``n_workers`` single-threaded ``dask worker`` processes.

    Parameters
    ----------
    directory : Path
        Where the scheduler file and the processes' logs go.
    n_workers : int
        Worker processes (each with its nanny), one thread each.
    timeout : float
        Seconds to wait for the scheduler file and for the workers to connect.

    Yields
    ------
    str
        The scheduler's address (``tcp://127.0.0.1:<port>``). Every process started here is
        stopped when the block exits.
    """
    scheduler_file = directory / "scheduler.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(directory / f"{name}.log", "wb") as log:  # the child keeps its own copy
            process = subprocess.Popen([*_dask_command(), *args], stdout=log,
                                       stderr=subprocess.STDOUT, env=env)
        processes.append(process)
        return process

    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(scheduler_file))
        address = _wait_for_file(scheduler_file, scheduler, timeout)["address"]
        for i in range(n_workers):
            start(f"worker-{i}", "worker", "--nthreads", "1", "--host", "127.0.0.1",
                  "--no-dashboard", "--scheduler-file", str(scheduler_file))
        with Client(address, set_as_default=False) as probe:
            probe.wait_for_workers(n_workers, timeout=timeout)
        yield address
    finally:
        _stop(processes)
