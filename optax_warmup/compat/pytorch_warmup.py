"""``pytorch_warmup`` (Tony-Y/pytorch_warmup 0.2) warmup factors, value for value.

pytorch_warmup multiplies the learning rate of update ``k`` (from 0) by a
warmup factor ``w(k)`` inside its ``dampening()`` context. Each function here
returns that factor as an optax schedule; :func:`dampen` multiplies it into a
learning-rate schedule (pytorch_warmup's ``with warmup.dampening():
lr_scheduler.step()``).

Its conventions kept here: the first update already gets ``w(0) = 1 / tau``
(linear) or ``1 - exp(-1 / tau)`` (exponential); the exponential factor never
reaches 1; the untuned periods are truncated to integers in float64, as
``int(2 / (1 - beta2))`` and ``int(1 / (1 - beta2))``, so ``beta2 = 0.999``
gives 1999 and 999, not 2000 and 1000; the RAdam factor of update ``k`` is
RAdam's rectification at ``t = k + offset``, ``offset`` the first ``t >= 1``
with ``rho_t > 4``.

Reference: Ma & Yarats, "On the adequacy of untuned warmup for adaptive
optimization", 2021; Liu et al., "On the Variance of the Adaptive Learning
Rate and Beyond", 2020.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import join as _join
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import Schedule
from optax_warmup.transforms import optimizer_warmups as _optimizer_warmups


def _check_period(warmup_period: ArrayLike) -> None:
    v.check_duration("warmup_period", warmup_period)
    v.check_range("warmup_period", warmup_period, low=1)


def LinearWarmup(warmup_period: ArrayLike) -> _engine.PhaseSchedule:
    """``LinearWarmup``: ``w(k) = min(1, (k + 1) / warmup_period)``.

    Args:
      warmup_period: ``tau``, a whole number >= 1.

    Returns:
      The factor schedule.

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw
      >>> [float(pw.LinearWarmup(4)(k)) for k in range(5)]
      [0.25, 0.5, 0.75, 1.0, 1.0]
    """
    _check_period(warmup_period)
    return _warmup.warmup_factor(warmup_period)


def ExponentialWarmup(warmup_period: ArrayLike) -> _engine.PhaseSchedule:
    """``ExponentialWarmup``: ``w(k) = 1 - exp(-(k + 1) / warmup_period)`` (never exactly 1).

    Args:
      warmup_period: ``tau``, a whole number >= 1.

    Returns:
      The factor schedule.

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw
      >>> [round(float(pw.ExponentialWarmup(2)(k)), 4) for k in range(3)]
      [0.3935, 0.6321, 0.7769]
    """
    _check_period(warmup_period)
    tau = v.as_duration("warmup_period", warmup_period).astype(jnp.float32)
    return _engine.stack_phases([_build.warmup_phase(1.0, 0, _build.exp_approach(tau))])


def _untuned_period(beta2: ArrayLike, numerator: float) -> Any:
    """``int(numerator / (1 - beta2))``: in float64 for a concrete ``beta2``, as the peer."""
    v.check_range("beta2", beta2, low=0.0, high=1.0, high_open=True)
    known = v.concrete_value(beta2)
    if known is not None and known.ndim == 0:
        return int(numerator / (1.0 - float(known)))
    b2 = jnp.asarray(beta2)
    return jnp.floor(numerator / (1.0 - b2)).astype(v.index_dtype())


def UntunedLinearWarmup(beta2: ArrayLike = 0.999) -> _engine.PhaseSchedule:
    """``UntunedLinearWarmup``: :func:`LinearWarmup` with ``tau = int(2 / (1 - beta2))``.

    Args:
      beta2: Adam's ``b2``, in [0, 1).

    Returns:
      The factor schedule (1999 updates long at ``beta2 = 0.999``).

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw
      >>> s = pw.UntunedLinearWarmup(0.99)  # tau = int(199.99999999999983) = 199
      >>> [round(float(s(k)), 6) for k in (0, 198, 199)]
      [0.005025, 1.0, 1.0]
    """
    return LinearWarmup(_untuned_period(beta2, 2.0))


def UntunedExponentialWarmup(beta2: ArrayLike = 0.999) -> _engine.PhaseSchedule:
    """``UntunedExponentialWarmup``: :func:`ExponentialWarmup` with ``tau = int(1 / (1 - beta2))``.

    Args:
      beta2: Adam's ``b2``, in [0, 1).

    Returns:
      The factor schedule.

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw
      >>> round(float(pw.UntunedExponentialWarmup(0.999)(998)), 6)  # tau = 999
      0.632121
    """
    return ExponentialWarmup(_untuned_period(beta2, 1.0))


def RAdamWarmup(beta2: ArrayLike = 0.999) -> _engine.PhaseSchedule:
    """``RAdamWarmup``: ``w(k) = r(k + offset)``, RAdam's rectification
    (:func:`optax_warmup.radam_warmup` with threshold 4).

    ``r(t) = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``,
    ``rho_inf = 2 / (1 - beta2) - 1``, ``rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)``;
    ``offset`` is the first ``t >= 1`` with ``rho_t > 4`` (5 at ``beta2 = 0.999``).

    Args:
      beta2: Adam's ``b2``, in (0.6, 1) (pytorch_warmup rejects 0.6 and below).

    Returns:
      The factor schedule; it tends to 1 and never reaches it.

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw
      >>> [round(float(pw.RAdamWarmup(0.999)(k)), 5) for k in (0, 1, 1000)]
      [0.01731, 0.02582, 0.64664]
    """
    v.check_range("beta2", beta2, low=0.6, high=1.0, low_open=True, high_open=True)
    return _optimizer_warmups.radam_warmup(beta2, threshold=4.0)


def dampen(
    schedule: _combine.ScheduleLike, warmup: _combine.ScheduleLike, *, delay: ArrayLike = 0
) -> Schedule:
    """A learning-rate schedule dampened by a warmup factor: ``w(k) * schedule(max(0, k - delay))``.

    ``delay = 0`` is pytorch_warmup's usual loop (``lr_scheduler.step()`` inside
    ``dampening()`` after every update); ``delay = warmup_period - 1`` is its
    "delay an LR scheduler" recipe (``if iteration >= warmup_period:
    lr_scheduler.step()``), where the main schedule starts moving only once the
    warmup is over.

    Args:
      schedule: the learning-rate schedule (e.g. from :mod:`optax_warmup.compat.torch`).
      warmup: a factor schedule from this module.
      delay: updates the main schedule waits at its count 0.

    Returns:
      A schedule.

    Example:
      >>> from optax_warmup.compat import pytorch_warmup as pw, torch
      >>> s = pw.dampen(torch.StepLR(1.0, 2, gamma=0.5), pw.LinearWarmup(2))
      >>> [float(s(k)) for k in range(5)]
      [0.5, 1.0, 0.5, 0.5, 0.25]
    """
    v.check_duration("delay", delay)
    main = _combine.as_schedule(schedule)
    known = v.concrete_value(delay)
    if known is None or known.ndim != 0 or int(known) != 0:
        held = _combine.constant_schedule(jnp.asarray(main(0), jnp.float32))
        main = _join.join([held, main], [delay])
    return _combine.multiply(warmup, main)


__all__ = [
    "ExponentialWarmup",
    "LinearWarmup",
    "RAdamWarmup",
    "UntunedExponentialWarmup",
    "UntunedLinearWarmup",
    "dampen",
]
