"""optax_warmup.compat.pytorch_warmup against a simulation of pytorch_warmup 0.2.

``Dampened`` transcribes ``BaseWarmup``: the constructor dampens once (step 0),
and ``dampening()`` restores the undampened lr, runs the body (the lr
scheduler's ``step()``), records the new undampened lr and dampens with the next
step's factor. The factor functions transcribe ``base.py``, ``untuned.py`` and
``radam.py`` in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optax_warmup.compat import pytorch_warmup as pw
from tests.compat_helpers import assert_matches, values


def linear_factor(step: int, period: int) -> float:
    return min(1.0, (step + 1) / period)


def expo_factor(step: int, period: int) -> float:
    return 1.0 - math.exp(-(step + 1) / period)


def rho_fn(t: int, beta2: float, rho_inf: float) -> float:
    b2t = beta2**t
    return rho_inf - 2 * t * b2t / (1 - b2t)


def radam_factor(beta2: float) -> Callable[[int], float]:
    rho_inf = 2.0 / (1 - beta2) - 1
    offset = 1
    while rho_fn(offset, beta2, rho_inf) <= 4:
        offset += 1

    def factor(step: int) -> float:
        rho = rho_fn(step + offset, beta2, rho_inf)
        return math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))

    return factor


class Dampened:
    """BaseWarmup over an ExponentialLR-like scheduler (lr *= gamma per step)."""

    def __init__(self, lr: float, gamma: float, factor: Callable[[int], float]) -> None:
        self.lr, self.gamma, self.factor = lr, gamma, factor
        self.last_step = -1
        self.lrs = lr  # undampened, read after the lr scheduler's construction
        self.dampen()

    def dampen(self) -> None:
        self.last_step += 1
        self.lr *= self.factor(self.last_step)

    def run(self, updates: int, delay_until: int = 0) -> list[float]:
        out = []
        for _ in range(updates):
            out.append(self.lr)  # optimizer.step()
            iteration = self.last_step + 1
            self.lr = self.lrs  # with warmup.dampening():
            if iteration >= delay_until:
                self.lr *= self.gamma  # lr_scheduler.step()
            self.lrs = self.lr
            self.dampen()
        return out


def check(ours: Any, want: list[float], counts: Any, rtol: float) -> None:
    assert_matches(ours, lambda k: want[k], counts, rtol)


@pytest.mark.parametrize("period", [1, 7, 40])
def test_linear_and_exponential(period: int, rtol: float) -> None:
    n = 3 * period + 10
    want = Dampened(1.0, 1.0, lambda s: linear_factor(s, period)).run(n)
    check(pw.LinearWarmup(period), want, range(n), rtol)
    want = Dampened(1.0, 1.0, lambda s: expo_factor(s, period)).run(n)
    check(pw.ExponentialWarmup(period), want, range(n), rtol)


def test_untuned_periods_are_truncated(rtol: float) -> None:
    # int(2 / (1 - 0.99)) = 199 and int(2 / (1 - 0.999)) = 1999 in float64.
    want = Dampened(1.0, 1.0, lambda s: linear_factor(s, 199)).run(260)
    check(pw.UntunedLinearWarmup(0.99), want, range(260), rtol)
    assert float(pw.UntunedLinearWarmup(0.99)(197)) == pytest.approx(198 / 199, rel=1e-7)
    assert float(pw.UntunedLinearWarmup(0.999)(1997)) == pytest.approx(1998 / 1999, rel=1e-7)
    counts = [*range(30), 997, 998, 999, 5000]
    want_e = {k: expo_factor(k, 999) for k in counts}
    assert_matches(pw.UntunedExponentialWarmup(), want_e.__getitem__, counts, rtol)


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.98, 0.9, 0.7])
def test_radam(beta2: float, rtol: float) -> None:
    factor = radam_factor(beta2)
    counts = [*range(60), 500, 1000, 5000, 20_000]
    tol = rtol if beta2 > 0.8 else max(rtol, 4e-6)  # rho_offset - 4 is small at 0.7
    assert_matches(pw.RAdamWarmup(beta2), factor, counts, tol)


def test_dampen_over_a_schedule_and_the_delay_recipe(rtol: float) -> None:
    from optax_warmup.compat import torch

    want = Dampened(0.1, 0.9, lambda s: linear_factor(s, 10)).run(40)
    ours = pw.dampen(torch.ExponentialLR(0.1, 0.9), pw.LinearWarmup(10))
    check(ours, want, range(40), max(rtol, 2e-6))
    # "To delay an LR scheduler": step it only once iteration >= warmup_period.
    want = Dampened(0.1, 0.9, lambda s: expo_factor(s, 10)).run(40, delay_until=10)
    ours = pw.dampen(torch.ExponentialLR(0.1, 0.9), pw.ExponentialWarmup(10), delay=9)
    check(ours, want, range(40), max(rtol, 2e-6))


def test_traced_beta2_under_jit_uses_its_own_precision(rtol: float) -> None:
    @jax.jit
    def run(b2: jax.Array) -> tuple[jax.Array, jax.Array]:
        counts = jnp.arange(250)
        return pw.UntunedLinearWarmup(b2)(counts), pw.RAdamWarmup(b2)(counts)

    b2 = np.float32(0.99)  # 0.99000001: its period is int(200.0019) = 200
    lin, radam = run(jnp.asarray(b2))
    want = [linear_factor(k, int(2 / (1 - float(b2)))) for k in range(250)]
    np.testing.assert_allclose(lin, want, rtol=max(rtol, 1e-6))
    factor = radam_factor(float(b2))
    np.testing.assert_allclose(radam, [factor(k) for k in range(250)], rtol=max(rtol, 2e-6))


def test_vmap_over_periods_compiles_once() -> None:
    traces = 0

    def at(period: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return pw.LinearWarmup(period)(jnp.arange(20))

    f = jax.jit(jax.vmap(at))
    got = f(jnp.asarray([2, 5, 10]))
    f(jnp.asarray([3, 4, 6]))
    assert traces == 1
    np.testing.assert_allclose(got[1], [min(1.0, (k + 1) / 5) for k in range(20)], rtol=1e-6)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="warmup_period"):
        pw.LinearWarmup(0)
    with pytest.raises(ValueError, match="warmup_period"):
        pw.ExponentialWarmup(2.5)
    with pytest.raises(ValueError, match="beta2"):
        pw.UntunedLinearWarmup(1.0)
    with pytest.raises(ValueError, match="beta2"):
        pw.RAdamWarmup(0.6)
    with pytest.raises(ValueError, match="delay"):
        pw.dampen(1.0, pw.LinearWarmup(3), delay=-1)
    assert values(pw.RAdamWarmup(0.999), [0])[0] > 0
