"""The public ``Schedule`` type and the one base of every schedule that is not a phase stack.

Every schedule of the library is either a
:class:`~optax_warmup.PhaseSchedule` (phases evaluated by the engine) or a
:class:`ScheduleNode` built from other schedules: a user's function, a
product, a sum, a generic join, a noisy schedule, an integer ramp, a shifted
schedule, a data ramp (:class:`~optax_warmup.DataRamp`) and a schedule of the
data consumed (:class:`~optax_warmup.ClockedSchedule`, which is not called
with a step count). All of them are pytrees (their arrays and inner schedules are leaves,
so they pass through ``jax.jit`` and ``jax.vmap`` as arguments), compare and
hash by identity (so ``jax.jit(schedule)`` works like jitting any function; a
data ramp, all static, by value), and return the floating dtype their inputs
promote to (float32 unless some input is wider; float64 pieces under x64 give
float64; the ramps return integers in the index dtype). Each has a config node,
so :func:`optax_warmup.to_config` writes it back, except
:class:`~optax_warmup.FunctionSchedule` (a Python function cannot be written).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike


@runtime_checkable
class Schedule(Protocol):
    """Anything called with a step count that returns a value: ``count -> value``.

    Every schedule the library returns satisfies it (and so does any plain
    function of the count, as ``isinstance`` only checks that it is callable).
    Use it to annotate code that takes or returns a schedule.

    Example:
      >>> import optax_warmup as ow
      >>> isinstance(ow.cosine_decay(1.0, 10), ow.Schedule)
      True
    """

    def __call__(self, count: ArrayLike) -> jax.Array: ...


def promoted_dtype(*values: jax.Array) -> jnp.dtype:
    """The floating dtype ``values`` promote to (float32 when none of them is floating)."""
    dt = jnp.result_type(*values)
    return dt if jnp.issubdtype(dt, jnp.floating) else jnp.dtype(jnp.float32)


class ScheduleNode:
    """Base of the schedule types built from other schedules (not phase stacks).

    A subclass is a frozen dataclass (``eq=False``) that lists its pytree
    fields in ``data_fields`` / ``meta_fields`` (registered by
    :func:`register_node`), names its config node in ``config_kind``, and
    implements :meth:`evaluate`. Calling the node evaluates it.
    """

    config_kind: ClassVar[str] = ""

    def evaluate(self, count: ArrayLike) -> jax.Array:
        """The value at ``count``."""
        raise NotImplementedError  # pragma: no cover

    def __call__(self, count: ArrayLike) -> jax.Array:
        return self.evaluate(count)


def register_node(cls: Any, data_fields: list[str], meta_fields: list[str]) -> None:
    """Register a :class:`ScheduleNode` dataclass as a pytree."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} must be a ScheduleNode dataclass.")
    if not issubclass(cls, ScheduleNode):
        raise TypeError(f"{cls!r} must be a ScheduleNode dataclass.")
    jax.tree_util.register_dataclass(cls, data_fields=data_fields, meta_fields=meta_fields)
