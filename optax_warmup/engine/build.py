"""The one way to build a phase: typed shape constructors and phase builders.

Every front end (the Python schedules, the spec compiler, the config loader,
the peers' compat layers, the optax drop-ins, the optimizer-tied warmups)
builds its phases here. The shape constructors name each built-in kind's
parameters, so no caller writes the engine's four parameter slots by hand;
the phase builders say which role a phase plays.

Warmup or decay: a shape given by name (``"polynomial"``, ``"exponential"``,
``"1-sqrt"``...) means the warmup curve in a phase built by
:func:`warmup_phase` and the decay curve in every other phase
(:func:`decay_phase`), whichever way its values go. The spec compiler follows
the same rule (the first segment of a chain of several is the warmup), so
``decay_schedule(1.0, 10, shape="polynomial", end_value=2.0)`` and
``parse_spec("poly(10) @ peak=1 end=2")`` are the same schedule. The role is
static: it cannot depend on values that may be traced.

These builders trust their inputs: the public functions validate their
arguments once, naming them as the user wrote them, before calling here.

Example:
  >>> from optax_warmup.engine import build, phases
  >>> s = phases.stack_phases(
  ...     [build.warmup_phase(1.0, 2, build.power_in(2.0)), build.hold_phase(1.0)]
  ... )
  >>> [float(s(c)) for c in range(3)]
  [0.25, 1.0, 1.0]
"""

from __future__ import annotations

from jax.typing import ArrayLike

from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine.phases import Phase
from optax_warmup.engine.shapes import ResolvedShape

# ---------------------------------------------------------------------------
# Typed shape constructors (one per built-in kind of the engine).


def _shape(
    kind: int,
    a: ArrayLike = 0.0,
    b: ArrayLike = 0.0,
    c: ArrayLike = 0.0,
    k_decay: ArrayLike = 0.0,
) -> ResolvedShape:
    return ResolvedShape(kind, (a, b, c, k_decay))


def constant_shape() -> ResolvedShape:
    """Hold the start value for the whole phase: ``value = start``."""
    return _shape(_shapes.CONSTANT, 1.0)


def power_in(power: ArrayLike = 1.0, *, k_decay: ArrayLike = 0.0) -> ResolvedShape:
    """``f(p) = p**power`` (``power = 1``: linear); ``k_decay`` warps ``p -> p**k`` first."""
    return _shape(_shapes.POWER_IN, power, k_decay=k_decay)


def power_out(power: ArrayLike = 1.0, *, k_decay: ArrayLike = 0.0) -> ResolvedShape:
    """``f(p) = 1 - (1 - p)**power`` (optax / Hugging Face polynomial decay)."""
    return _shape(_shapes.POWER_OUT, power, k_decay=k_decay)


def half_cosine(exponent: ArrayLike = 1.0, *, k_decay: ArrayLike = 0.0) -> ResolvedShape:
    """``f(p) = 1 - ((1 + cos(pi p)) / 2)**exponent``."""
    return _shape(_shapes.COSINE, exponent, k_decay=k_decay)


def exp_normalized(rate: ArrayLike = 5.0, *, k_decay: ArrayLike = 0.0) -> ResolvedShape:
    """``f(p) = expm1(-rate p) / expm1(-rate)``: reaches the end value at ``p = 1``."""
    return _shape(_shapes.EXP_NORMALIZED, rate, k_decay=k_decay)


def exp_approach(time_constant: ArrayLike) -> ResolvedShape:
    """``f = 1 - exp(-t / time_constant)``, ``t`` in steps; open-ended."""
    return _shape(_shapes.EXP_APPROACH, time_constant)


def geometric(*, k_decay: ArrayLike = 0.0) -> ResolvedShape:
    """``value = start (end / start)**p`` (linear where the signs differ)."""
    return _shape(_shapes.GEOMETRIC, 1.0, k_decay=k_decay)


def exp_rate(
    rate: ArrayLike,
    steps: ArrayLike = 1.0,
    *,
    staircase: ArrayLike = 0.0,
    clamp: ArrayLike = 0.0,
) -> ResolvedShape:
    """optax's exponential decay: ``value = start * rate**(t / steps)``; open-ended.

    ``staircase > 0`` floors ``t / steps``; ``clamp > 0`` stops at the end value
    (a floor when ``rate < 1``, a ceiling otherwise). The engine stores
    ``log(rate)`` (see :func:`optax_warmup.engine.shapes.log_rate`): computed in
    float64 for a concrete rate, so a rate near 1 held in float32 does not drift.
    """
    return _shape(_shapes.EXP_RATE, _shapes.log_rate(rate), steps, staircase, clamp)


