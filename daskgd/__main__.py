"""``python -m daskgd``: the same as the ``daskgd`` command."""

import sys

from daskgd.cli import main

if __name__ == "__main__":  # worker processes are spawned, so the guard is required
    sys.exit(main())
