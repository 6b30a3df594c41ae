"""``python benchmarks/run.py``: the same as ``python -m benchmarks`` (kept for old links)."""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.cli import main

    sys.exit(main())
