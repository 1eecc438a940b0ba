"""examples/quickstart.ipynb runs top to bottom on this venv's kernel and is committed clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not all(importlib.util.find_spec(m) for m in ("nbclient", "nbformat", "ipykernel")),
        reason="nbclient, nbformat and ipykernel (the [test] extra) are needed to run the notebook",
    ),
]


def test_committed_without_outputs():
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_executes_and_writes_the_report(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # kernel "python3" resolves to the ipykernel of the interpreter running the tests (the venv)
    NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    out = tmp_path / "quickstart_output"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Simulated data" in page
    assert {"summary.json", "cohorts.csv", "assignments.parquet"} <= {p.name for p in out.iterdir()}
    summary = next(c for c in notebook.cells if c.cell_type == "code" and "result.summary()" in c.source)
    assert any("gap_pct" in str(o.get("data", {})) for o in summary.outputs)
