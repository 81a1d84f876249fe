"""optax_warmup.compat.torch against simulated ``torch.optim.lr_scheduler`` schedulers.

The classes below transcribe torch's recursive ``get_lr`` (the chainable form
torch uses when ``step()`` is called without an epoch), its ``_initial_step``
at construction, ``step(epoch)`` with the closed form, and ``SequentialLR`` /
``ChainedScheduler``, in float64, on a one-group optimizer stub. The value of
update ``k`` is the group's lr after construction and ``k`` calls of ``step()``.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optax_warmup.compat import torch
from tests import reference as ref
from tests.compat_helpers import assert_matches, values

BASE = 0.05


class Opt:
    def __init__(self, lr: float) -> None:
        self.group: dict[str, float] = {"lr": lr}


class LRScheduler:
    def __init__(self, opt: Opt) -> None:
        self.opt = opt
        opt.group.setdefault("initial_lr", opt.group["lr"])
        self.base_lr = opt.group["initial_lr"]
        self.last_epoch = -1
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    @property
    def lr(self) -> float:
        return self.opt.group["lr"]

    def get_lr(self) -> float:
        raise NotImplementedError

    def closed_form(self) -> float:
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            value = self.get_lr()
        else:
            self.last_epoch = epoch
            value = self.closed_form()
        self.opt.group["lr"] = value


class LinearLR(LRScheduler):
    def __init__(self, opt: Opt, start: float = 1 / 3, end: float = 1.0, total: int = 5) -> None:
        self.start, self.end, self.total = start, end, total
        super().__init__(opt)

    def get_lr(self) -> float:
        if self.last_epoch == 0:
            return self.lr * self.start
        if self.last_epoch > self.total:
            return self.lr
        d = self.end - self.start
        return self.lr * (1.0 + d / (self.total * self.start + (self.last_epoch - 1) * d))

    def closed_form(self) -> float:
        d = self.end - self.start
        return self.base_lr * (self.start + d * min(self.total, self.last_epoch) / self.total)


class ConstantLR(LRScheduler):
    def __init__(self, opt: Opt, factor: float = 1 / 3, total: int = 5) -> None:
        self.factor, self.total = factor, total
        super().__init__(opt)

    def get_lr(self) -> float:
        if self.last_epoch == 0:
            return self.lr * self.factor
        if self.last_epoch != self.total:
            return self.lr
        return self.lr * (1.0 / self.factor)

    def closed_form(self) -> float:
        return self.base_lr * (self.factor + (self.last_epoch >= self.total) * (1 - self.factor))


class ExponentialLR(LRScheduler):
    def __init__(self, opt: Opt, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(opt)

    def get_lr(self) -> float:
        return self.lr if self.last_epoch == 0 else self.lr * self.gamma

    def closed_form(self) -> float:
        return self.base_lr * self.gamma**self.last_epoch


class StepLR(LRScheduler):
    def __init__(self, opt: Opt, step_size: int, gamma: float = 0.1) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(opt)

    def get_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.lr
        return self.lr * self.gamma

    def closed_form(self) -> float:
        return self.base_lr * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepLR(LRScheduler):
    def __init__(self, opt: Opt, milestones: list[int], gamma: float = 0.1) -> None:
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(opt)

    def get_lr(self) -> float:
        if self.last_epoch not in self.milestones:
            return self.lr
        return self.lr * self.gamma ** self.milestones[self.last_epoch]

    def closed_form(self) -> float:
        marks = sorted(self.milestones.elements())
        return self.base_lr * self.gamma ** bisect.bisect_right(marks, self.last_epoch)


class CosineAnnealingLR(LRScheduler):
    def __init__(self, opt: Opt, t_max: int, eta_min: float = 0.0) -> None:
        self.t_max, self.eta_min = t_max, eta_min
        super().__init__(opt)

    def get_lr(self) -> float:
        e, t, lo = self.last_epoch, self.t_max, self.eta_min
        if e == 0:
            return self.lr
        if self._step_count == 1 and e > 0:
            return lo + (self.base_lr - lo) * (1 + math.cos(e * math.pi / t)) / 2
        if (e - 1 - t) % (2 * t) == 0:
            return self.lr + (self.base_lr - lo) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
        return ratio * (self.lr - lo) + lo

    def closed_form(self) -> float:
        lo = self.eta_min
        return lo + (self.base_lr - lo) * (1 + math.cos(math.pi * self.last_epoch / self.t_max)) / 2


class WarmRestarts(LRScheduler):
    def __init__(self, opt: Opt, t_0: int, t_mult: int = 1, eta_min: float = 0.0) -> None:
        self.t_0, self.t_i, self.t_mult, self.eta_min, self.t_cur = t_0, t_0, t_mult, eta_min, -1
        super().__init__(opt)

    def step(self, epoch: int | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.t_cur += 1
            if self.t_cur >= self.t_i:
                self.t_cur -= self.t_i
                self.t_i *= self.t_mult
        else:
            assert epoch < self.t_0
            self.t_i, self.t_cur = self.t_0, epoch
        self.last_epoch = epoch
        cos = math.cos(math.pi * self.t_cur / self.t_i)
        self.opt.group["lr"] = self.eta_min + (self.base_lr - self.eta_min) * (1 + cos) / 2


def run(opt: Opt, stepper: Any, updates: int) -> list[float]:
    lrs = []
    for _ in range(updates):
        lrs.append(opt.group["lr"])
        stepper()
    return lrs


def simulate(make: Any, updates: int) -> list[float]:
    opt = Opt(BASE)
    sched = make(opt)
    return run(opt, sched.step, updates)


def check(ours: Any, want: list[float], rtol: float) -> None:
    assert_matches(ours, lambda k: want[k], range(len(want)), rtol, scale=BASE)


@pytest.mark.parametrize(
    ("ours", "make"),
    [
        (lambda: torch.LinearLR(BASE), lambda o: LinearLR(o)),
        (lambda: torch.LinearLR(BASE, 0.25, 1.0, 10), lambda o: LinearLR(o, 0.25, 1.0, 10)),
        (lambda: torch.LinearLR(BASE, 1.0, 0.1, 8), lambda o: LinearLR(o, 1.0, 0.1, 8)),
        (lambda: torch.ConstantLR(BASE), lambda o: ConstantLR(o)),
        (lambda: torch.ConstantLR(BASE, 0.5, 1), lambda o: ConstantLR(o, 0.5, 1)),
        (lambda: torch.ExponentialLR(BASE, 0.95), lambda o: ExponentialLR(o, 0.95)),
        (lambda: torch.StepLR(BASE, 7, gamma=0.5), lambda o: StepLR(o, 7, 0.5)),
        (lambda: torch.StepLR(BASE, 1), lambda o: StepLR(o, 1)),
        (
            lambda: torch.MultiStepLR(BASE, [12, 4, 4, 20], gamma=0.3),
            lambda o: MultiStepLR(o, [12, 4, 4, 20], 0.3),
        ),
        (lambda: torch.MultiStepLR(BASE, [0, 9]), lambda o: MultiStepLR(o, [0, 9])),
        (lambda: torch.CosineAnnealingLR(BASE, 10), lambda o: CosineAnnealingLR(o, 10)),
        (
            lambda: torch.CosineAnnealingLR(BASE, 7, eta_min=0.01),
            lambda o: CosineAnnealingLR(o, 7, 0.01),
        ),
        (
            lambda: torch.CosineAnnealingWarmRestarts(BASE, 5, T_mult=2, eta_min=1e-3),
            lambda o: WarmRestarts(o, 5, 2, 1e-3),
        ),
        (
            lambda: torch.CosineAnnealingWarmRestarts(BASE, 7),
            lambda o: WarmRestarts(o, 7),
        ),
        (
            lambda: torch.CosineAnnealingWarmRestarts(BASE, 3, T_mult=3),
            lambda o: WarmRestarts(o, 3, 3),
        ),
    ],
)
def test_schedulers_match_torchs_recursion(ours: Any, make: Any, rtol: float) -> None:
    # 60 updates: past every ramp, several StepLR drops, 3+ half-periods of the cosines.
    check(ours(), simulate(make, 60), rtol)


def test_cosine_annealing_is_periodic_past_t_max() -> None:
    v = values(torch.CosineAnnealingLR(1.0, 10, eta_min=0.1), [10, 15, 20, 30])
    np.testing.assert_allclose(v, [0.1, 0.55, 1.0, 0.1], rtol=1e-6)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle(anneal: Any, three_phase: bool, rtol: float) -> None:
    total, pct = 50, 0.3
    s = torch.OneCycleLR(
        BASE, total_steps=total, pct_start=pct, anneal_strategy=anneal, three_phase=three_phase
    )
    want = [
        ref.one_cycle_torch(k, BASE, total, pct, 25.0, 1e4, anneal, three_phase)
        for k in range(total)
    ]
    # Beyond total_steps torch raises; the schedule holds its final value.
    want += [want[-1]] * 5
    assert_matches(s, lambda k: want[k], range(total + 5), max(rtol, 2e-6), scale=BASE)
    by_epochs = torch.OneCycleLR(
        BASE,
        epochs=5,
        steps_per_epoch=10,
        pct_start=pct,
        anneal_strategy=anneal,
        three_phase=three_phase,
    )
    np.testing.assert_array_equal(values(by_epochs, range(55)), values(s, range(55)))


def test_sequential(rtol: float) -> None:
    def make(opt: Opt) -> Any:
        scheds = [LinearLR(opt, 0.1, 1.0, 5), CosineAnnealingLR(opt, 20, 1e-3)]
        return sequential(opt, scheds, [5])

    ours = torch.SequentialLR(
        [torch.LinearLR(BASE, 0.1, 1.0, 5), torch.CosineAnnealingLR(BASE, 20, 1e-3)], [5]
    )
    check(ours, simulate_stepper(make, 50), rtol)

    def make3(opt: Opt) -> Any:
        scheds = [ConstantLR(opt, 0.5, 3), ExponentialLR(opt, 0.9), StepLR(opt, 4, 0.5)]
        return sequential(opt, scheds, [6, 15])

    ours = torch.SequentialLR(
        [
            torch.ConstantLR(BASE, 0.5, 3),
            torch.ExponentialLR(BASE, 0.9),
            torch.StepLR(BASE, 4, 0.5),
        ],
        [6, 15],
    )
    check(ours, simulate_stepper(make3, 30), rtol)


def sequential(opt: Opt, scheds: list[LRScheduler], milestones: list[int]) -> Any:
    """torch.optim.lr_scheduler.SequentialLR's constructor and step()."""
    opt.group["lr"] = opt.group["initial_lr"]
    for s in scheds:
        s.last_epoch -= 1
    scheds[0]._initial_step()
    state = {"last_epoch": 0}

    def step() -> None:
        state["last_epoch"] += 1
        idx = bisect.bisect_right(milestones, state["last_epoch"])
        if idx > 0 and milestones[idx - 1] == state["last_epoch"]:
            scheds[idx].step(0)
        else:
            scheds[idx].step()

    return step


