"""The phase engine every schedule in the library is built on.

A :class:`PhaseSchedule` is a sequence of phases stored as stacked arrays.
Phase ``i`` occupies ``spans[i]`` steps and moves from ``starts[i]`` to
``ends[i]`` with a shape (``kinds[i]``) over ``lengths[i]`` steps of progress.
Optionally the phases from ``cycle_start`` on repeat as cycles, each cycle
``cycle_mul`` times longer than the one before and its flagged values scaled
by ``cycle_decay`` per cycle, for ``num_cycles`` cycles.

Evaluation finds the phase by ``searchsorted`` over the cumulative spans and
the cycle by closed-form integer (or geometric) arithmetic, so the number of
operations does not depend on the number of phases or cycles. Every array may
be traced: a schedule is a pytree whose leaves are its arrays, so it can be
passed through ``jit`` and ``vmap`` as an argument, and joined with another by
concatenating phases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v


def value_dtypes(dtype: Any) -> tuple[jnp.dtype, jnp.dtype]:
    """The (compute, output) dtypes for a requested output ``dtype``.

    Schedules compute in float32 (float64 when asked for and x64 is on) and
    return float32 unless the user asks for another dtype.
    """
    out = jnp.dtype(jnp.float32 if dtype is None else dtype)
    if not jnp.issubdtype(out, jnp.floating):
        raise ValueError(f"dtype must be a floating dtype, got {dtype!r}.")
    if out == jnp.float64 and not v.x64_enabled():
        out = jnp.dtype(jnp.float32)
    compute = jnp.dtype(jnp.float64) if out == jnp.float64 else jnp.dtype(jnp.float32)
    return compute, out


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase before stacking: ``span`` steps from ``start`` to ``end``.

    Attributes:
      span: steps the phase occupies (0 skips it).
      start: value at the start of the phase.
      end: value the shape aims at (reached at ``length`` for closed shapes).
      shape: the resolved shape.
      length: steps of progress (``p = (t + offset) / length``); ``span`` by default.
      offset: steps added to the time into the phase before the shape sees it
        (1 for a warmup that wastes no update; fractional for peers whose phase
        boundaries fall between steps).
      scale_start, scale_end: exponent of ``cycle_decay`` applied to ``start``
        and ``end`` in cycle ``i`` (``cycle_decay ** (i * scale)``).
    """

    span: ArrayLike
    start: ArrayLike
    end: ArrayLike
    shape: _shapes.ResolvedShape = _shapes.LINEAR
    length: ArrayLike | None = None
    offset: ArrayLike = 0
    scale_start: ArrayLike = 0.0
    scale_end: ArrayLike = 0.0


DATA_FIELDS = (
    "spans",
    "lengths",
    "offsets",
    "starts",
    "ends",
    "params",
    "cycle_scale",
    "num_cycles",
    "cycle_mul",
    "cycle_decay",
)
META_FIELDS = ("kinds", "cycle_start", "custom_fns", "dtype", "warped")


@dataclasses.dataclass(frozen=True, eq=False)
class PhaseSchedule:
    """A schedule made of phases; call it with a step count to get the value.

    Build one with the library's schedule functions (``warmup_schedule``,
    ``warmup_cosine``, ``join``...) or with :func:`from_phases`. It is a pytree:
    it can be an argument of ``jax.jit`` / ``jax.vmap`` (its arrays are leaves,
    its phase shapes are static).

    Counts below zero give the value at 0; counts past the last phase continue
    the last phase (closed shapes hold their end value, open ones such as
    inverse-sqrt keep decaying). Float counts are floored.

    Schedules compare and hash by identity (their leaves are arrays), so
    ``jax.jit(schedule)`` works like jitting any function.
    """

    spans: jax.Array
    lengths: jax.Array
    offsets: jax.Array
    starts: jax.Array
    ends: jax.Array
    params: jax.Array
    cycle_scale: jax.Array
    num_cycles: jax.Array
    cycle_mul: jax.Array
    cycle_decay: jax.Array
    kinds: tuple[int, ...]
    cycle_start: int | None
    custom_fns: tuple[_shapes.ShapeFn, ...]
    dtype: str
    # Whether any phase may warp its progress (timm's k-decay, shape parameter
    # ``d``). Static, so ordinary schedules skip the warp's transcendentals;
    # True whenever the parameters are traced at construction.
    warped: bool = True

    @property
    def num_phases(self) -> int:
        return len(self.kinds)

    @property
    def is_cyclic(self) -> bool:
        return self.cycle_start is not None

    def total_steps(self) -> jax.Array:
        """Sum of the phase spans (one cycle for the cyclic part)."""
        return jnp.sum(self.spans)

    def __call__(self, count: ArrayLike) -> jax.Array:
        # One compiled program per schedule structure: eager calls compile once
        # instead of op by op; inside an outer jit this inlines.
        return _evaluate_jit(self, count)


