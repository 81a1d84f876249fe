"""Multiplicative learning-rate noise (timm-style), pure: a function of a key and the count."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules.base import ScheduleNode, promoted_dtype, register_node

NoiseKind = Literal["normal", "uniform"]
NOISE_KINDS = ("normal", "uniform")


@dataclasses.dataclass(frozen=True, eq=False)
class NoisySchedule(ScheduleNode):
    """A schedule times ``1 + noise(count)`` on ``[start_step, end_step)`` (:func:`with_noise`)."""

    schedule: Any
    key: jax.Array
    pct: jax.Array
    std: jax.Array
    start_step: jax.Array
    end_step: jax.Array | None
    kind: str
    config_kind: ClassVar[str] = "with_noise"

    def noise(self, count: ArrayLike) -> jax.Array:
        """The relative noise at ``count`` (0 outside ``[start_step, end_step)``)."""
        t = _engine.as_count(count)
        pct = jnp.clip(jnp.asarray(self.pct, jnp.float32), 0.0, 1.0)
        std = jnp.maximum(jnp.asarray(self.std, jnp.float32), 0.0)
        flat = jnp.reshape(t, (-1,))
        draws = jax.vmap(lambda c: _draw(self.key, c, pct, std, self.kind))(flat)
        n = jnp.reshape(draws, t.shape)
        active = t >= self.start_step.astype(t.dtype)
        if self.end_step is not None:
            active = active & (t < self.end_step.astype(t.dtype))
        return jnp.where(active, n, 0.0)

    def evaluate(self, count: ArrayLike) -> jax.Array:
        # One compiled program per structure, as PhaseSchedule (inlined under jit).
        return _noisy_jit(self, count)


def _noisy_value(s: NoisySchedule, count: ArrayLike) -> jax.Array:
    base = jnp.asarray(s.schedule(count))
    out = promoted_dtype(base)
    compute = jnp.promote_types(out, jnp.float32)
    value = base.astype(compute) * (1 + s.noise(count).astype(compute))
    return value.astype(out)


_noisy_jit = jax.jit(_noisy_value)


register_node(
    NoisySchedule,
    data_fields=["schedule", "key", "pct", "std", "start_step", "end_step"],
    meta_fields=["kind"],
)


def _count_key(key: jax.Array, count: jax.Array) -> jax.Array:
    """``key`` folded with a count: its low 32 bits, then its high 32 bits (0 for int32)."""
    if count.dtype == jnp.int64:
        low = (count & 0xFFFFFFFF).astype(jnp.uint32)
        high = (count >> 32).astype(jnp.uint32)
    else:
        low, high = count.astype(jnp.uint32), jnp.uint32(0)
    return jax.random.fold_in(jax.random.fold_in(key, low), high)


def _draw(key: jax.Array, count: jax.Array, pct: jax.Array, std: jax.Array, kind: str) -> jax.Array:
    """One noise draw for one count."""
    k = _count_key(key, count)
    if kind == "uniform":
        return jax.random.uniform(k, (), jnp.float32, -1.0, 1.0) * pct
    on = (std > 0) & (pct > 0)
    std_s = jnp.where(on, std, 1.0)
    bound = jnp.where(on, pct / std_s, 1.0)
    z = jax.random.truncated_normal(k, -bound, bound, (), jnp.float32)
    return jnp.where(on, std_s * z, 0.0)


def with_noise(
    schedule: _combine.ScheduleLike,
    key: jax.Array,
    *,
    pct: ArrayLike = 0.67,
    std: ArrayLike = 1.0,
    kind: NoiseKind = "normal",
    start_step: ArrayLike = 0,
    end_step: ArrayLike | None = None,
) -> NoisySchedule:
    """Multiply a schedule by ``1 + noise(count)``, the noise a pure function of ``key`` and count.

    ``value(c) = schedule(c) * (1 + n(c))`` for ``start_step <= c < end_step``
    and ``schedule(c)`` elsewhere. ``n(c)`` is drawn from
    ``jax.random.fold_in(key, c)``, so a count always gets the same value
    (resuming, re-evaluating for logging or evaluating a batch of counts all
    agree):

    - ``kind="normal"``: ``N(0, std**2)`` conditioned on ``|n| < pct``, the
      distribution of timm's rejection sampler (timm draws with ``std = 1``
      and ignores its ``noise_std``; the default here matches it);
    - ``kind="uniform"``: ``U(-pct, pct)`` (``std`` is not used), as timm.

    Negative counts count as 0, as in every schedule. ``pct``, ``std`` and the
    steps may be traced; traced values are clamped (``pct`` to [0, 1], ``std``
    to >= 0). With ``pct <= 1`` the value never changes sign.

    Reference: timm's ``Scheduler`` (``noise_range_t``, ``noise_pct``,
    ``noise_std``, ``noise_type``).

    Args:
      schedule: the schedule to perturb (a schedule, a function or a number).
      key: a PRNG key (``jax.random.key`` or ``jax.random.PRNGKey``).
      pct: the bound on the relative noise, in [0, 1] (timm's ``noise_pct``).
      std: standard deviation of the normal noise before truncation (> 0).
      kind: ``"normal"`` or ``"uniform"``.
      start_step: first count with noise.
      end_step: first count without noise after ``start_step`` (``None``: never).

    Returns:
      A schedule (a pytree; its key and parameters are leaves).

    Example:
      >>> import jax, optax_warmup as ow
      >>> s = ow.with_noise(ow.constant_schedule(1.0), jax.random.key(0), pct=0.1)
      >>> bool(abs(float(s(5)) - 1.0) < 0.1), float(s(5)) == float(s(5))
      (True, True)
    """
    v.check_choice("kind", kind, NOISE_KINDS)
    v.check_range("pct", pct, low=0.0, high=1.0)
    v.check_range("std", std, low=0.0, low_open=True)
    start = v.as_duration("start_step", start_step)
    end = None if end_step is None else v.as_duration("end_step", end_step)
    s0, e0 = v.concrete_value(start), None if end is None else v.concrete_value(end)
    if s0 is not None and e0 is not None and e0 < s0:
        raise ValueError(f"end_step must be >= start_step, got {e0.item()!r} < {s0.item()!r}.")
    if not (isinstance(key, jax.Array) or v.is_traced(key)):
        raise ValueError(f"key must be a JAX PRNG key, got {key!r}.")
    return NoisySchedule(
        schedule=_combine.as_schedule(schedule),
        key=key,
        pct=jnp.asarray(pct, jnp.float32),
        std=jnp.asarray(std, jnp.float32),
        start_step=start,
        end_step=end,
        kind=kind,
    )
