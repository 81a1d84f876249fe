"""Multiplicative noise on any schedule, pure and reproducible (timm's learning-rate noise).

The noise at a count depends only on the seed and the count (a PRNG key folded
with the count), so a schedule with noise is still a pure function: the same
count gives the same value in every call, under ``jit`` and ``vmap``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup import _combine, _engine
from optax_warmup import _validation as v

NoiseDistribution = Literal["normal", "uniform"]


@dataclasses.dataclass(frozen=True)
class NoisySchedule:
    """``schedule(c) * (1 + n(c))`` for ``start <= c < stop``, ``schedule(c)`` elsewhere.

    ``n(c)`` is drawn from a PRNG key made of ``seed`` folded with ``c``. Built by
    :func:`with_noise`.
    """

    schedule: Any
    seed: jax.Array
    std: jax.Array
    bound: jax.Array
    start: jax.Array
    stop: jax.Array
    distribution: str
    truncated: bool

    def __call__(self, count: ArrayLike) -> jax.Array:
        t = _engine._as_count(count)
        base = jnp.asarray(self.schedule(count), jnp.float32)
        key = jax.random.key(self.seed)
        flat = jnp.reshape(t, (-1,)).astype(jnp.uint32)
        noise = jax.vmap(lambda c: self._draw(jax.random.fold_in(key, c)))(flat)
        noise = jnp.reshape(noise, t.shape)
        active = (t >= self.start.astype(t.dtype)) & (t < self.stop.astype(t.dtype))
        return jnp.where(active, base * (1 + noise), base)

    def _draw(self, key: jax.Array) -> jax.Array:
        if self.distribution == "uniform":
            return (2 * jax.random.uniform(key, (), jnp.float32) - 1) * self.bound
        if not self.truncated:
            return self.std * jax.random.normal(key, (), jnp.float32)
        z = self.bound / jnp.maximum(self.std, 1e-30)
        return self.std * jax.random.truncated_normal(key, -z, z, (), jnp.float32)


jax.tree_util.register_dataclass(
    NoisySchedule,
    data_fields=["schedule", "seed", "std", "bound", "start", "stop"],
    meta_fields=["distribution", "truncated"],
)


def with_noise(
    schedule: _combine.ScheduleLike,
    *,
    std: ArrayLike = 1.0,
    bound: ArrayLike | None = None,
    seed: ArrayLike = 0,
    start: ArrayLike = 0,
    stop: ArrayLike | None = None,
    distribution: NoiseDistribution = "normal",
) -> NoisySchedule:
    """Multiply a schedule by ``1 + n(c)``, ``n(c)`` random but fixed per count.

    ``"normal"``: ``n ~ N(0, std**2)``, truncated to ``|n| < bound`` when a bound
    is given (timm's ``noise_std`` / ``noise_pct``); ``"uniform"``:
    ``n ~ U(-bound, bound)``. Counts outside ``[start, stop)`` are left as they are.

    Args:
      schedule: the schedule to perturb.
      std: standard deviation of the normal noise (> 0).
      bound: truncation bound (> 0); required for ``"uniform"``.
      seed: integer seed; with the count it fixes every draw.
      start: first noisy count.
      stop: first count after the noisy range (``None``: no end).
      distribution: ``"normal"`` or ``"uniform"``.

    Returns:
      A schedule (a pytree: its seed, std, bound and range may be traced).

    Example:
      >>> import optax_warmup as ow
      >>> from optax_warmup._noise import with_noise
      >>> s = with_noise(ow.constant_schedule(1.0), std=0.1, bound=0.2, seed=3)
      >>> bool(abs(float(s(7)) - 1.0) < 0.2), float(s(7)) == float(s(7))
      (True, True)
    """
    v.check_choice("distribution", distribution, ("normal", "uniform"))
    v.check_range("std", std, low=0.0, low_open=True)
    if bound is not None:
        v.check_range("bound", bound, low=0.0, low_open=True)
    elif distribution == "uniform":
        raise ValueError("uniform noise needs a bound, got bound=None.")
    seed_c = v.concrete_value(seed)
    if seed_c is not None and seed_c.dtype.kind not in "iu":
        raise ValueError(f"seed must be an integer, got {seed!r}.")
    idt = v.index_dtype()
    stop_a = jnp.asarray(np.iinfo(idt).max, idt) if stop is None else v.as_duration("stop", stop)
    return NoisySchedule(
        schedule=_combine.as_schedule(schedule),
        seed=jnp.asarray(seed),
        std=jnp.asarray(std, jnp.float32),
        bound=jnp.asarray(1.0 if bound is None else bound, jnp.float32),
        start=v.as_duration("start", start),
        stop=stop_a,
        distribution=distribution,
        truncated=bound is not None,
    )