jax.tree_util.register_dataclass(
    PhaseSchedule, data_fields=list(DATA_FIELDS), meta_fields=list(META_FIELDS)
)


def from_phases(
    phases: Sequence[Phase],
    *,
    cycle_start: int | None = None,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    dtype: Any = None,
) -> PhaseSchedule:
    """Stack phases into a :class:`PhaseSchedule` (see :func:`from_arrays`).

    Args:
      phases: the phases in order; at least one.
      cycle_start: index of the first phase of the repeated cycle body, or
        ``None`` for no cycles. The body must have a positive total span.
      num_cycles: how many cycles run before the value holds (``None``: no limit).
      cycle_mul: each cycle is ``cycle_mul`` times longer than the previous (>= 1).
      cycle_decay: per-cycle multiplier of the values flagged in each phase.
      dtype: the output dtype (float32 by default).

    Returns:
      The schedule.
    """
    if len(phases) == 0:
        raise ValueError("phases must hold at least one phase, got none.")
    value_dtypes(dtype)
    for ph in phases:
        v.check_duration("span", ph.span)
        v.check_finite("start value", ph.start)
        v.check_finite("end value", ph.end)
    check_cycles(num_cycles, cycle_mul, cycle_decay)
    return stack_phases(
        phases,
        cycle_start=cycle_start,
        num_cycles=num_cycles,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        dtype=dtype,
    )


def check_cycles(
    num_cycles: ArrayLike | None, cycle_mul: ArrayLike, cycle_decay: ArrayLike
) -> None:
    """Validate the cycle settings (the public builders call it once, before stacking).

    Traced values are clamped instead: ``num_cycles`` to at least 1 (rounded),
    ``cycle_mul`` to at least 1, ``cycle_decay`` to at least 0.
    """
    if num_cycles is not None:
        v.check_range("num_cycles", num_cycles, low=1)
        v.check_duration("num_cycles", num_cycles)
    v.check_range("cycle_mul", cycle_mul, low=1.0)
    v.check_range("cycle_decay", cycle_decay, low=0.0)


def stack_phases(
    phases: Sequence[Phase],
    *,
    cycle_start: int | None = None,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    dtype: Any = None,
) -> PhaseSchedule:
    """:func:`from_phases` for phases already validated (the library's own builders).

    Spans are converted, not checked: traced ones are rounded and clamped at 0.
    """
    compute, _ = value_dtypes(dtype)
    kinds: list[int] = []
    fns: list[_shapes.ShapeFn] = []
    for ph in phases:
        kind = ph.shape.kind
        if kind >= _shapes.NUM_BUILTIN:
            assert ph.shape.fn is not None
            if ph.shape.fn not in fns:
                fns.append(ph.shape.fn)
            kind = _shapes.NUM_BUILTIN + fns.index(ph.shape.fn)
        kinds.append(kind)

    def stack(values: list[ArrayLike], dt: Any) -> jax.Array:
        return jnp.stack([jnp.asarray(x, dtype=dt) for x in values])

    spans = [v.duration_array(ph.span) for ph in phases]  # traced spans: rounded
    return assemble_arrays(
        spans=jnp.stack(spans),
        starts=stack([ph.start for ph in phases], compute),
        ends=stack([ph.end for ph in phases], compute),
        kinds=tuple(kinds),
        params=jnp.stack([stack(list(ph.shape.params), compute) for ph in phases]),
        lengths=stack(
            [
                span if ph.length is None else ph.length
                for span, ph in zip(spans, phases, strict=True)
            ],
            compute,
        ),
        offsets=stack([ph.offset for ph in phases], compute),
        cycle_scale=jnp.stack([stack([ph.scale_start, ph.scale_end], compute) for ph in phases]),
        custom_fns=tuple(fns),
        cycle_start=cycle_start,
        num_cycles=num_cycles,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        dtype=dtype,
    )


