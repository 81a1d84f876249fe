"""The documentation sources: API coverage, executed examples, version and licence.

Checks that need no Sphinx (the build itself, run by ``.ci/run``, repeats the
coverage check on what autodoc registered, executes every page and opens the
site in a browser; see CONTRIBUTING.md).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import optax_warmup

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(
    p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "notebooks" not in p.parts
)


def _load_coverage() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_coverage", DOCS / "_ext" / "api_coverage.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


coverage = _load_coverage()


def test_every_public_name_has_an_api_entry() -> None:
    missing, objects = coverage.missing_from_pages(DOCS / "api")
    assert missing == [], coverage.message(missing, objects)


def test_public_names_include_compat_and_shapes() -> None:
    names = set(coverage.public_objects())
    assert "optax_warmup.warmup_schedule" in names
    assert "optax_warmup.shapes.polynomial" in names
    assert "optax_warmup.compat.timm.CosineLRScheduler" in names
    assert "optax_warmup.shapes" not in names  # subpackages are not entries
    assert len(names) == len(optax_warmup.__all__) - 2 + sum(
        len(getattr(getattr(optax_warmup.compat, m), "__all__", ()))
        for m in optax_warmup.compat.__all__
    ) + len(optax_warmup.shapes.__all__)


def test_coverage_message_names_the_page_and_directive() -> None:
    objects = coverage.public_objects()
    text = coverage.message(["optax_warmup.warmup_schedule", "optax_warmup.Phase"], objects)
    assert "docs/api/schedules.md" in text
    assert ".. autofunction:: optax_warmup.warmup_schedule" in text
    assert "docs/api/engine.md" in text
    assert ".. autoclass:: optax_warmup.Phase" in text
    text = coverage.message(["optax_warmup.compat.keras.CosineDecay"], objects)
    assert "docs/api/compat.md" in text
    assert coverage.check(set(objects)) is None
    assert "optax_warmup.plot" in (coverage.check(set(objects) - {"optax_warmup.plot"}) or "")


def test_a_name_from_an_unknown_module_goes_to_the_api_index() -> None:
    def helper() -> None: ...

    assert coverage.page_for("optax_warmup.helper", helper) == coverage.FALLBACK_PAGE


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_examples_are_executed_cells(page: Path) -> None:
    """Python on a page is a ``{code-cell}`` (run by the build), never a plain fence."""
    text = page.read_text()
    assert re.findall(r"^```(?:python|py|pycon)\s*$", text, re.MULTILINE) == [], (
        f"{page}: write Python examples as ```{{code-cell}} ipython3 blocks"
    )
    if re.search(r"^```\{code-cell\}", text, re.MULTILINE):
        assert text.startswith("---\nfile_format: mystnb\n"), f"{page}: needs MyST-NB front matter"


def test_readme_python_examples_run() -> None:
    """The README's Python blocks run as written (the site's pages run in its build)."""
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), re.S | re.M)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_has_one_source() -> None:
    pyproject = _pyproject()
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    attr = pyproject["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "optax_warmup.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", optax_warmup.__version__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{optax_warmup.__version__}]" in changelog or "## [Unreleased]" in changelog


def test_licence_file_matches_the_declared_licence() -> None:
    pyproject = _pyproject()
    assert pyproject["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_readme_and_architecture_page_list_the_layers_in_import_order() -> None:
    """The layer tables of the README and docs/architecture.md follow tests/test_api.py's order."""
    from tests.test_api import LAYERS

    for page in (ROOT / "README.md", DOCS / "architecture.md"):
        rows = re.findall(r"^\| (\w+) \| `optax_warmup/(\w+)/` \|", page.read_text(), re.M)
        assert [folder for _, folder in rows] == list(LAYERS), page.name
