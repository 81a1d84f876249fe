"""timm schedulers (``timm.scheduler``) stepped per update, value for value.

Each function takes the peer's arguments, with the optimizer's learning rate as
``peak_value``, and returns an optax schedule whose value at count ``k`` is the
learning rate of the ``(k+1)``-th ``optimizer.step()`` when the scheduler is
built with ``t_in_epochs=False`` and ``scheduler.step_update(num_updates=k+1)``
runs after every update. ``step_update(n)`` sets the learning rate of the next
update to ``_get_lr(n)`` (plus noise), so count ``k >= 1`` gets ``_get_lr(k)``;
count 0 gets what the constructor set: ``warmup_lr_init`` with a warmup,
``peak_value`` without one (never noisy). All durations (``t_initial``,
``warmup_t``, ``decay_t``, ``noise_range_t``) are counted in updates.

timm conventions kept here:

- Warmup: ``warmup_lr_init + k (target - warmup_lr_init) / warmup_t`` for
  ``k < warmup_t``. With ``warmup_prefix=False`` (the default of the cosine,
  tanh and poly schedulers) the decay clock starts at 0, under the warmup: the
  warmup aims at ``peak_value`` and the value **drops** at ``warmup_t`` to the
  decay's value there (the tanh scheduler instead aims at that value, no drop).
  With ``warmup_prefix=True`` the decay starts after the warmup.
- Cycles: cycle ``i`` lasts ``t_initial * cycle_mul**i`` updates and peaks at
  ``peak_value * cycle_decay**i``; ``lr_min`` is an absolute floor; after
  ``cycle_limit`` cycles the value is ``lr_min``. ``k_decay`` warps the progress
  ``p`` of each cycle to ``p**k_decay``.
- Noise: inside ``noise_range_t`` the value is multiplied by ``1 + n``, ``n``
  normal with standard deviation ``noise_std`` truncated to ``|n| < noise_pct``
  and drawn from ``noise_seed`` and the count, as timm 1.0.31 does
  (``Scheduler._calculate_noise`` multiplies a standard normal by ``noise_std``
  and redraws until it is inside the bound). timm draws with torch's generator:
  values here are equal to timm's in distribution, not bit for bit.
- ``t_in_epochs`` is accepted in timm's position and changes nothing: the count
  of these schedules is whatever timm's ``t`` counts (updates here).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import join as _join
from optax_warmup.schedules import noise as _noise
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import Schedule

NoiseRange = ArrayLike | Sequence[ArrayLike] | None


@dataclasses.dataclass(frozen=True)
class _Protocol:
    """timm's per-update protocol around a decay: warmup, the count-0 value, noise."""

    peak_value: ArrayLike
    warmup_t: ArrayLike
    warmup_lr_init: ArrayLike
    warmup_prefix: bool
    noise_range_t: NoiseRange
    noise_pct: ArrayLike
    noise_std: ArrayLike
    noise_seed: ArrayLike

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> _Protocol:
        """From a scheduler's arguments (its ``locals()``), which carry the same names."""
        return cls(**{f.name: arguments[f.name] for f in dataclasses.fields(cls)})

    def __post_init__(self) -> None:
        v.check_duration("warmup_t", self.warmup_t)
        v.check_range("warmup_lr_init", self.warmup_lr_init, low=0.0)
        # timm loops forever at 0; above 1 the learning rate could change sign.
        v.check_range("noise_pct", self.noise_pct, low=0.0, high=1.0, low_open=True)
        v.check_range("noise_std", self.noise_std, low=0.0, low_open=True)

    def apply(self, main: Any, *, target: ArrayLike | None = None, fix_first: bool = False) -> Any:
        """Warmup to ``target`` (default the peak) in front of (prefix) or over ``main``.

        ``fix_first`` holds count 0 at the constructor's value where ``_get_lr(0)``
        differs from it.
        """
        w = v.as_duration("warmup_t", self.warmup_t)
        target = self.peak_value if target is None else target
        warm = _engine.stack_phases(
            [
                _build.warmup_phase(target, w, "linear", init_value=self.warmup_lr_init),
                _build.hold_phase(target),
            ]
        )
        schedule = _join.join([warm, main], [w], rebase=self.warmup_prefix)
        if fix_first:
            init = jnp.asarray(self.warmup_lr_init, jnp.float32)
            first = jnp.where(w > 0, init, self.peak_value)
            schedule = _join.join([_combine.constant_schedule(first), schedule], [1], rebase=False)
        return schedule if self.noise_range_t is None else self._noisy(schedule)

    def _noisy(self, schedule: Any) -> Any:
        lo: Any
        hi: Any = None
        if isinstance(self.noise_range_t, list | tuple):
            if len(self.noise_range_t) != 2:
                raise ValueError(
                    f"noise_range_t must be a number or [start, stop], got {self.noise_range_t!r}."
                )
            lo, hi = self.noise_range_t
        else:
            lo = self.noise_range_t
        v.check_finite("noise_range_t", lo)
        # Counts are whole: t >= lo means t >= ceil(lo); count 0 is never noisy.
        idt = v.index_dtype()
        start = jnp.maximum(jnp.ceil(jnp.asarray(lo, jnp.float32)), 1).astype(idt)
        stop = None
        if hi is not None:
            v.check_finite("noise_range_t", hi)
            stop = jnp.maximum(jnp.ceil(jnp.asarray(hi, jnp.float32)), 0).astype(idt)
        key = jax.random.key(self.noise_seed)
        return _noise.with_noise(
            schedule, key, pct=self.noise_pct, std=self.noise_std, start_step=start, end_step=stop
        )


