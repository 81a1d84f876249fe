"""A data clock: schedules driven by the examples or tokens consumed, not the steps.

Large runs define their warmup and decay in tokens while the batch size ramps
(GPT-3; Megatron-LM's ``--rampup-batch-size`` and batch-size thresholds). Two
ways to run a schedule written in tokens or examples:

- the batch sizes are known in advance (a :class:`~optax_warmup.DataRamp`, a
  step-driven :func:`~optax_warmup.batch_size_ramp`, or a constant):
  ``by_tokens(schedule, ramp)`` returns a schedule of the step count, a
  :class:`~optax_warmup.PhaseSchedule` whose phases are the data schedule's
  phases cut at the ramp's stages, so it is exact (step ``k`` gets
  ``schedule(tokens consumed before step k)``), pure, resumable from the
  count alone, and usable as the learning rate of any optax optimizer;
- the batch sizes come with the data: ``by_tokens(schedule)`` marks the
  schedule, and :func:`scale_by_clock` / :func:`with_clock` keep a data clock
  in the optimizer state (steps, examples and tokens consumed, saturating
  integers in the index dtype: int64 under x64, int32 otherwise), advanced by
  the ``batch_size`` (and ``seq_len``) each ``update`` is given as extra
  arguments (optax's ``GradientTransformationExtraArgs`` convention) or reads
  from a ramp. The clock is part of the state, so it is checkpointed with it.

Either way the schedule is evaluated at the data consumed before the update,
as optax evaluates a step schedule at the updates applied before it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import ramps as _ramps
from optax_warmup.schedules.base import ScheduleNode, register_node
from optax_warmup.transforms import warmup as _warmup

CLOCKS = ("steps", "examples", "tokens")


def saturating_add(a: jax.Array, b: ArrayLike) -> jax.Array:
    """``a + b`` for ``a, b >= 0`` in ``a``'s integer dtype, saturating at its maximum."""
    hi = jnp.iinfo(a.dtype).max
    b = jnp.clip(jnp.asarray(b), 0, hi).astype(a.dtype)
    return jnp.where(a > hi - b, hi, a + b)


