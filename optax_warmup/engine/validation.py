"""Argument validation shared by every schedule and transform.

Concrete arguments (Python numbers, NumPy values, concrete JAX arrays) are
checked eagerly and raise ``ValueError`` naming the argument. Traced arguments
cannot raise; each helper documents the clamp it applies instead.

Values are computed in float32, so a value must be a real number that float32
holds: finite and at most ``3.4028235e38`` in magnitude (a finite Python
float such as ``1e39`` becomes inf after the cast). Magnitudes below float32's
smallest normal number (``1.1754944e-38``) are accepted and may be flushed to
0 by the backend. Wrong types (``None``, strings, bytes, complex
numbers) raise ``ValueError`` naming the argument, at construction.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jax.typing import ArrayLike

_INT32_MAX = int(np.iinfo(np.int32).max)
_INT64_MAX = int(np.iinfo(np.int64).max)
F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = float(np.finfo(np.float32).tiny)
LOG_F32_MAX = float(np.log(F32_MAX))


def is_traced(x: Any) -> bool:
    """Whether ``x`` is a JAX tracer (its value is unknown at trace time)."""
    return isinstance(x, Tracer)


def concrete_value(x: Any) -> np.ndarray | None:
    """Return ``x`` as a NumPy array when its value is known, else ``None``.

    Values NumPy cannot hold as numbers (``None``, bytes, ragged lists, Python
    ints beyond 64 bits) come back as an ``object`` array for the checks to
    reject by name.
    """
    if is_traced(x):
        return None
    try:
        return np.asarray(x)
    except Exception:
        a = np.empty((), dtype=object)
        a[()] = x
        return a


def x64_enabled() -> bool:
    """Whether 64-bit types are enabled in JAX."""
    return bool(jax.config.read("jax_enable_x64"))


def index_dtype() -> jnp.dtype:
    """The integer dtype used for counts and phase boundaries."""
    return jnp.dtype(jnp.int64 if x64_enabled() else jnp.int32)


def _describe(value: np.ndarray) -> str:
    text = repr(value.item()) if value.ndim == 0 else repr(value.tolist())
    return text if len(text) <= 80 else text[:77] + "..."


def _is_big_int(v: np.ndarray) -> bool:
    """A Python int too large for NumPy's integer types (an object array)."""
    return v.dtype == object and v.ndim == 0 and type(v.item()) is int


def _check_scalar(name: str, v: np.ndarray, scalar: bool) -> None:
    if scalar and v.ndim != 0 and not _is_big_int(v):
        raise ValueError(f"{name} must be a single number, got {_describe(v)}.")


def check_finite(name: str, value: object, *, scalar: bool = False) -> None:
    """Raise ``ValueError`` unless a concrete ``value`` is a real number float32 holds.

    Rejected: NaN and inf; finite values beyond float32's range (``1e39``,
    which the cast turns into inf); complex numbers; anything not a number
    (``None``, strings, bytes, ragged lists); with ``scalar=True``, arrays and
    lists. Traced values are not checked.
    """
    v = concrete_value(value)
    if v is None:
        return
    if v.dtype != object:
        _check_scalar(name, v, scalar)
    if _is_big_int(v):
        raise ValueError(f"{name}={v.item()} does not fit float32 (|x| <= {F32_MAX:.8g}).")
    if v.dtype.kind == "c":
        raise ValueError(f"{name} must be a real number, got {_describe(v)}.")
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a number, got {_describe(v)}.")
    if v.dtype.kind == "f":
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, got {_describe(v)}.")
        mag = np.abs(v.astype(np.float64))
        if np.any(mag > F32_MAX):
            raise ValueError(
                f"{name}={_describe(v)} does not fit float32 (|x| <= {F32_MAX:.8g}); "
                "it would become inf."
            )
    elif v.dtype.kind in "iu" and np.any(np.abs(v.astype(np.float64)) > F32_MAX):
        raise ValueError(f"{name}={_describe(v)} does not fit float32.")  # pragma: no cover


def check_growth(name: str, value: ArrayLike, log_peak: float, where: str) -> None:
    """Raise ``ValueError`` naming ``name`` if a schedule would overflow float32.

    ``log_peak`` is the natural log of the largest magnitude the schedule
    reaches (computed by the caller in float64 from concrete arguments, e.g.
    ``log|peak| + (cycles - 1) log(cycle_decay)``); ``where`` says when it is
    reached. Traced arguments are the caller's to clamp.
    """
    if log_peak > LOG_F32_MAX:
        raise ValueError(
            f"{name}={_describe(np.asarray(value))} makes the schedule overflow float32 "
            f"(about 1e{log_peak / np.log(10):.0f} {where}; float32 holds up to "
            f"{F32_MAX:.3g})."
        )


def check_range(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    scalar: bool = False,
) -> None:
    """Raise ``ValueError`` if a concrete ``value`` lies outside the interval
    (or, with ``scalar=True``, is not a single number)."""
    check_finite(name, value, scalar=scalar)
    v = concrete_value(value)
    if v is None:
        return
    ok = np.ones(v.shape, dtype=bool)
    if low is not None:
        ok &= (v > low) if low_open else (v >= low)
    if high is not None:
        ok &= (v < high) if high_open else (v <= high)
    if not np.all(ok):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        lo_s = "-inf" if low is None else f"{low:g}"
        hi_s = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must lie in {lo}{lo_s}, {hi_s}{hi}, got {_describe(v)}.")


