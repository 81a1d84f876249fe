"""Hostile and unlucky inputs (issue 17): each case a clear error naming the argument,
or a finite value checked against an independent float64 oracle.

Categories: constructors, traced hyperparameters, transforms, CLI, configs, ramps.
Integer counts (int64 / uint64 / Python ints past int32) are the engine's and are
tested with it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup import shapes
from optax_warmup.compat import torch as pt
from optax_warmup.engine import validation as v
from optax_warmup.io import cli as _cli
from optax_warmup.io import config as _config
from optax_warmup.io import preview as _preview
from optax_warmup.io import spec as _spec
from optax_warmup.schedules import ramps as _ramps

ROOT = Path(__file__).resolve().parents[1]
F32_MAX = float(np.finfo(np.float32).max)
AR = "\u0661\u0660"  # "10" in Arabic-Indic digits


def bad(x: object) -> Any:
    """A deliberately wrong argument (typed ``Any`` for the type checker)."""
    return x


# --- constructors: concrete arguments -----------------------------------------------

# (id, constructor call, exact start of the error message naming the argument)
CONSTRUCTOR_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    # finite Python floats that overflow float32 after the cast
    ("power 1e39", lambda: ow.polynomial_decay(1.0, 100, power=1e39), "power=1e+39 does not fit"),
    ("timescale 1e39", lambda: ow.inverse_sqrt_decay(1.0, 1e39), "timescale=1e+39 does not fit"),
    ("StepLR gamma 1e39", lambda: pt.StepLR(0.1, 10, gamma=1e39), "gamma=1e+39 does not fit"),
    ("peak 1e39", lambda: ow.warmup_schedule(1e39, 100), "peak_value=1e+39 does not fit"),
    ("peak -1e39", lambda: ow.cosine_decay(-1e39, 100), "init_value=-1e+39 does not fit"),
    ("peak 2**200", lambda: ow.warmup_schedule(2**200, 10), "peak_value=1606938044258990275"),
    (
        "cycle_decay 1e39",
        lambda: ow.cosine_restarts(1.0, 10, cycle_decay=1e39),
        "cycle_decay=1e+39",
    ),
    # cycle decay whose growth overflows within the cycles a count can reach
    (
        "cycle_decay 1e30",
        lambda: ow.cosine_restarts(1.0, 1000, cycle_decay=1e30),
        "cycle_decay=1e+30 makes the schedule overflow float32",
    ),
    (
        "cycle_decay 1.001 unlimited",
        lambda: ow.cosine_restarts(1.0, 1000, cycle_decay=1.001),
        "cycle_decay=1.001 makes the schedule overflow float32",
    ),
    (
        "cycle_decay 10 x 40 cycles",
        lambda: ow.cosine_restarts(1.0, 10, cycle_decay=10.0, num_cycles=40),
        "cycle_decay=10.0 makes the schedule overflow float32",
    ),
    # one-cycle divisors
    ("div_factor -1", lambda: ow.linear_onecycle_schedule(100, 1.0, div_factor=-1), "div_factor"),
    ("div_factor 0", lambda: ow.cosine_onecycle_schedule(100, 1.0, div_factor=0.0), "div_factor"),
    (
        "div_factor inf",
        lambda: ow.linear_onecycle_schedule(100, 1.0, div_factor=math.inf),
        "div_factor must be finite",
    ),
    (
        "div_factor 1j",
        lambda: ow.cosine_onecycle_schedule(100, 1.0, div_factor=1j),
        "div_factor must be a real number",
    ),
    (
        "final_div_factor -5",
        lambda: ow.linear_onecycle_schedule(100, 1.0, final_div_factor=-5.0),
        "final_div_factor",
    ),
    (
        "final_div_factor inf",
        lambda: ow.cosine_onecycle_schedule(100, 1.0, final_div_factor=math.inf),
        "final_div_factor must be finite",
    ),
    (
        "final_div_factor nan",
        lambda: ow.linear_onecycle_schedule(100, 1.0, final_div_factor=math.nan),
        "final_div_factor must be finite",
    ),
    # wrong types, named at construction
    (
        "peak None",
        lambda: ow.warmup_schedule(bad(None), 10),
        "peak_value must be a number, got None",
    ),
    (
        "peak str",
        lambda: ow.warmup_schedule(bad("abc"), 10),
        "peak_value must be a number, got 'abc'",
    ),
    (
        "peak bytes",
        lambda: ow.warmup_schedule(bad(b"1"), 10),
        "peak_value must be a number, got b'1'",
    ),
    ("peak complex", lambda: ow.warmup_schedule(1 + 2j, 10), "peak_value must be a real number"),
    (
        "steps None",
        lambda: ow.warmup_schedule(1.0, bad(None)),
        "warmup_steps must be a whole number",
    ),
    ("steps complex", lambda: ow.warmup_schedule(1.0, 3j), "warmup_steps must be a whole number"),
    ("steps str", lambda: ow.cosine_decay(1.0, bad("10")), "decay_steps must be a whole number"),
    (
        "peak list",
        lambda: ow.warmup_schedule(bad([1.0, 2.0]), 10),
        "peak_value must be a single number",
    ),
    (
        "steps list",
        lambda: ow.warmup_schedule(1.0, bad([5, 6])),
        "warmup_steps must be a single number",
    ),
    (
        "end list",
        lambda: ow.linear_decay(1.0, 10, end_value=bad([0.1])),
        "end_value must be a single number",
    ),
    (
        "div_factor list",
        lambda: ow.linear_onecycle_schedule(100, 1.0, div_factor=bad([2.0, 3.0])),
        "div_factor must be a single number",
    ),
    (
        "schedule_free lr list",
        lambda: ow.schedule_free(optax.sgd(0.1), bad([0.1, 0.2])),
        "learning_rate must be a single number",
    ),
    (
        "schedule_free None",
        lambda: ow.schedule_free(bad(None), 0.1),
        "base_optimizer must be an optax",
    ),
    (
        "schedule_free lr None",
        lambda: ow.schedule_free(optax.sgd(0.1), bad(None)),
        "learning_rate must be a number",
    ),
    (
        "schedule_free lr str",
        lambda: ow.schedule_free(optax.sgd(0.1), bad("fast")),
        "learning_rate must be a number",
    ),
    (
        "parse_spec bytes",
        lambda: ow.parse_spec(bad(b"linear(10)")),
        "spec must be a string, got bytes",
    ),
    ("parse_spec None", lambda: ow.parse_spec(bad(None)), "spec must be a string, got NoneType"),
    (
        "piecewise list",
        lambda: ow.piecewise_constant_schedule(1.0, bad([1.0, 2.0])),
        "boundaries_and_scales must be a {step: scale} dict",
    ),
    (
        "piecewise str",
        lambda: ow.piecewise_constant_schedule(1.0, bad("abc")),
        "boundaries_and_scales must be a {step: scale} dict",
    ),
    # durations past the index range
    (
        "piecewise 2**31",
        lambda: ow.piecewise_constant_schedule(1.0, {2**31: 0.5}),
        "boundaries_and_scales=[2147483648] exceeds the int32 range",
    ),
    (
        "steps 2**63",
        lambda: ow.warmup_schedule(1.0, 2**63),
        "warmup_steps=9223372036854775808 exceeds the int64 range",
    ),
    (
        "steps 2**70",
        lambda: ow.warmup_schedule(1.0, 2**70),
        "warmup_steps=1180591620717411303424 exceeds the int64 range",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"),
    [pytest.param(f, m, id=i) for i, f, m in CONSTRUCTOR_ERRORS],
)
def test_constructor_errors(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        make()


def _exp_warmup_oracle(rate: float, p: np.ndarray) -> np.ndarray:
    """``expm1(-rate p) / expm1(-rate)`` in float64 (exact where representable)."""
    if rate > 0:
        return np.expm1(-rate * p) / np.expm1(-rate)
    b = -rate
    return np.exp(-b * (1 - p)) * np.expm1(-b * p) / np.expm1(-b)


@pytest.mark.parametrize("rate", [-200.0, -89.0, -5.0, 5.0, 200.0, 1e30, -1e30])
def test_exponential_shape_finite_for_any_rate(rate: float) -> None:
    s = ow.warmup_schedule(1.0, 10, shape=shapes.exponential(rate))
    got = np.asarray(s(jnp.arange(11)), np.float64)
    p = np.minimum(np.arange(1, 12) / 10, 1.0)  # a warmup wastes no update: p = (c + 1) / W
    want = (
        _exp_warmup_oracle(rate, p)
        if abs(rate) < 700
        else (p >= 1).astype(float)
        if rate < 0
        else np.ones(11)
    )
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-30)


def test_geometric_decay_ratio_below_float32_normal_range() -> None:
    # 1e-36 / 1000 leaves float32's range; the log difference does not.
    s = ow.decay_schedule(1000.0, 10, shape="exponential", end_value=1e-36)
    got = np.asarray(s(jnp.arange(11)), np.float64)
    want = 1000.0 * (1e-39) ** (np.arange(11) / 10)
    assert np.all(np.isfinite(got))
    assert np.all(got > 0)
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_tiny_values_accepted() -> None:
    # Below float32's normal range: accepted (may be flushed to 0), never NaN.
    got = np.asarray(ow.linear_decay(1.0, 10, end_value=1e-40)(jnp.arange(11)), np.float64)
    np.testing.assert_allclose(got, 1 - np.arange(11) / 10, atol=1e-7)
    got = np.asarray(ow.decay_schedule(1.0, 10, shape="exponential", end_value=1e-37)(10))
    assert float(got) == pytest.approx(1e-37, rel=1e-5)


def test_onecycle_div_factor_2_31_correct_value() -> None:
    s = ow.linear_onecycle_schedule(100, 1.0, div_factor=2**31)
    assert float(s(0)) == pytest.approx(2.0**-31, rel=1e-6)
    assert float(s(30)) == pytest.approx(1.0, rel=1e-6)


def test_cycle_decay_within_limit_is_finite() -> None:
    # 10**(10 - 1) stays in float32: accepted, and exact at each cycle start.
    s = ow.cosine_restarts(1.0, 10, cycle_decay=10.0, num_cycles=10)
    got = np.asarray(s(jnp.arange(0, 100, 10)), np.float64)
    np.testing.assert_allclose(got, 10.0 ** np.arange(10), rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(s(jnp.asarray([10**6, 2**31 - 1])))))


def test_exponential_rate_growth_saturates() -> None:
    s = pt.ExponentialLR(0.1, 2.0)
    got = np.asarray(s(jnp.asarray([0, 10, 200, 2**31 - 1])), np.float64)
    np.testing.assert_allclose(got[:2], [0.1, 102.4], rtol=1e-6)
    assert got[2] == got[3] == F32_MAX


_f32_huge = st.floats(min_value=F32_MAX * 1.0000001, max_value=1e308, allow_nan=False)


@settings(max_examples=30, deadline=None)
@given(x=_f32_huge, sign=st.sampled_from([1.0, -1.0]))
def test_property_float32_overflow_named(x: float, sign: float) -> None:
    with pytest.raises(ValueError, match=r"^end_value=.* does not fit float32"):
        ow.linear_decay(1.0, 10, end_value=sign * x)


@settings(max_examples=40, deadline=None)
@given(rate=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
def test_property_exponential_rate_values(rate: float) -> None:
    s = ow.warmup_schedule(1.0, 8, shape=shapes.exponential(rate))
    got = np.asarray(s(jnp.arange(8)), np.float64)
    assert np.all(np.isfinite(got))
    if abs(rate) >= 1e-6:
        want = _exp_warmup_oracle(rate, np.arange(1, 9) / 8)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    decay=st.floats(min_value=1.0, max_value=1e6, allow_nan=False),
    cycles=st.integers(min_value=1, max_value=60),
)
def test_property_cycle_decay_raises_or_stays_finite(decay: float, cycles: int) -> None:
    peak = (cycles - 1) * math.log(decay)  # log of the last cycle's peak, in float64
    if peak > math.log(F32_MAX):
        with pytest.raises(ValueError, match=r"^cycle_decay=.* makes the schedule overflow"):
            ow.cosine_restarts(1.0, 4, cycle_decay=decay, num_cycles=cycles)
        return
    s = ow.cosine_restarts(1.0, 4, cycle_decay=decay, num_cycles=cycles)
    last = float(s(4 * (cycles - 1)))
    assert math.isfinite(last)
    assert last == pytest.approx(decay ** (cycles - 1), rel=1e-4)


# --- traced hyperparameters: clamped, documented ------------------------------------


def test_traced_exponential_rate_stays_finite() -> None:
    @jax.jit
    def f(rate: jax.Array) -> jax.Array:
        return ow.warmup_schedule(1.0, 10, shape=shapes.exponential(rate))(jnp.arange(11))

    for rate in (-200.0, -1e30, 1e30):
        got = np.asarray(f(jnp.float32(rate)), np.float64)
        assert np.all(np.isfinite(got)), rate
        assert got[-1] == 1.0


def test_traced_div_factor_clamped() -> None:
    @jax.jit
    def f(div: jax.Array) -> jax.Array:
        return ow.linear_onecycle_schedule(100, 1.0, div_factor=div)(jnp.arange(0, 101, 10))

    got = np.asarray(f(jnp.float32(-1.0)))  # raised to 1e-30: init = peak / 1e-30
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(np.asarray(f(jnp.float32(4.0)))[0], 0.25, rtol=1e-6)


def test_traced_growth_rate_saturates() -> None:
    got = jax.jit(lambda g: pt.ExponentialLR(1.0, g)(jnp.asarray([0, 1000])))(jnp.float32(1e10))
    assert np.asarray(got).tolist() == [1.0, F32_MAX]


# --- transforms: float32 hyperparameters meet any leaf dtype ------------------------

SCHED = ow.linear_decay(10.0, 20, end_value=1.0)
TRANSFORMS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "clip": (optax.clip, {"max_delta": SCHED}),
    "clip_by_global_norm": (optax.clip_by_global_norm, {"max_norm": SCHED}),
    "adamw": (optax.adamw, {"learning_rate": SCHED, "weight_decay": ow.linear_decay(0.1, 20)}),
    "sgd": (optax.sgd, {"learning_rate": SCHED, "momentum": 0.9}),
    "lion": (optax.lion, {"learning_rate": SCHED}),
    "adafactor": (optax.adafactor, {"learning_rate": SCHED}),
}
TREES = {
    "bf16": {"w": jnp.linspace(-1, 2, 12, dtype=jnp.float32).reshape(3, 4).astype(jnp.bfloat16)},
    "f16": {"w": jnp.linspace(-1, 2, 12, dtype=jnp.float32).reshape(3, 4).astype(jnp.float16)},
    "mixed": {
        "w": jnp.linspace(-1, 2, 12, dtype=jnp.float32).reshape(3, 4).astype(jnp.bfloat16),
        "b": jnp.linspace(0.5, 1, 4, dtype=jnp.float32),
    },
    "int": {"w": jnp.linspace(-1, 2, 12, dtype=jnp.float32).reshape(3, 4), "i": jnp.arange(4)},
}


def _fixed(kwargs: dict[str, Any], count: int) -> dict[str, Any]:
    return {k: float(bad(f)(count)) if callable(f) else f for k, f in kwargs.items()}


@pytest.mark.parametrize("tree", list(TREES))
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_inject_schedules_any_leaf_dtype(name: str, tree: str) -> None:
    factory, kwargs = TRANSFORMS[name]
    params = TREES[tree]
    grads = jax.tree.map(lambda x: (3 * x + 1).astype(x.dtype), params)
    tx = ow.inject_schedules(factory)(**kwargs)
    state = tx.init(params)
    u1, state = bad(tx.update(grads, state, params))
    u2, state = bad(tx.update(grads, state, params))
    # Oracle: optax itself on the float32 tree with the values fixed, cast to each leaf.
    wide = jax.tree.map(lambda x: x.astype(jnp.float32), params)
    gwide = jax.tree.map(lambda x: x.astype(jnp.float32), grads)
    ref = factory(**_fixed(kwargs, 0))
    r1, _ = bad(ref.update(gwide, ref.init(wide), wide))
    for k in params:
        assert u1[k].dtype == params[k].dtype
        assert np.all(np.isfinite(np.asarray(u2[k], np.float64)))
        want = np.asarray(r1[k].astype(params[k].dtype), np.float64)
        # Integer leaves get the float32 update truncated: one unit either way.
        atol = 1.0 if jnp.issubdtype(params[k].dtype, jnp.integer) else 1e-2
        np.testing.assert_allclose(np.asarray(u1[k], np.float64), want, rtol=1e-2, atol=atol)
    assert state.hyperparams[next(iter(kwargs))].dtype == jnp.float32


# --- CLI: in-process, one line on stderr, exit 2 --------------------------------------


def _main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = _cli.main(list(argv))
    except SystemExit as e:  # argparse's own errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


CLI_ERRORS: list[tuple[str, list[str], str]] = [
    ("epochs overflow", ["show", "linear(1e308ep) @ steps_per_epoch=10"], "beyond the int64 range"),
    ("percent overflow", ["show", "linear(1e308%) @ total=10"], "beyond the int64 range"),
    ("decay 1e39", ["show", "cycle(linear(5), decay=1e39)"], "decay=1e+39 does not fit float32"),
    (
        "decay 1e30",
        ["show", "cycle(linear(5), decay=1e30)"],
        "decay=1e+30 makes the schedule overflow",
    ),
    ("deep cycle", ["show", "cycle(" * 40 + "linear(5)" + ")" * 40], "nested deeper than 16"),
    ("long spec", ["show", "linear(5) > " * 1000 + "linear(5)"], "at most 4096 are accepted"),
    ("peak 1e39", ["show", "linear(10) @ peak=1e39"], "does not fit float32"),
    ("non-ascii digits", ["show", "linear(" + AR + ")"], "unexpected character"),
    (
        "dpi",
        ["plot", "linear(10)", "-o", "x.png", "--dpi", "100000"],
        "--dpi must lie in [10, 1200]",
    ),
    ("dpi not int", ["plot", "linear(10)", "-o", "x.png", "--dpi", "big"], "invalid int value"),
    ("tol nan", ["compare", "linear(10)", "linear(10)", "--tol", "nan"], "--tol must be >= 0"),
    ("steps 1e30", ["show", "linear(10)", "--steps", "1e30"], "beyond the int64 range"),
    ("width", ["show", "linear(10)", "--width", "100000"], "--width must lie in [20, 1000]"),
    ("height", ["show", "linear(10)", "--height", "-5"], "--height must lie in [5, 200]"),
    ("deep json", ["show", "[" * 100000 + "]" * 100000], ""),
    (
        "json NaN",
        ["show", '{"kind": "warmup_schedule", "peak_value": NaN, "warmup_steps": 5}'],
        "NaN is not a number JSON allows",
    ),
    (
        "json deep kinds",
        ["show", '{"kind": "add_warmup", "schedule": ' * 40 + "1.0" + ', "warmup_steps": 1}' * 40],
        "nested more than 32 levels",
    ),
]


@pytest.mark.parametrize(("argv", "message"), [pytest.param(a, m, id=i) for i, a, m in CLI_ERRORS])
def test_cli_bad_input_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("optax-warmup: error: ")
    assert err.count("\n") == 1, err
    assert message in err


def test_cli_show_past_int32_is_correct(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(
        capsys, "show", "linear(10) > cosine @ total=100", "--steps", "3G", "--json"
    )
    assert code == 0
    data = json.loads(out)
    points = {p["step"]: p["value"] for p in data["points"]}
    assert points[0] == pytest.approx(0.1)
    assert points[9] == 1.0
    # 75% of the run and the last update lie past 2**31 steps: the value is 0 from step 100.
    assert points[2_250_000_000] == 0.0
    assert points[2_999_999_999] == 0.0


def test_cli_show_two_billion_steps_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "show", "linear(1G) > cosine(1G)", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["warmup_steps"] == 10**9
    # (W - 1) / 2 for a linear warmup that wastes no update, to float32's resolution.
    assert data["effective_warmup_period"] == pytest.approx((10**9 - 1) / 2, rel=1e-8)


def test_cli_compare_long_runs_sampled(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(
        capsys, "compare", "linear(1G) > cosine(1G)", "linear(1G) > linear(1G)", "--json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["sampled"] is not None
    assert data["sampled"] < 200_000
    assert not data["equal"]
    assert data["first_differ"] > 10**9
    # Max |cosine - linear| over a decay from 1 to 0, in float64 on a fine grid.
    p = np.linspace(0, 1, 1_000_001)
    want = np.max(np.abs((1 + np.cos(np.pi * p)) / 2 - (1 - p)))
    assert data["max_abs_diff"] == pytest.approx(want, rel=1e-4)


def test_cli_huge_cycle_counts_no_overflow(capsys: pytest.CaptureFixture[str]) -> None:
    # 2**(2e9) cycles' worth of steps: the run length is capped at 2**62, no OverflowError.
    code, out, err = _main(capsys, "show", "cycle(linear(5), n=100, mul=1e30)", "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == 2**62


def test_compare_nan_never_equal() -> None:
    good = ow.linear_decay(1.0, 10)
    nan = dataclasses.replace(good, starts=jnp.asarray([jnp.nan, 0.0]))
    r = _preview.compare(nan, nan, 20, 1e-5)
    assert r["equal"] is False
    assert r["a_at"] is None
    assert r["b_at"] is None
    assert json.loads(_cli.dumps(r))["max_abs_diff"] is None
    assert _preview.compare(good, good, 20, 1e-5)["equal"] is True


def test_cli_plot_escapes_dollar_and_refuses_directories(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "p.png"
    code, _, err = _main(
        capsys,
        "plot",
        "linear(10) > cosine @ total=100",
        "-o",
        str(out),
        "--title",
        "$a$b$ cost $5",
    )
    assert code == 0, err
    assert out.stat().st_size > 1000
    code, _, err = _main(capsys, "plot", "linear(10)", "-o", str(tmp_path))
    assert code == 2
    assert "is a directory" in err
    assert err.count("\n") == 1


def test_cli_yaml_billion_laughs_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("yaml")
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 12):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = tmp_path / "lol.yaml"
    path.write_text("\n".join(lines) + "\n")
    code, _, err = _main(capsys, "show", str(path))
    assert code == 2
    assert "YAML aliases; at most 100 are accepted" in err
    assert err.count("\n") == 1
    # Fewer aliases, still exploding: the expanded-size cap.
    small = "\n".join(
        lines[:1] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    )
    path.write_text(small + "\n")
    code, _, err = _main(capsys, "show", str(path))
    assert code == 2
    assert "holds more than 200000 values" in err


def test_cli_subprocess_bounded_time() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    for args in (
        ["show", "linear(5) > " * 8000 + "linear(5)"],
        ["show", "linear(10) > cosine @ total=100", "--steps", "3G", "--no-plot"],
    ):
        r = subprocess.run(
            [sys.executable, "-m", "optax_warmup", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
        assert "Traceback" not in r.stderr
        assert r.returncode in (0, 2)
        assert r.stderr.count("\n") <= 1


# --- configs -----------------------------------------------------------------------

CONFIG_ERRORS: list[tuple[str, Any, str]] = [
    (
        "phases NaN params",
        {
            "kind": "phases",
            "phases": [
                {"span": 10, "shape": "power_in", "start": 0, "end": 1, "params": [math.nan]}
            ],
        },
        "config.phases[0].params[0] must be finite, got nan",
    ),
    (
        "phases inf start",
        {
            "kind": "phases",
            "phases": [{"span": 10, "shape": "power_in", "start": math.inf, "end": 1}],
        },
        "config.phases[0].start must be finite",
    ),
    (
        "non-ascii digits",
        {"kind": "warmup_schedule", "peak_value": AR, "warmup_steps": 10},
        f"config.peak_value: cannot read '{AR}'",
    ),
    (
        "non-ascii steps",
        {"kind": "warmup_schedule", "peak_value": 1.0, "warmup_steps": AR},
        "config.warmup_steps: cannot read",
    ),
    (
        "peak 1e39",
        {"kind": "warmup_schedule", "peak_value": 1e39, "warmup_steps": 10},
        "config.peak_value=1e+39 does not fit float32",
    ),
    (
        "steps 1e300",
        {"kind": "warmup_schedule", "peak_value": 1.0, "warmup_steps": "1e300"},
        "beyond the int64 range",
    ),
    (
        "phases cycle decay",
        {
            "kind": "phases",
            "phases": [{"span": 10, "shape": "power_in", "start": 1, "end": 0, "scale": [1, 1]}],
            "cycles": {"start": 0, "decay": 1e20},
        },
        "config.cycles.decay=1e+20 makes the schedule overflow",
    ),
]


@pytest.mark.parametrize(
    ("config", "message"), [pytest.param(c, m, id=i) for i, c, m in CONFIG_ERRORS]
)
def test_config_errors(config: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ow.from_config(config)


def test_config_size_and_depth_caps() -> None:
    deep: Any = 1.0
    for _ in range(40):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 32 levels"):
        _config.check_size(deep)
    shared: Any = ["x"] * 10
    for _ in range(8):
        shared = [shared] * 10  # 10**9 values once expanded, 90 objects in memory
    with pytest.raises(ValueError, match="holds more than 200000 values"):
        ow.from_config({"kind": "warmup_schedule", "peak_value": shared, "warmup_steps": 1})


def test_spec_caps() -> None:
    with pytest.raises(ValueError, match="at most 4096"):
        _spec.compile_spec("linear(5) > " * 500 + "linear(5)")
    with pytest.raises(_spec.SpecError, match="nested deeper than 16"):
        _spec.compile_spec("cycle(" * 17 + "linear(5)" + ")" * 17)


# --- ramps ---------------------------------------------------------------------------


def test_ramp_stages_in_time_of_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    ramp = ow.batch_size_ramp(32, 4096, 10**8, multiple=32)
    stages = ow.ramp_stages(ramp, 2**31)
    assert len(stages) == 128
    assert stages[0] == (0, 32)
    assert stages[-1][1] == 4096
    # Against the per-step scan, on a run just past the scan limit.
    cos = ow.sequence_length_ramp(8, 2048, 3 * 10**6 // 8, shape="cosine")
    n = (1 << 22) + 5
    bisected = ow.ramp_stages(cos, n)
    monkeypatch.setattr(_ramps, "_SCAN_LIMIT", n + 1)
    assert ow.ramp_stages(cos, n) == bisected


# --- validation helpers directly -------------------------------------------------------


def test_validation_accepts_display_name() -> None:
    with pytest.raises(ValueError, match=r"^num_warmup_steps must be >= 0, got -1\.$"):
        v.check_duration("num_warmup_steps", -1)
    with pytest.raises(ValueError, match=r"^initial_learning_rate=1e\+39 does not fit float32"):
        v.check_finite("initial_learning_rate", 1e39)
    v.check_finite("x", np.float32(F32_MAX))  # the largest float32 is fine
    v.check_finite("x", 0.0)


def test_from_arrays_refuses_non_finite_params_and_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="params"):
        ow.from_arrays(np.array([10]), 1.0, 0.0, params=np.array([math.nan, 0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"kinds must hold shape ids from 0 to 12.*got 99"):
        ow.from_arrays(np.array([10]), 1.0, 0.0, kinds=99)
    with pytest.raises(ValueError, match=r"kinds must hold shape ids.*got 1.5"):
        ow.from_arrays(np.array([10, 10]), 1.0, 0.0, kinds=(1, 1.5))  # type: ignore[arg-type]
    # A custom function widens the range by one.
    s = ow.from_arrays(np.array([4]), 0.0, 1.0, kinds=13, custom_fns=(lambda p: p,))
    assert float(s(2)) == pytest.approx(0.5)


def test_traced_growing_cycle_decay_saturates() -> None:
    @jax.jit
    def at(decay: jax.Array) -> jax.Array:
        return ow.cosine_restarts(1.0, 10, cycle_decay=decay)(jnp.array([0, 15, 1000, 10**6]))

    got = np.asarray(at(jnp.float32(1e30)))
    assert np.isfinite(got).all()
    assert got[0] == 1.0
    assert got[2] == np.finfo(np.float32).max  # cycle 100 at 1e30 per cycle: saturated
    # An ordinary traced decay is untouched.
    np.testing.assert_allclose(np.asarray(at(jnp.float32(0.5)))[:2], [1.0, 0.5 * 0.5], rtol=1e-6)
