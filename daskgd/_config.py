"""daskgd's dask settings: their defaults, from ``daskgd.yaml``, registered the dask way."""

from __future__ import annotations

from pathlib import Path

import dask.config
import yaml

#: The yaml file of defaults shipped with the package (documented there).
DEFAULTS_FILE = Path(__file__).with_name("daskgd.yaml")


def register_defaults() -> None:
    """Add daskgd's defaults to dask's configuration (user settings still take precedence)."""
    with DEFAULTS_FILE.open() as f:
        defaults = yaml.safe_load(f)
    dask.config.update_defaults(defaults)
