"""Schedules to and from plain, JSON/YAML-serialisable dicts.

:func:`from_config` reads these kinds of node (and spec strings, see
:func:`optax_warmup.parse_spec`):

- a library function by name, with its arguments:
  ``{"kind": "warmup_stable_decay", "peak_value": 3e-4, "total_steps": "100k",
  "warmup_steps": "2%", "decay_steps": "20%", "decay_shape": "1-sqrt"}``.
  Nested schedules are nodes too (``add_warmup``'s ``schedule``, ``join``'s
  ``schedules``...), shapes are names or ``{"name": "polynomial", "power": 3}``;
- the engine's own form, ``{"kind": "phases", "phases": [...]}``, which is
  what :func:`to_config` writes for every :class:`PhaseSchedule`, so any
  schedule the library builds (whatever function made it) round-trips
  exactly, together with the ``multiply`` and ``join`` nodes. A phase's
  ``shape`` is a typed shape of ``engine/build.py`` by its engine name, with
  named arguments: ``{"name": "cosine", "exponent": 2.0}``
  (``build.half_cosine(exponent=2.0)``), or a bare name (``"cosine"``) for
  its unit parameters (power, exponent 1); the older form, a name with a
  ``"params"`` list of the engine's four parameter slots, is still read;
- ``{"kind": "by_tokens" or "by_examples", "batch": "0.5Mtok", "batch_final":
  "4Mtok", "batch_ramp": "50B tokens", "unit": 1e6, "schedule": {...}}``: a
  schedule written in data, run on a batch ramp (the spec's ``batch*``
  settings), exact at every step (see :func:`optax_warmup.by_tokens`);
  without the batch settings, ``{"kind": "by_tokens", "schedule": {...}}`` is
  a :class:`~optax_warmup.ClockedSchedule` for ``scale_by_clock`` /
  ``with_clock`` (its schedule counts single tokens or examples);
- ``{"kind": "data_batch_ramp", "stages": [[0, 768], [250e9, 1536]], "clock":
  "tokens", "seq_len": 2048}``: a :class:`~optax_warmup.DataRamp`.

Durations carry explicit units (see ``_units``): ``2000`` or ``"2k"`` steps,
``"10%"`` of ``total_steps``, ``"5 epochs"`` with ``steps_per_epoch``,
``"50k examples"`` with ``batch_size``, ``"1B tokens"`` with
``tokens_per_step``. A bare ``0.1`` is refused with a message saying how to
write it. The unit settings (``total_steps``, ``steps_per_epoch``,
``batch_size``, ``tokens_per_step``, ``seq_len``) may sit on any node and
apply to it and the nodes below, or be passed to :func:`from_config`.

Values are plain numbers (finite, within float32's range) or the unit strings
above, written with ASCII digits. A config is at most ``MAX_DEPTH`` (32)
levels deep and holds at most ``MAX_NODES`` (200 000) values, counted after
YAML aliases are expanded (a "billion laughs" document is refused at once).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_warmup.engine import build as _typed
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.io import units as _units
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import composites as _composites
from optax_warmup.schedules import decays as _decays
from optax_warmup.schedules import join as _join
from optax_warmup.schedules import noise as _noise
from optax_warmup.schedules import ramps as _ramps
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import Schedule, ScheduleNode
from optax_warmup.transforms import clock as _clock

# Engine shape ids as written in a config.
ENGINE_SHAPES: dict[str, int] = {
    "constant": _shapes.CONSTANT,
    "power_in": _shapes.POWER_IN,
    "power_out": _shapes.POWER_OUT,
    "cosine": _shapes.COSINE,
    "exp_normalized": _shapes.EXP_NORMALIZED,
    "exp_approach": _shapes.EXP_APPROACH,
    "geometric": _shapes.GEOMETRIC,
    "exp_rate": _shapes.EXP_RATE,
    "inv_sqrt": _shapes.INV_SQRT,
    "tanh": _shapes.TANH,
    "radam": _shapes.RADAM,
    "cosine_wave": _shapes.COSINE_WAVE,
    "power_cycle": _shapes.POWER_CYCLE,
}
_SHAPE_NAMES = {k: name for name, k in ENGINE_SHAPES.items()}
# The typed constructor (engine/build.py) of each engine shape, as a phase's shape is written:
# ``{"name": "cosine", "exponent": 2.0}`` is ``build.half_cosine(exponent=2.0)``.
TYPED_SHAPES: dict[str, Callable[..., _shapes.ResolvedShape]] = {
    "constant": _typed.constant_shape,
    "power_in": _typed.power_in,
    "power_out": _typed.power_out,
    "cosine": _typed.half_cosine,
    "exp_normalized": _typed.exp_normalized,
    "exp_approach": _typed.exp_approach,
    "geometric": _typed.geometric,
    "exp_rate": _typed.exp_rate,
    "inv_sqrt": _typed.inverse_sqrt,
    "tanh": _typed.tanh_shape,
    "radam": _typed.radam,
    "cosine_wave": _typed.cosine_wave,
    "power_cycle": _typed.power_cycle,
}
_UNIT_PARAMS = [1.0, 0.0, 0.0, 0.0]  # a bare shape name: every slot at the engine's default
# Arguments a typed constructor stores transformed: the argument from its slot.
_FROM_SLOT: dict[tuple[str, str], Callable[[float, Any], float]] = {
    ("exp_rate", "rate"): _shapes.rate_from_log,  # the engine stores log(rate)
}

_DURATIONS = {
    "warmup_steps",
    "total_steps",
    "decay_steps",
    "cycle_steps",
    "at_step",
    "start_step",
    "end_step",
}
_SHAPES = {"shape", "warmup_shape", "decay_shape"}
_SCHEDULES = {"schedule", "new_schedule"}
_STRINGS = {"anneal", "mode", "dtype", "rounding", "noise_kind", "clock"}
_BOOLS = {"three_phase", "rebase"}


def _multiply(schedules: list[Any]) -> _combine.ProductSchedule:
    return _combine.multiply(*schedules)


def _add(schedules: list[Any]) -> _combine.SumSchedule:
    return _combine.add(*schedules)


def _maximum(schedules: list[Any]) -> _combine.MaximumSchedule:
    return _combine.maximum(*schedules)


def _minimum(schedules: list[Any]) -> _combine.MinimumSchedule:
    return _combine.minimum(*schedules)


def _with_noise(
    schedule: Any,
    key: jax.Array,
    pct: float = 0.67,
    std: float = 1.0,
    noise_kind: _noise.NoiseKind = "normal",
    start_step: int = 0,
    end_step: int | None = None,
) -> _noise.NoisySchedule:
    """:func:`optax_warmup.with_noise`, its ``kind`` written ``noise_kind`` (``kind``: the node)."""
    return _noise.with_noise(
        schedule, key, pct=pct, std=std, kind=noise_kind, start_step=start_step, end_step=end_step
    )


_REGISTRY: dict[str, Callable[..., Any]] = {
    "add": _add,
    "add_warmup": _warmup.add_warmup,
    "constant_schedule": _combine.constant_schedule,
    "cosine_decay": _decays.cosine_decay,
    "cosine_restarts": _composites.cosine_restarts,
    "cyclic": _composites.cyclic,
    "data_batch_ramp": _ramps.data_batch_ramp,
    "decay_schedule": _decays.decay_schedule,
    "integer_ramp": _ramps.integer_ramp,
    "inverse_sqrt_decay": _decays.inverse_sqrt_decay,
    "join": _join.join,
    "linear_decay": _decays.linear_decay,
    "maximum": _maximum,
    "minimum": _minimum,
    "multiply": _multiply,
    "noam_schedule": _composites.noam_schedule,
    "one_cycle": _composites.one_cycle,
    "one_minus_sqrt_decay": _decays.one_minus_sqrt_decay,
    "piecewise_constant": _decays.piecewise_constant,
    "polynomial_decay": _decays.polynomial_decay,
    "rewarmup": _composites.rewarmup,
    "shift": _combine.shift,
    "tanh_decay": _decays.tanh_decay,
    "warmup_decay_schedule": _composites.warmup_decay_schedule,
    "warmup_factor": _warmup.warmup_factor,
    "warmup_schedule": _warmup.warmup_schedule,
    "warmup_stable_decay": _composites.warmup_stable_decay,
    "with_noise": _with_noise,
}
_ALIASES = {"wsd": "warmup_stable_decay", "constant": "constant_schedule"}

MAX_DEPTH = 32
MAX_NODES = 200_000


def check_size(config: Any, name: str = "config") -> None:
    """Raise ``ValueError`` if ``config`` nests deeper than ``MAX_DEPTH`` levels or
    holds more than ``MAX_NODES`` values (shared references, as YAML aliases make,
    counted each time they are reached). Stops as soon as a limit is passed."""
    stack: list[tuple[Any, int]] = [(config, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ValueError(
                f"{name} holds more than {MAX_NODES} values (YAML aliases expanded); "
                "refusing to read it."
            )
        if depth > MAX_DEPTH:
            raise ValueError(f"{name} is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, Mapping):
            stack.extend((x, depth + 1) for x in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((x, depth + 1) for x in node)


def register(kind: str, fn: Callable[..., Any]) -> None:
    """Make ``{"kind": kind, ...}`` call ``fn`` with the node's other keys as arguments.

    Arguments are converted by name: ``*_steps`` and ``at_step`` are durations
    with units, ``shape``/``*_shape`` are shapes, ``schedule``/``schedules``
    are nested nodes, ``boundaries`` a list of durations; anything else a number.
    """
    if kind in _REGISTRY or kind in _ALIASES or kind == "phases":
        raise ValueError(f"config kind {kind!r} is already registered.")
    _REGISTRY[kind] = fn


def kinds() -> tuple[str, ...]:
    """The config kinds :func:`from_config` understands."""
    return ("phases", *_CLOCKED, *sorted(_REGISTRY), *sorted(_ALIASES))


def from_config(
    config: Mapping[str, Any] | str | float,
    *,
    total_steps: int | None = None,
    steps_per_epoch: float | None = None,
    batch_size: float | None = None,
    tokens_per_step: float | None = None,
    seq_len: float | None = None,
) -> Schedule:
    """Build a schedule from a plain dict (as read from JSON or YAML) or a spec string.

    Args:
      config: a node ``{"kind": ..., **arguments}`` (see the module docstring),
        a spec string, or a number (a constant schedule).
      total_steps: the run length, for percentages (``"10%"``).
      steps_per_epoch: for durations in epochs.
      batch_size: examples per step, for durations in examples.
      tokens_per_step: tokens per step, for durations in tokens.
      seq_len: tokens per example (with ``batch_size``, instead of ``tokens_per_step``).

    Returns:
      The schedule.

    Raises:
      ValueError: naming the node path and the argument, e.g.
        ``config.schedules[1].warmup_steps=0.1 is ambiguous...``.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.from_config({"kind": "warmup_decay_schedule", "peak_value": 1.0,
      ...                     "warmup_steps": "20%", "total_steps": 10,
      ...                     "decay_shape": "linear"})
      >>> [round(float(s(c)), 3) for c in (0, 1, 2, 6, 10)]
      [0.5, 1.0, 1.0, 0.5, 0.0]
      >>> ow.from_config({"kind": "warmup_schedule", "peak_value": 1.0, "warmup_steps": 0.1})
      ... # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: config.warmup_steps=0.1 is ambiguous or not a whole number: ...
    """
    check_size(config)
    ctx = _units.UnitContext().with_updates(
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        tokens_per_step=tokens_per_step,
        seq_len=seq_len,
    )
    return _build(config, ctx, "config")


def _node_context(node: Mapping[str, Any], ctx: _units.UnitContext, path: str) -> Any:
    """The unit context for ``node``: its own unit settings over its parent's."""
    updates = {}
    for key in _units.CONTEXT_KEYS:
        if key == "total_steps" or node.get(key) is None:
            continue
        q = _units.as_quantity(node[key], f"{path}.{key}")
        updates[key] = _units.to_value(q, f"{path}.{key}")
    ctx = ctx.with_updates(**updates)
    if node.get("total_steps") is not None:
        total = _duration(node["total_steps"], ctx, f"{path}.total_steps", allow_percent=False)
        ctx = ctx.with_updates(total_steps=total)
    return ctx


