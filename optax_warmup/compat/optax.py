"""Drop-in replacements for optax's schedules, with optax's exact signatures.

This module is the documented home of the 13 drop-ins (``import
optax_warmup.compat.optax as ox``). They keep optax's conventions (a warmup's
first update gets ``init_value``; ``decay_steps`` includes the warmup...), so
they sit apart from the library's own schedules, whose near-homonyms differ:
``cosine_decay_schedule`` / :func:`optax_warmup.cosine_decay`,
``join_schedules`` / :func:`optax_warmup.join`, ``cosine_onecycle_schedule`` /
:func:`optax_warmup.one_cycle`. The top-level names (``ow.cosine_decay_schedule``...)
are aliases kept for compatibility.

Each function takes the same parameters (names, order, defaults) as its optax
0.2.8 namesake and returns the same values wherever optax's value is sensible,
but is built on the phase engine: every hyperparameter may be traced
(``jax.vmap`` over warmup lengths, peaks, decay rates... compiles once),
evaluation costs the same for 1 or 1000 pieces, and step lengths never
overflow int32 silently. Where optax is degenerate the drop-in does the
sensible thing; each function's docstring and the guide page
``docs/guide/optax_differences.md`` ("Differences from optax") list every such case.

Shared conventions (all drop-ins): counts below 0 give the value at count 0;
float counts are floored; concrete negative step lengths raise ``ValueError``
(traced ones are clamped at 0) and a zero-length phase is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import composites as _composites
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import join as _join
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import Schedule

BoundariesAndScales = Mapping[int, ArrayLike] | tuple[ArrayLike, ArrayLike] | None


def _stack(items: Any) -> np.ndarray | jax.Array:
    """A 1-D array from a list of numbers or arrays.

    Numbers stay a NumPy array (one conversion, and values beyond int32 stay
    visible to validation); JAX arrays, traced ones included, are stacked.
    """
    if isinstance(items, jax.Array):
        return jnp.reshape(items, (-1,))
    if isinstance(items, np.ndarray):
        return items.reshape(-1)
    items = list(items)
    if any(isinstance(x, jax.Array) for x in items):
        return jnp.stack([jnp.asarray(x) for x in items])
    return np.asarray(items)


def _transition(
    init_value: ArrayLike,
    end_value: ArrayLike,
    shape: _shapes.ShapeLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike,
) -> _engine.PhaseSchedule:
    """Hold ``init_value`` for ``transition_begin`` steps, move to ``end_value``, hold it."""
    v.check_duration("transition_steps", transition_steps)
    v.check_duration("transition_begin", transition_begin)
    v.check_finite("init_value", init_value)
    v.check_finite("end_value", end_value)
    phases = [
        _build.hold_phase(init_value, transition_begin),
        _build.decay_phase(init_value, transition_steps, end_value, shape, start_scale=0.0),
        _build.hold_phase(end_value),
    ]
    return _engine.stack_phases(phases)


def polynomial_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    power: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> _engine.PhaseSchedule:
    """optax's ``polynomial_schedule``: polynomial transition from init to end value.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.polynomial_decay` (or
    ``decay_schedule`` with ``shape=shapes.polynomial(power)``).

    With ``c = clip(count - B, 0, T)``: ``(init - end) * (1 - c / T)**power + end``.

    Differences from optax: ``transition_steps = 0`` is a transition already
    complete, ``end_value`` from count ``B`` on (optax holds ``init_value``
    forever); negative ``transition_steps`` or ``transition_begin`` and
    ``power <= 0`` raise ``ValueError`` (optax holds ``init_value``, treats a
    negative begin as 0, and returns ``init_value`` resp. inf for ``power``
    0 resp. < 0).

    Args:
      init_value: value before and at ``transition_begin``.
      end_value: value from ``transition_begin + transition_steps`` on.
      power: the polynomial power (> 0).
      transition_steps: ``T``, steps of the transition.
      transition_begin: ``B``, steps ``init_value`` is held first.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.polynomial_schedule(1.0, 0.0, power=2, transition_steps=4, transition_begin=1)
      >>> [float(s(c)) for c in range(7)]
      [1.0, 1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    return _transition(
        init_value, end_value, _shapes.polynomial(power), transition_steps, transition_begin
    )


def linear_schedule(
    init_value: ArrayLike,
    end_value: ArrayLike,
    transition_steps: ArrayLike,
    transition_begin: ArrayLike = 0,
) -> _engine.PhaseSchedule:
    """optax's ``linear_schedule``: linear transition from init to end value.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.linear_decay` (falling) or
    :func:`optax_warmup.warmup_schedule` (rising).

    ``init + (end - init) * clip(count - B, 0, T) / T``.

    Differences from optax: ``transition_steps = 0`` gives ``end_value`` from
    count ``B`` on (optax: ``init_value`` forever, so ``linear_schedule(0.0,
    peak, 0)`` as a warmup never leaves 0); negative lengths raise ``ValueError``.

    Args:
      init_value: value before and at ``transition_begin``.
      end_value: value from ``transition_begin + transition_steps`` on.
      transition_steps: ``T``, steps of the transition.
      transition_begin: ``B``, steps ``init_value`` is held first.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.linear_schedule(1.0, 0.0, transition_steps=4)
      >>> [float(s(c)) for c in range(6)]
      [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    return _transition(init_value, end_value, "linear", transition_steps, transition_begin)


def _scales(
    name: str, init_value: ArrayLike, boundaries_and_scales: BoundariesAndScales
) -> tuple[np.ndarray | jax.Array, jax.Array]:
    """Boundaries and cumulative values ``init * prod(scales[:i])`` from optax's dict.

    Also accepts a pair ``(boundaries, scales)`` of sorted arrays (traced allowed).
    """
    v.check_finite("init_value", init_value)
    if boundaries_and_scales is None:
        bounds, scales = _stack([]).astype(v.index_dtype()), _stack([])
    elif isinstance(boundaries_and_scales, Mapping):
        items = sorted(boundaries_and_scales.items())
        bounds, scales = _stack([b for b, _ in items]), _stack([s for _, s in items])
    elif (
        isinstance(boundaries_and_scales, tuple | list)
        and len(boundaries_and_scales) == 2
        and all(np.ndim(x) == 1 or v.is_traced(x) for x in boundaries_and_scales)
    ):
        bounds, scales = (_stack(x) for x in boundaries_and_scales)
    else:
        raise ValueError(
            f"{name} must be a {{step: scale}} dict, a (steps, scales) pair or None, "
            f"got {boundaries_and_scales!r:.80}."
        )
    v.check_duration(name, bounds)
    v.check_range(name, scales, low=0.0)
    first = jnp.reshape(jnp.asarray(init_value, jnp.float32), (1,))
    values = jnp.cumprod(jnp.concatenate([first, scales.astype(jnp.float32)]))
    return bounds, values


def _interpolated(
    bounds: ArrayLike, values: jax.Array, shape: _shapes.ResolvedShape
) -> _engine.PhaseSchedule:
    """From ``values[i]`` at ``bounds[i-1]`` to ``values[i+1]`` at ``bounds[i]``, then hold."""
    b = _combine.sorted_boundaries(bounds, values.shape[0])  # type: ignore[arg-type]
    begins = jnp.concatenate([jnp.zeros((1,), b.dtype), b])
    spans = jnp.concatenate([jnp.diff(begins), jnp.zeros((1,), b.dtype)])
    ends = jnp.concatenate([values[1:], values[-1:]])
    return _engine.assemble_repeating(spans, values, ends, [shape], shape)


def piecewise_constant_schedule(
    init_value: ArrayLike, boundaries_and_scales: BoundariesAndScales = None
) -> _engine.PhaseSchedule:
    """optax's ``piecewise_constant_schedule``: ``init`` times every scale already reached.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.piecewise_constant` (values,
    not scales).

    ``value(c) = init * prod(s_i for b_i <= c)``.

    Besides optax's ``{step: scale}`` dict, ``boundaries_and_scales`` may be a
    pair ``(boundaries, scales)`` of arrays (sorted; traced allowed). Either way
    the schedule is built from stacked arrays; a count finds its interval in
    O(1) for concrete boundaries and O(log N) steps for traced ones.

    Differences from optax: a negative boundary raises ``ValueError`` (optax
    applies its scale from that negative count on); at negative counts a
    boundary at 0 is already applied (optax returns ``init_value`` there).

    Args:
      init_value: the value before the first boundary.
      boundaries_and_scales: ``{step: scale}`` with scales >= 0, or ``(steps, scales)``.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.piecewise_constant_schedule(1.0, {2: 0.5, 4: 0.1})
      >>> [float(s(c)) for c in range(6)]
      [1.0, 1.0, 0.5, 0.5, 0.05, 0.05]
    """
    bounds, values = _scales("boundaries_and_scales", init_value, boundaries_and_scales)
    return _interpolated(bounds, values, _build.constant_shape())


_INTERPOLATION = {"linear": _build.power_in, "cosine": _build.half_cosine}


def piecewise_interpolate_schedule(
    interpolate_type: str, init_value: ArrayLike, boundaries_and_scales: BoundariesAndScales = None
) -> _engine.PhaseSchedule:
    """optax's ``piecewise_interpolate_schedule``: interpolate between cumulatively scaled values.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.join` of
    :func:`optax_warmup.linear_decay` pieces.

    With ``v_0 = init``, ``v_i = v_{i-1} * s_i`` and ``b_0 = 0``: from ``v_i``
    at ``b_i`` to ``v_{i+1}`` at ``b_{i+1}``, linearly or along a half cosine
    (``v_{i+1} + (v_i - v_{i+1}) (1 + cos(pi p)) / 2``); ``v_n`` after the last
    boundary. ``boundaries_and_scales`` may also be a pair of arrays (see
    :func:`piecewise_constant_schedule`).

    Differences from optax: at negative counts optax returns 0 (no interval
    contains them); the drop-in returns the value at count 0. Optax also fails
    on an array of counts (it only takes a scalar count); the drop-in takes any
    shape. Negative boundaries raise ``ValueError``.

    Args:
      interpolate_type: ``"linear"`` or ``"cosine"``.
      init_value: the value at count 0.
      boundaries_and_scales: ``{step: scale}`` with scales >= 0, or ``(steps, scales)``.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.piecewise_interpolate_schedule("linear", 1.0, {4: 0.5, 8: 0.5})
      >>> [float(s(c)) for c in range(0, 11, 2)]
      [1.0, 0.75, 0.5, 0.375, 0.25, 0.25]
    """
    v.check_choice("interpolate_type", interpolate_type, tuple(_INTERPOLATION))
    bounds, values = _scales("boundaries_and_scales", init_value, boundaries_and_scales)
    return _interpolated(bounds, values, _INTERPOLATION[interpolate_type]())


def _exponential_phases(
    init_value: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike,
    staircase: ArrayLike,
    end_value: ArrayLike | None,
) -> list[_engine.Phase]:
    """optax's exponential decay as phases: hold for ``transition_begin`` steps, then decay."""
    v.check_range("transition_steps", transition_steps, low=0.0, low_open=True)
    v.check_range("decay_rate", decay_rate, low=0.0, low_open=True)
    v.check_duration("transition_begin", transition_begin)
    v.check_finite("init_value", init_value)
    # Traced non-positive lengths or rates hold init_value (optax's value for 0).
    steps = jnp.asarray(transition_steps, jnp.float32)
    ok = (steps > 0) & (jnp.asarray(decay_rate, jnp.float32) > 0)
    rate = jnp.where(ok, jnp.asarray(decay_rate, jnp.float32), 1.0)
    if end_value is None:
        end, clamp = jnp.float32(0.0), jnp.float32(0.0)
    else:
        v.check_finite("end_value", end_value)
        end, clamp = jnp.asarray(end_value, jnp.float32), ok.astype(jnp.float32)
    init = jnp.asarray(init_value, jnp.float32)
    clamped = jnp.where(rate < 1, jnp.maximum(init, end), jnp.minimum(init, end))
    hold = jnp.where(clamp > 0, clamped, init)
    flag = jnp.asarray(staircase, jnp.float32)
    shape = _build.exp_rate(rate, steps, staircase=flag, clamp=clamp)
    return [
        _build.hold_phase(hold, transition_begin),
        _build.decay_phase(init, 0, end, shape, start_scale=0.0),
    ]


