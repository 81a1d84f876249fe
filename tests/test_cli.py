"""The optax-warmup command line, the preview helpers behind it, and plot()."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import optax_warmup as ow
from optax_warmup.io import cli as _cli
from optax_warmup.io import preview as _preview

ROOT = Path(__file__).resolve().parents[1]
SPEC = "linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k"
WSD = "linear(2%) > hold > 1-sqrt(20%) @ peak=1e-3 total=50k"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m optax_warmup ARGS`` in a fresh interpreter (about 2-3 s: it imports jax)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "optax_warmup", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


# --- through a subprocess (a few: each one imports jax) ------------------------


def test_show_prints_key_values_warmup_and_a_plot() -> None:
    r = run_cli("show", SPEC)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.splitlines()[0] == SPEC
    assert "100,000 steps" in out
    assert "warmup 2,000 steps (effective warmup period 999.5 steps)" in out
    # First update peak / W (no wasted update), the peak at the end of warmup, the floor at the end.
    assert re.search(r"^ +0 +1\.5e-07 +0\.0005  first update$", out, re.M)
    assert re.search(r"^ +1,999 +0\.0003 +1\.0000  end of warmup$", out, re.M)
    assert re.search(r"^ +2,000 +0\.0003 +1\.0000  cosine starts$", out, re.M)
    assert re.search(r"^ +99,999 +3e-05 +0\.1000  last update$", out, re.M)
    assert "┌" in out  # the plotext frame
    assert "└" in out
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_bad_spec_exits_2_with_one_line() -> None:
    r = run_cli("show", "linear(2k) > cosin(to=0.1x) @ total=10k")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("optax-warmup: error: column 14: unknown segment 'cosin'")
    assert "Traceback" not in r.stderr


def test_plot_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "schedules.png"
    r = run_cli("plot", SPEC, WSD, "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"output": str(out), "steps": 100_000, "schedules": [SPEC, WSD]}
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_compare_json_exit_status() -> None:
    other = (
        '{"kind": "warmup_decay_schedule", "peak_value": 3e-4, "warmup_steps": 2000, '
        '"total_steps": "100k", "end_ratio": 0.1, "init_value": 0}'
    )
    r = run_cli("compare", SPEC, other, "--json")
    assert r.returncode == 1, r.stderr
    got = json.loads(r.stdout)
    # The optax convention starts at 0 and reaches the peak one step later: every warmup step
    # differs by peak / W = 1.5e-7, and nothing after.
    assert got["num_differ"] == 2000
    assert got["first_differ"] == 0
    assert (got["ranges"][0]["first"], got["ranges"][0]["last"]) == (0, 1999)
    assert got["max_abs_diff"] == pytest.approx(1.5e-7, rel=1e-3)


# --- in process ----------------------------------------------------------------


def main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = _cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_entry_point_exists() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'optax-warmup = "optax_warmup.io.cli:run"' in pyproject
    assert callable(_cli.run)


def test_no_arguments_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = main(capsys)
    assert code == 2
    assert "usage: optax-warmup" in err
    assert "compare" in err


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "show", WSD, "--json", "--steps", "60k")
    assert code == 0
    got = json.loads(out)
    assert got["steps"] == 60_000
    assert got["warmup_steps"] == 1000
    assert got["effective_warmup_period"] == pytest.approx(499.5, abs=1e-3)
    assert got["peak"] == 1e-3
    labels = {p["label"]: (p["step"], p["value"]) for p in got["points"]}
    assert labels["first update"] == (0, pytest.approx(1e-6))
    assert labels["end of warmup"] == (999, 1e-3)
    assert labels["1-sqrt starts"] == (40_000, 1e-3)
    assert labels["last update"] == (59_999, 0.0)
    assert ow.to_config(ow.from_config(got["config"])) == got["config"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", '{"kind": "warmup"}'], "config: unknown kind 'warmup'"),
        (["show", "{not json"], "Expecting property name"),
        (["show", "missing_file.yaml"], "No such file or directory"),
        (["show", "linear(2k) > cosine @ total=10k", "--steps", "0.5"], "--steps=0.5 is ambiguous"),
        (["compare", "linear(10)", "cosine(10)", "--tol", "-1"], "--tol must be >= 0"),
    ],
)
def test_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = main(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("optax-warmup: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_yaml_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "lr.yaml"
    path.write_text(
        "kind: warmup_stable_decay\npeak_value: 3e-4\ntotal_steps: 10k\n"
        "warmup_steps: 5%\ndecay_fraction: 0.2\ndecay_shape: 1-sqrt\n"
    )
    code, out, _ = main(capsys, "show", str(path), "--no-plot")
    assert code == 0, out
    assert "10,000 steps" in out
    assert "warmup 500 steps" in out
    assert "8,000" in out  # the cooldown starts at 80%


def test_compare_same_schedules(capsys: pytest.CaptureFixture[str]) -> None:
    lib = (
        '{"kind": "warmup_stable_decay", "peak_value": 1e-3, "total_steps": 50000, '
        '"warmup_steps": 1000, "decay_steps": 10000, "decay_shape": "1-sqrt"}'
    )
    code, out, _ = main(capsys, "compare", WSD, lib)
    assert code == 0
    assert "same: no step differs by more than 1e-05 x peak" in out
    code, out, _ = main(
        capsys, "compare", WSD, "linear(2%) > hold > linear(20%) @ peak=1e-3 total=50k"
    )
    assert code == 1
    assert "first at step 40,001" in out
    assert "steps 40,001 .. 49,999" in out


def test_config_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = main(capsys, "config", "linear(2) > cosine @ total=10", "--compact")
    assert code == 0
    assert json.loads(out)["phases"][0] == {
        "span": 2,
        "shape": "power_in",
        "start": 0.0,
        "end": 1.0,
        "offset": 1.0,
        "scale": [0.0, 1.0],
    }


# --- preview helpers -----------------------------------------------------------


@pytest.mark.parametrize(("init", "want"), [(None, 999.5), (0.0, 1000.5)])
def test_effective_warmup_period(init: float | None, want: float) -> None:
    # Linear warmup over W = 2000: sum_{t<W} 1 - (t+1)/W = (W-1)/2 without a wasted update,
    # sum 1 - t/W = (W+1)/2 from 0 (optax, Hugging Face).
    s = ow.warmup_schedule(0.5, 2000, init_value=init)
    w = _preview.warmup_steps(s, 10_000)
    assert w == 2000
    vals = _preview.evaluate(s, np.arange(w + 1))
    assert _preview.effective_warmup_period(vals) == pytest.approx(want, abs=1e-3)
    assert _preview.effective_warmup_period(vals[:1]) == 0.0


def test_warmup_detection_for_products_and_plain_functions() -> None:
    product = ow.add_warmup(ow.cosine_decay(1.0, 100), 10, mode="multiply")
    assert isinstance(product, ow.ProductSchedule)
    assert _preview.warmup_steps(product, 100) == 10
    assert _preview.warmup_steps(lambda c: 1.0 - c / 100, 100) == 0
    assert _preview.warmup_steps(ow.cosine_decay(1.0, 100), 100) == 0


def test_schedule_length() -> None:
    assert _preview.schedule_length(ow.warmup_decay_schedule(1.0, 10, 100)) == 100
    assert _preview.schedule_length(ow.constant_schedule(1.0)) is None
    assert _preview.schedule_length(ow.noam_schedule(64, 100)) == 1100
    restarts = ow.cosine_restarts(1.0, 10, cycle_mul=2.0, num_cycles=4)
    assert _preview.schedule_length(restarts) == 150
    assert _preview.schedule_length(ow.cosine_restarts(1.0, 10)) == 30  # 3 cycles shown


def test_compare_counts_ranges() -> None:
    a = ow.piecewise_constant([10, 20, 30], [1.0, 0.5, 1.0, 0.5])
    b = ow.constant_schedule(1.0)
    r = _preview.compare(a, b, 40, 1e-6)
    assert not r["equal"]
    assert r["num_differ"] == 20
    assert r["num_ranges"] == 2
    assert [(g["first"], g["last"]) for g in r["ranges"]] == [(10, 19), (30, 39)]
    assert (r["max_abs_diff"], r["max_rel_diff"]) == (0.5, 0.5)


def test_plot_function_draws_on_given_axes(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    schedules: list[Any] = [SPEC, ow.warmup_stable_decay(3e-4, 100_000, 2000, decay_steps=20_000)]
    assert ow.plot(schedules, 100_000, ax=ax, labels=["a", "b"]) is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b"]
    x, y = lines[0].get_data()
    # Both sides of the end of warmup are sampled, so the corner is sharp.
    assert {1999, 2000} <= set(np.asarray(x).tolist())
    assert float(np.asarray(y)[0]) == pytest.approx(1.5e-7)
    path = tmp_path / "nb.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="num_steps must be a positive integer"):
        ow.plot(SPEC, 0, ax=ax)
    with pytest.raises(ValueError, match="labels must hold one label per schedule"):
        ow.plot(SPEC, 10, ax=ax, labels=["a", "b"])
