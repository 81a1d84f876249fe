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
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v

ScheduleLike = Callable[[ArrayLike], ArrayLike] | ArrayLike


@dataclasses.dataclass(frozen=True)
class FunctionSchedule:
    """Wraps a user's ``count -> value`` function so it can sit inside a schedule pytree."""

    fn: Callable[[ArrayLike], ArrayLike]

    def __call__(self, count: ArrayLike) -> jax.Array:
        return jnp.asarray(self.fn(count))


jax.tree_util.register_dataclass(FunctionSchedule, data_fields=[], meta_fields=["fn"])


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
    constant = _shapes.ResolvedShape(_shapes.CONSTANT)
    return _engine.from_phases([_engine.Phase(0, value, value, constant)], dtype=dtype)


def as_schedule(schedule: ScheduleLike, name: str = "schedule") -> Callable[[ArrayLike], jax.Array]:
    """A library schedule for ``schedule``: numbers become constants, functions are wrapped."""
    if isinstance(schedule, _engine.PhaseSchedule | ProductSchedule | SumSchedule | JoinedSchedule):
        return schedule
    if dataclasses.is_dataclass(schedule) and callable(schedule):
        return schedule  # another library schedule node (a registered pytree)
    if callable(schedule):
        return FunctionSchedule(schedule)
    try:
        return constant_schedule(cast(ArrayLike, schedule))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a schedule or a number, got {schedule!r}.") from e


@dataclasses.dataclass(frozen=True, eq=False)
class ProductSchedule:
    """The product of schedules, e.g. a warmup factor times a main schedule."""

    factors: tuple[Any, ...]

    def __call__(self, count: ArrayLike) -> jax.Array:
        out = jnp.asarray(self.factors[0](count), dtype=jnp.float32)
        for f in self.factors[1:]:
            out = out * jnp.asarray(f(count), dtype=jnp.float32)
        return out


jax.tree_util.register_dataclass(ProductSchedule, data_fields=["factors"], meta_fields=[])


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
class SumSchedule:
    """The sum of schedules, e.g. a fixed floor plus a decaying cyclic part."""

    terms: tuple[Any, ...]

    def __call__(self, count: ArrayLike) -> jax.Array:
        out = jnp.asarray(self.terms[0](count), dtype=jnp.float32)
        for f in self.terms[1:]:
            out = out + jnp.asarray(f(count), dtype=jnp.float32)
        return out


jax.tree_util.register_dataclass(SumSchedule, data_fields=["terms"], meta_fields=[])


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
class JoinedSchedule:
    """Pieces of arbitrary schedules switched at boundaries (one evaluation per piece)."""

    pieces: tuple[Any, ...]
    boundaries: jax.Array
    rebase: bool

    def __call__(self, count: ArrayLike) -> jax.Array:
        t = _engine._as_count(count)
        b = self.boundaries.astype(t.dtype)
        idx = jnp.searchsorted(b, t, side="right")
        out = jnp.zeros(t.shape, jnp.float32)
        for i, piece in enumerate(self.pieces):
            local = t - b[i - 1] if (self.rebase and i > 0) else t
            out = jnp.where(idx == i, jnp.asarray(piece(local), jnp.float32), out)
        return out


jax.tree_util.register_dataclass(
    JoinedSchedule, data_fields=["pieces", "boundaries"], meta_fields=["rebase"]
)


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
