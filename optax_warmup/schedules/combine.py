"""Schedules built from other schedules: constants, products and generic joins.

These nodes accept any schedule, including a user's own ``count -> value``
function. Joining the library's own schedules goes through the phase engine
instead (see :func:`optax_warmup.join`), which finds the piece of a count in
O(1) (concrete boundaries) or O(log N) steps; the generic join here costs one
evaluation per piece.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules.base import Schedule, ScheduleNode, promoted_dtype, register_node

ScheduleLike = Callable[[ArrayLike], ArrayLike] | ArrayLike


@dataclasses.dataclass(frozen=True, eq=False)
class FunctionSchedule(ScheduleNode):
    """Wraps a user's ``count -> value`` function so it can sit inside a schedule pytree.

    The function is static (part of the pytree structure). It is the one
    schedule type :func:`optax_warmup.to_config` cannot write.
    """

    fn: Callable[[ArrayLike], ArrayLike]
    config_kind: ClassVar[str] = ""

    def evaluate(self, count: ArrayLike) -> jax.Array:
        return jnp.asarray(self.fn(count))


register_node(FunctionSchedule, data_fields=[], meta_fields=["fn"])


def constant_schedule(value: ArrayLike, *, dtype: Any = None) -> _engine.PhaseSchedule:
    """A constant schedule: ``value`` at every count.

    Args:
      value: the value (number or array, traced allowed).
      dtype: output dtype (float32 by default).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> float(ow.constant_schedule(0.5)(10))
      0.5
    """
    v.check_finite("value", value)
    return _engine.stack_phases([_build.hold_phase(value, scale=0.0)], dtype=dtype)


def as_schedule(schedule: ScheduleLike, name: str = "schedule") -> Schedule:
    """A library schedule for ``schedule``: numbers become constants, functions are wrapped."""
    if isinstance(schedule, _engine.PhaseSchedule | ScheduleNode):
        return schedule
    if dataclasses.is_dataclass(schedule) and callable(schedule):
        return schedule  # a schedule pytree defined elsewhere (subclass ScheduleNode instead)
    if callable(schedule):
        return FunctionSchedule(schedule)
    try:
        return constant_schedule(cast(ArrayLike, schedule))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a schedule or a number, got {schedule!r}.") from e


def _fold(parts: tuple[Any, ...], count: ArrayLike, op: Callable[..., jax.Array]) -> jax.Array:
    """``op`` over the parts' values at ``count``, in the dtype their values promote to."""
    values = [jnp.asarray(p(count)) for p in parts]
    dt = promoted_dtype(*values)
    out = values[0].astype(dt)
    for x in values[1:]:
        out = op(out, x.astype(dt))
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class ProductSchedule(ScheduleNode):
    """The product of schedules, e.g. a warmup factor times a main schedule."""

    factors: tuple[Any, ...]
    config_kind: ClassVar[str] = "multiply"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        return _fold(self.factors, count, jnp.multiply)


register_node(ProductSchedule, data_fields=["factors"], meta_fields=[])


def multiply(*schedules: ScheduleLike) -> ProductSchedule:
    """The pointwise product of schedules (numbers count as constants).

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.multiply(ow.warmup_factor(4), 0.1)
      >>> [round(float(s(c)), 3) for c in range(5)]
      [0.025, 0.05, 0.075, 0.1, 0.1]
    """
    if not schedules:
        raise ValueError("multiply needs at least one schedule, got none.")
    return ProductSchedule(tuple(as_schedule(s) for s in schedules))


@dataclasses.dataclass(frozen=True, eq=False)
class SumSchedule(ScheduleNode):
    """The sum of schedules, e.g. a fixed floor plus a decaying cyclic part."""

    terms: tuple[Any, ...]
    config_kind: ClassVar[str] = "add"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        return _fold(self.terms, count, jnp.add)


register_node(SumSchedule, data_fields=["terms"], meta_fields=[])


def add(*schedules: ScheduleLike) -> SumSchedule:
    """The pointwise sum of schedules (numbers count as constants).

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.add(0.1, ow.linear_decay(0.9, 2))
      >>> [round(float(s(c)), 3) for c in range(3)]
      [1.0, 0.55, 0.1]
    """
    if not schedules:
        raise ValueError("add needs at least one schedule, got none.")
    return SumSchedule(tuple(as_schedule(s) for s in schedules))


@dataclasses.dataclass(frozen=True, eq=False)
class MaximumSchedule(ScheduleNode):
    """The pointwise maximum of schedules, e.g. a schedule floored at a minimum value."""

    parts: tuple[Any, ...]
    config_kind: ClassVar[str] = "maximum"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        return _fold(self.parts, count, jnp.maximum)


register_node(MaximumSchedule, data_fields=["parts"], meta_fields=[])


def maximum(*schedules: ScheduleLike) -> MaximumSchedule:
    """The pointwise maximum of schedules (numbers count as constants): ``max_i s_i(count)``.

    Flooring a schedule at a minimum learning rate is ``maximum(schedule, min_lr)``
    (t5x's ``min_learning_rate``).

    Args:
      *schedules: the schedules (schedules, functions or numbers), at least one.

    Returns:
      A :class:`MaximumSchedule`.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.maximum(ow.linear_decay(1.0, 4), 0.3)
      >>> [round(float(s(c)), 3) for c in range(6)]
      [1.0, 0.75, 0.5, 0.3, 0.3, 0.3]
    """
    if not schedules:
        raise ValueError("maximum needs at least one schedule, got none.")
    return MaximumSchedule(tuple(as_schedule(s) for s in schedules))