def _cycles(
    peak_value: ArrayLike,
    t_initial: ArrayLike,
    lr_min: ArrayLike,
    shape: _shapes.ResolvedShape,
    cycle_mul: ArrayLike,
    cycle_decay: ArrayLike,
    cycle_limit: ArrayLike,
) -> _engine.PhaseSchedule:
    """Cycles of ``shape`` from ``peak * cycle_decay**i`` to ``lr_min``, then ``lr_min``."""
    v.check_finite("peak_value", peak_value)
    v.check_duration("t_initial", t_initial)
    v.check_range("t_initial", t_initial, low=1)
    v.check_range("lr_min", lr_min, low=0.0)
    v.check_range("cycle_mul", cycle_mul, low=1.0)
    v.check_range("cycle_decay", cycle_decay, low=0.0)
    v.check_duration("cycle_limit", cycle_limit)
    limit = v.concrete_value(cycle_limit)
    if limit is not None and limit.ndim == 0 and int(limit) == 0:
        return _combine.constant_schedule(lr_min)
    body = [
        _build.decay_phase(peak_value, t_initial, lr_min, shape),
        _build.hold_phase(lr_min, scale=0.0),  # lr_min once the cycles are over
    ]
    if limit is not None and limit.ndim == 0 and int(limit) == 1:
        return _engine.stack_phases(body)
    return _engine.stack_phases(
        body,
        cycle_start=0,
        num_cycles=cycle_limit,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
    )


def _limit_may_be_zero(cycle_limit: ArrayLike) -> bool:
    """Whether ``cycle_limit`` can be 0: then ``_get_lr(0)`` is ``lr_min`` and count 0
    keeps the constructor's value (the base value, or ``warmup_lr_init``)."""
    limit = v.concrete_value(cycle_limit)
    return limit is None or bool((limit == 0).any())


def _k_decay(k_decay: ArrayLike) -> ArrayLike:
    v.check_range("k_decay", k_decay, low=0.0, low_open=True)
    return k_decay