def simulate_stepper(make: Any, updates: int) -> list[float]:
    opt = Opt(BASE)
    return run(opt, make(opt), updates)


def chained(scheds: list[LRScheduler]) -> Any:
    def step() -> None:
        for s in scheds:
            s.step()

    return step


def test_chained(rtol: float) -> None:
    make = lambda o: chained([ConstantLR(o, 0.1, 2), ExponentialLR(o, 0.9)])  # noqa: E731
    ours = torch.ChainedScheduler(
        [torch.ConstantLR(BASE, 0.1, 2), torch.ExponentialLR(BASE, 0.9)], peak_value=BASE
    )
    check(ours, simulate_stepper(make, 30), rtol)

    make = lambda o: chained([LinearLR(o, 0.2, 1.0, 6), StepLR(o, 5, 0.5), MultiStepLR(o, [3, 11])])  # noqa: E731
    ours = torch.ChainedScheduler(
        [
            torch.LinearLR(BASE, 0.2, 1.0, 6),
            torch.StepLR(BASE, 5, 0.5),
            torch.MultiStepLR(BASE, [3, 11]),
        ],
        BASE,
    )
    check(ours, simulate_stepper(make, 30), rtol)

    # Linear warmup x cosine (eta_min = 0): exact, past T_max too, once the warmup is over.
    make = lambda o: chained([LinearLR(o, 0.1, 1.0, 5), CosineAnnealingLR(o, 12)])  # noqa: E731
    ours = torch.ChainedScheduler(
        [torch.LinearLR(BASE, 0.1, 1.0, 5), torch.CosineAnnealingLR(BASE, 12)], BASE
    )
    want = simulate_stepper(make, 40)
    got = values(ours, range(40))
    mask = np.asarray([w > 1e-9 * BASE for w in want])  # torch's recursion leaves ~1e-18 at T_max
    np.testing.assert_allclose(got[mask], np.asarray(want)[mask], rtol=max(rtol, 1e-6))
    np.testing.assert_allclose(got[~mask], 0.0, atol=BASE * 1e-12)


