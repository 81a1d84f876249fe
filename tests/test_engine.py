"""Engine behaviour: continuity, zero-length phases, traced clamping, bad concrete inputs."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow
from tests import reference as ref

COUNTS = jnp.arange(-2, 80)


def evaluate_all(schedules: Any, counts: Any = COUNTS) -> list[np.ndarray]:
    """Evaluate a tuple of schedules in one jitted call (one compilation)."""
    out = jax.jit(lambda ss, c: [s(c) for s in ss])(tuple(schedules), jnp.asarray(counts))
    return [np.asarray(x, np.float64) for x in out]


def test_continuity_where_promised() -> None:
    main = ow.cosine_decay(1.0, 60, end_value=0.1)
    main_at = lambda c: ref.decay(c, 1.0, 60, 0.1, "cosine")  # noqa: E731
    w = 10
    old, new = ow.cosine_decay(1.0, 100, end_value=0.1), ow.linear_decay(0.5, 20)
    scheds = [
        ow.add_warmup(main, w, mode="continuous"),
        ow.add_warmup(main, w, mode="continuous", init_value=0.0),
        ow.rewarmup(old, 30, new, 5),
        ow.warmup_stable_decay(1.0, 60, w, decay_steps=20, end_value=0.01),
        ow.warmup_decay_schedule(1.0, w, 60, end_value=0.01),
        ow.one_cycle(1.0, 40, pct_start=0.25, three_phase=True),
    ]
    cont, cont_init, rew, wsd, wd, oc = evaluate_all(scheds, jnp.arange(80))
    # Continuous warmup: aims at main(W), reached at W - 1 (no waste) or W (init_value).
    assert cont[w - 1] == pytest.approx(main_at(w), rel=1e-6)
    assert cont[w] == pytest.approx(main_at(w), rel=1e-6)
    np.testing.assert_allclose(cont[w:60], [main_at(c) for c in range(w, 60)], rtol=2e-6)
    assert cont_init[0] == 0.0
    assert cont_init[w] == pytest.approx(main_at(w), rel=1e-6)
    assert cont_init[w - 1] == pytest.approx(main_at(w) * (w - 1) / w, rel=1e-6)
    # Rewarmup: starts from the old schedule's value at its step, reaches the new peak.
    v30 = ref.decay(30, 1.0, 100, 0.1, "cosine")
    assert rew[30] == pytest.approx(v30, rel=1e-6)
    assert rew[29] == pytest.approx(ref.decay(29, 1.0, 100, 0.1, "cosine"), rel=1e-6)
    np.testing.assert_allclose(rew[30:36], v30 + (0.5 - v30) * np.arange(6) / 5, rtol=2e-6)
    # WSD and warmup-decay: peak from W - 1 on, no jump between phases.
    np.testing.assert_allclose(wsd[w - 1 : 41], 1.0)
    assert wsd[41] == pytest.approx(1.0 - 0.99 / 20, rel=1e-6)
    assert wsd[59] == pytest.approx(0.01 + 0.99 / 20, rel=1e-6)
    np.testing.assert_allclose(wsd[60:], 0.01, rtol=1e-6)
    assert wd[w - 1] == wd[w] == 1.0
    # Largest step-to-step change stays one step's worth (no drops at phase joins).
    assert np.max(np.abs(np.diff(wsd[w - 1 :]))) <= 0.99 / 20 * (1 + 1e-5)
    assert np.max(np.abs(np.diff(cont))) <= main_at(w) / w * (1 + 1e-5)
    # One-cycle (three-phase): the torch marks fall between steps; the curve is continuous.
    assert np.max(np.abs(np.diff(oc[:39]))) < 0.2


def test_zero_length_phases_are_skipped() -> None:
    scheds = [
        ow.warmup_decay_schedule(1.0, 0, 20, decay_shape="linear"),  # no warmup
        ow.warmup_decay_schedule(1.0, 10, 10, end_value=0.1),  # no decay
        ow.warmup_stable_decay(1.0, 30, 10, decay_steps=20, decay_shape="linear"),  # no stable
        ow.warmup_stable_decay(1.0, 30, 0, decay_steps=0, end_value=0.2),  # stable only
        ow.join(
            [ow.constant_schedule(1.0), ow.constant_schedule(2.0), ow.constant_schedule(3.0)],
            [5, 5],
        ),
        ow.cosine_restarts(1.0, 4, warmup_steps=4),  # cycles of warmup only
        ow.warmup_schedule(1.0, 0, init_value=0.0),
    ]
    nw, nd, ns, only_stable, joined, all_warm, zero = evaluate_all(scheds)
    c = np.maximum(np.asarray(COUNTS), 0)
    np.testing.assert_allclose(nw, np.maximum(1 - c / 20, 0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(nd, np.where(c < 10, (c + 1) / 10, 0.1), rtol=1e-6)
    want_ns = np.where(c < 10, (c + 1) / 10, np.maximum(1 - (c - 10) / 20, 0))
    np.testing.assert_allclose(ns, want_ns, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(only_stable, np.where(c < 30, 1.0, 0.2), rtol=1e-6)
    np.testing.assert_allclose(joined, np.where(c < 5, 1.0, 3.0))
    np.testing.assert_allclose(all_warm, (c % 4 + 1) / 4, rtol=1e-6)
    np.testing.assert_allclose(zero, 1.0)
    for v in (nw, nd, ns, only_stable, joined, all_warm, zero):
        assert np.all(np.isfinite(v))


def test_traced_negative_or_fractional_lengths_are_rounded_and_clamped() -> None:
    """Traced durations cannot raise: they are rounded to whole steps and clamped at 0."""

    def build(w: Any, d: Any, total: Any, cycle: Any, b: Any, at: Any) -> list[Any]:
        return [
            ow.warmup_schedule(1.0, w),
            ow.warmup_decay_schedule(1.0, w, total),
            ow.warmup_stable_decay(1.0, total, w, decay_steps=d),
            ow.cosine_restarts(1.0, cycle, warmup_steps=w),
            ow.join([ow.linear_decay(1.0, 40), ow.constant_schedule(0.3)], [b]),
            ow.rewarmup(ow.linear_decay(1.0, 40), at, ow.constant_schedule(0.5), w),
            ow.piecewise_constant(jnp.stack([b, jnp.full_like(b, 15)]), [1.0, 0.5, 0.25]),
            ow.with_noise(ow.linear_decay(1.0, total), jax.random.key(0), end_step=d),
        ]

    def values(*args: Any) -> list[jax.Array]:
        return [s(COUNTS) for s in build(*args)]

    args = jnp.asarray([[-5, -3, -10, -4, -7, -2], [4.6, 2.4, 20.2, 6.5, 9.7, 3.2]], jnp.float32)
    both = jax.jit(jax.vmap(lambda a: values(*a)))(args)
    neg, frac = [x[0] for x in both], [x[1] for x in both]
    # The same schedules from the clamped / rounded concrete values. A cycle clamped
    # to 0 steps (which raises when concrete) skips all its phases: the end value.
    np.testing.assert_array_equal(np.asarray(neg[3]), 0.0)
    refs = evaluate_all([*build(0, 0, 0, 1, 0, 0), *build(5, 2, 20, 6, 10, 3)])
    neg_ref, frac_ref = refs[:8], refs[8:]
    neg[3] = neg_ref[3]
    for got, want in zip([*neg, *frac], [*neg_ref, *frac_ref], strict=True):
        assert np.all(np.isfinite(np.asarray(got)))
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-6, atol=1e-7)
    # Traced unsorted join boundaries: a running maximum shortens the middle piece to 0.
    unsorted = jax.jit(
        lambda b: ow.join([ow.constant_schedule(x) for x in (1.0, 2.0, 3.0)], b)(COUNTS)
    )(jnp.asarray([7, 3]))
    c = np.asarray(COUNTS)
    np.testing.assert_allclose(np.asarray(unsorted), np.where(c < 7, 1.0, 3.0))


BAD_INPUTS: dict[str, tuple[str, Callable[[], Any]]] = {
    "negative warmup": ("warmup_steps", lambda: ow.warmup_schedule(1.0, -1)),
    "negative decay": ("decay_steps", lambda: ow.cosine_decay(1.0, -10)),
    "negative total": ("total_steps", lambda: ow.warmup_decay_schedule(1.0, 0, -5)),
    "warmup > total": ("total_steps", lambda: ow.warmup_decay_schedule(1.0, 20, 10)),
    "wsd too long": (
        "exceed total_steps",
        lambda: ow.warmup_stable_decay(1.0, 10, 6, decay_steps=5),
    ),
    "negative cycle": ("cycle_steps", lambda: ow.cosine_restarts(1.0, -3)),
    "zero cycle": ("cycle_steps", lambda: ow.cosine_restarts(1.0, 0)),
    "warmup > cycle": ("cycle_steps", lambda: ow.cosine_restarts(1.0, 5, warmup_steps=6)),
    "zero num_cycles": ("num_cycles", lambda: ow.cosine_restarts(1.0, 5, num_cycles=0)),
    "cycle_mul < 1": ("cycle_mul", lambda: ow.cosine_restarts(1.0, 5, cycle_mul=0.5)),
    "negative cycle_decay": ("cycle_decay", lambda: ow.cosine_restarts(1.0, 5, cycle_decay=-0.1)),
    "negative at_step": (
        "at_step",
        lambda: ow.rewarmup(ow.linear_decay(1.0, 9), -1, ow.linear_decay(1.0, 9), 2),
    ),
    "negative boundary": ("boundaries", lambda: ow.piecewise_constant([-1], [1.0, 0.5])),
    "nan peak": ("peak_value", lambda: ow.warmup_schedule(float("nan"), 10)),
    "inf peak": ("peak_value", lambda: ow.warmup_decay_schedule(float("inf"), 1, 10)),
    "nan init": ("init_value", lambda: ow.cosine_decay(float("nan"), 10)),
    "inf warmup init": ("init_value", lambda: ow.warmup_schedule(1.0, 5, init_value=math.inf)),
    "nan end": ("end_value", lambda: ow.linear_decay(1.0, 10, end_value=float("nan"))),
    "inf end_ratio": ("end_ratio", lambda: ow.cosine_decay(1.0, 10, end_ratio=math.inf)),
    "both ends": (
        "end_value or end_ratio",
        lambda: ow.cosine_decay(1.0, 9, end_value=0, end_ratio=0),
    ),
    "nan constant": ("value", lambda: ow.constant_schedule(float("nan"))),
    "nan piecewise": ("values", lambda: ow.piecewise_constant([2], [1.0, float("nan")])),
    "array with nan": ("peak_value", lambda: ow.warmup_schedule(jnp.asarray([1.0, jnp.nan]), 5)),
    "unknown shape": ("shape", lambda: ow.warmup_schedule(1.0, 10, shape="cosin")),
    "unknown decay_shape": (
        "decay_shape",
        lambda: ow.warmup_decay_schedule(1.0, 1, 10, decay_shape="step"),
    ),
    "unknown warmup_shape": (
        "warmup_shape",
        lambda: ow.warmup_stable_decay(1.0, 10, 2, decay_steps=2, warmup_shape="lin"),
    ),
    "unknown mode": ("mode", lambda: ow.add_warmup(1.0, 5, mode="before")),  # type: ignore[arg-type]
    "unknown anneal": ("anneal", lambda: ow.one_cycle(1.0, 10, anneal="cosine")),  # type: ignore[arg-type]
    "fractional warmup": ("warmup_steps", lambda: ow.warmup_schedule(1.0, 0.1)),
    "fractional total": ("total_steps", lambda: ow.warmup_decay_schedule(1.0, 1, 99.5)),
    "fractional decay": ("decay_steps", lambda: ow.linear_decay(1.0, 2.5)),
    "fractional boundary": ("boundaries", lambda: ow.piecewise_constant([2.5], [1.0, 0.5])),
    "nan duration": ("warmup_steps", lambda: ow.warmup_schedule(1.0, float("nan"))),
    "unsorted boundaries": ("sorted", lambda: ow.piecewise_constant([5, 2], [1.0, 0.5, 0.1])),
    "unsorted join": (
        "sorted",
        lambda: ow.join([ow.constant_schedule(x) for x in (1.0, 2.0, 3.0)], [9, 3]),
    ),
    "too many boundaries": (
        "boundaries",
        lambda: ow.join([ow.constant_schedule(1.0), ow.constant_schedule(2.0)], [3, 4]),
    ),
    "pct_start 1": ("pct_start", lambda: ow.one_cycle(1.0, 10, pct_start=1.0)),
    "zero timescale": ("timescale", lambda: ow.inverse_sqrt_decay(1.0, 0.0)),
    "zero warmup noam": ("warmup_steps", lambda: ow.noam_schedule(512, 0)),
    "negative power": ("power", lambda: ow.polynomial_decay(1.0, 10, power=-1.0)),
    "integer dtype": ("dtype", lambda: ow.warmup_schedule(1.0, 5, dtype=jnp.int32)),
    "fraction > 1": ("fraction", lambda: ow.steps_from_fraction(1.5, 100)),
    "not a schedule": ("schedules\\[1\\]", lambda: ow.join([1.0, "x"], [3])),  # type: ignore[list-item]
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_concrete_inputs_raise_naming_the_argument(case: str) -> None:
    name, build = BAD_INPUTS[case]
    with pytest.raises(ValueError, match=name):
        build()


def test_progress_warp_is_static_only_when_the_parameters_say_so() -> None:
    from optax_warmup.engine import shapes as _shapes

    plain = ow.cosine_decay(1.0, 10)
    assert not plain.warped
    warped_shape = _shapes.ResolvedShape(_shapes.COSINE, (1.0, 0.0, 0.0, 2.0))
    warped = ow.from_phases([ow.Phase(10, 1.0, 0.0, warped_shape)])
    assert warped.warped
    # k-decay: progress p -> p**2 before the cosine.
    want = [0.5 * (1 + np.cos(np.pi * (c / 10) ** 2)) for c in range(11)]
    np.testing.assert_allclose(np.asarray(warped(jnp.arange(11))), want, rtol=1e-5, atol=1e-7)
    joined = ow.join([plain, warped], [5])
    assert isinstance(joined, ow.PhaseSchedule)
    assert joined.warped
    # Parameters traced at construction keep the warp (it may apply).
    traced = jax.jit(
        lambda d: ow.from_arrays(
            jnp.array([10]),
            1.0,
            0.0,
            params=jnp.array([1.0, 0.0, 0.0, 1.0]) * jnp.array([1.0, 1.0, 1.0, d]),
            kinds=_shapes.COSINE,
        )(3)
    )
    np.testing.assert_allclose(float(traced(2.0)), 0.5 * (1 + np.cos(np.pi * 0.09)), rtol=1e-5)
