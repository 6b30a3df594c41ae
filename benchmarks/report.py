"""Output: the printed table, the JSON file and the Markdown file."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from typing import Any

from benchmarks.measure import TARGET_GAP, SystemResult


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _time_to_gap(r: SystemResult) -> str:
    if r.time_to_gap is not None:
        return f"{r.time_to_gap:.3f}"
    if r.status == "> cap":
        return f"> cap ({r.ladder[-1].time:.0f} s)" if r.ladder else "> cap"
    return r.status


COLUMNS = [
    ("problem", lambda r: r.problem),
    ("system", lambda r: f"{r.library} {r.solver}"),
    (f"time to {TARGET_GAP:g} s", _time_to_gap),
    ("iters", lambda r: _num(r.iters_to_gap, "d")),
    ("passes", lambda r: _num(r.passes_to_gap, ".0f")),
    ("default s", lambda r: _num(r.default_time, ".3f")),
    ("default gap", lambda r: _num(r.default_gap, ".1e")),
    ("default iters", lambda r: _num(r.default_iters, "d")),
    ("ms/call", lambda r: _num(None if r.time_per_call is None else r.time_per_call * 1e3,
                               ".1f")),
    ("peak MiB", lambda r: _num(r.peak_mib, ".0f")),
    ("best gap", lambda r: f"{r.best_gap:.1e}"),
    ("x sklearn", lambda r: _num(r.ratio_sklearn, ".2f")),
    ("x dask-ml", lambda r: _num(r.ratio_daskml, ".2f")),
]


def rows_of(results: list[SystemResult]) -> list[list[str]]:
    return [[str(get(r)) for _, get in COLUMNS] for r in results]


def text_table(results: list[SystemResult]) -> str:
    header = [name for name, _ in COLUMNS]
    rows = rows_of(results)
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """Cores, RAM, Python and library versions, for the header of the reports."""
    import os

    import psutil

    versions = {}
    for name in ("daskgd", "numpy", "scipy", "sklearn", "dask", "distributed", "dask_ml",
                 "pyspark"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def write_json(path: str, meta: dict[str, Any], results: list[SystemResult],
               extra: dict[str, Any]) -> None:
    with open(path, "w") as fh:
        json.dump({"meta": meta, "results": [asdict(r) for r in results], **extra}, fh,
                  indent=2, default=str)


def markdown(meta: dict[str, Any], results: list[SystemResult], extra: dict[str, Any]) -> str:
    """The whole report as Markdown: header, main table, oracle call, scaling, skips."""
    m = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    out = [
        f"# daskgd benchmarks — {meta['date']}",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['platform']}, "
        f"Python {m['python']}  ",
        f"Versions: {versions}  ",
        f"Cluster: {meta['workers']} worker processes x 1 thread; {meta['chunks']} chunks; "
        f"cap {meta['cap']} s",
        "",
        "## Fits",
        "",
        markdown_table([name for name, _ in COLUMNS], rows_of(results)),
    ]
    oracle = extra.get("oracle")
    if oracle:
        out += ["", "## One oracle call (logistic loss + gradient over all chunks)", ""]
        if "error" in oracle:
            out.append(f"not measured: {oracle['error']}")
        else:
            out.append(markdown_table(
                ["problem", "chunks", "workers", "engine call s", "ideal s", "ratio",
                 "overhead ms"],
                [[oracle["problem"], str(oracle["n_chunks"]), str(oracle["workers"]),
                  f"{oracle['call_s']:.4f}", f"{oracle['ideal_s']:.4f}",
                  f"{oracle['ratio']:.2f}", f"{oracle['overhead_ms']:.1f}"]],
            ))
    scale = extra.get("scaling")
    if scale:
        out += ["", "## Scaling (time per pass, logistic loss + gradient)", ""]
        out.append(markdown_table(
            ["rows", "d", "workers", "s/pass", "ns/row"],
            [[str(e["rows"]), str(e["d"]), str(e.get("workers", meta["workers"])),
              _num(e.get("seconds_per_pass"), ".4f"), _num(e.get("ns_per_row"), ".1f")]
             for e in scale["rows"] + scale["workers"]],
        ))
    skipped = extra.get("skipped")
    if skipped:
        out += ["", "## Skipped", ""] + [f"- {s}" for s in skipped]
    return "\n".join(out) + "\n"
