"""Joining schedules at step boundaries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules.base import Schedule


def _mergeable(pieces: Sequence[Any], rebase: bool) -> bool:
    if not all(isinstance(p, _engine.PhaseSchedule) for p in pieces):
        return False
    if any(p.is_cyclic for p in pieces[:-1]):
        return False
    # Without rebasing, later pieces are skipped ahead, which cycles do not support.
    return rebase or not any(p.is_cyclic for p in pieces[1:])


def join(
    schedules: Sequence[_combine.ScheduleLike],
    boundaries: Sequence[ArrayLike] | jax.Array,
    *,
    rebase: bool = True,
) -> Schedule:
    """Join schedules: piece ``i`` runs from ``boundaries[i-1]`` to ``boundaries[i]``.

    With ``rebase=True`` (optax's ``join_schedules`` convention) piece ``i``
    sees ``count - boundaries[i-1]``; with ``rebase=False`` it sees ``count``.

    When every piece is a library schedule (and only the last is cyclic) the
    phases are merged into one :class:`PhaseSchedule`, so evaluation costs the
    same for 2 or 2000 pieces. Any other callable is accepted too; the result
    then evaluates each piece at every count.

    Args:
      schedules: the pieces (schedules, functions or numbers).
      boundaries: ``len(schedules) - 1`` sorted step counts (traced allowed;
        traced boundaries are clamped at 0 and made non-decreasing).
      rebase: whether each piece counts from its own start.

    Returns:
      The joined schedule.

    Raises:
      ValueError: for concrete unsorted or negative boundaries, or a number of
        boundaries that does not match the number of schedules.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.join([ow.constant_schedule(1.0), ow.constant_schedule(0.5)], [3])
      >>> [float(s(c)) for c in (0, 2, 3, 9)]
      [1.0, 1.0, 0.5, 0.5]
    """
    if len(schedules) == 0:
        raise ValueError("schedules must hold at least one schedule, got none.")
    pieces = [_combine.as_schedule(s, f"schedules[{i}]") for i, s in enumerate(schedules)]
    b = _combine.sorted_boundaries(boundaries, len(pieces))
    if len(pieces) == 1:
        return pieces[0]
    if not _mergeable(pieces, rebase):
        return _combine.JoinedSchedule(tuple(pieces), b, rebase)
    begins = jnp.concatenate([jnp.zeros((1,), b.dtype), b])
    phase_pieces = [p for p in pieces if isinstance(p, _engine.PhaseSchedule)]
    skips = jnp.zeros_like(begins) if rebase else begins
    slots = jnp.concatenate([b - begins[:-1], jnp.zeros((1,), b.dtype)])
    return _engine.place_pieces(
        _engine.concatenate(phase_pieces), [p.num_phases for p in phase_pieces], skips, slots
    )