def saturating_mul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a * b`` for ``a, b >= 0`` in ``a``'s integer dtype, saturating at its maximum."""
    hi = jnp.iinfo(a.dtype).max
    b = jnp.clip(b, 0, hi).astype(a.dtype)
    over = (b > 0) & (a > hi // jnp.maximum(b, 1))
    return jnp.where(over, hi, a * b)


@dataclasses.dataclass(frozen=True, eq=False)
class ClockedSchedule(ScheduleNode):
    """A schedule of the data consumed (``clock``: ``"examples"`` or ``"tokens"``).

    A marker for :func:`scale_by_clock` and :func:`with_clock`, which evaluate
    ``schedule`` at their data clock. It is not a function of the step count:
    calling it raises; ``by_tokens(schedule, ramp)`` gives one. A pytree (its
    schedule is the leaf, ``clock`` static); its config node is
    ``{"kind": "by_tokens" or "by_examples", "schedule": ...}``.
    """

    schedule: Any
    clock: str
    # ``by_examples`` for the examples clock: the config writer names the node by the clock.
    config_kind: ClassVar[str] = "by_tokens"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        raise TypeError(
            f"this schedule counts {self.clock}, not steps: give the batch sizes "
            f"(by_{self.clock}(schedule, ramp)) or use it in scale_by_clock / with_clock."
        )


register_node(ClockedSchedule, data_fields=["schedule"], meta_fields=["clock"])


def phase_table(s: _engine.PhaseSchedule) -> dict[str, Any]:
    """A non-cyclic, concrete schedule's phases as float64 / int64 NumPy columns."""
    if s.is_cyclic:
        raise ValueError("a schedule driven by the data clock cannot be cyclic.")
    table = {f: v.concrete_value(getattr(s, f)) for f in _engine.PHASE_FIELDS}
    if any(x is None for x in table.values()):
        raise ValueError("by_tokens / by_examples with a ramp need a concrete schedule.")
    return {
        "spans": np.asarray(table["spans"], np.int64),
        "lengths": np.asarray(table["lengths"], np.float64),
        "offsets": np.asarray(table["offsets"], np.float64),
        "starts": np.asarray(table["starts"], np.float64),
        "ends": np.asarray(table["ends"], np.float64),
        "params": np.asarray(table["params"], np.float64),
        "cycle_scale": np.asarray(table["cycle_scale"], np.float64),
        "kinds": s.kinds,
        "custom_fns": s.custom_fns,
        "dtype": s.dtype,
        "warped": s.warped,
    }


def phases_on_ramp(
    table: dict[str, Any],
    stages: _ramps.RampStages,
    clock: str,
    *,
    unit: float = 1.0,
    factors: Sequence[float] | None = None,
) -> _engine.PhaseSchedule:
    """Map a data-clock phase table onto steps, cut at the ramp's stages.

    Within a stage of ``u`` data per step the data consumed is linear in the
    step, so each (phase, stage) piece is a phase in steps: its progress length
    is ``length / u``, its offset ``(consumed at its first step - phase begin
    + offset) / u``, and its shape parameters that are durations (see
    ``shapes.TIME_PARAMS``) are divided by ``u``. ``unit`` is the data one
    count of the table stands for; ``factors`` multiplies each stage's values.
    Computed on the host in exact integers (boundaries) and float64.
    """
    per = stages.seq_len if clock == "tokens" else 1
    spans = table["spans"]
    ends = np.cumsum(spans).astype(np.float64) * unit
    begins = ends - spans * unit
    n = len(spans)
    # Steps at which a phase begins: the first step with that much data consumed.
    cuts = {stages.first_step(int(np.ceil(b)), clock) for b in begins[1:]}
    cuts.update(stages.steps)
    bounds = np.asarray(sorted(cuts), np.int64)
    consumed = np.asarray([stages.examples_at(int(k)) * per for k in bounds], np.float64)
    phase = np.minimum(np.searchsorted(ends, consumed, side="right"), n - 1)
    stage = np.searchsorted(np.asarray(stages.steps), bounds, side="right") - 1
    u = np.asarray(stages.sizes, np.float64)[stage] * per / unit  # table counts per step
    new_spans = np.append(np.diff(bounds), 0)
    elapsed = (consumed - begins[phase]) / unit
    mask = np.asarray(
        [_shapes.TIME_PARAMS.get(table["kinds"][j], (False,) * _shapes.NUM_PARAMS) for j in phase]
    ).reshape(len(phase), _shapes.NUM_PARAMS)
    params = table["params"][phase]
    params = np.where(mask, params / u[:, None], params)
    scale = 1.0 if factors is None else np.asarray(factors, np.float64)[stage]
    if np.any(bounds[-1] > np.iinfo(v.index_dtype()).max):
        raise ValueError(
            f"the ramp reaches step {bounds[-1]}, beyond the int32 range; enable 64-bit counts "
            "with jax.config.update('jax_enable_x64', True)."
        )
    return _engine.from_arrays(
        new_spans,
        table["starts"][phase] * scale,
        table["ends"][phase] * scale,
        kinds=tuple(table["kinds"][j] for j in phase),
        params=params,
        lengths=table["lengths"][phase] / u,
        offsets=(elapsed + table["offsets"][phase]) / u,
        cycle_scale=table["cycle_scale"][phase],
        custom_fns=table["custom_fns"],
        dtype=table["dtype"],
    )


def _stage_factors(
    stages: _ramps.RampStages, lr_scaling: str | None, reference_size: int | None
) -> list[float] | None:
    if lr_scaling is None:
        return None
    v.check_choice("lr_scaling", lr_scaling, _ramps.LR_SCALINGS)
    ref = stages.sizes[-1] if reference_size is None else reference_size
    return [float(_ramps.lr_scale(b, ref, lr_scaling)) for b in stages.sizes]  # type: ignore[arg-type]


def _by(
    clock: str,
    schedule: Any,
    ramp: Any,
    unit: float,
    seq_len: int | None,
    num_steps: int | None,
    lr_scaling: str | None,
    reference_size: int | None,
) -> _engine.PhaseSchedule | ClockedSchedule:
    if ramp is None:
        if lr_scaling is not None:
            raise ValueError("lr_scaling needs the ramp (or pass it to scale_by_clock).")
        if unit != 1.0:  # the data clock counts single tokens (examples)
            raise ValueError(
                f"unit={unit!r} needs the ramp; without one, write the schedule's durations "
                f"in single {clock}."
            )
        return ClockedSchedule(_combine.as_schedule(schedule), clock)
    if not isinstance(schedule, _engine.PhaseSchedule):
        raise ValueError(
            f"by_{clock} with a ramp needs a library phase schedule, got {type(schedule).__name__}."
        )
    if isinstance(ramp, _ramps.DataRamp) and seq_len is not None and seq_len != ramp.seq_len:
        raise ValueError(f"seq_len={seq_len} differs from the ramp's seq_len={ramp.seq_len}.")
    if not float(unit) > 0:
        raise ValueError(f"unit must be > 0, got {unit!r}.")
    stages = _ramps.ramp_schedule_stages(ramp, num_steps=num_steps, seq_len=seq_len or 1)
    factors = _stage_factors(stages, lr_scaling, reference_size)
    return phases_on_ramp(phase_table(schedule), stages, clock, unit=unit, factors=factors)


def by_tokens(
    schedule: Any,
    ramp: Any = None,
    *,
    unit: float = 1.0,
    seq_len: int | None = None,
    num_steps: int | None = None,
    lr_scaling: str | None = None,
    reference_size: int | None = None,
) -> _engine.PhaseSchedule | ClockedSchedule:
    """Drive ``schedule`` by the tokens consumed instead of the step count.

    With a ``ramp`` (the batch sizes, known in advance) the result is a
    schedule of the step count: step ``k`` gets ``schedule(T_k / unit)``,
    ``T_k`` the tokens consumed before step ``k``. It is a phase schedule (the
    phases of ``schedule`` cut at the ramp's stages, see
    :func:`phases_on_ramp`), so it is exact under the ramp, O(1) to evaluate,
    resumable from the count and usable as any optax optimizer's learning rate.
    Without a ramp it is a :class:`ClockedSchedule` for :func:`scale_by_clock`
    and :func:`with_clock`, whose state counts the tokens. Both paths give
    step ``k`` the same ``schedule(T_k / unit)``; a warmup that wastes no
    update (``warmup_schedule`` without ``init_value``) then starts one count
    (``unit`` tokens) early, so pass ``init_value=0.0`` for the optax convention.

    Args:
      schedule: the schedule, its durations in tokens (or in ``unit`` tokens).
      ramp: a :func:`data_batch_ramp` / :func:`rampup_batch_size`, a
        step-driven :func:`batch_size_ramp`, or a constant batch size (examples
        per step); ``None`` for batch sizes given at each update.
      unit: tokens per count of ``schedule`` (e.g. ``1e6`` for a schedule
        written in millions of tokens, which then fits int32 counts).
      seq_len: tokens per example for a step-driven ramp or a constant
        (a data ramp carries its own).
      num_steps: steps to scan for a step-driven ramp that is not a phase schedule.
      lr_scaling: ``"linear"`` or ``"sqrt"``: also multiply each stage's values
        by :func:`lr_scale` of its batch size against ``reference_size``.
      reference_size: the batch size the values are for (default the ramp's last).

    Returns:
      A :class:`PhaseSchedule` of the step count (with a ramp), else a
      :class:`ClockedSchedule`.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> ramp = ow.data_batch_ramp({0: 2, 8: 4}, clock="tokens")  # tokens per step
      >>> s = ow.by_tokens(ow.warmup_schedule(1.0, 16, init_value=0.0), ramp)
      >>> [float(x) for x in s(jnp.arange(7))]  # tokens before: 0 2 4 6 8 12 16
      [0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 1.0]
    """
    return _by("tokens", schedule, ramp, unit, seq_len, num_steps, lr_scaling, reference_size)


def by_examples(
    schedule: Any,
    ramp: Any = None,
    *,
    unit: float = 1.0,
    num_steps: int | None = None,
    lr_scaling: str | None = None,
    reference_size: int | None = None,
) -> _engine.PhaseSchedule | ClockedSchedule:
    """Drive ``schedule`` by the examples consumed (see :func:`by_tokens`).

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> ramp = ow.batch_size_ramp(32, 64, 2, multiple=32)  # 32, 64, 64, ... per step
      >>> s = ow.by_examples(ow.linear_decay(1.0, 256), ramp)
      >>> [float(x) for x in s(jnp.arange(5))]  # examples before: 0 32 96 160 224
      [1.0, 0.875, 0.625, 0.375, 0.125]
    """
    return _by("examples", schedule, ramp, unit, None, num_steps, lr_scaling, reference_size)


class DataClockState(NamedTuple):
    """The data clock: updates applied and data consumed before the next update.

    Attributes:
      steps: updates applied (index dtype, saturating).
      examples: examples consumed (index dtype: int64 under x64, else int32; saturating).
      tokens: tokens consumed (same dtype, saturating).
    """

    steps: jax.Array
    examples: jax.Array
    tokens: jax.Array


class ScaleByClockState(NamedTuple):
    """State of :func:`scale_by_clock`: the clock and the factor of the next update."""

    clock: DataClockState
    factor: jax.Array


class WithClockState(NamedTuple):
    """State of :func:`with_clock`: the clock, the next factor and the wrapped state."""

    clock: DataClockState
    factor: jax.Array
    inner_state: optax.OptState


def init_clock() -> DataClockState:
    """A data clock at zero."""
    z = jnp.zeros([], v.index_dtype())
    return DataClockState(z, z, z)


def _reading(schedule: Any) -> tuple[Callable[[ArrayLike], Any], str]:
    if isinstance(schedule, ClockedSchedule):
        return schedule.schedule, schedule.clock
    return _combine.as_schedule(schedule), "steps"


def _clock_value(c: DataClockState, clock: str) -> jax.Array:
    return {"steps": c.steps, "examples": c.examples, "tokens": c.tokens}[clock]


class _Clocked:
    """The clock logic shared by :func:`scale_by_clock` and :func:`with_clock`."""

    def __init__(
        self,
        schedule: Any,
        batch_size: Any,
        seq_len: Any,
        lr_scaling: str | None,
        reference_size: ArrayLike | None,
    ) -> None:
        self.fn, self.clock = _reading(schedule)
        if lr_scaling is not None:
            v.check_choice("lr_scaling", lr_scaling, _ramps.LR_SCALINGS)
            if reference_size is None:
                raise ValueError("lr_scaling needs reference_size (the batch the values are for).")
            v.check_range("reference_size", reference_size, low=1)
        if batch_size is not None and not callable(batch_size):
            v.check_range("batch_size", batch_size, low=1)
        if seq_len is not None:
            v.check_range("seq_len", seq_len, low=1)
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.lr_scaling = lr_scaling
        self.reference_size = reference_size

    def factor(self, c: DataClockState) -> jax.Array:
        return _warmup.factor_at(self.fn, _clock_value(c, self.clock))

    def sizes(self, c: DataClockState, extra: dict[str, Any]) -> tuple[jax.Array, jax.Array]:
        batch = extra.get("batch_size", self.batch_size)
        seq = extra.get("seq_len", self.seq_len)
        if isinstance(batch, _ramps.DataRamp):
            seq = batch.seq_len if seq is None else seq
            per = batch.seq_len if batch.clock == "tokens" else 1
            batch = batch(saturating_mul(c.examples, jnp.asarray(per, c.examples.dtype)))
        elif callable(batch):
            batch = batch(c.steps)
        if batch is None:
            raise ValueError(
                "the data clock needs the batch size: pass batch_size= to update() "
                "or a batch_size (number or ramp) when building the transformation."
            )
        if seq is None and self.clock == "tokens":
            raise ValueError("a schedule in tokens needs seq_len (to update() or at build time).")
        idt = v.index_dtype()
        b = jnp.maximum(jnp.asarray(batch), 0).astype(idt)
        s = jnp.maximum(jnp.asarray(1 if seq is None else seq), 0).astype(idt)
        return b, s

    def advance(self, c: DataClockState, b: jax.Array, s: jax.Array) -> DataClockState:
        return DataClockState(
            saturating_add(c.steps, 1),
            saturating_add(c.examples, b),
            saturating_add(c.tokens, saturating_mul(b, s)),
        )

    def step(
        self, updates: optax.Updates, c: DataClockState, factor: jax.Array, extra: dict[str, Any]
    ) -> tuple[optax.Updates, DataClockState, jax.Array]:
        b, s = self.sizes(c, extra)
        if self.lr_scaling is not None:
            factor = factor * _ramps.lr_scale(b, self.reference_size, self.lr_scaling)  # type: ignore[arg-type]
        updates = _warmup.scale_tree(updates, factor)
        c = self.advance(c, b, s)
        return updates, c, self.factor(c)


def scale_by_clock(
    schedule: Any,
    *,
    batch_size: Any = None,
    seq_len: ArrayLike | None = None,
    lr_scaling: str | None = None,
    reference_size: ArrayLike | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Multiply updates by a schedule of the data clock: a chainable transformation.

    ``updates <- s(x) * updates``, ``x`` the steps, examples or tokens consumed
    before this update (``by_examples(s)`` / ``by_tokens(s)`` pick the clock;
    a plain schedule counts steps). The clock then advances by this update's
    batch: ``batch_size`` examples and ``batch_size * seq_len`` tokens, given
    to ``update`` as extra arguments, or else read from the values given
    here (a number, a step-driven ramp called with the step count, or a
    :class:`DataRamp` called with the data consumed). Counters saturate at
    the index dtype's maximum (int32 unless x64 is on: 2**31 - 1 tokens,
    about 2.1B, so enable x64 for longer token counts).

    Args:
      schedule: ``by_tokens(s)``, ``by_examples(s)`` or a step schedule.
      batch_size: the default batch size (examples per step) or ramp.
      seq_len: the default tokens per example.
      lr_scaling: ``"linear"`` or ``"sqrt"``: also multiply by
        :func:`lr_scale` of the update's batch size against ``reference_size``.
      reference_size: the batch size the schedule's values are for.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` with a :class:`ScaleByClockState`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = ow.scale_by_clock(ow.by_tokens(ow.warmup_schedule(1.0, 100, init_value=0.0)))
      >>> state = tx.init(jnp.zeros(1))
      >>> for b in (2, 4, 8):
      ...     u, state = tx.update(jnp.ones(1), state, batch_size=b, seq_len=10)
      ...     print(float(u[0]), int(state.clock.tokens))
      0.0 20
      0.2 60
      0.6 140
    """
    logic = _Clocked(schedule, batch_size, seq_len, lr_scaling, reference_size)

    def init_fn(params: optax.Params) -> ScaleByClockState:
        del params
        c = init_clock()
        return ScaleByClockState(c, logic.factor(c))

    def update_fn(
        updates: optax.Updates,
        state: ScaleByClockState,
        params: optax.Params | None = None,
        **extra: Any,
    ) -> tuple[optax.Updates, ScaleByClockState]:
        del params
        updates, c, factor = logic.step(updates, state.clock, state.factor, extra)
        return updates, ScaleByClockState(c, factor)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)  # type: ignore[arg-type]


def with_clock(
    tx: optax.GradientTransformation,
    schedule: Any,
    *,
    batch_size: Any = None,
    seq_len: ArrayLike | None = None,
    lr_scaling: str | None = None,
    reference_size: ArrayLike | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Wrap any optimizer so its updates are scaled by a schedule of the data clock.

    As :func:`scale_by_clock` after ``tx`` (the extra arguments, including
    ``batch_size`` and ``seq_len``, are passed on to ``tx``). With
    ``optax.adamw(1.0)`` the schedule is the learning rate.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = ow.with_clock(optax.sgd(1.0), ow.by_examples(ow.linear_decay(1.0, 8)))
      >>> params = jnp.zeros(1)
      >>> state = tx.init(params)
      >>> for _ in range(3):
      ...     u, state = tx.update(jnp.ones(1), state, params, batch_size=2)
      ...     print(float(u[0]))
      -1.0
      -0.75
      -0.5
    """
    if not (hasattr(tx, "init") and hasattr(tx, "update")):
        raise ValueError(f"tx must be an optax.GradientTransformation, got {tx!r}.")
    inner = optax.with_extra_args_support(tx)
    logic = _Clocked(schedule, batch_size, seq_len, lr_scaling, reference_size)

    def init_fn(params: optax.Params) -> WithClockState:
        c = init_clock()
        return WithClockState(c, logic.factor(c), inner.init(params))

    def update_fn(
        updates: optax.Updates,
        state: WithClockState,
        params: optax.Params | None = None,
        **extra: Any,
    ) -> tuple[optax.Updates, WithClockState]:
        updates, inner_state = inner.update(updates, state.inner_state, params, **extra)
        updates, c, factor = logic.step(updates, state.clock, state.factor, extra)
        return updates, WithClockState(c, factor, inner_state)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)  # type: ignore[arg-type]
