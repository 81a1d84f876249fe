"""big_vision's learning-rate schedule (``utils.create_learning_rate_schedule``).

big_vision evaluates its schedule at optax's count (0 for the first update) as
a product of three factors: the decay (``decay_type``) of the base rate, a
linear warmup factor ``min(1, step / W)`` and a linear cooldown factor
``min(1, (total_steps - step) / C)``. The decay's progress is ``p = clip((step
- W) / (total_steps - W), 0, 1)``: it starts after the warmup, under which the
rate is the base (``rsqrt``: its value at the warmup's end). big_vision
conventions kept here:

- durations (``warmup``, ``cooldown``, rsqrt's ``timescale`` and ``shift``) are
  given as ``{name}_steps`` (used as is), ``{name}_examples`` (over
  ``batch_size``), ``{name}_epochs`` (times ``data_size / batch_size``) or
  ``{name}_percent`` (of ``total_steps``, in [0, 1]); the last three are
  rounded half to even (Python's ``round``) and at least 1 unless 0; a
  negative value counts as not given; at most one per name;
- ``stair`` multiplies the base by ``mults[i]`` from step ``steps[i]`` on (the
  step itself included);
- past ``total_steps`` the decay holds its end, but the cooldown factor keeps
  falling linearly **below zero**: with a cooldown, the rate turns negative
  after ``total_steps`` unless the decay ended at 0.

Matches big_vision ``big_vision/utils.py`` (``create_learning_rate_schedule``
and ``steps``) at commit ``0127fb6b337e``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.compat import stack_config
from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules.base import Schedule

__all__ = ["create_learning_rate_schedule"]

_DECAYS = ("linear", "polynomial", "cosine", "rsqrt", "stair")
_SUFFIXES = ("steps", "examples", "epochs", "percent")
_DURATIONS = ("warmup", "cooldown", "timescale", "shift")
_OTHER_KEYS = ("power", "end", "linear_end", "timescale", "shift", "steps", "mults")
# The cooldown's line goes on past total_steps: a linear phase this long (a power of
# two, so the progress t / length is exact) stands for the unbounded line.
_LINE = float(2**30)


def _to_integer(x: float) -> int:
    """big_vision's ``to_integer``: round half to even, at least 1 unless 0."""
    return max(1, round(x)) if x else 0


def _steps(
    prefix: str,
    kw: Mapping[str, Any],
    data_size: int | None,
    batch_size: int | None,
    total_steps: int,
    default: Any,
) -> Any:
    """big_vision's ``steps(prefix, config, ...)``: a duration in steps, or ``default``."""
    given = {}
    for suffix in _SUFFIXES:
        name = f"{prefix}_{suffix}"
        if kw.get(name) is not None:
            x = stack_config.static_number(name, kw[name])
            if x >= 0:  # big_vision: a negative value counts as not given
                given[suffix] = (name, x)
    if len(given) > 1:
        names = sorted(name for name, _ in given.values())
        raise ValueError(f"only one of {names} may be given.")
    if not given:
        return default
    suffix, (name, x) = next(iter(given.items()))
    if suffix == "steps":
        return x
    if suffix == "examples":
        if not batch_size:
            raise ValueError(f"{name} needs batch_size (big_vision would silently use {default}).")
        return _to_integer(x / batch_size)
    if suffix == "epochs":
        if not (batch_size and data_size):
            raise ValueError(
                f"{name} needs batch_size and data_size (big_vision would silently use {default})."
            )
        return _to_integer(x * (data_size / batch_size))
    v.check_range(name, x, low=0.0, high=1.0)
    return _to_integer(x * total_steps)


def _after_warmup(warmup: float) -> tuple[int, float]:
    """The first step at or past the warmup and how far past it is (a fractional ``W``)."""
    first = math.ceil(warmup)
    return first, first - warmup


