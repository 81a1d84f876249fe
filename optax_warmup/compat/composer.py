"""MosaicML Composer's stateless schedulers (``composer.optim.scheduler``), with time strings.

Composer's schedulers return a multiplier ``alpha`` on the optimizer's learning
rate; each function here takes that learning rate ``lr`` first and returns the
learning-rate schedule ``lr * alpha`` of the optax count (one count per batch,
that is per optimizer step).

Durations are Composer time strings: ``"10ba"`` (batches), ``"2ep"`` (epochs),
``"1000sp"`` (samples), ``"1e6tok"`` (tokens), ``"0.1dur"`` (a fraction of
``max_duration``). As in Composer (``_convert_time``), epochs become batches
through ``batches_per_epoch`` (Composer's ``dataloader_len``), a ``dur`` time
becomes ``int(fraction * max_duration)`` in ``max_duration``'s unit (batches when
that is epochs), and samples and tokens stay samples and tokens: the count ``k``
has seen ``k * samples_per_batch`` samples and ``k * tokens_per_batch`` tokens
(a constant batch), so a time in those units can fall between two counts.
A unit that needs one of ``batches_per_epoch``, ``samples_per_batch``,
``tokens_per_batch`` raises ``ValueError`` naming it when it is missing.

``scale_schedule_ratio`` (``ssr``) is applied as the Composer trainer does: it
scales ``max_duration`` to ``int(max_duration * ssr)`` (so every ``dur`` time
scales with it), and every other time to ``int(value * ssr)`` (epochs after
their conversion to batches), except the warmup ``t_warmup`` of the
``...WithWarmupScheduler`` classes, unless ``scale_warmup=True``; even then
Composer's warmup still ends at the unscaled ``t_warmup`` (only its slope
follows the scaled one), which is kept here.

The trainer steps its schedulers at the end of each batch, before it advances
its timestamp, so update ``k >= 1`` uses the multiplier of batch ``k - 1`` and
the first two updates both use batch 0's: ``trainer_lag=True`` (the default)
reproduces that; ``trainer_lag=False`` gives ``lr * alpha(batch k)``.

Matches mosaicml/composer ``composer/optim/scheduler.py`` and
``composer/core/time.py`` at 6405188805a0 (the trainer's ordering:
``composer/trainer/trainer.py`` at the same commit).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.io import units as _units
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules.base import Schedule

TimeLike = str | Any
"""A Composer time string such as ``"10ba"``, or an object with ``value`` and ``unit``."""

UNITS = ("ep", "ba", "sp", "tok", "dur")
"""The time units these schedules read (Composer's ``iter`` and ``sec`` are refused)."""

_TIME = re.compile(rf"^({_units.NUMBER_RE})(ep|ba|sp|tok|dur|iter|sec)$", re.IGNORECASE)
# What one batch adds to each unit's counter (epochs are converted to batches first).
_PER_BATCH_ARG = {"sp": "samples_per_batch", "tok": "tokens_per_batch"}


def parse_time(name: str, time: TimeLike) -> tuple[float, str]:
    """A Composer time as ``(value, unit)``: ``"2ep"`` -> ``(2, "ep")``.

    As Composer's ``Time.from_timestring``: the unit is case-insensitive and
    every unit but ``dur`` needs a whole value (``"1e6tok"`` is whole).

    Args:
      name: the argument's name, for errors.
      time: a time string, or an object with ``value`` and ``unit`` (a Composer ``Time``).

    Returns:
      The value and the lower-case unit.

    Raises:
      ValueError: naming ``name`` for a malformed string, an unknown or refused
        unit (``iter``, ``sec``) or a fractional count.

    Example:
      >>> from optax_warmup.compat import composer
      >>> composer.parse_time("t_warmup", "1e3SP"), composer.parse_time("t_max", "0.5dur")
      ((1000, 'sp'), (0.5, 'dur'))
    """
    if isinstance(time, str):
        m = _TIME.match(time.strip())
        if m is None:
            raise ValueError(
                f"{name}: cannot read {time!r} as a Composer time; write a number and a unit "
                f"from {UNITS}, such as '10ba', '2ep', '1000sp', '1e6tok' or '0.1dur'."
            )
        value, unit = float(m.group(1).replace("_", "")), m.group(2).lower()
    elif hasattr(time, "value") and hasattr(time, "unit"):
        value, unit = float(time.value), str(getattr(time.unit, "value", time.unit)).lower()
    else:
        raise ValueError(f"{name} must be a Composer time string such as '10ba', got {time!r}.")
    if unit in ("iter", "sec"):
        raise ValueError(f"{name}: the unit {unit!r} is not supported here, got {time!r}.")
    if unit not in UNITS:
        raise ValueError(f"{name}: unknown unit {unit!r} in {time!r}; units are {UNITS}.")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite time >= 0, got {time!r}.")
    if unit == "dur":
        return value, unit
    if value != int(value):
        raise ValueError(f"{name}: {unit} times must be whole numbers, got {time!r}.")
    return int(value), unit


@dataclasses.dataclass(frozen=True)
class _Clock:
    """The trainer's time settings: ``max_duration`` (already scaled by ssr) and batch sizes."""

    max_value: float
    max_unit: str
    ssr: float
    batches_per_epoch: int | None
    samples_per_batch: int | None
    tokens_per_batch: int | None

    def epoch_batches(self, name: str) -> int:
        if self.batches_per_epoch is None:
            raise ValueError(
                f"{name}: the unit 'ep' needs batches_per_epoch (Composer's dataloader_len)."
            )
        return self.batches_per_epoch

    def convert(self, name: str, time: TimeLike, *, scale: bool = True) -> tuple[int, str]:
        """Composer's ``_convert_time``: a time in ``ba``, ``sp`` or ``tok``, ssr applied."""
        value, unit = parse_time(name, time)
        if unit == "dur":  # max_duration is already scaled; dur times are not scaled again
            if self.max_unit == "ep":
                return int(value * self.epoch_batches(name) * self.max_value), "ba"
            return int(value * self.max_value), self.max_unit
        if unit == "ep":
            value, unit = int(value) * self.epoch_batches(name), "ba"
        return int(value * (self.ssr if scale else 1.0)), unit

    def per_batch(self, name: str, unit: str) -> int:
        """How much one batch adds to ``unit``'s counter."""
        if unit == "ba":
            return 1
        arg = _PER_BATCH_ARG[unit]
        per = getattr(self, arg)
        if per is None:
            raise ValueError(f"{name}: the unit {unit!r} needs {arg}.")
        return per

    def first_count(self, name: str, time: tuple[int, str]) -> int:
        """The first count whose timestamp is ``>= time``: ``ceil(value / per_batch)``."""
        return -(-time[0] // self.per_batch(name, time[1]))

    def run_batches(self) -> int:
        """The batches the run trains: the first count with ``timestamp >= max_duration``."""
        if self.max_unit == "ep":
            return int(self.max_value) * self.epoch_batches("max_duration")
        return self.first_count("max_duration", (int(self.max_value), self.max_unit))

    def batches(self, name: str, time: tuple[int, str]) -> float:
        """``time`` in batches (a fraction for samples and tokens)."""
        return time[0] / self.per_batch(name, time[1])


def _positive_int(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ValueError(f"{name} must be a whole number > 0, got {value!r}.")
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    return int(value)


def _clock(
    max_duration: TimeLike,
    scale_schedule_ratio: float,
    batches_per_epoch: int | None,
    samples_per_batch: int | None,
    tokens_per_batch: int | None,
) -> _Clock:
    ssr = scale_schedule_ratio
    if (
        isinstance(ssr, bool)
        or not isinstance(ssr, int | float)
        or not (ssr > 0)
        or ssr == math.inf
    ):
        raise ValueError(f"scale_schedule_ratio must be a number > 0, got {ssr!r}.")
    value, unit = parse_time("max_duration", max_duration)
    if unit == "dur":
        raise ValueError(f"max_duration must be in ep, ba, sp or tok, got {max_duration!r}.")
    value = int(value * ssr)  # Composer's Trainer: max_duration * scale_schedule_ratio
    if value == 0:
        raise ValueError(
            f"max_duration scaled by scale_schedule_ratio={ssr} is 0 (Composer refuses it), "
            f"got {max_duration!r}."
        )
    return _Clock(
        value,
        unit,
        float(ssr),
        _positive_int("batches_per_epoch", batches_per_epoch),
        _positive_int("samples_per_batch", samples_per_batch),
        _positive_int("tokens_per_batch", tokens_per_batch),
    )


def _finish(phases: list[_engine.Phase], trainer_lag: bool) -> Schedule:
    schedule = _engine.stack_phases(phases)
    return _combine.shift(schedule, -1) if trainer_lag else schedule


def _times(lr: ArrayLike, alpha: ArrayLike) -> ArrayLike:
    """``lr * alpha``, in float64 on the host when both are concrete numbers."""
    a, b = v.concrete_value(lr), v.concrete_value(alpha)
    if a is not None and b is not None and a.ndim == 0 and b.ndim == 0:
        return float(a) * float(b)
    return jnp.asarray(lr, jnp.float32) * jnp.asarray(alpha, jnp.float32)


def _check_max_duration(clock: _Clock, t_max: tuple[int, str], given: TimeLike) -> None:
    """Composer's ``_raise_if_max_duration_exceeds_t_max`` (with the trainer's scaled max)."""
    value, unit = t_max
    if unit == clock.max_unit:
        short = value < clock.max_value
    elif unit == "ba" and clock.max_unit == "ep" and clock.batches_per_epoch is not None:
        short = value < clock.max_value * clock.batches_per_epoch
    else:
        return  # units Composer cannot compare: no check
    if short:
        raise ValueError(
            f"t_max ({given!r}, {value}{unit}) must be >= max_duration "
            f"({clock.max_value:g}{clock.max_unit}), as Composer requires."
        )


def _length(name: str, clock: _Clock, time: tuple[int, str], given: TimeLike) -> float:
    """``time`` in batches, refusing 0 (Composer divides by it)."""
    if time[0] == 0:
        raise ValueError(f"{name} must be > 0 (Composer divides by it), got {given!r}.")
    return clock.batches(name, time)


def _warmup(
    lr: ArrayLike,
    peak: ArrayLike,
    clock: _Clock,
    t_warmup: TimeLike,
    scale_warmup: bool,
) -> tuple[list[_engine.Phase], tuple[int, str], int]:
    """The warmup ``peak * t / t_warmup``: its phase, ``t_warmup`` converted, its count span.

    The warmup lasts while ``timestamp < t_warmup`` (unscaled); with
    ``scale_warmup`` its slope follows ``int(t_warmup * ssr)`` (Composer's
    ``warmup_scheduler(state, ssr)``).
    """
    if not isinstance(scale_warmup, bool):
        raise ValueError(f"scale_warmup must be True or False, got {scale_warmup!r}.")
    tw = clock.convert("t_warmup", t_warmup, scale=False)
    span = clock.first_count("t_warmup", tw)
    if span == 0:
        return [], tw, 0
    slope = clock.convert("t_warmup", t_warmup, scale=scale_warmup)
    length = _length("t_warmup (scaled by scale_schedule_ratio)", clock, slope, t_warmup)
    phase = _build.warmup_phase(_times(lr, peak), span, "linear", init_value=0.0, length=length)
    return [phase], tw, span


def _after_warmup(
    lr: ArrayLike,
    start: ArrayLike,
    end: ArrayLike,
    shape: _build.ShapeArg,
    clock: _Clock,
    tw: tuple[int, str],
    span: int,
    t_max: TimeLike,
) -> _engine.Phase:
    """``start -> end`` over ``frac = min(1, (t - t_warmup) / (t_max - t_warmup))``, then held."""
    tm = clock.convert("t_max", t_max)
    if tm[1] != tw[1]:
        raise ValueError(
            f"t_warmup and t_max must use the same units (Composer), got {tw[0]}{tw[1]} and "
            f"{tm[0]}{tm[1]} from t_max={t_max!r}."
        )
    _check_max_duration(clock, tm, t_max)
    if tm[0] <= tw[0]:  # Composer: frac = 0 when t_max <= t_warmup
        return _build.hold_phase(_times(lr, start))
    per = clock.per_batch("t_max", tm[1])
    length = (tm[0] - tw[0]) / per
    offset = span - tw[0] / per  # batches past t_warmup at the first count after it
    return _build.decay_phase(
        _times(lr, start), 0, _times(lr, end), shape, length=length, offset=offset
    )


def _milestone_phases(
    lr: ArrayLike,
    gamma: ArrayLike,
    clock: _Clock,
    milestones: Sequence[TimeLike],
    begin: int,
) -> list[_engine.Phase]:
    """``gamma ** (milestones reached)`` from count ``begin`` on (``timestamp >= milestone``)."""
    if isinstance(milestones, str) or not isinstance(milestones, Sequence):
        raise ValueError(f"milestones must be a list of times, got {milestones!r}.")
    firsts = sorted(
        clock.first_count(f"milestones[{i}]", clock.convert(f"milestones[{i}]", m))
        for i, m in enumerate(milestones)
    )
    starts = [begin, *sorted({b for b in firsts if b > begin})]
    phases = []
    for i, s in enumerate(starts):
        n = sum(1 for b in firsts if b <= s)
        g = v.concrete_value(gamma)
        factor: ArrayLike = float(g) ** n if g is not None else jnp.asarray(gamma, jnp.float32) ** n
        span = starts[i + 1] - s if i + 1 < len(starts) else 0
        phases.append(_build.hold_phase(_times(lr, factor), span))
    return phases


_MAX_STAIR_PHASES = 4096


def _finish_staircase(
    lr: ArrayLike, gamma: ArrayLike, clock: _Clock, size: tuple[int, str], trainer_lag: bool
) -> Any:
    """``lr * gamma ** floor(k c / S)`` (``c`` = ``size``'s units per batch), exactly.

    With ``g = gcd(S, c)`` the exponent grows by ``c / g`` every ``S / g``
    counts, so one cycle of ``S / g`` counts holds its ``min(S, c) / g`` distinct
    values (boundaries computed in integers on the host) and each cycle
    multiplies them by ``gamma ** (c / g)``. Past 4096 values per cycle it falls
    back to the engine's staircase on ``floor(k / (S / c))`` in float32.
    """
    c = clock.per_batch("step_size", size[1])
    g = math.gcd(size[0], c)
    period, drops = size[0] // g, c // g
    gam = v.concrete_value(gamma)

    def power(n: int) -> ArrayLike:
        return float(gam) ** n if gam is not None else jnp.asarray(gamma, jnp.float32) ** n

    if drops == 1 or min(period, drops) > _MAX_STAIR_PHASES:
        shape = _build.exp_rate(gamma, size[0] / c, staircase=1.0)
        phase = _build.decay_phase(_times(lr, 1.0), 0, 0.0, shape, start_scale=0.0)
        return _finish([phase], trainer_lag)
    if period <= drops:  # a new value every count
        starts = list(range(period))
    else:  # the first count of each value: ceil(j period / drops)
        starts = sorted({-(-j * period // drops) for j in range(drops)})
    bounds = [*starts, period]
    # Cycle i multiplies by gamma ** (i * drops): the engine's cycle decay with exponent `drops`
    # (one float32 gamma, as the single staircase, not a rounded gamma ** drops).
    phases = [
        _build.hold_phase(
            _times(lr, power(b * drops // period)), bounds[i + 1] - b, scale=float(drops)
        )
        for i, b in enumerate(starts)
    ]
    schedule = _engine.stack_phases(phases, cycle_start=0, cycle_decay=gamma)
    return _combine.shift(schedule, -1) if trainer_lag else schedule


def _check_values(**named: ArrayLike) -> None:
    for name, x in named.items():
        v.check_finite(name, x)


def LinearWithWarmupScheduler(
    lr: ArrayLike,
    t_warmup: TimeLike,
    alpha_i: ArrayLike = 1.0,
    alpha_f: ArrayLike = 0.0,
    t_max: TimeLike = "1dur",
    scale_warmup: bool = False,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``LinearWithWarmupScheduler``: ``lr * t / t_warmup`` up to ``lr * alpha_i``, then linear.

    ``alpha(t) = alpha_i t / t_warmup`` while ``t < t_warmup``, then
    ``alpha_i + (alpha_f - alpha_i) min(1, (t - t_warmup) / (t_max - t_warmup))``
    (0 progress when ``t_max <= t_warmup``); ``alpha_f`` is held past ``t_max``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_warmup: warmup time (not scaled by ``scale_schedule_ratio`` unless ``scale_warmup``).
      alpha_i: multiplier at the end of warmup.
      alpha_f: final multiplier.
      t_max: end of the decay (``>= max_duration``, as Composer checks).
      scale_warmup: scale the warmup's slope by ``scale_schedule_ratio`` too.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.LinearWithWarmupScheduler(1.0, "2ba", max_duration="6ba")
      >>> [float(s(k)) for k in range(8)]
      [0.0, 0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_i=alpha_i, alpha_f=alpha_f)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    warm, tw, span = _warmup(lr, alpha_i, clock, t_warmup, scale_warmup)
    main = _after_warmup(lr, alpha_i, alpha_f, "linear", clock, tw, span, t_max)
    return _finish([*warm, main], trainer_lag)


def ConstantWithWarmupScheduler(
    lr: ArrayLike,
    t_warmup: TimeLike,
    alpha: ArrayLike = 1.0,
    t_max: TimeLike = "1dur",
    scale_warmup: bool = False,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``ConstantWithWarmupScheduler``: ``lr * alpha * t / t_warmup``, then ``lr * alpha``.

    Composer builds it as ``LinearWithWarmupScheduler(alpha_i=alpha,
    alpha_f=alpha)``, so the multiplier stays ``alpha`` after ``t_max`` too
    (Composer's docstring says 1.0 there; its code gives ``alpha``).

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_warmup: warmup time.
      alpha: the multiplier after warmup.
      t_max: checked as Composer checks it (same units as ``t_warmup``, ``>= max_duration``).
      scale_warmup: scale the warmup's slope by ``scale_schedule_ratio`` too.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.ConstantWithWarmupScheduler(
      ...     1.0, "128sp", alpha=0.5, max_duration="384sp", samples_per_batch=48,
      ...     trainer_lag=False)
      >>> [float(s(k)) for k in range(5)]
      [0.0, 0.1875, 0.375, 0.5, 0.5]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    return LinearWithWarmupScheduler(
        lr,
        t_warmup,
        alpha,
        alpha,
        t_max,
        scale_warmup,
        max_duration=max_duration,
        scale_schedule_ratio=scale_schedule_ratio,
        batches_per_epoch=batches_per_epoch,
        samples_per_batch=samples_per_batch,
        tokens_per_batch=tokens_per_batch,
        trainer_lag=trainer_lag,
    )


def CosineAnnealingWithWarmupScheduler(
    lr: ArrayLike,
    t_warmup: TimeLike,
    t_max: TimeLike = "1dur",
    alpha_f: ArrayLike = 0.0,
    scale_warmup: bool = False,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``CosineAnnealingWithWarmupScheduler``: linear warmup to ``lr``, then a half cosine.

    ``alpha(t) = t / t_warmup`` while ``t < t_warmup``, then
    ``alpha_f + (1 - alpha_f) (1 + cos(pi x)) / 2`` with
    ``x = min(1, (t - t_warmup) / (t_max - t_warmup))``; ``alpha_f`` is held past ``t_max``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_warmup: warmup time.
      t_max: end of the decay (``>= max_duration``, as Composer checks).
      alpha_f: final multiplier.
      scale_warmup: scale the warmup's slope by ``scale_schedule_ratio`` too.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.CosineAnnealingWithWarmupScheduler(
      ...     2.0, "0.25dur", alpha_f=0.1, max_duration="8ba", trainer_lag=False)
      >>> [round(float(s(k)), 4) for k in range(9)]
      [0.0, 1.0, 2.0, 1.8794, 1.55, 1.1, 0.65, 0.3206, 0.2]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_f=alpha_f)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    warm, tw, span = _warmup(lr, 1.0, clock, t_warmup, scale_warmup)
    main = _after_warmup(lr, 1.0, alpha_f, "cosine", clock, tw, span, t_max)
    return _finish([*warm, main], trainer_lag)


def PolynomialWithWarmupScheduler(
    lr: ArrayLike,
    t_warmup: TimeLike,
    power: ArrayLike = 2.0,
    t_max: TimeLike = "1dur",
    alpha_f: ArrayLike = 0.0,
    scale_warmup: bool = False,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``PolynomialWithWarmupScheduler``: linear warmup to ``lr``, then a polynomial decay.

    ``alpha(t) = t / t_warmup`` while ``t < t_warmup``, then
    ``alpha_f + (1 - alpha_f) (1 - x)**power`` with
    ``x = min(1, (t - t_warmup) / (t_max - t_warmup))``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_warmup: warmup time.
      power: the exponent (> 0).
      t_max: end of the decay (``>= max_duration``, as Composer checks).
      alpha_f: final multiplier.
      scale_warmup: scale the warmup's slope by ``scale_schedule_ratio`` too.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.PolynomialWithWarmupScheduler(
      ...     1.0, "1ba", max_duration="5ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(6)]
      [0.0, 1.0, 0.5625, 0.25, 0.0625, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_f=alpha_f)
    v.check_range("power", power, low=0.0, low_open=True)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    warm, tw, span = _warmup(lr, 1.0, clock, t_warmup, scale_warmup)
    main = _after_warmup(lr, 1.0, alpha_f, _build.power_out(power), clock, tw, span, t_max)
    return _finish([*warm, main], trainer_lag)


def MultiStepWithWarmupScheduler(
    lr: ArrayLike,
    t_warmup: TimeLike,
    milestones: Sequence[TimeLike],
    gamma: ArrayLike = 0.1,
    scale_warmup: bool = False,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``MultiStepWithWarmupScheduler``: linear warmup to ``lr``, then ``lr * gamma**x``.

    ``x`` counts the milestones reached (``t >= milestone``), those inside the
    warmup included once it ends.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_warmup: warmup time.
      milestones: times at which the multiplier is multiplied by ``gamma``.
      gamma: the decay factor.
      scale_warmup: scale the warmup's slope by ``scale_schedule_ratio`` too.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.MultiStepWithWarmupScheduler(
      ...     1.0, "2ba", ["1ba", "4ba"], gamma=0.5, max_duration="6ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(6)]
      [0.0, 0.5, 0.5, 0.5, 0.25, 0.25]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, gamma=gamma)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    warm, _, span = _warmup(lr, 1.0, clock, t_warmup, scale_warmup)
    return _finish([*warm, *_milestone_phases(lr, gamma, clock, milestones, span)], trainer_lag)


def _decay_from_zero(
    lr: ArrayLike,
    start: ArrayLike,
    end: ArrayLike,
    shape: _build.ShapeArg,
    clock: _Clock,
    t_max: TimeLike,
) -> _engine.Phase:
    """``start -> end`` over ``frac = min(1, t / t_max)``, then held (no warmup)."""
    tm = clock.convert("t_max", t_max)
    length = _length("t_max", clock, tm, t_max)
    return _build.decay_phase(_times(lr, start), 0, _times(lr, end), shape, length=length)


def ConstantScheduler(
    lr: ArrayLike,
    alpha: ArrayLike = 1.0,
    t_max: TimeLike = "1dur",
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``ConstantScheduler``: ``lr * alpha`` while ``t < t_max``, then ``lr``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      alpha: the multiplier before ``t_max``.
      t_max: when the multiplier returns to 1.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.ConstantScheduler(1.0, 0.5, "2ba", max_duration="4ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(4)]
      [0.5, 0.5, 1.0, 1.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha=alpha)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    end = clock.first_count("t_max", clock.convert("t_max", t_max))
    phases = [_build.hold_phase(_times(lr, alpha), end), _build.hold_phase(_times(lr, 1.0))]
    return _finish(phases, trainer_lag)


def LinearScheduler(
    lr: ArrayLike,
    alpha_i: ArrayLike = 1.0,
    alpha_f: ArrayLike = 0.0,
    t_max: TimeLike = "1dur",
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``LinearScheduler``: ``alpha_i + (alpha_f - alpha_i) min(1, t / t_max)``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      alpha_i: the first multiplier.
      alpha_f: the multiplier from ``t_max`` on.
      t_max: the duration of the ramp (> 0).
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.LinearScheduler(1.0, max_duration="4ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(6)]
      [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_i=alpha_i, alpha_f=alpha_f)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    return _finish([_decay_from_zero(lr, alpha_i, alpha_f, "linear", clock, t_max)], trainer_lag)


def CosineAnnealingScheduler(
    lr: ArrayLike,
    t_max: TimeLike = "1dur",
    alpha_f: ArrayLike = 0.0,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``CosineAnnealingScheduler``: ``alpha_f + (1 - alpha_f) (1 + cos(pi x)) / 2``,
    ``x = min(1, t / t_max)``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_max: the duration of the decay (> 0).
      alpha_f: the final multiplier, held past ``t_max``.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.CosineAnnealingScheduler(1.0, max_duration="4ba", trainer_lag=False)
      >>> [round(float(s(k)), 4) for k in range(6)]
      [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_f=alpha_f)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    return _finish([_decay_from_zero(lr, 1.0, alpha_f, "cosine", clock, t_max)], trainer_lag)


def PolynomialScheduler(
    lr: ArrayLike,
    power: ArrayLike,
    t_max: TimeLike = "1dur",
    alpha_f: ArrayLike = 0.0,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``PolynomialScheduler``: ``alpha_f + (1 - alpha_f) (1 - x)**power``.

    ``x = min(1, t / t_max)``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      power: the exponent (> 0).
      t_max: the duration of the decay (> 0).
      alpha_f: the final multiplier, held past ``t_max``.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.PolynomialScheduler(1.0, 2.0, max_duration="4ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(6)]
      [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_f=alpha_f)
    v.check_range("power", power, low=0.0, low_open=True)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    shape = _build.power_out(power)
    return _finish([_decay_from_zero(lr, 1.0, alpha_f, shape, clock, t_max)], trainer_lag)


def StepScheduler(
    lr: ArrayLike,
    step_size: TimeLike,
    gamma: ArrayLike = 0.1,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``StepScheduler``: ``lr * gamma ** floor(t / step_size)``.

    The floor is exact: in samples or tokens, ``floor(k c / S)`` (``c`` per
    batch) is periodic, one cycle of ``S / gcd(S, c)`` counts, built with its
    boundaries in integers (beyond 4096 distinct values per cycle it falls back
    to ``floor(k / (S / c))`` in float32, which can be one count late).

    Args:
      lr: the optimizer's learning rate (traced allowed).
      step_size: time between decays (> 0).
      gamma: the decay factor.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.StepScheduler(1.0, "2ba", 0.5, max_duration="6ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(6)]
      [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, gamma=gamma)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    size = clock.convert("step_size", step_size)
    _length("step_size", clock, size, step_size)
    return _finish_staircase(lr, gamma, clock, size, trainer_lag)


def MultiStepScheduler(
    lr: ArrayLike,
    milestones: Sequence[TimeLike],
    gamma: ArrayLike = 0.1,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``MultiStepScheduler``: ``lr * gamma ** x``, ``x`` the milestones with ``t >= milestone``.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      milestones: times at which the multiplier is multiplied by ``gamma``.
      gamma: the decay factor.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.MultiStepScheduler(
      ...     1.0, ["1ba", "0.5dur"], 0.5, max_duration="6ba", trainer_lag=False)
      >>> [float(s(k)) for k in range(5)]
      [1.0, 0.5, 0.5, 0.25, 0.25]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, gamma=gamma)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    return _finish(_milestone_phases(lr, gamma, clock, milestones, 0), trainer_lag)


def ExponentialScheduler(
    lr: ArrayLike,
    gamma: ArrayLike,
    decay_period: TimeLike = "1ep",
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``ExponentialScheduler``: ``lr * gamma ** (t / decay_period)`` (no staircase).

    Args:
      lr: the optimizer's learning rate (traced allowed).
      gamma: the factor per ``decay_period`` (> 0).
      decay_period: the time over which the multiplier falls by ``gamma`` (> 0).
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.ExponentialScheduler(
      ...     1.0, 0.25, max_duration="2ep", batches_per_epoch=2, trainer_lag=False)
      >>> [float(s(k)) for k in range(4)]
      [1.0, 0.5, 0.25, 0.125]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr)
    v.check_range("gamma", gamma, low=0.0, low_open=True)
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    period = _length(
        "decay_period", clock, clock.convert("decay_period", decay_period), decay_period
    )
    shape = _build.exp_rate(gamma, period)
    return _finish(
        [_build.decay_phase(_times(lr, 1.0), 0, 0.0, shape, start_scale=0.0)], trainer_lag
    )


_MAX_RESTARTS = 4096


def CosineAnnealingWarmRestartsScheduler(
    lr: ArrayLike,
    t_0: TimeLike,
    t_mult: float = 1.0,
    alpha_f: ArrayLike = 0.0,
    *,
    max_duration: TimeLike,
    scale_schedule_ratio: float = 1.0,
    batches_per_epoch: int | None = None,
    samples_per_batch: int | None = None,
    tokens_per_batch: int | None = None,
    trainer_lag: bool = True,
) -> Schedule:
    """``CosineAnnealingWarmRestartsScheduler``: cosine cycles, each ``t_mult`` times longer.

    Cycle ``i`` lasts ``L_i`` (``L_0 = t_0``, ``L_{i+1} = int(t_mult L_i)``, in
    ``t_0``'s unit, truncated as Composer does) and gives
    ``alpha_f + (1 - alpha_f) (1 + cos(pi (t - start_i) / L_i)) / 2``. Once the
    lengths stop changing the cycle repeats forever (an engine cycle, when it
    is a whole number of batches); otherwise the cycles that start before
    ``max_duration`` are listed (up to 4096) and the value holds ``alpha_f``
    after them, where training has stopped.

    Args:
      lr: the optimizer's learning rate (traced allowed).
      t_0: the first cycle's length (> 0).
      t_mult: the length multiplier (a concrete number > 0).
      alpha_f: the multiplier at the end of each cycle.
      max_duration: the trainer's ``max_duration`` as written (``"10ep"``, ``"1000ba"``...).
      scale_schedule_ratio: the trainer's ``scale_schedule_ratio`` (> 0).
      batches_per_epoch: batches per epoch (Composer's ``dataloader_len``), for ``ep``.
      samples_per_batch: samples per batch, for ``sp``.
      tokens_per_batch: tokens per batch, for ``tok``.
      trainer_lag: update ``k`` uses batch ``k - 1``'s multiplier, as Composer's trainer does.

    Returns:
      A schedule of the count: ``lr * alpha``.

    Raises:
      ValueError: where Composer raises during training: a cycle length reaching 0
        (``t_mult < 1``) before ``max_duration``.

    Example:
      >>> from optax_warmup.compat import composer
      >>> s = composer.CosineAnnealingWarmRestartsScheduler(
      ...     1.0, "2ba", 2.0, max_duration="6ba", trainer_lag=False)
      >>> [round(float(s(k)), 4) for k in range(7)]  # count 6: past the run
      [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0]

    Reference:
      mosaicml/composer ``composer/optim/scheduler.py`` at 6405188805a0.
    """
    _check_values(lr=lr, alpha_f=alpha_f)
    if isinstance(t_mult, bool) or not isinstance(t_mult, int | float) or not t_mult > 0:
        raise ValueError(f"t_mult must be a number > 0, got {t_mult!r}.")
    if not math.isfinite(t_mult):
        raise ValueError(f"t_mult must be finite, got {t_mult!r}.")
    clock = _clock(
        max_duration, scale_schedule_ratio, batches_per_epoch, samples_per_batch, tokens_per_batch
    )
    t0 = clock.convert("t_0", t_0)
    _length("t_0", clock, t0, t_0)
    c = clock.per_batch("t_0", t0[1])
    top, bottom = _times(lr, 1.0), _times(lr, alpha_f)
    limit = int(np.iinfo(v.index_dtype()).max)
    run = clock.run_batches()
    phases: list[_engine.Phase] = []
    start, length = 0, t0[0]
    cycle_start: int | None = None
    while True:
        first, end = -(-start // c), start + length
        if length == 0 or first >= run or len(phases) >= _MAX_RESTARTS or -(-end // c) > limit:
            # Training sees the batches before max_duration; Composer raises when one
            # of them finds a cycle of length 0.
            if first < run:
                why = "shrinks to 0" if length == 0 else f"needs more than {_MAX_RESTARTS} cycles"
                raise ValueError(
                    f"t_0={t_0!r} with t_mult={t_mult}: the cycle length {why} before "
                    "max_duration (Composer raises there)."
                )
            phases.append(_build.hold_phase(bottom))
            break
        phases.append(
            _build.decay_phase(
                top,
                -(-end // c) - first,
                bottom,
                "cosine",
                length=length / c,
                offset=first - start / c,
            )
        )
        nxt = int(t_mult * length)
        if nxt == length and start % c == 0 and length % c == 0:
            cycle_start = len(phases) - 1  # the same whole-batch cycle from here on
            break
        start, length = end, nxt
    schedule = _engine.stack_phases(phases, cycle_start=cycle_start)
    return _combine.shift(schedule, -1) if trainer_lag else schedule


__all__ = [
    "UNITS",
    "parse_time",
    "ConstantWithWarmupScheduler",
    "LinearWithWarmupScheduler",
    "CosineAnnealingWithWarmupScheduler",
    "PolynomialWithWarmupScheduler",
    "MultiStepWithWarmupScheduler",
    "ConstantScheduler",
    "LinearScheduler",
    "CosineAnnealingScheduler",
    "PolynomialScheduler",
    "StepScheduler",
    "MultiStepScheduler",
    "ExponentialScheduler",
    "CosineAnnealingWarmRestartsScheduler",
]
