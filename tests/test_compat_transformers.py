"""optax_warmup.compat.transformers against a transcription of Hugging Face's lr lambdas.

The reference below follows ``transformers.optimization`` line by line in float64:
``LambdaLR`` sets ``lr = base * lr_lambda(last_epoch)`` and ``last_epoch`` is ``k``
before the ``(k+1)``-th ``optimizer.step()``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optax_warmup.compat import transformers as hf
from tests.compat_helpers import assert_matches

BASE = 3e-4


def _warm(k: int, w: int) -> float:
    return float(k) / float(max(1, w))


def ref_constant(k: int, w: int) -> float:
    return _warm(k, w) if k < w else 1.0


def ref_linear(k: int, w: int, n: int) -> float:
    if k < w:
        return _warm(k, w)
    return max(0.0, float(n - k) / float(max(1, n - w)))


def ref_cosine(k: int, w: int, n: int, cycles: float = 0.5, min_rate: float = 0.0) -> float:
    if k < w:
        return _warm(k, w)
    progress = float(k - w) / float(max(1, n - w))
    f = 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * progress))
    return max(0.0, f * (1 - min_rate) + min_rate)


def ref_hard(k: int, w: int, n: int, cycles: float) -> float:
    if k < w:
        return _warm(k, w)
    progress = float(k - w) / float(max(1, n - w))
    if progress >= 1.0:
        return 0.0
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(cycles) * progress) % 1.0))))


def ref_poly(k: int, w: int, n: int, lr_end: float, power: float, lr_init: float) -> float:
    if k < w:
        return _warm(k, w)
    if k > n:
        return lr_end / lr_init
    pct_remaining = 1 - (k - w) / (n - w)
    return ((lr_init - lr_end) * pct_remaining**power + lr_end) / lr_init


def ref_inv_sqrt(k: int, w: int, timescale: int | None) -> float:
    tau = (w or 10_000) if timescale is None else timescale
    if k < w:
        return _warm(k, w)
    return 1.0 / math.sqrt((k + tau - w) / tau)


def ref_wsd(
    k: int, w: int, s: int, d: int, warmup_type: str, decay_type: str, r: float, cycles: float
) -> float:
    if k < w:
        p = float(k) / float(max(1, w))
        f = {
            "linear": p,
            "cosine": 0.5 * (1.0 - math.cos(math.pi * p)),
            "1-sqrt": 1.0 - math.sqrt(1.0 - p),
        }[warmup_type]
        return max(0.0, f * (1.0 - r) + r)
    if k < w + s:
        return 1.0
    if k < w + s + d:
        p = float(k - w - s) / float(max(1, d))
        f = {
            "linear": 1.0 - p,
            "cosine": 0.5 * (1.0 + math.cos(math.pi * float(cycles) * 2.0 * p)),
            "1-sqrt": 1.0 - math.sqrt(p),
        }[decay_type]
        return max(0.0, f * (1.0 - r) + r)
    return r


def check(schedule: Any, lam: Callable[[int], float], counts: Iterable[int], rtol: float) -> None:
    assert_matches(schedule, lambda k: BASE * lam(k), counts, rtol, scale=BASE)


@pytest.mark.parametrize(("w", "n"), [(10, 50), (0, 20), (1, 7), (12, 12), (15, 9)])
def test_linear_and_constant(w: int, n: int, rtol: float) -> None:
    counts = range(n + w + 15)
    check(hf.get_constant_schedule_with_warmup(BASE, w), lambda k: ref_constant(k, w), counts, rtol)
    s = hf.get_linear_schedule_with_warmup(BASE, w, n)
    check(s, lambda k: ref_linear(k, w, n), counts, rtol)


def test_first_update_is_zero() -> None:
    assert float(hf.get_linear_schedule_with_warmup(BASE, 100, 1000)(0)) == 0.0


@pytest.mark.parametrize(
    ("w", "n", "cycles"), [(8, 40, 0.5), (0, 30, 1.0), (5, 25, 1.5), (3, 23, 0.75)]
)
def test_cosine_follows_the_wave_past_the_end(w: int, n: int, cycles: float, rtol: float) -> None:
    # Past N the cosine rises again, as in Hugging Face (no clipping).
    counts = range(2 * n + 10)
    s = hf.get_cosine_schedule_with_warmup(BASE, w, n, num_cycles=cycles)
    check(s, lambda k: ref_cosine(k, w, n, cycles), counts, rtol)
    if cycles == 0.5:
        assert float(s(n)) == pytest.approx(0.0, abs=1e-12)
        assert float(s(n + 5)) > float(s(n + 1)) > 0


@pytest.mark.parametrize(("w", "n", "cycles"), [(6, 36, 3), (0, 20, 1), (4, 31, 4), (5, 5, 2)])
def test_hard_restarts(w: int, n: int, cycles: int, rtol: float) -> None:
    s = hf.get_cosine_with_hard_restarts_schedule_with_warmup(BASE, w, n, num_cycles=cycles)
    check(s, lambda k: ref_hard(k, w, n, cycles), range(n + 15), rtol)


@pytest.mark.parametrize(
    ("w", "n", "lr_end", "power"), [(5, 30, 1e-7, 1.0), (0, 20, 1e-5, 2.0), (4, 17, 0.0, 0.5)]
)
def test_polynomial(w: int, n: int, lr_end: float, power: float, rtol: float) -> None:
    s = hf.get_polynomial_decay_schedule_with_warmup(BASE, w, n, lr_end=lr_end, power=power)
    check(s, lambda k: ref_poly(k, w, n, lr_end, power, BASE), range(n + 10), rtol)
    with pytest.raises(ValueError, match="lr_end"):
        hf.get_polynomial_decay_schedule_with_warmup(BASE, w, n, lr_end=BASE)


@pytest.mark.parametrize(("w", "timescale"), [(10, None), (0, None), (4, 25), (0, 3)])
def test_inverse_sqrt(w: int, timescale: int | None, rtol: float) -> None:
    s = hf.get_inverse_sqrt_schedule(BASE, w, timescale=timescale)
    check(s, lambda k: ref_inv_sqrt(k, w, timescale), [*range(60), 1000, 123_456], rtol)


@pytest.mark.parametrize(("w", "n", "cycles", "rate"), [(5, 40, 0.5, 0.1), (0, 25, 1.0, 0.3)])
def test_cosine_with_min_lr(w: int, n: int, cycles: float, rate: float, rtol: float) -> None:
    counts = range(2 * n + 5)
    lam = lambda k: ref_cosine(k, w, n, cycles, rate)  # noqa: E731
    s = hf.get_cosine_with_min_lr_schedule_with_warmup(BASE, w, n, cycles, min_lr_rate=rate)
    check(s, lam, counts, rtol)
    s = hf.get_cosine_with_min_lr_schedule_with_warmup(BASE, w, n, cycles, min_lr=rate * BASE)
    check(s, lam, counts, rtol)
    with pytest.raises(ValueError, match="Only one"):
        hf.get_cosine_with_min_lr_schedule_with_warmup(BASE, w, n, min_lr=1e-5, min_lr_rate=0.1)
    with pytest.raises(ValueError, match="One of"):
        hf.get_cosine_with_min_lr_schedule_with_warmup(BASE, w, n)


@pytest.mark.parametrize("warmup_type", ["linear", "cosine", "1-sqrt"])
@pytest.mark.parametrize("decay_type", ["linear", "cosine", "1-sqrt"])
def test_wsd(warmup_type: Any, decay_type: Any, rtol: float) -> None:
    w, s, d, r = 7, 11, 13, 0.1
    sched = hf.get_wsd_schedule(
        BASE,
        w,
        d,
        num_stable_steps=s,
        warmup_type=warmup_type,
        decay_type=decay_type,
        min_lr_ratio=r,
    )
    check(sched, lambda k: ref_wsd(k, w, s, d, warmup_type, decay_type, r, 0.5), range(45), rtol)


def test_wsd_training_steps_cycles_and_negative_stable(rtol: float) -> None:
    s = hf.get_wsd_schedule(BASE, 5, 10, num_training_steps=30, num_cycles=1.5, min_lr_ratio=0.2)
    check(s, lambda k: ref_wsd(k, 5, 15, 10, "linear", "cosine", 0.2, 1.5), range(40), rtol)
    # num_stable_steps < 0: Hugging Face starts the decay part-way.
    s = hf.get_wsd_schedule(BASE, 6, 10, num_stable_steps=-4, decay_type="linear")
    check(s, lambda k: ref_wsd(k, 6, -4, 10, "linear", "linear", 0.0, 0.5), range(20), rtol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hf.get_wsd_schedule(BASE, 5, 10, num_training_steps=30, num_stable_steps=3)
    assert any("num_stable_steps will be used" in str(c.message) for c in caught)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="num_training_steps or num_stable_steps"):
        hf.get_wsd_schedule(BASE, 5, 10)
    with pytest.raises(ValueError, match="warmup_type"):
        hf.get_wsd_schedule(BASE, 5, 10, 30, warmup_type="exp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decay_type"):
        hf.get_wsd_schedule(BASE, 5, 10, 30, decay_type="exp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_warmup_steps"):
        hf.get_linear_schedule_with_warmup(BASE, -1, 10)
    with pytest.raises(ValueError, match="num_training_steps"):
        hf.get_cosine_schedule_with_warmup(BASE, 1, 10.5)
    with pytest.raises(ValueError, match="timescale"):
        hf.get_inverse_sqrt_schedule(BASE, 10, timescale=0)


def test_vmap_over_warmup_and_training_steps_compiles_once(rtol: float) -> None:
    traces = 0

    def at(w: jax.Array, n: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return hf.get_cosine_schedule_with_warmup(BASE, w, n)(jnp.arange(40))

    f = jax.jit(jax.vmap(at))
    ws, ns = [0, 5, 10], [20, 30, 35]
    got = np.asarray(f(jnp.asarray(ws), jnp.asarray(ns)), np.float64)
    f(jnp.asarray([1, 2, 3]), jnp.asarray([10, 11, 12]))
    assert traces == 1
    for row, w, n in zip(got, ws, ns, strict=True):
        want = [BASE * ref_cosine(k, w, n) for k in range(40)]
        np.testing.assert_allclose(row, want, rtol=max(rtol, 1e-6), atol=BASE * 1e-12)


def test_traced_wsd_and_hard_restarts_under_jit(rtol: float) -> None:
    @jax.jit
    def both(ratio: jax.Array, cycles: jax.Array) -> tuple[jax.Array, jax.Array]:
        counts = jnp.arange(40)
        wsd = hf.get_wsd_schedule(BASE, 5, 10, num_stable_steps=12, min_lr_ratio=ratio)
        hard = hf.get_cosine_with_hard_restarts_schedule_with_warmup(BASE, 4, 30, cycles)
        return wsd(counts), hard(counts)

    wsd, hard = both(jnp.float32(0.25), jnp.float32(3.0))
    want = [BASE * ref_wsd(k, 5, 12, 10, "linear", "cosine", 0.25, 0.5) for k in range(40)]
    np.testing.assert_allclose(wsd, want, rtol=max(rtol, 1e-6), atol=BASE * 1e-12)
    want = [BASE * ref_hard(k, 4, 30, 3) for k in range(40)]
    np.testing.assert_allclose(hard, want, rtol=max(rtol, 1e-6), atol=BASE * 1e-12)


@settings(max_examples=20, deadline=None)
@given(
    w=st.integers(0, 30),
    extra=st.integers(-5, 60),
    cycles=st.sampled_from([0.5, 1.0, 1.5, 2.0, 0.25]),
    rate=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_property_cosine_with_min_lr(w: int, extra: int, cycles: float, rate: float) -> None:
    n = max(w + extra, 0)
    s = hf.get_cosine_with_min_lr_schedule_with_warmup(BASE, w, n, cycles, min_lr_rate=rate)
    check(s, lambda k: ref_cosine(k, w, n, cycles, rate), [*range(0, 2 * n + 8, 3), n], 2e-6)


def test_grad_flows_through_values() -> None:
    g = jax.grad(lambda lr: hf.get_linear_schedule_with_warmup(lr, 10, 100)(55))(1e-3)
    assert float(g) == pytest.approx(0.5, rel=1e-6)
    g = jax.grad(lambda r: hf.get_wsd_schedule(1.0, 5, 10, num_stable_steps=5, min_lr_ratio=r)(0))
    assert float(g(0.1)) == pytest.approx(1.0, rel=1e-6)  # warmup starts at r * lr
    # Negative counts give the value at 0, as everywhere in the library.
    s = hf.get_constant_schedule_with_warmup(BASE, 4)
    assert float(s(-3)) == float(s(0)) == 0.0