def from_arrays(
    spans: ArrayLike,
    starts: ArrayLike,
    ends: ArrayLike,
    *,
    kinds: int | tuple[int, ...] = _shapes.POWER_IN,
    params: ArrayLike | None = None,
    lengths: ArrayLike | None = None,
    offsets: ArrayLike | None = None,
    cycle_scale: ArrayLike | None = None,
    custom_fns: tuple[_shapes.ShapeFn, ...] = (),
    cycle_start: int | None = None,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    dtype: Any = None,
) -> PhaseSchedule:
    """Build a :class:`PhaseSchedule` from stacked phase arrays (no per-phase Python work).

    Args:
      spans: ``(N,)`` steps each phase occupies.
      starts: ``(N,)`` start values.
      ends: ``(N,)`` end values.
      kinds: a shape id (from ``_shapes``) for all phases, or one per phase.
      params: ``(N, 4)`` (or broadcastable) shape parameters; default power 1.
      lengths: ``(N,)`` progress lengths; default ``spans``.
      offsets: ``(N,)`` steps added to the time into each phase; default 0.
      cycle_scale: ``(N, 2)`` exponents of ``cycle_decay`` for start and end values.
      custom_fns: user shape functions, referenced by ids from ``NUM_BUILTIN``.
      cycle_start, num_cycles, cycle_mul, cycle_decay, dtype: see :func:`from_phases`.

    Returns:
      The schedule.
    """
    v.check_duration("spans", spans)
    v.check_finite("starts", starts)
    v.check_finite("ends", ends)
    check_cycles(num_cycles, cycle_mul, cycle_decay)
    return assemble_arrays(
        spans,
        starts,
        ends,
        kinds=kinds,
        params=params,
        lengths=lengths,
        offsets=offsets,
        cycle_scale=cycle_scale,
        custom_fns=custom_fns,
        cycle_start=cycle_start,
        num_cycles=num_cycles,
        cycle_mul=cycle_mul,
        cycle_decay=cycle_decay,
        dtype=dtype,
    )


