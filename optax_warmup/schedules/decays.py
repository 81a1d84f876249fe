"""Decay schedules: from an initial value down to a final one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v


def final_value(
    init_value: ArrayLike, end_value: ArrayLike | None, end_ratio: ArrayLike | None
) -> tuple[ArrayLike, float]:
    """The final value given absolutely or as a ratio of ``init_value`` (default 0).

    Returns the value and whether it scales with the peak across cycles (1.0
    for a ratio, 0.0 for an absolute floor).
    """
    if end_value is not None and end_ratio is not None:
        raise ValueError("Pass end_value or end_ratio, not both.")
    if end_ratio is not None:
        v.check_finite("end_ratio", end_ratio, scalar=True)
        return jnp.asarray(init_value, jnp.float32) * jnp.asarray(end_ratio, jnp.float32), 1.0
    if end_value is not None:
        v.check_finite("end_value", end_value, scalar=True)
        return end_value, 0.0
    return 0.0, 0.0


def check_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    shape: _shapes.ShapeLike,
    *,
    init_name: str = "init_value",
    steps_name: str = "decay_steps",
) -> _shapes.ResolvedShape:
    """Validate a decay's arguments (once, at the public boundary) and resolve its shape."""
    v.check_duration(steps_name, decay_steps, scalar=True)
    v.check_finite(init_name, init_value, scalar=True)
    return _shapes.resolve(shape, "decay")


def decay_schedule(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    shape: _shapes.ShapeLike = "cosine",
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    dtype: Any = None,
) -> _engine.PhaseSchedule:
    """Decay from ``init_value`` to a final value over ``decay_steps``, then hold it.

    ``value(c) = init + (end - init) * f(c / D)`` for ``c < D``, ``end`` after,
    where ``f`` is the decay shape: linear ``p``, cosine
    ``1 - ((1 + cos(pi p)) / 2)**exponent``, polynomial ``1 - (1 - p)**power``,
    1-sqrt ``sqrt(p)``, exponential (geometric, ``init * (end / init)**p``),
    tanh, constant, or your own function.

    Args:
      init_value: value at count 0.
      decay_steps: decay length in steps.
      shape: the decay shape.
      end_value: final value (absolute); default 0.
      end_ratio: final value as a ratio of ``init_value`` (instead of ``end_value``).
      dtype: output dtype (float32 by default).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.decay_schedule(1.0, 4, shape="linear", end_ratio=0.2)
      >>> [round(float(s(c)), 3) for c in range(6)]
      [1.0, 0.8, 0.6, 0.4, 0.2, 0.2]
    """
    resolved = check_decay(init_value, decay_steps, shape)
    end, end_scales = final_value(init_value, end_value, end_ratio)
    phase = _build.decay_phase(init_value, decay_steps, end, resolved, end_scale=end_scales)
    return _engine.stack_phases([phase, _build.hold_phase(end, scale=end_scales)], dtype=dtype)


