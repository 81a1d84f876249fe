"""The notebooks: each runs top to bottom at ci scale, its two forms agree, and the
decisions its last cell prints are computed from the run's own per-seed numbers.

Every notebook is kept twice in ``notebooks/``: a jupytext percent-format
``NN_name.py`` (the reviewed source, linted by ruff) and the ``NN_name.ipynb``
generated from it, committed without outputs. Regenerate the ``.ipynb`` with
``jupytext --update --to ipynb notebooks/NN_name.py``.

Executing them takes 10-40 s each on two idle CPU cores; deselect with
``-m "not notebooks"``. The other tests here are fast: the statistics and the
decision rule of ``notebooks/_results.py`` against scipy, the two-pass
learning-rate bracket against a known threshold, and every notebook's
``full``-scale configuration (which nothing here runs) for consistency. With
``OPTAX_WARMUP_EXECUTED_NOTEBOOKS=DIR`` the executed notebooks are saved in
``DIR``, where the docs build picks them up instead of executing them again
(``.ci/run`` does this).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import jupytext
import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ASSETS = ROOT / "docs" / "assets"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


executor = _load("notebooks_execute", NOTEBOOKS / "execute.py")
_results = _load("notebooks_results", NOTEBOOKS / "_results.py")  # numpy only

SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
NAMES = [p.stem for p in SOURCES]
# The experimental notebooks: each decides claims over seeds and writes them to results/.
EXPERIMENTS = ["03_why_warmup", "04_adam_without_tuning", "06_char_lm_warmup"]


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

    if name in EXPERIMENTS:
        _check_results(tmp_path, name, _text(last))


def _oracle_verdict(c: dict[str, Any]) -> str:
    """The verdict recomputed from the saved per-seed values with scipy's t quantile."""
    stats = pytest.importorskip("scipy.stats")
    x = np.asarray(c["values"], np.float64)
    finite = x[np.isfinite(x)]
    if c["log"]:
        finite = np.log2(finite[finite > 0])
    n = finite.size
    if n < 2 or n < x.size:
        return "inconclusive"
    half = stats.t.ppf(0.975, n - 1) * finite.std(ddof=1) / math.sqrt(n)
    lo, hi = finite.mean() - half, finite.mean() + half
    if c["log"]:
        lo, hi = 2.0**lo / c["resolution"], 2.0**hi * c["resolution"]
    if c["low"] <= lo and hi <= c["high"]:
        return "agrees"
    return "disagrees" if hi < c["low"] or lo > c["high"] else "inconclusive"


def _check_results(figures: Path, name: str, conclusions: str) -> None:
    record = json.loads((figures / "results" / f"{name}.json").read_text())
    assert record["scale"] == "ci"
    assert record["device"].startswith("cpu")
    assert len(record["claims"]) >= 2
    for c in record["claims"]:
        assert c["seeds"] >= 3
        assert len(c["values"]) == c["seeds"]
        assert c["verdict"] == _oracle_verdict(c), c
        # The closing cell prints this claim's measured numbers and its verdict.
        assert _results.describe(c) in conclusions
    table = (figures / "results.md").read_text()
    assert sum(c["claim"] in table for c in record["claims"]) == len(record["claims"])


def test_t_table_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    expected = stats.t.ppf(0.975, np.arange(1, len(_results.T95) + 1))
    np.testing.assert_allclose(_results.T95, expected, atol=6e-4)


@pytest.mark.parametrize("log", [False, True])
def test_t_interval_matches_scipy(log: bool) -> None:
    stats = pytest.importorskip("scipy.stats")
    values = [0.3, 0.5, 0.45, np.nan, 0.61]
    mean, lo, hi, n = _results.t_interval(values, log=log)
    x = np.log2([0.3, 0.5, 0.45, 0.61]) if log else np.array([0.3, 0.5, 0.45, 0.61])
    elo, ehi = stats.t.interval(0.95, 3, loc=x.mean(), scale=stats.sem(x))
    expected = (x.mean(), elo, ehi)
    if log:
        expected = tuple(2.0**v for v in expected)
    assert n == 4
    np.testing.assert_allclose((mean, lo, hi), expected, rtol=2e-4)


def test_decide_rule() -> None:
    assert _results.decide(2.1, 3.0, 2.0, math.inf) == "agrees"
    assert _results.decide(0.5, 1.9, 2.0, math.inf) == "disagrees"
    assert _results.decide(1.5, 2.5, 2.0, math.inf) == "inconclusive"
    assert _results.decide(2.1, 3.0, 2.0, math.inf, nonfinite=1) == "inconclusive"
    assert _results.decide(math.nan, math.nan, 2.0, math.inf) == "inconclusive"
    assert _results.decide(0.8, 1.2, 2**-0.5, 2**0.5) == "agrees"
    assert _results.decide(1.5, 1.9, 2**-0.5, 2**0.5) == "disagrees"


def test_claim_is_decided_from_its_values() -> None:
    c = _results.claim("x", "paper", "ratio", [2.0, 2.0, 2.0 * 2**0.25], 1.0, np.inf, log=True)
    assert c["verdict"] == _oracle_verdict(c) == "agrees"
    widened = _results.claim("x", "p", "r", [1.1, 1.1, 1.1], 1.0, np.inf, log=True, resolution=1.19)
    assert widened["verdict"] == _oracle_verdict(widened) == "inconclusive"
    diverged = _results.claim("x", "p", "d", [0.1, np.nan, 0.2], 0.0, np.inf)
    assert (diverged["nonfinite"], diverged["verdict"]) == (1, "inconclusive")
    assert "1 without a finite value" in _results.describe(diverged)


