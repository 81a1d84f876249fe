"""Reduce on plateau after any schedule: a metric-driven factor on top of a warmup.

The transformation multiplies updates by ``learning_rate(count) * scale``:
the schedule (a warmup, a warmup-cosine, a constant...) first, then a plateau
factor ``scale`` that starts at 1 and is multiplied by ``factor`` whenever the
monitored value stops improving. The value is passed to ``update`` as the extra
argument ``value=`` (optax's convention, as for
``optax.contrib.reduce_on_plateau``). Everything lives in the state, a pytree
of scalars, so the transformation is jit-compatible, its hyperparameters may be
traced, and a checkpointed state resumes bit for bit.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.transforms import warmup as _warmup

PlateauMode = Literal["min", "max"]
MODES = ("min", "max")


class ReduceOnPlateauState(NamedTuple):
    """State of :func:`reduce_on_plateau`.

    Attributes:
      count: updates applied so far (int32, saturating).
      scale: the plateau factor the next update will use (float32, starts at 1).
      best: the best monitored value so far (float32; +inf in ``"min"`` mode,
        -inf in ``"max"`` mode before the first reaction).
      num_bad: reactions since the last improvement (int32), zeroed in cooldown.
      cooldown_count: reactions left in the cooldown after a reduction (int32).
      window_sum: the sum of the monitored values of the current window (float32).
      window_count: how many values the current window holds (int32).
      learning_rate: ``learning_rate(count) * scale``, the multiplier of the next
        update (float32).
    """

    count: jax.Array
    scale: jax.Array
    best: jax.Array
    num_bad: jax.Array
    cooldown_count: jax.Array
    window_sum: jax.Array
    window_count: jax.Array
    learning_rate: jax.Array


def _validate(
    mode: str,
    factor: ArrayLike,
    patience: ArrayLike,
    rtol: ArrayLike,
    atol: ArrayLike,
    cooldown: ArrayLike,
    min_scale: ArrayLike,
    min_value: ArrayLike,
    eps: ArrayLike,
    window: ArrayLike,
    start_step: ArrayLike,
) -> None:
    v.check_choice("mode", mode, MODES)
    v.check_range("factor", factor, low=0.0, high=1.0, high_open=True)
    v.check_range("patience", patience, low=0)
    v.check_range("rtol", rtol, low=0.0, high=1.0, high_open=True)
    v.check_range("atol", atol, low=0.0)
    v.check_range("cooldown", cooldown, low=0)
    v.check_range("min_scale", min_scale, low=0.0, high=1.0)
    v.check_range("min_value", min_value, low=0.0)
    v.check_range("eps", eps, low=0.0)
    v.check_range("window", window, low=1)
    v.check_range("start_step", start_step, low=0)


def _is_better(mode: str, value: jax.Array, best: jax.Array, rtol: Any, atol: Any) -> jax.Array:
    """Whether ``value`` improves on ``best`` by more than the thresholds."""
    if mode == "min":
        return value < best * (1.0 - rtol) - atol
    return value > best * (1.0 + rtol) + atol


def reduce_on_plateau(
    learning_rate: _combine.ScheduleLike = 1.0,
    *,
    mode: PlateauMode = "min",
    factor: ArrayLike = 0.1,
    patience: ArrayLike = 10,
    rtol: ArrayLike = 1e-4,
    atol: ArrayLike = 0.0,
    cooldown: ArrayLike = 0,
    min_scale: ArrayLike = 0.0,
    min_value: ArrayLike = 0.0,
    eps: ArrayLike = 0.0,
    window: ArrayLike = 1,
    start_step: ArrayLike = 0,
) -> optax.GradientTransformationExtraArgs:
    """Multiply updates by ``learning_rate(count) * scale``; shrink ``scale`` when ``value`` stalls.

    Each ``update(updates, state, params, value=v)`` first scales the updates
    by ``learning_rate(count) * scale`` (the scale decided by the values seen
    before), then monitors ``v`` if ``count >= start_step``. Monitored values
    are averaged over ``window`` of them; at the end of each window the average
    ``a`` is one *reaction*, with the rule of ``torch.optim.lr_scheduler.ReduceLROnPlateau``:

    - ``a`` improves when ``a < best (1 - rtol) - atol`` (mode ``"min"``) or
      ``a > best (1 + rtol) + atol`` (mode ``"max"``); then ``best = a`` and
      ``num_bad = 0``, else ``num_bad += 1``;
    - in cooldown (``cooldown_count > 0``) ``cooldown_count -= 1`` and
      ``num_bad = 0``;
    - if ``num_bad > patience``: ``scale <- max(scale * factor, min_scale,
      min_value / learning_rate(count))``, kept only if it is lower and (when
      ``eps > 0``) the value ``learning_rate(count) * scale`` drops by more
      than ``eps``; then
      ``cooldown_count = cooldown`` and ``num_bad = 0``.

    The new scale applies from the next update, so ``state.learning_rate``
    (read by :func:`optax_warmup.current_values`) is always the multiplier of
    the next update; ``optax.contrib.reduce_on_plateau`` instead applies a
    reduction to the update that reported the value. Under ``optax.MultiSteps``
    the inner update, hence one reaction, runs once per optimizer step, with
    the ``value`` of the step's last micro-batch. A NaN value counts as no
    improvement. Traced hyperparameters are allowed; ``mode`` is static.

    Args:
      learning_rate: a schedule (any library schedule, e.g. a warmup, or any
        ``count -> value`` function) or a number; 1.0 to use the transformation
        as a pure plateau factor after an optimizer that holds its own rate.
      mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
      factor: the reduction factor, in [0, 1).
      patience: reactions without improvement tolerated before a reduction (>= 0).
      rtol: relative improvement threshold, in [0, 1) (torch's ``threshold``
        in ``"rel"`` mode).
      atol: absolute improvement threshold, >= 0 (torch's ``"abs"`` mode,
        Keras's ``min_delta``).
      cooldown: reactions after a reduction during which bad values are not
        counted (>= 0).
      min_scale: the smallest plateau factor, in [0, 1].
      min_value: the smallest value ``learning_rate(count) * scale`` a
        reduction may reach (torch's ``min_lr``), >= 0.
      eps: a reduction that lowers the value by ``eps`` or less is skipped
        (torch's ``eps``), >= 0.
      window: how many monitored values are averaged into one reaction (>= 1;
        optax's ``accumulation_size``); use it with per-batch training losses.
      start_step: the first count whose value is monitored (e.g. the warmup
        length: values during warmup are ignored), >= 0.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` whose ``update`` takes
      ``value=`` and whose state is a :class:`ReduceOnPlateauState`.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.reduce_on_plateau(ow.warmup_schedule(1.0, 2), factor=0.5, patience=1)
      >>> state = tx.init(jnp.zeros(1))
      >>> used = []
      >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0]:
      ...     u, state = tx.update(jnp.ones(1), state, value=loss)
      ...     used.append(float(u[0]))
      >>> used  # warmup, then halved after two reactions without improvement
      [0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    """
    _validate(
        mode,
        factor,
        patience,
        rtol,
        atol,
        cooldown,
        min_scale,
        min_value,
        eps,
        window,
        start_step,
    )
    schedule = _combine.as_schedule(learning_rate)
    f32 = jnp.float32
    idx = v.index_dtype()
    factor_ = jnp.asarray(factor, f32)
    rtol_ = jnp.asarray(rtol, f32)
    atol_ = jnp.asarray(atol, f32)
    min_scale_ = jnp.clip(jnp.asarray(min_scale, f32), 0.0, 1.0)
    min_value_ = jnp.maximum(jnp.asarray(min_value, f32), 0.0)
    eps_ = jnp.maximum(jnp.asarray(eps, f32), 0.0)
    patience_ = jnp.maximum(jnp.asarray(patience, idx), 0)
    cooldown_ = jnp.maximum(jnp.asarray(cooldown, idx), 0).astype(jnp.int32)
    window_ = jnp.maximum(jnp.asarray(window, idx), 1)
    start_ = jnp.maximum(jnp.asarray(start_step, idx), 0)
    worst = jnp.asarray(jnp.inf if mode == "min" else -jnp.inf, f32)

    def init_fn(params: optax.Params) -> ReduceOnPlateauState:
        del params
        count = jnp.zeros([], jnp.int32)
        zero = jnp.zeros([], jnp.int32)
        scale = jnp.ones([], f32)
        return ReduceOnPlateauState(
            count=count,
            scale=scale,
            best=worst,
            num_bad=zero,
            cooldown_count=zero,
            window_sum=jnp.zeros([], f32),
            window_count=zero,
            learning_rate=_warmup.factor_at(schedule, count) * scale,
        )

    def react(state: ReduceOnPlateauState, a: jax.Array, lr: jax.Array) -> tuple[Any, ...]:
        better = _is_better(mode, a, state.best, rtol_, atol_)
        best = jnp.where(better, a, state.best)
        num_bad = jnp.where(better, 0, _warmup.next_count(state.num_bad))
        in_cooldown = state.cooldown_count > 0
        cooldown_count = jnp.where(in_cooldown, state.cooldown_count - 1, state.cooldown_count)
        num_bad = jnp.where(in_cooldown, 0, num_bad)
        reduce = num_bad > patience_
        floor = jnp.where(lr > 0, min_value_ / jnp.where(lr > 0, lr, 1.0), 0.0)
        reduced = jnp.maximum(jnp.maximum(state.scale * factor_, min_scale_), floor)
        drop = lr * state.scale - lr * reduced
        apply = reduce & (reduced < state.scale) & ((eps_ <= 0) | (drop > eps_))
        scale = jnp.where(apply, reduced, state.scale)
        cooldown_count = jnp.where(reduce, cooldown_, cooldown_count)
        num_bad = jnp.where(reduce, 0, num_bad)
        return scale, best, num_bad.astype(jnp.int32), cooldown_count.astype(jnp.int32)

    def update_fn(
        updates: optax.Updates,
        state: ReduceOnPlateauState,
        params: optax.Params | None = None,
        *,
        value: ArrayLike,
        **extra_args: Any,
    ) -> tuple[optax.Updates, ReduceOnPlateauState]:
        del params, extra_args
        lr = _warmup.factor_at(schedule, state.count)
        updates = _warmup.scale_tree(updates, lr * state.scale)
        monitored = state.count.astype(idx) >= start_
        value_ = jnp.asarray(value, f32).reshape(())
        window_sum = jnp.where(monitored, state.window_sum + value_, state.window_sum)
        window_count = jnp.where(monitored, state.window_count + 1, state.window_count)
        full = window_count.astype(idx) >= window_
        average = window_sum / jnp.maximum(window_count, 1).astype(f32)
        scale, best, num_bad, cooldown_count = react(state, average, lr)
        count = _warmup.next_count(state.count)
        new_scale = jnp.where(full, scale, state.scale)
        new_state = ReduceOnPlateauState(
            count=count,
            scale=new_scale,
            best=jnp.where(full, best, state.best),
            num_bad=jnp.where(full, num_bad, state.num_bad),
            cooldown_count=jnp.where(full, cooldown_count, state.cooldown_count),
            window_sum=jnp.where(full, 0.0, window_sum).astype(f32),
            window_count=jnp.where(full, 0, window_count).astype(jnp.int32),
            learning_rate=_warmup.factor_at(schedule, count) * new_scale,
        )
        return updates, new_state

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)  # type: ignore[arg-type]