def _decay(
    decay_type: str,
    lr: ArrayLike,
    kw: Mapping[str, Any],
    warmup: float,
    total: int,
    timescale: float,
    shift: float,
) -> _engine.PhaseSchedule:
    """The decay factor times the base rate."""
    first, past = _after_warmup(warmup)
    if decay_type == "stair":
        bounds = [stack_config.static_number("steps", s) for s in kw.get("steps", [])]
        mults = list(kw.get("mults", []))
        if len(mults) != len(bounds):
            raise ValueError(
                f"mults must have one entry per stair step, got {len(mults)} for {len(bounds)}."
            )
        if any(b < 0 or b != int(b) for b in bounds) or bounds != sorted(bounds):
            raise ValueError(f"steps must be increasing whole steps >= 0, got {bounds!r}.")
        for m in mults:
            v.check_finite("mults", m)
        values = [lr] + [jnp.asarray(lr, jnp.float32) * jnp.asarray(m, jnp.float32) for m in mults]
        spans = [b - a for a, b in zip([0, *bounds], bounds, strict=False)]
        return _engine.stack_phases(
            [_build.hold_phase(x, int(s)) for x, s in zip(values, spans, strict=False)]
            + [_build.hold_phase(values[-1])]
        )
    if decay_type == "rsqrt":
        line = _build.decay_phase(lr, 0, 0.0, _build.inverse_sqrt(timescale), offset=shift)
        during = _engine.stack_phases([line])(0)  # under the warmup: the value at shift
        tail = _build.decay_phase(lr, 0, 0.0, _build.inverse_sqrt(timescale), offset=past + shift)
        return _engine.stack_phases([_build.hold_phase(during, first), tail])
    if decay_type == "cosine":
        end: ArrayLike = 0.0
        shape = _build.half_cosine()
    else:  # linear / polynomial: zero + (lr - zero) (1 - p)**power
        end = kw.get("end", kw.get("linear_end", 0))
        v.check_finite("end", end)
        v.check_finite("power", kw.get("power", 1))
        shape = _build.power_out(kw.get("power", 1))
    length = total - warmup
    decay = _build.decay_phase(lr, total - first, end, shape, length=length, offset=past)
    return _engine.stack_phases([_build.hold_phase(lr, first), decay, _build.hold_phase(end)])


def _cooldown(total: int, cooldown: float) -> _engine.PhaseSchedule:
    """``min(1, (T - step) / C)``: 1 up to ``T - C``, the line down to 0 at ``T``, then on
    below 0 (a phase of its own from 0, so the value stays accurate around ``T``)."""
    held = max(0, math.floor(total - cooldown) + 1)
    start = min(1.0, (total - held) / cooldown)
    down = _build.decay_phase(start, total - held, 0.0, "linear")
    below = _build.decay_phase(0.0, 0, -_LINE / cooldown, "linear", length=_LINE)
    return _engine.stack_phases([_build.hold_phase(1.0, held), down, below])


