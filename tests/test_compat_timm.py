"""optax_warmup.compat.timm against a transcription of timm's schedulers, stepped per update.

``SimTimm`` reproduces timm's ``Scheduler`` with ``t_in_epochs=False``: the
constructor sets the first learning rate (``warmup_lr_init`` with a warmup, the
base value without), and ``step_update(num_updates=k)`` after the ``k``-th
update sets the next one to ``_get_lr(k)``. The ``_get_lr`` bodies follow timm's
source in float64.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optax_warmup.compat import timm
from tests.compat_helpers import assert_matches, values

BASE = 0.1


class SimTimm:
    """timm's per-update protocol over a ``decay(t)`` (the part after warmup)."""

    def __init__(
        self,
        base: float,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        warmup_prefix: bool = False,
        tanh_target: bool = False,
    ) -> None:
        self.base = base
        self.warmup_t = warmup_t
        self.warmup_lr_init = warmup_lr_init
        self.warmup_prefix = warmup_prefix
        self.lr = base  # Scheduler.__init__: update_groups(base_values)
        if warmup_t:
            # TanhLRScheduler aims its non-prefix warmup at _get_lr(warmup_t).
            target = self._get_lr(warmup_t) if (tanh_target and not warmup_prefix) else base
            self.warmup_step = (target - warmup_lr_init) / warmup_t
            self.lr = warmup_lr_init

    def decay(self, t: float) -> float:
        raise NotImplementedError

    def _get_lr(self, t: int) -> float:
        if t < self.warmup_t:
            return self.warmup_lr_init + t * self.warmup_step
        if self.warmup_prefix:
            t = t - self.warmup_t
        return self.decay(t)

    def run(self, updates: int) -> list[float]:
        lrs = []
        for k in range(updates):
            lrs.append(self.lr)  # the (k+1)-th optimizer.step() uses this
            self.lr = self._get_lr(k + 1)  # step_update(num_updates=k + 1)
        return lrs


class Cycles(SimTimm):
    """Cosine / tanh / poly: timm's cycle arithmetic, then the shape."""

    def __init__(
        self,
        kind: str,
        base: float,
        t_initial: int,
        lr_min: float = 0.0,
        cycle_mul: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int = 1,
        k_decay: float = 1.0,
        power: float = 0.5,
        lb: float = -7.0,
        ub: float = 3.0,
        **warm: Any,
    ) -> None:
        self.kind, self.t_initial, self.lr_min = kind, t_initial, lr_min
        self.cycle_mul, self.cycle_decay, self.cycle_limit = cycle_mul, cycle_decay, cycle_limit
        self.k, self.power, self.lb, self.ub = k_decay, power, lb, ub
        super().__init__(base, tanh_target=(kind == "tanh"), **warm)

    def decay(self, t: float) -> float:
        if self.cycle_mul != 1:
            i = math.floor(math.log(1 - t / self.t_initial * (1 - self.cycle_mul), self.cycle_mul))
            t_i = self.cycle_mul**i * self.t_initial
            t_curr = t - (1 - self.cycle_mul**i) / (1 - self.cycle_mul) * self.t_initial
        else:
            i = t // self.t_initial
            t_i = self.t_initial
            t_curr = t - (self.t_initial * i)
        if i >= self.cycle_limit:
            return self.lr_min
        lr_max = self.base * self.cycle_decay**i
        if self.kind == "cosine":
            c = math.cos(math.pi * t_curr**self.k / t_i**self.k)
            return self.lr_min + 0.5 * (lr_max - self.lr_min) * (1 + c)
        if self.kind == "poly":
            return (
                self.lr_min
                + (lr_max - self.lr_min) * (1 - t_curr**self.k / t_i**self.k) ** self.power
            )
        tr = t_curr / t_i
        th = math.tanh(self.lb * (1.0 - tr) + self.ub * tr)
        return self.lr_min + 0.5 * (lr_max - self.lr_min) * (1 - th)


