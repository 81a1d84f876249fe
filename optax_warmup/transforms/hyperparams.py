"""Scheduling any hyperparameter: momentum, b2, weight decay, the clipping threshold.

:func:`inject_schedules` is ``optax.inject_hyperparams`` without its two
shortcomings: values are computed in float32 and never cast to the params'
dtype (optax turns ``b2 = 0.999`` into 1.0 for bf16 params), and the state
records the values the *next* update will use (optax records the last
update's, one step behind the schedule).

Recipes (each a schedule passed as the hyperparameter):

- momentum warmup 0.85 -> 0.95 over 300 steps:
  ``b1=ow.warmup_schedule(0.95, 300, init_value=0.85)``;
- Adafactor's ``b2_t = 1 - t**-0.8``: ``b2=ow.adafactor_b2()``;
- weight decay fixed: ``weight_decay=1e-4``; tied to the lr:
  ``weight_decay=ow.tied_to_lr(1e-4, lr, peak_lr)`` (``wd * lr_t / peak_lr``);
- clipping threshold warmed down from 10 to 1:
  ``ow.inject_schedules(optax.clip_by_global_norm)(max_norm=ow.linear_decay(10.0, 1000,
  end_value=1.0))``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.transforms import warmup as _transforms


class InjectSchedulesState(NamedTuple):
    """State of a transformation made by :func:`inject_schedules`.

    Attributes:
      count: updates applied so far (int32, saturating).
      hyperparams: every injected hyperparameter's value for the NEXT update
        (float32, or wider when given so). Unscheduled entries may be edited
        between updates; scheduled ones are recomputed from ``count``.
      inner_state: the inner transformation's state (its dtypes are kept).
    """

    count: jax.Array
    hyperparams: dict[str, jax.Array]
    inner_state: optax.OptState


def as_hyperparam(x: Any) -> jax.Array:
    """A hyperparameter value as an array: floats in float32 at least, never narrower."""
    a = jnp.asarray(x)
    if not jnp.issubdtype(a.dtype, jnp.floating):
        return a
    weak = isinstance(x, float) or getattr(a, "weak_type", False)
    return a.astype(jnp.float32 if weak else jnp.promote_types(a.dtype, jnp.float32))


def _widen(x: Any) -> Any:
    """A leaf as the inner transformation sees it: float32 if narrower or integer.

    Scheduled hyperparameters are float32 arrays; optax transformations that
    ``jnp.where`` / ``lax.select`` between a leaf and the leaf times a
    hyperparameter (``clip_by_global_norm``) need the leaf in the same dtype.
    Leaves narrower than float32 (bf16, f16) and integer leaves are computed in
    float32 and cast back to their own dtype afterwards; float32, float64 and
    complex leaves pass unchanged.
    """
    if not hasattr(x, "dtype"):
        return x
    dt = jnp.dtype(x.dtype)
    if jnp.issubdtype(dt, jnp.integer) or (jnp.issubdtype(dt, jnp.floating) and dt.itemsize < 4):
        return jnp.asarray(x, jnp.float32)
    return x


def _is_numeric(x: Any) -> bool:
    return isinstance(x, float | jax.Array | np.ndarray | np.floating)


def _arguments(sig: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    """The factory's arguments by name, defaults included (``**kwargs`` spread out)."""
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = sig.parameters[name].kind
        if kind == inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind == inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise ValueError(f"inject_schedules passes arguments by name; got *{name}.")
        else:
            out[name] = value
    return out