def create_learning_rate_schedule(
    total_steps: int,
    batch_size: int | None = None,
    data_size: int | None = None,
    base: ArrayLike = 1.0,
    decay_type: str = "stair",
    scale_with_batchsize: bool = False,
    **kw: Any,
) -> Schedule:
    """big_vision's ``create_learning_rate_schedule``: decay times warmup times cooldown.

    With ``T = total_steps``, ``W`` warmup and ``C`` cooldown steps, ``lr = base``
    (times ``batch_size / 256`` with ``scale_with_batchsize``) and ``p = clip((step - W)
    / (T - W), 0, 1)``, the value is ``decay(step) min(1, step / W) min(1, (T - step) /
    C)`` (a factor is 1 when its duration is 0), the decay being ``end + (lr - end) (1 -
    p)**power`` (``linear``, ``polynomial``), ``lr (1 + cos(pi p)) / 2`` (``cosine``),
    ``lr / sqrt(1 + (step + shift - W) / timescale)`` from ``W`` on and ``lr / sqrt(1 +
    shift / timescale)`` before (``rsqrt``), or ``lr mults[i]`` from ``steps[i]`` on
    (``stair``).

    Args:
      total_steps: ``T``, the training steps.
      batch_size: the global batch size (for ``*_examples``, ``*_epochs`` and the scaling).
      data_size: the examples in one epoch (for ``*_epochs``).
      base: the base learning rate (may be traced).
      decay_type: ``"linear"``, ``"polynomial"``, ``"cosine"``, ``"rsqrt"`` or ``"stair"``.
      scale_with_batchsize: multiply ``base`` by ``batch_size / 256`` (Goyal et al., 2017).
      **kw: big_vision's schedule settings: ``warmup_*`` and ``cooldown_*`` (``_steps``,
        ``_examples``, ``_epochs``, ``_percent``); ``power`` and ``end`` (or
        ``linear_end``) for the polynomial; ``timescale`` and ``shift`` (plain, or
        with the duration suffixes) for rsqrt; ``steps`` and ``mults`` for stair.

    Returns:
      A schedule; its value at count ``k`` is big_vision's learning rate at step ``k``.

    Raises:
      ValueError: naming the setting, where big_vision asserts (a warmup not shorter
        than ``total_steps``, a percent outside [0, 1], two forms of one duration) or
        would misread it (``*_examples`` without ``batch_size``, unsorted stair steps,
        ``mults`` and ``steps`` of different lengths, unknown settings).

    Example:
      >>> from optax_warmup.compat import big_vision
      >>> s = big_vision.create_learning_rate_schedule(
      ...     10, base=1.0, decay_type="cosine", warmup_steps=2, cooldown_percent=0.2
      ... )
      >>> [round(float(s(k)), 4) for k in range(11)]
      [0.0, 0.5, 1.0, 0.9619, 0.8536, 0.6913, 0.5, 0.3087, 0.1464, 0.019, 0.0]

    Reference:
      big_vision ``big_vision/utils.py`` (``create_learning_rate_schedule``, ``steps``)
      at ``0127fb6b337e``.
    """
    known = {f"{p}_{s}" for p in _DURATIONS for s in _SUFFIXES} | set(_OTHER_KEYS)
    unknown = sorted(set(kw) - known)
    if unknown:
        raise ValueError(f"unknown schedule settings {unknown}; big_vision reads {sorted(known)}.")
    total = stack_config.static_number("total_steps", total_steps)
    if total != int(total) or total < 1:
        raise ValueError(f"total_steps must be a whole number >= 1, got {total_steps!r}.")
    total = int(total)
    v.check_duration("total_steps", total)
    decay_type = stack_config.choice("decay_type", decay_type, _DECAYS)
    for name, x in (("batch_size", batch_size), ("data_size", data_size)):
        if x is not None:
            v.check_range(name, stack_config.static_number(name, x), low=0.0, low_open=True)
    v.check_finite("base", base)
    lr: ArrayLike = base
    if scale_with_batchsize:
        if batch_size is None:
            raise ValueError("scale_with_batchsize needs batch_size.")
        lr = jnp.asarray(base, jnp.float32) * (batch_size / 256.0)

    def to_steps(name: str, default: Any = 0) -> float:
        return _steps(name, kw, data_size, batch_size, total, default)

    warmup = to_steps("warmup")
    cooldown = to_steps("cooldown")
    if not warmup < total and total > 1:
        raise ValueError(f"the warmup ({warmup} steps) must be shorter than total_steps ({total}).")
    if total == 1 and warmup >= 1:
        raise ValueError(f"the warmup ({warmup} steps) must be shorter than total_steps (1).")
    timescale = shift = 0.0
    if decay_type == "rsqrt":
        timescale = to_steps("timescale", kw.get("timescale", 10_000))
        shift = to_steps("shift", kw.get("shift", 0))
        v.check_range(
            "timescale", stack_config.static_number("timescale", timescale), low=0.0, low_open=True
        )
        v.check_range("shift", stack_config.static_number("shift", shift), low=0.0)

    factors: list[Any] = [_decay(decay_type, lr, kw, warmup, total, timescale, shift)]
    if warmup:
        first, _ = _after_warmup(warmup)
        rise = _build.warmup_phase(1.0, first, "linear", init_value=0.0, length=warmup)
        factors.append(_engine.stack_phases([rise, _build.hold_phase(1.0)]))
    if cooldown:
        factors.append(_cooldown(total, cooldown))
    return factors[0] if len(factors) == 1 else _combine.multiply(*factors)
