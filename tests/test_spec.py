"""Spec strings: golden values against tests/reference.py, units, malformed inputs."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.io import spec as _spec
from tests import reference as ref

COUNTS = np.arange(-3, 509)


def values(schedule: Any) -> np.ndarray:
    return np.asarray(schedule(jnp.asarray(COUNTS)), dtype=np.float64)


def first(schedule: Any, n: int) -> np.ndarray:
    """Values at counts 0 .. n-1 (evaluated on the shared COUNTS: one compiled shape)."""
    return values(schedule)[3 : 3 + n]


def table(fn: Any) -> np.ndarray:
    return ref.table(lambda c: fn(max(c, 0)), COUNTS)


def check(spec: str, fn: Any, rtol: float, atol: float = 1e-7) -> None:
    np.testing.assert_allclose(values(ow.parse_spec(spec)), table(fn), rtol=rtol, atol=atol)


def test_warmup_then_cosine_to_a_fraction_of_the_peak(rtol: float) -> None:
    def want(c: int) -> float:
        return ref.warmup(c, 2.0, 20) if c < 20 else ref.decay(c - 20, 2.0, 80, 0.2, "cosine")

    check("linear(20) > cosine(to=0.1x) @ peak=2 total=100", want, rtol)


def test_wsd_with_percent_durations(rtol: float) -> None:
    check(
        "linear(10) > hold > 1-sqrt(20%) @ peak=1e-3 total=100",
        lambda c: ref.wsd(c, 1e-3, 100, 10, 20, 0.0, "1-sqrt"),
        rtol,
        atol=1e-10,
    )


def test_single_segment_is_a_decay_from_the_peak(rtol: float) -> None:
    check("cosine(50) @ peak=3", lambda c: ref.decay(c, 3.0, 50, 0.0, "cosine"), rtol)
    check(
        "poly(40, power=3) @ end=0.1x",
        lambda c: ref.decay(c, 1.0, 40, 0.1, "polynomial", power=3.0),
        rtol,
    )


@pytest.mark.parametrize("shape", ["linear", "cosine", "exp", "1-sqrt", "poly"])
def test_warmup_shapes(shape: str, rtol: float) -> None:
    ref_shape = {"exp": "exponential", "poly": "polynomial"}.get(shape, shape)
    check(f"{shape}(16) > hold(100)", lambda c: ref.warmup(c, 1.0, 16, ref_shape), rtol)


def test_warmup_from_a_start_value_uses_the_optax_convention(rtol: float) -> None:
    check("linear(10, from=0.1x) > hold @ peak=2", lambda c: ref.warmup(c, 2.0, 10, init=0.2), rtol)
    check(
        "exp(10, rate=2) > hold(5)", lambda c: ref.warmup(c, 1.0, 10, "exponential", rate=2.0), rtol
    )


def test_constant_warmup_holds_then_jumps() -> None:
    s = ow.parse_spec("constant(5, from=0.1x) > hold @ peak=0.5")
    np.testing.assert_allclose(first(s, 8), [0.05] * 5 + [0.5] * 3, rtol=1e-6)


def test_inverse_sqrt_after_warmup(rtol: float) -> None:
    # Hugging Face's inverse sqrt with tau = W: 1 / sqrt((c + tau - W) / tau) after warmup.
    check(
        "linear(16) > rsqrt @ peak=0.5",
        lambda c: ref.warmup(c, 0.5, 16) if c < 16 else 0.5 / math.sqrt(c / 16),
        rtol,
    )
    check("rsqrt(tau=10, shift=5)", lambda c: math.sqrt(10 / (c + 15)), rtol)


def test_restarts(rtol: float) -> None:
    # SGDR: cycle i lasts 10 * 2**i, peak decays by 0.5 per cycle, floor 0.1 fixed, 3 cycles.
    check(
        "cycle(cosine(10, to=0.1), n=3, mul=2, decay=0.5)",
        lambda c: ref.sgdr(c, 1.0, 10, 2.0, 0.5, 0.1, limit=3),
        rtol,
    )
    # A floor written relative to the peak decays with it.
    s = ow.parse_spec("cycle(linear(4, to=0.5x), decay=0.5) @ peak=2")
    np.testing.assert_allclose(
        first(s, 9), [2, 1.75, 1.5, 1.25, 1, 0.875, 0.75, 0.625, 0.5], rtol=1e-6
    )


def test_warmup_before_restarts_and_per_cycle_warmup() -> None:
    s = ow.parse_spec("linear(4) > cycle(linear(2) > linear(2, to=0))")
    # Prefix warmup 0.25 .. 1, then cycles: no-waste warmup 0.5, 1, then decay 1, 0.5.
    want = [0.25, 0.5, 0.75, 1.0, 0.5, 1.0, 1.0, 0.5, 0.5, 1.0]
    np.testing.assert_allclose(first(s, 10), want, rtol=1e-6)


def test_step_decay_in_epochs() -> None:
    s = ow.parse_spec("hold(2ep) > hold(2ep, 0.1x) > hold(to=0.01x) @ peak=1 steps_per_epoch=3")
    want = [1.0] * 6 + [0.1] * 6 + [0.01] * 3
    np.testing.assert_allclose(first(s, 15), want, rtol=1e-6)


@pytest.mark.parametrize(
    ("spec", "warmup", "total"),
    [
        ("linear(1.5k) > cosine @ total=10k", 1500, 10_000),
        ("linear(2%) > cosine @ total=1M", 20_000, 1_000_000),
        ("linear(1ep) > cosine @ total=10ep steps_per_epoch=390", 390, 3900),
        ("linear(50kex) > cosine @ total=1Mex batch_size=500", 100, 2000),
        ("linear(1Btok) > cosine @ total=10Btok tokens_per_step=1M", 1000, 10_000),
        ("linear(4Mtok) > cosine @ total=5k batch_size=8, seq_len=1k", 500, 5000),
        ("linear(1e3) > cosine(9_000)", 1000, None),
    ],
)
def test_durations_and_suffixes(spec: str, warmup: int, total: int | None) -> None:
    compiled = _spec.compile_spec(spec)
    assert compiled.total_steps == total
    spans = np.asarray(compiled.schedule.spans)
    assert spans[0] == warmup
    if total is not None:
        assert spans.sum() == total


def test_same_as_the_library_function(rtol: float) -> None:
    s = ow.parse_spec("linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k")
    lib = ow.warmup_decay_schedule(3e-4, 2000, 100_000, end_ratio=0.1)
    counts = jnp.asarray([0, 1, 1999, 2000, 2001, 50_000, 99_999, 100_000, 10**6])
    np.testing.assert_allclose(np.asarray(s(counts)), np.asarray(lib(counts)), rtol=rtol)


def test_context_defaults_and_spec_settings_override() -> None:
    assert int(np.asarray(ow.parse_spec("linear(10%) > cosine", total_steps=500).spans)[0]) == 50
    s = ow.parse_spec("linear(10%) > cosine @ total=1000", total_steps=500)
    assert int(np.asarray(s.spans).sum()) == 1000


@settings(max_examples=15, deadline=None)
@given(
    w=st.integers(1, 100),
    rest=st.integers(1, 300),
    peak=st.floats(1e-5, 10.0),
    floor=st.floats(0.0, 0.9),
)
def test_warmup_cosine_property(w: int, rest: int, peak: float, floor: float) -> None:
    s = ow.parse_spec(f"linear({w}) > cosine(to={floor!r}x) @ peak={peak!r} total={w + rest}")
    want = table(
        lambda c: (
            ref.warmup(c, peak, w)
            if c < w
            else ref.decay(c - w, peak, rest, peak * floor, "cosine")
        )
    )
    np.testing.assert_allclose(values(s), want, rtol=2e-5, atol=peak * 1e-6)


# --- malformed specs: message and column ----------------------------------------

BAD = [
    ("", 1, r"empty spec"),
    ("   ", 1, r"empty spec"),
    ("linear(2000 > cosine", 13, r"expected '\)' to close linear\(, found '>'"),
    (
        "linear(2k) > cosin(to=0.1x) @ total=10k",
        14,
        r"unknown segment 'cosin' \(did you mean 'cosine'\?\)",
    ),
    ("linear(0.1) > cosine @ total=100k", 8, r"duration=0\.1 is ambiguous.*10%"),
    ("linear(1.0) > cosine @ total=100k", 8, r"duration=1\.0 is ambiguous"),
    ("linear(2.5) > cosine @ total=100", 8, r"not a whole number"),
    ("linear(10%) > cosine", 8, r"percentage of the run: give total= after @"),
    ("linear(1ep) > cosine(5)", 8, r"in epochs: give steps_per_epoch= after @"),
    ("linear(5kex) > cosine(5)", 8, r"counts examples: give batch_size="),
    ("linear(5Mtok) > cosine(5)", 8, r"counts tokens: give tokens_per_step="),
    ("linear(2k) > cosine(to=0.1x)", 14, r"cosine has no duration: give one, or total= after @"),
    ("linear(2k) @ peak=3e-4 foo=2", 24, r"unknown setting 'foo'"),
    ("linear(2k) @ peek=3e-4", 14, r"unknown setting 'peek' \(did you mean 'peak'\?\)"),
    ("linear(2k) @ peak=1 peak=2", 21, r"peak is set twice"),
    ("linear(2k) @ total=10%", 14, r"cannot be a percentage"),
    ("linear(2k) @ peak=0.1x", 14, r"multiple of the peak is not allowed here"),
    ("linear(2k))", 11, r"expected '>' or '@', found '\)'"),
    ("linear 2000", 8, r"found '2000' \(arguments go in parentheses"),
    ("linear(2k) cosine", 12, r"expected '>' or '@', found 'cosine'"),
    ("linear(2k) >", 13, r"expected a segment such as linear\(2000\), found the end of the spec"),
    ("> cosine", 1, r"expected a segment"),
    ("linear(2k, 5) > cosine @ total=10k", 12, r"linear takes one positional argument"),
    ("linear(5m)", 9, r"unknown unit 'm'"),
    (
        "linear(10) > cosine(10, power=2)",
        25,
        r"cosine takes no argument power= \(it takes to=, from=, exponent=\)",
    ),
    ("linear(to=2, to=3)", 14, r"to= is given twice"),
    ("hold(5, 0.1x, to=0.2x)", 9, r"hold's value is given twice"),
    ("linear(10, to=10%)", 12, r"to is a value, not a duration.*use 0\.1x"),
    ("linear(10, to=)", 15, r"expected a number, found '\)'"),
    ("linear(10, =3)", 12, r"expected a number, found '='"),
    ("linear(1$)", 9, r"unexpected character '\$'"),
    ("linear(-5)", 8, r"unexpected character '-'"),
    ("cycle(linear(10) > cycle(cosine(5)))", 20, r"cycle\(\) cannot be nested"),
    ("cycle(cosine(5)) > hold(3)", 1, r"cycle\(\.\.\.\) must be the last element"),
    ("cycle(cosine) @ total=100", 7, r"segments inside cycle\(\) need a duration"),
    ("cycle(cosine(5), m=2)", 18, r"cycle takes no argument m="),
    ("cycle(cosine(5), n=1.5)", 18, r"n must be a whole number of cycles"),
    ("cycle(cosine(5), mul=0.5)", 18, r"mul must lie in \[1, inf\], got 0\.5"),
    ("cycle(cosine(5), decay=-1)", 24, r"unexpected character '-'"),
    ("cycle(cosine(5)", 16, r"expected '\)' to close cycle\("),
    ("rsqrt > cosine(5)", 1, r"rsqrt never ends: it must be the last segment"),
    ("cosine(10) > rsqrt(5)", 20, r"rsqrt takes no duration"),
    ("hold(10) > rsqrt", 12, r"rsqrt needs tau="),
    (
        "linear(2k) > cosine @ total=1k",
        14,
        r"the other segments already span 2000 steps, more than total=1000",
    ),
    (
        "linear(2k) > cosine(9k) @ total=10k",
        27,
        r"the segments span 11000 steps, more than total=10000",
    ),
    ("linear > cosine @ total=10", 10, r"only one segment may omit its duration"),
    ("constant(10) > cosine(100)", 1, r"constant warmup holds its start value.*give from="),
    ("cosine(10, exponent=0) ", 1, r"exponent must lie in \(0, inf\]"),
]


@pytest.mark.parametrize(("spec", "column", "message"), BAD)
def test_malformed_specs(spec: str, column: int, message: str) -> None:
    with pytest.raises(_spec.SpecError, match=message) as info:
        ow.parse_spec(spec)
    err = info.value
    assert err.column == column, err.one_line()
    assert err.one_line().startswith(f"column {column}: ")
    assert "\n" not in err.one_line()
    # str() shows the spec and a caret under the column.
    _, shown, caret = str(err).split("\n")
    assert shown == f"  {spec}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_spec_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="column 1"):
        ow.parse_spec("")
