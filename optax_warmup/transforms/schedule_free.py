"""Warmup for Schedule-Free optimizers on the same clock as the inner optimizer.

``optax.contrib.schedule_free`` evaluates its learning-rate schedule at
``count + 1`` (its step counter starts at 1) while the inner optimizer
evaluates the same schedule at ``count``: the averaging weights run one step
ahead of the steps they weight. And ``optax.contrib.schedule_free_adamw(lr,
warmup_steps=0)`` builds ``warmup_constant_schedule(0, lr, 0)``, which stays
at 0, so the parameters never move. The wrappers here fix both: the schedule
the averaging sees is shifted back by one, and warmups come from this library
(no wasted first update; ``warmup_steps=0`` means the peak from count 0).
"""

from __future__ import annotations

from typing import Any, cast

import optax
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import warmup as _warmup


def schedule_free(
    base_optimizer: optax.GradientTransformation,
    learning_rate: _combine.ScheduleLike,
    b1: ArrayLike = 0.9,
    weight_lr_power: ArrayLike = 2.0,
    state_dtype: Any = None,
) -> optax.GradientTransformationExtraArgs:
    """``optax.contrib.schedule_free`` with its schedule on the inner optimizer's clock.

    The averaging weight of update ``k`` (``max_lr_k ** weight_lr_power``, with
    ``max_lr_k = max(lr(0), ..., lr(k))``) uses ``lr(k)``, the learning rate the
    inner optimizer applies at update ``k``; optax's own wrapper uses
    ``lr(k + 1)``. Same arguments and state as optax's.

    Args:
      base_optimizer: the inner optimizer, without momentum (e.g. ``optax.sgd(lr)``
        or an Adam with ``b1=0``), built with the same ``learning_rate``.
      learning_rate: the learning-rate schedule (with warmup, without decay) or a number.
      b1: the interpolation parameter of Schedule-Free (> 0).
      weight_lr_power: exponent of the learning rate in the averaging weights.
      state_dtype: dtype of the ``z`` sequence.

    Returns:
      The Schedule-Free optimizer (evaluate with
      ``optax.contrib.schedule_free_eval_params``).

    Reference: Defazio et al., "The Road Less Scheduled", 2024.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> lr = ow.warmup_schedule(1.0, 4)
      >>> tx = ow.schedule_free(optax.sgd(lr), lr)
      >>> state = tx.init(jnp.zeros(1))
      >>> _, state = tx.update(jnp.ones(1), state, jnp.zeros(1))
      >>> float(state.max_lr)  # lr(0), not lr(1)
      0.25
    """
    if not (
        callable(getattr(base_optimizer, "init", None))
        and callable(getattr(base_optimizer, "update", None))
    ):
        raise ValueError(
            "base_optimizer must be an optax GradientTransformation (e.g. optax.sgd(lr)), "
            f"got {base_optimizer!r:.80}."
        )
    if not callable(learning_rate):
        v.check_finite("learning_rate", learning_rate, scalar=True)
    v.check_range("b1", b1, low=0.0, high=1.0, low_open=True)
    lr: Any = learning_rate
    if callable(learning_rate):
        lr = _combine.shift(learning_rate, -1)
    return optax.contrib.schedule_free(
        base_optimizer, lr, b1=b1, weight_lr_power=weight_lr_power, state_dtype=state_dtype
    )


def _learning_rate(learning_rate: _combine.ScheduleLike, warmup_steps: ArrayLike | None) -> Any:
    if warmup_steps is None:
        return learning_rate
    v.check_duration("warmup_steps", warmup_steps)
    if callable(learning_rate):
        return _warmup.add_warmup(learning_rate, warmup_steps, mode="multiply")
    return _warmup.warmup_schedule(learning_rate, warmup_steps)


def schedule_free_sgd(
    learning_rate: _combine.ScheduleLike = 1.0,
    warmup_steps: ArrayLike | None = None,
    b1: ArrayLike = 0.9,
    weight_decay: ArrayLike | None = None,
    weight_lr_power: ArrayLike = 2.0,
    state_dtype: Any = None,
) -> optax.GradientTransformationExtraArgs:
    """Schedule-Free SGD (optax's signature) with this library's warmup and one clock.

    The learning rate at update ``k`` is ``lr * min(1, (k + 1) / W)`` (no wasted
    first update; ``warmup_steps=0`` or ``None``: ``lr`` from the start), used
    by both the SGD step and the averaging weights. A schedule as
    ``learning_rate`` is multiplied by the warmup factor.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.schedule_free_sgd(0.5, warmup_steps=0)
      >>> params = jnp.ones(1)
      >>> updates, _ = tx.update(jnp.ones(1), tx.init(params), params)
      >>> float(updates[0])
      -0.5
    """
    lr = _learning_rate(learning_rate, warmup_steps)
    inner = optax.sgd(lr)
    if weight_decay is not None:
        inner = optax.chain(optax.add_decayed_weights(cast(Any, weight_decay)), inner)
    return schedule_free(inner, lr, b1, weight_lr_power, state_dtype)


def schedule_free_adamw(
    learning_rate: _combine.ScheduleLike = 0.0025,
    warmup_steps: ArrayLike | None = None,
    b1: ArrayLike = 0.9,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
    weight_decay: ArrayLike = 0.0,
    weight_lr_power: ArrayLike = 2.0,
    state_dtype: Any = None,
) -> optax.GradientTransformationExtraArgs:
    """Schedule-Free AdamW (optax's signature) with this library's warmup and one clock.

    The inner optimizer is optax's (RMS scaling with bias correction, decoupled
    weight decay, the learning rate); the learning rate at update ``k`` is
    ``lr * min(1, (k + 1) / W)``, and the averaging weights use the same value.
    ``warmup_steps=0`` trains at ``lr`` from the first update (optax's stays at 0).

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.schedule_free_adamw(0.1, warmup_steps=0)
      >>> params = jnp.ones(1)
      >>> updates, _ = tx.update(jnp.ones(1), tx.init(params), params)
      >>> bool(updates[0] < 0)
      True
    """
    lr = _learning_rate(learning_rate, warmup_steps)
    inner = optax.chain(
        optax.scale_by_rms(decay=b2, eps=eps, eps_in_sqrt=False, bias_correction=True),
        optax.add_decayed_weights(cast(Any, weight_decay)),
        optax.scale_by_learning_rate(lr),
    )
    return schedule_free(inner, lr, b1, weight_lr_power, state_dtype)
