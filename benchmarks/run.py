"""Side-by-side fit times: daskgd's solvers against scikit-learn (and dask-ml when installed).

    python benchmarks/run.py [--quick] [--workers 2] [--json results.json]

Each problem is fitted by every system to its own tolerance; the table reports wall time,
iterations, passes over X (daskgd), time per oracle call, the relative objective gap to a
tightly converged reference, and the ratio of each time to scikit-learn's. Regularisation is
mapped to the same objective (see docs/objectives.md): scikit-learn ``C`` = daskgd ``C``;
dask-ml's ``lamduh`` = 1 / C with its sum-of-losses objective.
This is a first registry; the issue on speed extends it (more problems, peak memory,
out-of-core data).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster
from scipy.special import expit
from sklearn.linear_model import LogisticRegression as SkLogistic

import daskgd


@dataclass
class Problem:
    name: str
    n: int
    d: int
    C: float = 1.0

    def make(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((self.n, self.d))
        coef = rng.standard_normal(self.d) / np.sqrt(self.d)
        y = (rng.random(self.n) < expit(X @ coef + 0.5)).astype(np.float64)
        return X, y


def logistic_objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, b: float, C: float) -> float:
    z = X @ coef + b
    return float(C * np.sum(np.logaddexp(0, z) - y * z) + 0.5 * coef @ coef)


def timed(fit: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    model = fit()
    return time.perf_counter() - start, model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs per system (median kept)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    problems = [Problem("logistic", 200_000, 50)]
    if not args.quick:
        problems.append(Problem("logistic", 2_000_000, 100))
    rows = []
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0") as cl,
        Client(cl) as client,
    ):
        print(f"dashboard: {client.dashboard_link}")
        for problem in problems:
            X, y = problem.make()
            Xd = da.from_array(X, chunks=(max(1, problem.n // 100), -1)).persist()
            yd = da.from_array(y, chunks=(Xd.chunks[0],)).persist()
            ref = SkLogistic(C=problem.C, tol=1e-12, max_iter=10_000).fit(X, y)
            f_ref = logistic_objective(X, y, ref.coef_.ravel(), ref.intercept_[0], problem.C)
            systems: dict[str, Callable[[], object]] = {
                "sklearn lbfgs": lambda: SkLogistic(C=problem.C, tol=1e-6, max_iter=1000).fit(X, y),
            }
            for solver in ("lbfgs", "gd"):
                systems[f"daskgd {solver}"] = lambda solver=solver: daskgd.LogisticRegression(
                    C=problem.C, solver=solver, tol=1e-6, max_iter=1000
                ).fit(Xd, yd)
            results = {}
            for label, fit in systems.items():
                times, model = [], None
                for _ in range(args.repeat):
                    t, model = timed(fit)
                    times.append(t)
                coef = np.ravel(model.coef_)
                gap = (logistic_objective(X, y, coef, np.ravel(model.intercept_)[0], problem.C)
                       - f_ref) / abs(f_ref)
                n_iter = int(np.ravel(model.n_iter_)[0])
                history = getattr(model, "history_", None)
                passes = history[-1]["passes"] if history else float("nan")
                results[label] = dict(time=float(np.median(times)), n_iter=n_iter,
                                      passes=passes, gap=gap)
            base = results["sklearn lbfgs"]["time"]
            for label, r in results.items():
                r["ratio_to_sklearn"] = r["time"] / base
                per_call = r["time"] / r["passes"] if r["passes"] == r["passes"] else float("nan")
                rows.append(dict(problem=f"{problem.name} {problem.n}x{problem.d}", system=label,
                                 per_call=per_call, **r))
    header = f"{'problem':<22} {'system':<15} {'time s':>8} {'iters':>6} {'passes':>7} " \
             f"{'s/pass':>8} {'gap':>9} {'x sklearn':>9}"
    print(header)
    for r in rows:
        print(f"{r['problem']:<22} {r['system']:<15} {r['time']:8.3f} {r['n_iter']:6d} "
              f"{r['passes']:7.1f} {r['per_call']:8.4f} {r['gap']:9.1e} {r['ratio_to_sklearn']:9.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