def _duration(x: Any, ctx: _units.UnitContext, name: str, *, allow_percent: bool = True) -> int:
    return _units.to_steps(_units.as_quantity(x, name), ctx, name, allow_percent=allow_percent)


def _number(x: Any, name: str) -> Any:
    if x is None:
        return None
    if isinstance(x, list | tuple):
        return [_number(e, f"{name}[{i}]") for i, e in enumerate(x)]
    value = _units.to_value(_units.as_quantity(x, name), name)
    v.check_finite(name, value)
    return value


def _shape(x: Any, name: str) -> _shapes.ShapeLike:
    if isinstance(x, str):
        _shapes.as_shape(x, name)
        return x
    if isinstance(x, Mapping) and isinstance(x.get("name"), str):
        ctor = _shapes.SHAPE_CONSTRUCTORS.get(x["name"])
        if ctor is None:
            raise ValueError(
                f"{name}: unknown shape {x['name']!r}; expected one of {_shapes.SHAPE_NAMES}."
            )
        params = {k: _number(e, f"{name}.{k}") for k, e in x.items() if k != "name"}
        try:
            return ctor(**params)
        except TypeError:
            allowed = list(inspect.signature(ctor).parameters)
            raise ValueError(
                f"{name}: shape {x['name']!r} takes {allowed or 'no parameters'}, "
                f"got {sorted(params)}."
            ) from None
    raise ValueError(
        f"{name} must be a shape name such as 'cosine' or a dict such as "
        f"{{'name': 'polynomial', 'power': 2}}, got {x!r}."
    )


