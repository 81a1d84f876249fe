"""Hugging Face ``transformers`` schedules (``transformers.optimization``), value for value.

Each function takes the peer's arguments, with the optimizer's learning rate
as ``peak_value``, and returns an optax schedule whose value at count ``k`` is
the learning rate the peer's ``LambdaLR`` sets for the ``(k+1)``-th
``optimizer.step()`` when ``scheduler.step()`` follows every update: ``peak_value
* lr_lambda(k)``.

Hugging Face conventions kept here: the warmup factor is ``k / max(1, W)``, so
**the first update has learning rate 0**; progress after warmup is
``(k - W) / max(1, N - W)``; the cosine schedules keep following the cosine
wave past ``num_training_steps`` (the value rises again); the polynomial and
hard-restart schedules hold their end.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v

WsdType = Literal["linear", "cosine", "1-sqrt"]
_WSD_TYPES = ("linear", "cosine", "1-sqrt")


def _steps(name: str, value: ArrayLike) -> jax.Array:
    return v.as_duration(name, value)


def _warmup_phase(peak_value: ArrayLike, num_warmup_steps: ArrayLike) -> _engine.Phase:
    """``peak * k / W`` for ``k < W`` (Hugging Face: 0 at the first update).

    Checks ``peak_value`` (the one argument every function here shares);
    ``num_warmup_steps`` is checked by the caller, under that name.
    """
    v.check_finite("peak_value", peak_value)
    return _build.warmup_phase(peak_value, num_warmup_steps, "linear", init_value=0.0)


def _decay_length(num_warmup_steps: ArrayLike, num_training_steps: ArrayLike) -> jax.Array:
    """``max(1, N - W)``, Hugging Face's progress denominator."""
    n = _steps("num_training_steps", num_training_steps)
    w = _steps("num_warmup_steps", num_warmup_steps)
    return jnp.maximum(n - w, 1)