def linear_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """Linear decay: ``init + (end - init) * c / D``, then ``end``.

    Example:
      >>> import optax_warmup as ow
      >>> [float(ow.linear_decay(1.0, 4)(c)) for c in range(5)]
      [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    return decay_schedule(
        init_value, decay_steps, shape="linear", end_value=end_value, end_ratio=end_ratio
    )


def cosine_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    exponent: ArrayLike = 1.0,
) -> _engine.PhaseSchedule:
    """Cosine decay: ``end + (init - end) * ((1 + cos(pi c / D)) / 2)**exponent``.

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with
    Warm Restarts", 2017.

    Example:
      >>> import optax_warmup as ow
      >>> [round(float(ow.cosine_decay(1.0, 4)(c)), 4) for c in range(5)]
      [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    return decay_schedule(
        init_value,
        decay_steps,
        shape=_shapes.cosine(exponent),
        end_value=end_value,
        end_ratio=end_ratio,
    )


def polynomial_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    power: ArrayLike = 1.0,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """Polynomial decay: ``end + (init - end) * (1 - c / D)**power``.

    Example:
      >>> import optax_warmup as ow
      >>> [float(ow.polynomial_decay(1.0, 2, power=2.0)(c)) for c in range(3)]
      [1.0, 0.25, 0.0]
    """
    return decay_schedule(
        init_value,
        decay_steps,
        shape=_shapes.polynomial(power),
        end_value=end_value,
        end_ratio=end_ratio,
    )


def one_minus_sqrt_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """1-sqrt decay: ``end + (init - end) * (1 - sqrt(c / D))``.

    Reference: Haegele et al., "Scaling Laws and Compute-Optimal Training Beyond
    Fixed Training Durations", 2024.

    Example:
      >>> import optax_warmup as ow
      >>> [round(float(ow.one_minus_sqrt_decay(1.0, 4)(c)), 4) for c in range(5)]
      [1.0, 0.5, 0.2929, 0.134, 0.0]
    """
    return decay_schedule(
        init_value, decay_steps, shape="1-sqrt", end_value=end_value, end_ratio=end_ratio
    )


def tanh_decay(
    init_value: ArrayLike,
    decay_steps: ArrayLike,
    *,
    end_value: ArrayLike | None = None,
    end_ratio: ArrayLike | None = None,
    lower: ArrayLike = -7.0,
    upper: ArrayLike = 3.0,
) -> _engine.PhaseSchedule:
    """timm's tanh decay: ``end + (init - end) * (1 - tanh(lower (1 - p) + upper p)) / 2``.

    The curve is not normalised (as in timm): it starts a hair below ``init``.

    Example:
      >>> import optax_warmup as ow
      >>> round(float(ow.tanh_decay(1.0, 10)(0)), 6)
      0.999999
    """
    return decay_schedule(
        init_value,
        decay_steps,
        shape=_shapes.tanh(lower, upper),
        end_value=end_value,
        end_ratio=end_ratio,
    )


def inverse_sqrt_decay(
    init_value: ArrayLike,
    timescale: ArrayLike,
    *,
    shift: ArrayLike = 0,
    end_value: ArrayLike = 0.0,
) -> _engine.PhaseSchedule:
    """Inverse square root decay: ``end + (init - end) * sqrt(tau / (c + shift + tau))``.

    With ``shift = 0`` and ``end_value = 0`` this is Hugging Face's
    ``get_inverse_sqrt_schedule`` after its warmup: ``1 / sqrt((c + tau) / tau)``.
    It never ends: the value keeps falling towards ``end_value``.

    Args:
      init_value: value at count 0 (when ``shift = 0``).
      timescale: ``tau`` in steps (> 0).
      shift: steps already elapsed on the decay clock at count 0 (>= 0).
      end_value: the asymptote.

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> [float(ow.inverse_sqrt_decay(1.0, 1)(c)) for c in (0, 3, 15)]
      [1.0, 0.5, 0.25]
    """
    v.check_range("timescale", timescale, low=0.0, low_open=True)
    v.check_range("shift", shift, low=0.0)
    v.check_finite("init_value", init_value)
    v.check_finite("end_value", end_value)
    shape = _build.inverse_sqrt(timescale)
    return _engine.stack_phases([_build.decay_phase(init_value, 0, end_value, shape, offset=shift)])


def piecewise_constant(
    boundaries: Sequence[ArrayLike] | jax.Array,
    values: Sequence[ArrayLike] | jax.Array,
    *,
    dtype: Any = None,
) -> _engine.PhaseSchedule:
    """``values[i]`` from ``boundaries[i-1]`` (inclusive) to ``boundaries[i]``.

    Args:
      boundaries: sorted step counts where the value changes (length ``n``).
      values: the ``n + 1`` values.
      dtype: output dtype.

    Returns:
      A schedule (one phase per value; the cost does not grow with ``n``).

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.piecewise_constant([2, 4], [1.0, 0.1, 0.01])
      >>> [round(float(s(c)), 4) for c in range(6)]
      [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """
    from optax_warmup.schedules import combine as _combine  # local, as before the move

    if isinstance(values, jax.Array | np.ndarray):
        vals = jnp.reshape(jnp.asarray(values), (-1,))
    else:
        vals = jnp.stack([jnp.asarray(x) for x in values])
    v.check_finite("values", vals)
    b = _combine.sorted_boundaries(boundaries, vals.shape[0])
    begins = jnp.concatenate([jnp.zeros((1,), b.dtype), b])
    spans = jnp.concatenate([jnp.diff(begins), jnp.zeros((1,), b.dtype)])
    return _engine.assemble_arrays(
        spans, vals, vals, kinds=_shapes.CONSTANT, cycle_scale=1.0, dtype=dtype
    )
