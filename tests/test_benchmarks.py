"""The benchmark suite runs end to end on tiny sizes (for breakage, not speed).

It runs as its own process, as a user runs it (``python -m benchmarks``), on a LocalCluster
of its own; dask-ml and Spark rows appear only where those are installed.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_DASK_ML = importlib.util.find_spec("dask_ml") is not None


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("psutil") is None, reason="psutil not installed")
def test_tiny_suite_writes_json_and_markdown(tmp_path):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    systems = ["daskgd:auto", "daskgd:newton", "daskgd:gd", "daskgd:lstsq", "sklearn:lbfgs",
               "sklearn:LinearRegression", "dask-ml:lbfgs"]
    command = [
        sys.executable, "-m", "benchmarks", "--tiny", "--problems", "logistic:4kx10",
        "lstsq:4kx10", "--libraries", "daskgd", "sklearn", "dask-ml", "--solvers", *systems,
        "--cap", "2", "--repeat", "1", "--scaling-rows", "2kx10", "4kx10",
        "--json", str(out_json), "--markdown", str(out_md),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads(out_json.read_text())
    results = report["results"]
    expected = {
        (problem, "daskgd", solver) for problem in ("logistic 4kx10", "lstsq 4kx10")
        for solver in ("auto", "newton", "gd")
    }
    expected |= {("logistic 4kx10", "sklearn", "lbfgs"), ("lstsq 4kx10", "daskgd", "lstsq"),
                 ("lstsq 4kx10", "sklearn", "LinearRegression")}
    if HAS_DASK_ML:
        expected |= {("logistic 4kx10", "dask-ml", "lbfgs"), ("lstsq 4kx10", "dask-ml", "lbfgs")}
    assert {(r["problem"], r["library"], r["solver"]) for r in results} == expected
    for r in results:
        assert not r["status"].startswith("error"), r
        assert math.isfinite(r["best_gap"]) and r["best_gap"] >= 0, r
        if r["time_to_gap"] is not None:
            assert r["ladder"][-1]["gap"] <= 1e-6, r
            assert r["ratio_sklearn"] is not None and r["ratio_sklearn"] > 0, r
            assert (r["ratio_daskml"] is not None) == HAS_DASK_ML, r
    # The exact and second-order daskgd solvers get there at this size.
    reached = {(r["problem"], r["solver"]) for r in results
               if r["library"] == "daskgd" and r["time_to_gap"] is not None}
    assert {("logistic 4kx10", "newton"), ("logistic 4kx10", "auto"),
            ("lstsq 4kx10", "lstsq")} <= reached
    lstsq = next(r for r in results if r["library"] == "daskgd" and r["solver"] == "lstsq")
    # The Gram pass, plus the validation pass over dask input, which the engine counts.
    assert lstsq["passes_to_gap"] in (1, 2)

    assert "ratio" in report["oracle"] or "error" in report["oracle"]
    assert [e["rows"] for e in report["scaling"]["rows"]] == [2000, 4000]
    assert [e["workers"] for e in report["scaling"]["workers"]] == [1, 2]

    markdown = out_md.read_text()
    assert "python -m benchmarks --tiny" in markdown
    assert "| logistic 4kx10 | daskgd newton |" in markdown
    assert "cores" in markdown