def test_results_table_and_readme(tmp_path: Path) -> None:
    c = _results.claim("warmup helps", "Someone 2024", "gain", [0.2, 0.3, 0.25], 0.0, np.inf)
    _results.write(tmp_path, "09_test", "ci", "cpu: cpu", [c])
    table = (tmp_path / "results.md").read_text()
    assert "| 09 (ci, cpu: cpu) | warmup helps" in table
    assert "| agrees |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{_results.README_START}\nold\n{_results.README_END}\nend\n")
    assert _results.refresh_readme(readme, tmp_path)
    text = readme.read_text()
    assert "old" not in text
    assert table in text
    assert text.startswith("intro\n")
    assert text.endswith("end\n")
    assert not _results.refresh_readme(readme, tmp_path)  # already current


def test_readme_results_table_is_the_committed_one() -> None:
    """The README's results section is docs/assets/results.md, as execute.py writes it."""
    readme = (ROOT / "README.md").read_text()
    assert _results.README_START in readme
    assert _results.table(ASSETS) in readme
    for name in EXPERIMENTS:
        record = json.loads((ASSETS / "results" / f"{name}.json").read_text())
        for c in record["claims"]:
            assert c["verdict"] == _oracle_verdict(c)


def _bracket_module() -> ModuleType:
    pytest.importorskip("flax")
    return _load("notebooks_common", NOTEBOOKS / "_common.py")


def test_bracket_finds_a_known_edge() -> None:
    common = _bracket_module()
    threshold = np.array([[0.037, 0.2], [1e-4, 5.0]])  # (methods, seeds): the true edge
    floor = np.array([[0.0, 0.03], [0.0, 0.0]])  # below it a run is too slow to train
    calls = []

    def evaluate(lrs: np.ndarray) -> np.ndarray:
        calls.append(lrs.shape)
        ok = (lrs <= threshold[..., None]) & (lrs >= floor[..., None])
        lucky = np.zeros(lrs.shape, bool)
        lucky[0, 0] = lrs[0, 0] > 0.3  # a success above the first failure must not count
        return ok | lucky

    coarse = 0.01 * 2.0 ** np.arange(6)  # 0.01 ... 0.32
    r = common.bracket(evaluate, coarse, threshold.shape)
    assert calls == [(2, 2, 6), (2, 2, 3)]
    assert r["resolution"] == pytest.approx(2**0.25)
    found = r["max_lr"][0]
    assert np.all(found <= threshold[0])
    assert np.all(found * r["resolution"] > threshold[0] * (1 - 1e-9))
    assert np.isnan(r["max_lr"][1, 0])
    assert r["below"][1, 0]
    assert r["censored"][1, 1]
    assert r["max_lr"][1, 1] == coarse[-1]


def test_first_run() -> None:
    common = _bracket_module()
    ok = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 1, 1, 1]], bool)
    start, end = common.first_run(ok)
    assert start.tolist() == [1, 0, 0, 0]
    assert end.tolist() == [3, 5, 0, 1]


def _configs(name: str) -> dict[str, dict[str, Any]]:
    """The notebook's ``CONFIGS`` dict, evaluated from its source without running it."""
    tree = ast.parse((NOTEBOOKS / f"{name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CONFIGS":
            return eval(compile(ast.Expression(node.value), name, "eval"), {"np": np})
    raise AssertionError(f"{name}.py has no CONFIGS")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_full_scale_configuration(name: str) -> None:
    """The full-scale path, which only runs on an accelerator: same keys as ci, more seeds,
    grids that are geometric and wider, shapes that fit."""
    configs = _configs(name)
    ci, full = configs["ci"], configs["full"]
    assert set(ci) == set(full)
    assert ci["seeds"] >= 3
    assert full["seeds"] >= 5
    assert full["steps"] > ci["steps"]
    for c in (ci, full):
        if "coarse" in c:
            ratios = c["coarse"][1:] / c["coarse"][:-1]
            np.testing.assert_allclose(ratios, ratios[0])
            assert ratios[0] > 1
        if "b2" in c:  # the untuned linear warmup 2 / (1 - b2) takes at most a quarter of the run
            assert 2 / (1 - c["b2"]) <= c["steps"] / 4
        if "warmups" in c:
            assert 0 in c["warmups"]
            assert max(c["warmups"]) < c["steps"]
            assert c["steps"] // 10 in c["warmups"]
        if "evals" in c:
            assert c["steps"] % c["evals"] == 0
        for key in ("tf", ""):
            sizes = c.get(key, c)
            if "heads" in sizes:
                assert sizes["width"] % sizes["heads"] == 0
        if "every" in c:
            assert c["steps"] % c["every"] == 0
            assert (c["steps"] // 4) % c["every"] == 0
    if "coarse" in full:
        assert full["coarse"][-1] / full["coarse"][0] >= ci["coarse"][-1] / ci["coarse"][0]


def test_execute_all_flag() -> None:
    """``--all`` runs every notebook and puts figures and the results table in docs/assets."""
    args = executor.parse_args(["--all"])
    assert args.names == []
    assert args.figures == ASSETS
    assert executor.parse_args(["03", "--figures", "/tmp/x"]).figures == Path("/tmp/x")