def test_chained_cosine_restart_quirk_is_documented() -> None:
    # torch's recursive cosine adds (base - eta_min)(1 - cos(pi/T))/2 at T+1, dropping the
    # other factors; the product keeps them. They agree up to T_max, differ after.
    make = lambda o: chained([ExponentialLR(o, 0.9), CosineAnnealingLR(o, 6)])  # noqa: E731
    ours = torch.ChainedScheduler(
        [torch.ExponentialLR(BASE, 0.9), torch.CosineAnnealingLR(BASE, 6)], BASE
    )
    want = np.asarray(simulate_stepper(make, 10))
    got = values(ours, range(10))
    np.testing.assert_allclose(got[:6], want[:6], rtol=2e-6)
    assert got[7] == pytest.approx(want[7] * 0.9**7, rel=1e-5)


def test_vmap_over_hyperparameters_compiles_once(rtol: float) -> None:
    traces = 0

    def at(start: jax.Array, t_max: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        s = torch.SequentialLR(
            [torch.LinearLR(BASE, start, 1.0, 4), torch.CosineAnnealingLR(BASE, t_max)], [4]
        )
        return s(jnp.arange(30))

    f = jax.jit(jax.vmap(at))
    got = f(jnp.asarray([0.1, 0.5]), jnp.asarray([10, 20]))
    f(jnp.asarray([0.2, 0.3]), jnp.asarray([11, 12]))
    assert traces == 1
    for row, start, t_max in zip(got, [0.1, 0.5], [10, 20], strict=True):
        want = simulate_stepper(
            lambda o, s=start, t=t_max: sequential(
                o, [LinearLR(o, s, 1.0, 4), CosineAnnealingLR(o, t)], [4]
            ),
            30,
        )
        np.testing.assert_allclose(row, want, rtol=max(rtol, 1e-6), atol=BASE * 1e-12)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="start_factor"):
        torch.LinearLR(BASE, start_factor=0.0)
    with pytest.raises(ValueError, match="end_factor"):
        torch.LinearLR(BASE, end_factor=1.5)
    with pytest.raises(ValueError, match="total_iters"):
        torch.ConstantLR(BASE, total_iters=0)
    with pytest.raises(ValueError, match="factor"):
        torch.ConstantLR(BASE, factor=2.0)
    with pytest.raises(ValueError, match="step_size"):
        torch.StepLR(BASE, 0)
    with pytest.raises(ValueError, match="milestones"):
        torch.MultiStepLR(BASE, [3, -1])
    with pytest.raises(ValueError, match="T_max"):
        torch.CosineAnnealingLR(BASE, 0)
    with pytest.raises(ValueError, match="T_0"):
        torch.CosineAnnealingWarmRestarts(BASE, 0)
    with pytest.raises(ValueError, match="T_mult"):
        torch.CosineAnnealingWarmRestarts(BASE, 5, T_mult=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="total_steps OR"):
        torch.OneCycleLR(BASE, epochs=3)
    with pytest.raises(ValueError, match="anneal_strategy"):
        torch.OneCycleLR(BASE, 100, anneal_strategy="exp")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pct_start"):
        torch.OneCycleLR(BASE, 100, pct_start=1.5)
    with pytest.raises(ValueError, match="one milestone fewer"):
        torch.SequentialLR([torch.ExponentialLR(BASE, 0.9)], [3])
    with pytest.raises(ValueError, match="at least one"):
        torch.ChainedScheduler([], BASE)