def _key(x: Any, name: str) -> jax.Array:
    """A PRNG key: a seed, ``{"data": [...], "impl": ...}`` (typed key) or ``{"data": [...]}``."""
    if isinstance(x, int) and not isinstance(x, bool):
        return jax.random.key(x)
    if isinstance(x, Mapping) and isinstance(x.get("data"), list | tuple):
        data = jnp.asarray(np.asarray(x["data"], np.uint32))
        impl = x.get("impl")
        return data if impl is None else jax.random.wrap_key_data(data, impl=impl)
    raise ValueError(
        f"{name} must be a seed (an integer) or {{'data': [...], 'impl': ...}}, got {x!r}."
    )


def _stages(x: Any, name: str) -> list[tuple[Any, Any]]:
    """A data ramp's ``[[threshold, size], ...]``: integers kept exact (thresholds may pass
    2**53), other numbers read as values (the ramp checks they are whole)."""
    if not isinstance(x, list | tuple) or not all(
        isinstance(p, list | tuple) and len(p) == 2 for p in x
    ):
        raise ValueError(f"{name} must be a list of [threshold, size] pairs, got {x!r}.")

    def whole(e: Any, where: str) -> Any:
        return e if isinstance(e, int) and not isinstance(e, bool) else _number(e, where)

    return [
        (whole(t, f"{name}[{i}][0]"), whole(b, f"{name}[{i}][1]")) for i, (t, b) in enumerate(x)
    ]


