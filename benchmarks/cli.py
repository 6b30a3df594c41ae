"""The benchmark command: ``python -m benchmarks [options]`` (see benchmarks/README.md)."""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import dask
from distributed import Client, LocalCluster

from benchmarks import report
from benchmarks.adapters import ADAPTERS, Adapter, Data
from benchmarks.measure import (
    Scorer,
    SystemResult,
    add_ratios,
    measure_system,
    oracle_timing,
    regap,
    scaling,
)
from benchmarks.problems import (
    KINDS,
    SIZES,
    Problem,
    make_dask,
    make_numpy,
    make_problem,
    reference_fit,
)
from benchmarks.problems import objective as objective_value

#: What ``--quick`` and ``--tiny`` run: every kind at one small size.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"sizes": SIZES["tiny"], "rows": [2_000, 4_000], "chunks": 10},
    "quick": {"sizes": SIZES["quick"], "rows": [20_000, 40_000, 80_000], "chunks": 100},
    "full": {"sizes": SIZES["small"] + SIZES["large"],
             "rows": [500_000, 1_000_000, 2_000_000, 4_000_000], "chunks": 100},
}


def parse_size(text: str) -> tuple[int, int]:
    """``"200000x50"`` or ``"2Mx100"`` or ``"200kx50"`` -> (rows, features)."""
    rows, cols = text.lower().split("x")
    scale = {"k": 1_000, "m": 1_000_000}.get(rows[-1], 1)
    return int(float(rows.rstrip("km")) * scale), int(cols)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="every kind at 20k x 20")
    mode.add_argument("--tiny", action="store_true", help="every kind at 4k x 10 (CI)")
    p.add_argument("--sizes", nargs="+", type=parse_size, metavar="NxD",
                   help="problem sizes, e.g. 200kx50 2Mx100 (overrides the preset's)")
    p.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=sorted(KINDS),
                   help="problem kinds (default: all)")
    p.add_argument("--problems", nargs="+", metavar="KIND:NxD",
                   help="explicit problems, e.g. logistic:2Mx100 lstsq:2Mx100 "
                        "(overrides --kinds and --sizes)")
    p.add_argument("--libraries", nargs="+", choices=sorted(ADAPTERS),
                   default=["daskgd", "sklearn", "dask-ml", "spark"])
    p.add_argument("--solvers", nargs="+", metavar="LIB:SOLVER",
                   help="only these systems, e.g. daskgd:auto sklearn:lbfgs")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunks", type=int, help="row chunks per problem (default 100)")
    p.add_argument("--cap", type=float, default=60.0,
                   help="seconds: a ladder rung slower than this ends the ladder ('> cap')")
    p.add_argument("--repeat", type=int, default=3, help="runs of the hitting rung (median)")
    p.add_argument("--no-oracle", action="store_true", help="skip the oracle-call timing")
    p.add_argument("--no-scaling", action="store_true", help="skip the scaling measurements")
    p.add_argument("--scaling-rows", nargs="+", type=parse_size, metavar="NxD",
                   help="sizes of the rows-scaling series (default: the preset's)")
    p.add_argument("--json", help="write the results as JSON here")
    p.add_argument("--markdown", help="write the results as a Markdown report here")
    return p


def selected_problems(args: argparse.Namespace, preset: dict[str, Any]) -> list[Problem]:
    chunks = args.chunks or preset["chunks"]
    if args.problems:
        pairs = [(spec.split(":")[0], parse_size(spec.split(":")[1])) for spec in args.problems]
    else:
        sizes = args.sizes or preset["sizes"]
        pairs = [(kind, size) for size in sizes for kind in args.kinds]
    return [make_problem(kind, n, d, n_chunks=chunks) for kind, (n, d) in pairs]


def make_cluster(n_workers: int) -> LocalCluster:
    """A LocalCluster of single-threaded worker processes (quiet, dashboard on any port)."""
    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", silence_logs=40)


