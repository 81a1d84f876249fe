"""levanter's learning-rate schedule (``OptimizerConfig.lr_scheduler``), value for value.

levanter feeds optax's count to the schedule (0 for the first update) and joins
its pieces with ``optax.join_schedules``. The run is cut into cycles at the
cycle minima (``cycles``, ``cycle_length`` or the deprecated ``haps``); each
cycle of ``n`` steps has a linear warmup from the previous cycle's last value
(0 for the first) to ``learning_rate`` over ``warmup`` steps (``rewarmup`` after
the first cycle), a stable part at ``learning_rate`` and a decay of ``decay``
steps (default: the rest of the cycle) of kind ``lr_schedule``, from
``learning_rate`` to ``min_lr = learning_rate * min_lr_ratio``. levanter
conventions kept here:

- ``warmup``, ``decay``, ``rewarmup``, ``cycle_length`` and ``cooldown`` are a
  fraction of the cycle (of the run for ``cycle_length`` and ``cooldown``) when
  ``<= 1`` (truncated: ``int(f * n)``) and whole steps when above 1, so
  ``warmup=1`` is **the whole cycle**, not one step;
- ``cycles=k`` puts the minima at ``int(N / k * (i + 1))``; ``cycle_length``
  at its multiples, the last cycle absorbing the remainder;
- the decay always starts ``decay`` steps before the cycle's end: when
  ``warmup + decay`` exceeds the cycle it cuts into the warmup;
- ``inv_sqrt`` is ``lr * min(1, sqrt(timescale / (t + W)))`` with ``t`` the
  steps into the decay and ``W`` the cycle's warmup, floored at ``min_lr``;
  ``inv`` is ``lr / ((lr / min_lr - 1) max(t, 1) / decay + 1)``, which is below
  ``lr`` already at the decay's first step; ``power`` (Shen et al., 2024) is
  ``min(lr, batch_size * a * (t * batch_size * seq_length)**b)``, never floored;
- past ``num_train_steps`` the last piece goes on (cosine, linear and inv hold
  ``min_lr``, inv_sqrt and power keep decaying).

Matches levanter ``src/levanter/optim/config.py`` at commit ``9263f81e8b45``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.compat import stack_config
from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v

__all__ = ["lr_scheduler"]

_KINDS = ("constant", "cosine", "linear", "inv_sqrt", "inv", "power")
# levanter's LrSchedule classes, by the name its registry gives them.
_CLASSES = {
    "ConstantLrSchedule": "constant",
    "CosineLrSchedule": "cosine",
    "LinearLrSchedule": "linear",
    "InvSqrtLrSchedule": "inv_sqrt",
    "InvLrSchedule": "inv",
    "PowerLrSchedule": "power",
}
_HOLD = _build.constant_shape().kind
_SCHEDULE_FIELDS = {
    "exponent": 1.0,
    "timescale": 10000,
    "batch_size": None,
    "seq_length": None,
    "a": 4.6,
    "b": -0.51,
}


def _steps(name: str, value: Any, n: int) -> int:
    """levanter's ``_convert_frac_or_steps``: a fraction of ``n`` up to 1, whole steps above."""
    f = stack_config.static_number(name, value)
    if f < 0 or (f > 1 and f % 1 != 0):
        raise ValueError(
            f"{name} must be a fraction in [0, 1] or a whole number of steps, got {value!r}."
        )
    return int(f * n) if f <= 1 else int(f)