def _key_config(key: jax.Array, name: str) -> dict[str, Any]:
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = _concrete(jax.random.key_data(key), name)
        return {"data": [int(x) for x in data.reshape(-1)], "impl": str(jax.random.key_impl(key))}
    return {"data": [int(x) for x in _concrete(key, name).reshape(-1)]}


def _argument(key: str, x: Any, ctx: _units.UnitContext, name: str) -> Any:
    if key in _DURATIONS:
        return None if x is None else _duration(x, ctx, name)
    if key == "boundaries":
        if not isinstance(x, list | tuple):
            raise ValueError(f"{name} must be a list of durations, got {x!r}.")
        return [_duration(b, ctx, f"{name}[{i}]") for i, b in enumerate(x)]
    if key in _SHAPES:
        return _shape(x, name)
    if key in _SCHEDULES:
        return _build(x, ctx, name)
    if key == "schedules":
        if not isinstance(x, list | tuple):
            raise ValueError(f"{name} must be a list of schedules, got {x!r}.")
        return [_build(s, ctx, f"{name}[{i}]") for i, s in enumerate(x)]
    if key in _STRINGS:
        if not isinstance(x, str):
            raise ValueError(f"{name} must be a string, got {x!r}.")
        return x
    if key == "key":
        return _key(x, name)
    if key == "stages":
        return _stages(x, name)
    if key in _BOOLS:
        if not isinstance(x, bool):
            raise ValueError(f"{name} must be true or false, got {x!r}.")
        return x
    return _number(x, name)


def _build(node: Any, ctx: _units.UnitContext, path: str) -> Any:
    if isinstance(node, str):
        from optax_warmup.io import spec as _spec  # local: only needed for strings

        return _spec.parse_spec(node, **_context_kwargs(ctx))
    if isinstance(node, int | float) and not isinstance(node, bool):
        return _combine.constant_schedule(node)
    if not isinstance(node, Mapping):
        raise ValueError(
            f"{path} must be a dict with a 'kind', a spec string or a number, got {node!r}."
        )
    kind = node.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"{path} needs a 'kind' (one of {kinds()}), got {kind!r}.")
    if kind in _CLOCKED:
        return _build_clocked(node, ctx, path, kind)
    ctx = _node_context(node, ctx, path)
    if kind == "phases":
        return _build_phases(node, ctx, path)
    fn = _REGISTRY.get(_ALIASES.get(kind, kind))
    if fn is None:
        raise ValueError(f"{path}: unknown kind {kind!r}; expected one of {kinds()}.")
    params = inspect.signature(fn).parameters
    kwargs = {}
    for key, x in node.items():
        if key == "kind" or (key in _units.CONTEXT_KEYS and key not in params):
            continue
        if key not in params:
            raise ValueError(f"{path}: {kind} takes no argument {key!r}; it takes {list(params)}.")
        kwargs[key] = _argument(key, x, ctx, f"{path}.{key}")
    missing = [
        k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in kwargs
    ]
    if missing:
        raise ValueError(f"{path}: {kind} needs {missing}.")
    try:
        return fn(**kwargs)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


_CLOCKED = ("by_tokens", "by_examples")
_RAMP_KEYS = ("batch", "batch_final", "batch_increment", "batch_ramp", "seq_len")