def inverse_sqrt(
    timescale: ArrayLike,
    *,
    exponent: ArrayLike = 0.0,
    staircase_steps: ArrayLike = 0.0,
) -> ResolvedShape:
    """``value = end + (start - end) (tau / (t + tau))**k``; open-ended.

    ``k = exponent``, or 1/2 when ``exponent`` is 0 (the inverse square root);
    ``staircase_steps > 0`` floors ``t`` to a multiple of it.
    """
    return _shape(_shapes.INV_SQRT, timescale, exponent, staircase_steps)


def tanh_shape(
    lower: ArrayLike = -7.0, upper: ArrayLike = 3.0, *, k_decay: ArrayLike = 0.0
) -> ResolvedShape:
    """timm's tanh: ``value = end + (start - end) (1 - tanh(lower (1 - p) + upper p)) / 2``."""
    return _shape(_shapes.TANH, lower, upper, k_decay=k_decay)


def radam(b2: ArrayLike, threshold: ArrayLike, one_minus_b2: ArrayLike = 0.0) -> ResolvedShape:
    """RAdam's rectification ``r_t`` at ``t`` (``one_minus_b2 > 0`` replaces ``1 - b2``)."""
    return _shape(_shapes.RADAM, b2, threshold, one_minus_b2)


def cosine_wave(half_waves: ArrayLike = 1.0, *, restart: bool = False) -> ResolvedShape:
    """Periodic cosine, ``half_waves`` half-waves per length; ``restart`` jumps back each time."""
    # A concrete multiplier keeps its float64 value as two float32 parts (shapes.cosine_wave).
    return _shapes.cosine_wave(half_waves, restart=restart)


def power_cycle(power: ArrayLike) -> ResolvedShape:
    """TF / Keras polynomial decay with ``cycle=True`` (power ``power``); open-ended."""
    return _shape(_shapes.POWER_CYCLE, power)


# ---------------------------------------------------------------------------
# Phase builders.

ShapeArg = _shapes.ShapeLike | ResolvedShape


def _resolved(shape: ShapeArg, role: _shapes.Role) -> ResolvedShape:
    return shape if isinstance(shape, ResolvedShape) else _shapes.resolve(shape, role)


def warmup_phase(
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    shape: ShapeArg = "linear",
    init_value: ArrayLike | None = None,
    *,
    length: ArrayLike | None = None,
    offset: ArrayLike | None = None,
    start_scale: ArrayLike = 0.0,
    end_scale: ArrayLike = 1.0,
) -> Phase:
    """The warmup phase rising to ``peak_value`` over ``warmup_steps`` (a warmup shape).

    Without ``init_value`` the warmup wastes no update: count ``c`` gets
    ``peak * f((c + 1) / W)``, so the first update already moves and count
    ``W - 1`` is at the peak. With ``init_value`` it is the optax / Hugging
    Face convention: ``init + (peak - init) f(c / W)``, ``init`` at count 0.
    ``length`` (default ``warmup_steps``) is the progress length when it is not
    a whole number of steps; ``offset`` overrides the steps already elapsed at
    the first count (1 without ``init_value``, else 0). A ``warmup_steps`` of 0
    at the end of a schedule is open-ended (an approach that never ends).
    ``start_scale`` and ``end_scale`` are the exponents of a cycle's decay
    applied to each value (by default the peak decays, the start does not).
    """
    resolved = _resolved(shape, "warmup")
    start = 0.0 if init_value is None else init_value
    if offset is None:
        offset = 1 if init_value is None else 0
    return Phase(
        warmup_steps,
        start,
        peak_value,
        resolved,
        length,
        offset=offset,
        scale_start=start_scale,
        scale_end=end_scale,
    )


def hold_phase(value: ArrayLike, span: ArrayLike = 0, *, scale: ArrayLike = 1.0) -> Phase:
    """A phase that holds ``value`` (span 0 at the end of a schedule: forever)."""
    return Phase(span, value, value, constant_shape(), scale_start=scale, scale_end=scale)


def decay_phase(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    end_value: ArrayLike,
    shape: ShapeArg = "cosine",
    *,
    length: ArrayLike | None = None,
    offset: ArrayLike = 0,
    start_scale: ArrayLike = 1.0,
    end_scale: ArrayLike = 0.0,
) -> Phase:
    """A phase from ``init_value`` to ``end_value`` over ``decay_steps`` (a decay shape).

    Every phase that is not a warmup is built here, rising or falling: a
    ``decay_steps`` of 0 at the end of a schedule is open-ended (open shapes
    such as inverse-sqrt keep going; closed ones hold the end value).
    ``length`` is the progress length (default ``decay_steps``), ``offset`` the
    steps already elapsed at the phase's first count; ``start_scale`` and
    ``end_scale`` are the exponents of a cycle's decay applied to each value.
    """
    return Phase(
        decay_steps,
        init_value,
        end_value,
        _resolved(shape, "decay"),
        length,
        offset=offset,
        scale_start=start_scale,
        scale_end=end_scale,
    )
