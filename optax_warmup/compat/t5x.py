"""t5x's factor-string learning-rate schedules (``t5x.utils.create_learning_rate_scheduler``).

t5x builds its learning rate as a product of named factors written in one
string, ``"constant * linear_warmup * rsqrt_decay"`` by default, evaluated at
``step = max(0, train_state.step - step_offset)`` and floored at
``min_learning_rate``. Its trainer passes ``train_state.step``, the number of
updates already applied, so t5x's ``step`` is optax's ``count`` (0 for the
first update) and the schedule here is called the same way.

Each factor is one library schedule built from the engine's phases, the
product is :func:`optax_warmup.multiply`, the offset is
:func:`optax_warmup.shift`, and the floor is :func:`optax_warmup.maximum`
with ``min_learning_rate``.

Matches google-research/t5x ``t5x/utils.py`` at cc342d419ec3
(``create_learning_rate_scheduler``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine

FACTORS = (
    "constant",
    "linear_warmup",
    "linear_decay",
    "rsqrt_decay",
    "rsqrt_normalized_decay",
    "decay_every",
    "cosine_decay",
)
"""The factor names t5x knows (``t5x/utils.py`` at cc342d419ec3)."""

# Factors that divide by warmup_steps (t5x gives NaN or inf at step 0 when it is 0).
_NEED_WARMUP = ("linear_warmup", "linear_decay", "rsqrt_decay", "rsqrt_normalized_decay")


def parse_factors(factors: str) -> tuple[str, ...]:
    """The factor names of a t5x factor string, in order (``"a * b"`` -> ``("a", "b")``).

    Args:
      factors: names separated by ``*`` (spaces around them are ignored).

    Returns:
      The names, repeats kept (t5x multiplies a repeated factor in twice).

    Raises:
      ValueError: naming the first unknown factor (an empty name included).

    Example:
      >>> from optax_warmup.compat import t5x
      >>> t5x.parse_factors("constant * linear_warmup*rsqrt_decay")
      ('constant', 'linear_warmup', 'rsqrt_decay')
    """
    if not isinstance(factors, str):
        raise ValueError(
            f"factors must be a string such as 'constant * rsqrt_decay', got {factors!r}."
        )
    names = tuple(n.strip() for n in factors.split("*"))
    for name in names:
        if name not in FACTORS:
            raise ValueError(
                f"factors: unknown factor {name!r} in {factors!r}; t5x knows {', '.join(FACTORS)}."
            )
    return names


def _rsqrt(w: jax.Array, *, normalized: bool) -> _engine.PhaseSchedule:
    """``1 / sqrt(max(step, W))`` (times ``sqrt(W)`` when ``normalized``): hold the value at
    ``W`` for ``W`` steps, then the inverse square root with timescale ``W``."""
    known = v.concrete_value(w)
    if normalized:
        start: ArrayLike = 1.0
    elif known is not None:
        start = 1.0 / float(known) ** 0.5
    else:
        start = jax.lax.rsqrt(w.astype(jnp.float32))
    # After W: start * sqrt(W / (t + W)) = start sqrt(W) / sqrt(step), t = step - W.
    decay = _build.decay_phase(start, 0, 0.0, _build.inverse_sqrt(w))
    return _engine.stack_phases([_build.hold_phase(start, w), decay])


def _factor(
    name: str,
    *,
    base: ArrayLike,
    w: jax.Array,
    decay_factor: ArrayLike,
    steps_per_decay: jax.Array,
    steps_per_cycle: jax.Array,
) -> Any:
    """One t5x factor as a library schedule of ``step``."""
    if name == "constant":
        return _combine.constant_schedule(base)
    if name == "linear_warmup":  # min(1, step / W)
        return _engine.stack_phases(
            [_build.warmup_phase(1.0, w, "linear", init_value=0.0), _build.hold_phase(1.0)]
        )
    if name == "linear_decay":
        # base * min(step / W, 1 + df (W - step)): the warmup to 1, then a line of slope
        # -df that reaches 0 at W + 1/df and holds it (t5x goes negative there, which its
        # floor turns into min_learning_rate, as 0 is here).
        slope = jnp.maximum(jnp.asarray(decay_factor, jnp.float32), jnp.finfo(jnp.float32).tiny)
        known = v.concrete_value(decay_factor)
        length: ArrayLike = (
            1.0 / slope if known is None or float(known) <= 0 else 1.0 / float(known)
        )
        return _engine.stack_phases(
            [
                _build.warmup_phase(base, w, "linear", init_value=0.0),
                _build.decay_phase(base, 0, 0.0, "linear", length=length),
            ]
        )
    if name == "rsqrt_decay":
        return _rsqrt(w, normalized=False)
    if name == "rsqrt_normalized_decay":  # sqrt(W) / sqrt(max(step, W))
        return _rsqrt(w, normalized=True)
    if name == "decay_every":  # df ** (step // steps_per_decay)
        # t5x raises a float32 decay_factor (a weak float in its jnp arithmetic): the engine
        # would take a concrete rate's log in float64, so it is given the float32 value.
        rate = jnp.asarray(decay_factor, jnp.float32)
        shape = _build.exp_rate(rate, steps_per_decay, staircase=1.0)
        return _engine.stack_phases([_build.decay_phase(1.0, 0, 0.0, shape, start_scale=0.0)])
    # cosine_decay: 1 until W, then 0.5 (1 + cos(pi ((step - W) / C mod 1))), restarting.
    wave = _build.cosine_wave(1.0, restart=True)
    return _engine.stack_phases(
        [
            _build.hold_phase(1.0, w),
            _build.decay_phase(1.0, 0, 0.0, wave, length=steps_per_cycle),
        ]
    )


def _positive_steps(name: str, value: ArrayLike, needed_by: str | None) -> jax.Array:
    """A step count; at least 1 when the factor ``needed_by`` divides by it (traced: clamped)."""
    steps = v.as_duration(name, value)
    if needed_by is None:
        return steps
    known = v.concrete_value(steps)
    if known is not None and int(known) < 1:
        raise ValueError(
            f"{name} must be >= 1 with the factor {needed_by!r} (t5x divides by it and "
            f"returns NaN or inf), got {int(known)}."
        )
    return jnp.maximum(steps, 1)


def create_learning_rate_scheduler(
    factors: str = "constant * linear_warmup * rsqrt_decay",
    base_learning_rate: ArrayLike = 0.5,
    warmup_steps: ArrayLike = 1000,
    decay_factor: ArrayLike = 0.5,
    steps_per_decay: ArrayLike = 20000,
    steps_per_cycle: ArrayLike = 100000,
    step_offset: ArrayLike = 0,
    min_learning_rate: ArrayLike = 1e-8,
) -> _combine.MaximumSchedule:
    """t5x's ``create_learning_rate_scheduler``: a product of named factors, floored.

    With ``s = max(0, count - step_offset)``, ``W = warmup_steps``,
    ``value = max(prod_f factor_f(s), min_learning_rate)``, each name of
    ``factors`` (separated by ``*``) multiplying in one factor:

    - ``constant``: ``base_learning_rate``;
    - ``linear_warmup``: ``min(1, s / W)``;
    - ``linear_decay``: ``base_learning_rate * min(s / W, 1 + decay_factor (W - s))``
      (a warmup and a linear decay in one; t5x means it without ``constant`` or
      ``linear_warmup``); once that line crosses 0 this factor is 0, where t5x's
      is negative: the floor makes both ``min_learning_rate``;
    - ``rsqrt_decay``: ``1 / sqrt(max(s, W))``;
    - ``rsqrt_normalized_decay``: ``sqrt(W) / sqrt(max(s, W))``;
    - ``decay_every``: ``decay_factor ** (s // steps_per_decay)``;
    - ``cosine_decay``: ``0.5 (1 + cos(pi frac((s - W) / steps_per_cycle)))``
      from ``W`` on, 1 before: the cosine restarts at 1 every ``steps_per_cycle``.

    The count is optax's (t5x's trainer evaluates at ``train_state.step``,
    0 for the first update). Values are float32, as t5x's. Arguments are in
    t5x's order, with its defaults. Cycle boundaries and ``s // steps_per_decay``
    are computed in integers (t5x divides in float32, which can miss a boundary
    by one step under jit).

    Args:
      factors: the factor string; parsed once, each name checked.
      base_learning_rate: the ``constant`` (and ``linear_decay``) factor (>= 0; traced allowed).
      warmup_steps: ``W``, a whole number of steps (>= 1 for the factors that divide by it).
      decay_factor: the ``decay_every`` rate and ``linear_decay`` slope (>= 0; traced allowed).
      steps_per_decay: the ``decay_every`` period (>= 1 when that factor is used).
      steps_per_cycle: the ``cosine_decay`` period (>= 1 when that factor is used).
      step_offset: steps subtracted from the count first (a whole number; traced allowed).
      min_learning_rate: the floor (>= 0; a traced negative one counts as 0).

    Returns:
      A schedule (:func:`optax_warmup.maximum` of :func:`optax_warmup.multiply` and the floor).

    Raises:
      ValueError: naming the unknown factor, or the argument out of range.

    Example:
      >>> from optax_warmup.compat import t5x
      >>> s = t5x.create_learning_rate_scheduler(base_learning_rate=1.0, warmup_steps=4)
      >>> [round(float(s(k)), 4) for k in (1, 2, 4, 16)]
      [0.125, 0.25, 0.5, 0.25]
      >>> print(f"{float(s(0)):.1e}")  # linear_warmup is 0 at step 0: the floor
      1.0e-08

    Reference:
      google-research/t5x, ``t5x/utils.py`` at cc342d419ec3,
      ``create_learning_rate_scheduler``.
    """
    names = parse_factors(factors)
    need_w = next((n for n in names if n in _NEED_WARMUP), None)
    v.check_range("base_learning_rate", base_learning_rate, low=0.0)
    v.check_range("decay_factor", decay_factor, low=0.0)
    v.check_range("min_learning_rate", min_learning_rate, low=0.0)
    w = _positive_steps("warmup_steps", warmup_steps, need_w)
    spd = _positive_steps(
        "steps_per_decay", steps_per_decay, "decay_every" if "decay_every" in names else None
    )
    spc = _positive_steps(
        "steps_per_cycle", steps_per_cycle, "cosine_decay" if "cosine_decay" in names else None
    )
    offset = v.concrete_value(step_offset)
    v.check_finite("step_offset", step_offset)
    if offset is not None and (offset.ndim or offset != int(offset)):
        raise ValueError(f"step_offset must be a whole number, got {offset.tolist()!r}.")
    parts = [
        _factor(
            n,
            base=base_learning_rate,
            w=w,
            decay_factor=decay_factor,
            steps_per_decay=spd,
            steps_per_cycle=spc,
        )
        for n in names
    ]
    product: Any = _combine.multiply(*parts) if len(parts) > 1 else parts[0]
    if offset is None or int(offset) != 0:
        product = _combine.shift(product, -jnp.asarray(step_offset))
    floor = jnp.maximum(jnp.asarray(min_learning_rate, jnp.float32), 0.0)
    return _combine.maximum(product, floor)


__all__ = ["FACTORS", "create_learning_rate_scheduler", "parse_factors"]