def _build_clocked(node: Mapping[str, Any], ctx: _units.UnitContext, path: str, kind: str) -> Any:
    """``{"kind": "by_tokens", "batch": ..., "schedule": ...}``: a data schedule on a batch ramp.

    The batch settings are the spec's (``batch``, ``batch_final``,
    ``batch_increment``, ``batch_ramp``, ``seq_len``); inside ``schedule`` a
    count is ``unit`` tokens (examples), so ``"2B tokens"`` and plain numbers
    of that unit both work. The result is a schedule of the step count.
    """
    allowed = {"kind", "schedule", "unit", "lr_scaling", *_RAMP_KEYS}
    extra = sorted(set(node) - allowed)
    if extra:
        raise ValueError(f"{path}: {kind} takes no key {extra[0]!r}; it takes {sorted(allowed)}.")
    if "schedule" not in node:
        raise ValueError(f"{path}: {kind} needs 'schedule'.")
    clock = kind.removeprefix("by_")
    if "batch" not in node:
        return _build_marked(node, path, kind, clock)
    seq = 1.0 if node.get("seq_len") is None else _number(node["seq_len"], f"{path}.seq_len")
    unit = 1.0 if node.get("unit") is None else _number(node["unit"], f"{path}.unit")
    if not (seq >= 1 and seq == int(seq)) or not unit > 0:
        raise ValueError(f"{path}: seq_len must be a whole number >= 1 and unit > 0.")
    sizes = {
        k: _units.batch_examples(_units.as_quantity(node[k], f"{path}.{k}"), seq, f"{path}.{k}")
        for k in ("batch", "batch_final", "batch_increment")
        if node.get(k) is not None
    }
    amount = 0
    if node.get("batch_ramp") is not None:
        q = _units.as_quantity(node["batch_ramp"], f"{path}.batch_ramp")
        data_ctx = _units.UnitContext(seq_len=seq)
        amount = _units.to_data(q, data_ctx, f"{path}.batch_ramp", clock, allow_percent=False)
    per_unit = {"tokens_per_step": unit, "batch_size": unit / seq}
    if clock == "examples":
        per_unit = {"tokens_per_step": unit * seq, "batch_size": unit}
    inner = _units.UnitContext(seq_len=seq).with_updates(**per_unit)
    schedule = _build(node["schedule"], inner, f"{path}.schedule")
    lr_scaling = node.get("lr_scaling")
    try:
        ramp = _ramps.rampup_batch_size(
            sizes["batch"],
            sizes.get("batch_final", sizes["batch"]),
            sizes.get("batch_increment", sizes["batch"]),
            amount,
            clock=clock,  # type: ignore[arg-type]
            seq_len=int(seq),
        )
        by = _clock.by_tokens if clock == "tokens" else _clock.by_examples
        return by(schedule, ramp, unit=unit, lr_scaling=lr_scaling)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def _build_marked(node: Mapping[str, Any], path: str, kind: str, clock: str) -> Any:
    """``{"kind": "by_tokens", "schedule": ...}`` without batch settings: a
    :class:`~optax_warmup.ClockedSchedule` for ``scale_by_clock`` / ``with_clock``, whose
    ``schedule`` counts single tokens (examples)."""
    other = sorted(set(node) - {"kind", "schedule"})
    if other:
        raise ValueError(
            f"{path}: {kind} without 'batch' (batch sizes given at each update) takes only "
            f"'schedule', got {other[0]!r}."
        )
    per_count = {"tokens_per_step": 1.0} if clock == "tokens" else {"batch_size": 1.0}
    inner = _units.UnitContext().with_updates(**per_count)
    schedule = _build(node["schedule"], inner, f"{path}.schedule")
    return _clock.ClockedSchedule(_combine.as_schedule(schedule), clock)


def _context_kwargs(ctx: _units.UnitContext) -> dict[str, Any]:
    return {k: getattr(ctx, k) for k in _units.CONTEXT_KEYS}


_PHASE_KEYS = ("span", "shape", "start", "end", "params", "length", "offset", "scale")


def _build_phases(node: Mapping[str, Any], ctx: _units.UnitContext, path: str) -> Any:
    allowed = {"kind", "phases", "cycles", "dtype", *_units.CONTEXT_KEYS}
    extra = sorted(set(node) - allowed)
    if extra:
        raise ValueError(f"{path}: phases takes no key {extra[0]!r}; it takes {sorted(allowed)}.")
    phases = node.get("phases")
    if not isinstance(phases, list | tuple) or not phases:
        raise ValueError(f"{path}.phases must be a non-empty list of phases, got {phases!r}.")
    cols: dict[str, list[Any]] = {k: [] for k in _PHASE_KEYS}
    for i, ph in enumerate(phases):
        for k, x in _read_phase(ph, ctx, f"{path}.phases[{i}]").items():
            cols[k].append(x)
    cyc = _read_cycles(node.get("cycles"), ctx, path)
    if cyc:
        try:
            v.check_cycle_decay(
                f"{path}.cycles.decay",
                cyc["cycle_decay"],
                starts=np.asarray(cols["start"], np.float64),
                ends=np.asarray(cols["end"], np.float64),
                scales=np.asarray(cols["scale"], np.float64),
                period=np.asarray(cols["span"][_cycle_index(cyc["cycle_start"]) :], np.int64),
                num_cycles=cyc["num_cycles"],
                cycle_mul=cyc["cycle_mul"],
            )
        except (ValueError, TypeError) as e:
            raise ValueError(f"{path}: {e}") from None
    dtype = node.get("dtype")
    if dtype is not None and not isinstance(dtype, str):
        raise ValueError(f"{path}.dtype must be a dtype name such as 'float32', got {dtype!r}.")
    try:
        return _engine.from_arrays(
            np.asarray(cols["span"], np.int64),
            np.asarray(cols["start"], np.float64),
            np.asarray(cols["end"], np.float64),
            kinds=tuple(cols["shape"]),
            params=np.asarray(cols["params"], np.float64),
            lengths=np.asarray(cols["length"], np.float64),
            offsets=np.asarray(cols["offset"], np.float64),
            cycle_scale=np.asarray(cols["scale"], np.float64),
            dtype=dtype,
            **cyc,
        )
    except (ValueError, TypeError) as e:
        raise ValueError(f"{path}: {e}") from None


