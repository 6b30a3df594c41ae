"""The notebooks in notebooks/ run from top to bottom in a fresh kernel (each starts and closes
its own LocalCluster and asserts its own results), so they never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# A key output of each notebook, beyond its own asserts: text its cells print.
KEY_OUTPUTS = {
    "01-house-prices-gd-sgd-closed-form.ipynb": "Workers:   4",
    "02-flights-classification-grid-search.ipynb": "solver_: newton",
    "03-solvers-and-learning-rates.ipynb": "Left out of the plot: sgd",
    "04-larger-than-memory-zarr.ipynb": "placement_: stream",
}


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(KEY_OUTPUTS)


def _text_outputs(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif "data" in output:
                texts.append(output["data"].get("text/plain", ""))
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KEY_OUTPUTS))
def test_notebook_runs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # The stored outputs are what the docs show: they must be there, and without errors.
    stored = _text_outputs(notebook)
    assert KEY_OUTPUTS[name] in stored
    assert not any(o.get("output_type") == "error"
                   for c in notebook.cells for o in c.get("outputs", []))

    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    assert KEY_OUTPUTS[name] in _text_outputs(notebook)
    images = [o for c in notebook.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert bool(images) == (name.startswith(("01", "03")))  # the convergence plots
    if name.startswith("01"):
        # verbose=1 there: in a kernel, tqdm.auto's progress bar is a Jupyter widget.
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                   for c in notebook.cells for o in c.get("outputs", []))
