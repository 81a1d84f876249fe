"""Warmup factors tied to Adam's ``b2``, and the effective warmup period of a factor.

Ma & Yarats (2019) showed that the RAdam rectification (Liu et al. 2019) acts
as a warmup whose length follows from ``b2``, and that two untuned warmups
with the same effective period ``T(w) = sum_t (1 - w_t)`` work as well:
``w_t = min(1, (1 - b2) t / 2)`` and ``w_t = 1 - exp(-(1 - b2) t)``. Here ``t``
counts from 1 at the first update (``t = count + 1``), and the periods are
exact: ``2 / (1 - b2)`` is a float progress length, not an integer truncation.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine

B2_RANGE = (1e-6, 1.0 - 1e-7)  # where a traced b2 is clipped
_BLOCK_ROWS = 64
_BLOCK = _BLOCK_ROWS * _BLOCK_ROWS


def _check_b2(b2: ArrayLike) -> None:
    v.check_range("b2", b2, low=0.0, high=1.0, low_open=True, high_open=True)
    c = v.concrete_value(b2)
    if c is not None and c.ndim != 0:
        raise ValueError(f"b2 must be a scalar (use jax.vmap for a sweep), got shape {c.shape}.")


def _over_one_minus(b2: ArrayLike, scale: float) -> ArrayLike:
    """``scale / (1 - b2)``: float64 for a concrete ``b2``, float32 (``b2`` clipped) if traced."""
    c = v.concrete_value(b2)
    if c is not None:
        return float(scale / (1.0 - np.float64(c)))
    b = jnp.clip(jnp.asarray(b2, jnp.float32), *B2_RANGE)
    return scale / (1.0 - b)


def _ceil_steps(length: ArrayLike) -> ArrayLike:
    """The whole number of steps a phase of float ``length`` needs, within the index range."""
    limit = int(np.iinfo(v.index_dtype()).max)
    if isinstance(length, float):
        return min(int(np.ceil(length)), limit)
    return jnp.ceil(length).astype(v.index_dtype())  # below 2**25 for a clipped b2


def untuned_linear_warmup(b2: ArrayLike) -> _engine.PhaseSchedule:
    """Untuned linear warmup factor (Ma & Yarats 2019): ``w = min(1, (1 - b2) t / 2)``.

    ``t = count + 1``, so the first update gets ``(1 - b2) / 2`` and the factor
    reaches 1 after ``2 / (1 - b2)`` updates (2000 at ``b2 = 0.999``), the
    period taken exactly (pytorch_warmup truncates it to an integer). Its
    effective warmup period is ``1 / (1 - b2) - 1/2``.

    Args:
      b2: Adam's second-moment decay, in (0, 1). A traced ``b2`` is clipped
        into ``[1e-6, 1 - 1e-7]``.

    Returns:
      A factor schedule (use it with :func:`with_warmup` or multiply a learning rate).

    Raises:
      ValueError: if a concrete ``b2`` lies outside (0, 1).

    Example:
      >>> import optax_warmup as ow
      >>> w = ow.untuned_linear_warmup(0.999)
      >>> [float(w(c)) for c in (0, 1, 1998, 1999, 5000)]
      [0.0005, 0.001, 0.9995, 1.0, 1.0]

    References:
      Ma & Yarats, On the adequacy of untuned warmup for adaptive optimization, 2019.
    """
    _check_b2(b2)
    period = _over_one_minus(b2, 2.0)
    phase = _build.warmup_phase(1.0, _ceil_steps(period), "linear", length=period)
    return _engine.stack_phases([phase, _build.hold_phase(1.0)])


def untuned_exponential_warmup(b2: ArrayLike) -> _engine.PhaseSchedule:
    """Untuned exponential warmup factor (Ma & Yarats 2019): ``w = 1 - exp(-(1 - b2) t)``.

    ``t = count + 1``; the time constant is ``1 / (1 - b2)`` exactly and the
    factor approaches 1 without reaching it. Its effective warmup period is
    ``1 / (exp(1 - b2) - 1)``, about ``1 / (1 - b2) - 1/2``.

    Args:
      b2: Adam's second-moment decay, in (0, 1) (traced: clipped as in
        :func:`untuned_linear_warmup`).

    Returns:
      A factor schedule.

    Raises:
      ValueError: if a concrete ``b2`` lies outside (0, 1).

    Example:
      >>> import optax_warmup as ow
      >>> w = ow.untuned_exponential_warmup(0.999)
      >>> round(float(w(0)), 7), round(float(w(999)), 4)
      (0.0009995, 0.6321)

    References:
      Ma & Yarats, On the adequacy of untuned warmup for adaptive optimization, 2019.
    """
    _check_b2(b2)
    shape = _build.exp_approach(_over_one_minus(b2, 1.0))
    return _engine.stack_phases([_build.warmup_phase(1.0, 0, shape)])


@jax.jit
def _first_defined_step(b2: jax.Array, threshold: jax.Array, one_minus_b2: jax.Array) -> jax.Array:
    """The smallest ``t >= 1`` with ``rho_t > threshold`` (bisection; ``rho_t`` increases).

    Returns ``2**30`` when no such ``t`` exists below it.
    """
    b2 = jnp.asarray(b2, jnp.float32)
    threshold = jnp.maximum(jnp.asarray(threshold, jnp.float32), 4.0)

    def halve(_: int, bounds: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        lo, hi = bounds
        mid = (lo + hi) // 2
        ok = _shapes.radam_rho(mid.astype(jnp.float32), b2, one_minus_b2)[0] > threshold
        return jnp.where(ok, lo, mid), jnp.where(ok, mid, hi)

    # rho_0 = rho_1 = 1 <= threshold; 30 halvings take [0, 2**30] to adjacent integers.
    bounds = (jnp.zeros(b2.shape, jnp.int32), jnp.full(b2.shape, 2**30, jnp.int32))
    return jax.lax.fori_loop(0, 30, halve, bounds)[1]


def radam_warmup(b2: ArrayLike, threshold: ArrayLike = 5.0) -> _engine.PhaseSchedule:
    """RAdam's rectification as a warmup factor (Liu et al. 2019), first update not wasted.

    ``rho_inf = 2 / (1 - b2) - 1``, ``rho_t = rho_inf - 2 t b2**t / (1 - b2**t)``,
    ``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.
    ``r_t`` is defined once ``rho_t > threshold``; as in pytorch_warmup the
    factor skips the undefined steps: count ``c`` gets ``r_(c + t0)``, ``t0``
    the first ``t`` with ``rho_t > threshold`` (6 at ``b2 = 0.999`` and the
    default threshold 5, the value optax's ``radam`` uses; 5 with threshold 4,
    the paper's). The effective warmup period is about 1028 at ``b2 = 0.999``
    (1029 with threshold 4).

    Args:
      b2: Adam's second-moment decay, in (0, 1). A concrete ``b2`` is used at its
        float64 value (float32 holds 0.999 as 0.99900001); a traced one is
        clipped into ``[1e-6, 1 - 1e-7]``.
      threshold: the ``rho_t`` above which the rectification applies, >= 4.
        A traced threshold is raised to 4; a traced threshold that ``rho_t``
        never exceeds gives a factor of 0 (no update) rather than an error.

    Returns:
      A factor schedule (open-ended: it keeps approaching 1).

    Raises:
      ValueError: if a concrete ``b2`` lies outside (0, 1), ``threshold`` is
        below 4, or ``threshold >= rho_inf`` (the factor would never be defined).

    Example:
      >>> import optax_warmup as ow
      >>> w = ow.radam_warmup(0.999)
      >>> round(float(w(0)), 4), round(float(w(10_000)), 4)
      (0.0258, 1.0)

    References:
      Liu et al., On the variance of the adaptive learning rate and beyond, 2019.
    """
    _check_b2(b2)
    v.check_range("threshold", threshold, low=4.0)
    b2_c, th_c = v.concrete_value(b2), v.concrete_value(threshold)
    if b2_c is not None and th_c is not None:
        rho_inf = 2.0 / (1.0 - np.float64(b2_c)) - 1.0
        if np.any(th_c >= rho_inf):
            raise ValueError(
                f"threshold={th_c.tolist()!r} is not below rho_inf = 2 / (1 - b2) - 1 = "
                f"{rho_inf:.6g} for b2={b2_c.tolist()!r}: the RAdam factor would never be "
                "defined; lower threshold or raise b2."
            )
    # 1 - b2 from the float64 value when known (float32 holds 0.999 as 0.99900001);
    # 0 means "take 1 - b2".
    eps = 0.0 if b2_c is None or b2_c.ndim != 0 else float(1.0 - np.float64(b2_c))
    shape = _build.radam(b2, threshold, one_minus_b2=eps)
    first = _first_value_float64(b2_c, th_c)
    if first is not None:
        # The first defined step can sit just above the threshold, where rho_t - 4 is
        # tiny and float32 loses it: its step and value come from a float64 evaluation.
        t0, r0 = first
        table = _table_float64(b2_c, th_c, t0)
        if table is not None:
            # A small b2 (0.6 < b2 < 0.9): float32 cannot hold rho_inf - 4 = (2 - 5(1 - b2)) /
            # (1 - b2) accurately near 0.6 (1.2e-4 relative at 0.6001), but the factor rounds
            # to 1 in float32 within a few dozen steps: those steps come from float64.
            n = table.shape[0]
            held = np.concatenate([table, [1.0]])
            spans = np.concatenate([np.ones(n, np.int64), [0]])
            return _engine.from_arrays(spans, held, held, kinds=_shapes.CONSTANT)
        head = _build.hold_phase(r0, 1)
        return _engine.stack_phases([head, _build.warmup_phase(1.0, 0, shape, offset=t0 + 1)])
    t0 = _first_defined_step(jnp.asarray(b2), jnp.asarray(threshold), jnp.float32(eps))
    return _engine.stack_phases([_build.warmup_phase(1.0, 0, shape, offset=t0)])


def _first_value_float64(
    b2: np.ndarray | None, threshold: np.ndarray | None
) -> tuple[int, float] | None:
    """``(t0, r_t0)`` for a concrete scalar ``b2`` and threshold, evaluated in float64.

    ``t0`` is the first ``t`` with ``rho_t > threshold`` (searched up to ``2**16``);
    ``None`` when an argument is traced or not scalar, or no ``t0`` is found there.
    """
    if b2 is None or threshold is None or b2.ndim != 0 or threshold.ndim != 0:
        return None
    with _float64_now():
        b2_64, eps, th = _radam_args_float64(b2, threshold)
        t = jnp.arange(1, 2**16 + 1, dtype=jnp.float64)
        above = np.flatnonzero(np.asarray(_shapes.radam_rho(t, b2_64, eps)[0] > th))
        if above.size == 0:
            return None
        t0 = int(above[0]) + 1
        r0 = _shapes.radam_rectification(jnp.asarray(t0, jnp.float64), b2_64, th, eps)
        return t0, float(r0)


def _float64_now() -> contextlib.ExitStack:
    """A context in which jnp computes now, in float64, even while tracing."""
    stack = contextlib.ExitStack()
    stack.enter_context(jax.enable_x64(True))
    stack.enter_context(jax.ensure_compile_time_eval())
    return stack


def _radam_args_float64(b2: np.ndarray, threshold: np.ndarray) -> tuple[jax.Array, ...]:
    """``(b2, 1 - b2, max(threshold, 4))`` as float64 arrays (inside :func:`_float64_now`)."""
    f64 = jnp.float64
    return (
        jnp.asarray(float(b2), f64),
        jnp.asarray(1.0 - float(b2), f64),
        jnp.asarray(max(float(threshold), 4.0), f64),
    )


# The most steps held as a float64 table by ``radam_warmup`` (b2 up to about 0.9).
_TABLE_STEPS = 256


def _table_float64(
    b2: np.ndarray | None, threshold: np.ndarray | None, t0: int
) -> np.ndarray | None:
    """``r_t`` for ``t = t0, t0 + 1, ...`` in float64, up to the first that rounds to 1 in
    float32 (excluded); ``None`` when that takes more than ``_TABLE_STEPS`` steps."""
    if b2 is None or threshold is None or b2.ndim != 0 or threshold.ndim != 0:
        return None
    with _float64_now():
        b2_64, eps, th = _radam_args_float64(b2, threshold)
        t = jnp.arange(t0, t0 + _TABLE_STEPS + 1, dtype=jnp.float64)
        r = np.asarray(_shapes.radam_rectification(t, b2_64, th, eps), np.float64)
    done = np.flatnonzero(np.float32(r) == np.float32(1.0))
    if done.size == 0:
        return None
    return r[: int(done[0])]


def effective_warmup_period(
    schedule_or_factor: Callable[[ArrayLike], ArrayLike] | ArrayLike,
    num_steps: ArrayLike | None = None,
    *,
    tol: ArrayLike = 1e-7,
    max_steps: int = 2**26,
) -> jax.Array:
    """The effective warmup period ``T(w) = sum_t (1 - w_t)`` (Ma & Yarats 2019).

    The sum runs over counts ``0 .. num_steps - 1``, or, with ``num_steps=None``,
    until a block of 4096 counts in which every ``|1 - w_t| <= tol`` (the
    factor has converged to 1). Both untuned warmups at ``b2 = 0.999`` give
    999.5; ``radam_warmup(0.999, threshold=4)`` gives about 1029.3.

    Args:
      schedule_or_factor: a factor schedule (``count -> w``), or an array of
        factor values ``w_0, w_1, ...`` (then ``num_steps`` must be ``None``).
      num_steps: how many counts to sum over (traced allowed), or ``None`` to
        sum until the factor converges.
      tol: the convergence tolerance on ``|1 - w_t|`` (> 0).
      max_steps: the most counts summed when ``num_steps`` is ``None``.

    Returns:
      ``T(w)`` as a float32 scalar (float64 under x64). With ``num_steps=None``
      and a traced schedule that does not converge within ``max_steps``: inf.

    Raises:
      ValueError: for a bad ``tol``, ``num_steps`` or ``max_steps``, or when a
        concrete schedule does not converge to 1 within ``max_steps``.

    Example:
      >>> import optax_warmup as ow
      >>> float(ow.effective_warmup_period(ow.untuned_linear_warmup(0.999)))
      999.5
      >>> float(ow.effective_warmup_period(ow.warmup_factor(10), 10))
      4.5
    """
    fdt = jnp.float64 if v.x64_enabled() else jnp.float32
    if not callable(schedule_or_factor):
        if num_steps is not None:
            raise ValueError("num_steps applies to a schedule; with factor values pass None.")
        v.check_finite("schedule_or_factor", schedule_or_factor)
        return jnp.sum(1 - jnp.asarray(schedule_or_factor, fdt))
    v.check_range("tol", tol, low=0.0, low_open=True)
    max_steps = v.check_int_arg("max_steps", max_steps, low=1)
    idt = v.index_dtype()
    room = int(np.iinfo(idt).max) - _BLOCK
    if num_steps is None:
        limit = jnp.asarray(min(max_steps, room), idt)
    else:
        limit = jnp.minimum(v.as_duration("num_steps", num_steps), room)
    schedule = _combine.as_schedule(schedule_or_factor, "schedule_or_factor")
    total = _period(schedule, limit, jnp.asarray(tol, fdt), num_steps is None)
    c = v.concrete_value(total)
    if c is not None and not np.isfinite(c):
        raise ValueError(
            f"schedule_or_factor does not converge to 1 within max_steps={max_steps} "
            f"(tol={tol}); pass num_steps to sum over a fixed number of steps."
        )
    return total


@functools.partial(jax.jit, static_argnames=("until_converged",))
def _period(
    schedule: Callable[[ArrayLike], ArrayLike],
    limit: jax.Array,
    tol: jax.Array,
    until_converged: bool,
) -> jax.Array:
    """Blockwise ``sum(1 - w)`` over ``[0, limit)``, Kahan-compensated across blocks."""
    fdt = tol.dtype
    offsets = jnp.arange(_BLOCK, dtype=limit.dtype)
    zero = jnp.zeros((), fdt)

    def cond(carry: tuple[jax.Array, ...]) -> jax.Array:
        start, _, _, done = carry
        return jnp.logical_and(jnp.logical_not(done), start < limit)

    def body(carry: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
        start, total, comp, _ = carry
        counts = start + offsets
        w = jnp.asarray(jax.vmap(schedule)(counts), fdt)
        gap = jnp.where(counts < limit, 1 - w, 0)
        block = jnp.sum(jnp.sum(gap.reshape(_BLOCK_ROWS, _BLOCK_ROWS), axis=1))
        y = block - comp
        t = total + y
        comp = (t - total) - y
        done = jnp.logical_and(until_converged, jnp.all(jnp.abs(gap) <= tol))
        return start + _BLOCK, t, comp, done

    init = (jnp.zeros((), limit.dtype), zero, zero, jnp.asarray(False))
    _, total, _, done = jax.lax.while_loop(cond, body, init)
    if until_converged:
        total = jnp.where(done, total, jnp.inf)
    return total