def _read_phase(ph: Any, ctx: _units.UnitContext, name: str) -> dict[str, Any]:
    """One phase of a ``phases`` node, as the engine's columns."""
    if not isinstance(ph, Mapping):
        raise ValueError(f"{name} must be a dict, got {ph!r}.")
    unknown = sorted(set(ph) - set(_PHASE_KEYS))
    if unknown:
        raise ValueError(f"{name}: unknown key {unknown[0]!r}; phases take {_PHASE_KEYS}.")
    for k in ("span", "shape", "start", "end"):
        if k not in ph:
            raise ValueError(f"{name} needs {k!r}.")
    span = _duration(ph["span"], ctx, f"{name}.span")
    kind, params = _read_shape(ph, name)
    scale = _number(ph.get("scale", [0.0, 0.0]), f"{name}.scale")
    if not isinstance(scale, list) or len(scale) != 2:
        raise ValueError(f"{name}.scale must be [start, end], got {scale!r}.")
    return {
        "span": span,
        "shape": kind,
        "start": _number(ph["start"], f"{name}.start"),
        "end": _number(ph["end"], f"{name}.end"),
        "params": params,
        "length": _number(ph.get("length", span), f"{name}.length"),
        "offset": _number(ph.get("offset", 0.0), f"{name}.offset"),
        "scale": scale,
    }


def _read_shape(ph: Mapping[str, Any], name: str) -> tuple[int, list[float]]:
    """A phase's shape as the engine's id and parameters, from its typed constructor.

    ``"cosine"`` (a bare name: the engine's unit parameters, power or exponent
    1), ``{"name": "cosine", "exponent": 2.0}`` (the typed constructor of
    ``TYPED_SHAPES`` with named parameters), or the older form, a name with
    ``"params"``: the four parameter slots as a list.
    """
    shape = ph["shape"]
    if "params" in ph or isinstance(shape, str):
        if not isinstance(shape, str) or shape not in ENGINE_SHAPES:
            raise ValueError(
                f"{name}.shape must be one of {sorted(ENGINE_SHAPES)} (with 'params') "
                f"or a dict such as {{'name': 'cosine', 'exponent': 2.0}}, got {shape!r}."
            )
        params = _number(ph.get("params", _UNIT_PARAMS), f"{name}.params")
        if not isinstance(params, list) or not 0 < len(params) <= _shapes.NUM_PARAMS:
            raise ValueError(f"{name}.params must be a list of 1 to 4 numbers, got {params!r}.")
        return ENGINE_SHAPES[shape], params + [0.0] * (_shapes.NUM_PARAMS - len(params))
    ctor = TYPED_SHAPES.get(str(shape.get("name"))) if isinstance(shape, Mapping) else None
    if ctor is None:
        raise ValueError(
            f"{name}.shape must be one of {sorted(ENGINE_SHAPES)} or a dict such as "
            f"{{'name': 'cosine', 'exponent': 2.0}}, got {shape!r}."
        )
    args = {
        k: x if isinstance(x, bool) else _number(x, f"{name}.shape.{k}")
        for k, x in shape.items()
        if k != "name"
    }
    try:
        resolved = ctor(**args)
    except TypeError:
        allowed = list(inspect.signature(ctor).parameters)
        raise ValueError(
            f"{name}.shape: {shape['name']!r} takes {allowed or 'no parameters'}, "
            f"got {sorted(args)}."
        ) from None
    return resolved.kind, [float(np.asarray(x, np.float64)) for x in resolved.params]


@functools.cache
def _typed_slots(name: str) -> dict[str, tuple[int, ...]]:
    """The parameter slots each argument of a shape's typed constructor fills, found by
    calling it (a float64 multiplier kept as two float32 parts fills two)."""
    ctor = TYPED_SHAPES[name]
    params = inspect.signature(ctor).parameters
    empty = inspect.Parameter.empty
    base = {k: 1.0 if p.default is empty else p.default for k, p in params.items()}
    ref = np.asarray(ctor(**base).params, np.float64)
    out = {}
    for k in params:
        probe = (not base[k]) if isinstance(base[k], bool) else 0.6180339887498949
        got = np.asarray(ctor(**{**base, k: probe}).params, np.float64)
        out[k] = tuple(int(j) for j in np.flatnonzero(got != ref))
    return out


def _shape_config(kind: int, slots: list[float], fdt: Any) -> tuple[Any, list[float] | None]:
    """A phase's shape as written: a bare name, the typed constructor's named arguments,
    or (only if those cannot give the same parameters) the name and its four slots."""
    name = _SHAPE_NAMES[kind]
    if slots == _UNIT_PARAMS:
        return name, None
    ctor = TYPED_SHAPES[name]
    spec = inspect.signature(ctor).parameters
    named: dict[str, Any] = {}
    for k, idx in _typed_slots(name).items():
        if len(idx) > 1:  # a parameter kept in two parts: their exact sum
            x = float(sum(np.float64(np.asarray(slots[j], fdt)) for j in idx))
        else:
            x = slots[idx[0]] if idx else 0.0
        if (name, k) in _FROM_SLOT:
            x = _FROM_SLOT[name, k](x, fdt)
        named[k] = bool(x) if isinstance(spec[k].default, bool) else x
    resolved = ctor(**named)
    same = np.array_equal(np.asarray(resolved.params, fdt), np.asarray(slots, fdt))
    if resolved.kind != kind or not same:
        return name, slots
    written = {k: x for k, x in named.items() if x != spec[k].default}
    return {"name": name, **written}, None


