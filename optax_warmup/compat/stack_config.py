"""Reading a training stack's config object for the stack compat modules.

The JAX training stacks hand their schedule builders a config object (MaxText's
pydantic config, levanter's ``OptimizerConfig`` dataclass, an
``ml_collections.ConfigDict``) or a plain mapping. :func:`fields` reads the
settings a compat function needs from either, by the stack's own field names.
Several stacks assemble their schedule with ``optax.join_schedules``;
:func:`join` lays the same pieces out as the engine's phases, boundaries and
all (including the ones optax accepts out of order).

Example:
  >>> from optax_warmup.compat import stack_config
  >>> stack_config.fields({"steps": 10, "other": 1}, {"steps": 5, "warmup": 0.1})
  {'steps': 10, 'warmup': 0.1}
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
from jax.typing import ArrayLike

from optax_warmup.engine import build as _build
from optax_warmup.engine import validation as v
from optax_warmup.engine.phases import Phase

__all__: list[str] = []


def fields(config: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The settings named in ``defaults``, read from ``config`` where it has them.

    Args:
      config: a mapping (read by key) or any object (read by attribute); the
        fields it lacks keep their default, the ones not named are ignored.
      defaults: each setting's name and its value when ``config`` lacks it.

    Returns:
      A dict with one entry per name of ``defaults``.
    """
    if isinstance(config, Mapping):
        return {name: config.get(name, default) for name, default in defaults.items()}
    return {name: getattr(config, name, default) for name, default in defaults.items()}


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """A setting given as a string or as a stack's ``str`` enum, checked against ``choices``."""
    text = value.value if isinstance(value, enum.Enum) else value
    if not isinstance(text, str):
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")
    v.check_choice(name, text, choices)
    return text


def static_number(name: str, value: Any) -> Any:
    """A concrete finite number (a setting that decides the phases), as a Python number."""
    known = v.concrete_value(value)
    if known is None or known.ndim != 0 or known.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a concrete number (it sets the phases), got {value!r}.")
    v.check_finite(name, known)
    return float(known) if known.dtype.kind == "f" else int(known)


def optax_linear(init: ArrayLike, end: ArrayLike, steps: int) -> list[Phase]:
    """The phases of ``optax.linear_schedule(init, end, steps)`` (a join piece).

    ``init + (end - init) min(t, steps) / steps``; constant at ``init`` when
    ``steps <= 0``, as optax makes it.
    """
    if steps <= 0:
        return [_build.hold_phase(init)]
    return [_build.decay_phase(init, steps, end, "linear"), _build.hold_phase(end)]


def _clipped(piece: Sequence[Phase], span: int) -> list[Phase]:
    """The phases of ``piece`` (time 0 at its start, the last one open) cut to ``span`` steps."""
    out: list[Phase] = []
    used: Any = 0
    for i, ph in enumerate(piece):
        room = jnp.maximum(span - used, 0) if isinstance(used, jnp.ndarray) else max(span - used, 0)
        last = i == len(piece) - 1
        take = room if last else jnp.minimum(jnp.asarray(ph.span), room)
        length = ph.span if ph.length is None else ph.length
        out.append(dataclasses.replace(ph, span=take, length=length))
        if not last:
            used = used + ph.span
    return out


def join(pieces: Sequence[Sequence[Phase]], boundaries: Sequence[int]) -> list[Phase]:
    """The phases of ``optax.join_schedules(pieces, boundaries)``, for static boundaries.

    optax evaluates ``piece[i+1](count - boundaries[i])`` where ``count >=
    boundaries[i]``, each later piece overriding the earlier ones; extra
    boundaries are ignored. So piece ``i`` (``i >= 1``) starts at ``boundaries[i-1]``
    and runs until the earliest start of a later piece; a piece whose later
    pieces all start no later than it does never shows.

    Args:
      pieces: each piece's phases, time 0 at the piece's start, the last phase
        open-ended (span 0).
      boundaries: optax's boundaries (non-negative whole steps).

    Returns:
      The phases, in order, the last one open-ended.
    """
    starts = [0] + [int(b) for b in boundaries[: len(pieces) - 1]]
    if min(starts) < 0:
        raise ValueError(f"join: boundaries must be >= 0, got {list(boundaries)!r}.")
    out: list[Phase] = []
    for i, piece in enumerate(pieces):
        later = starts[i + 1 :]
        if not later:
            out += list(piece)
        elif min(later) > starts[i]:
            out += _clipped(piece, min(later) - starts[i])
    return out
