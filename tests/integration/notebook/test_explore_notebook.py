"""examples/explore.ipynb: generated (valid, no outputs) and executed end to end against the sandbox."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs the notebook extra")
nbclient = pytest.importorskip("nbclient", reason="needs the notebook extra")

NOTEBOOK = Path(__file__).parents[3] / "examples" / "explore.ipynb"
GENERATOR = NOTEBOOK.with_name("_make_notebook.py")


def _generated():
    spec = importlib.util.spec_from_file_location("_make_notebook", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build()


def test_the_committed_notebook_is_the_generated_one_without_outputs():
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(committed)
    assert committed == _generated()
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_the_notebook_runs_plots_previews_and_applies(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # the notebook explores a small tenant; a tiny one keeps the default suite fast
    for cell in notebook.cells:
        cell.source = cell.source.replace('size="small"', 'size="tiny"')
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # apps by risk score, identifiers by match reason
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("cisync-report" in h for h in html)  # the plan preview's rich display
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "applied" in printed
    assert "second run writes: 0" in printed