def CosineLRScheduler(
    peak_value: ArrayLike,
    t_initial: ArrayLike,
    lr_min: ArrayLike = 0.0,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    cycle_limit: ArrayLike = 1,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
    k_decay: ArrayLike = 1.0,
) -> Schedule:
    """``timm.scheduler.CosineLRScheduler``: ``lr_min + (peak_i - lr_min) (1 + cos(pi p**k)) / 2``.

    ``p = t_curr / t_i`` is the position in cycle ``i`` (see the module docstring
    for warmup, cycles and noise).

    Args:
      peak_value: the optimizer's learning rate.
      t_initial: length of the first cycle (updates).
      lr_min: the floor.
      cycle_mul: cycle length multiplier (>= 1).
      cycle_decay: peak multiplier per cycle.
      cycle_limit: number of cycles, then ``lr_min``.
      warmup_t: warmup length.
      warmup_lr_init: warmup start value.
      warmup_prefix: whether the cycles start after the warmup.
      t_in_epochs: accepted for timm's argument order; no effect.
      noise_range_t: noisy counts: ``None``, ``start`` or ``[start, stop)``.
      noise_pct: truncation bound of the relative noise.
      noise_std: standard deviation of the relative noise.
      noise_seed: noise seed.
      k_decay: progress exponent (> 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.CosineLRScheduler(1.0, 4, warmup_t=2, warmup_lr_init=0.2)
      >>> [round(float(s(k)), 4) for k in range(6)]
      [0.2, 0.6, 0.5, 0.1464, 0.0, 0.0]
    """
    protocol = _Protocol.of(locals())
    shape = _build.half_cosine(1.0, k_decay=_k_decay(k_decay))
    main = _cycles(peak_value, t_initial, lr_min, shape, cycle_mul, cycle_decay, cycle_limit)
    return protocol.apply(main, fix_first=_limit_may_be_zero(cycle_limit))


def TanhLRScheduler(
    peak_value: ArrayLike,
    t_initial: ArrayLike,
    lb: ArrayLike = -7.0,
    ub: ArrayLike = 3.0,
    lr_min: ArrayLike = 0.0,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    cycle_limit: ArrayLike = 1,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
) -> Schedule:
    """``timm.scheduler.TanhLRScheduler``:
    ``lr_min + (peak_i - lr_min) (1 - tanh(lb (1 - p) + ub p)) / 2``.

    Unlike the cosine scheduler, a non-prefix warmup aims at the tanh value at
    ``warmup_t``, so nothing drops at the end of warmup.

    Args:
      peak_value: the optimizer's learning rate.
      t_initial: length of the first cycle.
      lb: tanh argument at the start of a cycle (< ub).
      ub: tanh argument at the end of a cycle.
      lr_min, cycle_mul, cycle_decay, cycle_limit: as :func:`CosineLRScheduler`.
      warmup_t, warmup_lr_init, warmup_prefix: as :func:`CosineLRScheduler`.
      t_in_epochs: as :func:`CosineLRScheduler`.
      noise_range_t, noise_pct, noise_std, noise_seed: as :func:`CosineLRScheduler`.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.TanhLRScheduler(1.0, 10)
      >>> [round(float(s(k)), 4) for k in (0, 1, 5, 9, 10)]
      [1.0, 1.0, 0.982, 0.018, 0.0]
    """
    protocol = _Protocol.of(locals())
    v.check_finite("lb", lb)
    v.check_finite("ub", ub)
    lo, hi = v.concrete_value(lb), v.concrete_value(ub)
    if lo is not None and hi is not None and not bool((lo < hi).all()):
        raise ValueError(f"lb must be < ub, got lb={lo} and ub={hi}.")
    shape = _build.tanh_shape(lb, ub)
    main = _cycles(peak_value, t_initial, lr_min, shape, cycle_mul, cycle_decay, cycle_limit)
    w = v.as_duration("warmup_t", warmup_t)
    return protocol.apply(main, target=peak_value if warmup_prefix else main(w), fix_first=True)


