"""Horizon tools: change a schedule's length after it was built.

Runs change length after they start: Composer's ``scale_schedule_ratio``
stretches a whole schedule, a resumed run extends a decay that is under way,
a warmup-stable-decay run branches a cooldown from a checkpoint of its stable
phase to evaluate it, and a schedule may start late. These functions do each
on the phase arrays of a :class:`~optax_warmup.PhaseSchedule`, in one
vectorised pass (no per-phase Python work), so the result evaluates at the
same O(1) cost whatever its number of phases, and every argument may be
traced.

The time warp (:func:`stretch`, :func:`extend`) maps a step ``x`` past a
pivot ``P`` to ``P + round((x - P) r)``: phase boundaries move, each phase's
progress length grows with its new span (``lengths * r`` plus the rounding of
the span, so a phase whose length was its span still ends exactly at its new
boundary), shape parameters that are durations in steps (the time constant of
``exp_approach``, the ``tau`` and staircase of ``inv_sqrt``, the steps per
rate of ``exp_rate``) are multiplied by ``r``, and the time a phase had run
before the pivot is carried over as ``r`` times as many steps of its new
length, so the value is continuous at the pivot. :func:`extend` is an exact
time warp: ``new(c) = old(P + (c - P) / r)`` (with the phase's offset, the
one step a warmup adds so that its first update is not wasted, scaled too).
:func:`stretch` keeps each whole phase's offset instead, so that
``stretch(warmup_schedule(p, W), r)`` is ``warmup_schedule(p, round(W r))``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import join as _join


def _phase_schedule(schedule: Any, fn: str) -> _engine.PhaseSchedule:
    if not isinstance(schedule, _engine.PhaseSchedule):
        raise ValueError(
            f"{fn} works on the library's phase schedules (warmup_schedule, warmup_cosine, "
            f"join, parse_spec...), got {type(schedule).__name__}."
        )
    return schedule


def _retime(
    s: _engine.PhaseSchedule, pivot: ArrayLike, ratio: ArrayLike, *, keep_offsets: bool
) -> _engine.PhaseSchedule:
    """Warp time past ``pivot`` by ``ratio`` (see the module docstring).

    ``keep_offsets``: whole phases past the pivot keep their offsets (as
    :func:`stretch` does); otherwise offsets are time too and scale by
    ``ratio`` (an exact time warp, as :func:`extend` does).

    Every phase is split at the pivot into the part before it (unchanged) and
    the part after it (warped), so the structure does not depend on where the
    pivot falls; concrete inputs are computed on the host, in float64, and
    the empty parts dropped.
    """
    concrete = not any(
        v.is_traced(x) for x in (s.spans, s.lengths, s.offsets, s.params, pivot, ratio)
    )
    xp: Any = np if concrete else jnp
    idt = v.index_dtype()
    cdt = s.lengths.dtype
    fdt = np.float64 if concrete or v.x64_enabled() else np.float32
    spans = xp.asarray(s.spans).astype(idt)
    ends = xp.cumsum(spans)
    begins = ends - spans
    p = xp.maximum(xp.asarray(pivot).astype(idt), 0)
    r = xp.asarray(ratio).astype(fdt)

    def warp(x: Any) -> Any:
        moved = xp.round((x - p).astype(fdt) * r).astype(idt)
        return xp.where(x <= p, x, p + moved)

    done = xp.clip(p - begins, 0, spans)  # steps of each phase run before the pivot
    new_begin = warp(xp.maximum(begins, p))
    b_span = xp.maximum(warp(ends) - new_begin, 0)
    err = b_span.astype(fdt) - (spans - done).astype(fdt) * r  # rounding of the new span
    lengths = xp.asarray(s.lengths).astype(fdt)
    offsets = xp.asarray(s.offsets).astype(fdt)
    split = done > 0
    b_len = xp.maximum(lengths * r + err, 0)
    warped_off = (done.astype(fdt) + offsets) * r
    b_off = xp.where(split, warped_off, offsets) if keep_offsets else warped_off
    mask = np.asarray([_shapes.TIME_PARAMS.get(k, (False,) * _shapes.NUM_PARAMS) for k in s.kinds])
    params = xp.asarray(s.params).astype(fdt)
    b_params = xp.where(mask, params * r, params)

    def pair(a: Any, b: Any) -> Any:
        return xp.stack([a, b], axis=1).reshape((-1, *a.shape[1:]))

    keep = np.ones(2 * s.num_phases, bool)
    if concrete:  # drop the empty parts: before the pivot, or after it
        done_np, spans_np = np.asarray(done), np.asarray(spans)
        keep[0::2] = done_np > 0
        keep[1::2] = (done_np < spans_np) | (spans_np == 0)
        keep[-1] = True
    kinds = tuple(k for k in s.kinds for _ in range(2))
    cycle_start = s.cycle_start
    if cycle_start is not None:
        cycle_start = int(keep[: 2 * cycle_start].sum())
    idx = np.flatnonzero(keep)

    def out(x: Any, dt: Any) -> jax.Array:
        return jnp.asarray(x[idx] if concrete else x).astype(dt)

    return dataclasses.replace(
        s,
        spans=out(pair(done, b_span), idt),
        lengths=out(pair(lengths, b_len), cdt),
        offsets=out(pair(offsets, b_off), cdt),
        starts=out(pair(xp.asarray(s.starts), xp.asarray(s.starts)), cdt),
        ends=out(pair(xp.asarray(s.ends), xp.asarray(s.ends)), cdt),
        params=out(pair(params, b_params), cdt),
        cycle_scale=out(pair(xp.asarray(s.cycle_scale), xp.asarray(s.cycle_scale)), cdt),
        kinds=tuple(kinds[i] for i in idx) if concrete else kinds,
        cycle_start=cycle_start,
    )


def _check_ratio(name: str, ratio: ArrayLike) -> Any:
    """A concrete ratio as a float64 NumPy value; a traced one clamped at 1e-6."""
    v.check_range(name, ratio, low=0.0, low_open=True)
    c = v.concrete_value(ratio)
    if c is not None:
        return np.float64(c)
    return jnp.maximum(jnp.asarray(ratio, jnp.float64 if v.x64_enabled() else jnp.float32), 1e-6)


def _warmup_end(s: _engine.PhaseSchedule) -> jax.Array:
    """The end of the warmup: phase 0's span when it rises, else 0."""
    return jnp.where(s.ends[0] > s.starts[0], s.spans[0], 0).astype(v.index_dtype())


