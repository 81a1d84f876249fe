"""Keras 3 schedules (``keras.optimizers.schedules``), value for value.

A Keras schedule is called with ``optimizer.iterations``, the number of updates
already applied, which is optax's count: the value at count ``k`` is
``schedule(k)`` in Keras. Each function takes the peer's arguments (``name`` is
accepted and ignored). Keras evaluates its formulas in the dtype of
``initial_learning_rate`` (float32 by default); these schedules follow the same
formulas, written to stay accurate in float32 (Keras's own ``0.5 (1 + cos x)``
loses most digits near the bottom of a cosine).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import composites as _composites
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules.base import Schedule


def _check_positive(name: str, value: ArrayLike) -> None:
    v.check_finite(name, value)
    known = v.concrete_value(value)
    if known is not None and not bool((known > 0).all()):
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={known.tolist()}")


def _check_steps(name: str, value: ArrayLike) -> None:
    _check_positive(name, value)
    v.check_duration(name, value)


def _decay(
    init: ArrayLike,
    steps: ArrayLike,
    end: ArrayLike,
    shape: _build.ShapeArg,
    end_scale: ArrayLike = 0.0,
) -> _engine.PhaseSchedule:
    """Decay from ``init`` to ``end`` over ``steps``, then hold ``end`` (inputs validated)."""
    phases = [
        _build.decay_phase(init, steps, end, shape, end_scale=end_scale),
        _build.hold_phase(end, scale=end_scale),
    ]
    return _engine.stack_phases(phases)


def CosineDecay(
    initial_learning_rate: ArrayLike,
    decay_steps: ArrayLike,
    alpha: ArrayLike = 0.0,
    name: str | None = None,
    warmup_target: ArrayLike | None = None,
    warmup_steps: ArrayLike = 0,
) -> _engine.PhaseSchedule:
    """``CosineDecay``: optional linear warmup, then cosine decay to ``alpha`` times its start.

    Without ``warmup_target``: ``init ((1 - alpha) (1 + cos(pi min(k, D) / D)) / 2 + alpha)``
    (``warmup_steps`` is then ignored, as in Keras). With it: ``init + (target -
    init) k / W`` for ``k < W``, then the same decay from ``target`` at ``k - W``.

    Args:
      initial_learning_rate: the start value.
      decay_steps: ``D`` (> 0).
      alpha: the final value as a fraction of the decay's start.
      name: ignored.
      warmup_target: the value the warmup reaches, or ``None`` for no warmup.
      warmup_steps: ``W``.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2)
      >>> [round(float(s(k)), 4) for k in range(8)]
      [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """
    _check_steps("decay_steps", decay_steps)
    v.check_finite("alpha", alpha)
    v.check_finite("initial_learning_rate", initial_learning_rate)
    if warmup_target is None:
        end = jnp.asarray(initial_learning_rate, jnp.float32) * jnp.asarray(alpha, jnp.float32)
        return _decay(initial_learning_rate, decay_steps, end, _build.half_cosine(), end_scale=1.0)
    v.check_duration("warmup_steps", warmup_steps)
    end = jnp.asarray(warmup_target, jnp.float32) * jnp.asarray(alpha, jnp.float32)
    phases = [
        _build.warmup_phase(warmup_target, warmup_steps, init_value=initial_learning_rate),
        _build.decay_phase(warmup_target, decay_steps, end, "cosine"),
        _build.hold_phase(end),
    ]
    return _engine.stack_phases(phases)


def CosineDecayRestarts(
    initial_learning_rate: ArrayLike,
    first_decay_steps: ArrayLike,
    t_mul: ArrayLike = 2.0,
    m_mul: ArrayLike = 1.0,
    alpha: ArrayLike = 0.0,
    name: str | None = None,
) -> Schedule:
    """``CosineDecayRestarts`` (SGDR): ``init (alpha + (1 - alpha) m_mul**i (1 + cos(pi p)) / 2)``.

    Period ``i`` lasts ``first_decay_steps * t_mul**i`` and ``p`` is the position in
    it. Only the part above the floor ``alpha * init`` shrinks by ``m_mul`` per restart.

    Args:
      initial_learning_rate: the first peak.
      first_decay_steps: length of the first period (> 0).
      t_mul: period length multiplier (>= 1).
      m_mul: amplitude multiplier per restart (>= 0).
      alpha: the floor as a fraction of ``initial_learning_rate``.
      name: ignored.

    Returns:
      A schedule (the restart found in O(1) for ``t_mul = 1``, O(log restarts)
      otherwise).

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.CosineDecayRestarts(1.0, 2, t_mul=1.0, m_mul=0.5, alpha=0.2)
      >>> [round(float(s(k)), 4) for k in range(5)]
      [1.0, 0.6, 0.6, 0.4, 0.4]
    """
    v.check_finite("initial_learning_rate", initial_learning_rate)
    _check_steps("first_decay_steps", first_decay_steps)
    v.check_range("t_mul", t_mul, low=1.0)
    v.check_range("m_mul", m_mul, low=0.0)
    v.check_finite("alpha", alpha)
    init = jnp.asarray(initial_learning_rate, jnp.float32)
    a = jnp.asarray(alpha, jnp.float32)
    cycles = _composites.cosine_restarts(
        init * (1 - a), first_decay_steps, end_value=0.0, cycle_mul=t_mul, cycle_decay=m_mul
    )
    known = v.concrete_value(alpha)
    if known is not None and known.ndim == 0 and float(known) == 0.0:
        return cycles
    return _combine.add(_combine.constant_schedule(init * a), cycles)


def ExponentialDecay(
    initial_learning_rate: ArrayLike,
    decay_steps: ArrayLike,
    decay_rate: ArrayLike,
    staircase: bool = False,
    name: str | None = None,
) -> _engine.PhaseSchedule:
    """``ExponentialDecay``: ``init * decay_rate**(k / decay_steps)`` (floored with ``staircase``).

    Args:
      initial_learning_rate: the start value.
      decay_steps: the decay period (> 0, may be fractional).
      decay_rate: the factor per period (>= 0).
      staircase: decay in steps.
      name: ignored.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.ExponentialDecay(1.0, 2, 0.25)
      >>> [float(s(k)) for k in range(3)]
      [1.0, 0.5, 0.25]
    """
    v.check_finite("initial_learning_rate", initial_learning_rate)
    _check_positive("decay_steps", decay_steps)
    v.check_range("decay_rate", decay_rate, low=0.0)
    flag = 1.0 if staircase else 0.0
    shape = _build.exp_rate(decay_rate, decay_steps, staircase=flag)
    return _engine.stack_phases([_build.decay_phase(initial_learning_rate, 0, 0.0, shape)])


def PolynomialDecay(
    initial_learning_rate: ArrayLike,
    decay_steps: ArrayLike,
    end_learning_rate: ArrayLike = 0.0001,
    power: ArrayLike = 1.0,
    cycle: bool = False,
    name: str | None = None,
) -> _engine.PhaseSchedule:
    """``PolynomialDecay``: ``(init - end) (1 - min(k, D) / D)**power + end``.

    With ``cycle=True`` the decay is stretched over ``D * max(1, ceil(k / D))``
    steps instead, so it restarts at every multiple of ``D``, each time from a
    lower value, and never ends.

    Args:
      initial_learning_rate: the start value.
      decay_steps: ``D`` (> 0).
      end_learning_rate: the final value.
      power: the polynomial power (> 0).
      cycle: whether to restart.
      name: ignored.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.PolynomialDecay(1.0, 2, end_learning_rate=0.0, cycle=True)
      >>> [round(float(s(k)), 4) for k in range(6)]
      [1.0, 0.5, 0.0, 0.25, 0.0, 0.1667]
    """
    _check_steps("decay_steps", decay_steps)
    v.check_range("power", power, low=0.0, low_open=True)
    v.check_finite("end_learning_rate", end_learning_rate)
    v.check_finite("initial_learning_rate", initial_learning_rate)
    if not cycle:
        shape = _build.power_out(power)
        return _decay(initial_learning_rate, decay_steps, end_learning_rate, shape)
    length = v.duration_array(decay_steps).astype(jnp.float32)
    phase = _build.decay_phase(
        initial_learning_rate, 0, end_learning_rate, _build.power_cycle(power), length=length
    )
    return _engine.stack_phases([phase])


def PiecewiseConstantDecay(
    boundaries: Sequence[ArrayLike] | jax.Array,
    values: Sequence[ArrayLike] | jax.Array,
    name: str | None = None,
) -> _engine.PhaseSchedule:
    """``PiecewiseConstantDecay``: ``values[0]`` while ``k <= boundaries[0]``, ``values[i]``
    while ``boundaries[i-1] < k <= boundaries[i]``, ``values[-1]`` after.

    Note Keras's inclusive right ends: ``values[1]`` starts at ``boundaries[0] + 1``.

    Args:
      boundaries: increasing step counts.
      values: one more value than boundaries.
      name: ignored.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.PiecewiseConstantDecay([1, 3], [1.0, 0.5, 0.1])
      >>> [float(s(k)) for k in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.1]
    """
    b = jnp.reshape(jnp.asarray(boundaries), (-1,))
    n_values = len(values)
    if b.shape[0] != n_values - 1:
        raise ValueError(
            "The length of boundaries should be 1 less than the length of values. "
            f"Received: boundaries of length {b.shape[0]}, and values of length {n_values}."
        )
    v.check_finite("boundaries", b)
    known = v.concrete_value(b)
    if known is not None:
        # k <= b for whole k means k < floor(b) + 1.
        firsts: Any = np.maximum(np.floor(known).astype(np.int64) + 1, 0)
    else:
        firsts = jnp.maximum(jnp.floor(b.astype(jnp.float32)) + 1, 0).astype(v.index_dtype())
    return _decays.piecewise_constant(firsts, values)


def InverseTimeDecay(
    initial_learning_rate: ArrayLike,
    decay_steps: ArrayLike,
    decay_rate: ArrayLike,
    staircase: bool = False,
    name: str | None = None,
) -> _engine.PhaseSchedule:
    """``InverseTimeDecay``: ``init / (1 + decay_rate * k / decay_steps)`` (floored with
    ``staircase``).

    Args:
      initial_learning_rate: the start value.
      decay_steps: the decay period (> 0, may be fractional).
      decay_rate: the rate (>= 0).
      staircase: decay in steps.
      name: ignored.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import keras
      >>> s = keras.InverseTimeDecay(1.0, 2, 0.5)
      >>> [round(float(s(k)), 4) for k in range(3)]
      [1.0, 0.8, 0.6667]
    """
    v.check_finite("initial_learning_rate", initial_learning_rate)
    _check_positive("decay_steps", decay_steps)
    v.check_range("decay_rate", decay_rate, low=0.0)
    # init / (1 + r t / D) = init * tau / (t + tau) with tau = D / r: the inverse-power
    # shape with power 1, t floored to multiples of D for a staircase (rate 0: tau = 1e30).
    d = jnp.asarray(decay_steps, jnp.float32)
    tau = d / jnp.maximum(jnp.asarray(decay_rate, jnp.float32), d * 1e-30)
    stair = d if staircase else 0.0
    shape = _build.inverse_sqrt(tau, exponent=1.0, staircase_steps=stair)
    return _engine.stack_phases([_build.decay_phase(initial_learning_rate, 0, 0.0, shape)])


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


def ReduceLROnPlateau(
    peak_value: ArrayLike,
    monitor: str = "val_loss",
    factor: ArrayLike = 0.1,
    patience: ArrayLike = 10,
    mode: str = "auto",
    min_delta: ArrayLike = 1e-4,
    cooldown: ArrayLike = 0,
    min_lr: ArrayLike = 0.0,
) -> Any:
    """Keras's ``ReduceLROnPlateau`` callback as a gradient transformation taking ``value=``.

    Update ``k`` is Keras's epoch ``k``; its ``value`` is the monitored metric
    of ``on_epoch_end(k)``, and the multiplier of update ``k`` is the optimizer's
    learning rate during epoch ``k``. Transcribes
    keras/src/callbacks/reduce_lr_on_plateau.py (keras-team/keras
    040582fc160b1080954ddc1f554dd70fbbb1da5a; the same rule in Keras 3.15.1, where
    it moved onto ``MonitorCallback``): improvement is absolute (``min_delta``);
    ``mode="auto"`` means ``"min"`` for a loss and ``"max"`` for an accuracy
    (``"acc"`` in ``monitor``; Keras 3.15 reads the direction from the model's
    metrics, here another name raises); the lr is reduced when ``wait >= patience``, so Keras's
    ``patience`` ``p`` is torch's ``max(p - 1, 0)``; the cooldown counter is
    decremented before counting resumes, so Keras's ``cooldown`` ``c`` skips
    ``max(c - 1, 0)`` epochs; a reduction is ``max(lr * factor, min_lr)``,
    only while ``lr > min_lr``. Mapped onto :func:`optax_warmup.reduce_on_plateau`.

    Example:
      >>> import jax.numpy as jnp
      >>> from optax_warmup.compat import keras
      >>> tx = keras.ReduceLROnPlateau(1.0, factor=0.5, patience=1)
      >>> state = tx.init(jnp.zeros(1))
      >>> lrs = []
      >>> for metric in [1.0, 1.0, 1.0]:
      ...     u, state = tx.update(jnp.ones(1), state, value=metric)
      ...     lrs.append(float(u[0]))
      >>> lrs
      [1.0, 1.0, 0.5]
    """
    from optax_warmup.transforms import plateau as _plateau

    v.check_choice("mode", mode, ("auto", "min", "max"))
    if mode == "auto":
        if "acc" in monitor:
            mode = "max"
        elif monitor.removeprefix("val_") == "loss":
            mode = "min"
        else:
            raise ValueError(
                f"mode='auto' cannot tell whether monitor={monitor!r} should be minimized "
                "or maximized; pass mode='min' or mode='max'."
            )
    v.check_range("patience", patience, low=0)
    v.check_range("cooldown", cooldown, low=0)
    return _plateau.reduce_on_plateau(
        peak_value,
        mode=mode,  # type: ignore[arg-type]
        factor=factor,
        patience=jnp.maximum(jnp.asarray(patience) - 1, 0),
        rtol=0.0,
        atol=min_delta,
        cooldown=jnp.maximum(jnp.asarray(cooldown) - 1, 0),
        min_value=min_lr,
        eps=0.0,
    )


__all__ += ["ReduceLROnPlateau"]
