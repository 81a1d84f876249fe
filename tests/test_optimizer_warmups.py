"""Warmups tied to Adam's b2 and the effective warmup period, against float64 references."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow

COUNTS = np.asarray([0, 1, 2, 5, 10, 48, 49, 50, 98, 99, 100, 198, 199, 200, 999, 1998, 1999, 5000])


def lin_ref(c: int, b2: float) -> float:
    return min(1.0, (1 - b2) * (c + 1) / 2)


def exp_ref(c: int, b2: float) -> float:
    return 1 - math.exp(-(1 - b2) * (c + 1))


def rho_ref(t: int, b2: float) -> tuple[float, float]:
    rho_inf = 2 / (1 - b2) - 1
    return rho_inf - 2 * t * b2**t / (1 - b2**t), rho_inf


def radam_ref(c: int, b2: float, threshold: float) -> float:
    """pytorch_warmup's convention: count c evaluates r at t0 + c, t0 the first defined t."""
    t0 = next(t for t in range(1, 100_000) if rho_ref(t, b2)[0] > threshold)
    rho, rho_inf = rho_ref(t0 + c, b2)
    return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))


def f32(x: float) -> float:
    """The float32 value a b2 is stored as (the references use it, to test the formula)."""
    return float(np.float32(x))


def values(schedule: ow.PhaseSchedule, counts: np.ndarray = COUNTS) -> np.ndarray:
    return np.asarray(jax.jit(schedule.__call__)(jnp.asarray(counts)), np.float64)


@pytest.mark.parametrize("b2", [0.98, 0.99, 0.999])
def test_untuned_golden(b2: float, rtol: float) -> None:
    np.testing.assert_allclose(
        values(ow.untuned_linear_warmup(b2)), [lin_ref(c, b2) for c in COUNTS], rtol=rtol
    )
    np.testing.assert_allclose(
        values(ow.untuned_exponential_warmup(b2)), [exp_ref(c, b2) for c in COUNTS], rtol=4 * rtol
    )


def test_untuned_linear_period_is_exact() -> None:
    # pytorch_warmup truncates int(2 / (1 - 0.99)) to 199; the exact period is 200.
    w = values(ow.untuned_linear_warmup(0.99), np.asarray([0, 198, 199, 200]))
    np.testing.assert_allclose(w, [0.005, 0.995, 1.0, 1.0], rtol=1e-6)
    # A period that is not a whole number: 2 / (1 - 0.997) = 666.67 steps.
    w = values(ow.untuned_linear_warmup(0.997), np.asarray([665, 666, 667]))
    np.testing.assert_allclose(w, [666 / (2 / 0.003), 1.0, 1.0], rtol=1e-5)


@pytest.mark.parametrize("b2", [0.9, 0.98, 0.999, 0.9999])
@pytest.mark.parametrize("threshold", [4.0, 5.0])
def test_radam_golden(b2: float, threshold: float) -> None:
    want = [radam_ref(int(c), b2, threshold) for c in COUNTS]
    np.testing.assert_allclose(values(ow.radam_warmup(b2, threshold)), want, rtol=2e-6)


def test_radam_first_update_not_zero() -> None:
    w = values(ow.radam_warmup(0.999), np.asarray([0]))
    assert 0.02 < w[0] < 0.03  # r_6 at b2 = 0.999: about 0.0258


@pytest.mark.parametrize(
    ("b2", "linear", "radam4", "radam5"),
    [
        (0.98, 49.5, 51.300, 50.377),
        (0.99, 99.5, 102.863, 101.917),
        (0.999, 999.5, 1029.325, 1028.342),
    ],
)
def test_effective_warmup_periods(b2: float, linear: float, radam4: float, radam5: float) -> None:
    period = ow.effective_warmup_period
    assert float(period(ow.untuned_linear_warmup(b2))) == pytest.approx(linear, rel=1e-6)
    exact_exp = 1 / math.expm1(1 - b2)  # sum_t exp(-(1 - b2) t)
    assert float(period(ow.untuned_exponential_warmup(b2))) == pytest.approx(exact_exp, rel=1e-5)
    assert float(period(ow.radam_warmup(b2, 4.0))) == pytest.approx(radam4, rel=3e-5)
    assert float(period(ow.radam_warmup(b2))) == pytest.approx(radam5, rel=3e-5)


def test_effective_warmup_period_fixed_steps_and_arrays() -> None:
    assert float(ow.effective_warmup_period(ow.warmup_factor(10), 10)) == pytest.approx(4.5)
    assert float(ow.effective_warmup_period(ow.warmup_factor(10), 5)) == pytest.approx(3.5)
    assert float(ow.effective_warmup_period(lambda c: jnp.minimum(1.0, c / 4), 100)) == 2.5
    assert float(ow.effective_warmup_period(jnp.asarray([0.25, 0.5, 1.0]))) == 1.25
    # A fixed number of steps over a factor that has not converged yet.
    got = ow.effective_warmup_period(ow.untuned_linear_warmup(0.999), 1000)
    assert float(got) == pytest.approx(1000 - 1001 * 1000 / 4000, rel=1e-6)


