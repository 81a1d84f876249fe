"""optax_warmup.compat.keras against a transcription of Keras 3's ``__call__`` bodies.

A Keras schedule is evaluated at ``optimizer.iterations``, the count of updates
already applied, so ``schedule(k)`` is the lr of the ``(k+1)``-th update. The
references follow ``keras/src/optimizers/schedules/learning_rate_schedule.py``
in float64 (Keras itself computes in float32).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optax_warmup.compat import keras
from tests.compat_helpers import assert_matches

LR = 0.01


def ref_cosine(step: int, init: float, d: int, alpha: float, target: float | None, w: int) -> float:
    def decay(s: float, start: float) -> float:
        cos = 0.5 * (1.0 + math.cos(math.pi * s / d))
        return start * ((1 - alpha) * cos + alpha)

    if target is None:
        return decay(min(step, d), init)
    s = min(step, d + w)
    if s < w:
        return (target - init) * (s / w) + init
    return decay(s - w, target)


def ref_restarts(step: int, init: float, d: int, t_mul: float, m_mul: float, alpha: float) -> float:
    cf = step / d
    if t_mul == 1.0:
        i = math.floor(cf)
        cf -= i
    else:
        i = math.floor(math.log(1.0 - cf * (1.0 - t_mul)) / math.log(t_mul))
        sum_r = (1.0 - t_mul**i) / (1.0 - t_mul)
        cf = (cf - sum_r) / t_mul**i
    cos = 0.5 * m_mul**i * (1.0 + math.cos(math.pi * cf))
    return init * ((1 - alpha) * cos + alpha)


def ref_exponential(step: int, init: float, d: float, rate: float, staircase: bool) -> float:
    p = step / d
    return init * rate ** (math.floor(p) if staircase else p)


def ref_polynomial(step: int, init: float, d: int, end: float, power: float, cycle: bool) -> float:
    if cycle:
        mult = 1.0 if step == 0 else math.ceil(step / d)
        d_eff = d * mult
    else:
        step, d_eff = min(step, d), d
    return (init - end) * (1 - step / d_eff) ** power + end


def ref_piecewise(step: int, boundaries: list[int], vals: list[float]) -> float:
    out = float(step <= boundaries[0]) * vals[0] + float(step > boundaries[-1]) * vals[-1]
    for low, high, v in zip(boundaries[:-1], boundaries[1:], vals[1:-1], strict=True):
        out += float(low < step <= high) * v
    return out


def ref_inverse_time(step: int, init: float, d: float, rate: float, staircase: bool) -> float:
    p = step / d
    return init / (1 + rate * (math.floor(p) if staircase else p))


def check(ours: Any, reference: Any, counts: Any, rtol: float) -> None:
    assert_matches(ours, reference, counts, rtol, scale=LR)


@pytest.mark.parametrize(
    ("alpha", "target", "w"), [(0.0, None, 0), (0.1, None, 5), (0.0, 0.1, 10), (0.2, 0.05, 0)]
)
def test_cosine_decay(alpha: float, target: float | None, w: int, rtol: float) -> None:
    s = keras.CosineDecay(LR, 30, alpha=alpha, warmup_target=target, warmup_steps=w)
    check(s, lambda k: ref_cosine(k, LR, 30, alpha, target, w), range(50), rtol)


@pytest.mark.parametrize(
    ("t_mul", "m_mul", "alpha"),
    [(2.0, 1.0, 0.0), (1.0, 0.5, 0.1), (2.0, 0.8, 0.05), (3.0, 1.0, 0.2)],
)
def test_cosine_decay_restarts(t_mul: float, m_mul: float, alpha: float, rtol: float) -> None:
    s = keras.CosineDecayRestarts(LR, 6, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    check(s, lambda k: ref_restarts(k, LR, 6, t_mul, m_mul, alpha), range(120), rtol)


@pytest.mark.parametrize(
    ("d", "rate", "staircase"), [(10, 0.5, False), (7, 0.9, True), (2.5, 0.75, True)]
)
def test_exponential_decay(d: float, rate: float, staircase: bool, rtol: float) -> None:
    s = keras.ExponentialDecay(LR, d, rate, staircase=staircase)
    check(s, lambda k: ref_exponential(k, LR, d, rate, staircase), range(60), rtol)


@pytest.mark.parametrize(
    ("end", "power", "cycle"),
    [(1e-4, 1.0, False), (0.0, 2.0, False), (1e-4, 0.5, True), (0.0, 2.0, True)],
)
def test_polynomial_decay(end: float, power: float, cycle: bool, rtol: float) -> None:
    s = keras.PolynomialDecay(LR, 8, end_learning_rate=end, power=power, cycle=cycle)
    check(s, lambda k: ref_polynomial(k, LR, 8, end, power, cycle), range(70), rtol)


def test_piecewise_constant_right_ends_are_inclusive(rtol: float) -> None:
    boundaries, vals = [3, 7, 20], [0.1, 0.05, 0.01, 0.001]
    s = keras.PiecewiseConstantDecay(boundaries, vals)
    check(s, lambda k: ref_piecewise(k, boundaries, vals), range(30), rtol)
    with pytest.raises(ValueError, match="1 less than"):
        keras.PiecewiseConstantDecay([3, 7], [1.0, 2.0])
    with pytest.raises(ValueError, match="sorted"):
        keras.PiecewiseConstantDecay([7, 3], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("d", "rate", "staircase"), [(5, 0.5, False), (3, 1.5, True), (0.5, 0.1, False)]
)
def test_inverse_time_decay(d: float, rate: float, staircase: bool, rtol: float) -> None:
    s = keras.InverseTimeDecay(LR, d, rate, staircase=staircase)
    check(s, lambda k: ref_inverse_time(k, LR, d, rate, staircase), [*range(40), 10_000], rtol)


def test_vmap_over_hyperparameters_compiles_once(rtol: float) -> None:
    traces = 0

    def at(alpha: jax.Array, m_mul: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return keras.CosineDecayRestarts(LR, 5, m_mul=m_mul, alpha=alpha)(jnp.arange(40))

    f = jax.jit(jax.vmap(at))
    got = f(jnp.asarray([0.0, 0.1]), jnp.asarray([1.0, 0.5]))
    f(jnp.asarray([0.2, 0.3]), jnp.asarray([0.9, 0.7]))
    assert traces == 1
    want = [ref_restarts(k, LR, 5, 2.0, 0.5, 0.1) for k in range(40)]
    np.testing.assert_allclose(got[1], want, rtol=max(rtol, 1e-6), atol=LR * 1e-12)


def test_bad_arguments() -> None:
    for fn in (keras.CosineDecay, keras.PolynomialDecay):
        with pytest.raises(ValueError, match="decay_steps"):
            fn(LR, 0)
    with pytest.raises(ValueError, match="decay_steps"):
        keras.ExponentialDecay(LR, -1, 0.5)
    with pytest.raises(ValueError, match="decay_steps"):
        keras.InverseTimeDecay(LR, 0, 0.5)
    with pytest.raises(ValueError, match="first_decay_steps"):
        keras.CosineDecayRestarts(LR, 0)
    with pytest.raises(ValueError, match="t_mul"):
        keras.CosineDecayRestarts(LR, 10, t_mul=0.5)
    with pytest.raises(ValueError, match="decay_rate"):
        keras.ExponentialDecay(LR, 10, -0.5)
    with pytest.raises(ValueError, match="power"):
        keras.PolynomialDecay(LR, 10, power=0.0)
