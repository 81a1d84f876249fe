"""The benchmark suite runs end to end (tiny sizes) and writes its files.

Only that it runs and what it writes are checked here, never timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ["phases", "sweeps", "train step", "transforms", "memory", "step"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out, proc.stdout


def test_writes_markdown_and_json(smoke_run: tuple[Path, str]) -> None:
    out, stdout = smoke_run
    assert sorted(p.name for p in out.iterdir()) == ["smoke.json", "smoke.md"]
    md = (out / "smoke.md").read_text()
    assert stdout.strip() == md.strip()
    for section in [*SECTIONS, "targets"]:
        assert f"\n## {section}\n" in md
    assert "| case | metric |" in md


def test_json_holds_machine_figures_and_ratios(smoke_run: tuple[Path, str]) -> None:
    out, _ = smoke_run
    data = json.loads((out / "smoke.json").read_text())
    machine = data["machine"]
    for key in ("cpu_count", "jax", "optax", "backend", "date", "command", "mode"):
        assert machine[key] not in (None, ""), key
    assert machine["mode"] == "smoke"
    assert {f["section"] for f in data["figures"]} == set(SECTIONS)
    for f in data["figures"]:
        assert f["value"] is None or isinstance(f["value"], (int, float)), f
    # Every section but memory (whose tiny RSS growth may be 0) has computed ratios.
    with_ratio = {ch["section"] for ch in data["checks"] if ch["ratio"] is not None}
    assert with_ratio >= {"phases", "sweeps", "train step", "transforms"}
    targets = {ch["target"] for ch in data["checks"]}
    assert {"<= 2", ">= 20", ">= 50", "<= 1.01", "<= 1"} <= targets


def test_schedules_agree_with_optax(smoke_run: tuple[Path, str]) -> None:
    # The competitors compute the same values, so the timings compare like with like.
    out, _ = smoke_run
    data = json.loads((out / "smoke.json").read_text())
    diffs = [f for f in data["figures"] if "diff" in f["metric"]]
    assert len(diffs) >= 5
    for f in diffs:
        assert f["value"] < 1e-5, f


def test_rejects_unknown_section() -> None:
    from benchmarks.run import main

    with pytest.raises(SystemExit, match="unknown section"):
        main(["--smoke", "--only", "nope"])


def test_readme_benchmark_table_is_the_named_run() -> None:
    """The README's target table is exactly what ``benchmarks.readme`` renders from its run."""
    from benchmarks import readme

    found = readme.current_block(readme.README.read_text())
    assert found is not None, "README.md lost its benchmarks block"
    block, results = found
    assert results, "the README's benchmarks block names no results file"
    assert block == readme.render(ROOT / results)
