"""PyTorch schedulers (``torch.optim.lr_scheduler``), value for value.

Each function takes the scheduler's arguments, with the optimizer's learning
rate as ``peak_value``, and returns an optax schedule whose value at count ``k``
is the learning rate of the ``(k+1)``-th ``optimizer.step()`` when
``scheduler.step()`` follows every update (the scheduler's ``last_epoch`` is
then ``k``).

torch computes most schedulers recursively from the current learning rate
(``get_lr``) and documents a closed form (``_get_closed_form_lr``); standing
alone they agree. The closed forms are used here. ``CosineAnnealingLR``'s closed
form is periodic: past ``T_max`` the value rises again, back to ``peak_value`` at
``2 T_max`` (torch's recursive form does the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import composites as _composites
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import join as _join
from optax_warmup.schedules.base import Schedule


def _check_iters(name: str, value: ArrayLike) -> None:
    v.check_duration(name, value)
    v.check_range(name, value, low=1)


def LinearLR(
    peak_value: ArrayLike,
    start_factor: ArrayLike = 1.0 / 3,
    end_factor: ArrayLike = 1.0,
    total_iters: ArrayLike = 5,
) -> _engine.PhaseSchedule:
    """``LinearLR``: ``peak * (start + (end - start) min(k, total_iters) / total_iters)``.

    Args:
      peak_value: the optimizer's learning rate.
      start_factor: factor at count 0, in (0, 1].
      end_factor: factor from ``total_iters`` on, in [0, 1].
      total_iters: length of the ramp (>= 1; torch's recursive form never leaves
        ``start_factor`` with 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.LinearLR(1.0, start_factor=0.5, total_iters=2)
      >>> [float(s(k)) for k in range(4)]
      [0.5, 0.75, 1.0, 1.0]
    """
    v.check_range("start_factor", start_factor, low=0.0, high=1.0, low_open=True)
    v.check_range("end_factor", end_factor, low=0.0, high=1.0)
    _check_iters("total_iters", total_iters)
    peak = jnp.asarray(peak_value, jnp.float32)
    start = peak * jnp.asarray(start_factor, jnp.float32)
    end = peak * jnp.asarray(end_factor, jnp.float32)
    phases = [_build.decay_phase(start, total_iters, end, "linear"), _build.hold_phase(end)]
    return _engine.stack_phases(phases)


def ConstantLR(
    peak_value: ArrayLike, factor: ArrayLike = 1.0 / 3, total_iters: ArrayLike = 5
) -> _engine.PhaseSchedule:
    """``ConstantLR``: ``peak * factor`` for ``k < total_iters``, then ``peak``.

    Args:
      peak_value: the optimizer's learning rate.
      factor: the reduction factor, in [0, 1].
      total_iters: updates at the reduced value (>= 1).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.ConstantLR(1.0, factor=0.5, total_iters=2)
      >>> [float(s(k)) for k in range(4)]
      [0.5, 0.5, 1.0, 1.0]
    """
    v.check_range("factor", factor, low=0.0, high=1.0)
    _check_iters("total_iters", total_iters)
    peak = jnp.asarray(peak_value, jnp.float32)
    values = jnp.stack([peak * jnp.asarray(factor, jnp.float32), peak])
    return _decays.piecewise_constant([total_iters], values)


def ExponentialLR(peak_value: ArrayLike, gamma: ArrayLike) -> _engine.PhaseSchedule:
    """``ExponentialLR``: ``peak * gamma**k``.

    Args:
      peak_value: the optimizer's learning rate.
      gamma: the factor per update (>= 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> [float(torch.ExponentialLR(1.0, 0.5)(k)) for k in range(3)]
      [1.0, 0.5, 0.25]
    """
    v.check_range("gamma", gamma, low=0.0)
    shape = _build.exp_rate(gamma, 1.0)
    return _engine.stack_phases([_build.decay_phase(peak_value, 0, 0.0, shape)])


def StepLR(
    peak_value: ArrayLike, step_size: ArrayLike, gamma: ArrayLike = 0.1
) -> _engine.PhaseSchedule:
    """``StepLR``: ``peak * gamma**(k // step_size)``.

    Args:
      peak_value: the optimizer's learning rate.
      step_size: updates between decays (>= 1).
      gamma: the factor per decay (>= 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> [float(torch.StepLR(1.0, 2, gamma=0.5)(k)) for k in range(5)]
      [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    _check_iters("step_size", step_size)
    v.check_range("gamma", gamma, low=0.0)
    shape = _build.exp_rate(gamma, step_size, staircase=1.0)
    return _engine.stack_phases([_build.decay_phase(peak_value, 0, 0.0, shape)])


def MultiStepLR(
    peak_value: ArrayLike, milestones: Sequence[ArrayLike] | jax.Array, gamma: ArrayLike = 0.1
) -> _engine.PhaseSchedule:
    """``MultiStepLR``: ``peak * gamma**i``, ``i`` the number of milestones ``<= k``.

    Milestones may come in any order and repeat (a repeated milestone decays twice),
    as in torch.

    Args:
      peak_value: the optimizer's learning rate.
      milestones: update counts (>= 0).
      gamma: the factor per milestone (>= 0).

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.MultiStepLR(1.0, [3, 1], gamma=0.5)
      >>> [float(s(k)) for k in range(5)]
      [1.0, 0.5, 0.5, 0.25, 0.25]
    """
    v.check_range("gamma", gamma, low=0.0)
    marks = jnp.sort(jnp.reshape(v.as_duration("milestones", jnp.asarray(milestones)), (-1,)))
    powers = jnp.arange(marks.shape[0] + 1, dtype=jnp.float32)
    values = jnp.asarray(peak_value, jnp.float32) * jnp.asarray(gamma, jnp.float32) ** powers
    return _decays.piecewise_constant(marks, values)


def CosineAnnealingLR(
    peak_value: ArrayLike, T_max: ArrayLike, eta_min: ArrayLike = 0.0
) -> _engine.PhaseSchedule:
    """``CosineAnnealingLR`` (closed form):
    ``eta_min + (peak - eta_min) (1 + cos(pi k / T_max)) / 2`` at every ``k``.

    Past ``T_max`` the cosine goes on (up to ``peak`` at ``2 T_max``, and so on).

    Args:
      peak_value: the optimizer's learning rate.
      T_max: half-period in updates (>= 1).
      eta_min: the minimum.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.CosineAnnealingLR(1.0, 2)
      >>> [float(s(k)) for k in range(5)]
      [1.0, 0.5, 0.0, 0.5, 1.0]
    """
    _check_iters("T_max", T_max)
    v.check_finite("eta_min", eta_min)
    length = v.duration_array(T_max).astype(jnp.float32)
    phase = _build.decay_phase(peak_value, 0, eta_min, _build.cosine_wave(1.0), length=length)
    return _engine.stack_phases([phase])


def OneCycleLR(
    max_lr: ArrayLike,
    total_steps: ArrayLike | None = None,
    epochs: ArrayLike | None = None,
    steps_per_epoch: ArrayLike | None = None,
    pct_start: ArrayLike = 0.3,
    anneal_strategy: Literal["cos", "linear"] = "cos",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.85,
    max_momentum: ArrayLike = 0.95,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
    three_phase: bool = False,
    last_epoch: int = -1,
) -> _engine.PhaseSchedule:
    """``OneCycleLR``'s learning rate: :func:`optax_warmup.one_cycle`.

    The momentum arguments are accepted in torch's order and do not change the
    learning rate; :func:`OneCycleMomentum` takes the same arguments and gives
    the momentum (``b1``) schedule.

    From ``max_lr / div_factor`` up to ``max_lr`` at ``pct_start * T - 1``, then
    down to ``max_lr / (div_factor * final_div_factor)`` at ``T - 1``
    (``three_phase``: back to the initial value at ``2 pct_start T - 2`` first).
    torch raises when stepped more than ``T`` times; from count ``T`` on (where
    torch extrapolates one step past the end, then raises) this holds the final
    value.

    Args:
      max_lr: the peak (torch's ``max_lr``; the optimizer's own lr is unused).
      total_steps: ``T``; or
      epochs, steps_per_epoch: ``T = epochs * steps_per_epoch``.
      pct_start: fraction of the cycle spent increasing, in (0, 1).
      anneal_strategy: ``"cos"`` or ``"linear"``.
      cycle_momentum, base_momentum, max_momentum: see :func:`OneCycleMomentum`.
      div_factor: initial value is ``max_lr / div_factor``.
      final_div_factor: final value is ``initial / final_div_factor``.
      three_phase: torch's three-phase variant.
      last_epoch: accepted for torch's argument order; a restored optax count resumes.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.OneCycleLR(1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear",
      ...                      div_factor=10.0)
      >>> [round(float(s(k)), 4) for k in (0, 2, 10)]
      [0.1, 0.5, 0.0]
    """
    v.check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    total = _one_cycle_total(total_steps, epochs, steps_per_epoch)
    return _composites.one_cycle(
        max_lr,
        total,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        anneal=anneal_strategy,
        three_phase=three_phase,
    )


def _one_cycle_total(
    total_steps: ArrayLike | None, epochs: ArrayLike | None, steps_per_epoch: ArrayLike | None
) -> ArrayLike:
    """``OneCycleLR``'s ``T``: ``total_steps``, or ``epochs * steps_per_epoch``."""
    if total_steps is not None:
        _check_iters("total_steps", total_steps)
        return total_steps
    if epochs is not None and steps_per_epoch is not None:
        _check_iters("epochs", epochs)
        _check_iters("steps_per_epoch", steps_per_epoch)
        return v.as_duration("epochs", epochs) * v.as_duration("steps_per_epoch", steps_per_epoch)
    raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch).")


def OneCycleMomentum(
    max_lr: ArrayLike,
    total_steps: ArrayLike | None = None,
    epochs: ArrayLike | None = None,
    steps_per_epoch: ArrayLike | None = None,
    pct_start: ArrayLike = 0.3,
    anneal_strategy: Literal["cos", "linear"] = "cos",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.85,
    max_momentum: ArrayLike = 0.95,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
    three_phase: bool = False,
    last_epoch: int = -1,
) -> _engine.PhaseSchedule:
    """``OneCycleLR``'s momentum (``b1`` of Adam, ``momentum`` of SGD) for each update.

    Takes :func:`OneCycleLR`'s arguments. With ``cycle_momentum``: from
    ``max_momentum`` down to ``base_momentum`` while the learning rate rises,
    back up while it falls (:func:`optax_warmup.schedules.composites.one_cycle_momentum`).
    Without it torch leaves the optimizer's momentum alone: this returns
    ``max_momentum``, constant (pass your own then).

    Args:
      max_lr, total_steps, epochs, steps_per_epoch: as :func:`OneCycleLR`.
      pct_start, anneal_strategy, three_phase, last_epoch: as :func:`OneCycleLR`.
      div_factor, final_div_factor: as :func:`OneCycleLR` (they and ``max_lr`` do not
        change the momentum).
      cycle_momentum: whether the momentum cycles.
      base_momentum: the momentum at the peak learning rate.
      max_momentum: the momentum at the start and the end.

    Returns:
      A schedule for ``b1``, e.g. ``optax.inject_hyperparams(optax.adam)(lr, b1=m)``.

    Example:
      >>> from optax_warmup.compat import torch
      >>> m = torch.OneCycleMomentum(1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear")
      >>> [round(float(m(k)), 4) for k in (0, 2, 4, 10)]
      [0.95, 0.9056, 0.8611, 0.95]
    """
    v.check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
    total = _one_cycle_total(total_steps, epochs, steps_per_epoch)
    if not cycle_momentum:
        return _combine.constant_schedule(max_momentum)
    return _composites.one_cycle_momentum(
        total,
        pct_start=pct_start,
        base_momentum=base_momentum,
        max_momentum=max_momentum,
        anneal=anneal_strategy,
        three_phase=three_phase,
    )


def PolynomialLR(
    peak_value: ArrayLike, total_iters: ArrayLike = 5, power: ArrayLike = 1.0, last_epoch: int = -1
) -> _engine.PhaseSchedule:
    """``PolynomialLR``: ``peak * (1 - min(k, total_iters) / total_iters)**power``.

    Args:
      peak_value: the optimizer's learning rate.
      total_iters: updates to reach 0 (>= 1).
      power: the polynomial power (> 0).
      last_epoch: accepted for torch's argument order; a restored optax count resumes.

    Returns:
      A schedule (0 from ``total_iters`` on).

    Example:
      >>> from optax_warmup.compat import torch
      >>> [float(torch.PolynomialLR(1.0, total_iters=4)(k)) for k in range(6)]
      [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    _check_iters("total_iters", total_iters)
    v.check_range("power", power, low=0.0, low_open=True)
    return _decays.polynomial_decay(peak_value, total_iters, power=power, end_value=0.0)


def _triangle(height: ArrayLike, up: ArrayLike, down: ArrayLike, halve: bool) -> Any:
    """The cyclic triangle wave from 0 up to ``height`` over ``up`` updates and back
    over ``down``; with ``halve`` the height halves every cycle."""
    return _engine.from_phases(
        [
            _engine.Phase(up, 0.0, height, scale_end=1.0),
            _engine.Phase(down, height, 0.0, scale_start=1.0),
        ],
        cycle_start=0,
        cycle_decay=0.5 if halve else 1.0,
    )


def _cyclic(
    low: ArrayLike,
    high: ArrayLike,
    step_size_up: ArrayLike,
    step_size_down: ArrayLike | None,
    mode: str,
    gamma: ArrayLike,
    scale_fn: Any,
    scale_mode: str,
) -> Schedule:
    """``CyclicLR``'s wave from ``low`` towards ``high`` (the lr, or the momentum inverted)."""
    _check_iters("step_size_up", step_size_up)
    down = step_size_up if step_size_down is None else step_size_down
    _check_iters("step_size_down", down)
    lo = jnp.asarray(low, jnp.float32)
    height = jnp.asarray(high, jnp.float32) - lo
    if scale_fn is None:
        v.check_choice("mode", mode, ("triangular", "triangular2", "exp_range"))
        v.check_range("gamma", gamma, low=0.0)
        wave = _triangle(height, step_size_up, down, halve=mode == "triangular2")
        if mode == "exp_range":
            wave = _combine.multiply(wave, ExponentialLR(1.0, gamma))  # gamma**k per update
    else:
        v.check_choice("scale_mode", scale_mode, ("cycle", "iterations"))
        scale: Any = scale_fn
        if scale_mode == "cycle":
            period = v.as_duration("step_size_up", step_size_up) + v.as_duration(
                "step_size_down", down
            )

            def by_cycle(k: ArrayLike) -> jax.Array:  # the cycle number, from 1
                return scale_fn(jnp.floor_divide(k, period) + 1)

            scale = by_cycle
        wave = _combine.multiply(_triangle(height, step_size_up, down, halve=False), scale)
    return _combine.add(_combine.constant_schedule(lo), wave)


def CyclicLR(
    base_lr: ArrayLike,
    max_lr: ArrayLike,
    step_size_up: ArrayLike = 2000,
    step_size_down: ArrayLike | None = None,
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
    gamma: ArrayLike = 1.0,
    scale_fn: Any = None,
    scale_mode: Literal["cycle", "iterations"] = "cycle",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.8,
    max_momentum: ArrayLike = 0.9,
    last_epoch: int = -1,
) -> Schedule:
    """``CyclicLR``'s learning rate: a triangle wave between ``base_lr`` and ``max_lr``.

    Up over ``step_size_up`` updates, down over ``step_size_down`` (default the
    same), with the height ``max_lr - base_lr`` scaled per mode: ``triangular``
    1, ``triangular2`` ``1 / 2**(cycle - 1)``, ``exp_range`` ``gamma**k``. A
    ``scale_fn`` (jit-able: it gets an integer array) replaces the mode,
    applied to the cycle number (from 1) or the update count per ``scale_mode``.
    The momentum arguments are accepted in torch's order;
    :func:`CyclicMomentum` gives the momentum schedule.

    Args:
      base_lr: the bottom of the wave (torch sets the optimizer's lr to it).
      max_lr: the top of the first wave.
      step_size_up: updates going up (>= 1).
      step_size_down: updates going down (default ``step_size_up``).
      mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
      gamma: ``exp_range``'s factor per update.
      scale_fn: a custom height scale, or ``None``.
      scale_mode: ``"cycle"`` or ``"iterations"`` (for ``scale_fn``).
      cycle_momentum, base_momentum, max_momentum: see :func:`CyclicMomentum`.
      last_epoch: accepted for torch's argument order; a restored optax count resumes.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.CyclicLR(0.0, 1.0, step_size_up=2, mode="triangular2")
      >>> [float(s(k)) for k in range(9)]
      [0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0]
    """
    return _cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)


def CyclicMomentum(
    base_lr: ArrayLike,
    max_lr: ArrayLike,
    step_size_up: ArrayLike = 2000,
    step_size_down: ArrayLike | None = None,
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular",
    gamma: ArrayLike = 1.0,
    scale_fn: Any = None,
    scale_mode: Literal["cycle", "iterations"] = "cycle",
    cycle_momentum: bool = True,
    base_momentum: ArrayLike = 0.8,
    max_momentum: ArrayLike = 0.9,
    last_epoch: int = -1,
) -> Schedule:
    """``CyclicLR``'s momentum: the same wave inverted, from ``max_momentum`` down
    towards ``base_momentum`` while the learning rate rises.

    Takes :func:`CyclicLR`'s arguments. Without ``cycle_momentum`` torch leaves
    the momentum alone: this returns ``max_momentum``, constant.

    Args:
      base_lr, max_lr, step_size_up, step_size_down: as :func:`CyclicLR`.
      mode, gamma, scale_fn, scale_mode, last_epoch: as :func:`CyclicLR`.
      cycle_momentum: whether the momentum cycles.
      base_momentum: the momentum at the top of the learning-rate wave.
      max_momentum: the momentum at its bottom.

    Returns:
      A schedule for ``b1`` / SGD's momentum.

    Example:
      >>> from optax_warmup.compat import torch
      >>> m = torch.CyclicMomentum(0.0, 1.0, step_size_up=2)
      >>> [round(float(m(k)), 4) for k in range(5)]
      [0.9, 0.85, 0.8, 0.85, 0.9]
    """
    if not cycle_momentum:
        return _combine.constant_schedule(max_momentum)
    v.check_finite("base_momentum", base_momentum)
    v.check_finite("max_momentum", max_momentum)
    return _cyclic(
        max_momentum, base_momentum, step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode
    )


def LambdaLR(peak_value: ArrayLike, lr_lambda: Any, last_epoch: int = -1) -> Any:
    """``LambdaLR``: ``peak * lr_lambda(k)``, for a jit-able ``lr_lambda``.

    ``lr_lambda`` gets the count as an integer array and must use ``jnp``
    operations (no Python ``if`` on it).

    Args:
      peak_value: the optimizer's learning rate.
      lr_lambda: the factor function.
      last_epoch: accepted for torch's argument order; a restored optax count resumes.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.LambdaLR(2.0, lambda k: 1.0 / (k + 1))
      >>> [float(s(k)) for k in range(3)]
      [2.0, 1.0, 0.6666666865348816]
    """
    if not callable(lr_lambda):
        raise ValueError(f"lr_lambda should be a function, got {lr_lambda!r}.")
    factor: Any = lr_lambda
    return _combine.multiply(_combine.constant_schedule(peak_value), factor)


def MultiplicativeLR(peak_value: ArrayLike, lr_lambda: Any, last_epoch: int = -1) -> Any:
    """``MultiplicativeLR``: ``peak * prod_{j=1..k} lr_lambda(j)``, for a jit-able ``lr_lambda``.

    torch multiplies the current learning rate by ``lr_lambda(k)`` at every step
    after the first; the product is evaluated here with a loop over ``j``, so
    one evaluation costs ``O(k)`` (prefer a closed form, e.g. :func:`ExponentialLR`
    for a constant factor, on long runs).

    Args:
      peak_value: the optimizer's learning rate.
      lr_lambda: the factor function (gets an integer array).
      last_epoch: accepted for torch's argument order; a restored optax count resumes.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.MultiplicativeLR(1.0, lambda k: 0.5 + 0.0 * k)
      >>> [float(s(k)) for k in range(4)]
      [1.0, 0.5, 0.25, 0.125]
    """
    if not callable(lr_lambda):
        raise ValueError(f"lr_lambda should be a function, got {lr_lambda!r}.")
    return _combine.multiply(
        _combine.constant_schedule(peak_value), _combine.as_schedule(_running_product(lr_lambda))
    )


def _running_product(factor: Any) -> Any:
    """``k -> prod_{j=1..k} factor(j)`` for integer counts (any shape), by a loop."""

    def product(count: ArrayLike) -> jax.Array:
        k = jnp.maximum(jnp.asarray(count).astype(v.index_dtype()), 0)

        def body(j: jax.Array, acc: jax.Array) -> jax.Array:
            f = jnp.asarray(factor(j), jnp.float32)
            return jnp.where(j <= k, acc * f, acc)

        return jax.lax.fori_loop(1, jnp.max(k) + 1, body, jnp.ones(k.shape, jnp.float32))

    return product


def CosineAnnealingWarmRestarts(
    peak_value: ArrayLike, T_0: ArrayLike, T_mult: int = 1, eta_min: ArrayLike = 0.0
) -> _engine.PhaseSchedule:
    """``CosineAnnealingWarmRestarts``: cosine from ``peak`` towards ``eta_min`` over
    ``T_i`` updates, then a restart; ``T_0`` first, each next ``T_mult`` times longer.

    Args:
      peak_value: the optimizer's learning rate.
      T_0: length of the first cycle (>= 1).
      T_mult: cycle length multiplier, a whole number >= 1 (as in torch).
      eta_min: the minimum.

    Returns:
      A cyclic schedule (the restart found in O(1) for ``T_mult = 1``, O(log restarts)
      otherwise).

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.CosineAnnealingWarmRestarts(1.0, 2, T_mult=2)
      >>> [round(float(s(k)), 4) for k in range(7)]
      [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """
    _check_iters("T_0", T_0)
    v.check_duration("T_mult", T_mult)
    v.check_range("T_mult", T_mult, low=1)
    v.check_finite("eta_min", eta_min)
    return _composites.cosine_restarts(peak_value, T_0, end_value=eta_min, cycle_mul=T_mult)


def SequentialLR(
    schedulers: Sequence[_combine.ScheduleLike], milestones: Sequence[ArrayLike] | jax.Array
) -> Schedule:
    """``SequentialLR``: scheduler ``i`` from ``milestones[i-1]``, restarted at its count 0.

    This is :func:`optax_warmup.join` (each piece counts from its own start).

    Args:
      schedulers: the schedules (built with the same ``peak_value``).
      milestones: ``len(schedulers) - 1`` sorted update counts.

    Returns:
      A schedule (one :class:`~optax_warmup.PhaseSchedule` when every piece is one
      and only the last is cyclic).

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.SequentialLR([torch.LinearLR(1.0, 0.5, total_iters=2),
      ...                         torch.ExponentialLR(1.0, 0.5)], milestones=[2])
      >>> [float(s(k)) for k in range(5)]
      [0.5, 0.75, 1.0, 0.5, 0.25]
    """
    if len(schedulers) == 0:
        raise ValueError("schedulers must hold at least one scheduler, got none.")
    n = len(jnp.reshape(jnp.asarray(milestones), (-1,)))
    if n != len(schedulers) - 1:
        raise ValueError(
            "SequentialLR expects one milestone fewer than schedulers, got "
            f"{len(schedulers)} schedulers and milestones of length {n}."
        )
    return _join.join(list(schedulers), milestones)


def ChainedScheduler(
    schedulers: Sequence[_combine.ScheduleLike], peak_value: ArrayLike
) -> _combine.ProductSchedule:
    """``ChainedScheduler``: ``peak * prod_i (s_i(k) / peak)``, every scheduler stepped together.

    torch multiplies each scheduler's factor into the current learning rate, so
    the chain is the product of the factors. This is exact for the
    multiplicative schedulers (``LinearLR``, ``ConstantLR``, ``ExponentialLR``,
    ``StepLR``, ``MultiStepLR``) and for ``CosineAnnealingLR`` with
    ``eta_min = 0`` up to ``T_max``. Beyond it torch's recursive cosine restarts
    from the cosine value alone, dropping the other factors at ``T_max + 1``
    (a difference only if they are still changing then); with ``eta_min > 0`` its
    recursion is not a product. ``OneCycleLR`` and ``CosineAnnealingWarmRestarts``
    set the learning rate outright in torch and do not chain.

    Args:
      schedulers: the schedules, each built with ``peak_value``.
      peak_value: the optimizer's learning rate.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import torch
      >>> s = torch.ChainedScheduler([torch.ConstantLR(1.0, 0.1, total_iters=2),
      ...                             torch.ExponentialLR(1.0, 0.9)], peak_value=1.0)
      >>> [round(float(s(k)), 4) for k in range(4)]
      [0.1, 0.09, 0.81, 0.729]
    """
    if len(schedulers) == 0:
        raise ValueError("schedulers must hold at least one scheduler, got none.")
    v.check_finite("peak_value", peak_value)
    peak = jnp.asarray(peak_value, jnp.float32)
    nonzero = peak != 0
    scale = jnp.where(nonzero, jnp.where(nonzero, peak, 1.0) ** (1 - len(schedulers)), 0.0)
    return _combine.multiply(*schedulers, _combine.constant_schedule(scale))


__all__ = [
    "ChainedScheduler",
    "CyclicLR",
    "CyclicMomentum",
    "LambdaLR",
    "MultiplicativeLR",
    "OneCycleMomentum",
    "PolynomialLR",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "SequentialLR",
    "StepLR",
]


def ReduceLROnPlateau(
    peak_value: ArrayLike,
    mode: Literal["min", "max"] = "min",
    factor: ArrayLike = 0.1,
    patience: ArrayLike = 10,
    threshold: ArrayLike = 1e-4,
    threshold_mode: Literal["rel", "abs"] = "rel",
    cooldown: ArrayLike = 0,
    min_lr: ArrayLike = 0.0,
    eps: ArrayLike = 1e-8,
) -> Any:
    """``ReduceLROnPlateau`` as a gradient transformation taking ``value=``.

    Unlike the other schedulers this one reacts to a metric, so it is not a
    schedule but :func:`optax_warmup.reduce_on_plateau` with a constant
    ``peak_value``: call ``update(updates, state, value=metric)`` where torch
    calls ``scheduler.step(metric)``. The multiplier of update ``k`` is the lr
    the optimizer holds after ``k`` calls of ``step`` (the metrics of updates
    ``0..k-1``). Transcribes ``ReduceLROnPlateau.step`` / ``_reduce_lr`` /
    ``_is_better`` of torch/optim/lr_scheduler.py (pytorch/pytorch
    008f727ece1520e12c25089a7969d5b8fca75f8e): ``threshold`` is relative
    (``best (1 -+ threshold)``) or absolute; a reduction is
    ``max(lr * factor, min_lr)``, skipped when it lowers the lr by ``eps`` or
    less; bad epochs are not counted during ``cooldown``.

    Args:
      peak_value: the optimizer's learning rate.
      mode: ``"min"`` or ``"max"``.
      factor: the reduction factor, in [0, 1).
      patience: bad steps tolerated before a reduction (>= 0).
      threshold: the improvement threshold (>= 0; < 1 in ``"rel"`` mode).
      threshold_mode: ``"rel"`` or ``"abs"``.
      cooldown: steps without counting after a reduction (>= 0).
      min_lr: the lr floor (>= 0).
      eps: the smallest reduction applied (>= 0).

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (multiply it after an
      optimizer with learning rate 1, e.g. ``optax.chain(optax.adam(1.0), ...)``).

    Example:
      >>> import jax.numpy as jnp
      >>> from optax_warmup.compat import torch
      >>> tx = torch.ReduceLROnPlateau(1.0, factor=0.5, patience=0)
      >>> state = tx.init(jnp.zeros(1))
      >>> lrs = []
      >>> for metric in [1.0, 1.0, 0.5, 0.5]:
      ...     u, state = tx.update(jnp.ones(1), state, value=metric)
      ...     lrs.append(float(u[0]))
      >>> lrs
      [1.0, 1.0, 0.5, 0.5]
    """
    from optax_warmup.transforms import plateau as _plateau

    v.check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
    relative = threshold_mode == "rel"
    return _plateau.reduce_on_plateau(
        peak_value,
        mode=mode,
        factor=factor,
        patience=patience,
        rtol=threshold if relative else 0.0,
        atol=0.0 if relative else threshold,
        cooldown=cooldown,
        min_value=min_lr,
        eps=eps,
    )


__all__ += ["ReduceLROnPlateau"]