def _minima(total: int, cycle_length: Any, cycles: Any, haps: Sequence[int] | None) -> list[int]:
    """levanter's ``_get_cycle_minima``: 0, the cycle ends, ``total``."""
    points: list[int]
    if cycle_length is not None:
        if cycles is not None:
            raise ValueError("cycle_length and cycles cannot both be set.")
        if haps is not None:
            raise ValueError("cycle_length and haps cannot both be set.")
        if isinstance(cycle_length, list | tuple):
            ends = np.cumsum([stack_config.static_number("cycle_length", x) for x in cycle_length])
            if len(ends) and ends[-1] > total:
                raise ValueError(
                    f"cycle_length sums to {int(ends[-1])}, more than the {total} main steps."
                )
            points = [int(x) for x in ends]
        else:
            length = _steps("cycle_length", cycle_length, total)
            if length < 1:
                raise ValueError(f"cycle_length must give at least one step, got {cycle_length!r}.")
            points = [i * length for i in range(1, total // length)]
    elif haps is not None:
        points = [int(stack_config.static_number("haps", x)) for x in haps]
    elif isinstance(cycles, list | tuple):
        points = [int(stack_config.static_number("cycles", x)) for x in cycles]
    elif cycles is not None:
        k = stack_config.static_number("cycles", cycles)
        if k != int(k):
            raise ValueError(f"cycles must be a whole number or a list of steps, got {cycles!r}.")
        points = [int(total / k * (i + 1)) for i in range(int(k) - 1)]
    else:
        points = []
    points.insert(0, 0)
    if points[-1] != total:
        points.append(total)
    if any(b <= a for a, b in itertools.pairwise(points)):
        name = "cycle_length" if cycle_length is not None else "haps" if haps else "cycles"
        raise ValueError(
            f"{name} must give increasing cycle ends within the {total} main steps, got "
            f"{points[1:-1]!r}."
        )
    return points


def _schedule_kind(lr_schedule: Any) -> tuple[str, dict[str, Any]]:
    """The decay kind and its settings, from a name, a mapping with ``type``, or an object."""
    if isinstance(lr_schedule, str):
        return stack_config.choice("lr_schedule", lr_schedule, _KINDS), dict(_SCHEDULE_FIELDS)
    if isinstance(lr_schedule, Mapping):
        kind = lr_schedule.get("type")
    else:
        kind = _CLASSES.get(type(lr_schedule).__name__)
    kind = stack_config.choice("lr_schedule", kind, _KINDS)
    return kind, stack_config.fields(lr_schedule, _SCHEDULE_FIELDS)


def _host_or_traced(x: Any) -> Any:
    """``x`` as a float64 NumPy value when concrete (for precise step boundaries)."""
    known = v.concrete_value(x)
    return jnp.asarray(x, jnp.float32) if known is None else np.float64(known)


def _floor_steps(x: Any) -> Any:
    """``floor(x)`` as a step count, saturating (``x`` may be inf or traced)."""
    top = float(np.iinfo(np.int32).max // 2)
    if isinstance(x, np.floating):
        return int(np.floor(min(max(x, 0.0), top)))
    return jnp.floor(jnp.clip(x, 0.0, top)).astype(v.index_dtype())


def _decay_piece(
    kind: str,
    opts: dict[str, Any],
    lr: ArrayLike,
    ratio: ArrayLike,
    min_lr: ArrayLike,
    warmup: int,
    decay: int,
) -> list[_engine.Phase]:
    """One cycle's decay piece (time 0 at its start, the last phase open-ended)."""
    if kind == "constant":
        return [_build.hold_phase(lr)]
    if kind == "cosine":  # optax.cosine_decay_schedule(lr, decay, min_lr_ratio, exponent)
        if decay <= 0:
            raise ValueError(f"decay must give at least one step for a cosine, got {decay}.")
        v.check_finite("exponent", opts["exponent"])
        shape = _build.half_cosine(opts["exponent"])
        return [_build.decay_phase(lr, decay, min_lr, shape), _build.hold_phase(min_lr)]
    if kind == "linear":
        return stack_config.optax_linear(lr, min_lr, decay)
    if kind == "inv_sqrt":
        return _inv_sqrt(lr, ratio, min_lr, warmup, opts["timescale"])
    if kind == "inv":
        return _inv(lr, ratio, min_lr, decay)
    return _power(lr, opts)


def _inv_sqrt(
    lr: ArrayLike, ratio: ArrayLike, min_lr: ArrayLike, warmup: int, timescale: Any
) -> list[_engine.Phase]:
    """``max(lr min(1, sqrt(tau / max(t + W, 1))), min_lr)``: ``lr`` while ``t + W <= tau``,
    the inverse square root, then ``min_lr`` once ``t + W > tau / ratio**2``."""
    tau = stack_config.static_number("timescale", timescale)
    v.check_range("timescale", tau, low=1.0)
    held = max(0, int(np.floor(tau)) - warmup + 1)
    r = _host_or_traced(ratio)
    last = (tau / (r * r) if r > 0 else np.inf) if isinstance(r, np.floating) else tau / (r * r)
    floor_at = _floor_steps(last) - warmup + 1  # first t below min_lr
    span = (
        jnp.maximum(floor_at - held, 0)
        if not isinstance(floor_at, int)
        else max(floor_at - held, 0)
    )
    shape = _build.inverse_sqrt(tau)
    return [
        _build.hold_phase(lr, held),
        _build.decay_phase(lr, span, 0.0, shape, offset=held + warmup - tau),
        _build.hold_phase(min_lr),
    ]


def _inv(lr: ArrayLike, ratio: ArrayLike, min_lr: ArrayLike, decay: int) -> list[_engine.Phase]:
    """``lr / ((1 / ratio - 1) max(t, 1) / D + 1)`` = ``lr tau / (max(t, 1) + tau)`` with
    ``tau = D ratio / (1 - ratio)``; it reaches ``min_lr`` at ``t = D`` and holds it."""
    v.check_range("min_lr_ratio", ratio, low=0.0, low_open=True, high=1.0)
    if decay <= 0:
        return [_build.hold_phase(min_lr)]
    r = jnp.asarray(ratio, jnp.float32)
    tau = decay * r / jnp.maximum(1.0 - r, 1e-20)
    shape = _build.inverse_sqrt(tau, exponent=1.0)
    return [
        _build.decay_phase(lr, 1, 0.0, shape, offset=1),  # t = 0 is evaluated at 1
        _build.decay_phase(lr, decay - 1, 0.0, shape, offset=1),
        _build.hold_phase(min_lr),
    ]


def _power(lr: ArrayLike, opts: dict[str, Any]) -> list[_engine.Phase]:
    """``min(lr, C t**b)``, ``C = batch_size a (batch_size seq_length)**b``: ``lr`` up to
    ``t0 = (lr / C)**(1 / b)``, then ``lr (t0 / t)**-b``."""
    sizes = {}
    for name in ("batch_size", "seq_length"):
        if opts[name] is None:
            raise ValueError(f"{name} is required by the power lr_schedule.")
        sizes[name] = stack_config.static_number(name, opts[name])
        v.check_range(name, sizes[name], low=0.0, low_open=True)
    a = stack_config.static_number("a", opts["a"])
    b = stack_config.static_number("b", opts["b"])
    if a <= 0 or b >= 0:
        raise ValueError(f"the power lr_schedule expects a > 0 and b < 0, got a={a!r}, b={b!r}.")
    bs, seq = float(sizes["batch_size"]), float(sizes["seq_length"])
    log_c = np.log(bs * a) + b * np.log(bs * seq)
    lr_h = _host_or_traced(lr)
    log_t0 = ((np.log(lr_h) if isinstance(lr_h, np.floating) else jnp.log(lr_h)) - log_c) / b
    t0 = np.exp(log_t0) if isinstance(log_t0, np.floating) else jnp.exp(log_t0)
    held = _floor_steps(t0) + 1
    shape = _build.inverse_sqrt(t0, exponent=-b)
    return [_build.hold_phase(lr, held), _build.decay_phase(lr, 0, 0.0, shape, offset=held - t0)]


def lr_scheduler(
    config: Any,
    num_train_steps: int,
    override_lr: ArrayLike | None = None,
    *,
    learning_rate: ArrayLike = 6e-4,
    min_lr_ratio: ArrayLike = 0.1,
    warmup: float = 0.01,
    decay: float | None = None,
    rewarmup: float = 0.0,
    cooldown: float | None = None,
    cycle_length: float | Sequence[int] | None = None,
    cycles: int | Sequence[int] | None = None,
    lr_schedule: Any = "cosine",
    haps: Sequence[int] | None = None,
) -> _engine.PhaseSchedule:
    """levanter's ``OptimizerConfig.lr_scheduler(num_train_steps, override_lr)``.

    Per cycle of ``n`` steps starting at ``s``, with ``W`` warmup steps (``warmup`` in
    the first cycle, ``rewarmup`` after), ``D`` decay steps and ``min_lr = lr *
    min_lr_ratio``: ``prev + (lr - prev) (k - s) / W`` for ``k - s < W`` (``prev``: the
    last value of the previous cycle, 0 at first), ``lr`` until ``s + n - D``, then the
    ``lr_schedule`` decay ``f(t)``, ``t = k - (s + n - D)``: ``constant`` ``lr``;
    ``cosine`` ``min_lr + (lr - min_lr) ((1 + cos(pi min(t, D) / D)) / 2)**exponent``;
    ``linear`` ``lr + (min_lr - lr) min(t, D) / D``; ``inv_sqrt``, ``inv`` and ``power``
    as in the module docstring. A deprecated ``cooldown`` ends the run with a linear
    decay to ``min_lr``.

    Args:
      config: levanter's optimizer config (an object with these attributes, or a
        mapping with these keys) or None; the settings it has replace the keywords.
      num_train_steps: ``N``, the training steps levanter passes.
      override_lr: replaces ``learning_rate`` when given (may be traced).
      learning_rate: the peak learning rate (may be traced).
      min_lr_ratio: ``min_lr / learning_rate``, in [0, 1] (``(0, 1]`` for ``inv``; may be traced).
      warmup: the first cycle's warmup, a fraction (``<= 1``) or whole steps.
      decay: each cycle's decay, a fraction or whole steps; None: the rest of the cycle.
      rewarmup: the warmup of the later cycles, a fraction or whole steps.
      cooldown: deprecated in levanter: a final linear decay, a fraction of ``N`` or steps.
      cycle_length: the cycles' length (a fraction of the main steps or steps), or
        a list of the cycles' lengths.
      cycles: the number of cycles, or a list of the cycle ends.
      lr_schedule: ``"constant"``, ``"cosine"``, ``"linear"``, ``"inv_sqrt"`` or
        ``"inv"``; or levanter's ``LrSchedule`` (an object of its class, or a mapping
        with ``type`` and its fields: ``exponent`` for cosine, ``timescale`` for
        inv_sqrt, ``batch_size``, ``seq_length``, ``a``, ``b`` for power).
      haps: deprecated in levanter: the cycle ends.

    Returns:
      A schedule; its value at count ``k`` is the learning rate of levanter's
      ``(k+1)``-th update.

    Raises:
      ValueError: naming the levanter field, where levanter raises (a fraction above
        1 that is not whole, two ways of giving the cycles, cycle lengths beyond the
        run, a cosine without decay steps, power's ``a``/``b``) and for settings it
        would misuse (decreasing cycle ends, an unknown ``lr_schedule``, traced step
        settings).

    Example:
      >>> from optax_warmup.compat import levanter
      >>> s = levanter.lr_scheduler(
      ...     None, 10, learning_rate=1.0, warmup=0.2, min_lr_ratio=0.0, lr_schedule="linear"
      ... )
      >>> [round(float(s(k)), 4) for k in range(12)]
      [0.0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]

    Reference:
      levanter ``src/levanter/optim/config.py`` (``OptimizerConfig.lr_scheduler``,
      ``_get_cycle_minima``, ``_convert_frac_or_steps``) at ``9263f81e8b45``; the
      power schedule: Shen et al., *Power Scheduler*, arXiv:2408.13359 (2024).
    """
    given = {
        "learning_rate": learning_rate,
        "min_lr_ratio": min_lr_ratio,
        "warmup": warmup,
        "decay": decay,
        "rewarmup": rewarmup,
        "cooldown": cooldown,
        "cycle_length": cycle_length,
        "cycles": cycles,
        "lr_schedule": lr_schedule,
        "haps": haps,
    }
    c = given if config is None else stack_config.fields(config, given)
    n = stack_config.static_number("num_train_steps", num_train_steps)
    if n != int(n) or n < 1:
        raise ValueError(f"num_train_steps must be a whole number >= 1, got {num_train_steps!r}.")
    n = int(n)
    v.check_duration("num_train_steps", n)
    lr = c["learning_rate"] if override_lr is None else override_lr
    v.check_finite("override_lr" if override_lr is not None else "learning_rate", lr)
    ratio = c["min_lr_ratio"]
    v.check_range("min_lr_ratio", ratio, low=0.0, high=1.0)
    kind, opts = _schedule_kind(c["lr_schedule"])

    cooldown_steps = 0 if c["cooldown"] is None else _steps("cooldown", c["cooldown"], n)
    main = n - cooldown_steps
    if main < 1:
        raise ValueError(f"cooldown must leave at least one main step, got {c['cooldown']!r}.")
    points = _minima(main, c["cycle_length"], c["cycles"], c["haps"])

    pieces, boundaries = _join_pieces(c, points, kind, opts, lr, ratio, cooldown_steps)
    return _engine.stack_phases(stack_config.join(pieces, boundaries))


def _end_value(previous: tuple[list[_engine.Phase], int] | None) -> ArrayLike:
    """The value a cycle's decay piece ends at (its count ``d``): the next warmup's start."""
    if previous is None:
        return 0.0
    piece, d = previous
    before = [v.concrete_value(ph.span) for ph in piece[:-1]]
    known = [int(x) for x in before if x is not None]
    if len(known) == len(before) and sum(known) <= d and piece[-1].shape.kind == _HOLD:
        return piece[-1].start  # the decay is over at d: its final hold
    return _engine.stack_phases(piece)(d)


def _join_pieces(
    c: dict[str, Any],
    points: list[int],
    kind: str,
    opts: dict[str, Any],
    lr: ArrayLike,
    ratio: ArrayLike,
    cooldown_steps: int,
) -> tuple[list[list[_engine.Phase]], list[int]]:
    """The pieces and boundaries of levanter's ``optax.join_schedules``, as it builds them."""
    min_lr = jnp.asarray(lr, jnp.float32) * jnp.asarray(ratio, jnp.float32)
    pieces: list[list[_engine.Phase]] = []
    boundaries: list[int] = []
    previous: tuple[list[_engine.Phase], int] | None = None  # the last decay and its steps
    for cycle, (start, end) in enumerate(itertools.pairwise(points)):
        steps = end - start
        field = "warmup" if cycle == 0 else "rewarmup"
        w = _steps(field, c[field], steps)
        if w != 0:
            rise = _build.warmup_phase(lr, w, "linear", init_value=_end_value(previous))
            pieces.append([rise, _build.hold_phase(lr)])
            boundaries.append(start + w)
        d = steps - w if c["decay"] is None else _steps("decay", c["decay"], steps)
        if d > steps:
            raise ValueError(f"decay must not exceed a cycle ({steps} steps), got {c['decay']!r}.")
        if d < 0:  # levanter would evaluate its decay at a negative step
            raise ValueError(f"{field} ({w} steps) must not exceed a cycle ({steps} steps).")
        stable = steps - w - d
        if stable != 0:
            pieces.append([_build.hold_phase(lr)])
            boundaries.append(start + w + stable)
        previous = (_decay_piece(kind, opts, lr, ratio, min_lr, w, d), d)
        pieces.append(previous[0])
        boundaries.append(end)
    if cooldown_steps != 0:
        pieces.append(stack_config.optax_linear(_end_value(previous), min_lr, cooldown_steps))
    return pieces, boundaries