def stretch(schedule: Any, ratio: ArrayLike, *, warmup: bool = True) -> _engine.PhaseSchedule:
    """Stretch a schedule in time by ``ratio`` (Composer's ``scale_schedule_ratio``).

    Every phase boundary ``b`` moves to ``round(b * ratio)`` and each phase's
    shape is stretched with it (see the module docstring for the exact rule);
    values are unchanged. With ``warmup=False`` the warmup (the first phase,
    when it rises) keeps its length and only what follows it is stretched,
    from the warmup's end ``W``: ``b -> W + round((b - W) * ratio)``.

    Composer scales the run's horizon and every time-based schedule with it
    (``scale_schedule_ratio``; its schedulers' ``scale_warmup`` flag says
    whether the warmup scales too); this is the same operation on one schedule.

    Args:
      schedule: a :class:`~optax_warmup.PhaseSchedule`.
      ratio: the stretch factor (> 0; below 1 shrinks). Traced allowed
        (clamped at 1e-6).
      warmup: whether the warmup is stretched too.

    Returns:
      The stretched schedule, same number of phases or fewer.

    Raises:
      ValueError: for a non-positive ratio, a schedule that is not a phase
        schedule, or (``warmup=False``) a cyclic schedule whose cycles start
        at phase 0.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> s = ow.warmup_decay_schedule(1.0, 2, 6, decay_shape="linear")
      >>> [round(float(x), 3) for x in ow.stretch(s, 2.0)(jnp.arange(0, 14, 2))]
      [0.25, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0]
      >>> [round(float(x), 3) for x in ow.stretch(s, 2.0, warmup=False)(jnp.arange(0, 12, 2))]
      [0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    s = _phase_schedule(schedule, "stretch")
    r = _check_ratio("ratio", ratio)
    if warmup:
        return _retime(s, 0, r, keep_offsets=True)
    if s.cycle_start == 0:
        raise ValueError("stretch(warmup=False) needs a warmup before the cycles start.")
    w = _warmup_end(s)
    return _retime(s, w if v.concrete_value(w) is None else int(w), r, keep_offsets=True)


def extend(schedule: Any, new_total: ArrayLike, *, at: ArrayLike) -> _engine.PhaseSchedule:
    """Give a schedule a new total length from step ``at`` on, without a jump.

    Rule: steps before ``at`` are unchanged, and what remained of the schedule,
    from ``at`` to its end ``T`` (the sum of its phase spans), is stretched
    onto ``at .. new_total``: a step ``x >= at`` maps to
    ``at + round((x - at) * r)`` with ``r = (new_total - at) / (T - at)``. The
    value at ``at`` is the value the schedule had there, the final value is
    reached at ``new_total``, and the shape of the remaining decay is kept
    (a half-done cosine finishes as the slower second half of a cosine).
    Rebuilding a cosine with the new total instead jumps back up at ``at``.

    Args:
      schedule: a non-cyclic :class:`~optax_warmup.PhaseSchedule`.
      new_total: the new end of the schedule (> ``at``).
      at: the step the change takes effect (the current count on resume;
        ``< T``). Traced allowed: clamped to ``[0, T - 1]`` and ``new_total``
        to at least ``at + 1``.

    Returns:
      The extended schedule.

    Raises:
      ValueError: for a cyclic schedule, ``at >= T`` (nothing left to
        stretch) or ``new_total <= at``.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> s = ow.linear_decay(1.0, 4)
      >>> [round(float(x), 3) for x in ow.extend(s, 8, at=2)(jnp.arange(9))]
      [1.0, 0.75, 0.5, 0.417, 0.333, 0.25, 0.167, 0.083, 0.0]
    """
    s = _phase_schedule(schedule, "extend")
    if s.is_cyclic:
        raise ValueError("extend needs a schedule without cycles; stretch scales a cyclic one.")
    idt = v.index_dtype()
    total = s.total_steps().astype(idt)
    v.check_duration("at", at)
    v.check_duration("new_total", new_total)
    t_c, a_c, n_c = (v.concrete_value(x) for x in (total, at, new_total))
    if t_c is not None and a_c is not None and a_c >= t_c:
        raise ValueError(
            f"at={a_c.item()} is past the schedule's end ({t_c.item()} steps): nothing left to "
            "extend; join a new phase instead."
        )
    if a_c is not None and n_c is not None and n_c <= a_c:
        raise ValueError(f"new_total must exceed at, got {n_c.item()} <= {a_c.item()}.")
    a = jnp.clip(v.as_duration("at", at), 0, jnp.maximum(total - 1, 0))
    n = jnp.maximum(v.as_duration("new_total", new_total), a + 1)
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    if a_c is not None and n_c is not None and t_c is not None:
        r: Any = (float(n_c) - float(a_c)) / (float(t_c) - float(a_c))
        a = int(a_c)
    else:
        r = (n - a).astype(fdt) / jnp.maximum(total - a, 1).astype(fdt)
    return _retime(s, a, r, keep_offsets=False)


def branch_cooldown(
    schedule: _combine.ScheduleLike,
    at: ArrayLike,
    length: ArrayLike,
    *,
    shape: _shapes.ShapeLike = "1-sqrt",
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
) -> Any:
    """Branch a cooldown off a schedule at step ``at`` (WSD evaluation from a checkpoint).

    ``value(c) = schedule(c)`` for ``c < at``; from ``at`` on, the cooldown of
    :func:`~optax_warmup.decay_schedule` from ``v = schedule(at)`` to the end
    value over ``length`` steps: ``v + (end - v) f((c - at) / length)``, then
    the end value. The default shape is 1-sqrt, ``f(p) = sqrt(p)`` (Haegele et
    al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
    Durations"), so branching a warmup-stable schedule at ``at`` gives the
    warmup-stable-decay schedule whose cooldown starts there.

    Args:
      schedule: any schedule (merged into one phase schedule when it is one).
      at: the step the cooldown starts (its first update uses ``schedule(at)``).
      length: the cooldown length in steps.
      shape: the cooldown shape (as for :func:`~optax_warmup.decay_schedule`).
      end_value: the final value (absolute; default 0); or
      end_ratio: the final value as a ratio of ``schedule(at)``.

    Returns:
      The branched schedule.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> s = ow.branch_cooldown(ow.warmup_schedule(1.0, 2), 3, 4, shape="linear")
      >>> [float(x) for x in s(jnp.arange(9))]
      [0.5, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    s = _combine.as_schedule(schedule)
    v.check_duration("at", at)
    start = jnp.asarray(s(v.as_duration("at", at)), jnp.float32)
    cooldown = _decays.decay_schedule(
        start, length, shape=shape, end_value=end_value, end_ratio=end_ratio
    )
    return _join.join([s, cooldown], [at])


def delay(schedule: _combine.ScheduleLike, steps: ArrayLike, *, value: ArrayLike = 0.0) -> Any:
    """Start a schedule ``steps`` later, holding ``value`` until then (a delayed start).

    ``value(c) = value`` for ``c < steps``, ``schedule(c - steps)`` after: the
    schedule's count starts at ``steps``. With the default 0 nothing is
    updated during the delay (e.g. a head trained alone first, or a
    learning-rate warmup that starts after a number of steps).

    Args:
      schedule: any schedule.
      steps: the delay in steps (traced allowed).
      value: the value during the delay.

    Returns:
      The delayed schedule (one phase schedule when ``schedule`` is one).

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> [float(x) for x in ow.delay(ow.warmup_schedule(1.0, 2), 2)(jnp.arange(5))]
      [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    v.check_finite("value", value)
    return _join.join([_combine.constant_schedule(value), schedule], [steps])
