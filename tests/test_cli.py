"""Tests of the ``daskgd`` command, run as a user runs it (subprocesses, real clusters)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import LocalCluster

from daskgd._version import __version__
from daskgd.cli import _format_table, main

REPO = Path(__file__).resolve().parents[1]


def run_daskgd(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m daskgd ARGS`` from the repository root and capture its output."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "daskgd", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def table_rows(output: str, prefix: str) -> dict[str, list[str]]:
    """Rows of a demo table that start with ``prefix``, keyed by solver, split into cells."""
    rows = {}
    for line in output.splitlines():
        if line.startswith(prefix):
            cells = re.split(r"\s{2,}", line.strip())
            rows[cells[1]] = cells
    return rows


def test_info_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^daskgd\s+{re.escape(__version__)}$", out, re.MULTILINE)
    for name in ("dask", "distributed", "numpy", "scikit-learn"):
        assert re.search(rf"^{name}\s+\d", out, re.MULTILINE), name


def test_info_as_python_m_daskgd() -> None:
    result = run_daskgd("info", timeout=60)
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
    assert "distributed" in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / ("daskgd.exe" if os.name == "nt" else "daskgd")
    if not script.exists():
        pytest.skip("daskgd is not installed in this environment (pip install .)")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"daskgd {__version__}"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"daskgd {__version__}"


@pytest.mark.parametrize(
    "argv",
    [[], ["nonsense"], ["demo", "--workers", "0"], ["demo", "--sample", "ten"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: daskgd" in capsys.readouterr().err


def test_demo_with_unreachable_scheduler_fails_clearly() -> None:
    # Port 1 on the loopback interface: nothing listens there.
    result = run_daskgd(
        "demo", "--sample", "2000", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "2"
    )
    assert result.returncode == 1
    assert "cannot reach the cluster" in result.stderr
    assert "Traceback" not in result.stderr


def test_format_table_aligns_columns() -> None:
    table = _format_table(["model", "R²"], [["a", "0.5"], ["longer name", "10.25"]], align="<>")
    lines = table.splitlines()
    assert lines[0] == "model           R²"
    assert lines[1] == "-----------  -----"
    assert lines[2] == "a              0.5"
    assert lines[3] == "longer name  10.25"
    with pytest.raises(ValueError, match="columns"):
        _format_table(["a", "b"], [["only one"]], align="<>")


@pytest.mark.slow
def test_demo_end_to_end() -> None:
    result = run_daskgd("demo", "--sample", "20000")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout

    assert re.search(r"^Dashboard:\s+http://\S+", out, re.MULTILINE), out
    assert "LocalCluster with 2 worker processes x 1 thread" in out
    assert "StandardScaler" in out
    assert re.search(r"row blocks", out)
    assert re.search(r"^Total time: [\d.]+ s$", out, re.MULTILINE)

    # Regression: every daskgd solver is on the table beside scikit-learn's R².
    assert re.search(r"^model\s+solver\s+iter\s+fit \[s\]\s+R²\s+MSE", out, re.MULTILINE), out
    sk_reg = table_rows(out, "scikit-learn LinearRegression")["lstsq"]
    reg = table_rows(out, "daskgd LinearRegression")
    assert set(reg) == {"gd", "sgd", "lbfgs", "lstsq"}
    sk_r2 = float(sk_reg[4])
    assert 0.5 < sk_r2 < 1.0  # departure delay explains most of the arrival delay
    for solver, tol in {"gd": 1e-3, "lbfgs": 1e-3, "lstsq": 1e-3, "sgd": 1e-2}.items():
        assert abs(float(reg[solver][4]) - sk_r2) < tol, (solver, out)

    # Classification: accuracy and F1 beside scikit-learn's.
    assert re.search(r"^model\s+solver\s+iter\s+fit \[s\]\s+accuracy\s+F1", out, re.MULTILINE)
    sk_acc = float(table_rows(out, "scikit-learn LogisticRegression")["lbfgs"][4])
    clf = table_rows(out, "daskgd LogisticRegression")
    assert set(clf) == {"lbfgs", "newton", "sgd"}
    for solver, tol in {"lbfgs": 1e-3, "newton": 1e-3, "sgd": 1e-2}.items():
        assert abs(float(clf[solver][4]) - sk_acc) < tol, (solver, out)


@pytest.mark.slow
def test_demo_on_an_existing_scheduler(cluster: LocalCluster) -> None:
    # The session's cluster (conftest.py): the demo must use it and leave it running.
    n_workers = len(cluster.workers)
    result = run_daskgd("demo", "--sample", "5000", "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"scheduler {cluster.scheduler_address} with {n_workers} worker" in result.stdout
    assert "LocalCluster with" not in result.stdout
    assert re.search(r"^Dashboard:\s+http://\S+", result.stdout, re.MULTILINE)
    assert "daskgd LinearRegression" in result.stdout
    assert cluster.status.name == "running"
