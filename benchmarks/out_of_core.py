"""Out of core: a logistic problem on disk larger than the machine's memory, streamed.

    python -m benchmarks.out_of_core --ram-factor 1.5 --path /tmp/daskgd-ooc.zarr
    python -m benchmarks.out_of_core --rows 2000000 --path /tmp/small.zarr   # a quick try

Writes a seeded problem to Zarr with ``daskgd.datasets.make_zarr`` (float32, chunk by
chunk), then on a 2-worker ``LocalCluster``:

1. times one plain dask read of X (``X.sum()`` over the store: every chunk read once);
2. fits ``LogisticRegression`` (``solver="auto"``: streamed, so ``newton``) to a tight
   tolerance, sampling the resident memory of the whole process tree;
3. reports the time to a 1e-4 relative objective gap (against the fit's own last
   objective, which Newton's quadratic convergence puts far below 1e-4 of it), the time
   per pass against the plain read, and the peak memory against the machine's RAM.

The store is deleted afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from typing import Any

import dask
import numpy as np
import psutil
from distributed import Client, LocalCluster

import daskgd
from benchmarks.measure import PeakMemory
from daskgd.datasets import make_zarr, open_zarr


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--ram-factor", type=float, default=1.5,
                      help="store size as a multiple of this machine's RAM (default 1.5)")
    size.add_argument("--rows", type=int, help="rows instead of --ram-factor")
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--chunk-rows", type=int, default=500_000)
    p.add_argument("--path", default="/tmp/daskgd-out-of-core.zarr")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep the store afterwards")
    p.add_argument("--json", help="write the figures here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _args(argv)
    ram = psutil.virtual_memory().total
    row_bytes = 4 * args.features
    rows = args.rows or int(args.ram_factor * ram / row_bytes)
    print(f"machine RAM {ram / 2**30:.1f} GiB; X {rows:,} x {args.features} float32 = "
          f"{rows * row_bytes / 2**30:.1f} GiB")
    start = time.perf_counter()
    make_zarr(args.path, rows, args.features, chunk_rows=args.chunk_rows, dtype="float32",
              overwrite=True)
    written = time.perf_counter() - start
    print(f"written in {written:.0f} s to {args.path}")
    try:
        with (
            LocalCluster(n_workers=args.workers, threads_per_worker=1,
                         dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):
            print(f"dashboard: {client.dashboard_link}")
            X, y = open_zarr(args.path)
            start = time.perf_counter()
            X.sum().compute()
            read = time.perf_counter() - start
            print(f"one plain dask read of X: {read:.1f} s")
            model = daskgd.LogisticRegression(tol=1e-8, max_iter=30)
            with dask.config.set({"daskgd.placement": "auto"}), PeakMemory(0.2) as memory:
                start = time.perf_counter()
                model.fit(X, y)
                fit_time = time.perf_counter() - start
        history = model.history_
        final = history[-1]["objective"]
        reached = next(h for h in history
                       if (h["objective"] - final) / abs(final) <= 1e-4)
        passes = history[-1]["passes"]
        placement = fit_time - history[-1]["elapsed"]  # before the solver's clock starts
        figures = {
            "rows": rows, "features": args.features, "gib": rows * row_bytes / 2**30,
            "ram_gib": ram / 2**30, "write_s": written, "read_s": read,
            "placement": model.placement_, "solver": model.solver_,
            "fit_s": fit_time, "iterations": int(np.max(model.n_iter_)),
            "passes": passes, "time_to_1e-4_s": placement + reached["elapsed"],
            "passes_to_1e-4": reached["passes"],
            "s_per_pass": fit_time / passes, "pass_over_read": fit_time / passes / read,
            "peak_growth_gib": (memory.peak - memory.baseline) / 2**30,
            "peak_gib": memory.peak / 2**30, "peak_over_ram": memory.peak / ram,
        }
    finally:
        if not args.keep:
            shutil.rmtree(args.path, ignore_errors=True)
    for key, value in figures.items():
        print(f"{key:>18}: {value:.4g}" if isinstance(value, float) else f"{key:>18}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
    return figures


if __name__ == "__main__":
    main()
