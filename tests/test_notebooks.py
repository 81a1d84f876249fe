"""The notebooks: each runs top to bottom at ci scale, and its two forms agree.

Every notebook is kept twice in ``notebooks/``: a jupytext percent-format
``NN_name.py`` (the reviewed source, linted by ruff) and the ``NN_name.ipynb``
generated from it, committed without outputs. Regenerate the ``.ipynb`` with
``jupytext --update --to ipynb notebooks/NN_name.py``.

Executing them takes about a minute each on two CPU cores; deselect with
``-m "not notebooks"``. With ``OPTAX_WARMUP_EXECUTED_NOTEBOOKS=DIR`` the executed
notebooks are saved in ``DIR``, where the docs build picks them up instead of
executing them again (``.ci/run`` does this).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSETS = ROOT / "docs" / "assets"


def _load_executor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_execute", NOTEBOOKS / "execute.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


executor = _load_executor()
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
NAMES = [p.stem for p in SOURCES]


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def _text(cell: nbformat.NotebookNode) -> str:
    """The printed text of a code cell's outputs."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def test_notebooks_exist() -> None:
    assert len(NAMES) >= 1
    assert [p.stem for p in executor.notebook_paths()] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_py_and_ipynb_in_sync(name: str) -> None:
    ipynb = NOTEBOOKS / f"{name}.ipynb"
    assert ipynb.exists(), f"run: jupytext --update --to ipynb notebooks/{name}.py"
    committed = nbformat.read(ipynb, as_version=4)
    assert _cells(jupytext.read(NOTEBOOKS / f"{name}.py")) == _cells(committed), (
        f"notebooks/{name}.ipynb is stale: run jupytext --update --to ipynb notebooks/{name}.py"
    )
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}.ipynb is committed with outputs"
            assert cell.execution_count is None


@pytest.mark.parametrize("name", NAMES)
def test_docs_link_notebook_and_figure(name: str) -> None:
    """The site's notebooks page links the rendered notebook and shows its figure."""
    page = (ROOT / "docs" / "notebooks.md").read_text()
    assert f"(notebooks/{name}.ipynb)" in page
    assert f"(assets/{name}.png)" in page
    assert (ASSETS / f"{name}.png").is_file()


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_at_ci_scale(name: str, tmp_path: Path) -> None:
    nb = executor.execute(NOTEBOOKS / f"{name}.ipynb", scale="ci", figures=tmp_path)
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "code"
    setup = _text(first)
    assert "backend:" in setup
    assert "devices:" in setup
    assert "scale: ci" in setup
    assert last.cell_type == "code"
    assert _text(last).startswith("What we saw:")
    assert len(_text(last).splitlines()) >= 3  # the conclusions, not just the heading
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    saved = os.environ.get("OPTAX_WARMUP_EXECUTED_NOTEBOOKS")
    if saved:  # for the docs build, which renders these outputs
        Path(saved).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(saved) / f"{name}.ipynb")
