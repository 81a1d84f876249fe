"""Traced hyperparameters: one trace for many values, vmap, pytree schedules, grad, O(1) jaxprs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import optax_warmup as ow
from tests import reference as ref
from tests.jaxpr_size import num_equations

COUNTS = jnp.arange(-2, 70)
EV = jax.jit(lambda s, c: s(c))


def test_one_trace_for_100_hyperparameter_arrays() -> None:
    traces = 0

    def f(hp: dict[str, jax.Array], c: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        wd = ow.warmup_decay_schedule(hp["peak"], hp["warmup"], hp["total"], end_ratio=hp["ratio"])
        wsd = ow.warmup_stable_decay(hp["peak"], hp["total"], hp["warmup"], decay_steps=hp["decay"])
        cr = ow.cosine_restarts(
            hp["peak"], hp["cycle"], cycle_mul=hp["mul"], cycle_decay=hp["cdecay"]
        )
        return jnp.stack([wd(c), wsd(c), cr(c)])

    jf = jax.jit(f)
    rng = np.random.default_rng(0)
    outs = []
    for _ in range(100):
        w = int(rng.integers(0, 20))
        hp = {
            "peak": jnp.float32(rng.uniform(0.1, 2)),
            "warmup": jnp.int32(w),
            "total": jnp.int32(w + rng.integers(10, 40)),
            "decay": jnp.int32(rng.integers(0, 10)),
            "ratio": jnp.float32(rng.uniform(0, 0.5)),
            "cycle": jnp.int32(rng.integers(1, 30)),
            "mul": jnp.float32(rng.uniform(1, 3)),
            "cdecay": jnp.float32(rng.uniform(0, 1)),
        }
        outs.append((hp, jf(hp, COUNTS)))
    assert traces == 1
    # The values follow the hyperparameters (spot-check two calls against the formulas).
    for hp, out in outs[:2]:
        pk, w, total = float(hp["peak"]), int(hp["warmup"]), int(hp["total"])
        end = pk * float(hp["ratio"])
        want = ref.table(
            lambda c, pk=pk, w=w, total=total, end=end: (
                ref.warmup(c, pk, w) if c < w else ref.decay(c - w, pk, total - w, end)
            ),
            np.maximum(np.asarray(COUNTS), 0),
        )
        np.testing.assert_allclose(np.asarray(out[0]), want, rtol=1e-5, atol=1e-6)


# Each case: a builder taking one hyperparameter, and three values for it.
SWEEPS: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
    "warmup_steps": (lambda w: ow.warmup_decay_schedule(1.0, w, 60), [0, 7, 30]),
    "peak_value": (lambda p: ow.warmup_decay_schedule(p, 10, 60), [0.0, 0.5, 3.0]),
    "init_value": (lambda i: ow.warmup_schedule(1.0, 10, init_value=i), [0.0, 0.2, 2.0]),
    "decay_steps": (
        lambda d: ow.warmup_stable_decay(1.0, 60, 5, decay_steps=d, decay_shape="1-sqrt"),
        [0, 20, 55],
    ),
    "cycle_steps": (lambda n: ow.cosine_restarts(1.0, n, end_ratio=0.1), [1, 3, 17]),
    "cycle_mul": (lambda m: ow.cosine_restarts(1.0, 5, cycle_mul=m), [1.0, 1.5, 3.0]),
    "cycle_decay": (lambda d: ow.cosine_restarts(1.0, 5, cycle_decay=d), [0.0, 0.5, 1.0]),
    "num_cycles": (lambda n: ow.cosine_restarts(1.0, 7, num_cycles=n, end_value=0.1), [1, 2, 5]),
    "end_ratio": (lambda r: ow.cosine_decay(2.0, 40, end_ratio=r), [0.0, 0.1, 1.0]),
    "pct_start": (lambda p: ow.one_cycle(1.0, 50, pct_start=p), [0.1, 0.3, 0.5]),
    "boundary": (
        lambda b: ow.join([ow.linear_decay(1.0, 30), ow.constant_schedule(0.2)], [b]),
        [0, 10, 40],
    ),
    "continuous_warmup": (
        lambda w: ow.add_warmup(ow.cosine_decay(1.0, 50), w, mode="continuous"),
        [0, 5, 20],
    ),
}


def test_vmap_over_each_hyperparameter_matches_scalar_calls() -> None:
    xs = {
        name: jnp.asarray(vals, jnp.float32 if isinstance(vals[0], float) else jnp.int32)
        for name, (_, vals) in SWEEPS.items()
    }

    def values(x: dict[str, jax.Array]) -> dict[str, jax.Array]:
        return {name: SWEEPS[name][0](x[name])(COUNTS) for name in SWEEPS}

    batched = jax.jit(jax.vmap(values))(xs)
    scalar = jax.jit(values)  # one call per value, hyperparameters scalar
    for i in range(3):
        one = scalar({name: x[i] for name, x in xs.items()})
        for name in SWEEPS:
            np.testing.assert_allclose(
                np.asarray(batched[name][i]), np.asarray(one[name]), rtol=2e-6, atol=1e-7
            )


def test_vmap_over_counts_and_schedules_as_pytree_arguments() -> None:
    s = ow.cosine_restarts(1.0, 9, warmup_steps=3, cycle_mul=1.5, cycle_decay=0.8)
    per_count = np.asarray(jax.jit(jax.vmap(s))(COUNTS))
    loop = np.asarray([float(EV(s, c)) for c in np.asarray(COUNTS)[::7]])
    np.testing.assert_allclose(per_count[::7], loop, rtol=2e-6)
    # A schedule through jit as an argument: new values of the same structure, no retrace.
    traces = 0

    def f(sched: ow.PhaseSchedule, c: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return sched(c)

    jf = jax.jit(f)
    for peak in (1.0, 2.0, 3.0):
        s2 = ow.cosine_restarts(peak, 9, warmup_steps=3, cycle_mul=1.5, cycle_decay=0.8)
        np.testing.assert_allclose(np.asarray(jf(s2, COUNTS)), peak * per_count, rtol=2e-6)
    assert traces == 1
    # A batch of schedules (built under vmap) through vmap as an argument.
    peaks = jnp.asarray([0.5, 1.0, 2.0])
    batch = jax.vmap(
        lambda p: ow.cosine_restarts(p, 9, warmup_steps=3, cycle_mul=1.5, cycle_decay=0.8)
    )(peaks)
    out = jax.jit(jax.vmap(f, in_axes=(0, None)))(batch, COUNTS)
    np.testing.assert_allclose(np.asarray(out), np.asarray(peaks)[:, None] * per_count, rtol=2e-6)
    # Product and generic-join nodes are pytrees too; jax.jit(schedule) works directly.
    prod = ow.multiply(ow.warmup_factor(5), ow.cosine_decay(1.0, 50))
    joined = ow.join([ow.linear_decay(1.0, 10), lambda c: jnp.float32(0.5)], [5])
    both = jax.jit(lambda pair, c: (pair[0](c), pair[1](c)))((prod, joined), COUNTS)
    c = np.maximum(np.asarray(COUNTS), 0)
    want_prod = np.minimum((c + 1) / 5, 1) * 0.5 * (1 + np.cos(np.pi * np.minimum(c, 50) / 50))
    np.testing.assert_allclose(np.asarray(both[0]), want_prod, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(both[1]), np.where(c < 5, 1 - c / 10, 0.5), rtol=2e-6)
    np.testing.assert_allclose(np.asarray(jax.jit(s)(COUNTS)), per_count, rtol=2e-6)


def test_grad_through_peak_init_end_matches_analytic() -> None:
    w, total = 10, 50
    counts = jnp.asarray([0, 3, 9, 10, 11, 30, 49, 50, 80])
    c = np.asarray(counts)

    def lin(peak: jax.Array, end: jax.Array, cc: jax.Array) -> jax.Array:
        sched = ow.warmup_decay_schedule(peak, w, total, decay_shape="linear", end_value=end)
        return sched(cc)

    def cos_ratio(peak: jax.Array, ratio: jax.Array, cc: jax.Array) -> jax.Array:
        return ow.warmup_decay_schedule(peak, w, total, end_ratio=ratio)(cc)

    def warm_init(init: jax.Array, cc: jax.Array) -> jax.Array:
        return ow.warmup_schedule(1.0, w, init_value=init, shape="cosine")(cc)

    @jax.jit
    def grads(cc: jax.Array) -> tuple[jax.Array, ...]:
        g_lin = jax.vmap(jax.grad(lin, argnums=(0, 1)), in_axes=(None, None, 0))(2.0, 0.1, cc)
        g_cos = jax.vmap(jax.grad(cos_ratio, argnums=(0, 1)), in_axes=(None, None, 0))(2.0, 0.1, cc)
        g_init = jax.vmap(jax.grad(warm_init), in_axes=(None, 0))(0.2, cc)
        return (*g_lin, *g_cos, g_init)

    g = [np.asarray(x) for x in grads(counts)]
    p = np.clip((c - w) / (total - w), 0, 1)
    half = 0.5 * (1 + np.cos(np.pi * p))
    want = [
        np.where(c < w, (c + 1) / w, 1 - p),  # d lin / d peak
        np.where(c < w, 0.0, p),  # d lin / d end
        np.where(c < w, (c + 1) / w, 0.1 + 0.9 * half),  # d cos / d peak (end = 0.1 peak)
        np.where(c < w, 0.0, 2.0 * (1 - half)),  # d cos / d end_ratio
        np.where(c < w, 0.5 * (1 + np.cos(np.pi * np.minimum(c, w) / w)), 0.0),  # d / d init
    ]
    for got, exp in zip(g, want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-6)


GRAD_CASES: dict[str, tuple[Callable[[Any], Any], float]] = {
    "wsd end_ratio": (
        lambda x: ow.warmup_stable_decay(1.0, 40, 5, decay_steps=10, end_ratio=x),
        0.1,
    ),
    "init": (lambda x: ow.warmup_schedule(1.0, 5, init_value=x, shape="exponential"), 0.0),
    "restarts peak": (lambda x: ow.cosine_restarts(x, 7, warmup_steps=2), 1.0),
    "restarts cycle_mul=1": (lambda x: ow.cosine_restarts(1.0, 7, cycle_mul=x), 1.0),
    "restarts cycle_mul=2": (lambda x: ow.cosine_restarts(1.0, 7, cycle_mul=x), 2.0),
    "restarts cycle_decay=0": (lambda x: ow.cosine_restarts(1.0, 7, cycle_decay=x), 0.0),
    "polynomial power": (lambda x: ow.polynomial_decay(1.0, 9, power=x), 2.0),
    "warmup power": (lambda x: ow.warmup_schedule(1.0, 9, shape=ow.shapes.polynomial(x)), 0.5),
    "cosine exponent": (lambda x: ow.cosine_decay(1.0, 9, exponent=x), 1.0),
    "exp rate 0": (lambda x: ow.warmup_schedule(1.0, 9, shape=ow.shapes.exponential(x)), 0.0),
    "geometric end 0": (lambda x: ow.decay_schedule(1.0, 9, shape="exponential", end_value=x), 0.0),
    "one_cycle peak": (lambda x: ow.one_cycle(x, 20), 1.0),
    "noam dim": (lambda x: ow.noam_schedule(x, 4), 64.0),
    "zero-length phases": (lambda x: ow.warmup_decay_schedule(x, 0, 0), 1.0),
}


def test_grad_is_finite_at_phase_boundaries() -> None:
    counts = jnp.asarray([-1, 0, 1, 4, 5, 6, 7, 8, 9, 10, 14, 20, 21, 34, 35, 39, 40, 2**31 - 1])

    @jax.jit
    def grads(cc: jax.Array) -> dict[str, jax.Array]:
        return {
            name: jax.vmap(jax.grad(lambda x, c, b=build: b(x)(c)), in_axes=(None, 0))(x0, cc)
            for name, (build, x0) in GRAD_CASES.items()
        }

    for name, g in grads(counts).items():
        assert np.all(np.isfinite(np.asarray(g))), (name, np.asarray(g))


def evaluation_size(schedule: Any) -> int:
    """Equations traced when evaluating ``schedule`` passed as an argument."""
    return num_equations(jax.make_jaxpr(lambda s, c: s(c))(schedule, jnp.int32(5)).jaxpr)


def _linear_pieces(n: int) -> ow.PhaseSchedule:
    """``n`` linear phases of 10 steps each (vectorised construction), then a hold."""
    starts = 1.0 - np.arange(n) / (2 * n)
    return ow.from_arrays(
        np.r_[np.full(n, 10), 0], np.r_[starts, 0.0], np.r_[starts - 0.5 / n, 0.0]
    )


def test_evaluation_size_does_not_grow_with_phases_or_cycles() -> None:
    # Up to a few phases the engine compares and selects; beyond, a binary search
    # (unrolled inside one searchsorted): the traced program no longer grows.
    assert evaluation_size(_linear_pieces(1000)) == evaluation_size(_linear_pieces(10))
    many = ow.piecewise_constant(jnp.arange(1, 1000), jnp.linspace(1, 0, 1000))
    few = ow.piecewise_constant([5, 6, 7, 8, 9], [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])
    assert evaluation_size(many) == evaluation_size(few)
    pieces = [ow.linear_decay(1.0 - i / 200, 10) for i in range(100)]
    joined = ow.join(pieces, list(range(10, 1000, 10)))
    assert isinstance(joined, ow.PhaseSchedule)
    assert joined.num_phases == 200
    assert evaluation_size(joined) == evaluation_size(ow.join(pieces[:5], [10, 20, 30, 40]))
    for m in (1.0, 2.0, 2.88):
        sizes = {
            evaluation_size(ow.cosine_restarts(1.0, 10, num_cycles=n, cycle_mul=m))
            for n in (5, 1000, None)
        }
        assert len(sizes) == 1, (m, sizes)
    # The 1000-phase schedule still evaluates correctly at a late phase.
    c = 10 * 777 + 3
    want = (1 - 777 / 2000) - (0.5 / 1000) * 0.3
    assert math.isclose(float(EV(_linear_pieces(1000), c)), want, rel_tol=2e-6)
