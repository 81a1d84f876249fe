"""The phase engine every schedule in the library is built on.

A :class:`PhaseSchedule` is a sequence of phases stored as stacked arrays.
Phase ``i`` occupies ``spans[i]`` steps and moves from ``starts[i]`` to
``ends[i]`` with a shape (``kinds[i]``) over ``lengths[i]`` steps of progress.
Optionally the phases from ``cycle_start`` on repeat as cycles, each cycle
``cycle_mul`` times longer than the one before and its flagged values scaled
by ``cycle_decay`` per cycle, for ``num_cycles`` cycles.

The phase boundaries (cumulative spans), the cycle prefix and period and,
for a concrete ``cycle_mul > 1``, a table of cycle starts are computed once,
when the schedule is built (:func:`assemble`, the one constructor every path
goes through), and stored as leaves. Evaluation compares the count with the
boundaries and selects (up to a few phases: O(1), no gathers) or runs an
unrolled binary search over them (O(log N) steps, no loop, no prefix sums);
the cycle comes from one integer division (``cycle_mul = 1``) or a binary
search in the cycle table (exact, in integers). Every array may be traced: a
schedule is a pytree whose leaves are its arrays, so it can be passed through
``jit`` and ``vmap`` as an argument, and joined with another by concatenating
phases.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
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


# The arrays that define a schedule (what a config writes, what a user replaces) ...
PHASE_FIELDS = (
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
# ... and the tables derived from them once, at construction (see ``assemble``).
DERIVED_FIELDS = (
    "bounds",
    "begins",
    "cycle_prefix",
    "cycle_period",
    "cycle_firsts",
    "cycle_lags",
    "cycle_stretch",
    "phase_buckets",
    "bucket_shift",
)
DATA_FIELDS = PHASE_FIELDS + DERIVED_FIELDS
META_FIELDS = (
    "kinds",
    "cycle_start",
    "custom_fns",
    "dtype",
    "warped",
    "static_power",
    "bucket_probes",
)


@dataclasses.dataclass(frozen=True, eq=False)
class PhaseSchedule:
    """A schedule made of phases; call it with a step count to get the value.

    Build one with the library's schedule functions (``warmup_schedule``,
    ``warmup_cosine``, ``join``...) or with :func:`from_phases`. It is a pytree:
    it can be an argument of ``jax.jit`` / ``jax.vmap`` (its arrays are leaves,
    its phase shapes are static).

    Counts below zero give the value at 0; counts past the last phase continue
    the last phase (closed shapes hold their end value, open ones such as
    inverse-sqrt keep decaying). Float counts are floored. Integer counts of
    any dtype, and Python integers of any size, are saturated into
    ``[0, max]`` of the index dtype (int32, or int64 with x64) before they are
    converted, so a count never wraps around: ``np.int64(2**32 + 5)`` without
    x64 is the count ``2**31 - 1``. Phase boundaries are sums that saturate at
    the same maximum (a traced span near it cannot overflow them).

    The phase boundaries (``bounds``, ``begins``), the cycle prefix and period
    and, for a concrete ``cycle_mul > 1``, the table of cycle starts are
    computed once, when the schedule is built (:func:`assemble`), and stored
    as leaves. A call finds the phase by comparing with the boundaries for up
    to a few phases; beyond, from a bucket table over the steps (O(1): one
    lookup and at most ``bucket_probes`` comparisons, built when the spans are
    concrete and evenly enough spread) or an unrolled binary search (O(log N)); the
    cycle by integer division (``cycle_mul = 1``) or a binary search in the
    table (O(log cycles)); it never sums the spans again. Build changed
    schedules with :func:`assemble` or :func:`replace_arrays`, not
    ``dataclasses.replace`` (which would keep stale boundaries).

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
    # Derived at construction (see :func:`assemble`).
    bounds: jax.Array  # (N,) end of each phase: saturating cumulative spans
    begins: jax.Array  # (N,) start of each phase
    cycle_prefix: jax.Array  # () first step of the cycle body (0 if not cyclic)
    cycle_period: jax.Array  # () steps of the first cycle (0 if not cyclic)
    cycle_firsts: jax.Array  # (K,) first integer count of each cycle, or (0,)
    cycle_lags: jax.Array  # (K,) first count - exact (real) cycle start, in [0, 1)
    cycle_stretch: jax.Array  # (K,) cycle_mul**i
    phase_buckets: jax.Array  # (M + 1,) phases ended by the start of each bucket, or (0,)
    bucket_shift: jax.Array  # () log2 of the steps per bucket
    kinds: tuple[int, ...]
    cycle_start: int | None
    custom_fns: tuple[_shapes.ShapeFn, ...]
    dtype: str
    # Whether any phase may warp its progress (timm's k-decay, shape parameter
    # ``d``). Static, so ordinary schedules skip the warp's transcendentals;
    # True whenever the parameters are traced at construction.
    warped: bool = True
    # The exponent every power / cosine phase has, when it is the same whole
    # number 1..4 known at construction (0 otherwise): linear and plain cosine
    # phases (1) skip the powers, and 2..4 take integer powers, as optax does.
    static_power: int = 0
    # Boundaries inside one bucket at most (0: no buckets, binary search).
    bucket_probes: int = 0

    @property
    def num_phases(self) -> int:
        return len(self.kinds)

    @property
    def is_cyclic(self) -> bool:
        return self.cycle_start is not None

    def total_steps(self) -> jax.Array:
        """Sum of the phase spans (one cycle for the cyclic part), saturating."""
        return self.bounds[-1]

    def __call__(self, count: ArrayLike) -> jax.Array:
        # One compiled program per schedule structure: eager calls compile once
        # instead of op by op; inside an outer jit this inlines.
        return _evaluate_jit(self, _saturate_host(count))


