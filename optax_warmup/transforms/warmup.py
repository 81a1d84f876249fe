"""Warmup as a gradient transformation: scale any optimizer's updates by a warmup factor.

The factor is a schedule of the number of updates already applied (optax's
``count``). It is evaluated in float32 and multiplied into each update in
float32 (or in the update's own dtype when that is wider); only the product is
cast back to the update's dtype, so a bf16 model never sees a bf16-quantised
factor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.schedules import warmup as _warmup

FactorLike = Callable[[ArrayLike], ArrayLike] | ArrayLike


class ScaleByWarmupState(NamedTuple):
    """State of :func:`scale_by_warmup`.

    Attributes:
      count: updates applied so far (int32, saturating at the int32 maximum).
      warmup_factor: the factor the next update will use (float32).
    """

    count: jax.Array
    warmup_factor: jax.Array


class WithWarmupState(NamedTuple):
    """State of :func:`with_warmup`: the warmup's count and factor, and the inner state.

    Attributes:
      count: updates applied so far (int32, saturating at the int32 maximum).
      warmup_factor: the factor the next update will use (float32).
      inner_state: the wrapped transformation's state, untouched by the wrapper.
    """

    count: jax.Array
    warmup_factor: jax.Array
    inner_state: optax.OptState


def warmup_factor_schedule(
    schedule_or_warmup_steps: FactorLike,
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> Callable[[ArrayLike], ArrayLike]:
    """The factor schedule for a schedule or a warmup length (see :func:`scale_by_warmup`)."""
    if callable(schedule_or_warmup_steps):
        if shape != "linear" or init_value is not None:
            raise ValueError(
                "shape and init_value describe a warmup length; with a schedule "
                f"(schedule_or_warmup_steps={schedule_or_warmup_steps!r}) leave them unset."
            )
        return schedule_or_warmup_steps
    return _warmup.warmup_factor(schedule_or_warmup_steps, shape=shape, init_value=init_value)


def next_count(count: jax.Array) -> jax.Array:
    """``count + 1``, saturating at the dtype's maximum (no wraparound)."""
    return jnp.asarray(optax.safe_increment(count))


def factor_at(schedule: Callable[[ArrayLike], ArrayLike], count: jax.Array) -> jax.Array:
    """``schedule(count)`` as a float32 scalar, computed once per step (not per leaf)."""
    return _engine.computed_once(jnp.asarray(schedule(count), jnp.float32), count)


def scale_tree(updates: optax.Updates, factor: jax.Array) -> optax.Updates:
    """Multiply every update by ``factor`` in at least float32; cast back to its dtype."""

    def scale(u: Any) -> Any:
        if u is None:
            return None
        dt = jnp.promote_types(u.dtype, jnp.float32)
        return (u.astype(dt) * factor.astype(dt)).astype(u.dtype)

    return jax.tree.map(scale, updates, is_leaf=lambda x: x is None)


def scale_by_warmup(
    schedule_or_warmup_steps: FactorLike,
    *,
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> optax.GradientTransformation:
    """Multiply updates by a warmup factor ``w(count)``: a chainable transformation.

    ``updates <- w(count) * updates``, ``count`` being the number of updates
    already applied. Given a warmup length ``W`` the factor is
    :func:`optax_warmup.warmup_factor`: ``f((count + 1) / W)`` for
    ``count < W`` then 1, so the first update is not wasted; pass ``init_value``
    for the optax convention ``init + (1 - init) f(count / W)``. Given a
    schedule (any library schedule, e.g. :func:`untuned_linear_warmup`, or any
    ``count -> value`` function) the factor is that schedule.

    Args:
      schedule_or_warmup_steps: a factor schedule, or a warmup length in steps
        (a number or an array, traced allowed).
      shape: the warmup shape when a length is given (``"linear"``, ``"cosine"``,
        ``"exponential"``, an ``optax_warmup.shapes`` object or a function).
      init_value: the factor at count 0 (optax convention) when a length is given.

    Returns:
      An ``optax.GradientTransformation`` whose state is a
      :class:`ScaleByWarmupState`.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.scale_by_warmup(4)  # e.g. in optax.chain(optax.scale_by_adam(), tx, ...)
      >>> state = tx.init(jnp.zeros(2))
      >>> for _ in range(5):
      ...     u, state = tx.update(jnp.ones(2), state)
      ...     print(float(u[0]))
      0.25
      0.5
      0.75
      1.0
      1.0
    """
    schedule = warmup_factor_schedule(schedule_or_warmup_steps, shape, init_value)

    def init_fn(params: optax.Params) -> ScaleByWarmupState:
        del params
        count = jnp.zeros([], jnp.int32)
        return ScaleByWarmupState(count, factor_at(schedule, count))

    def update_fn(
        updates: optax.Updates, state: ScaleByWarmupState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, ScaleByWarmupState]:
        del params
        updates = scale_tree(updates, factor_at(schedule, state.count))
        count = next_count(state.count)
        return updates, ScaleByWarmupState(count, factor_at(schedule, count))

    return optax.GradientTransformation(init_fn, update_fn)  # type: ignore[arg-type]


def with_warmup(
    tx: optax.GradientTransformation,
    schedule_or_warmup_steps: FactorLike,
    *,
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Wrap any optimizer so that its updates are scaled by a warmup factor.

    ``updates, inner_state <- tx.update(...)``, then ``updates <- w(count) *
    updates`` as in :func:`scale_by_warmup`. Works with every transformation
    (``optax.adam``, ``adamw``, ``lion``, ``sgd``, ``optax.contrib.muon``...);
    extra arguments are passed through and the inner state is kept as is. For
    an optimizer whose update is linear in the learning rate (SGD, and Adam up
    to its epsilon) this equals the same optimizer with its learning rate
    multiplied by ``w``.

    Args:
      tx: the transformation to wrap.
      schedule_or_warmup_steps: a factor schedule, or a warmup length in steps.
      shape: the warmup shape when a length is given.
      init_value: the factor at count 0 (optax convention) when a length is given.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` whose state is a
      :class:`WithWarmupState` (``count``, ``warmup_factor``, ``inner_state``).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = ow.with_warmup(optax.sgd(0.1), 2)
      >>> params = jnp.zeros(1)
      >>> state = tx.init(params)
      >>> for _ in range(3):
      ...     u, state = tx.update(jnp.ones(1), state, params)
      ...     print(round(float(u[0]), 6))
      -0.05
      -0.1
      -0.1
    """
    if not (hasattr(tx, "init") and hasattr(tx, "update")):
        raise ValueError(f"tx must be an optax.GradientTransformation, got {tx!r}.")
    inner = optax.with_extra_args_support(tx)
    schedule = warmup_factor_schedule(schedule_or_warmup_steps, shape, init_value)

    def init_fn(params: optax.Params) -> WithWarmupState:
        count = jnp.zeros([], jnp.int32)
        return WithWarmupState(count, factor_at(schedule, count), inner.init(params))

    def update_fn(
        updates: optax.Updates,
        state: WithWarmupState,
        params: optax.Params | None = None,
        **extra_args: Any,
    ) -> tuple[optax.Updates, WithWarmupState]:
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra_args)
        updates = scale_tree(updates, factor_at(schedule, state.count))
        count = next_count(state.count)
        return updates, WithWarmupState(count, factor_at(schedule, count), inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)  # type: ignore[arg-type]
