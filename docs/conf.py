"""Sphinx configuration of the daskgd documentation.

Build (from the repository root; ``-W --keep-going`` is how the tests and CI build it)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are MyST Markdown; the API reference is generated from the numpydoc docstrings
(``api.md``). Notebooks live outside ``docs/`` in the repository's ``notebooks/`` directory,
are committed with their outputs, and are rendered here without being executed: at build
start :func:`_sync_notebooks` copies them into ``docs/notebooks/`` (generated, ignored by git)
with an index page listing them, so the build is the same with no notebooks or with many.
The build needs no network access (no intersphinx).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from sphinx.util import logging

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Import the package from this checkout even when another daskgd is installed.
sys.path.insert(0, str(ROOT))

import daskgd  # noqa: E402

logger = logging.getLogger(__name__)

project = "daskgd"
author = "The daskgd developers"
copyright = "The daskgd developers"
release = daskgd.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",  # MyST Markdown pages and .ipynb notebooks (it loads myst_parser)
]

# .rst first: autosummary writes its generated pages with the first suffix.
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]

# --- MyST and notebooks ---------------------------------------------------------------------
# Anchors for "page.md#a-heading" links between the Markdown pages (they are also read on
# GitHub, which makes the same anchors).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "dollarmath", "substitution"]
myst_substitutions = {"release": release}
# Notebooks are executed by the test suite and committed with outputs: render them as they are.
nb_execution_mode = "off"

# --- API reference ----------------------------------------------------------------------------
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc sections give the types
autodoc_member_order = "groupwise"
# The class template documents the methods itself (see ``_skip_member``); numpydoc's own
# member tables would repeat them and pull in scikit-learn's metadata-routing methods.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Methods inherited from scikit-learn that are part of every estimator's documented API. The
# others (metadata routing, HTML repr) link to scikit-learn's user guide, which is not here.
_SKLEARN_METHODS = {"get_params", "set_params"}

# --- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"daskgd {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}


def _sync_notebooks(app: Any) -> None:
    """Copy ``../notebooks/*.ipynb`` into ``docs/notebooks/`` and write its index page.

    Stale copies are removed so a deleted notebook leaves the site. Files are rewritten only
    when their content changed, so incremental builds stay incremental. The copies are
    adapted to the site by :func:`_for_site`.
    """
    source = ROOT / "notebooks"
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    notebooks = sorted(source.glob("*.ipynb")) if source.is_dir() else []
    names = {nb.name for nb in notebooks}
    for old in target.glob("*.ipynb"):
        if old.name not in names:
            old.unlink()
    for nb in notebooks:
        copy = target / nb.name
        text, titled = _for_site(nb.read_text(encoding="utf-8"))
        if not titled:
            # Sphinx's own warning ("doesn't have a title") does not say what to do.
            logger.warning("notebooks/%s has no title: start it with a Markdown cell whose "
                           "first line is '# Its title'", nb.name)
        if not copy.exists() or copy.read_text(encoding="utf-8") != text:
            copy.write_text(text, encoding="utf-8")

    lines = [
        "# Notebooks",
        "",
        "Worked examples, run end to end on a local cluster. They live in the repository's",
        "`notebooks/` directory and are shown here with the outputs they were saved with",
        "(the test suite runs them); open them in Jupyter to run them yourself.",
        "",
    ]
    if notebooks:
        lines += ["```{toctree}", ":maxdepth: 1", ""]
        lines += [nb.stem for nb in notebooks]
        lines += ["```", ""]
    else:
        lines += ["There are no notebooks in this version yet.", ""]
    index = target / "index.md"
    text = "\n".join(lines)
    if not index.exists() or index.read_text(encoding="utf-8") != text:
        index.write_text(text, encoding="utf-8")


def _for_site(notebook: str) -> tuple[str, bool]:
    """A notebook's JSON adapted to ``docs/notebooks/``, and whether it has a title.

    Links to the docs pages are written ``../docs/page.md`` in a notebook (right on GitHub
    and in Jupyter, from ``notebooks/``); the copy needs ``../page.md``. A notebook saved
    without kernel metadata gets Python as its language, so its cells are highlighted
    (myst-nb warns otherwise). Sphinx takes the first heading as the title.
    """
    nb = json.loads(notebook)
    titled = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = source if isinstance(source, str) else "".join(source)
        text = text.replace("](../docs/", "](../")
        cell["source"] = text
        titled = titled or re.search(r"^#{1,6} +\S", text, re.MULTILINE) is not None
    metadata = nb.setdefault("metadata", {})
    if "language_info" not in metadata and "language" not in metadata.get("kernelspec", {}):
        metadata["language_info"] = {"name": "python"}
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n", titled


def _skip_member(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> Any:
    """Keep a class's documented members to daskgd's own and ``get_params``/``set_params``."""
    if what != "class" or skip:
        return None
    if name in _SKLEARN_METHODS:
        return None
    module = getattr(inspect.unwrap(obj), "__module__", None) if callable(obj) else None
    if callable(obj) and not (module or "").startswith("daskgd"):
        return True
    return None


def setup(app: Any) -> None:
    # builder-inited runs before Sphinx looks for source files, so the copies are found.
    app.connect("builder-inited", _sync_notebooks)
    app.connect("autodoc-skip-member", _skip_member)
