"""Horizon tools: stretch, extend, branch_cooldown, delay, against float64 formulas."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow

COUNTS = np.arange(0, 420)
_EVAL = jax.jit(lambda s, c: s(c))


def values(s, counts=COUNTS) -> np.ndarray:
    return np.asarray(_EVAL(s, jnp.asarray(counts)), np.float64)


def warmup_cosine_f64(c: np.ndarray, peak: float, warm: float, total: float) -> np.ndarray:
    """Library convention: warmup (c + 1) / W (no wasted update), then cosine to 0 at T."""
    c = np.asarray(c, np.float64)
    up = peak * np.minimum((c + 1) / warm, 1.0)
    p = np.clip((c - warm) / (total - warm), 0, 1)
    down = peak * 0.5 * (1 + np.cos(np.pi * p))
    return np.where(c < warm, up, down)


@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.3, 2.0, 3.7])
def test_stretch_warmup_is_a_longer_warmup(ratio: float) -> None:
    s = ow.warmup_schedule(2.0, 40)
    want = ow.warmup_schedule(2.0, round(40 * ratio))
    np.testing.assert_array_equal(values(ow.stretch(s, ratio)), values(want))


@pytest.mark.parametrize("ratio", [0.5, 1.5, 2.0, 2.5])
def test_stretch_whole_schedule_against_formula(ratio: float) -> None:
    s = ow.warmup_decay_schedule(1.0, 20, 120)
    got = values(ow.stretch(s, ratio))
    want = warmup_cosine_f64(COUNTS, 1.0, round(20 * ratio), round(120 * ratio))
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


@pytest.mark.parametrize("ratio", [0.5, 1.5, 2.0])
def test_stretch_keeps_the_warmup_when_asked(ratio: float) -> None:
    s = ow.warmup_decay_schedule(1.0, 20, 120)
    got = values(ow.stretch(s, ratio, warmup=False))
    want = warmup_cosine_f64(COUNTS, 1.0, 20, 20 + round(100 * ratio))
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


def test_stretch_scales_time_constants() -> None:
    # inverse sqrt with tau = 50 steps: stretched by 2, tau becomes 100 steps.
    s = ow.inverse_sqrt_decay(1.0, 50)
    got = values(ow.stretch(s, 2.0))
    want = values(ow.inverse_sqrt_decay(1.0, 100))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_stretch_cyclic() -> None:
    s = ow.cosine_restarts(1.0, 30, num_cycles=3)
    got = values(ow.stretch(s, 2.0))
    want = values(ow.cosine_restarts(1.0, 60, num_cycles=3))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("at", "new_total"), [(50, 300), (70, 200), (119, 400), (0, 240)])
def test_extend_against_time_warp_formula(at: int, new_total: int) -> None:
    peak, warm, total = 1.0, 20, 120
    s = ow.warmup_decay_schedule(peak, warm, total)
    got = values(ow.extend(s, new_total, at=at))
    r = (new_total - at) / (total - at)
    x = np.where(at > COUNTS, COUNTS, at + (COUNTS - at) / r)
    # An exact time warp of the continuous formula (offsets included).
    want = np.where(x < warm, peak * np.minimum((x + 1) / warm, 1), 0.0)
    p = np.clip((x - warm) / (total - warm), 0, 1)
    want = np.where(x < warm, want, peak * 0.5 * (1 + np.cos(np.pi * p)))
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    # No jump: the value at `at` is the original value there.
    orig = values(s)
    assert abs(got[at] - orig[at]) <= 1e-6
    np.testing.assert_array_equal(got[:at], orig[:at])
    assert got[new_total] == pytest.approx(0.0, abs=1e-7)
    assert got[new_total - 1] > 0


def test_extend_differs_from_rebuilding() -> None:
    # Rebuilding a cosine with a longer total jumps back up; extend does not.
    s = ow.warmup_decay_schedule(1.0, 20, 120)
    rebuilt = values(ow.warmup_decay_schedule(1.0, 20, 300))
    ext = values(ow.extend(s, 300, at=100))
    assert rebuilt[100] - values(s)[99] > 0.2
    assert abs(ext[100] - values(s)[99]) < 0.01


def test_extend_errors() -> None:
    s = ow.linear_decay(1.0, 10)
    with pytest.raises(ValueError, match="at=10 is past"):
        ow.extend(s, 20, at=10)
    with pytest.raises(ValueError, match="new_total must exceed at"):
        ow.extend(s, 5, at=5)
    with pytest.raises(ValueError, match="without cycles"):
        ow.extend(ow.cosine_restarts(1.0, 10), 20, at=5)
    with pytest.raises(ValueError, match="phase schedules"):
        ow.extend(lambda c: c, 20, at=5)
    with pytest.raises(ValueError, match="ratio must lie"):
        ow.stretch(s, 0.0)


@pytest.mark.parametrize("shape", ["1-sqrt", "linear", "cosine"])
def test_branch_cooldown_is_wsd(shape: str) -> None:
    peak, warm, at, length = 3e-4, 20, 150, 60
    stable = ow.warmup_schedule(peak, warm)  # warmup, then the peak forever
    got = values(ow.branch_cooldown(stable, at, length, shape=shape))
    want = ow.warmup_stable_decay(peak, at + length, warm, decay_steps=length, decay_shape=shape)
    np.testing.assert_allclose(got, values(want), rtol=0, atol=1e-12)


def test_branch_cooldown_one_minus_sqrt_formula() -> None:
    s = ow.warmup_decay_schedule(1.0, 20, 300)
    at, length = 100, 80
    got = values(ow.branch_cooldown(s, at, length, end_ratio=0.1))
    v0 = warmup_cosine_f64(np.asarray(at), 1.0, 20, 300)
    p = np.clip((COUNTS - at) / length, 0, 1)
    cool = v0 + (0.1 * v0 - v0) * np.sqrt(p)
    want = np.where(at > COUNTS, warmup_cosine_f64(COUNTS, 1.0, 20, 300), cool)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)


def test_delay() -> None:
    s = ow.delay(ow.warmup_decay_schedule(1.0, 20, 120), 30)
    want = np.where(COUNTS < 30, 0.0, warmup_cosine_f64(COUNTS - 30, 1.0, 20, 120))
    np.testing.assert_allclose(values(s), want, rtol=0, atol=2e-6)
    held = ow.delay(ow.constant_schedule(1.0), 5, value=0.5)
    assert values(held, np.arange(7)).tolist() == [0.5] * 5 + [1.0] * 2


def test_phase_count_stays_small() -> None:
    s = ow.warmup_decay_schedule(1.0, 20, 120)
    assert ow.stretch(s, 2.0).num_phases == s.num_phases
    assert ow.extend(s, 300, at=50).num_phases == s.num_phases + 1
    big = ow.join([ow.linear_decay(1.0, 10)] * 500, [10 * i for i in range(1, 500)])
    assert ow.extend(big, 8000, at=2500).num_phases <= big.num_phases + 1


def test_traced_arguments_jit_and_vmap() -> None:
    s = ow.warmup_decay_schedule(1.0, 20, 120)
    counts = jnp.asarray(COUNTS)

    @jax.jit
    def stretched(r):
        return ow.stretch(s, r)(counts)

    ratios = jnp.asarray([0.5, 1.5, 2.0])
    batch = jax.vmap(stretched)(ratios)
    for i, r in enumerate([0.5, 1.5, 2.0]):
        np.testing.assert_allclose(batch[i], values(ow.stretch(s, r)), rtol=0, atol=1e-6)

    @jax.jit
    def extended(at, new_total):
        return ow.extend(s, new_total, at=at)(counts)

    np.testing.assert_allclose(
        extended(jnp.asarray(50), jnp.asarray(300)),
        values(ow.extend(s, 300, at=50)),
        rtol=0,
        atol=1e-6,
    )
    branch = jax.jit(lambda at: ow.branch_cooldown(s, at, 40)(counts))
    np.testing.assert_allclose(
        jax.vmap(branch)(jnp.asarray([60, 90]))[1],
        values(ow.branch_cooldown(s, 90, 40)),
        rtol=0,
        atol=1e-7,
    )
    delayed = jax.jit(lambda d: ow.delay(s, d)(counts))
    np.testing.assert_allclose(delayed(jnp.asarray(30)), values(ow.delay(s, 30)), atol=1e-7)
    warm_kept = jax.jit(lambda r: ow.stretch(s, r, warmup=False)(counts))
    np.testing.assert_allclose(
        warm_kept(jnp.asarray(2.0)), values(ow.stretch(s, 2.0, warmup=False)), atol=1e-6
    )
    assert math.isfinite(float(jnp.sum(batch)))
