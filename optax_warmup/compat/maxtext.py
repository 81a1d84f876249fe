"""MaxText's learning-rate schedule (``maxtext_utils.create_learning_rate_schedule``).

MaxText feeds optax's count to the schedule (count 0 for the first update) and
builds it with ``optax.join_schedules``. With ``S =
learning_rate_schedule_steps``, ``W = int(S * warmup_steps_fraction)`` (a
truncation) and ``final = learning_rate * learning_rate_final_fraction``:

- a linear warmup ``learning_rate * k / W`` over counts ``[0, W)`` (0 at the
  first update);
- ``"cosine"``: a cosine from ``learning_rate`` at count ``W`` to ``final`` at
  count ``S - 1``, **end-inclusive**: the progress is ``(k - W) / (S - W - 1)``;
- ``"wsd"``: ``learning_rate`` until ``S - D`` (``D = int(S *
  wsd_decay_steps_fraction)``), then a decay reaching ``final`` at count ``S -
  1`` (linear over ``D - 1`` steps, or the end-inclusive cosine); a decay of
  one step is ``learning_rate`` for the linear style (optax's
  ``linear_schedule`` with zero transition steps is constant) and ``final`` for
  the cosine one;
- from ``S`` on, 0 when ``steps > S``; otherwise the last piece goes on: the
  cosine **rises again** past ``S`` (it is not clipped), the linear decay holds
  ``final``.

Matches MaxText ``src/maxtext/utils/maxtext_utils.py`` and the defaults of
``src/maxtext/configs/types.py`` at commit ``e591f30cbbf2``.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.compat import stack_config
from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import validation as v

__all__ = ["create_learning_rate_schedule"]

_TYPES = ("cosine", "wsd")
_STYLES = ("linear", "cosine")


def _fraction(name: str, value: Any) -> float:
    f = stack_config.static_number(name, value)
    v.check_range(name, f, low=0.0, high=1.0)
    return f


def _cosine_piece(init: ArrayLike, final: ArrayLike, steps: int) -> list[_engine.Phase]:
    """MaxText's ``make_cos_schedule(init, final, steps)``: progress ``t / (steps - 1)``,
    reaching 1 at the piece's last step and not clipped after it (one step: ``final``)."""
    if steps <= 1:
        return [_build.hold_phase(final)]
    return [_build.decay_phase(init, 0, final, _build.cosine_wave(1.0), length=steps - 1)]