def PolyLRScheduler(
    peak_value: ArrayLike,
    t_initial: ArrayLike,
    power: ArrayLike = 0.5,
    lr_min: ArrayLike = 0.0,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    cycle_limit: ArrayLike = 1,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
    k_decay: ArrayLike = 1.0,
) -> Schedule:
    """``timm.scheduler.PolyLRScheduler``: ``lr_min + (peak_i - lr_min) (1 - p**k)**power``.

    Args:
      peak_value: the optimizer's learning rate.
      t_initial: length of the first cycle.
      power: the polynomial power (> 0).
      lr_min, cycle_mul, cycle_decay, cycle_limit: as :func:`CosineLRScheduler`.
      warmup_t, warmup_lr_init, warmup_prefix: as :func:`CosineLRScheduler`.
      t_in_epochs: as :func:`CosineLRScheduler`.
      noise_range_t, noise_pct, noise_std, noise_seed, k_decay: as
        :func:`CosineLRScheduler`.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.PolyLRScheduler(1.0, 4, power=1.0)
      >>> [float(s(k)) for k in range(5)]
      [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    protocol = _Protocol.of(locals())
    v.check_range("power", power, low=0.0, low_open=True)
    shape = _build.power_out(power, k_decay=_k_decay(k_decay))
    main = _cycles(peak_value, t_initial, lr_min, shape, cycle_mul, cycle_decay, cycle_limit)
    return protocol.apply(main, fix_first=_limit_may_be_zero(cycle_limit))


def StepLRScheduler(
    peak_value: ArrayLike,
    decay_t: ArrayLike,
    decay_rate: ArrayLike = 1.0,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
) -> Schedule:
    """``timm.scheduler.StepLRScheduler``: ``peak * decay_rate**(t // decay_t)``.

    Args:
      peak_value: the optimizer's learning rate.
      decay_t: updates between decays (> 0; may be fractional, as in timm).
      decay_rate: multiplier per decay (>= 0).
      warmup_t, warmup_lr_init, warmup_prefix: as :func:`CosineLRScheduler` (the
        prefix is on by default here, as in timm).
      t_in_epochs: as :func:`CosineLRScheduler`.
      noise_range_t, noise_pct, noise_std, noise_seed: as :func:`CosineLRScheduler`.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.StepLRScheduler(1.0, 2, decay_rate=0.5, warmup_t=1, warmup_lr_init=0.1)
      >>> [float(s(k)) for k in range(6)]
      [0.1, 1.0, 1.0, 0.5, 0.5, 0.25]
    """
    protocol = _Protocol.of(locals())
    v.check_range("decay_t", decay_t, low=0.0, low_open=True)
    v.check_range("decay_rate", decay_rate, low=0.0)
    shape = _build.exp_rate(decay_rate, decay_t, staircase=1.0)
    main = _engine.stack_phases([_build.decay_phase(peak_value, 0, 0.0, shape)])
    return protocol.apply(main)


def MultiStepLRScheduler(
    peak_value: ArrayLike,
    decay_t: Sequence[ArrayLike] | jax.Array,
    decay_rate: ArrayLike = 1.0,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
) -> Schedule:
    """``timm.scheduler.MultiStepLRScheduler``: ``peak * decay_rate**i``, ``i`` the
    number of milestones ``<= t + 1`` (timm's ``bisect_right(decay_t, t + 1)``).

    timm looks ``t + 1`` up among the milestones, so a milestone ``m`` applies
    from ``t = m - 1``, one update earlier than torch's ``MultiStepLR``.

    Args:
      peak_value: the optimizer's learning rate.
      decay_t: sorted milestones (updates).
      decay_rate: multiplier per milestone (>= 0).
      warmup_t, warmup_lr_init, warmup_prefix: as :func:`StepLRScheduler`.
      t_in_epochs: as :func:`StepLRScheduler`.
      noise_range_t, noise_pct, noise_std, noise_seed: as :func:`StepLRScheduler`.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.MultiStepLRScheduler(1.0, [3, 4], decay_rate=0.1)
      >>> [round(float(s(k)), 4) for k in range(5)]
      [1.0, 1.0, 0.1, 0.01, 0.01]
    """
    protocol = _Protocol.of(locals())
    v.check_range("decay_rate", decay_rate, low=0.0)
    milestones = jnp.reshape(jnp.asarray(decay_t), (-1,))
    v.check_duration("decay_t", milestones)
    known = v.concrete_value(milestones)
    if known is not None and bool((known[1:] < known[:-1]).any()):
        raise ValueError(f"decay_t must be sorted, got {known.tolist()}.")
    powers = jnp.arange(milestones.shape[0] + 1, dtype=jnp.float32)
    values = jnp.asarray(peak_value, jnp.float32) * jnp.asarray(decay_rate, jnp.float32) ** powers
    # bisect_right(decay_t, t + 1) counts the milestones m with m - 1 <= t.
    main = _decays.piecewise_constant(jnp.maximum(milestones - 1, 0), values)
    return protocol.apply(main, fix_first=True)


_WSD_DECAYS = ("linear", "1-sqrt", "cosine", "power", "exp")
_WSD_STABLES = ("constant", "rsqrt", "power")


def _wsd_stable_excess(
    peak_value: ArrayLike, lr_min: ArrayLike, timescale: Any, power: ArrayLike
) -> _engine.PhaseSchedule:
    """``max(peak (1 + t / tau)**-power, lr_min) - lr_min``: timm's decaying stable value above
    its floor.

    An inverse-power phase from ``peak - lr_min`` towards ``-lr_min`` (so its value
    is ``peak s(t) - lr_min``) until the first count where ``peak s(t) <= lr_min``,
    then 0. That count is found in float64 when the values are concrete (by timm's
    own comparison), else from the closed form in float32.
    """
    peak = jnp.asarray(peak_value, jnp.float32)
    low = jnp.asarray(lr_min, jnp.float32)
    shape = _build.inverse_sqrt(timescale, exponent=power)
    known = [v.concrete_value(x) for x in (peak_value, lr_min, timescale, power)]
    cross: Any
    if all(k is not None and k.ndim == 0 for k in known):
        p, m, tau, k = (float(x) for x in known)  # type: ignore[arg-type]
        cross = _first_at_floor(p, m, tau, k)
    else:
        # Traced: t* = tau ((peak / lr_min)**(1 / power) - 1), never where lr_min is 0.
        ratio = jnp.where(low > 0, peak / jnp.where(low > 0, low, 1.0), jnp.inf)
        t_star = jnp.asarray(timescale, jnp.float32) * jnp.expm1(
            jnp.log(jnp.maximum(ratio, 1.0)) / jnp.asarray(power, jnp.float32)
        )
        top = float(jnp.iinfo(v.index_dtype()).max)
        cross = jnp.clip(jnp.ceil(t_star), 0, top).astype(v.index_dtype())
    return _engine.from_phases(
        [_build.decay_phase(peak - low, cross, -low, shape), _build.hold_phase(0.0)]
    )


def _first_at_floor(peak: float, floor: float, tau: float, power: float) -> int:
    """The first count ``t >= 0`` with ``peak (1 + t / tau)**-power <= floor`` (float64)."""
    top = int(jnp.iinfo(v.index_dtype()).max)

    def above(t: int) -> bool:
        return peak * (1.0 + t / tau) ** -power > floor

    if floor <= 0:
        return top if peak > 0 else 0
    if not above(0):
        return 0
    guess = tau * ((peak / floor) ** (1.0 / power) - 1.0)
    if not guess < top:
        return top
    t = max(0, math.ceil(guess))
    while t > 0 and not above(t - 1):
        t -= 1
    while t < top and above(t):
        t += 1
    return t


def WSDLRScheduler(
    peak_value: ArrayLike,
    t_initial: ArrayLike,
    decay_t: ArrayLike,
    lr_min: ArrayLike = 0.0,
    stable_fn: str = "constant",
    stable_timescale: ArrayLike | None = None,
    stable_power: ArrayLike = 0.5,
    decay_fn: Any = "1-sqrt",
    decay_power: ArrayLike = 0.5,
    decay_ratio: ArrayLike = 0.1,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    t_in_epochs: bool = False,
    noise_range_t: NoiseRange = None,
    noise_pct: ArrayLike = 0.67,
    noise_std: ArrayLike = 1.0,
    noise_seed: ArrayLike = 42,
) -> Schedule:
    """``timm.scheduler.WSDLRScheduler`` (timm 1.0.31): warmup, a stable phase for
    ``t_initial - decay_t`` updates, a decay to ``lr_min`` over ``decay_t``, then ``lr_min``.

    The warmup is always a prefix (the stable phase starts after it). With
    ``t_s`` the updates since the warmup ended and ``f`` the decay progress,
    the value is ``lr_min + (max(peak s(t_s), lr_min) - lr_min) d(f)``. Stable
    functions ``s``: ``constant`` 1; ``rsqrt`` ``(1 + t_s / tau)**-0.5``;
    ``power`` ``(1 + t_s / tau)**-stable_power`` (``tau = stable_timescale``,
    by default ``warmup_t``); a decaying stable function keeps decaying
    through the decay phase. Decay functions ``d``: ``linear`` ``1 - f``,
    ``1-sqrt`` ``1 - sqrt(f)``, ``cosine`` ``(1 + cos(pi f)) / 2``, ``power``
    ``1 - f**decay_power``, ``exp`` ``(r**f - r) / (1 - r)`` with
    ``r = decay_ratio``; a callable ``decay_fn(f)`` (jit-able) is used as ``d``.

    Args:
      peak_value: the optimizer's learning rate.
      t_initial: stable plus decay updates (> 0).
      decay_t: decay updates, in (0, t_initial].
      lr_min: the floor (>= 0).
      stable_fn: ``"constant"``, ``"rsqrt"`` or ``"power"``.
      stable_timescale: ``tau`` of ``rsqrt`` and ``power`` (> 0; default ``warmup_t``).
      stable_power: ``power``'s exponent (> 0).
      decay_fn: the decay shape, by name or as a callable.
      decay_power: ``power``'s exponent (> 0).
      decay_ratio: ``exp``'s ratio, in (0, 1).
      warmup_t: as :func:`CosineLRScheduler`.
      warmup_lr_init: as :func:`CosineLRScheduler`.
      t_in_epochs: as :func:`CosineLRScheduler`.
      noise_range_t: as :func:`CosineLRScheduler`.
      noise_pct: as :func:`CosineLRScheduler`.
      noise_std: as :func:`CosineLRScheduler`.
      noise_seed: as :func:`CosineLRScheduler`.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import timm
      >>> s = timm.WSDLRScheduler(1.0, 4, 2, decay_fn="linear", warmup_t=2)
      >>> [float(s(k)) for k in range(7)]
      [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
      >>> r = timm.WSDLRScheduler(1.0, 8, 2, stable_fn="rsqrt", decay_fn="linear", warmup_t=2)
      >>> [round(float(r(k)), 4) for k in (2, 4, 8, 9, 10)]
      [1.0, 0.7071, 0.5, 0.2357, 0.0]
    """
    protocol = _Protocol(
        peak_value, warmup_t, warmup_lr_init, True, noise_range_t, noise_pct, noise_std, noise_seed
    )
    v.check_duration("t_initial", t_initial)
    v.check_range("t_initial", t_initial, low=1)
    v.check_duration("decay_t", decay_t)
    v.check_range("decay_t", decay_t, low=1)
    v.check_range("lr_min", lr_min, low=0.0)
    v.check_range("decay_power", decay_power, low=0.0, low_open=True)
    v.check_range("decay_ratio", decay_ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    v.check_choice("stable_fn", stable_fn, _WSD_STABLES)
    if stable_fn != "constant":
        if stable_timescale is None:
            stable_timescale = warmup_t
            v.check_range(
                "stable_timescale (default warmup_t; set it when there is no warmup)",
                stable_timescale,
                low=0.0,
                low_open=True,
            )
        v.check_range("stable_timescale", stable_timescale, low=0.0, low_open=True)
        v.check_range("stable_power", stable_power, low=0.0, low_open=True)
    t_i, d_t = v.concrete_value(t_initial), v.concrete_value(decay_t)
    if t_i is not None and d_t is not None and bool((d_t > t_i).any()):
        raise ValueError(f"Invalid decay_t ({d_t.tolist()}), must be in (0, t_initial={t_i}].")
    if callable(decay_fn):
        weight: Callable[[jax.Array], Any] = decay_fn
        shape = _shapes.resolve(_shapes.custom(lambda f: 1.0 - weight(f)), "decay")
    else:
        v.check_choice("decay_fn", decay_fn, _WSD_DECAYS)
        if decay_fn == "power":
            shape = _build.power_in(decay_power)
        elif decay_fn == "exp":
            rate = -jnp.log(jnp.asarray(decay_ratio, jnp.float32))
            shape = _shapes.resolve(_shapes.exponential(rate), "decay")
        else:
            shape = _shapes.resolve(decay_fn, "decay")
    stable = v.as_duration("t_initial", t_initial) - v.as_duration("decay_t", decay_t)
    main: Any
    if stable_fn == "constant":
        # timm floors the stable value at lr_min: max(peak, lr_min).
        top = jnp.maximum(jnp.asarray(peak_value, jnp.float32), jnp.asarray(lr_min, jnp.float32))
        main = _engine.from_phases(
            [
                _build.hold_phase(top, stable),
                _engine.Phase(decay_t, top, lr_min, shape),
                _build.hold_phase(lr_min),
            ]
        )
    else:
        power = 0.5 if stable_fn == "rsqrt" else stable_power
        decay = _engine.from_phases(
            [
                _build.hold_phase(1.0, stable),
                _engine.Phase(decay_t, 1.0, 0.0, shape),
                _build.hold_phase(0.0),
            ]
        )
        excess = _wsd_stable_excess(peak_value, lr_min, stable_timescale, power)
        main = _combine.add(lr_min, _combine.multiply(excess, decay))
    # Count 0 keeps the constructor's value (the base lr) where lr_min lifts _get_lr(0).
    low, high = v.concrete_value(lr_min), v.concrete_value(peak_value)
    lifted = low is None or high is None or bool((low > high).any())
    return protocol.apply(main, fix_first=lifted)


__all__ = [
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
    "WSDLRScheduler",
]


def PlateauLRScheduler(
    peak_value: ArrayLike,
    decay_rate: ArrayLike = 0.1,
    patience_t: ArrayLike = 10,
    threshold: ArrayLike = 1e-4,
    cooldown_t: ArrayLike = 0,
    warmup_t: ArrayLike = 0,
    warmup_lr_init: ArrayLike = 0.0,
    lr_min: ArrayLike = 0.0,
    mode: str = "max",
) -> Any:
    """``PlateauLRScheduler``: timm's warmup, then torch's ``ReduceLROnPlateau``.

    A gradient transformation taking ``value=`` (see
    :func:`optax_warmup.reduce_on_plateau`): update ``k`` is timm's epoch ``k``,
    and its ``value`` is the metric timm's training loop passes to
    ``scheduler.step(k + 1, metric)``. Transcribes timm/scheduler/plateau_lr.py
    (huggingface/pytorch-image-models 23f09af08e6b26f114dcc8194246779c229ed619):
    for ``k <= warmup_t`` the lr is ``warmup_lr_init + k (peak - warmup_lr_init)
    / warmup_t`` and the metric is ignored; afterwards torch's plateau rule
    (relative ``threshold``, ``min_lr=lr_min``, torch's default ``eps=1e-8``)
    acts on ``peak_value``. timm's default ``mode`` is ``"max"``. The noise
    options are not reproduced (timm draws it from torch's generator). timm's
    ``state_dict`` keeps only ``best`` and ``last_epoch``, so a resumed timm run
    restarts its counters; this state resumes exactly.

    Example:
      >>> import jax.numpy as jnp
      >>> from optax_warmup.compat import timm
      >>> tx = timm.PlateauLRScheduler(1.0, decay_rate=0.5, patience_t=0, warmup_t=2, mode="min")
      >>> state = tx.init(jnp.zeros(1))
      >>> lrs = []
      >>> for metric in [9.0, 9.0, 1.0, 1.0, 1.0]:
      ...     u, state = tx.update(jnp.ones(1), state, value=metric)
      ...     lrs.append(float(u[0]))
      >>> lrs  # warmup from 0 over 2 epochs (metrics ignored), then halved on a plateau
      [0.0, 0.5, 1.0, 1.0, 0.5]
    """
    from optax_warmup.transforms import plateau as _plateau

    v.check_duration("warmup_t", warmup_t)
    schedule = _warmup.warmup_schedule(peak_value, warmup_t, init_value=warmup_lr_init)
    return _plateau.reduce_on_plateau(
        schedule,
        mode=mode,  # type: ignore[arg-type]
        factor=decay_rate,
        patience=patience_t,
        rtol=threshold,
        cooldown=cooldown_t,
        min_value=lr_min,
        eps=1e-8,
        start_step=warmup_t,
    )


__all__ += ["PlateauLRScheduler"]