def exponential_decay(
    init_value: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike = 0,
    staircase: ArrayLike = False,
    end_value: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """optax's ``exponential_decay``: ``init * decay_rate**((count - B) / T)`` from count ``B``.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.decay_schedule` with
    ``shape="exponential"`` (a geometric decay to a set end value over a set length).

    With ``staircase`` the exponent is floored; ``end_value`` is a lower bound
    when ``decay_rate < 1`` and an upper bound otherwise (also applied to the
    held ``init_value`` before ``B``, as in optax). ``decay_rate`` and
    ``staircase`` may be traced (optax branches on them in Python).

    Differences from optax: concrete ``transition_steps <= 0`` or
    ``decay_rate <= 0`` raise ``ValueError`` (optax returns a constant
    ``init_value`` for 0, and NaN or alternating signs for a negative rate);
    traced ones hold ``init_value``. A negative ``transition_begin`` raises
    (optax treats it as 0). ``transition_steps`` is a time constant, not an
    index, so it may exceed the int32 range without x64.

    Args:
      init_value: the value up to ``transition_begin``.
      transition_steps: ``T``, steps per factor of ``decay_rate`` (> 0).
      decay_rate: the factor per ``T`` steps (> 0).
      transition_begin: ``B``, steps the value is held first.
      staircase: decay in discrete jumps every ``T`` steps.
      end_value: the bound where the decay stops (``None``: no bound).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.exponential_decay(1.0, 2, 0.5, staircase=True, end_value=0.3)
      >>> [float(s(c)) for c in range(7)]
      [1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3]
    """
    return _engine.stack_phases(
        _exponential_phases(
            init_value, transition_steps, decay_rate, transition_begin, staircase, end_value
        )
    )


def cosine_decay_schedule(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    alpha: ArrayLike = 0.0,
    exponent: ArrayLike = 1.0,
) -> _engine.PhaseSchedule:
    """optax's ``cosine_decay_schedule``: cosine decay from ``init_value`` to ``alpha * init``.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.cosine_decay`.

    ``init * ((1 - alpha) * ((1 + cos(pi c / D)) / 2)**exponent + alpha)``,
    ``c = min(count, D)``.

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", 2017.

    Differences from optax: at a negative count optax evaluates the cosine
    there (its mirror image: ``value(-c) = value(c)``, down to
    ``alpha * init`` at ``-D``); the drop-in returns ``init_value``.
    ``decay_steps = 0`` gives ``alpha * init_value`` from count 0 (optax raises
    ``ValueError``). ``decay_steps`` above the int32 range raises
    ``ValueError`` without x64 (optax computes in float32) and works under x64.

    Args:
      init_value: value at count 0.
      decay_steps: ``D``, steps of the decay (>= 0).
      alpha: final value as a fraction of ``init_value``.
      exponent: power of the cosine factor (> 0).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.cosine_decay_schedule(1.0, 4, alpha=0.1)
      >>> [round(float(s(c)), 4) for c in range(6)]
      [1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """
    v.check_finite("alpha", alpha)
    return _decays.decay_schedule(
        init_value, decay_steps, shape=_shapes.cosine(exponent), end_ratio=alpha
    )


def _fraction_step(pct: ArrayLike, steps: ArrayLike) -> jax.Array:
    """``int(pct * steps)`` as optax computes it (in float64 when both are concrete)."""
    idt = v.index_dtype()
    p, s = v.concrete_value(pct), v.concrete_value(steps)
    if p is not None and s is not None:
        return jnp.asarray(np.floor(p.astype(np.float64) * s.astype(np.float64)).astype(idt))
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    product = jnp.clip(jnp.asarray(pct, fdt), 0, 1) * jnp.asarray(steps, fdt)
    return jnp.floor(product).astype(idt)


def _onecycle(
    transition_steps: ArrayLike,
    peak_value: ArrayLike,
    fractions: Sequence[tuple[str, ArrayLike]],
    values: Sequence[ArrayLike],
    shape: _shapes.ResolvedShape,
) -> _engine.PhaseSchedule:
    """Phases between ``values`` at steps ``int(pct * T)`` for each named fraction, then ``T``."""
    v.check_duration("transition_steps", transition_steps)
    v.check_range("transition_steps", transition_steps, low=1)
    v.check_finite("peak_value", peak_value)
    low = 0.0
    for name, pct in fractions:
        v.check_range(name, pct, low=low, high=1.0)
        c = v.concrete_value(pct)
        low = float(c) if c is not None and c.ndim == 0 else 0.0
    steps = v.as_duration("transition_steps", transition_steps)
    bounds = [_fraction_step(pct, steps) for _, pct in fractions] + [steps]
    return _interpolated(
        jnp.stack(bounds), jnp.stack([jnp.asarray(x, jnp.float32) for x in values]), shape
    )


def _divisors(div_factor: ArrayLike, final_div_factor: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """The one-cycle divisors as float32: concrete ones must be finite and > 0
    (``ValueError`` naming them); traced ones are raised to at least 1e-30."""
    out = []
    for name, x in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
        v.check_range(name, x, low=0.0, low_open=True, scalar=True)
        out.append(jnp.maximum(jnp.asarray(x, jnp.float32), 1e-30))
    return out[0], out[1]


def linear_onecycle_schedule(
    transition_steps: ArrayLike,
    peak_value: ArrayLike,
    pct_start: ArrayLike = 0.3,
    pct_final: ArrayLike = 0.85,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
) -> _engine.PhaseSchedule:
    """optax's ``linear_onecycle_schedule``: three linear phases.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.one_cycle` with
    ``anneal="linear"`` (torch's conventions).

    With ``T = transition_steps``, ``init = peak / div_factor``: from ``init``
    at 0 to ``peak`` at ``int(pct_start T)``, back to ``init`` at
    ``int(pct_final T)``, down to ``init / final_div_factor`` at ``T``, held after.

    Reference: Smith & Topin, "Super-Convergence", 2017.

    Differences from optax: at negative counts optax returns 0; the drop-in
    returns the value at 0. When two of the steps ``int(pct_start T)``,
    ``int(pct_final T)``, ``T`` coincide, optax's internal ``{step: scale}``
    dict keeps only the last scale and the curve never reaches the peak (e.g.
    ``T=10, pct_start=0.3, pct_final=0.35`` falls from 0.04 to 0 for a peak of
    1); the drop-in keeps the three phases, the empty one lasting zero steps.
    ``pct_start`` and ``pct_final`` must satisfy ``0 <= pct_start <=
    pct_final <= 1`` (``ValueError``; traced values are clipped into that order).

    Args:
      transition_steps: ``T`` (>= 1).
      peak_value: the maximum, reached at ``int(pct_start T)``.
      pct_start: fraction of ``T`` spent increasing.
      pct_final: fraction of ``T`` at which the value is back to ``init``.
      div_factor: ``init = peak / div_factor`` (> 0, finite; a traced value is
        raised to at least 1e-30).
      final_div_factor: the final value is ``init / final_div_factor`` (> 0,
        finite; a traced value is raised to at least 1e-30).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.linear_onecycle_schedule(10, 1.0, 0.2, 0.6, 10.0, 10.0)
      >>> [round(float(s(c)), 3) for c in (0, 1, 2, 4, 6, 8, 10)]
      [0.1, 0.55, 1.0, 0.55, 0.1, 0.055, 0.01]
    """
    v.check_finite("peak_value", peak_value)
    div_factor, final_div_factor = _divisors(div_factor, final_div_factor)
    init = jnp.asarray(peak_value, jnp.float32) / div_factor
    return _onecycle(
        transition_steps,
        peak_value,
        [("pct_start", pct_start), ("pct_final", pct_final)],
        [init, peak_value, init, init / final_div_factor],
        _build.power_in(),
    )


def cosine_onecycle_schedule(
    transition_steps: ArrayLike,
    peak_value: ArrayLike,
    pct_start: ArrayLike = 0.3,
    div_factor: ArrayLike = 25.0,
    final_div_factor: ArrayLike = 1e4,
) -> _engine.PhaseSchedule:
    """optax's ``cosine_onecycle_schedule``: a half-cosine up, then a half-cosine down.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.one_cycle` (torch's
    conventions).

    With ``init = peak / div_factor``: from ``init`` at 0 to ``peak`` at
    ``int(pct_start T)``, then to ``init / final_div_factor`` at ``T``; each
    segment ``b + (a - b) (1 + cos(pi p)) / 2`` from ``a`` to ``b``.

    Reference: Smith & Topin, "Super-Convergence", 2017.

    Differences from optax: at negative counts optax returns 0; the drop-in
    returns the value at 0. With ``int(pct_start T) == T`` (e.g.
    ``pct_start=1``) optax's dict keeps one boundary and the curve falls from
    ``init`` without ever reaching the peak; the drop-in rises to the peak over
    ``T`` steps, then holds the final value. ``pct_start`` outside [0, 1]
    raises ``ValueError`` (traced: clipped).

    Args:
      transition_steps: ``T`` (>= 1).
      peak_value: the maximum, reached at ``int(pct_start T)``.
      pct_start: fraction of ``T`` spent increasing.
      div_factor: ``init = peak / div_factor`` (> 0, finite; a traced value is
        raised to at least 1e-30).
      final_div_factor: the final value is ``init / final_div_factor`` (> 0,
        finite; a traced value is raised to at least 1e-30).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.cosine_onecycle_schedule(10, 1.0, 0.2, 10.0, 10.0)
      >>> [round(float(s(c)), 3) for c in (0, 1, 2, 6, 10)]
      [0.1, 0.55, 1.0, 0.505, 0.01]
    """
    v.check_finite("peak_value", peak_value)
    div_factor, final_div_factor = _divisors(div_factor, final_div_factor)
    init = jnp.asarray(peak_value, jnp.float32) / div_factor
    return _onecycle(
        transition_steps,
        peak_value,
        [("pct_start", pct_start)],
        [init, peak_value, init / final_div_factor],
        _build.half_cosine(),
    )


def warmup_constant_schedule(
    init_value: ArrayLike, peak_value: ArrayLike, warmup_steps: ArrayLike
) -> _engine.PhaseSchedule:
    """optax's ``warmup_constant_schedule``: linear warmup, then ``peak_value`` forever.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.warmup_schedule` (no wasted
    first update).

    ``init + (peak - init) * min(count, W) / W``.

    The first update gets ``init_value`` (exactly 0 with ``init_value=0``),
    optax's convention kept so the values match; :func:`optax_warmup.warmup_schedule`
    without ``init_value`` wastes no update.

    Differences from optax: ``warmup_steps = 0`` gives ``peak_value`` from
    count 0; optax returns ``init_value`` forever (so ``init_value=0`` never
    trains; optax's ``contrib.schedule_free_adamw(warmup_steps=0)`` inherits
    this). Negative ``warmup_steps`` raises ``ValueError`` (optax: ``init_value``
    forever).

    Args:
      init_value: value at count 0.
      peak_value: value from count ``W`` on.
      warmup_steps: ``W``.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> [float(ow.warmup_constant_schedule(0.0, 1.0, 4)(c)) for c in range(6)]
      [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
      >>> [float(ow.warmup_constant_schedule(0.0, 1.0, 0)(c)) for c in range(2)]
      [1.0, 1.0]
    """
    return _warmup.warmup_schedule(peak_value, warmup_steps, init_value=init_value)


def warmup_cosine_decay_schedule(
    init_value: ArrayLike,
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    decay_steps: ArrayLike,
    end_value: ArrayLike = 0.0,
    exponent: ArrayLike = 1.0,
) -> _engine.PhaseSchedule:
    """optax's ``warmup_cosine_decay_schedule``: linear warmup, then cosine decay.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.warmup_decay_schedule` (no
    wasted first update; ``total_steps`` includes the warmup).

    ``init + (peak - init) c / W`` for ``c < W``; then
    ``end + (peak - end) ((1 + cos(pi (c - W) / (D - W))) / 2)**exponent``
    until ``D`` (``decay_steps`` includes the warmup); ``end`` after.

    The first update gets ``init_value`` (exactly 0 with ``init_value=0``),
    optax's convention kept so the values match;
    :func:`optax_warmup.warmup_decay_schedule` without ``init_value`` wastes no
    update.

    Differences from optax (``warmup_steps=0`` matches optax at counts >= 0):
    ``decay_steps == warmup_steps`` gives ``end_value`` from ``W`` on (optax
    raises ``ValueError``); ``decay_steps < warmup_steps`` and a negative
    ``warmup_steps`` raise ``ValueError`` naming the argument (optax: an error
    from its inner cosine schedule, resp. the decay silently shifted by
    ``-W`` steps). With ``peak_value = 0`` optax ignores ``end_value`` (returns
    0 after warmup); the drop-in decays from 0 to ``end_value``. Negative
    counts give the value at 0 (optax: ``init_value``, even when ``W = 0``).

    Args:
      init_value: value at count 0.
      peak_value: value at count ``W``.
      warmup_steps: ``W``.
      decay_steps: ``D``, the whole schedule, warmup included (>= ``W``).
      end_value: the final value.
      exponent: power of the cosine factor (> 0).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.warmup_cosine_decay_schedule(0.0, 1.0, 2, 6, end_value=0.1)
      >>> [round(float(s(c)), 4) for c in range(8)]
      [0.0, 0.5, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """
    warm = _warmup.check_warmup(peak_value, warmup_steps, "linear", init_value)
    v.check_duration("decay_steps", decay_steps)
    _composites.check_order(("warmup_steps", warmup_steps), ("decay_steps", decay_steps))
    v.check_finite("end_value", end_value)
    cosine = _shapes.resolve(_shapes.cosine(exponent), "decay")
    decay = jnp.maximum(v.duration_array(decay_steps) - v.duration_array(warmup_steps), 0)
    phases = _composites.warmup_decay_phases(
        peak_value, warmup_steps, decay, warm, cosine, init_value, end_value
    )
    return _engine.stack_phases(phases)


def warmup_exponential_decay_schedule(
    init_value: ArrayLike,
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    transition_steps: ArrayLike,
    decay_rate: ArrayLike,
    transition_begin: ArrayLike = 0,
    staircase: ArrayLike = False,
    end_value: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """optax's ``warmup_exponential_decay_schedule``: linear warmup, then exponential decay.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.warmup_decay_schedule` with
    ``decay_shape="exponential"``.

    ``init + (peak - init) c / W`` for ``c < W``, then
    :func:`exponential_decay` of ``peak_value`` at ``c - W``.

    The first update gets ``init_value`` (exactly 0 with ``init_value=0``),
    optax's convention kept so the values match; add a no-waste warmup with
    :func:`optax_warmup.add_warmup` instead.

    Differences from optax: those of :func:`exponential_decay`; a negative
    ``warmup_steps`` raises ``ValueError`` (optax shifts the decay by ``-W``
    steps); negative counts give the value at 0 (optax: ``init_value``).

    Args:
      init_value: value at count 0.
      peak_value: value at the end of warmup.
      warmup_steps: ``W``.
      transition_steps: steps per factor of ``decay_rate`` (> 0).
      decay_rate: the factor per ``transition_steps`` (> 0).
      transition_begin: steps the peak is held after warmup.
      staircase: decay in discrete jumps.
      end_value: the bound where the decay stops.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.warmup_exponential_decay_schedule(0.0, 1.0, 2, 1, 0.5)
      >>> [float(s(c)) for c in range(6)]
      [0.0, 0.5, 1.0, 0.5, 0.25, 0.125]
    """
    resolved = _warmup.check_warmup(peak_value, warmup_steps, "linear", init_value)
    warm = _build.warmup_phase(peak_value, warmup_steps, resolved, init_value)
    decay = _exponential_phases(
        peak_value, transition_steps, decay_rate, transition_begin, staircase, end_value
    )
    return _engine.stack_phases([warm, *decay])


_SGDR_REQUIRED = ("init_value", "peak_value", "warmup_steps", "decay_steps")
_SGDR_DEFAULTS = {"end_value": 0.0, "exponent": 1.0}
_SGDR_KEYS = (*_SGDR_REQUIRED, *_SGDR_DEFAULTS)


def _check_cycle_keys(where: str, kwargs: Mapping[str, Any]) -> None:
    unknown = sorted(set(kwargs) - set(_SGDR_KEYS))
    if unknown:
        raise ValueError(f"{where} has unknown keys {unknown}; expected some of {_SGDR_KEYS}.")
    missing = [k for k in _SGDR_REQUIRED if k not in kwargs]
    if missing:
        raise ValueError(f"{where} lacks {missing}.")


def _sgdr_fields(
    cosine_kwargs: Iterable[Mapping[str, ArrayLike]] | Mapping[str, ArrayLike],
) -> dict[str, Any]:
    """One entry per ``warmup_cosine_decay_schedule`` argument: an array over cycles or a scalar."""
    if isinstance(cosine_kwargs, Mapping):
        arrays = cast(Mapping[str, Any], cosine_kwargs)
        _check_cycle_keys("cosine_kwargs", arrays)
        given = {k: arrays.get(k, _SGDR_DEFAULTS.get(k)) for k in _SGDR_KEYS}
        return {k: _stack(x) if isinstance(x, list | tuple) else x for k, x in given.items()}
    cycles = list(cosine_kwargs)
    if not cycles:
        raise ValueError("cosine_kwargs must describe at least one cycle, got none.")
    for i, kw in enumerate(cycles):
        _check_cycle_keys(f"cosine_kwargs[{i}]", kw)
    return {k: _stack([kw.get(k, _SGDR_DEFAULTS.get(k)) for kw in cycles]) for k in _SGDR_KEYS}


def sgdr_schedule(
    cosine_kwargs: Iterable[Mapping[str, ArrayLike]] | Mapping[str, ArrayLike],
) -> _engine.PhaseSchedule:
    """optax's ``sgdr_schedule``: warm restarts, one :func:`warmup_cosine_decay_schedule` per cycle.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.cosine_restarts` (cycles in
    O(1), length multiplier and peak decay).

    Cycle ``i`` lasts ``decay_steps_i`` steps and follows
    ``warmup_cosine_decay_schedule(**cosine_kwargs[i])`` on its own clock; the
    last cycle holds its end value.

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", 2017.

    Besides optax's list of dicts, ``cosine_kwargs`` may be one dict of arrays
    (one entry per cycle; scalars broadcast, traced allowed). The phases are
    stacked arrays: 1000 cycles build and evaluate at the cost of one.

    Differences from optax: those of :func:`warmup_cosine_decay_schedule`
    in every cycle; an empty ``cosine_kwargs`` or an unknown key raises
    ``ValueError`` (optax fails at the first call, resp. ``TypeError``); the
    total length above the int32 range raises ``ValueError`` without x64.

    Args:
      cosine_kwargs: per cycle, ``init_value``, ``peak_value``,
        ``warmup_steps``, ``decay_steps`` (the cycle length, warmup included)
        and optionally ``end_value`` (0) and ``exponent`` (1).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.sgdr_schedule([
      ...     dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=3),
      ...     dict(init_value=0.0, peak_value=0.5, warmup_steps=1, decay_steps=3),
      ... ])
      >>> [float(s(c)) for c in range(7)]
      [0.0, 1.0, 0.5, 0.0, 0.5, 0.25, 0.0]
    """
    f = _sgdr_fields(cosine_kwargs)
    f["warmup_steps"] = v.as_duration("cosine_kwargs 'warmup_steps'", f["warmup_steps"])
    f["decay_steps"] = v.as_duration("cosine_kwargs 'decay_steps'", f["decay_steps"])
    for k in ("init_value", "peak_value", "end_value"):
        v.check_finite(f"cosine_kwargs {k!r}", f[k])
    v.check_range("cosine_kwargs 'exponent'", f["exponent"], low=0.0, low_open=True)
    shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in f.values()))
    if len(shape) > 1 or (shape and shape[0] == 0):
        raise ValueError(f"cosine_kwargs must hold one entry per cycle, got shape {shape}.")
    n = shape[0] if shape else 1
    c = {k: jnp.broadcast_to(jnp.asarray(x), (n,)) for k, x in f.items()}
    w, d = v.concrete_value(c["warmup_steps"]), v.concrete_value(c["decay_steps"])
    if w is not None and d is not None and bool(np.any(w > d)):
        i = int(np.argmax(w > d))
        raise ValueError(
            f"cosine_kwargs[{i}]: decay_steps must be >= warmup_steps, "
            f"got decay_steps={int(d[i])} < warmup_steps={int(w[i])}."
        )
    length = c["decay_steps"]
    warm = jnp.minimum(c["warmup_steps"], length)
    init, peak, end = (c[k].astype(jnp.float32) for k in ("init_value", "peak_value", "end_value"))

    def interleave(a: jax.Array, b: jax.Array, last: ArrayLike) -> jax.Array:
        pairs = jnp.stack([a, b], axis=1).reshape(-1)
        return jnp.concatenate([pairs, jnp.reshape(jnp.asarray(last, pairs.dtype), (1,))])

    # Each cycle: a linear warmup, then a cosine decay with that cycle's exponent; then hold.
    return _engine.assemble_repeating(
        interleave(warm, length - warm, 0),
        interleave(init, peak, end[-1]),
        interleave(peak, end, end[-1]),
        [_build.power_in(), _build.half_cosine(c["exponent"].astype(jnp.float32))],
        _build.constant_shape(),
    )


def join_schedules(
    schedules: Sequence[_combine.ScheduleLike], boundaries: Sequence[ArrayLike] | jax.Array
) -> Schedule:
    """optax's ``join_schedules``: piece ``i`` runs from ``boundaries[i-1]`` on its own clock.

    Follows optax's convention (this module is the home of the optax drop-ins, also re-exported
    at the top level); the native equivalent is :func:`optax_warmup.join`.

    ``schedules[i](count - boundaries[i-1])`` for
    ``boundaries[i-1] <= count < boundaries[i]``. Joining the library's own
    schedules merges their phases (one phase lookup, O(1) or O(log N)); any other
    callable, optax's included, is evaluated per piece as optax does.

    Differences from optax: unsorted or negative boundaries, and a number of
    boundaries other than ``len(schedules) - 1``, raise ``ValueError`` (optax
    silently ignores the extra entries or lets a later boundary override an
    earlier one); traced boundaries are made non-decreasing. At negative
    counts the first piece is evaluated at 0 (optax passes the negative count).

    Args:
      schedules: the pieces (schedules, functions or numbers).
      boundaries: ``len(schedules) - 1`` sorted step counts.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> up, down = ow.linear_schedule(0.0, 1.0, 2), ow.linear_schedule(1.0, 0.0, 2)
      >>> s = ow.join_schedules([up, down], [2])
      >>> [float(s(c)) for c in range(5)]
      [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    return _join.join(schedules, boundaries)
