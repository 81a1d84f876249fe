"""Explicit conversions into steps, the library's only unit of duration.

Nothing in the library guesses that ``0.1`` or ``1`` means a fraction of the
run: durations are whole numbers of steps, and these helpers make any other
unit explicit at the call site.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v


def steps_from_fraction(fraction: ArrayLike, total_steps: ArrayLike) -> jax.Array:
    """``round(fraction * total_steps)`` as an integer step count.

    Args:
      fraction: a fraction of the run in [0, 1] (traced values are clipped).
      total_steps: the length of the run in steps.

    Returns:
      The step count, in the index dtype (int32, or int64 under x64).

    Example:
      >>> import optax_warmup as ow
      >>> int(ow.steps_from_fraction(0.05, 10_000))
      500
    """
    v.check_range("fraction", fraction, low=0.0, high=1.0)
    total = v.as_duration("total_steps", total_steps)
    f = jnp.clip(jnp.asarray(fraction, jnp.float64 if v.x64_enabled() else jnp.float32), 0, 1)
    return jnp.round(f * total.astype(f.dtype)).astype(total.dtype)


def steps_from_epochs(epochs: ArrayLike, steps_per_epoch: ArrayLike) -> jax.Array:
    """``round(epochs * steps_per_epoch)`` as an integer step count.

    Args:
      epochs: a number of epochs, possibly fractional (>= 0).
      steps_per_epoch: optimizer steps per epoch.

    Returns:
      The step count, in the index dtype.

    Example:
      >>> import optax_warmup as ow
      >>> int(ow.steps_from_epochs(5, 390))  # Goyal et al.: 5 warmup epochs
      1950
    """
    v.check_range("epochs", epochs, low=0.0)
    per_epoch = v.as_duration("steps_per_epoch", steps_per_epoch)
    e = jnp.maximum(jnp.asarray(epochs, jnp.float64 if v.x64_enabled() else jnp.float32), 0)
    return jnp.round(e * per_epoch.astype(e.dtype)).astype(per_epoch.dtype)
