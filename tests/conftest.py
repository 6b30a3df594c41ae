"""Shared fixtures: one real LocalCluster of worker processes for the whole session."""

from __future__ import annotations

import os

import numpy as np
import pytest
from distributed import Client, LocalCluster

SHARED_CASES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "cases")


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