def _read_cycles(cycles: Any, ctx: _units.UnitContext, path: str) -> dict[str, Any]:
    """The ``cycles`` entry of a ``phases`` node, as the engine's cycle arguments."""
    if cycles is None:
        return {}
    if not isinstance(cycles, Mapping) or "start" not in cycles:
        raise ValueError(f"{path}.cycles must be a dict with 'start', got {cycles!r}.")
    extra = sorted(set(cycles) - {"start", "num_cycles", "mul", "decay"})
    if extra:
        raise ValueError(f"{path}.cycles: unknown key {extra[0]!r}.")
    n = cycles.get("num_cycles")
    return {
        "cycle_start": cycles["start"],
        "num_cycles": None if n is None else _duration(n, ctx, f"{path}.cycles.num_cycles"),
        "cycle_mul": _number(cycles.get("mul", 1.0), f"{path}.cycles.mul"),
        "cycle_decay": _number(cycles.get("decay", 1.0), f"{path}.cycles.decay"),
    }


def _cycle_index(start: Any) -> int:
    """A ``cycles.start`` index for slicing (the engine checks it properly)."""
    return start if isinstance(start, int) and not isinstance(start, bool) and start >= 0 else 0


def to_config(schedule: Schedule) -> dict[str, Any]:
    """A plain dict (JSON/YAML-serialisable) that :func:`from_config` turns back into ``schedule``.

    A :class:`PhaseSchedule` becomes its phases (``{"kind": "phases", ...}``),
    whichever function built it, so ``from_config(to_config(s))`` equals ``s``
    at every count; every other library schedule type becomes its own node:
    ``multiply``, ``add``, ``join``, ``shift``, ``with_noise`` (its key as
    ``{"data": [...], "impl": ...}``; the noise's ``kind`` written
    ``noise_kind``), ``integer_ramp``, ``data_batch_ramp`` (a :class:`DataRamp`)
    and ``by_tokens`` / ``by_examples`` (a :class:`ClockedSchedule`).

    Args:
      schedule: a library schedule with concrete (not traced, not batched) values.

    Returns:
      The config dict.

    Raises:
      ValueError: for a Python function (a ``FunctionSchedule`` or a plain
        callable: the one schedule type it cannot write) or a custom shape
        function, which cannot be serialised, and for traced or batched
        schedules.

    Example:
      >>> import optax_warmup as ow
      >>> ow.to_config(ow.warmup_schedule(1.0, 4))
      {'kind': 'phases', 'phases': [{'span': 4, 'shape': 'power_in', 'start': 0.0, 'end': 1.0,
      'offset': 1.0, 'scale': [0.0, 1.0]}, {'span': 0, 'shape': 'constant', 'start': 1.0,
      'end': 1.0, 'scale': [1.0, 1.0]}]}
    """
    return _to_config(schedule, "schedule")


def _to_config(s: Any, path: str) -> dict[str, Any]:
    if isinstance(s, _engine.PhaseSchedule):
        return _phases_config(s, path)
    if isinstance(s, ScheduleNode) and s.config_kind:
        return {"kind": s.config_kind, **_NODE_WRITERS[type(s)](s, path)}
    if isinstance(s, _combine.FunctionSchedule) or callable(s):
        fn = getattr(s, "fn", s)
        raise ValueError(
            f"{path} is a Python function ({getattr(fn, '__name__', type(fn).__name__)}), "
            "which cannot be serialised (a FunctionSchedule, the one schedule type "
            "to_config cannot write); build it from library schedules instead."
        )
    raise ValueError(f"{path} is not a schedule: {type(s).__name__}.")


def _parts(parts: tuple[Any, ...], path: str) -> list[dict[str, Any]]:
    return [_to_config(p, f"{path}.schedules[{i}]") for i, p in enumerate(parts)]


def _int(x: Any, name: str) -> int:
    return int(_concrete(x, name))


def _joined_config(s: _combine.JoinedSchedule, path: str) -> dict[str, Any]:
    b = _concrete(s.boundaries, f"{path}.boundaries")
    return {
        "schedules": _parts(s.pieces, path),
        "boundaries": [int(x) for x in b.reshape(-1)],
        "rebase": bool(s.rebase),
    }


def _noisy_config(s: _noise.NoisySchedule, path: str) -> dict[str, Any]:
    return {
        "schedule": _to_config(s.schedule, f"{path}.schedule"),
        "key": _key_config(s.key, f"{path}.key"),
        "pct": shortest_float(_concrete(s.pct, f"{path}.pct"), np.float32),
        "std": shortest_float(_concrete(s.std, f"{path}.std"), np.float32),
        "noise_kind": s.kind,
        "start_step": _int(s.start_step, f"{path}.start_step"),
        "end_step": None if s.end_step is None else _int(s.end_step, f"{path}.end_step"),
    }