def computed_once(value: ArrayLike, count: ArrayLike) -> jax.Array:
    """``value`` itself, computed once per step instead of inside every consumer.

    XLA fuses cheap scalar code into each elementwise consumer, so a learning
    rate read by every leaf of an update would be recomputed in each per-leaf
    fusion (a bigger program, slower to compile). It does not copy a division
    (an expensive op) into several consumers: dividing by a 1 that depends on
    the runtime ``count`` (so it cannot be folded) makes XLA compute the scalar
    once and every leaf read it. ``jax.lax.optimization_barrier`` does not
    help: XLA removes it before fusion on CPU. Exact (``x / 1 == x``);
    differentiable; measured by ``python -m benchmarks --only step`` (c).
    ``count`` is the step's count; non-scalar or non-float values pass unchanged.
    """
    value = jnp.asarray(value)
    c = jnp.asarray(count)
    if value.ndim != 0 or not jnp.issubdtype(value.dtype, jnp.floating):
        return value
    if not jnp.issubdtype(c.dtype, jnp.integer):
        c = c.astype(jnp.int32)
    # ``c | 1`` is never 0, but XLA does not reason about bits, so it cannot fold it.
    one = jnp.where((c | 1) != 0, 1, 2).astype(value.dtype)
    return value / one


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
    for name, x in (("params", params), ("lengths", lengths), ("offsets", offsets)):
        if x is not None:
            v.check_finite(name, x)
    if cycle_scale is not None:
        v.check_finite("cycle_scale", cycle_scale)
    _check_kinds(kinds, len(custom_fns))
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


def assemble_repeating(
    spans: ArrayLike,
    starts: ArrayLike,
    ends: ArrayLike,
    pattern: Sequence[_shapes.ResolvedShape],
    last: _shapes.ResolvedShape,
    *,
    dtype: Any = None,
) -> PhaseSchedule:
    """Stacked phases whose shapes repeat, from typed shapes (``engine/build.py``).

    With ``P = len(pattern)`` and ``len(spans) = n P + 1``, phase ``k P + j``
    has the shape ``pattern[j]`` and the last phase the shape ``last``. A
    shape's parameters may be arrays with one entry per repeat ``k`` (e.g. a
    cosine exponent per cycle), so ``n`` repeats build as one set of arrays
    whatever ``n``: no per-phase Python work, no shape ids or parameter slots
    written by the caller. Trusts its inputs, as :func:`assemble_arrays`.
    """
    num = int(jnp.shape(spans)[0])
    width = len(pattern)
    if width < 1 or (num - 1) % width:
        raise ValueError(f"{num} phases are not a whole number of {width}-phase repeats plus one.")
    n = (num - 1) // width
    compute, _ = value_dtypes(dtype)
    shapes = [*pattern, last]
    known = [[v.concrete_value(x) for x in shape.params] for shape in shapes]
    # Known parameters are stacked on the host, so that they stay constants under jit
    # (XLA folds them into the shape's formula, e.g. an exponent of 1).
    xp: Any = np if all(c is not None for cols in known for c in cols) else jnp
    dt = np.dtype(compute)

    def slots(params: Sequence[Any], repeats: int) -> Any:
        return xp.stack([xp.broadcast_to(xp.asarray(x, dt), (repeats,)) for x in params], axis=-1)

    body = xp.stack([slots(shape.params, n) for shape in pattern], axis=1)
    body = body.reshape(n * width, _shapes.NUM_PARAMS)
    params = xp.concatenate([body, slots(last.params, 1)])
    if xp is np and bool(np.all(params == params[:1])):
        params = params[0]  # one row, broadcast under jit (as a default would be)
    kinds = tuple(shape.kind for shape in pattern) * n + (last.kind,)
    return assemble_arrays(spans, starts, ends, kinds=kinds, params=params, dtype=dtype)


