"""Engine pieces added for optax_warmup.compat: new shapes, k-decay, RAdam numerics,
exact progress in stretched cycles, float64 one-cycle marks and ``add``.

References are float64 formulas written here.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import optax_warmup as ow
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.schedules import combine as _combine
from tests import reference as ref
from tests.compat_helpers import assert_matches, values


def shape_schedule(kind: int, params: tuple[float, ...], length: float, start=1.0, end=0.1):
    shape = _shapes.ResolvedShape(kind, params)  # type: ignore[arg-type]
    return _engine.from_phases([_engine.Phase(0, start, end, shape, length=length)])


@pytest.mark.parametrize(("a", "restart"), [(1.0, False), (3.0, False), (1.5, False), (2.0, True)])
def test_cosine_wave(a: float, restart: bool, rtol: float) -> None:
    length = 10.0

    def want(k: int) -> float:
        x = a * k / length
        if restart:
            x = x % 1.0
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * x))

    s = shape_schedule(_shapes.COSINE_WAVE, (a, 1.0 if restart else 0.0, 0, 0), length)
    assert_matches(s, want, range(70), rtol)
    # Near a trough the value keeps its digits (end = 0): sin**2 of the exact distance.
    s = shape_schedule(_shapes.COSINE_WAVE, (1.0, 0.0, 0, 0), 1000.0, start=1.0, end=0.0)
    counts = [999, 1000, 1001, 1999, 2000]
    assert_matches(s, lambda k: 0.5 * (1 + math.cos(math.pi * k / 1000)), counts, rtol)
    # A zero length gives the end value.
    assert values(shape_schedule(_shapes.COSINE_WAVE, (1.0, 0, 0, 0), 0.0), [0, 5])[
        1
    ] == np.float32(0.1)


def test_power_cycle_and_inverse_time_staircase(rtol: float) -> None:
    def cycle(k: int) -> float:
        span = 6 * max(1, math.ceil(k / 6))
        return 0.1 + 0.9 * ((span - k) / span) ** 2.0

    assert_matches(shape_schedule(_shapes.POWER_CYCLE, (2.0, 0, 0, 0), 6.0), cycle, range(40), rtol)
    for flag in (0.0, 1.0):

        def inv(k: int, flag: float = flag) -> float:
            q = math.floor(k / 4) if flag else k / 4
            return 0.1 + 0.9 / (1 + 0.5 * q)

        # The inverse-power shape, power 1, timescale 4 / 0.5, staircase of 4 steps.
        s = shape_schedule(_shapes.INV_SQRT, (8.0, 1.0, 4.0 * flag, 0), 0.0)
        assert_matches(s, inv, [*range(30), 100_000], rtol)


@pytest.mark.parametrize("kind", ["linear", "cosine", "polynomial", "tanh"])
@pytest.mark.parametrize("k", [0.5, 3.0])
def test_k_decay_warps_the_progress(kind: str, k: float, rtol: float) -> None:
    resolved = _shapes.resolve(kind, "decay")
    params = (*resolved.params[:3], k)
    warped = _engine.from_phases(
        [_engine.Phase(20, 1.0, 0.1, _shapes.ResolvedShape(resolved.kind, params))]  # type: ignore[arg-type]
    )

    def f(p: float) -> float:  # the unwarped decay fraction of each shape
        if kind == "linear":
            return p
        if kind == "cosine":
            return 1 - (1 + math.cos(math.pi * p)) / 2
        if kind == "polynomial":
            return 1 - (1 - p) ** 2
        return 1 - (1 - math.tanh(-7 * (1 - p) + 3 * p)) / 2

    def want(c: int) -> float:
        if kind == "tanh" and c >= 20:
            c = 20
        p = min(c / 20, 1.0) ** k
        return 1.0 + (0.1 - 1.0) * f(p)

    assert_matches(warped, want, range(25), rtol)
    # k = 1 (and 0) change nothing, bit for bit.
    plain = _engine.from_phases([_engine.Phase(20, 1.0, 0.1, resolved)])
    for same in (1.0, 0.0):
        s = _engine.from_phases(
            [_engine.Phase(20, 1.0, 0.1, _shapes.ResolvedShape(resolved.kind, (*params[:3], same)))]  # type: ignore[arg-type]
        )
        np.testing.assert_array_equal(values(s, range(25)), values(plain, range(25)))


def rho64(t: int, b2: float) -> float:
    rho_inf = 2 / (1 - b2) - 1
    return rho_inf - 2 * t * b2**t / (1 - b2**t)


@pytest.mark.parametrize("b2", [0.9999, 0.999, 0.99, 0.9, 0.75, 0.3])
def test_radam_rho_keeps_float32_precision(b2: float) -> None:
    ts = jnp.asarray([*range(1, 200), 1000, 10_000, 100_000], jnp.float32)
    # The direct formula loses 3-4 digits here (2 / (1 - b2) minus a near-equal number).
    got, _ = _shapes.radam_rho(ts, jnp.float32(b2), jnp.float32(1 - b2))
    want = [rho64(int(t), b2) for t in ts]
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-6, atol=1e-6)
    # From b2 alone: exact for the float32 value b2 holds.
    b2_32 = float(np.float32(b2))
    got, _ = _shapes.radam_rho(ts, jnp.float32(b2))
    want = [rho64(int(t), b2_32) for t in ts]
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-6, atol=1e-6)


def test_radam_shape_takes_one_minus_b2(rtol: float) -> None:
    # float32(0.999) is 0.99900001; the exact 1 - b2 (param c) recovers b2 = 0.999.
    def r(t: int) -> float:
        rho_inf, rho = 2 / 0.001 - 1, rho64(t, 0.999)
        return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))

    s = shape_schedule(_shapes.RADAM, (0.999, 4.0, 1 - 0.999, 0.0), 0.0, start=0.0, end=1.0)
    assert_matches(s, lambda c: r(c) if rho64(c, 0.999) > 4 else 0.0, range(1, 3000, 7), rtol)


@pytest.mark.parametrize("mul", [2.0, 3.0])
def test_whole_cycle_multipliers_are_exact_at_boundaries_and_ends(mul: float, rtol: float) -> None:
    s = ow.cosine_restarts(1.0, 7, cycle_mul=mul)
    counts = range(7 * (1 + int(mul) + int(mul) ** 2) + 5)  # three cycles and a bit
    assert_matches(s, lambda c: ref.sgdr(c, 1.0, 7, mul, 1.0, 0.0), counts, rtol)


def test_one_cycle_marks_are_placed_in_float64(rtol: float) -> None:
    # 0.3 * 50 - 1 is 14 in float64 but 14.000001 from float32(0.3): step 28 is exactly
    # the initial value in torch's three-phase schedule.
    s = ow.one_cycle(1.0, 50, pct_start=0.3, anneal="linear", three_phase=True)
    assert values(s, [14, 28]).tolist() == [1.0, pytest.approx(0.04, rel=1e-7)]
    want = [ref.one_cycle_torch(k, 1.0, 50, 0.3, 25.0, 1e4, "linear", True) for k in range(50)]
    assert_matches(s, want.__getitem__, range(50), rtol)


def test_add(rtol: float) -> None:
    s = _combine.add(0.1, ow.linear_decay(0.9, 10), lambda c: 0.0 * c)
    assert_matches(s, lambda c: 0.1 + 0.9 * max(0.0, 1 - c / 10), range(15), rtol)
    assert ow.as_schedule(s) is s
    f = jax.jit(jax.vmap(lambda a: _combine.add(a, ow.constant_schedule(1.0))(3)))
    np.testing.assert_allclose(f(jnp.asarray([0.5, 1.5])), [1.5, 2.5])
    with pytest.raises(ValueError, match="at least one"):
        _combine.add()