def _ramp_config(s: _ramps.IntegerRamp, path: str) -> dict[str, Any]:
    return {
        "schedule": _to_config(s.schedule, f"{path}.schedule"),
        "multiple": _int(s.multiple, f"{path}.multiple"),
        "minimum": _int(s.minimum, f"{path}.minimum"),
        "maximum": _int(s.maximum, f"{path}.maximum"),
        "rounding": s.rounding,
    }


def _data_ramp_config(s: _ramps.DataRamp, path: str) -> dict[str, Any]:
    del path
    pairs = [[t, b] for t, b in zip(s.thresholds, s.sizes, strict=True)]
    return {"stages": pairs, "clock": s.clock, "seq_len": s.seq_len}


def _clocked_config(s: _clock.ClockedSchedule, path: str) -> dict[str, Any]:
    # The node is named by the clock (by_tokens / by_examples), over the class's config_kind.
    return {"kind": f"by_{s.clock}", "schedule": _to_config(s.schedule, f"{path}.schedule")}


# One writer per config node; from_config reads each back through _REGISTRY
# (by_tokens / by_examples through _build_clocked).
_NODE_WRITERS: dict[type, Callable[[Any, str], dict[str, Any]]] = {
    _combine.ProductSchedule: lambda s, path: {"schedules": _parts(s.factors, path)},
    _combine.SumSchedule: lambda s, path: {"schedules": _parts(s.terms, path)},
    _combine.MaximumSchedule: lambda s, path: {"schedules": _parts(s.parts, path)},
    _combine.MinimumSchedule: lambda s, path: {"schedules": _parts(s.parts, path)},
    _combine.JoinedSchedule: _joined_config,
    _combine.ShiftedSchedule: lambda s, path: {
        "schedule": _to_config(s.schedule, f"{path}.schedule"),
        "steps": _int(s.steps, f"{path}.steps"),
    },
    _noise.NoisySchedule: _noisy_config,
    _ramps.IntegerRamp: _ramp_config,
    _ramps.DataRamp: _data_ramp_config,
    _clock.ClockedSchedule: _clocked_config,
}


def _concrete(x: Any, name: str) -> np.ndarray:
    c = v.concrete_value(x)
    if c is None:
        raise ValueError(f"{name} is traced; to_config needs concrete values.")
    return c


def shortest_float(x: Any, dtype: Any) -> float:
    """The shortest decimal that reads back to the same ``dtype`` value (exact otherwise)."""
    if dtype == np.float32:
        short = float(str(np.float32(x)))
        if np.float32(short) == np.float32(x):
            return short
    return float(x)


def _phases_config(s: _engine.PhaseSchedule, path: str) -> dict[str, Any]:
    if s.custom_fns:
        raise ValueError(
            f"{path} uses a custom shape function, which cannot be serialised; use a named shape."
        )
    arrays = {f: _concrete(getattr(s, f), f"{path}.{f}") for f in _engine.PHASE_FIELDS}
    n = s.num_phases
    expected = {"params": (n, _shapes.NUM_PARAMS), "cycle_scale": (n, 2), "num_cycles": ()}
    for f, a in arrays.items():
        want = expected.get(f, () if f.startswith("cycle_") else (n,))
        if a.shape != want:
            raise ValueError(
                f"{path}.{f} has shape {a.shape}, not {want}: to_config needs one schedule, "
                "not a batch (index the batch first)."
            )
    fdt = arrays["starts"].dtype
    phases = []
    for i in range(n):
        span = int(arrays["spans"][i])
        ph: dict[str, Any] = {
            "span": span,
            "shape": _SHAPE_NAMES[s.kinds[i]],
            "start": shortest_float(arrays["starts"][i], fdt),
            "end": shortest_float(arrays["ends"][i], fdt),
        }
        slots = [shortest_float(p, fdt) for p in arrays["params"][i]]
        ph["shape"], params = _shape_config(s.kinds[i], slots, fdt)
        if params is not None:
            while len(params) > 1 and params[-1] == 0.0:
                params.pop()
            ph["params"] = params
        length = shortest_float(arrays["lengths"][i], fdt)
        if length != span:
            ph["length"] = length
        offset = shortest_float(arrays["offsets"][i], fdt)
        if offset != 0.0:
            ph["offset"] = offset
        scale = [shortest_float(x, fdt) for x in arrays["cycle_scale"][i]]
        if scale != [0.0, 0.0]:
            ph["scale"] = scale
        phases.append(ph)
    out: dict[str, Any] = {"kind": "phases", "phases": phases}
    if s.cycle_start is not None:
        nc = arrays["num_cycles"]
        out["cycles"] = {
            "start": s.cycle_start,
            "num_cycles": None if int(nc) == int(np.iinfo(nc.dtype).max) else int(nc),
            "mul": shortest_float(arrays["cycle_mul"], fdt),
            "decay": shortest_float(arrays["cycle_decay"], fdt),
        }
    if s.dtype != "float32":
        out["dtype"] = s.dtype
    return out


def node_total_steps(config: Mapping[str, Any]) -> int | None:
    """The ``total_steps`` a config node names, its units resolved (``None`` if absent)."""
    return _node_context(config, _units.UnitContext(), "config").total_steps