@dataclasses.dataclass(frozen=True, eq=False)
class MinimumSchedule(ScheduleNode):
    """The pointwise minimum of schedules, e.g. a schedule capped at a maximum value."""

    parts: tuple[Any, ...]
    config_kind: ClassVar[str] = "minimum"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        return _fold(self.parts, count, jnp.minimum)


register_node(MinimumSchedule, data_fields=["parts"], meta_fields=[])


def minimum(*schedules: ScheduleLike) -> MinimumSchedule:
    """The pointwise minimum of schedules (numbers count as constants): ``min_i s_i(count)``.

    Args:
      *schedules: the schedules (schedules, functions or numbers), at least one.

    Returns:
      A :class:`MinimumSchedule`.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.minimum(ow.warmup_schedule(1.0, 4), 0.6)
      >>> [round(float(s(c)), 3) for c in range(5)]
      [0.25, 0.5, 0.6, 0.6, 0.6]
    """
    if not schedules:
        raise ValueError("minimum needs at least one schedule, got none.")
    return MinimumSchedule(tuple(as_schedule(s) for s in schedules))


@dataclasses.dataclass(frozen=True, eq=False)
class JoinedSchedule(ScheduleNode):
    """Pieces of arbitrary schedules switched at boundaries (one evaluation per piece)."""

    pieces: tuple[Any, ...]
    boundaries: jax.Array
    rebase: bool
    config_kind: ClassVar[str] = "join"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        t = _engine.as_count(count)
        b = self.boundaries.astype(t.dtype)
        idx = jnp.searchsorted(b, t, side="right")
        values = [
            jnp.asarray(piece(t - b[i - 1] if (self.rebase and i > 0) else t))
            for i, piece in enumerate(self.pieces)
        ]
        dt = promoted_dtype(*values)
        out = jnp.zeros(t.shape, dt)
        for i, x in enumerate(values):
            out = jnp.where(idx == i, x.astype(dt), out)
        return out


register_node(JoinedSchedule, data_fields=["pieces", "boundaries"], meta_fields=["rebase"])


@dataclasses.dataclass(frozen=True, eq=False)
class ShiftedSchedule(ScheduleNode):
    """``schedule(count + steps)``: a schedule moved ``steps`` counts earlier (later if < 0)."""

    schedule: Any
    steps: jax.Array
    config_kind: ClassVar[str] = "shift"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        t = jnp.asarray(count)
        steps = self.steps
        if not jnp.issubdtype(t.dtype, jnp.floating):
            t = _engine.as_count(t)
            # Saturate instead of wrapping: clip so that t + steps stays in range.
            steps = steps.astype(t.dtype)
            info = jnp.iinfo(t.dtype)
            lo = info.min - jnp.minimum(steps, 0)
            hi = info.max - jnp.maximum(steps, 0)
            t = jnp.clip(t, lo, hi)
        return jnp.asarray(self.schedule(t + steps.astype(t.dtype)))


register_node(ShiftedSchedule, data_fields=["schedule", "steps"], meta_fields=[])


def shift(schedule: ScheduleLike, steps: ArrayLike) -> ShiftedSchedule:
    """``value(c) = schedule(c + steps)``: the schedule ``steps`` counts ahead.

    A negative ``steps`` delays it (counts below 0 then give the schedule's
    value at 0). ``steps`` is a whole number, traced allowed.

    Args:
      schedule: a schedule, a function of the count or a number.
      steps: the shift in counts (an integer; may be negative).

    Returns:
      A :class:`ShiftedSchedule`.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.shift(ow.linear_decay(1.0, 4), 1)
      >>> [float(s(c)) for c in range(4)]
      [0.75, 0.5, 0.25, 0.0]
    """
    c = v.concrete_value(steps)
    if c is not None and (c.dtype.kind not in "biu" and not np.all(c == np.floor(c))):
        raise ValueError(f"steps must be a whole number, got {c.tolist()!r}.")
    v.check_finite("steps", steps)
    return ShiftedSchedule(as_schedule(schedule), jnp.asarray(steps).astype(v.index_dtype()))


def sorted_boundaries(boundaries: Sequence[ArrayLike] | jax.Array, num_pieces: int) -> jax.Array:
    """Validate join boundaries: ``num_pieces - 1`` sorted, non-negative counts.

    Traced boundaries are made safe instead: clamped at zero and made
    non-decreasing with a running maximum, so an unsorted value shortens the
    piece before it to zero steps.
    """
    if isinstance(boundaries, jax.Array | np.ndarray):
        arr = v.as_duration("boundaries", jnp.reshape(boundaries, (-1,)))
    else:
        items = list(boundaries)
        if not items:
            arr = jnp.zeros((0,), v.index_dtype())
        elif any(v.is_traced(x) for x in items):
            arr = jnp.stack([v.as_duration("boundaries", x) for x in items])
        else:
            for x in items:  # host-side checks, so the message names the bad entry
                v.check_duration("boundaries", x)
            arr = v.as_duration("boundaries", np.asarray([np.asarray(x) for x in items]))
    n = arr.shape[0]
    if n != num_pieces - 1:
        raise ValueError(
            f"boundaries must hold one fewer entry than schedules ({num_pieces - 1}), got {n}."
        )
    c = v.concrete_value(arr)
    if c is not None and c.size and bool((c[1:] < c[:-1]).any()):
        raise ValueError(f"boundaries must be sorted, got {c.tolist()}.")
    return jax.lax.cummax(arr, axis=0)
