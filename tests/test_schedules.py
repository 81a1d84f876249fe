"""Golden values for warmups, decays and composites, from tests/reference.py."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow
from tests import reference as ref

COUNTS = np.arange(-3, 60)


def values(schedule: Any, counts: Any = COUNTS) -> np.ndarray:
    return np.asarray(schedule(jnp.asarray(counts)), dtype=np.float64)


@pytest.mark.parametrize("shape", ["linear", "cosine", "polynomial", "exponential", "1-sqrt"])
@pytest.mark.parametrize("init", [None, 0.0, 0.1])
def test_warmup_shapes_golden(shape: str, init: float | None, rtol: float) -> None:
    s = ow.warmup_schedule(2.0, 20, shape=shape, init_value=init)
    want = ref.table(lambda c: ref.warmup(max(c, 0), 2.0, 20, shape, init), COUNTS)
    np.testing.assert_allclose(values(s), want, rtol=rtol, atol=1e-7)


def test_constant_warmup_holds_then_jumps() -> None:
    s = ow.warmup_schedule(1.0, 5, shape="constant", init_value=0.1)
    np.testing.assert_allclose(values(s, range(8)), [0.1] * 5 + [1.0] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match="init_value"):
        ow.warmup_schedule(1.0, 5, shape="constant")


def test_shape_parameters_golden(rtol: float) -> None:
    s = ow.warmup_schedule(1.0, 10, shape=ow.shapes.polynomial(3.0))
    want = ref.table(lambda c: ref.warmup(c, 1.0, 10, "polynomial", power=3.0), range(12))
    np.testing.assert_allclose(values(s, range(12)), want, rtol=rtol)
    s = ow.warmup_schedule(1.0, 10, shape=ow.shapes.exponential(rate=2.0))
    want = ref.table(lambda c: ref.warmup(c, 1.0, 10, "exponential", rate=2.0), range(12))
    np.testing.assert_allclose(values(s, range(12)), want, rtol=rtol)
    s = ow.warmup_schedule(1.0, 10, shape=ow.shapes.exponential(time_constant=3.0))
    want = [1 - np.exp(-(c + 1) / 3.0) if c < 10 else 1.0 for c in range(12)]
    np.testing.assert_allclose(values(s, range(12)), want, rtol=rtol)


def test_custom_shape() -> None:
    s = ow.warmup_schedule(1.0, 4, shape=lambda p: p**3, init_value=0.0)
    np.testing.assert_allclose(values(s, range(5)), [0, 1 / 64, 8 / 64, 27 / 64, 1], rtol=1e-6)


def test_first_update_is_not_zero_by_default() -> None:
    for shape in ["linear", "cosine", "polynomial", "exponential", "1-sqrt"]:
        assert float(ow.warmup_schedule(1e-3, 1000, shape=shape)(0)) > 0


def test_zero_warmup_is_peak_from_the_start() -> None:
    for init in [None, 0.0]:
        s = ow.warmup_schedule(0.5, 0, init_value=init)
        np.testing.assert_array_equal(values(s, range(3)), [0.5, 0.5, 0.5])


@pytest.mark.parametrize("shape", ["linear", "cosine", "polynomial", "1-sqrt", "exponential"])
def test_decays_golden(shape: str, rtol: float) -> None:
    s = ow.decay_schedule(2.0, 30, shape=shape, end_value=0.2)
    want = ref.table(lambda c: ref.decay(max(c, 0), 2.0, 30, 0.2, shape, power=2.0), COUNTS)
    np.testing.assert_allclose(values(s), want, rtol=rtol, atol=1e-7)


def test_named_decays(rtol: float) -> None:
    cases = [
        (ow.linear_decay(1.0, 10, end_ratio=0.1), lambda c: ref.decay(c, 1.0, 10, 0.1, "linear")),
        (
            ow.cosine_decay(1.0, 10, exponent=2.0),
            lambda c: ref.decay(c, 1.0, 10, 0.0, "cosine", exponent=2.0),
        ),
        (
            ow.polynomial_decay(1.0, 10, power=2.0, end_value=0.5),
            lambda c: ref.decay(c, 1.0, 10, 0.5, "polynomial", power=2.0),
        ),
        (ow.one_minus_sqrt_decay(1.0, 10), lambda c: ref.decay(c, 1.0, 10, 0.0, "1-sqrt")),
        (ow.inverse_sqrt_decay(1.0, 7, shift=3), lambda c: math_inv_sqrt(c, 7, 3)),
        (
            ow.tanh_decay(1.0, 10, end_value=0.1),
            lambda c: (
                0.1 if c >= 10 else 0.1 + 0.9 * 0.5 * (1 - np.tanh(-7 * (1 - c / 10) + 3 * c / 10))
            ),
        ),
    ]
    for s, fn in cases:
        np.testing.assert_allclose(values(s, range(15)), ref.table(fn, range(15)), rtol=rtol)


def math_inv_sqrt(c: int, tau: float, shift: int) -> float:
    return float(np.sqrt(tau / (c + shift + tau)))


def test_piecewise_constant() -> None:
    s = ow.piecewise_constant([3, 3, 5], [1.0, 9.0, 0.5, 0.25])
    np.testing.assert_allclose(values(s, range(-1, 8)), [1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.25])
    with pytest.raises(ValueError, match="sorted"):
        ow.piecewise_constant([5, 3], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one fewer"):
        ow.piecewise_constant([5], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt", "exponential"])
def test_wsd_golden(shape: str, rtol: float) -> None:
    s = ow.warmup_stable_decay(1.0, 50, 10, decay_steps=15, decay_shape=shape, end_value=0.01)
    want = ref.table(lambda c: ref.wsd(max(c, 0), 1.0, 50, 10, 15, 0.01, shape), COUNTS)
    np.testing.assert_allclose(values(s), want, rtol=rtol, atol=1e-7)


def test_wsd_decay_fraction_matches_steps() -> None:
    a = ow.warmup_stable_decay(1.0, 100, 10, decay_fraction=0.2)
    b = ow.warmup_stable_decay(1.0, 100, 10, decay_steps=20)
    np.testing.assert_array_equal(values(a, range(110)), values(b, range(110)))
    with pytest.raises(ValueError, match="exactly one"):
        ow.warmup_stable_decay(1.0, 100, 10)
    with pytest.raises(ValueError, match="exceed total_steps"):
        ow.warmup_stable_decay(1.0, 100, 60, decay_steps=50)


def test_noam_golden(rtol: float) -> None:
    s = ow.noam_schedule(512, 40)
    want = ref.table(lambda c: ref.noam(max(c, 0), 512, 40), COUNTS)
    np.testing.assert_allclose(values(s), want, rtol=rtol)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize(("total", "pct"), [(100, 0.3), (37, 0.25), (10, 0.5)])
def test_one_cycle_matches_torch(
    anneal: str, three_phase: bool, total: int, pct: float, rtol: float
) -> None:
    s = ow.one_cycle(0.1, total, pct_start=pct, anneal=anneal, three_phase=three_phase)  # type: ignore[arg-type]
    counts = range(total)
    want = ref.table(
        lambda k: ref.one_cycle_torch(k, 0.1, total, pct, 25.0, 1e4, anneal, three_phase), counts
    )
    np.testing.assert_allclose(values(s, counts), want, rtol=max(rtol, 1e-5), atol=1e-9)


@pytest.mark.parametrize(
    ("mul", "decay_", "limit"), [(1.0, 1.0, None), (1.0, 0.5, 3), (2.0, 0.7, None), (1.5, 1.0, 4)]
)
def test_cosine_restarts_golden(mul: float, decay_: float, limit: int | None, rtol: float) -> None:
    s = ow.cosine_restarts(
        1.0, 10, end_value=0.05, cycle_mul=mul, cycle_decay=decay_, num_cycles=limit
    )
    counts = range(200)
    want = ref.table(lambda c: ref.sgdr(c, 1.0, 10, mul, decay_, 0.05, limit), counts)
    np.testing.assert_allclose(values(s, counts), want, rtol=max(rtol, 2e-5), atol=1e-6)


def test_restarts_with_warmup_in_every_cycle() -> None:
    s = ow.cosine_restarts(1.0, 10, warmup_steps=4, cycle_decay=0.5)
    v = values(s, range(30))
    np.testing.assert_allclose(v[[0, 3, 4]], [0.25, 1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(v[[10, 13, 14]], [0.125, 0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(v[[20, 23]], [0.0625, 0.25], rtol=1e-6)


def test_add_warmup_conventions(rtol: float) -> None:
    main = ow.cosine_decay(1.0, 40, end_value=0.1)
    main_ref = lambda c: ref.decay(c, 1.0, 40, 0.1, "cosine")  # noqa: E731
    counts = range(60)
    prefix = ow.add_warmup(main, 10)
    want = ref.table(lambda c: ref.warmup(c, 1.0, 10) if c < 10 else main_ref(c - 10), counts)
    np.testing.assert_allclose(values(prefix, counts), want, rtol=rtol)
    cont = ow.add_warmup(main, 10, mode="continuous")
    target = main_ref(10)
    want = ref.table(lambda c: ref.warmup(c, target, 10) if c < 10 else main_ref(c), counts)
    np.testing.assert_allclose(values(cont, counts), want, rtol=rtol)
    # Continuous: no drop at the end of warmup.
    assert abs(float(cont(9)) - float(cont(10))) < 0.02
    mult = ow.add_warmup(main, 10, mode="multiply")
    want = ref.table(lambda c: ref.warmup(c, 1.0, 10) * main_ref(c), counts)
    np.testing.assert_allclose(values(mult, counts), want, rtol=rtol)
    for s in (prefix, cont):
        assert isinstance(s, ow.PhaseSchedule)


def test_add_warmup_over_a_user_function_and_a_constant(rtol: float) -> None:
    s = ow.add_warmup(lambda c: 0.5 * jnp.ones_like(c, jnp.float32), 4)
    np.testing.assert_allclose(values(s, range(6)), [0.125, 0.25, 0.375, 0.5, 0.5, 0.5], rtol=rtol)
    s = ow.add_warmup(0.5, 4, init_value=0.0)
    np.testing.assert_allclose(values(s, range(6)), [0, 0.125, 0.25, 0.375, 0.5, 0.5], rtol=rtol)


def test_rewarmup(rtol: float) -> None:
    old = ow.cosine_decay(1.0, 100, end_value=0.1)
    new = ow.cosine_decay(0.5, 50, end_value=0.05)
    s = ow.rewarmup(old, 60, new, 10)
    v60 = ref.decay(60, 1.0, 100, 0.1, "cosine")
    want = ref.table(
        lambda c: (
            ref.decay(c, 1.0, 100, 0.1, "cosine")
            if c < 60
            else (
                ref.warmup(c - 60, 0.5, 10, init=v60)
                if c < 70
                else ref.decay(c - 70, 0.5, 50, 0.05, "cosine")
            )
        ),
        range(150),
    )
    np.testing.assert_allclose(values(s, range(150)), want, rtol=rtol)
    assert float(s(60)) == pytest.approx(v60, rel=1e-6)


def test_join_merges_library_schedules_and_accepts_functions() -> None:
    a, b = ow.linear_decay(1.0, 10), ow.constant_schedule(0.3)
    s = ow.join([a, b, lambda c: jnp.float32(0.7)], [5, 8])
    assert isinstance(s, ow.JoinedSchedule)
    np.testing.assert_allclose(
        values(s, range(10)), [1, 0.9, 0.8, 0.7, 0.6, 0.3, 0.3, 0.3, 0.7, 0.7], rtol=1e-6
    )
    merged = ow.join([a, b, a], [5, 8])
    assert isinstance(merged, ow.PhaseSchedule)
    np.testing.assert_allclose(
        values(merged, range(10)), [1, 0.9, 0.8, 0.7, 0.6, 0.3, 0.3, 0.3, 1, 0.9], rtol=1e-6
    )
    with pytest.raises(ValueError, match="sorted"):
        ow.join([a, b, a], [8, 5])
    with pytest.raises(ValueError, match="one fewer"):
        ow.join([a, b], [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        ow.join([a, b], [-1])


def test_durations() -> None:
    assert int(ow.steps_from_fraction(0.1, 1000)) == 100
    assert int(ow.steps_from_epochs(2.5, 100)) == 250
    with pytest.raises(ValueError, match="fraction"):
        ow.steps_from_fraction(1.5, 1000)
    with pytest.raises(ValueError, match="whole number of steps"):
        ow.warmup_schedule(1.0, 0.1)


def test_traced_degenerate_factors_stay_finite() -> None:
    import jax

    noam = jax.jit(lambda d: ow.noam_schedule(d, 10)(jnp.arange(20)))
    assert np.all(np.isfinite(np.asarray(noam(jnp.float32(0.0)))))
    cycle = jax.jit(
        lambda f: ow.one_cycle(1.0, 20, div_factor=f, final_div_factor=f)(jnp.arange(25))
    )
    assert np.all(np.isfinite(np.asarray(cycle(jnp.float32(0.0)))))
