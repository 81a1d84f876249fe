"""dtypes, count types, the int32 limit, x64 lengths, and precision at counts around 1e9."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow
from tests import reference as ref

INT32_MAX = 2**31 - 1


def evaluate_all(schedules: Any, counts: Any) -> list[np.ndarray]:
    """Evaluate a tuple of schedules in one jitted call (one compilation)."""
    out = jax.jit(lambda ss, c: [s(c) for s in ss])(tuple(schedules), counts)
    return [np.asarray(x) for x in out]


# Float64 references for long schedules, written with exact integer step differences
# and cancellation-free identities (a float64 ``1 + cos`` near its zero is itself off).
def long_warmup_decay(c: int, peak: float, w: int, total: int, shape: str) -> float:
    c = max(c, 0)
    if c < w:
        return peak * (c + 1) / w
    if c >= total:
        return 0.0
    q = (total - c) / (total - w)  # remaining fraction of the decay, exact numerator
    f = {
        "linear": q,
        "cosine": math.sin(math.pi * q / 2) ** 2,
        "1-sqrt": q / (1 + math.sqrt(1 - q)),  # 1 - sqrt(p), p = 1 - q
        "polynomial": q**2,
    }[shape]
    return peak * f


DECAY_SHAPES = ("linear", "cosine", "1-sqrt", "polynomial")


def check_long(
    schedules: list[Any], counts: np.ndarray, peak: float, w: int, total: int, rtol: float
) -> None:
    got = evaluate_all(schedules, jnp.asarray(counts))
    for shape, values in zip(DECAY_SHAPES, got, strict=True):
        want = np.asarray([long_warmup_decay(int(c), peak, w, total, shape) for c in counts])
        np.testing.assert_allclose(values, want, rtol=rtol, atol=0, err_msg=shape)


def test_values_around_1e9_match_float64_on_the_int32_path() -> None:
    peak, w, total = 3e-4, 123_456_789, 2_000_000_011
    counts = np.asarray(
        [
            *(0, 1, w - 2, w - 1, w, w + 1, 10**9 - 1, 10**9, 10**9 + 1, total - 10**6),
            *(total - 1000, total - 65, total - 2, total - 1, total, INT32_MAX),
        ],
        np.int32,
    )
    scheds = [ow.warmup_decay_schedule(peak, w, total, decay_shape=s) for s in DECAY_SHAPES]
    check_long(scheds, counts, peak, w, total, rtol=1e-6)


def test_values_past_2_31_match_float64_under_x64() -> None:
    peak, w, total = 3e-4, 3_000_000_019, 7_000_000_001
    with jax.enable_x64(True):
        counts = np.asarray(
            [0, 1, 10**9, w - 1, w, w + 1, 5 * 10**9, total - 1000, total - 1, total, 2**40],
            np.int64,
        )
        scheds = [ow.warmup_decay_schedule(peak, w, total, decay_shape=s) for s in DECAY_SHAPES]
        check_long(scheds, counts, peak, w, total, rtol=1e-6)
        # Asking for float64 values gives float64 accuracy.
        s64 = ow.warmup_decay_schedule(peak, w, total, decay_shape="cosine", dtype=jnp.float64)
        (v,) = evaluate_all([s64], jnp.asarray(counts))
        assert v.dtype == np.float64
        want = [long_warmup_decay(int(c), peak, w, total, "cosine") for c in counts]
        np.testing.assert_allclose(v, want, rtol=1e-12)
        # A 3e9-step warmup in both conventions.
        warm = [
            ow.warmup_schedule(2.0, 3 * 10**9),
            ow.warmup_schedule(2.0, 3 * 10**9, init_value=0.0),
        ]
        c = np.asarray([0, 1, 1_500_000_000, 3 * 10**9 - 2, 3 * 10**9 - 1, 3 * 10**9, 2**33])
        no_waste, optax_like = evaluate_all(warm, jnp.asarray(c))
        np.testing.assert_allclose(no_waste, 2.0 * np.minimum((c + 1) / 3e9, 1), rtol=1e-6)
        np.testing.assert_allclose(optax_like, 2.0 * np.minimum(c / 3e9, 1), rtol=1e-6)


def test_cycles_around_1e9_match_float64() -> None:
    def restart(c: int, t0: int, mul: float) -> float:
        i, begin, length = 0, 0, float(t0)
        while begin + length <= c:
            begin, i = begin + length, i + 1
            length = t0 * mul**i
        return math.sin(math.pi * (begin + length - c) / length / 2) ** 2

    counts = [10**9, 10**9 + 12_345, 1_500_000_000, INT32_MAX]
    muls = (1.0, 2.0, 1.5)
    got = evaluate_all([ow.cosine_restarts(1.0, 1_000_003, cycle_mul=m) for m in muls], counts)
    for mul, values in zip(muls, got, strict=True):
        want = [restart(c, 1_000_003, mul) for c in counts]
        np.testing.assert_allclose(values, want, rtol=1e-6, err_msg=f"cycle_mul={mul}")


def test_int32_count_at_its_maximum_saturates_to_the_final_value() -> None:
    scheds = [
        ow.warmup_decay_schedule(1.0, 10, 100, end_value=0.05),
        ow.warmup_stable_decay(1.0, 100, 10, decay_steps=20, end_ratio=0.1),
        ow.cosine_restarts(1.0, 7, num_cycles=3, end_value=0.02),
        ow.one_cycle(1.0, 100),
        ow.cosine_restarts(1.0, 7),
        ow.piecewise_constant([5, 50], [1.0, 0.5, 0.25]),
    ]
    counts = jnp.asarray([INT32_MAX, INT32_MAX - 1, -(2**31), 0], jnp.int32)
    v = evaluate_all(scheds, counts)
    finals = [0.05, 0.1, 0.02, 1.0 / 25 / 1e4]
    for got, final in zip(v[:4], finals, strict=False):
        np.testing.assert_allclose(got[:2], final, rtol=1e-6)
    # Without a cycle limit cycles keep running: (2**31 - 1) mod 7 = 1.
    np.testing.assert_allclose(v[4][0], 0.5 * (1 + math.cos(math.pi / 7)), rtol=1e-6)
    np.testing.assert_allclose(v[5][:2], 0.25)
    # The most negative count is count 0.
    for got in v:
        assert got[2] == got[3]


def test_count_dtypes() -> None:
    s = ow.warmup_decay_schedule(1.0, 10, 100, end_value=0.5)
    want = [0.6, 0.5 + 0.5 * 0.5 * (1 + math.cos(math.pi * 40 / 90)), 0.5]
    dtypes = (jnp.int32, jnp.int16, jnp.uint8, jnp.uint32, jnp.float32, jnp.bfloat16)
    counts = [jnp.asarray([5, 50, 200], dt) for dt in dtypes]
    # Unsigned counts beyond the int32 range saturate (they do not wrap to negative).
    counts.append(jnp.asarray([2**31, 2**32 - 1], jnp.uint32))
    evaluate = jax.jit(lambda s, cs: [s(c) for c in cs])
    *got, unsigned = evaluate(s, counts)
    for dt, g in zip(dtypes, got, strict=True):
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6, err_msg=str(dt))
    np.testing.assert_allclose(np.asarray(unsigned), 0.5)
    with jax.enable_x64(True):
        s = ow.warmup_decay_schedule(1.0, 10, 100, end_value=0.5)
        cs = [jnp.asarray([5, 50, 200], dt) for dt in (jnp.int64, jnp.int32, jnp.uint64)]
        cs.append(jnp.asarray([2**63, 2**64 - 1], jnp.uint64))
        *got, unsigned = jax.jit(lambda s, cs: [s(c) for c in cs])(s, cs)
        for g in got:
            assert g.dtype == jnp.float32
            np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(unsigned), 0.5)


def test_value_dtypes() -> None:
    counts = jnp.arange(0, 120, 7)
    kw: dict[str, Any] = {"end_value": 0.1}
    scheds = [
        ow.warmup_decay_schedule(1.0, 10, 100, **kw),
        ow.warmup_decay_schedule(1.0, 10, 100, dtype=jnp.bfloat16, **kw),
        ow.warmup_decay_schedule(1.0, 10, 100, dtype=jnp.float16, **kw),
        ow.warmup_decay_schedule(1.0, 10, 100, dtype=jnp.float64, **kw),  # x64 is off
    ]
    f32, bf16, f16, f64_off = evaluate_all(scheds, counts)
    assert f32.dtype == np.float32
    assert bf16.dtype == jnp.bfloat16
    assert f16.dtype == np.float16
    assert f64_off.dtype == np.float32
    want = ref.table(
        lambda c: ref.warmup(c, 1.0, 10) if c < 10 else ref.decay(c - 10, 1.0, 90, 0.1), counts
    )
    np.testing.assert_allclose(f32, want, rtol=2e-6)
    np.testing.assert_allclose(bf16.astype(np.float64), want, rtol=2**-8)  # rounded once
    np.testing.assert_allclose(f16.astype(np.float64), want, rtol=2**-11)
    np.testing.assert_array_equal(f64_off, f32)
    with jax.enable_x64(True):
        s64 = ow.warmup_decay_schedule(1.0, 10, 100, dtype=jnp.float64, **kw)
        s32 = ow.warmup_decay_schedule(1.0, 10, 100, **kw)
        v64, v32 = evaluate_all([s64, s32], counts)
        assert v64.dtype == np.float64
        assert v32.dtype == np.float32
        np.testing.assert_allclose(v64, want, rtol=1e-13)


def test_lengths_beyond_int32_without_x64_raise_naming_the_argument() -> None:
    big = 3_000_000_000
    cases = {
        "warmup_steps": lambda: ow.warmup_schedule(1.0, big),
        "total_steps": lambda: ow.warmup_decay_schedule(1.0, 10, big),
        "decay_steps": lambda: ow.linear_decay(1.0, big),
        "cycle_steps": lambda: ow.cosine_restarts(1.0, big),
        "boundaries": lambda: ow.join(
            [ow.constant_schedule(1.0), ow.constant_schedule(0.5)], [big]
        ),
        "at_step": lambda: ow.rewarmup(ow.linear_decay(1.0, 10), big, ow.linear_decay(1.0, 10), 5),
    }
    for name, build in cases.items():
        with pytest.raises(ValueError, match=f"{name}=3000000000 exceeds the int32 range"):
            build()
    # Phases that fit one by one but not in total.
    with pytest.raises(ValueError, match="phases span 2147483648 steps"):
        ow.from_arrays(np.asarray([2**30, 2**30]), np.ones(2), np.zeros(2))