def assemble_arrays(
    spans: ArrayLike,
    starts: ArrayLike,
    ends: ArrayLike,
    *,
    kinds: int | tuple[int, ...] = _shapes.POWER_IN,
    params: ArrayLike | None = None,
    lengths: ArrayLike | None = None,
    offsets: ArrayLike | None = None,
    cycle_scale: ArrayLike | None = None,
    custom_fns: tuple[_shapes.ShapeFn, ...] = (),
    cycle_start: int | None = None,
    num_cycles: ArrayLike | None = None,
    cycle_mul: ArrayLike = 1.0,
    cycle_decay: ArrayLike = 1.0,
    dtype: Any = None,
) -> PhaseSchedule:
    """:func:`from_arrays` for values already validated (the library's own builders).

    Only the structure is checked here (the number of phases, ``cycle_start``,
    the total span); traced values are clamped as documented in
    :func:`check_cycles`.
    """
    compute, out = value_dtypes(dtype)
    idt = v.index_dtype()
    spans_a = v.duration_array(spans).reshape(-1).astype(idt)
    n = spans_a.shape[0]
    if n == 0:
        raise ValueError("phases must hold at least one phase, got none.")
    starts_a = jnp.broadcast_to(jnp.asarray(starts, compute), (n,))
    ends_a = jnp.broadcast_to(jnp.asarray(ends, compute), (n,))
    kinds_t = (int(kinds),) * n if isinstance(kinds, int) else tuple(int(k) for k in kinds)
    if len(kinds_t) != n:
        raise ValueError(f"kinds must hold one shape per phase ({n}), got {len(kinds_t)}.")
    if params is None:
        params = jnp.asarray([1.0, 0.0, 0.0, 0.0], compute)
    params_a = jnp.broadcast_to(jnp.asarray(params, compute), (n, _shapes.NUM_PARAMS))
    lengths_a = spans_a.astype(compute) if lengths is None else jnp.asarray(lengths, compute)
    lengths_a = jnp.maximum(jnp.broadcast_to(lengths_a, (n,)), 0)
    offsets_a = jnp.broadcast_to(jnp.asarray(0.0 if offsets is None else offsets, compute), (n,))
    scale_a = jnp.broadcast_to(
        jnp.asarray(0.0 if cycle_scale is None else cycle_scale, compute), (n, 2)
    )
    if cycle_start is not None:
        cycle_start = v.check_int_arg("cycle_start", cycle_start)
        if cycle_start >= n:
            raise ValueError(f"cycle_start must index a phase (< {n}), got {cycle_start}.")
        body = v.concrete_value(spans_a[cycle_start:])
        if body is not None and int(body.sum()) <= 0:
            raise ValueError("the repeated cycle must span at least one step, got 0.")
    if num_cycles is None:
        n_cycles = jnp.asarray(np.iinfo(idt).max, dtype=idt)
    else:
        n_cycles = jnp.maximum(v.duration_array(num_cycles), 1)
    _check_total(spans_a)
    return PhaseSchedule(
        spans=spans_a,
        lengths=lengths_a,
        offsets=offsets_a,
        starts=starts_a,
        ends=ends_a,
        params=params_a,
        cycle_scale=scale_a,
        num_cycles=n_cycles,
        cycle_mul=jnp.maximum(jnp.asarray(cycle_mul, compute), 1.0),
        cycle_decay=jnp.maximum(jnp.asarray(cycle_decay, compute), 0.0),
        kinds=kinds_t,
        cycle_start=cycle_start,
        custom_fns=tuple(custom_fns),
        dtype=out.name,
        warped=_may_warp(params_a),
    )


def _may_warp(params: jax.Array) -> bool:
    """Whether a progress warp ``p -> p**d`` can apply (some ``d > 0``, ``d != 1``)."""
    c = v.concrete_value(params)
    if c is None:
        return True
    d = c[..., _shapes.NUM_PARAMS - 1]
    return bool(np.any((d > 0) & (d != 1)))


def _check_total(spans: jax.Array) -> None:
    s = v.concrete_value(spans)
    if s is None:
        return
    total = int(np.asarray(s, dtype=np.int64).sum())
    limit = int(np.iinfo(v.index_dtype()).max)
    if total > limit:
        raise ValueError(
            f"the phases span {total} steps in all, beyond the {v.index_dtype().name} range; "
            "enable 64-bit counts with jax.config.update('jax_enable_x64', True)."
        )


def as_count(count: ArrayLike) -> jax.Array:
    """A count as a non-negative index-dtype array (floats floored, negatives at 0)."""
    idt = v.index_dtype()
    t = jnp.asarray(count)
    if jnp.issubdtype(t.dtype, jnp.floating):
        hi = float(np.iinfo(idt).max)
        t = jnp.clip(jnp.floor(t), 0, hi)
    elif t.dtype == jnp.bool_:
        t = t.astype(idt)
    elif (
        jnp.issubdtype(t.dtype, jnp.unsignedinteger) and jnp.iinfo(t.dtype).max > np.iinfo(idt).max
    ):
        t = jnp.minimum(t, np.iinfo(idt).max)  # saturate instead of wrapping to negative
    return jnp.maximum(t.astype(idt), 0)


_as_count = as_count