def inject_schedules(
    inner_factory: Callable[..., optax.GradientTransformation],
    static_args: str | Iterable[str] = (),
) -> Callable[..., optax.GradientTransformationExtraArgs]:
    """Let any hyperparameter of an optax factory be a schedule, evaluated at the update.

    ``inject_schedules(factory)(**kwargs)`` builds ``factory(**values)`` at
    every update, where each callable argument is a schedule evaluated at the
    current count and each float argument a fixed value, both as float32
    arrays (never cast to the params' dtype). Booleans, ints, strings,
    ``None``, tuples and the names in ``static_args`` pass through unchanged.
    The inner state's dtypes and the updates' dtypes are kept, so bf16 params
    stay bf16 while the arithmetic sees float32 hyperparameters: leaves
    narrower than float32 (bf16, f16) and integer leaves enter the inner
    update as float32 and its results are cast back to their dtypes (so
    ``clip_by_global_norm``'s ``where`` never mixes dtypes). The state
    (:class:`InjectSchedulesState`) stores the values the next update will use.

    Args:
      inner_factory: a function returning a transformation, e.g. ``optax.adamw``,
        ``optax.scale_by_adam``, ``optax.clip_by_global_norm``, ``ow.gi_adam``.
      static_args: names of callable arguments that are not schedules (e.g.
        ``"mask"``).

    Returns:
      A function taking the factory's arguments and returning an
      ``optax.GradientTransformationExtraArgs``.

    Raises:
      ValueError: if ``static_args`` names an argument the factory does not take.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = ow.inject_schedules(optax.adam)(
      ...     learning_rate=ow.warmup_schedule(1e-3, 10),
      ...     b1=ow.warmup_schedule(0.95, 300, init_value=0.85))
      >>> params = jnp.zeros(2, jnp.bfloat16)
      >>> state = tx.init(params)
      >>> float(state.hyperparams["learning_rate"]), round(float(state.hyperparams["b2"]), 6)
      (0.0001, 0.999)
      >>> _, state = tx.update(jnp.ones(2, jnp.bfloat16), state, params)
      >>> float(state.hyperparams["learning_rate"])  # the next update's value
      0.0002
    """
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    sig = inspect.signature(inner_factory)
    unknown = static - set(sig.parameters)
    if unknown:
        name = getattr(inner_factory, "__name__", "the factory")
        raise ValueError(f"static_args must name arguments of {name}, got {sorted(unknown)}.")

    @functools.wraps(inner_factory)
    def wrapped(*args: Any, **kwargs: Any) -> optax.GradientTransformationExtraArgs:
        fixed: dict[str, Any] = {}
        scheduled: dict[str, Callable[..., Any]] = {}
        passed: dict[str, Any] = {}
        for name, value in _arguments(sig, args, kwargs).items():
            if name in static or isinstance(value, bool):
                passed[name] = value
            elif callable(value):
                scheduled[name] = value
            elif _is_numeric(value):
                fixed[name] = value
            else:
                passed[name] = value

        def next_values(count: jax.Array, current: dict[str, Any]) -> dict[str, jax.Array]:
            out = {k: as_hyperparam(current[k]) for k in fixed}
            # Each scheduled value computed once per step, not inside every leaf's update.
            out.update(
                {
                    k: as_hyperparam(_engine.computed_once(f(count), count))
                    for k, f in scheduled.items()
                }
            )
            return out

        def init_fn(params: optax.Params) -> InjectSchedulesState:
            count = jnp.zeros([], jnp.int32)
            values = next_values(count, fixed)
            inner = inner_factory(**passed, **values)
            return InjectSchedulesState(count, values, inner.init(params))

        def update_fn(
            updates: optax.Updates,
            state: InjectSchedulesState,
            params: optax.Params | None = None,
            **extra_args: Any,
        ) -> tuple[optax.Updates, InjectSchedulesState]:
            values = next_values(state.count, state.hyperparams)
            inner = optax.with_extra_args_support(inner_factory(**passed, **values))
            # Low-precision and integer leaves meet the float32 hyperparameters in
            # float32; every result is cast back to its leaf's (or state's) dtype.
            wide_params = None if params is None else jax.tree.map(_widen, params)
            new_updates, inner_state = inner.update(
                jax.tree.map(_widen, updates), state.inner_state, wide_params, **extra_args
            )
            new_updates = optax.tree.cast_like(new_updates, updates)
            inner_state = optax.tree.cast_like(inner_state, state.inner_state)
            count = _transforms.next_count(state.count)
            return new_updates, InjectSchedulesState(count, next_values(count, values), inner_state)

        return optax.GradientTransformationExtraArgs(init_fn, update_fn)  # type: ignore[arg-type]

    return wrapped


def adafactor_b2(decay_rate: ArrayLike = 0.8) -> _engine.PhaseSchedule:
    """Adafactor's second-moment decay ``b2_t = 1 - t**(-decay_rate)``, ``t = count + 1``.

    0 at the first update (the second moment starts as the squared gradient),
    then rising towards 1 (Shazeer & Stern 2018; optax's ``adafactor``
    ``decay_rate``).

    Args:
      decay_rate: the exponent, > 0 (a traced value is raised to 1e-6).

    Returns:
      A schedule for a ``b2`` / ``decay`` hyperparameter.

    Example:
      >>> import optax_warmup as ow
      >>> b2 = ow.adafactor_b2()
      >>> [round(float(b2(c)), 4) for c in (0, 1, 9, 999)]
      [0.0, 0.4257, 0.8415, 0.996]

    References:
      Shazeer & Stern, Adafactor: adaptive learning rates with sublinear
      memory cost, 2018.
    """
    v.check_range("decay_rate", decay_rate, low=0.0, low_open=True)
    rate = jnp.maximum(jnp.asarray(decay_rate, jnp.float32), 1e-6)
    shape = _build.inverse_sqrt(1.0, exponent=rate)
    return _engine.stack_phases([_build.decay_phase(0.0, 0, 1.0, shape, start_scale=0.0)])


def tied_to_lr(
    value: ArrayLike, learning_rate: _combine.ScheduleLike, peak_lr: ArrayLike
) -> _combine.ProductSchedule:
    """A hyperparameter that follows the learning rate: ``value * lr(count) / peak_lr``.

    The usual use is weight decay tied to the lr schedule (it warms up and
    decays with it). Note that ``optax.adamw`` already multiplies its
    ``weight_decay`` by the lr: for a per-step decay of
    ``value * lr_t / peak_lr`` there (Wortsman et al. 2023's independent decay),
    pass the constant ``weight_decay=value / peak_lr`` instead.

    Args:
      value: the hyperparameter's value at the peak lr.
      learning_rate: the lr schedule (or a number).
      peak_lr: the lr at which the hyperparameter equals ``value`` (> 0; a
        traced value <= 0 gives 0).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> lr = ow.warmup_schedule(1e-3, 4)
      >>> wd = ow.tied_to_lr(0.1, lr, 1e-3)
      >>> [round(float(wd(c)), 6) for c in range(5)]
      [0.025, 0.05, 0.075, 0.1, 0.1]
    """
    v.check_finite("value", value)
    v.check_range("peak_lr", peak_lr, low=0.0, low_open=True)
    peak = jnp.asarray(peak_lr, jnp.float32)
    ratio = jnp.where(peak > 0, jnp.asarray(value, jnp.float32) / jnp.where(peak > 0, peak, 1), 0)
    return _combine.multiply(learning_rate, ratio)
