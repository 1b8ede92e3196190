"""The notebooks: stripped of outputs, define nothing of their own, and run end to end on tiny settings."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import pytest

from tests.builders import ROOT

pytestmark = pytest.mark.usefixtures("one_thread_and_restored_determinism")

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TINY = {  # parameters injected after each notebook's "parameters" cell
    "quickstart.ipynb": {"SIZE": 64, "STEPS": 2, "WIDTH": 4},
    "styles.ipynb": {"SIZE": 64, "STEPS": 2, "WIDTH": 4, "BLOCKS": 1, "MIX_STEPS": 2},
}


def _code_cells(path: Path) -> list:
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def test_both_notebooks_exist():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "styles.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    for cell in _code_cells(path):
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name} has outputs: clear them before committing (Jupyter: Edit > Clear Outputs of All Cells)"
        )
    assert "widgets" not in nbformat.read(path, as_version=4).metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_define_nothing_of_their_own(path):
    for cell in _code_cells(path):
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"{path.name} defines {type(node).__name__} in:\n{cell.source}\n(move it into apd_lightning)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_tagged_parameters_cell(path):
    tagged = [c for c in _code_cells(path) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {t.id for node in ast.parse(tagged[0].source).body for t in node.targets}
    assert set(TINY.get(path.name, {})) | {"DATA_DIR", "OUT_DIR"} <= names


@pytest.fixture
def kernel(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernelspec running this interpreter, found first through ``JUPYTER_PATH``."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "apd_lightning tests",
                "language": "python",
                "env": {
                    "OMP_NUM_THREADS": "1",
                    "PYTHONPATH": str(ROOT),
                    "WANDB_MODE": "disabled",
                    "NO_ALBUMENTATIONS_UPDATE": "1",
                },
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, kernel, demo_root, tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", []))
    values = {**TINY.get(path.name, {}), "DATA_DIR": str(demo_root), "OUT_DIR": str(tmp_path / "out")}
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    NotebookClient(notebook, kernel_name=kernel, timeout=240, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(figures) >= 2, "expected a batch figure and a result figure"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    expected = "chamfer distance:" if path.name == "quickstart.ipynb" else "style spread"
    assert "2 batches: generator loss" in text and expected in text, text[-2000:]
    assert not (ROOT / "notebooks" / "demo_output").exists()  # the parameters kept everything in tmp_path