def create_learning_rate_schedule(
    config: Any = None,
    /,
    *,
    learning_rate: ArrayLike = 3.0e-5,
    steps: int = 150_001,
    learning_rate_schedule_steps: int = -1,
    warmup_steps_fraction: float = 0.1,
    learning_rate_final_fraction: ArrayLike = 0.1,
    lr_schedule_type: str = "cosine",
    wsd_decay_steps_fraction: float = 0.1,
    wsd_decay_style: str = "linear",
    cosine_learning_rate_final_fraction: ArrayLike | None = None,
) -> _engine.PhaseSchedule:
    """MaxText's ``create_learning_rate_schedule(config)``: warmup, cosine or WSD, zero tail.

    With ``S = learning_rate_schedule_steps``, ``W = int(S * warmup_steps_fraction)``,
    ``lr = learning_rate`` and ``final = lr * learning_rate_final_fraction``, count ``k``
    gets ``lr * k / W`` for ``k < W``, then (``"cosine"``)
    ``final + (lr - final) (1 + cos(pi (k - W) / (S - W - 1))) / 2`` up to ``S - 1``, or
    (``"wsd"``, ``D = int(S * wsd_decay_steps_fraction)``) ``lr`` up to ``S - D - 1`` and a
    decay from ``lr`` to ``final`` over the last ``D`` counts, both ends included; then 0
    from ``S`` on when ``steps > S``. The module docstring gives the edge cases.

    Args:
      config: MaxText's config (an object with these attributes, or a mapping with
        these keys); the settings it has replace the keyword arguments.
      learning_rate: the peak learning rate (may be traced).
      steps: the training steps; -1 means ``learning_rate_schedule_steps``.
      learning_rate_schedule_steps: ``S``, the schedule's length; -1 means ``steps``.
      warmup_steps_fraction: the warmup's share of ``S``, in [0, 1] (truncated to steps).
      learning_rate_final_fraction: ``final / lr`` (may be traced).
      lr_schedule_type: ``"cosine"`` or ``"wsd"``.
      wsd_decay_steps_fraction: the WSD decay's share of ``S``, in [0, 1].
      wsd_decay_style: the WSD decay, ``"linear"`` or ``"cosine"``.
      cosine_learning_rate_final_fraction: older MaxText's name of
        ``learning_rate_final_fraction``; replaces it when given.

    Returns:
      A schedule; its value at count ``k`` is the learning rate of MaxText's
      ``(k+1)``-th update.

    Raises:
      ValueError: naming the MaxText field, for a fraction outside [0, 1], warmup and
        WSD decay fractions summing above 1 (as MaxText's config refuses), a
        schedule of no steps, an unknown type or style, or a traced step setting.

    Example:
      >>> from optax_warmup.compat import maxtext
      >>> s = maxtext.create_learning_rate_schedule(
      ...     {"learning_rate": 1.0, "steps": 12, "learning_rate_schedule_steps": 10,
      ...      "warmup_steps_fraction": 0.2, "learning_rate_final_fraction": 0.0}
      ... )
      >>> [round(float(s(k)), 4) for k in range(12)]
      [0.0, 0.5, 1.0, 0.9505, 0.8117, 0.6113, 0.3887, 0.1883, 0.0495, 0.0, 0.0, 0.0]

    Reference:
      MaxText ``src/maxtext/utils/maxtext_utils.py`` (``create_learning_rate_schedule``)
      and ``src/maxtext/configs/types.py`` at ``e591f30cbbf2``.
    """
    given = {
        "learning_rate": learning_rate,
        "steps": steps,
        "learning_rate_schedule_steps": learning_rate_schedule_steps,
        "warmup_steps_fraction": warmup_steps_fraction,
        "learning_rate_final_fraction": learning_rate_final_fraction,
        "lr_schedule_type": lr_schedule_type,
        "wsd_decay_steps_fraction": wsd_decay_steps_fraction,
        "wsd_decay_style": wsd_decay_style,
        "cosine_learning_rate_final_fraction": cosine_learning_rate_final_fraction,
    }
    c = given if config is None else stack_config.fields(config, given)
    fraction_name = "learning_rate_final_fraction"
    if c["cosine_learning_rate_final_fraction"] is not None:
        fraction_name = "cosine_learning_rate_final_fraction"
    v.check_finite(fraction_name, c[fraction_name])
    lr = c["learning_rate"]
    v.check_finite("learning_rate", lr)
    kind = stack_config.choice("lr_schedule_type", c["lr_schedule_type"], _TYPES)
    style = stack_config.choice("wsd_decay_style", c["wsd_decay_style"], _STYLES)
    length, total = _lengths(c["learning_rate_schedule_steps"], c["steps"])
    warm_f = _fraction("warmup_steps_fraction", c["warmup_steps_fraction"])
    decay_f = _fraction("wsd_decay_steps_fraction", c["wsd_decay_steps_fraction"])
    if kind == "wsd" and warm_f + decay_f > 1.0:
        raise ValueError(
            f"warmup_steps_fraction + wsd_decay_steps_fraction must not exceed 1, got "
            f"{warm_f!r} + {decay_f!r}."
        )
    final = jnp.asarray(lr, jnp.float32) * jnp.asarray(c[fraction_name], jnp.float32)
    warmup = int(length * warm_f)
    decay = length - warmup if kind == "cosine" else int(length * decay_f)
    pieces, boundaries = _join_pieces(lr, final, kind, style, length, warmup, decay)
    if total > length:
        pieces.append([_build.hold_phase(0.0)])
        boundaries.append(length)
    return _engine.stack_phases(stack_config.join(pieces, boundaries))


def _lengths(schedule_steps: Any, steps: Any) -> tuple[int, int]:
    """``learning_rate_schedule_steps`` and ``steps``, -1 for either meaning the other."""
    total = stack_config.static_number("steps", steps)
    length = stack_config.static_number("learning_rate_schedule_steps", schedule_steps)
    length = total if length == -1 else length
    total = length if total == -1 else total
    for name, n in (("learning_rate_schedule_steps", length), ("steps", total)):
        if n != int(n) or n < 1:
            raise ValueError(f"{name} must be a whole number >= 1 (or -1), got {n!r}.")
        v.check_duration(name, int(n))
    return int(length), int(total)


def _join_pieces(
    lr: ArrayLike, final: ArrayLike, kind: str, style: str, length: int, warmup: int, decay: int
) -> tuple[list[list[_engine.Phase]], list[int]]:
    """The pieces and boundaries of MaxText's ``optax.join_schedules``, as it builds them
    (``decay``: the cosine's steps, or the WSD decay's), before the zero tail."""
    pieces: list[list[_engine.Phase]] = []
    boundaries: list[int] = []
    if warmup > 0:
        pieces.append(
            [_build.warmup_phase(lr, warmup, "linear", init_value=0.0), _build.hold_phase(lr)]
        )
        boundaries.append(warmup)
    if kind == "cosine":
        if decay > 0:
            pieces.append(_cosine_piece(lr, final, decay))
            boundaries.append(warmup + decay)
        return pieces, boundaries
    stable = length - warmup - decay
    if stable > 0:
        pieces.append([_build.hold_phase(lr)])
        boundaries.append(warmup + stable)
    if decay > 0:
        if style == "linear":
            pieces.append(stack_config.optax_linear(lr, final, decay - 1))
        else:
            pieces.append(_cosine_piece(lr, final, decay))
        boundaries.append(warmup + stable + decay)
    return pieces, boundaries