def check_cycle_decay(
    name: str,
    cycle_decay: ArrayLike,
    *,
    starts: ArrayLike,
    ends: ArrayLike,
    scales: ArrayLike,
    period: ArrayLike,
    num_cycles: ArrayLike | None,
    cycle_mul: ArrayLike,
) -> None:
    """Raise ``ValueError`` if a concrete ``cycle_decay > 1`` overflows float32.

    Cycle ``i``'s values are ``x * cycle_decay**(i * scale)``. The last cycle a
    count can reach is the smaller of ``num_cycles`` and the cycles that fit
    in the index range (``period`` steps each, times ``cycle_mul**i``); the
    largest value there must fit float32. Traced arguments are not checked.
    """
    check_range(name, cycle_decay, low=0.0)
    parts = [concrete_value(x) for x in (cycle_decay, starts, ends, scales, period, cycle_mul)]
    limit = None if num_cycles is None else concrete_value(num_cycles)
    if any(p is None for p in parts) or (num_cycles is not None and limit is None):
        return
    decay, s, e, sc, per, mul = (np.asarray(p, dtype=np.float64) for p in parts)
    if decay.ndim or mul.ndim or float(decay) <= 1.0:
        return
    idx_max = float(np.iinfo(index_dtype()).max)
    per_f = max(float(np.sum(per)), 1.0)
    mul_f = float(mul)
    if mul_f > 1.0:
        fit = np.floor(np.log1p(idx_max * (mul_f - 1.0) / per_f) / np.log(mul_f)) + 1.0
    else:
        fit = np.floor(idx_max / per_f) + 1.0
    cycles = fit if limit is None else min(fit, float(np.max(limit)))
    sc = np.broadcast_to(sc, (max(s.size, 1), 2)) if sc.ndim else np.zeros((1, 2))
    log_peak = -np.inf
    for x, k in ((s, sc[..., 0]), (e, sc[..., 1])):
        mag = np.abs(np.broadcast_to(x, k.shape))
        ok = mag > 0
        if np.any(ok):
            logs = np.log(mag[ok]) + (cycles - 1.0) * np.maximum(k[ok], 0.0) * np.log(decay)
            log_peak = max(log_peak, float(np.max(logs)))
    where = f"in cycle {int(cycles) - 1}; limit the number of cycles or lower it"
    check_growth(name, decay, log_peak, where)


def check_duration(name: str, value: ArrayLike, *, scalar: bool = False) -> None:
    """Check a step count: a non-negative whole number that fits the index dtype.

    ``scalar=True`` also refuses arrays and lists. Traced durations are not
    checked; :func:`as_duration` rounds them to the nearest integer and clamps
    them at zero.
    """
    v = concrete_value(value)
    if v is None:
        return
    if v.dtype != object:
        _check_scalar(name, v, scalar)
    if _is_big_int(v) or (v.dtype.kind == "u" and np.any(v > _INT64_MAX)):
        raise ValueError(f"{name}={_describe(v)} exceeds the int64 range of step counts.")
    if v.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a whole number of steps, got {_describe(v)}.")
    if v.dtype.kind == "f":
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite, got {_describe(v)}.")
        if not np.all(v == np.floor(v)):
            raise ValueError(
                f"{name} must be a whole number of steps, got {_describe(v)}; "
                "use optax_warmup.steps_from_fraction or steps_from_epochs to convert."
            )
    if np.any(v < 0):
        raise ValueError(f"{name} must be >= 0, got {_describe(v)}.")
    if np.any(v.astype(np.float64) >= 2.0**63):
        raise ValueError(f"{name}={_describe(v)} exceeds the int64 range of step counts.")
    if not x64_enabled() and np.any(v > _INT32_MAX):
        raise ValueError(
            f"{name}={_describe(v)} exceeds the int32 range; enable 64-bit counts with "
            "jax.config.update('jax_enable_x64', True)."
        )


def as_duration(name: str, value: ArrayLike) -> jax.Array:
    """Validate ``value`` as a step count and return it as an index-dtype array.

    Concrete values are validated by :func:`check_duration`. Traced values are
    rounded to the nearest integer (when floating) and clamped at zero.
    """
    check_duration(name, value)
    return duration_array(value)


def duration_array(value: ArrayLike) -> jax.Array:
    """``value`` as an index-dtype step count, unchecked (for inputs already validated).

    Traced values are rounded to the nearest integer (when floating) and
    clamped into ``[0, max]`` of the index dtype before the cast, so a huge
    float saturates instead of overflowing (``max`` is the largest float below
    ``2**31``, ``2**63`` under x64); a NaN gives 0.
    """
    idt = index_dtype()
    v = concrete_value(value)
    if v is not None:
        return jnp.asarray(np.asarray(v).astype(idt))
    x = jnp.asarray(value)
    hi = int(np.iinfo(idt).max)
    if jnp.issubdtype(x.dtype, jnp.floating):
        if jnp.finfo(x.dtype).bits < 32:
            x = x.astype(jnp.float32)
        fdt = np.dtype(x.dtype)
        top = float(np.nextafter(np.asarray(hi + 1, fdt), np.asarray(0, fdt)))
        x = jnp.clip(jnp.where(jnp.isnan(x), 0.0, jnp.round(x)), 0, top)
    elif jnp.issubdtype(x.dtype, jnp.unsignedinteger) or (
        jnp.issubdtype(x.dtype, jnp.integer) and jnp.iinfo(x.dtype).max > hi
    ):
        x = jnp.minimum(x, jnp.asarray(hi).astype(x.dtype))
    return jnp.maximum(x.astype(idt), 0)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


def check_int_arg(name: str, value: Any, *, low: int = 0) -> int:
    """A static Python integer argument (e.g. a number of phases)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a Python integer, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    return int(value)
