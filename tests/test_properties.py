"""Hypothesis properties of warmups, decays, WSD and cycles for random hyperparameters.

Each property jits one evaluator whose hyperparameters are traced, so every
example reuses a single compilation (and exercises the traced code path).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow

SETTINGS = settings(max_examples=25, deadline=None)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
WARMUP_SHAPES = ("linear", "cosine", "polynomial", "exponential", "1-sqrt")
DECAY_SHAPES = ("linear", "cosine", "polynomial", "1-sqrt", "exponential", "tanh")
NUM_COUNTS = 48

durations = st.integers(0, 10**6)
values = st.floats(1e-6, 1e3)
random_counts = st.lists(st.integers(0, 4 * 10**6), min_size=16, max_size=16)


def counts_around(marks: list[int], extra: list[int]) -> np.ndarray:
    """Sorted counts: extremes, negatives, a neighbourhood of each mark, random ones."""
    c = [INT32_MIN, -7, -1, 0, 1, 2, INT32_MAX, INT32_MAX - 1, *extra]
    for m in marks:
        c += [m - 2, m - 1, m, m + 1, m + 2]
    c = sorted(min(max(x, INT32_MIN), INT32_MAX) for x in c)
    c += [INT32_MAX] * (NUM_COUNTS - len(c))  # a fixed shape: one compilation
    return np.asarray(sorted(c[:NUM_COUNTS]), np.int32)


def tol(*scale: float) -> float:
    return 2e-6 * max(abs(x) for x in scale)


def assert_monotone(v: np.ndarray, direction: float, atol: float) -> None:
    d = np.diff(v, axis=-1) * np.sign(direction)
    assert np.all(d >= -atol), d.min()


@jax.jit
def _warmups(peak: jax.Array, w: jax.Array, c: jax.Array) -> jax.Array:
    return jnp.stack([ow.warmup_schedule(peak, w, shape=sh)(c) for sh in WARMUP_SHAPES])


@jax.jit
def _warmups_init(peak: jax.Array, init: jax.Array, w: jax.Array, c: jax.Array) -> jax.Array:
    return jnp.stack(
        [ow.warmup_schedule(peak, w, shape=sh, init_value=init)(c) for sh in WARMUP_SHAPES]
    )


@SETTINGS
@given(peak=values, w=durations, extra=random_counts)
def test_warmup_no_waste_bounded_monotone_peak_at_w_minus_1(
    peak: float, w: int, extra: list[int]
) -> None:
    c = counts_around([w], extra)
    v = np.asarray(_warmups(jnp.float32(peak), jnp.int32(w), jnp.asarray(c)), np.float64)
    assert np.all(np.isfinite(v))
    assert np.all(v > 0), "the first update must not be wasted"
    assert np.all(v <= peak + tol(peak))
    assert_monotone(v, 1.0, tol(peak))
    at_peak = c >= w - 1
    np.testing.assert_allclose(v[:, at_peak], peak, rtol=2e-6)
    if w > 1:  # the linear warmup is below the peak before W - 1
        assert np.all(v[0, c == w - 2] < peak)


@SETTINGS
@given(peak=values, init=st.floats(0.0, 1e3), w=durations, extra=random_counts)
def test_warmup_with_init_bounded_monotone_init_at_0_peak_at_w(
    peak: float, init: float, w: int, extra: list[int]
) -> None:
    c = counts_around([w], extra)
    args = (jnp.float32(peak), jnp.float32(init), jnp.int32(w), jnp.asarray(c))
    v = np.asarray(_warmups_init(*args), np.float64)
    lo, hi = min(init, peak), max(init, peak)
    assert np.all(np.isfinite(v))
    assert np.all((v >= lo - tol(hi)) & (v <= hi + tol(hi)))
    assert_monotone(v, peak - init, tol(hi))
    np.testing.assert_allclose(v[:, c >= w], peak, rtol=2e-6)
    if w > 0:
        np.testing.assert_allclose(v[:, c <= 0], init, rtol=2e-6, atol=1e-30)


@jax.jit
def _decays(init: jax.Array, end: jax.Array, d: jax.Array, c: jax.Array) -> jax.Array:
    return jnp.stack(
        [ow.decay_schedule(init, d, shape=sh, end_value=end)(c) for sh in DECAY_SHAPES]
    )


@SETTINGS
@given(init=values, end_frac=st.floats(0.0, 1.0), d=durations.filter(bool), extra=random_counts)
def test_decays_bounded_monotone_init_at_0_end_at_d(
    init: float, end_frac: float, d: int, extra: list[int]
) -> None:
    end = float(np.float32(init * end_frac))
    c = counts_around([d], extra)
    v = np.asarray(_decays(jnp.float32(init), jnp.float32(end), jnp.int32(d), jnp.asarray(c)))
    v = v.astype(np.float64)
    assert np.all(np.isfinite(v))
    assert np.all((v >= end - tol(init)) & (v <= init + tol(init)))
    assert_monotone(v, -1.0, tol(init))
    np.testing.assert_allclose(v[:-1, c <= 0], init, rtol=2e-6)  # tanh starts a hair below
    np.testing.assert_allclose(v[:, c >= d], end, rtol=2e-6, atol=1e-30)


@jax.jit
def _wsd(peak, end, total, w, d, c):
    return jnp.stack(
        [
            ow.warmup_stable_decay(peak, total, w, decay_steps=d, decay_shape=sh, end_value=end)(c)
            for sh in ("linear", "cosine", "1-sqrt", "exponential")
        ]
    )


@SETTINGS
@given(
    peak=values,
    end_frac=st.floats(0.0, 1.0),
    w=durations,
    stable=durations,
    d=durations,
    extra=random_counts,
)
def test_wsd_finite_bounded_and_phases_where_documented(
    peak: float, end_frac: float, w: int, stable: int, d: int, extra: list[int]
) -> None:
    end = float(np.float32(peak * end_frac))
    total = w + stable + d
    c = counts_around([w, w + stable, total], extra)
    f32, i32 = jnp.float32, jnp.int32
    v = _wsd(f32(peak), f32(end), i32(total), i32(w), i32(d), jnp.asarray(c))
    v = np.asarray(v, np.float64)
    assert np.all(np.isfinite(v))
    assert np.all((v >= -tol(peak)) & (v <= peak + tol(peak)))
    t = np.maximum(c, 0)  # negative counts count as 0
    stable_part = (t >= w - 1) & (t <= w + stable) & (t < total)
    np.testing.assert_allclose(v[:, stable_part], peak, rtol=2e-6)
    np.testing.assert_allclose(v[:, t >= total], end, rtol=2e-6, atol=1e-30)
    assert_monotone(v[:, c >= w - 1], -1.0, tol(peak))  # non-increasing after the warmup


@jax.jit
def _restarts(peak, cycle, w, ratio, mul, decay, limit, c):
    return ow.cosine_restarts(
        peak,
        cycle,
        warmup_steps=w,
        end_ratio=ratio,
        cycle_mul=mul,
        cycle_decay=decay,
        num_cycles=limit,
    )(c)


@SETTINGS
@given(
    peak=values,
    cycle=st.integers(1, 10**5),
    w_frac=st.floats(0.0, 1.0),
    ratio=st.floats(0.0, 1.0),
    mul=st.one_of(st.just(1.0), st.floats(1.0, 4.0)),
    decay=st.floats(0.0, 1.0),
    limit=st.integers(1, 10**6),
    extra=random_counts,
)
def test_restarts_finite_and_bounded(
    peak: float,
    cycle: int,
    w_frac: float,
    ratio: float,
    mul: float,
    decay: float,
    limit: int,
    extra: list[int],
) -> None:
    w = int(w_frac * cycle)
    c = counts_around([w, cycle, 2 * cycle], extra)
    f32, i32 = jnp.float32, jnp.int32
    v = _restarts(
        f32(peak), i32(cycle), i32(w), f32(ratio), f32(mul), f32(decay), i32(limit), jnp.asarray(c)
    )
    v = np.asarray(v, np.float64)
    assert np.all(np.isfinite(v))
    assert np.all((v >= -tol(peak)) & (v <= peak + tol(peak)))
    # The first cycle reaches the peak at the end of its warmup (W - 1, or 0 without warmup).
    np.testing.assert_allclose(v[c == max(w - 1, 0)], peak, rtol=2e-6)


@jax.jit
def _one_cycle_and_noam(peak, total, pct, div, dim, w, c):
    oc = ow.one_cycle(peak, total, pct_start=pct, div_factor=div)(c)
    noam = ow.noam_schedule(dim, w)(c)
    return oc, noam


@SETTINGS
@given(
    peak=values,
    total=st.integers(2, 10**6),
    pct=st.floats(0.05, 0.95),
    div=st.floats(1.0, 1e3),
    dim=st.floats(1.0, 1e4),
    w=st.integers(1, 10**5),
    extra=random_counts,
)
def test_one_cycle_and_noam_finite_and_bounded(
    peak: float, total: int, pct: float, div: float, dim: float, w: int, extra: list[int]
) -> None:
    c = counts_around([int(pct * total), total, w], extra)
    args = (jnp.float32(peak), jnp.int32(total), jnp.float32(pct), jnp.float32(div))
    oc, noam = _one_cycle_and_noam(*args, jnp.float32(dim), jnp.int32(w), jnp.asarray(c))
    oc, noam = np.asarray(oc, np.float64), np.asarray(noam, np.float64)
    assert np.all(np.isfinite(oc))
    assert np.all(np.isfinite(noam))
    assert np.all((oc > 0) & (oc <= peak + tol(peak)))
    noam_peak = dim**-0.5 * w**-0.5
    assert np.all((noam > 0) & (noam <= noam_peak * (1 + 2e-6)))
    np.testing.assert_allclose(noam[c == w - 1], noam_peak, rtol=2e-6)