def run_problem(
    problem: Problem, adapters: list[Adapter], args: argparse.Namespace, skipped: list[str],
) -> tuple[list[SystemResult], Data]:
    """Every selected system on one problem, with gaps to the best objective found."""
    print(f"\n== {problem.name}: generating data", flush=True)
    X, y = make_numpy(problem)
    Xd, yd = dask.persist(*make_dask(problem))
    data = Data(X, y, Xd, yd)
    coef, intercept = reference_fit(problem, X, y)
    f_ref = objective_value(problem, X, y, coef, intercept)
    scorer = Scorer(problem, data, f_ref)
    values: list[float] = []
    results = []
    for adapter in adapters:
        solvers = adapter.solvers(problem)
        if not solvers:
            skipped.append(f"{adapter.library} on {problem.name}: no solver for this problem")
        elif any(not args.solvers or f"{adapter.library}:{s}" in args.solvers for s in solvers):
            adapter.prepare(problem, data)
        for solver in solvers:
            if args.solvers and f"{adapter.library}:{solver}" not in args.solvers:
                continue
            print(f"   {adapter.library} {solver} ...", end=" ", flush=True)
            try:
                r = measure_system(adapter, problem, data, solver, scorer, cap=args.cap,
                                   repeat=args.repeat, values=values)
            except Exception as error:
                traceback.print_exc()  # the report keeps the message; the log the whole story
                r = SystemResult(problem.name, adapter.library, solver,
                                 status=f"error: {type(error).__name__}: {error}"[:200])
            print(r.status if r.time_to_gap is None else f"{r.time_to_gap:.3f} s", flush=True)
            results.append(r)
    # The reference is the best objective any fit reached, so no gap is negative.
    best = min([f_ref, *values])
    if best < f_ref:
        scorer.f_ref = best
        for r in results:
            regap(r, scorer, f_ref)
            if r.time_to_gap is not None and r.ladder[-1].gap > 1e-6:
                r.status, r.time_to_gap = "not reached", None
    add_ratios(results)
    return results, data


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    preset = PRESETS["tiny" if args.tiny else "quick" if args.quick else "full"]
    meta: dict[str, Any] = {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None
                                                        else list(argv)),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(), "workers": args.workers, "cap": args.cap,
        "chunks": args.chunks or preset["chunks"],
    }
    skipped: list[str] = []
    adapters = []
    for name in args.libraries:
        adapter = ADAPTERS[name]()
        reason = adapter.unavailable()
        if reason:
            skipped.append(f"{name}: {reason}")
        else:
            adapters.append(adapter)
    problems = selected_problems(args, preset)
    results: list[SystemResult] = []
    extra: dict[str, Any] = {}
    try:
        with make_cluster(args.workers) as cluster, Client(cluster) as client:
            print(f"dashboard: {client.dashboard_link}", flush=True)
            oracle_data: tuple[Problem, Data] | None = None
            for problem in problems:
                rs, data = run_problem(problem, adapters, args, skipped)
                results += rs
                write_outputs(args, meta, results, {**extra, "skipped": skipped})  # so far
                size = problem.n * problem.d
                if problem.kind == "logistic" and (
                    oracle_data is None or size > oracle_data[0].n * oracle_data[0].d
                ):
                    oracle_data = (problem, data)  # the oracle call is timed on the largest
            if not args.no_oracle and oracle_data is not None:
                print("\n== oracle call vs ideal", flush=True)
                extra["oracle"] = oracle_timing(client, *oracle_data, args.workers)
            if not args.no_scaling:
                print("== scaling", flush=True)
                sizes = args.scaling_rows or [(n, problems[-1].d) for n in preset["rows"]]
                rows = [n for n, _ in sizes]
                # Workers: at the second-largest size, so two clusters' copies fit in RAM.
                n_base = rows[-2] if len(rows) > 1 else rows[-1]
                base = make_problem("logistic", n_base, sizes[-1][1], n_chunks=meta["chunks"])
                extra["scaling"] = scaling(client, make_cluster, base, rows,
                                           sorted({1, args.workers}))
    finally:
        for adapter in adapters:
            adapter.close()
    extra["skipped"] = skipped
    print()
    print(report.text_table(results))
    if "oracle" in extra:
        print("\noracle call:", extra["oracle"])
    if "scaling" in extra:
        print("scaling:", extra["scaling"])
    for s in skipped:
        print("skipped:", s)
    write_outputs(args, meta, results, extra)
    return 0


def write_outputs(
    args: argparse.Namespace, meta: dict[str, Any], results: list[SystemResult],
    extra: dict[str, Any],
) -> None:
    """Write the JSON and Markdown reports asked for (also after each problem, so a run
    stopped part-way leaves what it measured)."""
    if args.json:
        report.write_json(args.json, meta, results, extra)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(report.markdown(meta, results, extra))
