"""Reading the hyperparameter values the next update will use, from an optimizer state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import optax

from optax_warmup.transforms import clock as _clock
from optax_warmup.transforms import groups as _groups
from optax_warmup.transforms import hyperparams as _hyperparams
from optax_warmup.transforms import plateau as _plateau
from optax_warmup.transforms import warmup as _transforms

_WARMUP_STATES = (_transforms.ScaleByWarmupState, _transforms.WithWarmupState)
_CLOCK_STATES = (_clock.ScaleByClockState, _clock.WithClockState)
_OPTAX_INJECT_STATES = (optax.InjectStatefulHyperparamsState, optax.InjectHyperparamsState)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _collect(state: Any, short: tuple[str, ...], full: tuple[str, ...], out: list) -> None:
    """Append ``(short_path, full_path, value)`` for every scheduled value under ``state``."""
    if isinstance(state, _WARMUP_STATES):
        out.append(((*short, "warmup_factor"), (*full, "warmup_factor"), state.warmup_factor))
    if isinstance(state, _CLOCK_STATES):
        out.append(((*short, "clock_factor"), (*full, "clock_factor"), state.factor))
    if isinstance(state, _groups.ScaleByGroupState):
        for group, value in state.multipliers.items():
            out.append(((*short, "multiplier", group), (*full, "multiplier", group), value))
    if isinstance(state, (_hyperparams.InjectSchedulesState, *_OPTAX_INJECT_STATES)):
        for name, value in state.hyperparams.items():
            out.append(((*short, str(name)), (*full, str(name)), value))
    if isinstance(state, _plateau.ReduceOnPlateauState):
        out.append(((*short, "learning_rate"), (*full, "learning_rate"), state.learning_rate))
        out.append(((*short, "plateau_scale"), (*full, "plateau_scale"), state.scale))
    if _is_namedtuple(state):
        for field in state._fields:
            if field in (
                "hyperparams",
                "hyperparams_states",
                "warmup_factor",
                "multipliers",
                "clock",
            ):
                continue
            # Wrappers' inner states add nothing to the readable path.
            step = () if field.startswith("inner") else (field,)
            _collect(getattr(state, field), short + step, (*full, field), out)
    elif isinstance(state, tuple | list):
        for i, sub in enumerate(state):
            _collect(sub, (*short, str(i)), (*full, str(i)), out)
    elif isinstance(state, Mapping):
        for key, sub in state.items():
            _collect(sub, (*short, str(key)), (*full, str(key)), out)


def current_values(opt_state: optax.OptState) -> dict[str, jax.Array]:
    """Every scheduled hyperparameter's value for the next update, keyed by a readable path.

    Walks the state through ``optax.chain`` (tuple index), ``optax.multi_transform``
    / ``optax.partition`` (group label), ``optax.MultiSteps``, ``optax.masked``
    and other wrappers (no path entry), and reports:

    - ``<path>/<name>`` for each hyperparameter of :func:`inject_schedules`
      (the value the next update uses);
    - ``<path>/warmup_factor`` for :func:`scale_by_warmup` and :func:`with_warmup`;
    - ``<path>/clock_factor`` for :func:`scale_by_clock` and :func:`with_clock`;
    - ``<path>/multiplier/<group>`` for :func:`scale_by_group`;
    - ``<path>/learning_rate`` (``learning_rate(count) * scale``, the next
      update's multiplier) and ``<path>/plateau_scale`` for
      :func:`reduce_on_plateau`;
    - ``<path>/<name>`` for ``optax.inject_hyperparams``, which records the value
      its last update used: exact for constants and before the first update,
      one step behind a schedule afterwards (use :func:`inject_schedules` for
      the next value).

    A path is ``"/"``-joined, e.g. ``"1/learning_rate"`` for the second element
    of a chain, ``"embed/learning_rate"`` for a ``multi_transform`` group; a
    top-level hyperparameter is just its name. Where two values would share a
    path, both keep the wrapper fields' names (``inner_state``...) to differ.
    The learning rate appears when it is injected (``optax.adam(schedule)``
    keeps only a count, so its value is not in the state). Works under
    ``jax.jit`` and ``jax.vmap``.

    Args:
      opt_state: an optimizer state (with its NamedTuple types, e.g. restored
        with a target structure).

    Returns:
      A dict from path to value; empty when the state holds no scheduled value.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = optax.chain(
      ...     ow.inject_schedules(optax.clip_by_global_norm)(max_norm=1.0),
      ...     ow.with_warmup(ow.inject_schedules(optax.adamw)(learning_rate=1e-3), 4))
      >>> state = tx.init(jnp.zeros(2))
      >>> values = ow.current_values(state)
      >>> sorted(values)
      ['0/max_norm', '1/b1', '1/b2', '1/eps', '1/eps_root', '1/learning_rate', '1/warmup_factor',
       '1/weight_decay']
      >>> float(values["1/warmup_factor"]), float(values["1/learning_rate"])
      (0.25, 0.001)
    """
    found: list[tuple[tuple[str, ...], tuple[str, ...], Any]] = []
    _collect(opt_state, (), (), found)
    shorts = [s for s, _, _ in found]
    out: dict[str, jax.Array] = {}
    for short, full, value in found:
        path = short if shorts.count(short) == 1 else full
        out["/".join(path)] = value
    return out
