"""Multiplicative schedule noise: determinism, bounds, distribution, range, tracing."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow

N = 20_000  # counts for the distribution checks (one jitted evaluation each)


EV = jax.jit(lambda s, c: s(c))  # one compile per schedule structure and count shape


def unit(key: int = 0, **kw: object) -> ow.NoisySchedule:
    """Noise around a constant 1, so ``value - 1`` is the noise itself."""
    return ow.with_noise(ow.constant_schedule(1.0), jax.random.key(key), **kw)  # type: ignore[arg-type]


def noise_values(s: ow.NoisySchedule, counts: np.ndarray) -> np.ndarray:
    return np.asarray(EV(s, jnp.asarray(counts)), np.float64) - 1.0


def truncated_normal_var(std: float, pct: float) -> float:
    """Variance of N(0, std^2) conditioned on |x| < pct (closed form)."""
    a = pct / std
    pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(a / math.sqrt(2))
    return std**2 * (1 - 2 * a * pdf / mass)


def test_same_count_same_value_in_any_evaluation() -> None:
    base = ow.warmup_decay_schedule(1.0, 10, 100)
    s = ow.with_noise(base, jax.random.key(3))
    counts = jnp.asarray([0, 1, 7, 7, 50, 99, 1000])
    batched = np.asarray(EV(s, counts))
    scalar = np.asarray([EV(s, c) for c in counts])
    rebuilt = np.asarray(EV(ow.with_noise(base, jax.random.key(3)), counts))
    np.testing.assert_array_equal(batched, scalar)
    np.testing.assert_array_equal(batched, rebuilt)
    assert batched[2] == batched[3]
    np.testing.assert_array_equal(np.asarray(EV(s, counts.reshape(7, 1)))[:, 0], batched)
    # The value is the base value times (1 + noise).
    want = np.asarray(EV(base, counts)) * (1 + np.asarray(jax.jit(s.noise)(counts)))
    np.testing.assert_allclose(batched, want, rtol=1e-6)
    # Another key, other values; the legacy uint32 keys work too.
    other = np.asarray(EV(ow.with_noise(base, jax.random.key(4)), counts))
    assert not np.allclose(other, batched)
    legacy = EV(ow.with_noise(base, jax.random.PRNGKey(3)), counts)
    assert np.all(np.isfinite(np.asarray(legacy)))


def test_counts_differ_and_negative_counts_are_count_zero() -> None:
    s = unit()
    v = noise_values(s, np.arange(-3, 200))
    assert np.all(v[:4] == v[3])  # -3..0 all count as 0
    assert len(np.unique(v[3:])) == 200


@pytest.mark.parametrize(("kind", "pct", "std"), [("normal", 0.67, 1.0), ("normal", 0.5, 0.2)])
def test_normal_noise_bounds_and_moments(kind: str, pct: float, std: float) -> None:
    v = noise_values(unit(1, kind=kind, pct=pct, std=std), np.arange(N))
    assert np.all(np.abs(v) < pct + 1e-6)
    var = truncated_normal_var(std, pct)
    assert abs(v.mean()) < 4 * math.sqrt(var / N)
    assert v.var() == pytest.approx(var, rel=0.05)
    # Symmetric, and not a degenerate sample.
    assert abs(np.mean(v > 0) - 0.5) < 0.02
    assert len(np.unique(v)) > N * 0.99


def test_normal_noise_matches_timm_rejection_sampler_in_distribution() -> None:
    """timm draws randn() until |noise| < noise_pct; compare quantiles with that sampler."""
    pct = 0.67
    rng = np.random.default_rng(0)
    draws = rng.standard_normal(4 * N)
    timm_like = draws[np.abs(draws) < pct][:N]
    ours = noise_values(unit(2, pct=pct), np.arange(N))
    qs = np.linspace(0.05, 0.95, 19)
    np.testing.assert_allclose(np.quantile(ours, qs), np.quantile(timm_like, qs), atol=0.025)


def test_uniform_noise_bounds_and_moments() -> None:
    pct = 0.3
    v = noise_values(unit(5, kind="uniform", pct=pct), np.arange(N))
    assert np.all(np.abs(v) <= pct + 1e-6)
    assert v.min() < -0.95 * pct
    assert v.max() > 0.95 * pct
    assert abs(v.mean()) < 4 * pct / math.sqrt(3 * N)
    assert v.var() == pytest.approx(pct**2 / 3, rel=0.05)
    hist, _ = np.histogram(v, bins=10, range=(-pct, pct))
    np.testing.assert_allclose(hist / N, 0.1, atol=0.015)


def test_noise_only_inside_its_range() -> None:
    base = ow.cosine_decay(2.0, 50)
    counts = jnp.arange(-2, 40)
    c = np.asarray(counts)
    want = np.asarray(EV(base, counts))
    got = np.asarray(EV(ow.with_noise(base, jax.random.key(0), start_step=10, end_step=20), counts))
    outside = (c < 10) | (c >= 20)
    np.testing.assert_array_equal(got[outside], want[outside])
    assert np.all(got[~outside] != want[~outside])
    # start_step only: noise forever after.
    s = ow.with_noise(2.0, jax.random.key(0), start_step=10)
    got = np.asarray(EV(s, jnp.asarray([0, 9, 10, 10**6, 2**31 - 1])))
    np.testing.assert_array_equal(got[:2], [2.0, 2.0])
    assert np.all(got[2:] != 2.0)


def test_noise_composes_with_any_schedule_and_keeps_its_dtype() -> None:
    s = ow.with_noise(lambda c: 0.5 * jnp.ones_like(c, jnp.float32), jax.random.key(1), pct=0.2)
    assert abs(float(EV(s, 3)) - 0.5) < 0.1
    bf = ow.with_noise(ow.warmup_schedule(1.0, 10, dtype=jnp.bfloat16), jax.random.key(1))
    assert EV(bf, jnp.arange(4)).dtype == jnp.bfloat16
    nested = ow.multiply(ow.warmup_factor(4), ow.with_noise(1.0, jax.random.key(1)))
    assert np.all(np.isfinite(np.asarray(EV(nested, jnp.arange(10)))))


def test_noise_under_vmap_and_jit_traces_once() -> None:
    traces = 0

    def f(key: jax.Array, pct: jax.Array, std: jax.Array, start: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        s = ow.with_noise(ow.constant_schedule(1.0), key, pct=pct, std=std, start_step=start)
        return s(jnp.arange(32))

    jf = jax.jit(f)
    outs = [
        jf(jax.random.key(i), jnp.float32(0.1 * i), jnp.float32(1.0), jnp.int32(i))
        for i in range(5)
    ]
    assert traces == 1
    for i, out in enumerate(outs):
        v = np.asarray(out) - 1
        assert np.all(v[:i] == 0)
        assert np.all(np.abs(v[i:]) < 0.1 * i + 1e-6)
    # vmap over keys, pct and std agrees with one schedule per value.
    pcts = jnp.asarray([0.1, 0.3, 0.6])
    keys = jax.random.split(jax.random.key(9), 3)
    stds = jnp.asarray([0.5, 1.0, 2.0])
    batched = jax.jit(jax.vmap(lambda k, p, sd: f(k, p, sd, jnp.int32(0))))(keys, pcts, stds)
    for i in range(3):
        one = ow.with_noise(1.0, keys[i], pct=float(pcts[i]), std=float(stds[i]))
        np.testing.assert_allclose(
            np.asarray(batched[i]), np.asarray(EV(one, jnp.arange(32))), rtol=1e-6
        )
    # vmap over counts agrees with the batched evaluation.
    s = unit(0, pct=0.2)
    per_count = jax.jit(jax.vmap(s))(jnp.arange(5))
    np.testing.assert_allclose(np.asarray(per_count), np.asarray(EV(s, jnp.arange(5))), rtol=1e-6)


def test_traced_parameters_are_clamped() -> None:
    f = jax.jit(lambda p, sd: ow.with_noise(1.0, jax.random.key(0), pct=p, std=sd)(jnp.arange(100)))
    for p, sd in [(-1.0, 1.0), (0.0, 1.0), (0.5, 0.0), (0.5, -2.0), (0.5, 1e-30), (3.0, 1e6)]:
        v = np.asarray(f(jnp.float32(p), jnp.float32(sd))) - 1
        assert np.all(np.isfinite(v))
        assert np.all(np.abs(v) <= min(max(p, 0.0), 1.0) + 1e-6)


def test_grad_flows_through_the_base_schedule() -> None:
    key = jax.random.key(2)
    counts = jnp.asarray([0, 4, 20])

    def value(peak: jax.Array, c: jax.Array) -> jax.Array:
        return ow.with_noise(ow.warmup_schedule(peak, 10), key)(c)

    g = np.asarray(jax.jit(jax.vmap(jax.grad(value), in_axes=(None, 0)))(2.0, counts))
    n = np.asarray(jax.jit(ow.with_noise(1.0, key).noise)(counts))
    np.testing.assert_allclose(g, (1 + n) * np.minimum((np.asarray(counts) + 1) / 10, 1), rtol=1e-6)


def test_large_counts_under_x64() -> None:
    v32 = float(EV(unit(4), 5))
    with jax.enable_x64(True):
        counts = jnp.asarray([5, 2**32 + 5, 2**40], jnp.int64)
        v = np.asarray(jax.jit(lambda s, c: s(c))(unit(4), counts))
        assert v[0] == v32  # the same noise at the same count with or without x64
        assert len(np.unique(v)) == 3  # the high bits of a count change the draw


def test_bad_arguments_raise() -> None:
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="kind"):
        ow.with_noise(1.0, key, kind="gauss")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pct"):
        ow.with_noise(1.0, key, pct=1.5)
    with pytest.raises(ValueError, match="pct"):
        ow.with_noise(1.0, key, pct=float("nan"))
    with pytest.raises(ValueError, match="std"):
        ow.with_noise(1.0, key, std=0.0)
    with pytest.raises(ValueError, match="start_step"):
        ow.with_noise(1.0, key, start_step=-1)
    with pytest.raises(ValueError, match="end_step"):
        ow.with_noise(1.0, key, start_step=10, end_step=5)
    with pytest.raises(ValueError, match="end_step"):
        ow.with_noise(1.0, key, end_step=2.5)
    with pytest.raises(ValueError, match="key"):
        ow.with_noise(1.0, 0)  # type: ignore[arg-type]
