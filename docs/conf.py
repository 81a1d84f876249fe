"""Sphinx configuration of the optax_warmup documentation site.

Build it from the repository root with (strict: every warning is an error)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are MyST Markdown. Pages with examples are MyST-NB text notebooks: their
``{code-cell}`` blocks are executed during the build and a failing cell fails
the build. The notebooks in ``notebooks/`` are rendered with their outputs
(see :func:`prepare_notebooks`), and ``_ext/api_coverage.py`` fails the build
when a public name has no entry in the API reference.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
# The kernels that execute the pages import this checkout's package, installed or not.
_path = os.environ.get("PYTHONPATH", "")
os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + _path if _path else "")
# The command-line examples run in a pseudo-terminal: ask for plain text, not colours.
os.environ["NO_COLOR"] = "1"

from sphinx.util.inspect import TypeAliasForwardRef  # noqa: E402

import optax_warmup  # noqa: E402

project = "optax_warmup"
author = "The optax_warmup authors"
copyright = "2026, the optax_warmup authors"
release = optax_warmup.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "api_coverage",
]
exclude_patterns = [
    "_build",
    "README.md",
    "**.ipynb_checkpoints",
    "_ext",
    "assets/results.md",  # included by notebooks.md
]
html_theme = "furo"
html_title = f"optax_warmup {release}"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False

# Autodoc: the public paths (optax_warmup.NAME), signatures as written.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
add_module_names = False
# Signatures show the library's type aliases by name, not their expansions.
autodoc_type_aliases = {
    name: name
    for name in (
        "ArrayLike",
        "ScheduleLike",
        "ShapeLike",
        "ShapeFn",
        "Select",
        "Rounding",
        "NoiseRange",
        "NoiseKind",
        "FactorLike",
        "LossFn",
        "WsdType",
        "WarmupMode",
        "BoundariesAndScales",
    )
}
# Sphinx 9 prints an alias inside a union (``ArrayLike | None``) by its repr,
# ``TypeAliasForwardRef('ArrayLike')``; print the alias name there too.
TypeAliasForwardRef.__repr__ = lambda self: self.name  # type: ignore[method-assign]
autodoc_type_aliases.update(
    {
        "_combine.ScheduleLike": "ScheduleLike",
        "_shapes.ShapeLike": "ShapeLike",
        "_shapes.ShapeFn": "ShapeFn",
        "_shapes.ResolvedShape": "Shape",
        "_engine.PhaseSchedule": "PhaseSchedule",
        "_combine.ProductSchedule": "ProductSchedule",
    }
)
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# MyST and MyST-NB: execute every page's code cells; any error fails the build.
# No math extensions: the pages load nothing from outside the site (no MathJax CDN).
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 600
nb_execution_excludepatterns = ["notebooks/*"]  # executed once, by prepare_notebooks
nb_merge_streams = True
nb_output_stderr = "remove"  # XLA and kernel log lines; errors still fail the build

# Rendered, executed copies of notebooks/*.ipynb (generated, not committed).
RENDERED = DOCS / "notebooks"


def _executor():
    spec = importlib.util.spec_from_file_location(
        "notebooks_execute", ROOT / "notebooks" / "execute.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sources(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def _newest_input() -> float:
    files = [*ROOT.joinpath("optax_warmup").rglob("*.py"), *ROOT.joinpath("notebooks").glob("*")]
    return max(f.stat().st_mtime for f in files if f.is_file())


def _usable(candidate: Path, committed, fresh_after: float) -> bool:
    """An executed copy of the committed notebook: same cells, outputs, no error."""
    import nbformat

    if not candidate.is_file() or candidate.stat().st_mtime < fresh_after:
        return False
    nb = nbformat.read(candidate, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return (
        _sources(nb) == _sources(committed)
        and all(c.execution_count is not None for c in code)
        and not any(o.output_type == "error" for c in code for o in c.outputs)
    )


def prepare_notebooks() -> None:
    """Put an executed copy of every ``notebooks/NN_*.ipynb`` into ``docs/notebooks/``.

    The notebooks are executed once: a copy is reused from
    ``$OPTAX_WARMUP_EXECUTED_NOTEBOOKS`` (where ``tests/test_notebooks.py`` saves the
    notebooks it ran, when that variable is set) or from a previous build, when it
    has the committed cells and is newer than the package and the notebooks;
    otherwise the notebook is executed here at ``ci`` scale.
    """
    import nbformat

    executor = _executor()
    RENDERED.mkdir(exist_ok=True)
    saved = os.environ.get("OPTAX_WARMUP_EXECUTED_NOTEBOOKS")
    newest = _newest_input()
    wanted = set()
    for path in executor.notebook_paths():
        wanted.add(path.name)
        committed = nbformat.read(path, as_version=4)
        target = RENDERED / path.name
        reused = Path(saved) / path.name if saved else None
        if reused is not None and _usable(reused, committed, newest):
            shutil.copyfile(reused, target)
            print(f"[notebooks] {path.name}: reused the copy the tests executed")
        elif _usable(target, committed, newest):
            print(f"[notebooks] {path.name}: up to date")
        else:
            start = time.perf_counter()
            with tempfile.TemporaryDirectory() as figures:
                nb = executor.execute(path, scale="ci", figures=Path(figures))
            nbformat.write(nb, target)
            print(f"[notebooks] {path.name}: executed in {time.perf_counter() - start:.0f} s")
    for stale in RENDERED.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()


prepare_notebooks()
