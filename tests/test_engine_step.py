"""The per-step path: boundaries built once, exact cycle starts, saturating counts, and
a train step whose compiled program is no larger than optax's.

Oracles: float64 formulas written here (timm's cycle arithmetic, transcribed from
timm 1.0.31 ``timm/scheduler/cosine_lr.py``, ``CosineLRScheduler._get_lr``) and
optax itself.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.compat import timm
from optax_warmup.engine import phases as engine
from optax_warmup.engine import shapes as _shapes

EV = jax.jit(lambda s, c: s(c))


def _timm_cosine(c: np.ndarray, t0: int, mul: float, limit: int) -> np.ndarray:
    """timm's cosine lr at updates ``c`` (peak 1, floor 0, no decay or warmup), float64.

    The cycle of an integer count is the last ``i`` whose real start
    ``B_i = (1 - mul**i) / (1 - mul) * t0`` (timm's expression) is at or before
    it; timm takes a floored logarithm, the same cycle up to its own rounding.
    """
    i_all = np.arange(limit + 1)
    begins = (1 - mul**i_all) / (1 - mul) * t0
    i = np.searchsorted(begins, c, side="right") - 1
    t_i = mul**i * t0
    t_curr = c - begins[i]
    value = 0.5 * (1 + np.cos(np.pi * t_curr / t_i))
    return np.where(i >= limit, 0.0, value)


@pytest.mark.parametrize("mul", [2.88, 1.37, 1.5, 2.0, 3.0])
def test_timm_cosine_restarts_land_on_whole_steps(mul: float) -> None:
    # Issue 12 fix 3: at cycle_mul=2.88, 51 of 60 t_initial values lost the restart at
    # count t_initial (the cycle start was 52.000004 in float32).
    counts = np.arange(0, 800)
    worst = 0.0
    for t0 in range(1, 61):
        s = timm.CosineLRScheduler(1.0, t_initial=t0, cycle_mul=mul, cycle_limit=3)
        got = np.asarray(EV(s, jnp.asarray(counts)), np.float64)
        want = _timm_cosine(counts, t0, mul, 3)
        worst = max(worst, float(np.max(np.abs(got - want))))
        # The first restart starts at the whole step t0: the peak, exactly.
        assert got[t0] == 1.0, (t0, mul, got[t0 - 1 : t0 + 2])
    assert worst < 2e-6, worst


def test_cycle_table_is_built_once_and_kept_by_joins() -> None:
    s = ow.cosine_restarts(1.0, 52, cycle_mul=2.88, num_cycles=3)
    assert isinstance(s, ow.PhaseSchedule)
    assert s.cycle_firsts.tolist() == [0, 52, 202, 634]
    joined = ow.join([ow.warmup_schedule(1.0, 10), s], [10])
    assert isinstance(joined, ow.PhaseSchedule)
    assert joined.cycle_firsts.tolist() == [0, 52, 202, 634]
    assert float(joined(10 + 52)) == 1.0
    # A traced cycle_mul has no table; the float path still restarts on whole mul.
    traced = jax.jit(lambda m: ow.cosine_restarts(1.0, 8, cycle_mul=m)(jnp.asarray([8, 24])))
    np.testing.assert_array_equal(np.asarray(traced(2.0)), [1.0, 1.0])


def test_boundaries_are_stored_leaves_and_follow_traced_spans() -> None:
    s = ow.from_arrays(
        np.asarray([3, 0, 4, 5]), np.asarray([0.0, 9.0, 1.0, 1.0]), np.asarray([1.0, 9.0, 0.0, 1.0])
    )
    assert s.bounds.tolist() == [3, 3, 7, 12]
    assert s.begins.tolist() == [0, 3, 3, 7]

    def values(spans: jax.Array) -> jax.Array:
        return ow.from_arrays(
            spans, np.asarray([0.0, 9.0, 1.0, 1.0]), np.asarray([1.0, 9.0, 0.0, 1.0])
        )(jnp.arange(14))

    np.testing.assert_allclose(
        np.asarray(jax.jit(values)(jnp.asarray([3, 0, 4, 5]))),
        np.asarray(s(jnp.arange(14))),
        rtol=1e-6,
    )
    # replace_arrays derives the boundaries again.
    r = engine.replace_arrays(s, spans=jnp.asarray([1, 1, 1, 1]))
    assert r.bounds.tolist() == [1, 2, 3, 4]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 30])
def test_few_and_many_phase_paths_agree_with_optax_join(n: int) -> None:
    pieces = [optax.linear_schedule(float(i % 2), float((i + 1) % 2), 10) for i in range(n)]
    theirs = optax.join_schedules(pieces, [10 * (i + 1) for i in range(n - 1)])
    ours = ow.join(
        [ow.linear_decay(float(i % 2), 10, end_value=float((i + 1) % 2)) for i in range(n)],
        [10 * (i + 1) for i in range(n - 1)],
    )
    counts = jnp.arange(-3, 10 * n + 5)
    np.testing.assert_allclose(np.asarray(ours(counts)), np.asarray(theirs(counts)), atol=2e-7)
    # Scalar calls (the per-step path) give the same values.
    scalar = jax.jit(lambda c: ours(c))
    for c in (0, 9, 10, 10 * n - 1, 10 * n + 3):
        assert float(scalar(jnp.int32(c))) == pytest.approx(float(np.asarray(theirs(c))), abs=2e-7)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    spans=st.lists(st.integers(1, 60), min_size=5, max_size=120)
    | st.lists(st.sampled_from([1, 1, 1, 997]), min_size=5, max_size=60),
    x64=st.booleans(),
)
def test_phase_lookup_is_searchsorted_for_any_spans(spans: list[int], x64: bool) -> None:
    """Bucket table (power-of-two buckets), binary search and compare-all: phase = searchsorted.

    Each phase holds its own index, so the value is the phase a count falls in; the
    oracle is NumPy's searchsorted over the boundaries. Scalar counts (the per-step
    path) go through ``lax.map``; skewed spans exercise the fallback to the search.
    """
    with jax.enable_x64(x64):
        n = len(spans)
        idx = np.arange(n, dtype=np.float32)
        s = engine.from_arrays(np.asarray(spans), idx, idx, kinds=_shapes.CONSTANT)
        bounds = np.cumsum(spans)
        counts = np.concatenate([np.arange(-2, int(bounds[-1]) + 3), bounds - 1, bounds])
        expected = np.minimum(np.searchsorted(bounds, counts, side="right"), n - 1)
        dt = jnp.int64 if x64 else jnp.int32
        scalar = jax.jit(lambda c: jax.lax.map(s, c))(jnp.asarray(counts, dt))
        np.testing.assert_array_equal(np.asarray(scalar), expected)
        np.testing.assert_array_equal(np.asarray(s(jnp.asarray(counts, dt))), expected)


_TRANSCENDENTAL = re.compile(r"= (pow|exp|log|log1p|expm1) ")


@pytest.mark.parametrize("power", [2.0, 3.0, 4.0])
def test_whole_powers_take_integer_powers_and_stay_exact(power: float) -> None:
    """A concrete whole exponent (2..4) uses multiplications, as optax's ``x**2`` does:
    no pow / exp / log in the program, and float64 values to 1e-6 near both ends."""
    n = 1000
    counts = np.array([0, 1, 2, 3, 500, n - 3, n - 2, n - 1, n, n + 5])
    q = 1 - np.minimum(counts, n) / n
    cases = {
        "decay": (ow.polynomial_schedule(1.0, 0.1, power, n), 0.1 + 0.9 * q**power),
        "warmup": (ow.polynomial_schedule(0.1, 1.0, power, n), 1.0 - 0.9 * q**power),
        "cosine": (
            ow.cosine_decay_schedule(1.0, n, alpha=0.0, exponent=power),
            (0.5 * (1 + np.cos(np.pi * (1 - q)))) ** power,
        ),
    }
    for name, (s, want) in cases.items():
        assert _TRANSCENDENTAL.findall(str(jax.make_jaxpr(s)(jnp.int32(7)))) == [], name
        got = np.asarray(EV(s, jnp.asarray(counts)), np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=name)
        # A traced exponent takes the general path: the same values.
        traced = jax.jit(lambda c, a: ow.polynomial_schedule(1.0, 0.1, a, n)(c))(
            jnp.asarray(counts), jnp.float32(power)
        )
        if name == "decay":
            np.testing.assert_allclose(np.asarray(traced), got, rtol=2e-6, atol=1e-7)
            general = jax.make_jaxpr(lambda a: ow.polynomial_schedule(1.0, 0.1, a, n)(7))
            assert _TRANSCENDENTAL.findall(str(general(jnp.float32(power))))  # the check can fail


def test_ends_exact_when_lengths_fold_to_reciprocals() -> None:
    # A closed-over schedule's lengths are constants; XLA divides by them as a product
    # with the reciprocal (41 * (1/41) < 1 in float32). The end value stays exact.
    for length in (41, 47, 55, 61, 82, 83, 97, 107):
        s = ow.warmup_decay_schedule(1.0, length, 3 * length, init_value=0.0, end_value=0.25)
        f = jax.jit(lambda c, s=s: s(c))
        assert float(f(jnp.int32(length))) == 1.0
        assert float(f(jnp.int32(3 * length))) == 0.25
        near = float(f(jnp.int32(length - 1)))
        assert near == pytest.approx((length - 1) / length, rel=1e-6)


# --- counts (issue 17) ---------------------------------------------------------


@pytest.mark.parametrize(
    "count",
    [
        np.int64(2**32 + 5),
        np.uint64(2**64 - 1),
        np.uint32(2**32 - 1),
        2**31,
        2**80,
        [2**70],
        np.asarray([2**40, 2**62]),
    ],
)
def test_integer_counts_saturate_instead_of_wrapping(count: Any) -> None:
    s = ow.warmup_schedule(1.0, 100)
    np.testing.assert_array_equal(np.asarray(s(count)), 1.0)


def test_negative_counts_of_any_size_are_count_zero() -> None:
    s = ow.warmup_schedule(1.0, 100, init_value=0.25)
    counts: list[Any] = [-(2**80), np.int64(-(2**40)), [-(2**70)]]
    for count in counts:
        np.testing.assert_array_equal(np.asarray(s(count)), 0.25)


def test_traced_duration_near_int32_limit_does_not_overflow() -> None:
    f = jax.jit(
        lambda b: ow.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5, transition_begin=b)(
            jnp.arange(12)
        )
    )
    got = np.asarray(f(jnp.int32(2**31 - 1)))
    np.testing.assert_allclose(got, np.r_[np.arange(11) / 10, 1.0], rtol=1e-6)


def test_traced_spans_saturate_their_sums() -> None:
    f = jax.jit(
        lambda spans: ow.from_arrays(
            spans, np.asarray([0.0, 1.0, 5.0]), np.asarray([1.0, 1.0, 5.0])
        )(jnp.asarray([0, 5, 10, 2**31 - 2]))
    )
    got = np.asarray(f(jnp.asarray([10, 2**31 - 1, 2**31 - 1], jnp.int32)))
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0, 1.0])


# --- the train step (structure, not timing) --------------------------------------


def _optimized_lines(lr: optax.ScalarOrSchedule, leaves: int) -> int:
    params = {f"w{i:04d}": jnp.zeros((64,), jnp.float32) for i in range(leaves)}
    opt = optax.adam(lr)

    def step(p: Any, s: Any, g: Any) -> Any:
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    compiled = jax.jit(step).lower(params, opt.init(params), params).compile()
    return len(str(compiled.as_text()).splitlines())


@pytest.mark.slow
@pytest.mark.parametrize("leaves", [16, 512])
def test_train_step_program_no_larger_than_optax(leaves: int) -> None:
    # XLA copies cheap scalar code into every per-leaf fusion; the schedule's value
    # is computed once instead, so the program grows with the leaves like a constant lr.
    ours = _optimized_lines(ow.warmup_decay_schedule(1e-3, 100, 10_000, init_value=0.0), leaves)
    theirs = _optimized_lines(optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 10_000), leaves)
    assert ours <= theirs + 150, (ours, theirs)