def _check_kinds(kinds: Any, num_custom: int) -> None:
    """Shape ids must be whole numbers naming a built-in shape or one of the custom functions."""
    ids = kinds if isinstance(kinds, tuple | list) else (kinds,)
    top = _shapes.NUM_BUILTIN + num_custom
    for k in ids:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k < top:
            raise ValueError(
                f"kinds must hold shape ids from 0 to {top - 1} (the engine's "
                f"{_shapes.NUM_BUILTIN} built-in shapes and {num_custom} custom function(s)), "
                f"got {k!r}."
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
    cycle_start = _check_cycle_start(cycle_start, spans_a)
    if num_cycles is None:
        n_cycles = jnp.asarray(np.iinfo(idt).max, dtype=idt)
    else:
        n_cycles = jnp.maximum(v.duration_array(num_cycles), 1)
    _check_total(spans_a)
    return assemble(
        spans=spans_a,
        lengths=lengths_a,
        offsets=offsets_a,
        starts=starts_a,
        ends=ends_a,
        params=params_a,
        cycle_scale=scale_a,
        num_cycles=n_cycles,
        cycle_mul=cycle_mul,
        cycle_decay=jnp.maximum(jnp.asarray(cycle_decay, compute), 0.0),
        kinds=kinds_t,
        cycle_start=cycle_start,
        custom_fns=tuple(custom_fns),
        dtype=out.name,
    )


def _check_cycle_start(cycle_start: int | None, spans: jax.Array) -> int | None:
    """``cycle_start`` as an index of a phase whose cycle spans at least one step."""
    if cycle_start is None:
        return None
    n = spans.shape[0]
    cycle_start = v.check_int_arg("cycle_start", cycle_start)
    if cycle_start >= n:
        raise ValueError(f"cycle_start must index a phase (< {n}), got {cycle_start}.")
    body = v.concrete_value(spans[cycle_start:])
    if body is not None and int(body.sum()) <= 0:
        raise ValueError("the repeated cycle must span at least one step, got 0.")
    return cycle_start


def _may_warp(params: jax.Array) -> bool:
    """Whether a progress warp ``p -> p**d`` can apply (some ``d > 0``, ``d != 1``)."""
    c = v.concrete_value(params)
    if c is None:
        return True
    d = c[..., _shapes.NUM_PARAMS - 1]
    return bool(np.any((d > 0) & (d != 1)))


def _static_power(params: jax.Array, kinds: tuple[int, ...]) -> int:
    """The exponent ``k`` in 1..4 of every power / cosine phase, known at construction, or 0.

    0 when the parameters are traced or the exponents differ or are not whole;
    1 when there is no power / cosine phase.
    """
    c = v.concrete_value(params)
    if c is None:
        return 0
    c = np.broadcast_to(c, (len(kinds), _shapes.NUM_PARAMS))
    powered = np.asarray([k in _shapes.UNIT_POWER_KINDS for k in kinds], bool)
    exps = np.unique(c[powered, 0])
    if exps.size == 0:
        return 1
    if exps.size == 1 and exps[0] in (1.0, 2.0, 3.0, 4.0):
        return int(exps[0])
    return 0


def _check_total(spans: jax.Array) -> None:
    s = v.concrete_value(spans)
    if s is None:
        return
    total = sum(int(x) for x in np.asarray(s).reshape(-1).tolist())  # Python ints: no overflow
    limit = int(np.iinfo(v.index_dtype()).max)
    if total > limit:
        raise ValueError(
            f"the phases span {total} steps in all, beyond the {v.index_dtype().name} range; "
            "enable 64-bit counts with jax.config.update('jax_enable_x64', True)."
        )


def _index_max() -> int:
    return int(np.iinfo(v.index_dtype()).max)


def saturating_add(a: Any, b: Any) -> Any:
    """``a + b`` for non-negative index-dtype integers, saturating at the dtype's maximum."""
    xp: Any = jnp if v.is_traced(a) or v.is_traced(b) else np
    hi = _index_max()
    return xp.where(a > hi - b, hi, a + b)


def _saturating_cumsum(spans: Any) -> jax.Array:
    """Cumulative sums of non-negative spans, saturating at the index maximum."""
    idt = v.index_dtype()
    hi = _index_max()
    c = v.concrete_value(spans)
    if c is not None:
        # Python integers (object arrays) cannot overflow; the host does the work.
        total = np.cumsum(np.asarray(c).astype(object).reshape(-1))
        return jnp.asarray(np.minimum(total, hi).astype(idt))
    # Traced: the integer sums are exact until they pass the maximum, where they
    # wrap (once: negative) or run far past it (the float sums, within their
    # rounding, say so). One cumsum each, so the program does not grow with N.
    x = jnp.maximum(jnp.asarray(spans).astype(idt), 0)
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    ints = jnp.cumsum(x)
    floats = jnp.cumsum(x.astype(fdt))
    slack = 2.0 * x.shape[0] * float(jnp.finfo(fdt).eps)
    past = (floats > float(hi) * (1.0 + slack)) | (ints < 0)
    return jnp.where(past, hi, ints)


# Cycle-start tables longer than this (cycle_mul just above 1 with a short
# first cycle) fall back to the closed-form float arithmetic.
_TABLE_LIMIT = 4096


def _cycle_table(
    period: Any, mul: Any, limit: Any, compute: Any
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Starts of the cycles of a geometric (``mul > 1``) cycle, computed once in float64.

    Cycle ``i`` begins at the real step ``B_i = (1 - mul**i) / (1 - mul) * period``
    (timm's ``CosineLRScheduler`` expression, timm 1.0.31 ``timm/scheduler/cosine_lr.py``);
    an integer count ``t`` lies in the last cycle with ``B_i <= t``. Returns, for
    ``i = 0 .. K-1``, the first integer count of the cycle, ``ceil(B_i)`` or, where
    float64 rounds ``B_i`` across a whole count, the first count the peers' own
    ``floor(log(1 - t / period (1 - mul)) / log(mul))`` puts in cycle ``i`` (exact:
    the comparison is made here in float64, not at evaluation in float32), the lag
    ``max(first - B_i, 0)`` and the stretch ``mul**i``. The table stops at the cycle
    limit or past the index range; empty (shape ``(0,)``) when the period or
    ``mul`` is traced, ``mul <= 1``, or the table would exceed ``_TABLE_LIMIT``.
    """
    idt = v.index_dtype()
    empty = (jnp.zeros((0,), idt), jnp.zeros((0,), compute), jnp.zeros((0,), compute))
    p, m = v.concrete_value(period), v.concrete_value(mul)
    if p is None or m is None or np.ndim(m) != 0 or not float(m) > 1.0 or int(p) <= 0:
        return empty
    lim = v.concrete_value(limit)
    m_f, p_f = float(m), float(int(p))
    hi = _index_max()
    firsts: list[int] = []
    lags: list[float] = []
    stretch: list[float] = []

    def index(t: int) -> int:
        # The peers' cycle of count t: floor(log(1 - t / P (1 - mul)) / log(mul)) (timm's
        # cosine_lr.py, Keras's CosineDecayRestarts), in float64.
        return math.floor(math.log(1.0 - t / p_f * (1.0 - m_f)) / math.log(m_f))

    for i in range(_TABLE_LIMIT + 1):
        begin = (1.0 - m_f**i) / (1.0 - m_f) * p_f
        first = math.ceil(begin)
        if i > 0 and first <= hi:
            # Where the real start is a whole count (20 (1 + 1.9) = 58), float64 can round
            # ``begin`` just above it: the first count is the first the peers' log puts in
            # cycle i.
            while first > 0 and index(first - 1) >= i:
                first -= 1
            while index(first) < i:
                first += 1
        if first > hi:
            break
        firsts.append(first)
        lags.append(max(first - begin, 0.0))
        stretch.append(m_f**i)
        if lim is not None and i >= int(lim):
            break
    else:
        return empty
    return (
        jnp.asarray(np.asarray(firsts, dtype=np.int64).astype(idt)),
        jnp.asarray(np.asarray(lags, dtype=np.float64).astype(compute)),
        jnp.asarray(np.asarray(stretch, dtype=np.float64).astype(compute)),
    )


# Bucket tables are built for concrete boundaries when no bucket holds more than
# this many boundaries (else the binary search is as fast).
_MAX_PROBES = 3


def _phase_buckets(bounds: jax.Array, n: int) -> tuple[jax.Array, jax.Array, int]:
    """An O(1) phase lookup: ``M`` (``2N`` to ``4N``) buckets of ``W = 2**k`` steps.

    ``buckets[b]`` counts the boundaries ``<= b W``; a count ``u >= 0`` in
    bucket ``b = min(u >> k, M)`` is in phase ``buckets[b]`` plus the number of
    the next ``probes`` boundaries ``<= u``. ``W`` is a power of two so that a
    call shifts instead of dividing (an integer division is a separate, slow
    kernel on CPU). Returns ``(buckets, k, probes)``, or empty buckets and 0
    probes when the boundaries are traced, there are few phases, or some bucket
    would need more than ``_MAX_PROBES`` comparisons.
    """
    idt = v.index_dtype()
    none = (jnp.zeros((0,), idt), jnp.zeros((), idt), 0)
    c = v.concrete_value(bounds)
    if c is None or n <= _FEW:
        return none
    b = np.asarray(c, dtype=np.int64)
    total = int(b[-1])
    shift = max(0, (-(-total // (2 * n))).bit_length() - 1)  # W <= ceil(total / 2N)
    width = 1 << shift
    starts = np.arange(-(-total // width) + 1, dtype=np.int64) * width
    lo = np.searchsorted(b, starts, side="right")
    hi = np.searchsorted(b, starts + width - 1, side="right")
    probes = int(np.max(hi - lo))
    if probes > _MAX_PROBES:
        return none
    return jnp.asarray(lo.astype(idt)), jnp.asarray(shift, idt), max(probes, 1)


def _boundaries(spans: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The phases' ends (saturating cumulative spans) and begins, on the host when known."""
    bounds = _saturating_cumsum(spans)
    known = v.concrete_value(bounds)
    if known is not None:  # on the host: no device program per schedule
        begins = jnp.asarray(np.concatenate([np.zeros((1,), known.dtype), known[:-1]]))
    else:
        begins = jnp.concatenate([jnp.zeros((1,), spans.dtype), bounds[:-1]])
    return bounds, begins


def _cycle_layout(
    bounds: jax.Array,
    begins: jax.Array,
    cycle_start: int | None,
    cycle_mul: Any,
    num_cycles: Any,
    cycle_tables: tuple[jax.Array, jax.Array, jax.Array] | None,
    compute: Any,
) -> tuple[jax.Array, jax.Array, tuple[jax.Array, jax.Array, jax.Array]]:
    """The cycle prefix, period and table of cycle starts (``cycle_tables`` reused if given)."""
    idt = bounds.dtype
    if cycle_start is None:
        return jnp.zeros((), idt), jnp.zeros((), idt), _cycle_table(0, 1.0, None, compute)
    prefix = begins[cycle_start]
    period = bounds[-1] - prefix
    if cycle_tables is not None:
        return prefix, period, cycle_tables
    return prefix, period, _cycle_table(period, cycle_mul, num_cycles, compute)


def assemble(
    *,
    spans: Any,
    lengths: Any,
    offsets: Any,
    starts: Any,
    ends: Any,
    params: Any,
    cycle_scale: Any,
    num_cycles: Any,
    cycle_mul: Any,
    cycle_decay: Any,
    kinds: tuple[int, ...],
    cycle_start: int | None,
    custom_fns: tuple[_shapes.ShapeFn, ...],
    dtype: str,
    warped: bool | None = None,
    cycle_tables: tuple[jax.Array, jax.Array, jax.Array] | None = None,
) -> PhaseSchedule:
    """The one way a :class:`PhaseSchedule` is made: derives its boundaries from its spans.

    Computes, once, the phase boundaries (saturating cumulative spans), the
    cycle prefix and period and, for a concrete ``cycle_mul > 1``, the table
    of cycle starts; on the host with NumPy when the spans are concrete, in
    the traced program otherwise. The arrays are taken as they are (already
    validated and broadcast by :func:`from_arrays`). ``cycle_tables``, when
    given, are reused (a concatenation keeps the last piece's cycles);
    otherwise they are built from ``cycle_mul``.
    """
    compute, _ = value_dtypes(dtype)
    idt = v.index_dtype()
    spans_a = jnp.asarray(spans).astype(idt)
    bounds, begins = _boundaries(spans_a)
    mul_exact = cycle_mul
    cycle_mul = jnp.maximum(jnp.asarray(cycle_mul, compute), 1.0)
    prefix, period, tables = _cycle_layout(
        bounds, begins, cycle_start, mul_exact, num_cycles, cycle_tables, compute
    )
    params_a = jnp.asarray(params)
    buckets, shift, probes = _phase_buckets(bounds, len(kinds))
    return PhaseSchedule(
        spans=spans_a,
        lengths=jnp.asarray(lengths),
        offsets=jnp.asarray(offsets),
        starts=jnp.asarray(starts),
        ends=jnp.asarray(ends),
        params=params_a,
        cycle_scale=jnp.asarray(cycle_scale),
        num_cycles=jnp.asarray(num_cycles),
        cycle_mul=cycle_mul,
        cycle_decay=jnp.asarray(cycle_decay, compute),
        bounds=bounds,
        begins=begins,
        cycle_prefix=prefix,
        cycle_period=period,
        cycle_firsts=tables[0],
        cycle_lags=tables[1],
        cycle_stretch=tables[2],
        phase_buckets=buckets,
        bucket_shift=shift,
        kinds=tuple(kinds),
        cycle_start=cycle_start,
        custom_fns=tuple(custom_fns),
        dtype=dtype,
        warped=_may_warp(params_a) if warped is None else warped,
        static_power=_static_power(params_a, tuple(kinds)),
        bucket_probes=probes,
    )


def replace_arrays(schedule: PhaseSchedule, **changes: Any) -> PhaseSchedule:
    """``schedule`` with some phase arrays replaced, its boundaries derived again.

    ``changes`` name fields of :data:`PHASE_FIELDS`, and may also give new
    ``kinds`` and ``cycle_start`` (when phases are split or dropped). The
    cycle-start table is kept when the cycle body's spans do not change.
    """
    kinds = changes.pop("kinds", schedule.kinds)
    cycle_start = changes.pop("cycle_start", schedule.cycle_start)
    fields = {name: getattr(schedule, name) for name in PHASE_FIELDS}
    fields.update(changes)
    tables = None
    if "spans" not in changes and "cycle_mul" not in changes and "num_cycles" not in changes:
        tables = (schedule.cycle_firsts, schedule.cycle_lags, schedule.cycle_stretch)
    return assemble(
        **fields,
        kinds=kinds,
        cycle_start=cycle_start,
        custom_fns=schedule.custom_fns,
        dtype=schedule.dtype,
        warped=None if "params" in changes else schedule.warped,
        cycle_tables=tables,
    )


def _saturate_host(count: Any) -> Any:
    """Host-side integer counts (Python ints of any size, NumPy integers, lists of
    them) saturated into ``[0, max]`` of the index dtype; anything else unchanged."""
    if isinstance(count, bool | np.bool_) or v.is_traced(count) or isinstance(count, jax.Array):
        return count
    idt = v.index_dtype()
    hi = _index_max()
    if isinstance(count, int):  # a Python int is never traced: clamp it here
        return np.asarray(min(max(count, 0), hi), idt)
    if isinstance(count, list | tuple) and not all(
        isinstance(x, int | np.integer | float | np.floating) for x in count
    ):
        return count  # nested or traced entries: converted by JAX as they are
    if isinstance(count, list | tuple | np.ndarray | np.generic):
        host = np.asarray(count)
        if host.dtype.kind in "iuO":  # O: Python ints beyond 64 bits
            return np.clip(host, 0, hi).astype(idt)
        return host
    return count


def as_count(count: ArrayLike) -> jax.Array:
    """A count as a non-negative index-dtype array (floats floored, negatives at 0).

    Integer counts of any dtype and Python integers of any size saturate into
    ``[0, max]`` of the index dtype before conversion: they never wrap.
    """
    idt = v.index_dtype()
    hi = _index_max()
    t = jnp.asarray(_saturate_host(count))
    if jnp.issubdtype(t.dtype, jnp.floating):
        # The largest float below 2**31 (2**63): the cast cannot overflow.
        top = float(np.nextafter(np.asarray(hi + 1, t.dtype), np.asarray(0, t.dtype)))
        t = jnp.clip(jnp.floor(t), 0, top)
    elif t.dtype == jnp.bool_:
        t = t.astype(idt)
    elif jnp.issubdtype(t.dtype, jnp.integer) and jnp.iinfo(t.dtype).max > hi:
        t = jnp.minimum(t, hi)  # saturate instead of wrapping to negative
    return jnp.maximum(t.astype(idt), 0)


_as_count = as_count


def _at(x: jax.Array, i: jax.Array) -> jax.Array:
    """``x[i]`` for an index known to be in range (a scalar one skips the wrap of negatives)."""
    if jnp.ndim(i) == 0:
        return lax.dynamic_index_in_dim(x, i, keepdims=False)
    return x[i]


def _search(sorted_: jax.Array, x: jax.Array) -> jax.Array:
    """``searchsorted(sorted_, x, side="right")`` in O(log N) steps.

    Compare-all while small; for known (constant) boundaries an unrolled binary
    search (``ceil(log2 N)`` steps, no loop); for traced ones a binary search in
    a loop, so that the traced program does not grow with N.
    """
    n = sorted_.shape[0]
    if n <= _FEW or (x.size * n <= _COMPARE_ALL_LIMIT and x.size > 1):
        return jnp.sum(sorted_ <= x[..., None], axis=-1, dtype=sorted_.dtype)
    method = "scan" if v.is_traced(sorted_) else "scan_unrolled"
    return jnp.searchsorted(sorted_, x, side="right", method=method).astype(sorted_.dtype)


def _cycle_by_formula(
    d: jax.Array, period_s: jax.Array, pf: jax.Array, mul: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """:func:`_cycle_position` without a cycle table (a traced ``mul`` or period).

    ``mul == 1`` in exact integer arithmetic; ``mul > 1`` (geometric lengths)
    in floating point with an integer correction.
    """
    idt = d.dtype
    fdt = pf.dtype
    # mul == 1: exact integer arithmetic.
    i_lin = d // period_s
    r_lin = d - i_lin * period_s
    # mul > 1: geometric lengths, float arithmetic with an integer correction.
    geo = mul > 1
    mul_s = jnp.where(geo, mul, 2.0).astype(fdt)
    log_m = jnp.log(mul_s)
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
    return i, u_int, u_frac, r, scale


def _cycle_position(
    d: jax.Array,
    period: jax.Array,
    mul: jax.Array,
    limit: jax.Array,
    table: tuple[jax.Array, jax.Array, jax.Array] | None = None,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Cycle index and position in cycle-body coordinates for ``d >= 0`` steps.

    Cycle ``i`` lasts ``period * mul**i`` steps. Returns ``(i, u_int, u_frac, r,
    scale)``: the position scaled back to the first cycle's length, as an
    integer part and a fraction; and the steps since the cycle began ``r`` with
    the cycle's stretch ``scale = mul**i``, from which progress is computed
    without the rounding of the scaled position. Past the last cycle,
    ``i = limit - 1`` and the position is the end of the body (``scale = 1``).

    With ``table`` (see :func:`_cycle_table`: the first count, lag and stretch
    of every cycle, computed once in float64), the cycle is found by a binary
    search in integers, so restarts fall on exactly the counts float64 puts
    them at, at any ``mul``. Without it (a traced ``mul`` or period), ``mul > 1``
    is resolved in floating point with an integer correction.
    """
    idt = d.dtype
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    period_s = jnp.maximum(period, 1)
    pf = period_s.astype(fdt)
    if table is not None and table[0].shape[0] > 0:
        firsts, lags, stretch = table
        k = firsts.shape[0]
        i = jnp.clip(_search(firsts, d) - 1, 0, k - 1)
        r = (d - firsts[i]).astype(fdt) + lags[i].astype(fdt)
        scale = stretch[i].astype(fdt)
        u = jnp.clip(r / scale, 0, pf)
        u_int_f = jnp.floor(u)
        u_int = u_int_f.astype(idt)
        u_frac = u - u_int_f
    else:
        i, u_int, u_frac, r, scale = _cycle_by_formula(d, period_s, pf, mul)
    done = i >= limit
    i = jnp.where(done, limit - 1, i)
    u_int = jnp.where(done, period, u_int)
    u_frac = jnp.where(done, 0.0, u_frac)
    r = jnp.where(done, pf, r)
    scale = jnp.where(done, 1.0, scale)
    return i, u_int, u_frac, r, scale


# Up to this many phases, the phase is chosen by comparing the count with each
# boundary and selecting (no gathers). Beyond, a binary search finds its index.
_FEW = 4
# Up to this many (count, phase) comparisons, a vector of counts is compared
# with every boundary at once; beyond, the binary search is used.
_COMPARE_ALL_LIMIT = 1 << 16


class _Cycle(NamedTuple):
    """Where a count of a cyclic schedule falls in its cycles.

    ``in_body``: the count is past the prefix; ``index``: its cycle;
    ``since``: the exact steps since the cycle began; ``stretch``: the
    cycle's ``mul**i``; ``prefix``: the steps before the first cycle;
    ``body_steps``: the whole steps since the prefix (0 before it).
    """

    in_body: jax.Array
    index: jax.Array
    since: jax.Array
    stretch: jax.Array
    prefix: jax.Array
    body_steps: jax.Array


class _Position(NamedTuple):
    """Where a count falls, in the coordinates of the phase table.

    ``u`` is the step in body coordinates (a cyclic count folded back into the
    first cycle) and ``u_frac`` its fraction (a stretched cycle's position is
    not whole); ``cycle`` is ``None`` for a non-cyclic schedule.
    """

    u: jax.Array
    u_frac: jax.Array
    spans: jax.Array
    compute: jnp.dtype
    cycle: _Cycle | None = None


def _position(s: PhaseSchedule, t: jax.Array, spans: jax.Array, compute: Any) -> _Position:
    """The body position of the counts ``t`` (see :class:`_Position`)."""
    idt = t.dtype
    u_frac: jax.Array = jnp.zeros(t.shape, compute)
    if s.cycle_start is None:
        return _Position(t, u_frac, spans, compute)
    prefix = s.cycle_prefix.astype(idt)
    period = s.cycle_period.astype(idt)
    d = t - prefix
    in_body = d >= 0
    d = jnp.maximum(d, 0)
    i, u_body, frac, r, stretch = _cycle_position(
        d,
        period,
        s.cycle_mul,
        s.num_cycles.astype(idt),
        (s.cycle_firsts, s.cycle_lags, s.cycle_stretch),
    )
    u = jnp.where(in_body, prefix + u_body, t)
    u_frac = jnp.where(in_body, frac, 0.0).astype(compute)
    cycle = jnp.where(in_body, i, 0)
    return _Position(u, u_frac, spans, compute, _Cycle(in_body, cycle, r, stretch, prefix, d))


Pick = Callable[[jax.Array], jax.Array]


def _time_in_phase(
    s: PhaseSchedule, pick: Pick, pos: _Position
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """``(begin, offset, length, steps_in, steps_left)`` of the phase ``pick`` reads."""
    compute, idt = pos.compute, pos.u.dtype
    begin = pick(s.begins.astype(idt))
    k = pos.u - begin
    offset = pick(s.offsets)
    length = pick(s.lengths)
    span = pick(pos.spans)
    steps_in = k.astype(compute) + offset + pos.u_frac
    # Steps left to the end of the progress length. Past 2**24 steps into a phase
    # (float32), ``length - steps_in`` cannot resolve the last steps of the phase
    # (the float spacing near 2e9 is 128), so the integer part is taken first.
    left_int = (span - k).astype(compute) + (length - span.astype(compute) - offset) - pos.u_frac
    exact = k < 2 ** (jnp.finfo(compute).nmant + 1)
    steps_left = jnp.where(exact, length - steps_in, left_int)
    return begin, offset, length, steps_in, steps_left


def _in_cycle(
    s: PhaseSchedule,
    pick: Pick,
    cyc: _Cycle,
    compute: Any,
    time: tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array],
    start: jax.Array,
    end: jax.Array,
) -> tuple[tuple[jax.Array, jax.Array, jax.Array], jax.Array, jax.Array]:
    """A cyclic phase's ``(progress, start, end)``: progress from the real steps of a
    stretched cycle, values decayed by ``cycle_decay`` per cycle."""
    begin, offset, length, steps_in, steps_left = time
    # In a stretched cycle (mul > 1) the progress comes from real steps: time and
    # length times the stretch, from the exact steps since the cycle began.
    stretched = cyc.in_body & (cyc.stretch != 1)
    st = jnp.where(stretched, cyc.stretch, 1.0).astype(compute)
    rel = (begin - cyc.prefix).astype(compute)
    t_real = cyc.since.astype(compute) - rel * st + offset * st
    len_real = length * st
    left_real = len_real - t_real
    n_table = s.cycle_firsts.shape[0]
    if n_table > 1:
        # A phase that ends the body ends where the next cycle begins: its steps left
        # are that cycle's first count minus the count, less its lag, exact where
        # ``length * stretch`` is not (float32 holds 127.0013 to 4e-6).
        idt = cyc.body_steps.dtype
        nxt = jnp.minimum(cyc.index + 1, n_table - 1)
        period = s.cycle_period.astype(compute)
        ends_body = (rel + length - offset == period) & (cyc.index + 1 < n_table)
        steps_to_next = (s.cycle_firsts.astype(idt)[nxt] - cyc.body_steps).astype(compute)
        left_next = steps_to_next - s.cycle_lags[nxt].astype(compute)
        left_real = jnp.where(ends_body, left_next, left_real)
    progress = (
        jnp.where(stretched, t_real, steps_in),
        jnp.where(stretched, len_real, length),
        jnp.where(stretched, left_real, steps_left),
    )
    log_decay = jnp.log(jnp.maximum(s.cycle_decay, 1e-30))
    zero_decay = s.cycle_decay <= 0
    c = cyc.index.astype(compute)
    scale = pick(s.cycle_scale)

    big = jnp.finfo(compute).max

    def decayed(x: jax.Array, k: jax.Array) -> jax.Array:
        # A traced growing decay saturates at the dtype's largest finite
        # value instead of reaching inf (concrete ones that would are refused).
        e = c * k
        factor = jnp.where(zero_decay, jnp.where(e > 0, 0.0, 1.0), jnp.exp(e * log_decay))
        return jnp.clip(x * jnp.minimum(factor, big), -big, big)

    return progress, decayed(start, scale[..., 0]), decayed(end, scale[..., 1])


def _phase_value(s: PhaseSchedule, kind: int, pick: Pick, pos: _Position) -> jax.Array:
    """The value of a phase of shape ``kind``, its arrays read through ``pick``."""
    time = _time_in_phase(s, pick, pos)
    _, _, length, steps_in, steps_left = time
    progress = None
    start = pick(s.starts)
    end = pick(s.ends)
    params = pick(s.params)
    if pos.cycle is not None:
        progress, start, end = _in_cycle(s, pick, pos.cycle, pos.compute, time, start, end)
    fn = s.custom_fns[kind - _shapes.NUM_BUILTIN] if kind >= _shapes.NUM_BUILTIN else None
    return _shapes.evaluate(
        kind,
        steps_in,
        length,
        start,
        end,
        params,
        fn,
        steps_left,
        progress,
        warp=s.warped,
        static_power=s.static_power,
    )


def _value_few(s: PhaseSchedule, pos: _Position, bounds: jax.Array) -> jax.Array:
    """Up to ``_FEW`` phases: compare the count with each boundary and select; no gathers.

    Each distinct shape is evaluated once, on the arrays of its own phases
    (static slices when one phase has it, which XLA folds as constants).
    """
    n = s.num_phases
    after = [pos.u >= bounds[j] for j in range(n - 1)]  # after[j - 1]: phase >= j

    def chooser(members: list[int]) -> Pick:
        def pick(x: jax.Array) -> jax.Array:
            out = x[members[0]]
            for j in members[1:]:
                f = after[j - 1]
                out = jnp.where(f.reshape(f.shape + (1,) * (x.ndim - 1)), x[j], out)
            return out

        return pick

    values = {
        kind: _phase_value(s, kind, chooser([j for j in range(n) if s.kinds[j] == kind]), pos)
        for kind in sorted(set(s.kinds))
    }
    value = values[s.kinds[0]]
    for j in range(1, n):
        if s.kinds[j] != s.kinds[j - 1]:
            value = jnp.where(after[j - 1], values[s.kinds[j]], value)
    return value


def _phase_index(s: PhaseSchedule, u: jax.Array, bounds: jax.Array) -> jax.Array:
    """The phase of body step ``u``: the bucket table (O(1)) or an unrolled binary search."""
    n = s.num_phases
    idt = u.dtype
    if s.bucket_probes > 0:
        buckets = s.phase_buckets.astype(idt)
        b = lax.shift_right_logical(u, s.bucket_shift.astype(idt))  # u >= 0
        lo = _at(buckets, jnp.minimum(b, buckets.shape[0] - 1))
        idx = lo
        for j in range(s.bucket_probes):
            idx = idx + (u >= _at(bounds, jnp.minimum(lo + j, n - 1))).astype(idt)
        return jnp.minimum(idx, n - 1)
    return jnp.minimum(_search(bounds, u), n - 1)


def _value_many(s: PhaseSchedule, pos: _Position, bounds: jax.Array) -> jax.Array:
    """More than ``_FEW`` phases: find the phase, gather its arrays, evaluate each
    distinct shape and select by the phase's shape."""
    idx = _phase_index(s, pos.u, bounds)

    def gather(x: jax.Array) -> jax.Array:
        return _at(x, idx)

    distinct = sorted(set(s.kinds))
    value = _phase_value(s, distinct[0], gather, pos)
    if len(distinct) > 1:
        kind_at = gather(jnp.asarray(np.asarray(s.kinds, dtype=np.int32)))
        for kind in distinct[1:]:
            value = jnp.where(kind_at == kind, _phase_value(s, kind, gather, pos), value)
    return value


def evaluate(schedule: PhaseSchedule, count: ArrayLike) -> jax.Array:
    """Evaluate ``schedule`` at ``count`` (any shape of integer or float counts).

    Cost per count: O(1) for up to ``_FEW`` phases (compare and select), the
    ``ceil(log2 N)`` steps of an unrolled binary search beyond; the cycle of a
    cyclic schedule by one integer division (``cycle_mul = 1``) or a binary
    search in the cycle table.
    """
    s = schedule
    compute, out = value_dtypes(s.dtype)
    t = as_count(count)
    spans = s.spans.astype(t.dtype)
    pos = _position(s, t, spans, compute)
    bounds = s.bounds.astype(t.dtype)
    few = s.num_phases <= _FEW
    value = _value_few(s, pos, bounds) if few else _value_many(s, pos, bounds)
    if value.ndim == 0:
        # One value per step (a train step's learning rate): computed once, read by
        # every consumer.
        value = computed_once(value, t)
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

    spans = cat("spans", idt)
    _check_total(spans)
    return assemble(
        spans=spans,
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
        # The cycle body is the last piece's, unchanged: keep its cycle table.
        cycle_tables=(last.cycle_firsts, last.cycle_lags, last.cycle_stretch)
        if last.is_cyclic
        else None,
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
    cum = xp.asarray(schedule.bounds).astype(idt)
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
    new_spans = jnp.asarray(local_end - previous)
    return _replace_body_kept(schedule, new_spans, jnp.asarray(offsets + moved))


def _replace_body_kept(
    schedule: PhaseSchedule, spans: jax.Array, offsets: jax.Array
) -> PhaseSchedule:
    """:func:`replace_arrays` with new spans, keeping the cycle table when the
    cycle body's spans are (concretely) unchanged."""
    changed = replace_arrays(schedule, spans=spans, offsets=offsets)
    if schedule.cycle_start is None or schedule.cycle_firsts.shape[0] == 0:
        return changed
    old = v.concrete_value(schedule.spans)
    new = v.concrete_value(spans)
    if old is None or new is None:
        return changed
    c = schedule.cycle_start
    if not np.array_equal(old[c:], new[c:]):
        return changed
    return dataclasses.replace(
        changed,
        cycle_firsts=schedule.cycle_firsts,
        cycle_lags=schedule.cycle_lags,
        cycle_stretch=schedule.cycle_stretch,
    )


_evaluate_jit = jax.jit(evaluate)