def test_traced_b2_vmap_and_one_trace(rtol: float) -> None:
    traces = []

    @jax.jit
    def factors(b2: jax.Array) -> jax.Array:
        traces.append(1)
        counts = jnp.asarray([0, 10, 150])
        return jnp.stack(
            [
                ow.untuned_linear_warmup(b2)(counts),
                ow.untuned_exponential_warmup(b2)(counts),
                ow.radam_warmup(b2)(counts),
            ]
        )

    sweep = [0.98, 0.99, 0.995]
    for b2 in sweep:
        got = np.asarray(factors(jnp.asarray(b2)), np.float64)
        b = f32(b2)
        want = [
            [lin_ref(c, b) for c in (0, 10, 150)],
            [exp_ref(c, b) for c in (0, 10, 150)],
            [radam_ref(c, b, 5.0) for c in (0, 10, 150)],
        ]
        np.testing.assert_allclose(got, want, rtol=2e-5)
    assert len(traces) == 1
    batched = jax.vmap(factors)(jnp.asarray(sweep))
    np.testing.assert_allclose(np.asarray(batched[2]), np.asarray(factors(jnp.asarray(0.995))))


def test_effective_period_vmap_over_b2() -> None:
    periods = jax.jit(
        jax.vmap(lambda b2: ow.effective_warmup_period(ow.untuned_linear_warmup(b2), 4096))
    )(jnp.asarray([0.99, 0.999]))
    np.testing.assert_allclose(np.asarray(periods), [99.5, 999.5], rtol=1e-3)


def test_traced_b2_out_of_range_is_clipped() -> None:
    @jax.jit
    def first(b2: jax.Array) -> jax.Array:
        return jnp.stack(
            [
                ow.untuned_linear_warmup(b2)(0),
                ow.untuned_exponential_warmup(b2)(0),
                ow.radam_warmup(b2)(0),
            ]
        )

    for b2 in [0.0, 1.0, 1.5, -1.0]:
        assert np.all(np.isfinite(np.asarray(first(jnp.asarray(b2)))))


def test_with_warmup_tied_to_b2() -> None:
    tx: Any = ow.with_warmup(optax.adam(1e-3, b2=0.99), ow.untuned_linear_warmup(0.99))
    params = jnp.ones(2)
    state = tx.init(params)
    u, state = tx.update(jnp.ones(2), state, params)
    np.testing.assert_allclose(np.asarray(u), -1e-3 * 0.005 * np.ones(2), rtol=1e-4)
    assert float(state.warmup_factor) == pytest.approx(0.01)


@pytest.mark.parametrize("b2", [0.0, 1.0, -0.5, 1.5, float("nan")])
def test_bad_b2(b2: float) -> None:
    for make in (ow.untuned_linear_warmup, ow.untuned_exponential_warmup, ow.radam_warmup):
        with pytest.raises(ValueError, match="b2"):
            make(b2)


def test_bad_threshold_and_period_arguments() -> None:
    with pytest.raises(ValueError, match="threshold"):
        ow.radam_warmup(0.999, threshold=3.0)
    with pytest.raises(ValueError, match="threshold"):
        ow.radam_warmup(0.999, threshold=2000.0)  # rho_inf = 1999: never defined
    with pytest.raises(ValueError, match="threshold"):
        ow.radam_warmup(0.6, threshold=5.0)  # rho_inf = 4
    with pytest.raises(ValueError, match="b2 must be a scalar"):
        ow.untuned_linear_warmup(np.asarray([0.9, 0.99]))
    with pytest.raises(ValueError, match="tol"):
        ow.effective_warmup_period(ow.warmup_factor(3), tol=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        ow.effective_warmup_period(ow.warmup_factor(3), -1)
    with pytest.raises(ValueError, match="num_steps"):
        ow.effective_warmup_period(jnp.ones(3), 3)
    with pytest.raises(ValueError, match="does not converge"):
        ow.effective_warmup_period(ow.warmup_schedule(0.5, 3), max_steps=10_000)


@settings(max_examples=20, deadline=None)
@given(b2=st.floats(0.9, 0.9995), c=st.integers(0, 30_000))
def test_untuned_linear_property(b2: float, c: int) -> None:
    got = float(ow.untuned_linear_warmup(b2)(c))
    assert got == pytest.approx(lin_ref(c, b2), rel=2e-6)
