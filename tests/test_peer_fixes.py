"""Fixes found by running the real peers (issue 12), against float64 oracles.

- Staircases under ``jit`` with the schedule closed over (its step lengths are
  then constants, and XLA rewrites ``t / c`` as ``t * (1 / c)``): exact at every
  period 1..200.
- Hugging Face's cosine past ``num_training_steps`` with short decays and
  fractional ``num_cycles``: the wave is reduced exactly.
- timm ``MultiStepLRScheduler`` decays at ``t + 1``; ``cycle_limit=0`` keeps the
  constructor's value at count 0.
- pytorch_warmup ``RAdamWarmup`` where ``rho_t - 4`` is tiny (small ``beta2``).
"""

from __future__ import annotations

import bisect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optax_warmup.compat import keras, pytorch_warmup, timm, transformers
from optax_warmup.compat import optax as ow_optax
from optax_warmup.compat import torch as ow_torch

PERIODS = range(1, 201)
# Periods where float32 t * (1 / p) falls below a whole t / p (the first ten of 23 in 1..200),
# and a few more: for the builders sharing the staircase of torch.StepLR (tested at all 200).
SOME_PERIODS = [1, 2, 3, 41, 47, 55, 61, 82, 83, 94, 97, 107, 109, 200]


def _closed_over(schedules: list, counts: np.ndarray) -> np.ndarray:
    """Every schedule at ``counts``, each closed over (constants) inside one jit."""
    c = jnp.asarray(counts, jnp.int32)
    return np.asarray(jax.jit(lambda: jnp.stack([s(c) for s in schedules]))(), np.float64)


@pytest.mark.parametrize(
    ("build", "periods"),
    [
        pytest.param(lambda p: ow_torch.StepLR(1.0, p, gamma=0.5), PERIODS, id="torch.StepLR"),
        pytest.param(
            lambda p: ow_optax.exponential_decay(1.0, p, 0.5, staircase=True),
            SOME_PERIODS,
            id="optax.exponential_decay",
        ),
        pytest.param(
            lambda p: timm.StepLRScheduler(1.0, p, decay_rate=0.5), SOME_PERIODS, id="timm.StepLR"
        ),
        pytest.param(
            lambda p: keras.ExponentialDecay(1.0, p, 0.5, staircase=True),
            SOME_PERIODS,
            id="keras.Exponential",
        ),
    ],
)
def test_staircase_exact_under_jit(build, periods) -> None:
    counts = np.arange(0, 3 * max(periods) + 2)
    got = _closed_over([build(p) for p in periods], counts)
    for row, p in zip(got, periods, strict=True):
        want = 0.5 ** (counts // p)  # below float32's range it is 0
        np.testing.assert_allclose(row, want, rtol=1e-5, atol=1e-10, err_msg=f"period {p}")


def test_inverse_time_staircase_exact_under_jit() -> None:
    counts = np.arange(0, 602)
    got = _closed_over(
        [keras.InverseTimeDecay(1.0, p, 0.5, staircase=True) for p in PERIODS], counts
    )
    for row, p in zip(got, PERIODS, strict=True):
        np.testing.assert_allclose(row, 1.0 / (1 + 0.5 * (counts // p)), rtol=1e-6, err_msg=f"{p}")


def test_polynomial_cycle_exact_under_jit() -> None:
    # Keras PolynomialDecay(cycle=True): span = D * ceil(t / D); 180 with D = 60 ends a cycle.
    counts = np.arange(1, 602)
    periods = [*SOME_PERIODS, 60]
    got = _closed_over([keras.PolynomialDecay(1.0, p, 0.01, cycle=True) for p in periods], counts)
    for row, p in zip(got, periods, strict=True):
        span = p * np.maximum(np.ceil(counts / p), 1)  # float64, exact here
        want = (1 - 0.01) * (1 - counts / span) + 0.01
        np.testing.assert_allclose(row, want, rtol=2e-6, atol=1e-7, err_msg=f"period {p}")
    s = keras.PolynomialDecay(1.0, 60, 0.01, cycle=True)
    assert float(jax.jit(lambda: s(180))()) == pytest.approx(0.01, rel=1e-6)


def _hf_cosine(k: int, w: int, n: int, cycles: float, rate: float = 0.0) -> float:
    """transformers 5.24 ``_get_cosine_with_min_lr_schedule_with_warmup_lr_lambda`` (float64)."""
    if k < w:
        return k / max(1, w)
    progress = (k - w) / max(1, n - w)
    factor = 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress))
    return max(0.0, factor * (1 - rate) + rate)


@pytest.mark.parametrize(
    ("w", "n", "cycles"), [(2, 5, 0.37), (0, 3, 1.3), (5, 6, 0.5), (1, 9, 2.7)]
)
def test_hf_cosine_far_past_the_end(w: int, n: int, cycles: float) -> None:
    counts = np.r_[np.arange(40), np.arange(10_000, 200_000, 997)]
    s = transformers.get_cosine_schedule_with_warmup(1.0, w, n, cycles)
    got = np.asarray(jax.jit(lambda c: s(c))(jnp.asarray(counts, jnp.int32)), np.float64)
    want = np.array([_hf_cosine(int(k), w, n, cycles) for k in counts])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)  # was 8.7e-4 before


def test_hf_cosine_lr_rate() -> None:
    """``..._lr_rate``: warmup (k + 1) / W or s + (1 - s) k / (W - 1), cosine at k - W + 1."""

    def ref(k: int, w: int, n: int, cycles: float, rate: float, warm: float | None) -> float:
        if k < w:
            return (k + 1) / max(1, w) if warm is None else warm + (1 - warm) * k / max(1, w - 1)
        progress = (k - w + 1) / max(1, n - w)
        return max(0.0, 0.5 * (1 + math.cos(math.pi * cycles * 2 * progress)) * (1 - rate) + rate)

    for w, n, cycles, rate, warm in [
        (3, 10, 0.5, 0.1, None),
        (4, 9, 0.7, 0.0, 0.2),
        (0, 5, 1.0, 0.3, None),
        (1, 4, 0.5, 0.0, 0.5),
    ]:
        s = transformers.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
            2.0, w, n, cycles, min_lr_rate=rate, warmup_lr_rate=warm
        )
        counts = np.arange(3 * n + 3)
        got = np.asarray(jax.jit(lambda c, s=s: s(c))(counts), np.float64)
        want = 2.0 * np.array([ref(int(k), w, n, cycles, rate, warm) for k in counts])
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-7)


