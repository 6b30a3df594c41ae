"""``python -m benchmarks``: the whole suite in one command."""

import sys

from benchmarks.cli import main

if __name__ == "__main__":  # LocalCluster worker processes re-import the main module
    sys.exit(main())