def get_constant_schedule_with_warmup(
    peak_value: ArrayLike, num_warmup_steps: ArrayLike
) -> _engine.PhaseSchedule:
    """``get_constant_schedule_with_warmup``: ``peak * min(1, k / max(1, W))``.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_constant_schedule_with_warmup(1.0, 4)
      >>> [float(s(k)) for k in range(6)]
      [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    w = _steps("num_warmup_steps", num_warmup_steps)
    return _engine.stack_phases([_warmup_phase(peak_value, w), _build.hold_phase(peak_value)])


def get_linear_schedule_with_warmup(
    peak_value: ArrayLike, num_warmup_steps: ArrayLike, num_training_steps: ArrayLike
) -> _engine.PhaseSchedule:
    """``get_linear_schedule_with_warmup``: warmup, then ``peak * max(0, (N - k) / max(1, N - W))``.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      num_training_steps: ``N``; the value is 0 from ``N`` on.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_linear_schedule_with_warmup(1.0, 2, 6)
      >>> [float(s(k)) for k in range(8)]
      [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    n = _steps("num_training_steps", num_training_steps)
    w = _steps("num_warmup_steps", num_warmup_steps)
    decay = _build.decay_phase(peak_value, jnp.maximum(n - w, 0), 0.0, "linear")
    return _engine.stack_phases([_warmup_phase(peak_value, w), decay, _build.hold_phase(0.0)])


def get_cosine_schedule_with_warmup(
    peak_value: ArrayLike,
    num_warmup_steps: ArrayLike,
    num_training_steps: ArrayLike,
    num_cycles: ArrayLike = 0.5,
) -> _engine.PhaseSchedule:
    """``get_cosine_schedule_with_warmup``: warmup, then
    ``peak * 0.5 (1 + cos(2 pi num_cycles p))``, ``p = (k - W) / max(1, N - W)``.

    The cosine is not clipped at ``N`` (as in Hugging Face): with the default
    half cycle the value reaches 0 at ``N`` and rises again after it.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      num_training_steps: ``N``.
      num_cycles: number of cosine waves over ``N - W`` (0.5: one decay to 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_cosine_schedule_with_warmup(1.0, 2, 6)
      >>> [round(float(s(k)), 4) for k in range(9)]
      [0.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464, 0.5]
    """
    return get_cosine_with_min_lr_schedule_with_warmup(
        peak_value, num_warmup_steps, num_training_steps, num_cycles, min_lr_rate=0.0
    )


def get_cosine_with_hard_restarts_schedule_with_warmup(
    peak_value: ArrayLike,
    num_warmup_steps: ArrayLike,
    num_training_steps: ArrayLike,
    num_cycles: ArrayLike = 1,
) -> _engine.PhaseSchedule:
    """``get_cosine_with_hard_restarts_schedule_with_warmup``: warmup, then
    ``peak * 0.5 (1 + cos(pi ((num_cycles p) mod 1)))`` while ``p < 1``, then 0.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      num_training_steps: ``N``.
      num_cycles: number of hard restarts (cosine decays) over ``N - W``.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_cosine_with_hard_restarts_schedule_with_warmup(1.0, 0, 4, num_cycles=2)
      >>> [float(s(k)) for k in range(6)]
      [1.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    v.check_finite("num_cycles", num_cycles)
    length = _decay_length(num_warmup_steps, num_training_steps)
    shape = _build.cosine_wave(num_cycles, restart=True)
    wave = _build.decay_phase(peak_value, length, 0.0, shape, length=length)
    return _engine.stack_phases(
        [_warmup_phase(peak_value, num_warmup_steps), wave, _build.hold_phase(0.0)]
    )


def get_polynomial_decay_schedule_with_warmup(
    peak_value: ArrayLike,
    num_warmup_steps: ArrayLike,
    num_training_steps: ArrayLike,
    lr_end: ArrayLike = 1e-7,
    power: ArrayLike = 1.0,
) -> _engine.PhaseSchedule:
    """``get_polynomial_decay_schedule_with_warmup``: warmup, then
    ``(peak - lr_end) (1 - (k - W) / (N - W))**power + lr_end``, then ``lr_end``.

    Args:
      peak_value: the optimizer's learning rate (``lr_init``); must exceed ``lr_end``.
      num_warmup_steps: ``W``.
      num_training_steps: ``N``.
      lr_end: the final learning rate (absolute).
      power: the polynomial power (> 0).

    Returns:
      A schedule. (Hugging Face divides by zero at ``k = W`` when ``N = W``;
      this gives ``lr_end`` there.)

    Raises:
      ValueError: if ``lr_end >= peak_value`` (as Hugging Face), or ``power <= 0``.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_polynomial_decay_schedule_with_warmup(1.0, 1, 3, lr_end=0.2, power=2.0)
      >>> [round(float(s(k)), 4) for k in range(5)]
      [0.0, 1.0, 0.4, 0.2, 0.2]
    """
    v.check_finite("lr_end", lr_end)
    v.check_finite("peak_value", peak_value)
    lo, hi = v.concrete_value(lr_end), v.concrete_value(peak_value)
    if lo is not None and hi is not None and not bool((hi > lo).all()):
        raise ValueError(f"lr_end ({lo}) must be smaller than initial lr ({hi}).")
    n = _steps("num_training_steps", num_training_steps)
    w = _steps("num_warmup_steps", num_warmup_steps)
    decay = _build.decay_phase(peak_value, jnp.maximum(n - w, 0), lr_end, _build.power_out(power))
    return _engine.stack_phases([_warmup_phase(peak_value, w), decay, _build.hold_phase(lr_end)])


def get_inverse_sqrt_schedule(
    peak_value: ArrayLike, num_warmup_steps: ArrayLike, timescale: ArrayLike | None = None
) -> _engine.PhaseSchedule:
    """``get_inverse_sqrt_schedule``: warmup, then ``peak / sqrt((k - W + tau) / tau)``.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      timescale: ``tau`` (> 0); default ``W``, or 10000 when ``W = 0``.

    Returns:
      A schedule; it keeps decaying forever.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_inverse_sqrt_schedule(1.0, 2)
      >>> [round(float(s(k)), 4) for k in (0, 1, 2, 4, 8)]
      [0.0, 0.5, 1.0, 0.7071, 0.5]
    """
    w = _steps("num_warmup_steps", num_warmup_steps)
    if timescale is None:
        tau = jnp.where(w == 0, 10_000, w).astype(jnp.float32)
    else:
        v.check_range("timescale", timescale, low=0.0, low_open=True)
        tau = jnp.maximum(jnp.asarray(timescale, jnp.float32), 1e-12)
    decay = _build.decay_phase(peak_value, 0, 0.0, _build.inverse_sqrt(tau))
    return _engine.stack_phases([_warmup_phase(peak_value, w), decay])


def get_cosine_with_min_lr_schedule_with_warmup(
    peak_value: ArrayLike,
    num_warmup_steps: ArrayLike,
    num_training_steps: ArrayLike,
    num_cycles: ArrayLike = 0.5,
    min_lr: ArrayLike | None = None,
    min_lr_rate: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """``get_cosine_with_min_lr_schedule_with_warmup``: warmup, then
    ``peak * (r + (1 - r) 0.5 (1 + cos(2 pi num_cycles p)))``, ``r = min_lr_rate``.

    Like :func:`get_cosine_schedule_with_warmup`, the cosine goes on past ``N``.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      num_training_steps: ``N``.
      num_cycles: number of cosine waves over ``N - W``.
      min_lr: the floor, absolute; or
      min_lr_rate: the floor as a ratio of ``peak_value``, in [0, 1].

    Returns:
      A schedule.

    Raises:
      ValueError: unless exactly one of ``min_lr`` and ``min_lr_rate`` is given.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_cosine_with_min_lr_schedule_with_warmup(1.0, 0, 4, min_lr_rate=0.2)
      >>> [round(float(s(k)), 4) for k in range(5)]
      [1.0, 0.8828, 0.6, 0.3172, 0.2]
    """
    if min_lr is not None and min_lr_rate is not None:
        raise ValueError("Only one of min_lr or min_lr_rate should be set, got both.")
    v.check_finite("num_cycles", num_cycles)
    if min_lr is not None:
        v.check_range("min_lr", min_lr, low=0.0)
        floor: ArrayLike = min_lr
    elif min_lr_rate is not None:
        v.check_range("min_lr_rate", min_lr_rate, low=0.0, high=1.0)
        floor = jnp.asarray(peak_value, jnp.float32) * jnp.asarray(min_lr_rate, jnp.float32)
    else:
        raise ValueError("One of min_lr or min_lr_rate should be set, got neither.")
    length = _decay_length(num_warmup_steps, num_training_steps)
    shape = _build.cosine_wave(2 * jnp.asarray(num_cycles, jnp.float32))
    wave = _build.decay_phase(peak_value, 0, floor, shape, length=length)
    return _engine.stack_phases([_warmup_phase(peak_value, num_warmup_steps), wave])


def get_wsd_schedule(
    peak_value: ArrayLike,
    num_warmup_steps: ArrayLike,
    num_decay_steps: ArrayLike,
    num_training_steps: ArrayLike | None = None,
    num_stable_steps: ArrayLike | None = None,
    warmup_type: WsdType = "linear",
    decay_type: WsdType = "cosine",
    min_lr_ratio: ArrayLike = 0.0,
    num_cycles: ArrayLike = 0.5,
) -> _engine.PhaseSchedule:
    """``get_wsd_schedule``: warmup from ``r peak`` to ``peak``, hold, decay to ``r peak``.

    With ``r = min_lr_ratio``, each phase's factor ``f`` is rescaled to
    ``r + (1 - r) f`` (so the warmup starts at ``r peak``, not 0). Warmup ``f``:
    linear ``p``, cosine ``(1 - cos(pi p)) / 2``, 1-sqrt ``1 - sqrt(1 - p)``,
    ``p = k / max(1, W)``. Decay ``f``: linear ``1 - p``, cosine
    ``(1 + cos(2 pi num_cycles p)) / 2``, 1-sqrt ``1 - sqrt(p)``,
    ``p = (k - W - S) / max(1, D)``. After the decay: ``r peak``.

    Args:
      peak_value: the optimizer's learning rate.
      num_warmup_steps: ``W``.
      num_decay_steps: ``D``.
      num_training_steps: ``N``; the stable phase is then ``N - W - D``; or
      num_stable_steps: ``S`` (wins over ``num_training_steps``, with a warning, as in
        Hugging Face). A negative ``S`` starts the decay part-way, as in Hugging Face.
      warmup_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
      decay_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
      min_lr_ratio: ``r`` in [0, 1].
      num_cycles: cosine waves over the decay (``decay_type="cosine"``).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import transformers as hf
      >>> s = hf.get_wsd_schedule(1.0, 2, 2, num_stable_steps=1, decay_type="linear",
      ...                         min_lr_ratio=0.2)
      >>> [round(float(s(k)), 4) for k in range(7)]
      [0.2, 0.6, 1.0, 1.0, 0.6, 0.2, 0.2]
    """
    if num_training_steps is None and num_stable_steps is None:
        raise ValueError("Either num_training_steps or num_stable_steps must be specified.")
    if num_training_steps is not None and num_stable_steps is not None:
        warnings.warn(
            "Both num_training_steps and num_stable_steps are specified. "
            "num_stable_steps will be used.",
            stacklevel=2,
        )
    v.check_choice("warmup_type", warmup_type, _WSD_TYPES)
    v.check_choice("decay_type", decay_type, _WSD_TYPES)
    v.check_range("min_lr_ratio", min_lr_ratio, low=0.0, high=1.0)
    v.check_finite("num_cycles", num_cycles)
    v.check_finite("peak_value", peak_value)
    w = _steps("num_warmup_steps", num_warmup_steps)
    d = _steps("num_decay_steps", num_decay_steps)
    idt = v.index_dtype()
    if num_stable_steps is None:
        assert num_training_steps is not None
        stable = _steps("num_training_steps", num_training_steps) - w - d
    else:
        v.check_finite("num_stable_steps", num_stable_steps)
        stable = jnp.asarray(num_stable_steps).astype(idt)
    peak = jnp.asarray(peak_value, jnp.float32)
    floor = peak * jnp.asarray(min_lr_ratio, jnp.float32)
    # A negative stable phase starts the decay -S steps in (Hugging Face's arithmetic).
    skipped = jnp.maximum(-stable, 0)
    if decay_type == "cosine":
        decay_shape = _build.cosine_wave(2 * jnp.asarray(num_cycles, jnp.float32))
    else:
        decay_shape = _shapes.resolve(decay_type, "decay")
    phases = [
        _build.warmup_phase(peak, w, warmup_type, init_value=floor),
        _build.hold_phase(peak, jnp.maximum(stable, 0)),
        _build.decay_phase(
            peak,
            jnp.maximum(d - skipped, 0),
            floor,
            decay_shape,
            length=jnp.maximum(d, 1),
            offset=skipped,
        ),
        _build.hold_phase(floor),
    ]
    return _engine.stack_phases(phases)


__all__ = [
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_wsd_schedule",
]


def get_reduce_on_plateau_schedule(peak_value: ArrayLike, **kwargs: Any) -> Any:
    """``get_reduce_on_plateau_schedule``: torch's ``ReduceLROnPlateau`` with ``kwargs``.

    Hugging Face returns ``torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer,
    **kwargs)`` (src/transformers/optimization.py, huggingface/transformers
    ad1fc9639f2e7b6808a2ca982c0a9b3134d76ee8), so this is
    :func:`optax_warmup.compat.torch.ReduceLROnPlateau`: a gradient transformation
    whose ``update`` takes ``value=``.

    Example:
      >>> import jax.numpy as jnp
      >>> from optax_warmup.compat import transformers as hf
      >>> tx = hf.get_reduce_on_plateau_schedule(1e-3, patience=0)
      >>> state = tx.init(jnp.zeros(1))
      >>> for metric in [1.0, 1.0]:
      ...     _, state = tx.update(jnp.ones(1), state, value=metric)
      >>> round(float(state.learning_rate), 8)
      0.0001
    """
    from optax_warmup.compat import torch as _torch

    return _torch.ReduceLROnPlateau(peak_value, **kwargs)


__all__ += ["get_reduce_on_plateau_schedule"]
