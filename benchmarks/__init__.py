"""daskgd's benchmark suite: problems (:mod:`benchmarks.problems`), one adapter per library
(:mod:`benchmarks.adapters`), measurements (:mod:`benchmarks.measure`) and reports.

Run it with ``python -m benchmarks`` (see benchmarks/README.md).
"""