class Step(SimTimm):
    def __init__(self, base: float, decay_t: float, decay_rate: float, **warm: Any) -> None:
        self.decay_t, self.decay_rate = decay_t, decay_rate
        super().__init__(base, **warm)

    def decay(self, t: float) -> float:
        return self.base * self.decay_rate ** (t // self.decay_t)


class MultiStep(SimTimm):
    def __init__(self, base: float, decay_t: list[int], decay_rate: float, **warm: Any) -> None:
        self.decay_t, self.decay_rate = decay_t, decay_rate
        super().__init__(base, **warm)

    def decay(self, t: float) -> float:
        # timm 1.0.31 multistep_lr.py get_curr_decay_steps: bisect_right(decay_t, t + 1).
        return self.base * self.decay_rate ** bisect.bisect_right(self.decay_t, t + 1)


class Wsd(SimTimm):
    """timm 1.0.31 ``WSDLRScheduler._get_lr`` (``wsd_lr.py``), its warmup always a prefix."""

    def __init__(
        self,
        base: float,
        t_initial: int,
        decay_t: int,
        lr_min: float = 0.0,
        stable_fn: str = "constant",
        stable_timescale: float | None = None,
        stable_power: float = 0.5,
        decay_fn: str = "1-sqrt",
        decay_power: float = 0.5,
        decay_ratio: float = 0.1,
        **warm: Any,
    ) -> None:
        self.t_initial, self.decay_t, self.lr_min = t_initial, decay_t, lr_min
        self.stable_fn, self.stable_power = stable_fn, stable_power
        self.tau = warm.get("warmup_t", 0) if stable_timescale is None else stable_timescale
        self.decay_fn, self.decay_power, self.decay_ratio = decay_fn, decay_power, decay_ratio
        super().__init__(base, warmup_prefix=True, **warm)

    def stable(self, t_s: float) -> float:
        if self.stable_fn == "constant":
            return 1.0
        power = 0.5 if self.stable_fn == "rsqrt" else self.stable_power
        return (1.0 + t_s / self.tau) ** -power

    def factor(self, f: float) -> float:
        r = self.decay_ratio
        return {
            "linear": 1.0 - f,
            "1-sqrt": 1.0 - math.sqrt(f),
            "cosine": 0.5 * (1.0 + math.cos(math.pi * f)),
            "power": 1.0 - f**self.decay_power,
            "exp": (r**f - r) / (1.0 - r),
        }[self.decay_fn]

    def decay(self, t: float) -> float:
        top = max(self.base * self.stable(t), self.lr_min)
        t_decay = t - (self.t_initial - self.decay_t)
        if t_decay <= 0:
            return top
        return self.lr_min + (top - self.lr_min) * self.factor(min(t_decay / self.decay_t, 1.0))


BUILDERS = {
    "cosine": timm.CosineLRScheduler,
    "tanh": timm.TanhLRScheduler,
    "poly": timm.PolyLRScheduler,
}


def check(ours: Any, sim: SimTimm, updates: int, rtol: float) -> None:
    want = sim.run(updates)
    assert_matches(ours, lambda k: want[k], range(updates), rtol, scale=BASE)


WARMUPS = [
    {},
    {"warmup_t": 5, "warmup_lr_init": 1e-4},
    {"warmup_t": 5, "warmup_lr_init": 1e-4, "warmup_prefix": True},
]


@pytest.mark.parametrize("kind", ["cosine", "tanh", "poly"])
@pytest.mark.parametrize("warm", WARMUPS)
def test_single_cycle_with_warmups(kind: str, warm: dict[str, Any], rtol: float) -> None:
    kw: dict[str, Any] = {"lr_min": 1e-3, "power": 2.0} if kind == "poly" else {"lr_min": 1e-3}
    sim = Cycles(kind, BASE, 30, **kw, **warm)
    ours = BUILDERS[kind](BASE, 30, **kw, **warm)
    check(ours, sim, 50, rtol)


@pytest.mark.parametrize("kind", ["cosine", "tanh", "poly"])
@pytest.mark.parametrize(
    "cycles",
    [
        {"cycle_limit": 3, "cycle_decay": 0.5},
        {"cycle_limit": 4, "cycle_mul": 2.0, "cycle_decay": 0.8},
        {"cycle_limit": 3, "cycle_mul": 1.5},
    ],
)
def test_cycles(kind: str, cycles: dict[str, Any], rtol: float) -> None:
    warm = {"warmup_t": 4, "warmup_lr_init": 1e-4, "warmup_prefix": True}
    sim = Cycles(kind, BASE, 10, lr_min=2e-3, **cycles, **warm)
    ours = BUILDERS[kind](BASE, 10, lr_min=2e-3, **cycles, **warm)
    check(ours, sim, 170, rtol)


@pytest.mark.parametrize("kind", ["cosine", "tanh"])
def test_cycles_under_a_non_prefix_warmup(kind: str, rtol: float) -> None:
    cycles = {"cycle_limit": 3, "cycle_decay": 0.5, "cycle_mul": 2.0}
    warm = {"warmup_t": 6, "warmup_lr_init": 0.0}
    sim = Cycles(kind, BASE, 8, lr_min=1e-3, **cycles, **warm)
    ours = BUILDERS[kind](BASE, 8, lr_min=1e-3, **cycles, **warm)
    check(ours, sim, 70, rtol)


@pytest.mark.parametrize("kind", ["cosine", "poly"])
@pytest.mark.parametrize("k", [0.5, 2.0])
def test_k_decay(kind: str, k: float, rtol: float) -> None:
    sim = Cycles(kind, BASE, 20, lr_min=1e-3, k_decay=k, cycle_limit=2, power=1.5)
    kw = {"power": 1.5} if kind == "poly" else {}
    ours = BUILDERS[kind](BASE, 20, lr_min=1e-3, k_decay=k, cycle_limit=2, **kw)
    check(ours, sim, 45, rtol)


def test_cosine_drops_at_the_end_of_a_non_prefix_warmup_and_tanh_does_not() -> None:
    cos = values(timm.CosineLRScheduler(BASE, 20, warmup_t=10, warmup_lr_init=0.0), [9, 10])
    tanh = values(timm.TanhLRScheduler(BASE, 20, warmup_t=10, warmup_lr_init=0.0), [9, 10])
    # Cosine: warmup aims at BASE, then the decay clock (started at 0) says cos(pi/2).
    assert cos[0] == pytest.approx(0.09, rel=1e-6)
    assert cos[1] == pytest.approx(0.05, rel=1e-6)
    assert tanh[0] < tanh[1] * 1.0000001


@pytest.mark.parametrize(
    ("decay_t", "warm"), [(7, {}), (5, WARMUPS[1]), (2.5, {**WARMUPS[1], "warmup_prefix": False})]
)
def test_step(decay_t: float, warm: dict[str, Any], rtol: float) -> None:
    sim = Step(BASE, decay_t, 0.5, warmup_prefix=warm.pop("warmup_prefix", True), **warm)
    ours = timm.StepLRScheduler(BASE, decay_t, 0.5, warmup_prefix=sim.warmup_prefix, **warm)
    check(ours, sim, 40, rtol)


@pytest.mark.parametrize(
    ("decay_t", "warm"), [([0, 5, 12], {}), ([3, 8], WARMUPS[1]), ([4, 4, 9], WARMUPS[1])]
)
def test_multistep(decay_t: list[int], warm: dict[str, Any], rtol: float) -> None:
    sim = MultiStep(BASE, decay_t, 0.1, warmup_prefix=True, **warm)
    ours = timm.MultiStepLRScheduler(BASE, decay_t, 0.1, **warm)
    check(ours, sim, 25, rtol)


def _trunc_normal_cdf(x: float, bound: float, std: float) -> float:
    def phi(z: float) -> float:
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    a = bound / std
    return (phi(x / std) - phi(-a)) / (phi(a) - phi(-a))


@pytest.mark.parametrize("std", [1.0, 0.3])
def test_noise_is_timms_truncated_normal_in_its_range(std: float) -> None:
    lo, hi, pct = 10, 4010, 0.5

    def step(**noise: Any) -> Any:
        return timm.StepLRScheduler(BASE, 10_000, warmup_t=2, warmup_lr_init=0.01, **noise)

    noise = {"noise_range_t": [lo, hi], "noise_pct": pct, "noise_std": std}
    counts = range(4100)
    a, b = values(step(), counts), values(step(**noise, noise_seed=7), counts)
    outside = np.r_[0:lo, hi:4100]
    np.testing.assert_array_equal(a[outside], b[outside])
    n = np.sort(b[lo:hi] / a[lo:hi] - 1)
    assert np.all(np.abs(n) < pct)
    # Kolmogorov-Smirnov distance to the truncated normal (critical value ~0.026 at 1%).
    cdf = np.asarray([_trunc_normal_cdf(x, pct, std) for x in n])
    ecdf = np.arange(1, len(n) + 1) / len(n)
    assert np.max(np.abs(ecdf - cdf)) < 0.03
    # Same seed, same draws; another seed, other draws.
    np.testing.assert_array_equal(values(step(**noise, noise_seed=7), range(100)), b[:100])
    other = values(step(**noise, noise_seed=8), range(lo, lo + 50))
    assert not np.array_equal(other, b[lo : lo + 50])


def test_noise_never_touches_count_zero() -> None:
    s = timm.CosineLRScheduler(BASE, 100, noise_range_t=0)
    v = values(s, range(5))
    assert v[0] == pytest.approx(BASE, rel=1e-7)
    assert np.all(v[1:] != values(timm.CosineLRScheduler(BASE, 100), range(1, 5)))


def test_vmap_over_hyperparameters_compiles_once(rtol: float) -> None:
    traces = 0

    def at(lr_min: jax.Array, warmup_t: jax.Array, decay: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        s = timm.CosineLRScheduler(
            BASE,
            10,
            lr_min=lr_min,
            warmup_t=warmup_t,
            warmup_lr_init=1e-4,
            warmup_prefix=True,
            cycle_limit=3,
            cycle_decay=decay,
        )
        return s(jnp.arange(40))

    f = jax.jit(jax.vmap(at))
    got = f(jnp.asarray([0.0, 1e-3]), jnp.asarray([2, 5]), jnp.asarray([0.5, 0.9]))
    f(jnp.asarray([1e-4, 1e-3]), jnp.asarray([3, 4]), jnp.asarray([0.7, 0.9]))
    assert traces == 1
    for row, lr_min, w, d in zip(got, [0.0, 1e-3], [2, 5], [0.5, 0.9], strict=True):
        sim = Cycles(
            "cosine",
            BASE,
            10,
            lr_min=lr_min,
            cycle_limit=3,
            cycle_decay=d,
            warmup_t=w,
            warmup_lr_init=1e-4,
            warmup_prefix=True,
        )
        np.testing.assert_allclose(row, sim.run(40), rtol=max(rtol, 1e-6), atol=BASE * 1e-12)


def test_traced_noise_seed_and_warmup_under_jit() -> None:
    @jax.jit
    def run(seed: jax.Array, w: jax.Array) -> jax.Array:
        s = timm.TanhLRScheduler(BASE, 30, warmup_t=w, noise_range_t=5, noise_seed=seed)
        return s(jnp.arange(20))

    a, b = run(jnp.int32(1), jnp.int32(3)), run(jnp.int32(2), jnp.int32(3))
    np.testing.assert_array_equal(a[:5], b[:5])
    assert not np.array_equal(a[5:], b[5:])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="t_initial"):
        timm.CosineLRScheduler(BASE, 0)
    with pytest.raises(ValueError, match="lr_min"):
        timm.CosineLRScheduler(BASE, 10, lr_min=-1.0)
    with pytest.raises(ValueError, match="cycle_mul"):
        timm.PolyLRScheduler(BASE, 10, cycle_mul=0.5, cycle_limit=2)
    with pytest.raises(ValueError, match="lb"):
        timm.TanhLRScheduler(BASE, 10, lb=3.0, ub=-7.0)
    with pytest.raises(ValueError, match="warmup_t"):
        timm.StepLRScheduler(BASE, 10, warmup_t=-1)
    with pytest.raises(ValueError, match="noise_pct"):
        timm.StepLRScheduler(BASE, 10, noise_range_t=3, noise_pct=0.0)
    with pytest.raises(ValueError, match="noise_range_t"):
        timm.StepLRScheduler(BASE, 10, noise_range_t=[1, 2, 3])
    with pytest.raises(ValueError, match="decay_t"):
        timm.MultiStepLRScheduler(BASE, [5, 3])
    with pytest.raises(ValueError, match="k_decay"):
        timm.CosineLRScheduler(BASE, 10, k_decay=0.0)


@settings(max_examples=20, deadline=None)
@given(
    kind=st.sampled_from(["cosine", "tanh", "poly"]),
    t_initial=st.integers(1, 25),
    warmup_t=st.integers(0, 12),
    prefix=st.booleans(),
    limit=st.integers(1, 3),
    decay=st.sampled_from([1.0, 0.5]),
    lr_min=st.sampled_from([0.0, 1e-3]),
)
def test_property_cycles_and_warmups(
    kind: str, t_initial: int, warmup_t: int, prefix: bool, limit: int, decay: float, lr_min: float
) -> None:
    kw: dict[str, Any] = {"lr_min": lr_min, "cycle_limit": limit, "cycle_decay": decay}
    warm = {"warmup_t": warmup_t, "warmup_lr_init": 1e-4, "warmup_prefix": prefix}
    sim = Cycles(kind, BASE, t_initial, **kw, **warm)
    check(BUILDERS[kind](BASE, t_initial, **kw, **warm), sim, 90, 2e-6)


def test_grad_flows_through_values() -> None:
    f = lambda lr_min: timm.CosineLRScheduler(BASE, 10, lr_min=lr_min)(5)  # noqa: E731
    assert float(jax.grad(f)(0.01)) == pytest.approx(0.5, rel=1e-5)  # half-way down the cosine


@pytest.mark.parametrize("stable_fn", ["constant", "rsqrt", "power"])
@pytest.mark.parametrize("decay_fn", ["linear", "1-sqrt", "cosine", "power", "exp"])
@pytest.mark.parametrize("lr_min", [0.0, 0.02])
def test_wsd_every_stable_and_decay_function(
    stable_fn: str, decay_fn: str, lr_min: float, rtol: float
) -> None:
    kw: dict[str, Any] = {
        "lr_min": lr_min,
        "stable_fn": stable_fn,
        "stable_power": 1.7,
        "decay_fn": decay_fn,
        "decay_power": 2.0,
        "decay_ratio": 0.05,
        "warmup_t": 4,
        "warmup_lr_init": 1e-4,
    }
    sim = Wsd(BASE, 40, 12, **kw)
    # float32 rounding: relative to the value, and to the peak where the value is far below it.
    got = values(timm.WSDLRScheduler(BASE, 40, 12, **kw), range(60))
    np.testing.assert_allclose(got, sim.run(60), rtol=max(rtol, 2e-6), atol=2e-7 * BASE)


def test_wsd_decaying_stable_value_meets_its_floor_at_timms_count() -> None:
    # 0.1 (1 + t / 3)**-1 <= 0.02 from t = 12: held at lr_min, the decay has nothing left.
    kw: dict[str, Any] = {"lr_min": 0.02, "stable_fn": "power", "stable_power": 1.0}
    sim = Wsd(BASE, 30, 5, stable_timescale=3.0, **kw)
    ours = timm.WSDLRScheduler(BASE, 30, 5, stable_timescale=3.0, **kw)
    check(ours, sim, 40, 1e-6)
    got = values(ours, [12, 13, 39])
    assert got[0] == pytest.approx(0.02, rel=1e-6)
    assert got[2] == pytest.approx(0.02, rel=1e-6)
    assert values(ours, [11])[0] > 0.02


def test_wsd_traced_stable_arguments_under_jit() -> None:
    @jax.jit
    def run(tau: jax.Array, power: jax.Array) -> jax.Array:
        s = timm.WSDLRScheduler(
            BASE, 30, 5, lr_min=0.02, stable_fn="power", stable_timescale=tau, stable_power=power
        )
        return s(jnp.arange(40))

    sim = Wsd(BASE, 30, 5, lr_min=0.02, stable_fn="power", stable_timescale=3.0, stable_power=0.8)
    np.testing.assert_allclose(
        np.asarray(run(jnp.float32(3.0), jnp.float32(0.8))), sim.run(40), rtol=2e-6
    )


def test_wsd_bad_stable_arguments() -> None:
    with pytest.raises(ValueError, match="stable_fn"):
        timm.WSDLRScheduler(BASE, 10, 2, stable_fn="cosine")
    with pytest.raises(ValueError, match="default warmup_t"):
        timm.WSDLRScheduler(BASE, 10, 2, stable_fn="rsqrt")
    with pytest.raises(ValueError, match="stable_power"):
        timm.WSDLRScheduler(BASE, 10, 2, stable_fn="power", stable_timescale=2.0, stable_power=0.0)