def _cycle_position(
    d: jax.Array, period: jax.Array, mul: jax.Array, limit: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Cycle index and position in cycle-body coordinates for ``d >= 0`` steps.

    Cycle ``i`` lasts ``period * mul**i`` steps. Returns ``(i, u_int, u_frac, r,
    scale)``: the position scaled back to the first cycle's length, as an
    integer part and a fraction; and the steps since the cycle began ``r`` with
    the cycle's stretch ``scale = mul**i``, from which progress is computed
    without the rounding of the scaled position (exact when the cycle
    boundaries are whole steps, as with a whole ``mul``). Past the last cycle,
    ``i = limit - 1`` and the position is the end of the body (``scale = 1``).
    """
    idt = d.dtype
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    period_s = jnp.maximum(period, 1)
    # mul == 1: exact integer arithmetic.
    i_lin = d // period_s
    r_lin = d - i_lin * period_s
    # mul > 1: geometric lengths, float arithmetic with an integer correction.
    geo = mul > 1
    mul_s = jnp.where(geo, mul, 2.0).astype(fdt)
    log_m = jnp.log(mul_s)
    pf = period_s.astype(fdt)
    df = d.astype(fdt)
    # With a whole mul, powers and cycle boundaries are whole numbers: snap them.
    whole = mul_s == jnp.round(mul_s)

    def snap(x: jax.Array) -> jax.Array:
        return jnp.where(whole, jnp.round(x), x)

    def grown(i: jax.Array) -> jax.Array:
        # mul**i - 1: expm1 while small (mul near 1); past that ``pow``, whose
        # rounding does not grow with i as ``exp(i * log(mul))``'s does.
        x = i * log_m
        return jnp.where(x < 0.5, jnp.expm1(jnp.minimum(x, 0.5)), mul_s**i - 1)

    def cycle_begin(i: jax.Array) -> jax.Array:
        return snap(pf * grown(i) / (mul_s - 1))

    i_geo = jnp.floor(jnp.log1p(df * (mul_s - 1) / pf) / log_m)
    i_geo = jnp.where(df < cycle_begin(i_geo), i_geo - 1, i_geo)
    i_geo = jnp.where(df >= cycle_begin(i_geo + 1), i_geo + 1, i_geo)
    i_geo = jnp.maximum(i_geo, 0)
    scale_geo = snap(mul_s**i_geo)
    r_geo = df - cycle_begin(i_geo)
    u_geo = jnp.clip(r_geo / scale_geo, 0, pf)
    u_geo_int = jnp.floor(u_geo)

    hi = float(np.iinfo(idt).max)
    i = jnp.where(geo, jnp.clip(i_geo, 0, hi).astype(idt), i_lin)
    u_int = jnp.where(geo, u_geo_int.astype(idt), r_lin)
    u_frac = jnp.where(geo, u_geo - u_geo_int, 0.0)
    r = jnp.where(geo, r_geo, r_lin.astype(fdt))
    scale = jnp.where(geo, scale_geo, 1.0)
    done = i >= limit
    i = jnp.where(done, limit - 1, i)
    u_int = jnp.where(done, period, u_int)
    u_frac = jnp.where(done, 0.0, u_frac)
    r = jnp.where(done, pf, r)
    scale = jnp.where(done, 1.0, scale)
    return i, u_int, u_frac, r, scale


# Up to this many (count, phase) comparisons, the phase is found by comparing
# the count with every boundary (no loop); beyond, by binary search. Both cost
# the same number of operations whatever the number of phases.
_COMPARE_ALL_LIMIT = 1 << 16


def _phase_index(ends: jax.Array, u: jax.Array) -> jax.Array:
    """Index of the first phase whose end is past ``u`` (``searchsorted``, side right)."""
    if u.size * ends.shape[0] <= _COMPARE_ALL_LIMIT:
        return jnp.sum(ends <= u[..., None], axis=-1, dtype=ends.dtype)
    return jnp.searchsorted(ends, u, side="right")


def evaluate(schedule: PhaseSchedule, count: ArrayLike) -> jax.Array:
    """Evaluate ``schedule`` at ``count`` (any shape of integer or float counts)."""
    s = schedule
    compute, out = value_dtypes(s.dtype)
    t = _as_count(count)
    idt = t.dtype
    spans = s.spans.astype(idt)
    ends_cum = jnp.cumsum(spans)
    begins = ends_cum - spans
    n = len(s.kinds)
    u_frac: jax.Array = jnp.zeros(t.shape, compute)
    cycle = None
    if s.cycle_start is None:
        u = t
    else:
        prefix = begins[s.cycle_start]
        period = ends_cum[-1] - prefix
        d = t - prefix
        in_body = d >= 0
        i, u_body, frac, r, stretch = _cycle_position(
            jnp.maximum(d, 0), period, s.cycle_mul, s.num_cycles.astype(idt)
        )
        u = jnp.where(in_body, prefix + u_body, t)
        u_frac = jnp.where(in_body, frac, 0.0).astype(compute)
        cycle = jnp.where(in_body, i, 0)
    idx = jnp.minimum(_phase_index(ends_cum, u), n - 1)
    k = u - begins[idx]
    offset = s.offsets[idx]
    steps_in = k.astype(compute) + offset + u_frac
    length = s.lengths[idx]
    # Steps left to the end of the progress length. Past 2**24 steps into a phase
    # (float32), ``length - steps_in`` cannot resolve the last steps of the phase
    # (the float spacing near 2e9 is 128), so the integer part is taken first.
    span = spans[idx]
    left_int = (span - k).astype(compute) + (length - span.astype(compute) - offset) - u_frac
    exact = k < 2 ** (jnp.finfo(compute).nmant + 1)
    steps_left = jnp.where(exact, length - steps_in, left_int)
    # In a stretched cycle (mul > 1) the progress comes from real steps: time and
    # length times the stretch, from the exact steps since the cycle began.
    progress = None
    if cycle is not None:
        stretched = in_body & (stretch != 1)
        st = jnp.where(stretched, stretch, 1.0).astype(compute)
        rel = (begins[idx] - prefix).astype(compute)
        t_real = r.astype(compute) - rel * st + offset * st
        len_real = length * st
        progress = (
            jnp.where(stretched, t_real, steps_in),
            jnp.where(stretched, len_real, length),
            jnp.where(stretched, len_real - t_real, steps_left),
        )
    start = s.starts[idx]
    end = s.ends[idx]
    params = s.params[idx]
    if cycle is not None:
        log_decay = jnp.log(jnp.maximum(s.cycle_decay, 1e-30))
        zero_decay = s.cycle_decay <= 0
        c = cycle.astype(compute)
        scale = s.cycle_scale[idx]

        def decayed(x: jax.Array, k: jax.Array) -> jax.Array:
            e = c * k
            factor = jnp.where(zero_decay, jnp.where(e > 0, 0.0, 1.0), jnp.exp(e * log_decay))
            return x * factor

        start = decayed(start, scale[..., 0])
        end = decayed(end, scale[..., 1])
    distinct = sorted(set(s.kinds))

    def shape_value(kind: int) -> jax.Array:
        fn = s.custom_fns[kind - _shapes.NUM_BUILTIN] if kind >= _shapes.NUM_BUILTIN else None
        return _shapes.evaluate(
            kind, steps_in, length, start, end, params, fn, steps_left, progress, warp=s.warped
        )

    if len(distinct) == 1:
        value = shape_value(distinct[0])
    else:
        kind_at = jnp.asarray(np.asarray(s.kinds, dtype=np.int32))[idx]
        value = shape_value(distinct[0])
        for kind in distinct[1:]:
            value = jnp.where(kind_at == kind, shape_value(kind), value)
    return value.astype(out)


def concatenate(pieces: Sequence[PhaseSchedule], dtype: Any = None) -> PhaseSchedule:
    """Concatenate phase schedules; only the last one may be cyclic."""
    for p in pieces[:-1]:
        if p.is_cyclic:
            raise ValueError("only the last schedule of a concatenation may be cyclic.")
    compute, out = value_dtypes(dtype if dtype is not None else pieces[0].dtype)
    idt = v.index_dtype()
    kinds: list[int] = []
    fns: list[_shapes.ShapeFn] = []
    cycle_start = None
    first = 0
    for p in pieces:
        remap = {}
        for j, fn in enumerate(p.custom_fns):
            if fn not in fns:
                fns.append(fn)
            remap[_shapes.NUM_BUILTIN + j] = _shapes.NUM_BUILTIN + fns.index(fn)
        kinds.extend(remap.get(k, k) for k in p.kinds)
        if p.cycle_start is not None:
            cycle_start = first + p.cycle_start
        first += p.num_phases
    last = pieces[-1]

    def cat(name: str, dt: Any) -> jax.Array:
        parts = [getattr(p, name) for p in pieces]
        if any(v.is_traced(x) for x in parts):
            return jnp.concatenate([jnp.asarray(x, dtype=dt) for x in parts])
        # Concrete pieces are joined on the host: no program compiled per piece count.
        return jnp.asarray(np.concatenate([np.asarray(x) for x in parts]).astype(dt))

    return PhaseSchedule(
        spans=cat("spans", idt),
        lengths=cat("lengths", compute),
        offsets=cat("offsets", compute),
        starts=cat("starts", compute),
        ends=cat("ends", compute),
        params=cat("params", compute),
        cycle_scale=cat("cycle_scale", compute),
        num_cycles=last.num_cycles,
        cycle_mul=last.cycle_mul.astype(compute),
        cycle_decay=last.cycle_decay.astype(compute),
        kinds=tuple(kinds),
        cycle_start=cycle_start,
        custom_fns=tuple(fns),
        dtype=out.name,
        warped=any(p.warped for p in pieces),
    )


def place_pieces(
    schedule: PhaseSchedule,
    sizes: Sequence[int],
    skips: jax.Array,
    slots: jax.Array,
) -> PhaseSchedule:
    """Fit concatenated pieces into their slots of a join, in one vectorised pass.

    ``schedule`` is the concatenation of pieces of ``sizes[i]`` phases. Piece
    ``i`` is first advanced by ``skips[i]`` steps (``piece(t + skip)``), then,
    for every piece but the last, made to occupy exactly ``slots[i]`` steps:
    phases past the slot get span 0, the phase that reaches it is cut, and the
    piece's final phase is stretched when the piece is shorter (holding, or
    continuing an open shape). The cost does not depend on the number of pieces.
    """
    idt = v.index_dtype()
    # Concrete inputs are placed on the host with NumPy (the same code): no
    # program is compiled for each new number of pieces.
    concrete = not any(v.is_traced(x) for x in (schedule.spans, schedule.offsets, skips, slots))
    xp: Any = np if concrete else jnp
    sizes_np = np.asarray(sizes, dtype=np.int64)
    num = len(sizes_np)
    piece = np.repeat(np.arange(num), sizes_np)
    first = np.cumsum(sizes_np) - sizes_np
    is_first = np.zeros(piece.shape, bool)
    is_first[first] = True
    is_last = np.zeros(piece.shape, bool)
    is_last[first + sizes_np - 1] = True
    fitted = piece < num - 1
    spans = xp.asarray(schedule.spans).astype(idt)
    cum = xp.cumsum(spans)
    base = (cum - spans)[first][piece]
    local_end = cum - base
    local_begin = local_end - spans
    skip = xp.maximum(xp.asarray(skips).astype(idt), 0)[piece]
    offsets = xp.asarray(schedule.offsets)
    moved = xp.maximum(skip - local_begin, 0).astype(offsets.dtype)
    local_end = xp.maximum(local_end - skip, 0)
    slot = xp.maximum(xp.asarray(slots).astype(idt), 0)[piece]
    local_end = xp.where(fitted, xp.minimum(local_end, slot), local_end)
    local_end = xp.where(fitted & is_last, slot, local_end)
    previous = xp.where(is_first, 0, xp.roll(local_end, 1))
    return dataclasses.replace(
        schedule,
        spans=jnp.asarray(local_end - previous),
        offsets=jnp.asarray(offsets + moved),
    )


_evaluate_jit = jax.jit(evaluate)
