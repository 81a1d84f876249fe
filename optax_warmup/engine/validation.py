"""Argument validation shared by every schedule and transform.

Concrete arguments (Python numbers, NumPy values, concrete JAX arrays) are
checked eagerly and raise ``ValueError`` naming the argument. Traced arguments
cannot raise; each helper documents the clamp it applies instead.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jax.typing import ArrayLike

_INT32_MAX = int(np.iinfo(np.int32).max)


def is_traced(x: Any) -> bool:
    """Whether ``x`` is a JAX tracer (its value is unknown at trace time)."""
    return isinstance(x, Tracer)


def concrete_value(x: Any) -> np.ndarray | None:
    """Return ``x`` as a NumPy array when its value is known, else ``None``."""
    if is_traced(x):
        return None
    try:
        return np.asarray(x)
    except Exception:
        return None


def x64_enabled() -> bool:
    """Whether 64-bit types are enabled in JAX."""
    return bool(jax.config.read("jax_enable_x64"))


def index_dtype() -> jnp.dtype:
    """The integer dtype used for counts and phase boundaries."""
    return jnp.dtype(jnp.int64 if x64_enabled() else jnp.int32)


def _describe(value: np.ndarray) -> str:
    return repr(value.item()) if value.ndim == 0 else repr(value.tolist())


def check_finite(name: str, value: ArrayLike) -> None:
    """Raise ``ValueError`` if a concrete ``value`` holds NaN or inf."""
    v = concrete_value(value)
    if v is None:
        return
    if v.dtype.kind in "fc" and not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {_describe(v)}.")
    if v.dtype.kind not in "biufc":
        raise ValueError(f"{name} must be a number, got {_describe(v)}.")


def check_range(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ``ValueError`` if a concrete ``value`` lies outside the interval."""
    check_finite(name, value)
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


def check_duration(name: str, value: ArrayLike) -> None:
    """Check a step count: a non-negative whole number that fits the index dtype.

    Traced durations are not checked; :func:`as_duration` rounds them to the
    nearest integer and clamps them at zero.
    """
    v = concrete_value(value)
    if v is None:
        return
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
    clamped at zero.
    """
    idt = index_dtype()
    v = concrete_value(value)
    if v is not None:
        return jnp.asarray(np.asarray(v).astype(idt))
    x = jnp.asarray(value)
    if jnp.issubdtype(x.dtype, jnp.floating):
        x = jnp.round(x)
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