def test_timm_multistep_decays_at_t_plus_one() -> None:
    # timm 1.0.31 multistep_lr.py: decay_rate ** bisect_right(decay_t, t + 1); count 0 is the
    # constructor's value (no warmup: the base value).
    s = timm.MultiStepLRScheduler(1.0, [3], decay_rate=0.5)
    assert [float(s(k)) for k in range(4)] == [1.0, 1.0, 0.5, 0.5]
    marks = [0, 2, 2, 7]
    s = timm.MultiStepLRScheduler(1.0, marks, decay_rate=0.5)
    want = [1.0] + [0.5 ** bisect.bisect_right(marks, k + 1) for k in range(1, 12)]
    np.testing.assert_allclose([float(s(k)) for k in range(12)], want)


@pytest.mark.parametrize("build", [timm.CosineLRScheduler, timm.PolyLRScheduler])
def test_timm_cycle_limit_zero_keeps_first_value(build) -> None:
    s = build(0.5, 10, lr_min=0.01, cycle_limit=0)
    assert [float(s(k)) for k in range(3)] == pytest.approx([0.5, 0.01, 0.01])
    s = build(0.5, 10, lr_min=0.01, cycle_limit=0, warmup_t=2, warmup_lr_init=0.1)
    assert float(s(0)) == pytest.approx(0.1)


def test_timm_argument_order() -> None:
    # timm: (..., warmup_prefix, t_in_epochs, noise_range_t, ...): positional calls line up.
    a = timm.CosineLRScheduler(1.0, 10, 0.0, 1.0, 1.0, 1, 2, 0.1, False, False, None)
    b = timm.CosineLRScheduler(1.0, 10, warmup_t=2, warmup_lr_init=0.1)
    np.testing.assert_array_equal(
        [float(a(k)) for k in range(12)], [float(b(k)) for k in range(12)]
    )


def _radam_ref(k: int, b2: float) -> float:
    """pytorch_warmup 0.2.0 radam.py in float64: r at k + offset."""
    rho_inf = 2.0 / (1 - b2) - 1

    def rho(t: int) -> float:
        b2t = b2**t
        return rho_inf - 2 * t * b2t / (1 - b2t)

    offset = 1
    while rho(offset) <= 4:
        offset += 1
    r = rho(k + offset)
    return math.sqrt((r - 4) * (r - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * r))


@pytest.mark.parametrize(
    "b2", [0.6001, 0.601, 0.61, 0.62, 0.63, 0.65, 0.7, 0.72, 0.75, 0.78, 0.9, 0.95, 0.999]
)
def test_radam_small_beta2(b2: float) -> None:
    s = pytorch_warmup.RAdamWarmup(b2)
    got = np.asarray(jax.jit(lambda c: s(c))(jnp.arange(64)), np.float64)
    want = np.array([_radam_ref(k, b2) for k in range(64)])
    # Below 0.9 the values are float64 rounded once (float32 alone loses rho_inf - 4 near
    # 0.6: 1.2e-4 relative at 0.6001); above, float32 evaluation.
    np.testing.assert_allclose(got, want, rtol=2e-7 if b2 < 0.9 else 1e-6)


def test_radam_first_value_where_rho_minus_4_is_tiny() -> None:
    # b2 where rho at the first defined step exceeds 4 by about 1e-5: float32 alone loses it.
    grid = np.linspace(0.6001, 0.78, 4001)
    gaps = []
    for b2 in grid:
        rho_inf = 2.0 / (1 - b2) - 1
        t = 1
        while rho_inf - 2 * t * b2**t / (1 - b2**t) <= 4:
            t += 1
        gaps.append(rho_inf - 2 * t * b2**t / (1 - b2**t) - 4)
    b2 = float(grid[int(np.argmin(gaps))])
    assert min(gaps) < 1e-4
    s = pytorch_warmup.RAdamWarmup(b2)
    np.testing.assert_allclose(float(s(0)), _radam_ref(0, b2), rtol=2e-6)
