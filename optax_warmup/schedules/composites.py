"""Composite schedules: warmup + decay, WSD, Noam, one-cycle, restarts, rewarmup."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import durations as _durations
from optax_warmup.schedules import join as _join
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import Schedule


def warmup_decay_schedule(
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    total_steps: ArrayLike,
    *,
    decay_shape: _shapes.ShapeLike = "cosine",
    warmup_shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    dtype: Any = None,
) -> _engine.PhaseSchedule:
    """Warm up to ``peak_value`` over ``warmup_steps``, then decay until ``total_steps``.

    Counts ``c < W`` follow :func:`warmup_schedule`; then
    ``peak + (end - peak) * f((c - W) / (T - W))``; then ``end``.

    Args:
      peak_value: the value at the end of warmup.
      warmup_steps: ``W``, warmup length in steps.
      total_steps: ``T``, the whole run including warmup (``T >= W``).
      decay_shape: the decay shape (cosine by default).
      warmup_shape: the warmup shape (linear by default).
      init_value: warmup start (``None``: no wasted first update).
      end_value: final value (absolute), default 0.
      end_ratio: final value as a ratio of the peak.
      dtype: output dtype.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.warmup_decay_schedule(1.0, 2, 6, decay_shape="linear")
      >>> [float(s(c)) for c in range(7)]
      [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    warm = _warmup.check_warmup(
        peak_value, warmup_steps, warmup_shape, init_value, shape_name="warmup_shape"
    )
    v.check_duration("total_steps", total_steps)
    check_order(("warmup_steps", warmup_steps), ("total_steps", total_steps))
    decay = _shapes.resolve(decay_shape, "decay", "decay_shape")
    end, end_scales = _decays.final_value(peak_value, end_value, end_ratio)
    decay_steps = jnp.maximum(v.duration_array(total_steps) - v.duration_array(warmup_steps), 0)
    return _engine.stack_phases(
        warmup_decay_phases(
            peak_value, warmup_steps, decay_steps, warm, decay, init_value, end, end_scales
        ),
        dtype=dtype,
    )


def warmup_decay_phases(
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    decay_steps: ArrayLike,
    warmup_shape: _shapes.ResolvedShape,
    decay_shape: _shapes.ResolvedShape,
    init_value: ArrayLike | None,
    end_value: ArrayLike,
    end_scale: ArrayLike = 0.0,
) -> list[_engine.Phase]:
    """Warmup, decay over ``decay_steps`` (after the warmup), then hold: inputs trusted."""
    return [
        _build.warmup_phase(peak_value, warmup_steps, warmup_shape, init_value),
        _build.decay_phase(peak_value, decay_steps, end_value, decay_shape, end_scale=end_scale),
        _build.hold_phase(end_value, scale=end_scale),
    ]


def check_order(*named: tuple[str, ArrayLike]) -> None:
    """Concrete durations must not decrease in the given order."""
    values = [(n, v.concrete_value(x)) for n, x in named]
    for (n0, a), (n1, b) in itertools.pairwise(values):
        if a is not None and b is not None and a.ndim == 0 and b.ndim == 0 and a > b:
            raise ValueError(f"{n1} must be >= {n0}, got {n1}={b.item()!r} < {n0}={a.item()!r}.")


def warmup_stable_decay(
    peak_value: ArrayLike,
    total_steps: ArrayLike,
    warmup_steps: ArrayLike,
    *,
    decay_steps: ArrayLike | None = None,
    decay_fraction: ArrayLike | None = None,
    decay_shape: _shapes.ShapeLike = "linear",
    warmup_shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    dtype: Any = None,
) -> _engine.PhaseSchedule:
    """Warmup-stable-decay (WSD): warm up, hold the peak, then cool down to the end.

    Phases: warmup over ``W``; ``peak`` for ``T - W - D`` steps; cooldown over
    ``D`` steps with ``decay_shape`` (linear, cosine, ``"1-sqrt"``:
    ``end + (peak - end)(1 - sqrt(p))``, exponential, ...); ``end`` after ``T``.

    Reference: Hu et al., "MiniCPM", 2024; Haegele et al., "Scaling Laws and
    Compute-Optimal Training Beyond Fixed Training Durations", 2024.

    Args:
      peak_value: the plateau value.
      total_steps: ``T``, the whole run.
      warmup_steps: ``W``.
      decay_steps: ``D``, cooldown length in steps; or
      decay_fraction: ``D`` as a fraction of ``T`` (e.g. 0.2), rounded to steps.
      decay_shape: the cooldown shape.
      warmup_shape: the warmup shape.
      init_value: warmup start (``None``: no wasted first update).
      end_value: final value; or
      end_ratio: final value as a ratio of the peak.
      dtype: output dtype.

    Returns:
      A schedule. Traced durations that overlap are clamped: the stable phase
      shrinks to zero steps.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.warmup_stable_decay(1.0, 8, 2, decay_steps=4)
      >>> [float(s(c)) for c in range(9)]
      [0.5, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if (decay_steps is None) == (decay_fraction is None):
        raise ValueError("Pass exactly one of decay_steps or decay_fraction.")
    v.check_duration("total_steps", total_steps)
    warm_shape = _warmup.check_warmup(
        peak_value, warmup_steps, warmup_shape, init_value, shape_name="warmup_shape"
    )
    decay_resolved = _shapes.resolve(decay_shape, "decay", "decay_shape")
    if decay_steps is None:
        assert decay_fraction is not None
        decay_steps = _durations.steps_from_fraction(decay_fraction, total_steps)
    else:
        v.check_duration("decay_steps", decay_steps)
    total = v.duration_array(total_steps)
    warm = v.duration_array(warmup_steps)
    decay = v.duration_array(decay_steps)
    known = [v.concrete_value(x) for x in (total, warm, decay)]
    if all(k is not None for k in known):
        c_total, c_warm, c_decay = (int(k) for k in known)  # type: ignore[arg-type]
        if c_warm + c_decay > c_total:
            raise ValueError(
                f"warmup_steps + decay_steps must not exceed total_steps, got "
                f"{c_warm} + {c_decay} > {c_total}."
            )
    stable = jnp.maximum(total - warm - decay, 0)
    decay = jnp.minimum(decay, jnp.maximum(total - warm, 0))
    end, end_scales = _decays.final_value(peak_value, end_value, end_ratio)
    phases = [
        _build.warmup_phase(peak_value, warm, warm_shape, init_value),
        _build.hold_phase(peak_value, stable),
        _build.decay_phase(peak_value, decay, end, decay_resolved, end_scale=end_scales),
        _build.hold_phase(end, scale=end_scales),
    ]
    return _engine.stack_phases(phases, dtype=dtype)


def noam_schedule(
    model_dim: ArrayLike, warmup_steps: ArrayLike, *, scale: ArrayLike = 1.0
) -> _engine.PhaseSchedule:
    """The Transformer ("Noam") schedule, ``t = c + 1``:

    ``scale * d**-0.5 * min(t**-0.5, t * W**-1.5)``.

    Reference: Vaswani et al., "Attention Is All You Need", 2017.

    Args:
      model_dim: ``d``, the model width (> 0).
      warmup_steps: ``W`` (>= 1).
      scale: overall multiplier.

    Returns:
      A schedule: linear warmup (no wasted update), then inverse-sqrt decay.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.noam_schedule(1.0, 4)
      >>> [round(float(s(c)), 4) for c in (0, 3, 15)]
      [0.125, 0.5, 0.25]
    """
    v.check_range("model_dim", model_dim, low=0.0, low_open=True)
    v.check_duration("warmup_steps", warmup_steps)
    v.check_range("warmup_steps", warmup_steps, low=1)
    v.check_finite("scale", scale)
    w = jnp.maximum(v.duration_array(warmup_steps), 1)
    wf = w.astype(jnp.float32)
    # A traced model_dim <= 0 is clamped to the smallest normal float (no inf).
    dim = jnp.maximum(jnp.asarray(model_dim, jnp.float32), jnp.finfo(jnp.float32).tiny)
    peak = jnp.asarray(scale, jnp.float32) * dim**-0.5 * wf**-0.5
    phases = [
        _build.warmup_phase(peak, w, "linear"),
        _build.decay_phase(peak, 0, 0.0, _build.inverse_sqrt(wf), offset=1),
    ]
    return _engine.stack_phases(phases)


def one_cycle(
    peak_value: ArrayLike,
    total_steps: ArrayLike,
    *,
    pct_start: ArrayLike = 0.3,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
    anneal: Literal["cos", "linear"] = "cos",
    three_phase: bool = False,
) -> _engine.PhaseSchedule:
    """The one-cycle policy, with ``torch.optim.lr_scheduler.OneCycleLR``'s exact conventions.

    From ``peak / div_factor`` up to ``peak`` at step ``pct_start * T - 1``, then
    down to ``peak / (div_factor * final_div_factor)`` at step ``T - 1``. With
    ``three_phase`` it comes back to the initial value at ``2 pct_start T - 2``
    before the final annealing. Phase boundaries may fall between steps, as in
    torch.

    Reference: Smith & Topin, "Super-Convergence", 2017.

    Args:
      peak_value: the maximum (torch's ``max_lr``).
      total_steps: ``T``.
      pct_start: fraction of the cycle spent increasing, in (0, 1).
      div_factor: initial value is ``peak / div_factor``.
      final_div_factor: final value is ``initial / final_div_factor``.
      anneal: ``"cos"`` or ``"linear"``.
      three_phase: use torch's three-phase variant.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.one_cycle(1.0, 11, pct_start=0.5, div_factor=10.0, anneal="linear")
      >>> [round(float(s(c)), 4) for c in (0, 2, 5, 10)]
      [0.1, 0.5, 0.9091, 0.0]
    """
    v.check_choice("anneal", anneal, ("cos", "linear"))
    v.check_finite("peak_value", peak_value)
    v.check_duration("total_steps", total_steps)
    v.check_range("pct_start", pct_start, low=0.0, high=1.0, low_open=True, high_open=True)
    v.check_range("div_factor", div_factor, low=0.0, low_open=True)
    v.check_range("final_div_factor", final_div_factor, low=0.0, low_open=True)
    shape = _shapes.resolve("cosine" if anneal == "cos" else "linear", "decay")
    total = v.duration_array(total_steps)
    tf = total.astype(jnp.float32)
    peak = jnp.asarray(peak_value, jnp.float32)
    # Traced factors below 1e-6 are clamped to 1e-6 (no inf, no NaN).
    initial = peak / jnp.maximum(jnp.asarray(div_factor, jnp.float32), 1e-6)
    final = initial / jnp.maximum(jnp.asarray(final_div_factor, jnp.float32), 1e-6)
    pct: Any = jnp.asarray(pct_start, jnp.float32)
    known_pct, known_total = v.concrete_value(pct_start), v.concrete_value(total)
    if known_pct is not None and known_total is not None:
        # Marks in float64 as torch computes them: float32(0.3) * 50 is 15.000001, not 15.
        pct, tf = np.float64(known_pct), np.float64(known_total)
    if three_phase:
        marks = [pct * tf - 1, 2 * pct * tf - 2, tf - 1]
        values = [initial, peak, initial, final]
    else:
        marks = [pct * tf - 1, tf - 1]
        values = [initial, peak, final]
    return _float_boundary_phases(marks, values, shape)


def _float_boundary_phases(
    marks: list[Any], values: list[Any], shape: _shapes.ResolvedShape
) -> _engine.PhaseSchedule:
    """Phases between real-valued step marks ``m_0 < m_1 < ...`` (the first starts at 0).

    Step ``k`` belongs to phase ``j`` when ``m_{j-1} < k <= m_j`` (torch's rule);
    its progress is ``(k - m_{j-1}) / (m_j - m_{j-1})``.
    """
    idt = v.index_dtype()
    # Concrete (float64 NumPy) marks are placed in float64, traced ones in float32.
    concrete = all(isinstance(m, np.floating) for m in marks)
    phases = []
    prev_mark: Any = np.float64(0.0) if concrete else jnp.asarray(0.0, jnp.float32)
    prev_first: Any = 0 if concrete else jnp.asarray(0, idt)
    for j, mark in enumerate(marks):
        # First integer step of the next phase: floor(mark) + 1.
        if concrete:
            first_next = max(int(np.floor(mark)) + 1, prev_first)
            length = max(mark - prev_mark, 0.0)
            offset = prev_first - prev_mark
        else:
            first_next = jnp.maximum(jnp.floor(mark).astype(idt) + 1, prev_first)
            length = jnp.maximum(mark - prev_mark, 0.0)
            offset = prev_first.astype(jnp.float32) - prev_mark
        span = first_next - prev_first
        phases.append(
            _build.decay_phase(
                values[j], span, values[j + 1], shape, length=length, offset=offset, end_scale=1.0
            )
        )
        prev_mark, prev_first = mark, first_next
    phases.append(_build.hold_phase(values[-1]))
    return _engine.stack_phases(phases)


def cyclic(
    schedule: _engine.PhaseSchedule,
    *,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
) -> _engine.PhaseSchedule:
    """Repeat a schedule as cycles: restarts with length multiplier and peak decay.

    One cycle is the schedule's phases (its total span). Cycle ``i`` lasts
    ``L * cycle_mul**i`` steps and its peak values are multiplied by
    ``cycle_decay**i`` (floors given as absolute ``end_value`` stay put, as in
    timm). After ``num_cycles`` cycles the value holds the last cycle's end.

    Args:
      schedule: a non-cyclic library schedule with a positive total span.
      num_cycles: cycle limit (``None``: no limit).
      cycle_mul: cycle length multiplier (>= 1).
      cycle_decay: peak multiplier per cycle (>= 0). A concrete value above 1
        whose growth overflows float32 within the cycles a count can reach
        raises ``ValueError``.

    Returns:
      A cyclic schedule: the cycle of a count comes from one integer division
      (``cycle_mul = 1``) or a search in a table of cycle starts built once
      (O(log cycles); exact in integers), whatever the number of cycles.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.cyclic(ow.linear_decay(1.0, 2), cycle_decay=0.5)
      >>> [float(s(c)) for c in range(6)]
      [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    """
    if not isinstance(schedule, _engine.PhaseSchedule) or schedule.is_cyclic:
        raise ValueError("cyclic() needs a non-cyclic library schedule to repeat.")
    _engine.check_cycles(num_cycles, cycle_mul, cycle_decay)
    _check_growth(schedule, num_cycles, cycle_mul, cycle_decay)
    return _engine.assemble_arrays(
        schedule.spans,
        schedule.starts,
        schedule.ends,
        kinds=schedule.kinds,
        params=schedule.params,
        lengths=schedule.lengths,
        offsets=schedule.offsets,
        cycle_scale=schedule.cycle_scale,
        custom_fns=schedule.custom_fns,
        cycle_start=0,
        num_cycles=num_cycles,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        dtype=schedule.dtype,
    )


def cosine_restarts(
    peak_value: ArrayLike,
    cycle_steps: ArrayLike,
    *,
    warmup_steps: ArrayLike = 0,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    warmup_shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """Cosine annealing with warm restarts (SGDR), optionally with a warmup in every cycle.

    Each cycle: warmup over ``warmup_steps`` (0 for none) to the cycle's peak
    ``peak * cycle_decay**i``, then cosine decay to the end value over the
    rest of the cycle. The first cycle lasts ``cycle_steps``; each next one
    ``cycle_mul`` times longer, all of its phases stretched alike (the
    per-cycle warmup too, as in timm's and torch's cycle multipliers).

    Reference: Loshchilov & Hutter, "SGDR", 2017.

    Args:
      peak_value: peak of the first cycle.
      cycle_steps: length of the first cycle, warmup included.
      warmup_steps: warmup at the start of each cycle.
      end_value: floor at the end of each cycle (absolute, does not decay); or
      end_ratio: floor as a ratio of each cycle's peak.
      num_cycles: cycle limit (``None``: no limit).
      cycle_mul: cycle length multiplier (>= 1).
      cycle_decay: peak multiplier per cycle.
      warmup_shape: shape of the per-cycle warmup.
      init_value: warmup start (``None``: no wasted first update).

    Returns:
      A cyclic schedule. A traced ``cycle_steps`` of 0 (or below, clamped to
      0) leaves no cycle to run: the value is the end value from count 0.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.cosine_restarts(1.0, 4, cycle_decay=0.5)
      >>> [round(float(s(c)), 4) for c in range(6)]
      [1.0, 0.8536, 0.5, 0.1464, 0.5, 0.4268]
    """
    warm = _warmup.check_warmup(
        peak_value, warmup_steps, warmup_shape, init_value, shape_name="warmup_shape"
    )
    _engine.check_cycles(num_cycles, cycle_mul, cycle_decay)
    v.check_duration("cycle_steps", cycle_steps)
    v.check_range("cycle_steps", cycle_steps, low=1)
    check_order(("warmup_steps", warmup_steps), ("cycle_steps", cycle_steps))
    end, end_scales = _decays.final_value(peak_value, end_value, end_ratio)
    decay_steps = jnp.maximum(v.duration_array(cycle_steps) - v.duration_array(warmup_steps), 0)
    cosine = _shapes.resolve("cosine", "decay")
    body = warmup_decay_phases(
        peak_value, warmup_steps, decay_steps, warm, cosine, init_value, end, end_scales
    )
    restarts = _engine.stack_phases(
        body, cycle_start=0, num_cycles=num_cycles, cycle_mul=cycle_mul, cycle_decay=cycle_decay
    )
    _check_growth(restarts, num_cycles, cycle_mul, cycle_decay)
    return restarts


def _check_growth(
    body: _engine.PhaseSchedule, num_cycles: Any, cycle_mul: ArrayLike, cycle_decay: ArrayLike
) -> None:
    """Refuse a concrete ``cycle_decay`` whose growth overflows float32 over ``body``'s cycles."""
    v.check_cycle_decay(
        "cycle_decay",
        cycle_decay,
        starts=body.starts,
        ends=body.ends,
        scales=body.cycle_scale,
        period=body.spans,
        num_cycles=num_cycles,
        cycle_mul=cycle_mul,
    )


def rewarmup(
    schedule: _combine.ScheduleLike,
    at_step: ArrayLike,
    new_schedule: _combine.ScheduleLike,
    warmup_steps: ArrayLike,
    *,
    shape: _shapes.ShapeLike = "linear",
) -> Schedule:
    """Continue training with a new warmup: run ``schedule`` until ``at_step``,
    then warm up from ``schedule(at_step)`` to ``new_schedule(0)`` over
    ``warmup_steps``, then follow ``new_schedule``.

    Reference: Gupta et al., "Continual Pre-Training of Large Language Models:
    How to (re)warm your model?", 2023; Ibrahim et al., "Simple and Scalable
    Strategies to Continually Pre-train Large Language Models", 2024.

    Args:
      schedule: the schedule of the run so far.
      at_step: the step where continued training starts.
      new_schedule: the schedule after rewarmup (its value at 0 is the new peak).
      warmup_steps: length of the rewarmup.
      shape: the rewarmup shape.

    Returns:
      A schedule (one :class:`PhaseSchedule` when both are non-cyclic library schedules).

    Example:
      >>> import optax_warmup as ow
      >>> old = ow.linear_decay(1.0, 4)
      >>> s = ow.rewarmup(old, 2, ow.linear_decay(2.0, 2), 2)
      >>> [float(s(c)) for c in range(8)]
      [1.0, 0.75, 0.5, 1.25, 2.0, 1.0, 0.0, 0.0]
    """
    v.check_duration("at_step", at_step)
    old = _combine.as_schedule(schedule)
    start_value = old(at_step)
    new = _warmup.add_warmup(new_schedule, warmup_steps, shape=shape, init_value=start_value)
    return _join.join([old, new], [at_step])
