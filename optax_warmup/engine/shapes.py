"""Phase shapes: how a phase moves from its start value to its end value.

A shape is named by a string, built with one of the constructors below (to set
its parameter), or given as a function ``f(p) -> fraction`` of the progress
``p`` in ``[0, 1]`` (``f(0) = 0``, ``f(1) = 1``).

The same name can mean a different curve for a warmup and for a decay, as the
field uses them: a polynomial warmup is ``p**power`` while a polynomial decay
is ``1 - (1 - p)**power`` (optax and Hugging Face); a 1-sqrt cooldown falls as
``1 - sqrt(p)`` while a 1-sqrt warmup rises as ``1 - sqrt(1 - p)`` (Hugging
Face ``get_wsd_schedule``). Which curve a phase takes depends on its role,
never on the direction of its values: the warmup of a schedule (or of a spec
chain) takes the warmup curve, every other phase the decay curve (see
:mod:`optax_warmup.engine.build`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v

Role = Literal["warmup", "decay"]
ShapeFn = Callable[[jax.Array], jax.Array]

# Built-in shape ids used by the engine. Phase values follow
# ``value = start + (end - start) * f(p)`` unless noted.
CONSTANT = 0  # value = start for the whole phase
POWER_IN = 1  # f = p**a  (a=1: linear)
POWER_OUT = 2  # f = 1 - (1 - p)**a
COSINE = 3  # f = 1 - ((1 + cos(pi p)) / 2)**a
EXP_NORMALIZED = 4  # f = expm1(-a p) / expm1(-a)  (a -> 0: linear)
EXP_APPROACH = 5  # f = 1 - exp(-t / a), open-ended (time constant a)
GEOMETRIC = 6  # value = start * (end / start)**p (linear if signs differ)
EXP_RATE = 7  # value = start * exp(a q / b), a = log(rate), q = t or staircase; clamp at end if d
# INV_SQRT: value = end + (start - end) * (a / (t + a))**k, k = b or 0.5 if b = 0, with t
# floored to a multiple of c when c > 0 (staircase); open-ended.
INV_SQRT = 8
TANH = 9  # value = end + (start - end) * (1 - tanh(a (1 - p) + b p)) / 2
RADAM = (
    10  # f = RAdam rectification r_t at t (b2 = a, threshold = b, 1 - b2 = c if > 0), open-ended
)
# COSINE_WAVE: periodic cosine, a + c half-waves per length (c: the low part of the
# multiplier, for float64 accuracy in float32), b > 0: restart; open-ended.
COSINE_WAVE = 11
POWER_CYCLE = 12  # polynomial decay with cycle (TF / Keras): power a, open-ended
NUM_BUILTIN = 13

# Shapes that see the progress p in [0, 1]. For these, a positive fourth parameter
# ``d = k`` warps the progress to ``p**k`` first (k-decay, Zhang et al. 2020).
PROGRESS_KINDS = (POWER_IN, POWER_OUT, COSINE, EXP_NORMALIZED, GEOMETRIC, TANH)

NUM_PARAMS = 4

# Shape parameters that are durations in steps (they scale when a phase is
# stretched in time): exp_approach's time constant, inv_sqrt's tau and
# staircase, exp_rate's steps per application of the rate.
TIME_PARAMS: dict[int, tuple[bool, ...]] = {
    EXP_APPROACH: (True, False, False, False),
    INV_SQRT: (True, False, True, False),
    EXP_RATE: (False, True, False, False),
}


@dataclasses.dataclass(frozen=True)
class Shape:
    """A named phase shape with its parameter (see the module docstring).

    Build one with :func:`linear`, :func:`cosine`, :func:`polynomial`,
    :func:`exponential`, :func:`one_minus_sqrt`, :func:`constant`,
    :func:`tanh` or :func:`custom`; pass it wherever a ``shape`` is accepted.
    """

    name: str
    param: ArrayLike | None = None
    param2: ArrayLike | None = None
    fn: ShapeFn | None = None


def linear() -> Shape:
    """Straight line from start to end: ``f(p) = p``."""
    return Shape("linear")


def cosine(exponent: ArrayLike = 1.0) -> Shape:
    """Half-cosine. As a decay: ``end + (start - end) * ((1 + cos(pi p)) / 2)**exponent``."""
    v.check_range("exponent", exponent, low=0.0, low_open=True)
    return Shape("cosine", exponent)


def polynomial(power: ArrayLike = 2.0) -> Shape:
    """Warmup ``p**power``; decay ``1 - (1 - p)**power`` (optax, Hugging Face)."""
    v.check_range("power", power, low=0.0, low_open=True)
    return Shape("polynomial", power)


def exponential(rate: ArrayLike | None = None, *, time_constant: ArrayLike | None = None) -> Shape:
    """Exponential approach.

    With ``rate`` (default 5): warmup ``f(p) = (1 - exp(-rate p)) / (1 - exp(-rate))``,
    which reaches the end value exactly at the end of the phase. With
    ``time_constant`` tau: ``f = 1 - exp(-t / tau)``, ``t`` in steps, which never
    reaches the end value inside the phase (the next phase takes over). As a
    decay, ``exponential()`` interpolates geometrically,
    ``start * (end / start)**p`` (both values must be positive).
    """
    if rate is not None and time_constant is not None:
        raise ValueError("Pass either rate or time_constant to exponential(), not both.")
    if time_constant is not None:
        v.check_range("time_constant", time_constant, low=0.0, low_open=True)
        return Shape("exponential", param2=time_constant)
    if rate is not None:
        v.check_finite("rate", rate)
    return Shape("exponential", rate)


def one_minus_sqrt() -> Shape:
    """1-sqrt: a cooldown ``1 - sqrt(p)`` (Haegele et al. 2024); a warmup ``1 - sqrt(1 - p)``."""
    return Shape("1-sqrt")


def constant() -> Shape:
    """Hold the start value for the whole phase, then jump (Goyal et al.'s constant warmup)."""
    return Shape("constant")


def tanh(lower: ArrayLike = -7.0, upper: ArrayLike = 3.0) -> Shape:
    """timm's tanh decay: ``end + (start - end) * (1 - tanh(lower (1 - p) + upper p)) / 2``."""
    v.check_finite("lower", lower)
    v.check_finite("upper", upper)
    return Shape("tanh", lower, upper)


def custom(fn: ShapeFn) -> Shape:
    """A user shape ``fn(p)`` with ``fn(0) = 0`` and ``fn(1) = 1``, ``p`` a float array."""
    if not callable(fn):
        raise ValueError(f"shape must be a name, a Shape or a callable, got {fn!r}.")
    return Shape("custom", fn=fn)


SHAPE_CONSTRUCTORS: dict[str, Callable[[], Shape]] = {
    "linear": linear,
    "cosine": cosine,
    "polynomial": polynomial,
    "exponential": exponential,
    "1-sqrt": one_minus_sqrt,
    "one_minus_sqrt": one_minus_sqrt,
    "constant": constant,
    "tanh": tanh,
}

SHAPE_NAMES = tuple(SHAPE_CONSTRUCTORS)

ShapeLike = str | Shape | ShapeFn


@dataclasses.dataclass(frozen=True)
class ResolvedShape:
    """A shape as the engine stores it: a built-in id, four parameters, or a function."""

    kind: int
    params: tuple[ArrayLike, ArrayLike, ArrayLike, ArrayLike] = (1.0, 0.0, 0.0, 0.0)
    fn: ShapeFn | None = None


LINEAR = ResolvedShape(POWER_IN)


def as_shape(shape: ShapeLike, name: str = "shape") -> Shape:
    """Normalise a shape argument (name, :class:`Shape` or callable)."""
    if isinstance(shape, Shape):
        return shape
    if isinstance(shape, str):
        if shape not in SHAPE_CONSTRUCTORS:
            raise ValueError(f"{name} must be one of {SHAPE_NAMES} or a callable, got {shape!r}.")
        return SHAPE_CONSTRUCTORS[shape]()
    if callable(shape):
        return custom(shape)
    raise ValueError(f"{name} must be one of {SHAPE_NAMES}, a Shape or a callable, got {shape!r}.")


def resolve(shape: ShapeLike, role: Role, name: str = "shape") -> ResolvedShape:
    """Map a shape to the engine's representation for a warmup or a decay."""
    s = as_shape(shape, name)
    p = 1.0 if s.param is None else s.param
    if s.name == "linear":
        return ResolvedShape(POWER_IN)
    if s.name == "cosine":
        return ResolvedShape(COSINE, (p, 0.0, 0.0, 0.0))
    if s.name == "polynomial":
        p = 2.0 if s.param is None else s.param
        return ResolvedShape(POWER_IN if role == "warmup" else POWER_OUT, (p, 0.0, 0.0, 0.0))
    if s.name == "1-sqrt":
        return ResolvedShape(POWER_OUT if role == "warmup" else POWER_IN, (0.5, 0.0, 0.0, 0.0))
    if s.name == "exponential":
        if s.param2 is not None:
            return ResolvedShape(EXP_APPROACH, (s.param2, 0.0, 0.0, 0.0))
        if role == "decay" and s.param is None:
            return ResolvedShape(GEOMETRIC)
        rate = 5.0 if s.param is None else s.param
        return ResolvedShape(EXP_NORMALIZED, (rate, 0.0, 0.0, 0.0))
    if s.name == "constant":
        return ResolvedShape(CONSTANT)
    if s.name == "tanh":
        lower = -7.0 if s.param is None else s.param
        upper = 3.0 if s.param2 is None else s.param2
        return ResolvedShape(TANH, (lower, upper, 0.0, 0.0))
    if s.name == "custom":
        return ResolvedShape(NUM_BUILTIN, fn=s.fn)
    raise ValueError(f"{name}: unknown shape {s.name!r}.")  # pragma: no cover


def _progress(t: jax.Array, length: jax.Array) -> jax.Array:
    """Progress ``t / length`` clipped to [0, 1]; a zero-length phase is complete."""
    ok = length > 0
    # ``t >= length`` gives exactly 1 even where XLA divides by a constant length
    # as a multiplication by its reciprocal (``41 * (1 / 41) < 1`` in float32).
    p = jnp.clip(t / jnp.where(ok, length, 1), 0, 1)
    return jnp.where(ok & (t < length), p, 1)


def _remaining(left: jax.Array, length: jax.Array) -> jax.Array:
    """``1 - progress`` from the steps ``left`` to the end, for precision near the end."""
    ok = length > 0
    return jnp.where(ok, jnp.clip(left / jnp.where(ok, length, 1), 0, 1), 0)


def _mix(start: jax.Array, end: jax.Array, w_start: jax.Array, w_end: jax.Array) -> jax.Array:
    """``start w_start + end w_end`` with both weights computed accurately (they sum to 1)."""
    return start * w_start + end * w_end


def _lerp(start: jax.Array, end: jax.Array, f: jax.Array) -> jax.Array:
    """``start + (end - start) f``, written to be exact at ``f = 0`` and ``f = 1``."""
    return start * (1 - f) + end * f


def _horner(x: jax.Array, coefs: list[float]) -> jax.Array:
    """``sum_i coefs[i] * x**i`` by Horner's rule."""
    out = jnp.zeros_like(x) + coefs[-1]
    for c in reversed(coefs[:-1]):
        out = out * x + c
    return out


# expm1(y) - y = y**2 * sum_n y**n / (n + 2)!  (used for y < 1).
_EXPM1_MINUS_Y = [1.0 / math.factorial(n + 2) for n in range(16)]
# (2 / a - 2 / x - 1) a x = sum_{n >= 3} a**n (n - 2) / (n (n - 1))
#                         = a**3 sum_m a**m (m + 1) / ((m + 3)(m + 2))  (used for a < 0.5).
_RADAM_A = [(m + 1) / ((m + 3) * (m + 2)) for m in range(48)]


def radam_rho(
    t: jax.Array, b2: jax.Array, one_minus_b2: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    """RAdam's ``(rho_t, rho_inf)``: ``rho_inf = 2 / (1 - b2) - 1``,
    ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)`` (``t >= 1``; smaller ``t`` count as 1).

    ``b2`` is clipped into ``[1e-6, 1 - 1e-7]``; ``rho_t`` increases with ``t``
    towards ``rho_inf``. Both terms of the difference are about ``2 / (1 - b2)``,
    so it is rewritten without the cancellation: with ``a = 1 - b2``,
    ``x = -log(b2)`` and ``y = t x``,
    ``rho_t = (2 / a - 2 / x - 1) + (2 / x) h(y)``, ``h(y) = 1 - y / (exp(y) - 1)``;
    the first term and ``h`` come from series without cancellation where small
    (about 3e-7 relative in float32). ``one_minus_b2``, when given and positive,
    replaces ``1 - b2``: float32 cannot hold b2 = 0.999 (it stores 0.99900001),
    but holds ``1 - b2`` = 0.001 to 3e-8 relative.
    """
    a = 1.0 - jnp.clip(b2, 1e-6, 1 - 1e-7)
    if one_minus_b2 is not None:
        a = jnp.where(one_minus_b2 > 0, jnp.clip(one_minus_b2, 1e-7, 1 - 1e-6), a)
    rho_inf = 2.0 / a - 1.0
    x = -jnp.log1p(-a)
    y = jnp.maximum(t, 1.0) * x
    em1 = jnp.expm1(jnp.minimum(y, 80.0))
    small_y = y < 1
    ys = jnp.where(small_y, y, 0.0)
    h_series = ys * ys * _horner(ys, _EXPM1_MINUS_Y) / jnp.where(small_y, em1, 1.0)
    h = jnp.where(small_y, h_series, 1.0 - y / em1)
    small_a = a < 0.5
    a_s = jnp.where(small_a, a, 0.0)
    first_series = a_s**3 * _horner(a_s, _RADAM_A) / jnp.where(small_a, a * x, 1.0)
    first = jnp.where(small_a, first_series, 2.0 / a - 2.0 / x - 1.0)
    return first + (2.0 / x) * h, rho_inf


def radam_rectification(
    t: jax.Array, b2: jax.Array, threshold: jax.Array, one_minus_b2: jax.Array | None = None
) -> jax.Array:
    """RAdam's variance rectification ``r_t`` (Liu et al. 2019), 0 where undefined.

    ``t`` counts from 1 at the first update; ``r_t`` is 0 where ``rho_t`` does not
    exceed ``threshold`` (clamped to at least 4 so the square root is real).
    ``one_minus_b2``, when given and positive, replaces ``1 - b2``: float32
    cannot hold b2 = 0.999 (it stores 0.99900001), but holds ``1 - b2`` = 0.001
    to 3e-8 relative.
    """
    threshold = jnp.maximum(threshold, 4.0)
    rho_t, rho_inf = radam_rho(t, b2, one_minus_b2)
    ok = (rho_t > threshold) & (t >= 1) & (rho_inf > 4.0)
    rho_s = jnp.where(ok, rho_t, 5.0)
    inf_s = jnp.where(ok, rho_inf, 5.0)
    r2 = (rho_s - 4.0) * (rho_s - 2.0) * inf_s / ((inf_s - 4.0) * (inf_s - 2.0) * rho_s)
    return jnp.where(ok, jnp.sqrt(jnp.maximum(r2, 0.0)), 0.0)


def _warp(p: jax.Array, q: jax.Array, k: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Progress ``p -> p**k`` and ``q -> 1 - p**k`` (k-decay), each accurate where small.

    ``k <= 0`` (and ``k = 1``) leaves the progress unchanged.
    """
    use = (k > 0) & (k != 1)
    k_s = jnp.where(use, k, 1.0)
    pos = p > 0
    # log p, from p where p is small and from q = 1 - p where p is near 1.
    log_p = jnp.where(p < 0.5, jnp.log(jnp.where(pos, p, 1.0)), jnp.log1p(-jnp.minimum(q, 0.5)))
    p_k = jnp.where(pos, jnp.exp(k_s * log_p), 0.0)
    q_k = jnp.where(pos, -jnp.expm1(k_s * log_p), 1.0)
    return jnp.where(use, p_k, p), jnp.where(use, q_k, q)


def floor_ratio(t: jax.Array, period: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(floor(t / period), t mod period)`` exactly, for ``t >= 0`` and ``period > 0``.

    XLA rewrites ``t / c`` as ``t * (1 / c)`` for a constant ``c``, and in float32
    ``41 * (1 / 41) = 0.99999994``: a plain ``floor(t / period)`` is one short at
    some periods under ``jit``. The remainder (``fmod``) is exact, so
    ``t - rem`` is a whole multiple of ``period`` and the rounded quotient is
    exact (for quotients below ``2**22`` in float32).
    """
    r = jax.lax.rem(t, period)
    return jnp.round((t - r) / period), r


def ceil_ratio(t: jax.Array, period: jax.Array) -> jax.Array:
    """``ceil(t / period)`` exactly, for ``t >= 0`` and ``period > 0`` (see :func:`floor_ratio`)."""
    q, r = floor_ratio(t, period)
    return q + (r > 0)


def _split(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Veltkamp's split of ``x`` into a high part of half the mantissa and the rest."""
    factor = 134217729.0 if x.dtype == jnp.float64 else 4097.0  # 2**(mantissa/2) + 1
    c = x * factor
    hi = c - (c - x)
    return hi, x - hi


def _two_product(x: jax.Array, y: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``x y = p + e`` exactly (Dekker's product): ``p`` the rounded product, ``e`` its error."""
    p = x * y
    x_hi, x_lo = _split(x)
    y_hi, y_lo = _split(y)
    e = ((x_hi * y_hi - p) + x_hi * y_lo + x_lo * y_hi) + x_lo * y_lo
    return p, e


def wave_multiplier(multiplier: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """A cosine-wave multiplier as ``(high, low)`` float32 parts of its float64 value.

    A concrete Python or NumPy multiplier keeps its float64 precision in the
    sum of the two parts (a traced one has no low part).
    """
    known = v.concrete_value(multiplier)
    if known is None or known.ndim != 0:
        return multiplier, 0.0
    m64 = float(np.asarray(known, np.float64))
    hi = np.float32(m64)
    return hi, np.float32(m64 - np.float64(hi))


def cosine_wave(multiplier: ArrayLike, *, restart: bool) -> ResolvedShape:
    """The periodic cosine shape: ``multiplier`` half-waves per length (:data:`COSINE_WAVE`)."""
    hi, lo = wave_multiplier(multiplier)
    return ResolvedShape(COSINE_WAVE, (hi, 1.0 if restart else 0.0, lo, 0.0))


def _cosine_wave(
    t: jax.Array,
    length: jax.Array,
    start: jax.Array,
    end: jax.Array,
    a: jax.Array,
    b: jax.Array,
    a_low: jax.Array,
) -> jax.Array:
    """``end + (start - end) (1 + cos(pi m / L)) / 2`` with ``m = ((a + a_low) t) mod 2L``,
    or ``mod L`` when ``b > 0`` (the value jumps back to ``start`` after every half-wave).

    The position is reduced exactly: ``a t`` is split into its rounded value and
    its exact rounding error (Dekker), the rounded value is reduced with the
    exact ``fmod``, and only the small remainder is rounded, so the phase stays
    accurate far past the first wave. Both weights are written as ``sin**2`` of
    a small angle, so the value stays accurate near its troughs. A zero
    ``length`` gives ``end``.
    """
    ok = length > 0
    big_l = jnp.where(ok, length, 1.0)
    period = jnp.where(b > 0, big_l, 2 * big_l)
    t = jnp.asarray(t, jnp.result_type(a, float))
    p, e = _two_product(jnp.asarray(a, t.dtype), t)
    m = jnp.mod(jnp.mod(p, period) + (e + a_low * t), period)
    w_start = jnp.sin(0.5 * jnp.pi * (big_l - m) / big_l) ** 2
    w_end = jnp.sin(0.5 * jnp.pi * jnp.minimum(m, 2 * big_l - m) / big_l) ** 2
    return jnp.where(ok, _mix(start, end, w_start, w_end), end)


def _power_cycle(
    t: jax.Array, length: jax.Array, start: jax.Array, end: jax.Array, a: jax.Array
) -> jax.Array:
    """TF / Keras polynomial decay with ``cycle=True``: with ``n = max(1, ceil(t / L))``,
    ``end + (start - end) ((n L - t) / (n L))**a`` (each cycle restarts lower, as the
    decay stretches over ``n L`` steps). A zero ``length`` gives ``end``.
    """
    ok = length > 0
    big_l = jnp.where(ok, length, 1.0)
    span = jnp.maximum(ceil_ratio(t, big_l), 1.0) * big_l
    x = (span - t) / span  # remaining fraction
    y = t / span  # elapsed fraction
    a = jnp.maximum(a, 1e-12)
    w_x = x**a
    w_y = jnp.where(y >= 1, 1.0, -jnp.expm1(a * jnp.log1p(-jnp.minimum(y, 1 - 1e-7))))
    return jnp.where(ok, _mix(start, end, w_x, w_y), end)


class ShapeArgs(NamedTuple):
    """What a shape function sees: the phase's time, values and progress.

    ``t``: steps into the phase (float); ``length``: steps of progress;
    ``start`` / ``end``: the phase's values; ``a, b, c, d``: its parameters;
    ``p`` / ``q``: the progress and ``1 - p`` (accurate near either end);
    ``fn``: the user function of a custom shape; ``static_power``: static
    promise that power and cosine exponents are this whole number (1..4; 0:
    no promise).
    """

    t: jax.Array
    length: jax.Array
    start: jax.Array
    end: jax.Array
    a: jax.Array
    b: jax.Array
    c: jax.Array
    d: jax.Array
    p: jax.Array
    q: jax.Array
    fn: ShapeFn | None
    static_power: int


def _constant(x: ShapeArgs) -> jax.Array:
    return x.start + jnp.zeros_like(x.t)


def _power_weights(x: ShapeArgs, rising: bool) -> jax.Array:
    # p**a and 1 - p**a (or q**a and 1 - q**a), each accurate where it is small:
    # 1 - x**a from y = 1 - x while y is small, else as the complement of w_x,
    # so that the weights sum to 1 (start == end gives a constant).
    u, y = (x.p, x.q) if rising else (x.q, x.p)
    k = x.static_power
    if k == 1:
        w_x, w_y = u, y
    elif k > 1:
        # u**k by multiplications; 1 - u**k = y (1 + u + ... + u**(k-1)), no cancellation.
        w_x = lax.integer_pow(u, k)
        w_y = jnp.where(y < 0.5, y * sum(lax.integer_pow(u, j) for j in range(k)), 1 - w_x)
    else:
        a = jnp.maximum(x.a, 1e-12)
        w_x = u**a
        w_y = jnp.where(y < 0.5, -jnp.expm1(a * jnp.log1p(-jnp.minimum(y, 0.5))), 1 - w_x)
    w_start, w_end = (w_y, w_x) if rising else (w_x, w_y)
    return _mix(x.start, x.end, w_start, w_end)


def _power_in(x: ShapeArgs) -> jax.Array:
    return _power_weights(x, rising=True)


def _power_out(x: ShapeArgs) -> jax.Array:
    return _power_weights(x, rising=False)


def _cosine(x: ShapeArgs) -> jax.Array:
    # (1 + cos(pi p)) / 2 = sin(pi q / 2)**2 and its complement sin(pi p / 2)**2.
    w_start = jnp.sin(0.5 * jnp.pi * x.q) ** 2
    w_end = jnp.sin(0.5 * jnp.pi * x.p) ** 2
    if x.static_power == 1:
        return _mix(x.start, x.end, w_start, w_end)
    if x.static_power > 1:
        w_start_a = lax.integer_pow(w_start, x.static_power)
        return _mix(x.start, x.end, w_start_a, 1 - w_start_a)
    w_start_a = w_start ** jnp.maximum(x.a, 1e-12)
    w_end = jnp.where(x.a == 1, w_end, 1 - w_start_a)
    return _mix(x.start, x.end, w_start_a, w_end)


def _exp_normalized(x: ShapeArgs) -> jax.Array:
    # expm1(-a p) / expm1(-a). For a < 0 (b = -a > 0) the ratio of two
    # overflowing exponentials is rewritten as exp(-b q) expm1(-b p) / expm1(-b),
    # q = 1 - p: every factor stays in [0, 1], so any finite rate gives a
    # finite value.
    small = jnp.abs(x.a) < 1e-6
    b_s = jnp.where(small, 1.0, jnp.abs(x.a))
    g = jnp.expm1(-b_s * x.p) / jnp.expm1(-b_s)
    g = jnp.where(x.a < 0, jnp.exp(-b_s * x.q) * g, g)
    return _lerp(x.start, x.end, jnp.where(small, x.p, g))


def _exp_approach(x: ShapeArgs) -> jax.Array:
    tau = jnp.maximum(x.a, 1e-12)
    return _lerp(x.start, x.end, -jnp.expm1(-x.t / tau))


def _geometric(x: ShapeArgs) -> jax.Array:
    start, end = x.start, x.end
    ok = (start > 0) & (end > 0)
    s_safe = jnp.where(ok, start, 1.0)
    e_safe = jnp.where(ok, end, 1.0)
    # log(end) - log(start), not log(end / start): the ratio of two normal
    # float32 values can leave float32's range (1e-36 / 1e3 is flushed to 0).
    geo = s_safe * jnp.exp(x.p * (jnp.log(e_safe) - jnp.log(s_safe)))
    return jnp.where(ok, geo, _lerp(start, end, x.p))


def log_rate(rate: ArrayLike) -> ArrayLike:
    """``log(rate)`` as :data:`EXP_RATE` stores it (its first parameter).

    A concrete rate's log is computed in float64 and rounded once: a rate near
    1 (torch ``ExponentialLR(gamma=0.99999)``) is not held exactly in float32
    (0.99999 is stored as 0.99998999), an error of 1.4e-3 relative in its log
    that ``rate**t`` multiplies by ``t`` (2.7e-6 relative at ``t = 200``). A
    traced rate takes the float32 log. A rate of 0 gives the most negative
    finite value (its ``rate**q`` is 0 for ``q > 0``, 1 at ``q = 0``); the
    result is always finite.

    Args:
      rate: the factor per step (>= 0), concrete or traced.

    Returns:
      ``log(rate)``: a float (or float64 array) for a concrete rate, a float32
      array for a traced one.

    Example:
      >>> import numpy as np
      >>> from optax_warmup.engine import shapes
      >>> float(np.float32(shapes.log_rate(0.99999)))  # log(0.99999), not log(0.99998999)
      -1.0000049769587349e-05
    """
    big = float(np.finfo(np.float32).max)
    known = v.concrete_value(rate)
    if known is not None and known.dtype != object:
        r64 = np.asarray(known, np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(np.maximum(r64, 0.0))
        logs = np.clip(np.nan_to_num(logs, nan=-big, neginf=-big), -big, big)
        return float(logs) if logs.ndim == 0 else logs
    r = jnp.asarray(rate, jnp.float32)
    return jnp.clip(jnp.log(jnp.maximum(r, 0.0)), -big, big)


def rate_from_log(log: float, dtype: Any = np.float32) -> float:
    """The rate :func:`log_rate` stores as ``log`` (in ``dtype``): its shortest decimal.

    The inverse a config writer needs: ``log_rate(rate_from_log(x))`` rounds to
    ``x`` in ``dtype`` (``log(0.5)`` held in float32 gives back 0.5, not
    0.49999998).

    Args:
      log: a stored ``log(rate)``.
      dtype: the dtype it is stored in.

    Returns:
      A rate (a Python float).

    Example:
      >>> import numpy as np
      >>> from optax_warmup.engine import shapes
      >>> shapes.rate_from_log(np.float32(shapes.log_rate(0.99999)))
      0.99999
    """
    target = np.asarray(log, dtype)
    exact = float(np.exp(np.float64(target)))
    for digits in range(1, 18):
        rate = float(f"{exact:.{digits}g}")
        if np.asarray(log_rate(rate), dtype) == target:
            return rate
    return exact


def _exp_rate(x: ShapeArgs) -> jax.Array:
    """``start * exp(a q / b)`` (``a = log(rate)``), ``q = t`` or ``floor(t / b)`` (staircase,
    ``c > 0``); clamped at ``end`` when ``d > 0``."""
    t, start, end, a, b, c, d = x.t, x.start, x.end, x.a, x.b, x.c, x.d
    steps = jnp.maximum(b, 1e-12)
    q = jnp.where(c > 0, floor_ratio(t, steps)[0], t / steps)
    # q = 0 gives start even for a rate of 0 (a = -max): the product is -0, not NaN.
    value = start * jnp.exp(jnp.where(q > 0, q * a, 0.0))
    # A growing rate (> 1, as peers allow) saturates at float32's largest
    # finite magnitude instead of reaching inf.
    big = jnp.finfo(value.dtype).max
    value = jnp.clip(value, -big, big)
    clamped = jnp.where(a < 0, jnp.maximum(value, end), jnp.minimum(value, end))
    return jnp.where(d > 0, clamped, value)


def _inv_sqrt(x: ShapeArgs) -> jax.Array:
    tau = jnp.maximum(x.a, 1e-12)
    stair = jnp.maximum(x.c, 1e-12)
    t_s = jnp.maximum(x.t, 0)
    t_s = jnp.where(x.c > 0, t_s - jax.lax.rem(t_s, stair), t_s)
    ratio = tau / (t_s + tau)
    k = jnp.where(x.b > 0, ratio ** jnp.maximum(x.b, 1e-12), jnp.sqrt(ratio))
    return _lerp(x.end, x.start, k)


def _tanh(x: ShapeArgs) -> jax.Array:
    # (1 - tanh(y)) / 2 = 1 / (1 + exp(2y)): no cancellation where tanh(y) nears 1.
    return _lerp(x.end, x.start, jax.nn.sigmoid(-2 * (x.a * x.q + x.b * x.p)))


def _radam(x: ShapeArgs) -> jax.Array:
    return _lerp(x.start, x.end, radam_rectification(x.t, x.a, x.b, x.c))


def _cosine_wave_kind(x: ShapeArgs) -> jax.Array:
    return _cosine_wave(x.t, x.length, x.start, x.end, x.a, x.b, x.c)


def _power_cycle_kind(x: ShapeArgs) -> jax.Array:
    return _power_cycle(x.t, x.length, x.start, x.end, x.a)


def _custom(x: ShapeArgs) -> jax.Array:
    if x.fn is None:  # pragma: no cover - guarded by the engine
        raise ValueError("custom shape without a function")
    f = jnp.asarray(x.fn(x.p), dtype=x.p.dtype)
    return _lerp(x.start, x.end, f)


# The shape of each built-in kind (custom kinds, from NUM_BUILTIN on, use ``_custom``).
SHAPE_FUNCTIONS: dict[int, Callable[[ShapeArgs], jax.Array]] = {
    CONSTANT: _constant,
    POWER_IN: _power_in,
    POWER_OUT: _power_out,
    COSINE: _cosine,
    EXP_NORMALIZED: _exp_normalized,
    EXP_APPROACH: _exp_approach,
    GEOMETRIC: _geometric,
    EXP_RATE: _exp_rate,
    INV_SQRT: _inv_sqrt,
    TANH: _tanh,
    RADAM: _radam,
    COSINE_WAVE: _cosine_wave_kind,
    POWER_CYCLE: _power_cycle_kind,
}
assert len(SHAPE_FUNCTIONS) == NUM_BUILTIN

# Kinds whose first parameter is an exponent that 1 makes plain (linear, cosine).
UNIT_POWER_KINDS = (POWER_IN, POWER_OUT, COSINE)
# Kinds that do not use the progress p, q (they read the time t directly).
_TIME_KINDS = (CONSTANT, EXP_APPROACH, EXP_RATE, INV_SQRT, RADAM, COSINE_WAVE, POWER_CYCLE)


def evaluate(
    kind: int,
    t: jax.Array,
    length: jax.Array,
    start: jax.Array,
    end: jax.Array,
    params: jax.Array,
    fn: ShapeFn | None = None,
    left: jax.Array | None = None,
    progress: tuple[jax.Array, jax.Array, jax.Array] | None = None,
    *,
    warp: bool = True,
    static_power: int = 0,
) -> jax.Array:
    """Value of a phase of shape ``kind`` at ``t`` steps into it (``t`` float, >= 0).

    ``params`` has ``NUM_PARAMS`` entries on its last axis. ``left`` is
    ``length - t`` when the caller can compute it more accurately (the engine
    does so in integers); it defaults to ``length - t``. ``progress``, when
    given, is a ``(time, length, left)`` triple with the same ratios as
    ``(t, length, left)`` from which the progress ``p`` and ``1 - p`` are taken
    instead (the engine passes real steps of a stretched cycle, exact where the
    position scaled back to the first cycle is not). ``warp=False`` promises
    that no progress warp applies (``d`` is 0 or 1), which skips its cost;
    ``static_power=k > 0`` that power and cosine exponents are ``k``. Every shape is
    safe for a zero ``length`` (the phase counts as complete) and never
    divides by zero. The shape of each kind is the function in
    ``SHAPE_FUNCTIONS``.
    """
    a, b, c, d = (params[..., i] for i in range(NUM_PARAMS))
    if kind in _TIME_KINDS:
        p = q = t  # unused by these shapes
    else:
        t_p, len_p, left_p = (t, length, left) if progress is None else progress
        p = _progress(t_p, len_p)
        q = _remaining(len_p - t_p if left_p is None else left_p, len_p)
        if warp and (kind in PROGRESS_KINDS or kind >= NUM_BUILTIN):
            p, q = _warp(p, q, d)
    x = ShapeArgs(t, length, start, end, a, b, c, d, p, q, fn, static_power)
    if kind >= NUM_BUILTIN:
        return _custom(x)
    if kind not in SHAPE_FUNCTIONS:  # pragma: no cover
        raise ValueError(f"unknown shape id {kind}")
    return SHAPE_FUNCTIONS[kind](x)
