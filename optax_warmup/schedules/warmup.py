"""Warmup schedules and warmup over any main schedule."""

from __future__ import annotations

from typing import Any, Literal

from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import join as _join
from optax_warmup.schedules.base import Schedule

WarmupMode = Literal["prefix", "continuous", "multiply"]
WARMUP_MODES = ("prefix", "continuous", "multiply")


def check_warmup(
    peak_value: ArrayLike | None,
    warmup_steps: ArrayLike,
    shape: _shapes.ShapeLike,
    init_value: ArrayLike | None,
    *,
    peak_name: str = "peak_value",
    steps_name: str = "warmup_steps",
    init_name: str = "init_value",
    shape_name: str = "shape",
    check_peak: bool = True,
) -> _shapes.ResolvedShape:
    """Validate a warmup's arguments (once, at the public boundary) and resolve its shape.

    The ``*_name`` arguments are the names the user wrote (a peer's own names
    in the compat layers); ``check_peak=False`` when the library computes the
    peak itself (then ``peak_value`` is ignored).
    """
    v.check_duration(steps_name, warmup_steps, scalar=True)
    if check_peak:
        v.check_finite(peak_name, peak_value, scalar=True)
    resolved = _shapes.resolve(shape, "warmup", shape_name)
    if init_value is None:
        if resolved.kind == _shapes.CONSTANT:
            raise ValueError(
                f"a constant warmup holds {init_name} and then jumps to the peak; pass {init_name}."
            )
    else:
        v.check_finite(init_name, init_value, scalar=True)
    return resolved


def warmup_schedule(
    peak_value: ArrayLike,
    warmup_steps: ArrayLike,
    *,
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
    dtype: Any = None,
) -> _engine.PhaseSchedule:
    """Warm up to ``peak_value`` over ``warmup_steps``, then hold it.

    ``value(c) = peak * f((c + 1) / W)`` for ``c < W`` (no wasted first
    update), or ``init + (peak - init) * f(c / W)`` when ``init_value`` is given
    (the optax / Hugging Face convention: ``init`` at count 0, peak at ``W``);
    ``peak`` from then on. ``f`` is the warmup shape (linear, cosine,
    exponential, polynomial, 1-sqrt, constant or your own function of the
    progress). ``warmup_steps = 0`` gives ``peak`` from count 0.

    Args:
      peak_value: the value reached at the end of warmup.
      warmup_steps: the warmup length in steps.
      shape: the warmup shape: a name, an ``optax_warmup.shapes`` object, or
        a function of the progress ``p`` in [0, 1].
      init_value: start value (optax convention); ``None`` for no wasted update.
      dtype: output dtype (float32 by default).

    Returns:
      A schedule.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.warmup_schedule(1.0, 4)
      >>> [float(s(c)) for c in range(6)]
      [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
      >>> s = ow.warmup_schedule(1.0, 4, init_value=0.0)
      >>> [float(s(c)) for c in range(6)]
      [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """
    resolved = check_warmup(peak_value, warmup_steps, shape, init_value)
    phase = _build.warmup_phase(peak_value, warmup_steps, resolved, init_value)
    return _engine.stack_phases([phase, _build.hold_phase(peak_value)], dtype=dtype)


def warmup_factor(
    warmup_steps: ArrayLike,
    *,
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """A warmup multiplier rising to 1 over ``warmup_steps``: ``warmup_schedule(1.0, ...)``.

    Example:
      >>> import optax_warmup as ow
      >>> [float(ow.warmup_factor(2)(c)) for c in range(3)]
      [0.5, 1.0, 1.0]
    """
    return warmup_schedule(1.0, warmup_steps, shape=shape, init_value=init_value)


def add_warmup(
    schedule: _combine.ScheduleLike,
    warmup_steps: ArrayLike,
    *,
    mode: WarmupMode = "prefix",
    shape: _shapes.ShapeLike = "linear",
    init_value: ArrayLike | None = None,
) -> Schedule:
    """Put a warmup in front of any schedule, in one of the field's three conventions.

    - ``"prefix"``: warm up to ``schedule(0)`` over ``W`` steps, then run
      ``schedule(c - W)``: the main schedule starts after warmup, intact.
    - ``"continuous"``: warm up to ``schedule(W)``, then ``schedule(c)``: warmup
      replaces the first ``W`` steps and joins the main schedule with no drop
      (TF Model Garden's ``LinearWarmup``).
    - ``"multiply"``: ``warmup_factor(c) * schedule(c)``: warmup as a multiplier
      over any schedule (pytorch_warmup's convention); ``init_value`` is then
      the initial factor.

    Args:
      schedule: the main schedule, a function of the count, or a number.
      warmup_steps: warmup length in steps.
      mode: ``"prefix"``, ``"continuous"`` or ``"multiply"``.
      shape: the warmup shape.
      init_value: start value of the warmup (``None``: no wasted update).

    Returns:
      A schedule. With library schedules in ``prefix`` mode (and in
      ``continuous`` mode for non-cyclic ones) the result is a single
      :class:`PhaseSchedule`.

    Example:
      >>> import optax_warmup as ow
      >>> main = ow.linear_decay(1.0, 4)
      >>> s = ow.add_warmup(main, 2)
      >>> [float(s(c)) for c in range(7)]
      [0.5, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
      >>> s = ow.add_warmup(main, 2, mode="continuous")
      >>> [float(s(c)) for c in range(5)]
      [0.25, 0.5, 0.5, 0.25, 0.0]
    """
    v.check_choice("mode", mode, WARMUP_MODES)
    main = _combine.as_schedule(schedule)
    if mode == "multiply":
        return _combine.multiply(
            warmup_factor(warmup_steps, shape=shape, init_value=init_value), main
        )
    resolved = check_warmup(None, warmup_steps, shape, init_value, check_peak=False)
    target = main(0) if mode == "prefix" else main(warmup_steps)
    warm = _engine.stack_phases(
        [_build.warmup_phase(target, warmup_steps, resolved, init_value), _build.hold_phase(target)]
    )
    return _join.join([warm, main], [warmup_steps], rebase=(mode == "prefix"))
