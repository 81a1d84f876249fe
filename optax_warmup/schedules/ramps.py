"""Integer ramps for the data side: batch size and sequence length schedules.

A ramp is any library schedule whose value is rounded to a multiple and
clamped to ``[minimum, maximum]``, returned as an integer. Each distinct value
is a distinct input shape, i.e. one compile of the train step;
:func:`ramp_stages` lists them up front so a training loop can precompile or
at least knows what to expect.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.schedules.base import ScheduleNode, register_node

Rounding = Literal["nearest", "floor", "ceil"]
ROUNDINGS = ("nearest", "floor", "ceil")
_ROUND = {
    "nearest": lambda q: jnp.floor(q + 0.5),  # ties go up
    "floor": jnp.floor,
    "ceil": jnp.ceil,
}


def _cap() -> int:
    """The largest ramp value: half the index dtype's range, so products never overflow."""
    return int(np.iinfo(v.index_dtype()).max) // 2


@dataclasses.dataclass(frozen=True, eq=False)
class IntegerRamp(ScheduleNode):
    """A schedule rounded to a multiple and clamped, returning integers.

    ``value(c) = clip(multiple * round(schedule(c) / multiple), minimum, maximum)``
    in the index dtype (int32, int64 under x64). A pytree: its schedule and
    bounds are leaves, ``rounding`` is static.
    """

    schedule: Any
    multiple: jax.Array
    minimum: jax.Array
    maximum: jax.Array
    rounding: str
    config_kind: ClassVar[str] = "integer_ramp"

    def evaluate(self, count: ArrayLike) -> jax.Array:
        fdt = jnp.float64 if v.x64_enabled() else jnp.float32
        idt = v.index_dtype()
        x = jnp.asarray(self.schedule(count), fdt)
        m = jnp.maximum(self.multiple, 1).astype(idt)
        k_max = jnp.floor(_cap() / m.astype(fdt))
        k = jnp.clip(_ROUND[self.rounding](x / m.astype(fdt)), 0, k_max)
        value = k.astype(idt) * m
        return jnp.clip(value, self.minimum, self.maximum)


register_node(
    IntegerRamp,
    data_fields=["schedule", "multiple", "minimum", "maximum"],
    meta_fields=["rounding"],
)


def integer_ramp(
    schedule: _combine.ScheduleLike,
    *,
    multiple: ArrayLike = 1,
    minimum: ArrayLike | None = None,
    maximum: ArrayLike | None = None,
    rounding: Rounding = "nearest",
) -> IntegerRamp:
    """Round any schedule to integers: a multiple of ``multiple`` in ``[minimum, maximum]``.

    ``value(c) = clip(multiple * round(schedule(c) / multiple), minimum, maximum)``.

    Args:
      schedule: the real-valued schedule (any library schedule or function).
      multiple: the step of the integer grid (>= 1), e.g. 8 for tensor-core
        friendly sequence lengths or the data-parallel world size for batches.
      minimum: the smallest value (default ``multiple``, so never 0).
      maximum: the largest value (default: half the index dtype's range).
      rounding: ``"nearest"`` (ties go up), ``"floor"`` or ``"ceil"``. Traced bounds are
        used as given (``minimum`` wins over ``maximum`` if they cross).

    Returns:
      An :class:`IntegerRamp`.

    Example:
      >>> import optax_warmup as ow
      >>> r = ow.integer_ramp(ow.linear_decay(100.0, 10, end_value=20.0), multiple=16)
      >>> [int(r(c)) for c in (0, 5, 10)]
      [96, 64, 16]
    """
    v.check_choice("rounding", rounding, ROUNDINGS)
    idt = v.index_dtype()
    v.check_duration("multiple", multiple)
    v.check_range("multiple", multiple, low=1)
    m = v.as_duration("multiple", multiple)
    lo = m if minimum is None else v.as_duration("minimum", minimum)
    hi = jnp.asarray(_cap(), idt) if maximum is None else v.as_duration("maximum", maximum)
    lo_c, hi_c = v.concrete_value(lo), v.concrete_value(hi)
    if lo_c is not None and hi_c is not None and np.any(lo_c > hi_c):
        raise ValueError(f"minimum must not exceed maximum, got {lo_c.item()} > {hi_c.item()}.")
    return IntegerRamp(_combine.as_schedule(schedule), m, lo, hi, rounding)


def _ramp(
    name: str,
    init_value: ArrayLike,
    final_value: ArrayLike,
    ramp_steps: ArrayLike,
    multiple: ArrayLike,
    shape: _shapes.ShapeLike,
    rounding: Rounding,
) -> IntegerRamp:
    v.check_range(f"init_{name}", init_value, low=1)
    v.check_range(f"final_{name}", final_value, low=1)
    v.check_range("multiple", multiple, low=1)
    v.check_duration("ramp_steps", ramp_steps)
    f, m = v.concrete_value(final_value), v.concrete_value(multiple)
    if f is not None and m is not None and np.any(np.mod(f, m) != 0):
        raise ValueError(f"final_{name}={f.item()} must be a multiple of multiple={m.item()}.")
    i = v.concrete_value(init_value)
    if i is not None and f is not None and np.any(i > f):
        raise ValueError(f"init_{name} must not exceed final_{name}, got {i.item()} > {f.item()}.")
    sched = _warmup.warmup_schedule(
        jnp.asarray(final_value, jnp.float32),
        ramp_steps,
        shape=shape,
        init_value=jnp.asarray(init_value, jnp.float32),
    )
    return integer_ramp(sched, multiple=multiple, maximum=final_value, rounding=rounding)


def batch_size_ramp(
    init_size: ArrayLike,
    final_size: ArrayLike,
    ramp_steps: ArrayLike,
    *,
    multiple: ArrayLike = 1,
    shape: _shapes.ShapeLike = "linear",
    rounding: Rounding = "nearest",
) -> IntegerRamp:
    """A batch-size warmup: from ``init_size`` to ``final_size`` over ``ramp_steps``.

    ``size(c) = clip(multiple * round(s(c) / multiple), multiple, final)`` with
    ``s(c) = init + (final - init) f(c / ramp_steps)`` (``f`` the shape), then
    ``final``. GPT-3 ramped its batch linearly from 32k tokens to 3.2M (Brown
    et al. 2020, "Language Models are Few-Shot Learners").

    Args:
      init_size: the size at count 0 (>= 1, <= ``final_size``).
      final_size: the size from ``ramp_steps`` on; a multiple of ``multiple``.
      ramp_steps: the ramp length in steps.
      multiple: sizes are multiples of this (e.g. the number of data-parallel
        devices, or a tokens-per-sequence unit).
      shape: the ramp shape (as for :func:`warmup_schedule`).
      rounding: ``"nearest"``, ``"floor"`` or ``"ceil"``.

    Returns:
      An :class:`IntegerRamp`; :func:`ramp_stages` lists its stages.

    Example:
      >>> import optax_warmup as ow
      >>> r = ow.batch_size_ramp(32, 256, 4, multiple=32)
      >>> [int(r(c)) for c in range(6)]
      [32, 96, 160, 192, 256, 256]
    """
    return _ramp("size", init_size, final_size, ramp_steps, multiple, shape, rounding)


def sequence_length_ramp(
    init_length: ArrayLike,
    final_length: ArrayLike,
    ramp_steps: ArrayLike,
    *,
    multiple: ArrayLike = 8,
    shape: _shapes.ShapeLike = "linear",
    rounding: Rounding = "nearest",
) -> IntegerRamp:
    """Sequence-length warmup: from ``init_length`` to ``final_length`` over ``ramp_steps``.

    The same formula as :func:`batch_size_ramp`, with lengths rounded to a
    multiple of 8 by default (Li et al. 2022, "The Stability-Efficiency Dilemma:
    Investigating Sequence Length Warmup for Training GPT Models", which rounds
    the linearly increasing length to multiples of 8).

    Example:
      >>> import optax_warmup as ow
      >>> r = ow.sequence_length_ramp(8, 1024, 1000)
      >>> [int(r(c)) for c in (0, 1, 100, 500, 999, 1000)]
      [8, 8, 112, 520, 1024, 1024]
    """
    return _ramp("length", init_length, final_length, ramp_steps, multiple, shape, rounding)


@jax.jit
def _evaluate(ramp: Any, counts: jax.Array) -> jax.Array:
    return jnp.asarray(ramp(counts))


# Up to this many steps ``ramp_stages`` scans every step; beyond, it bisects.
_SCAN_LIMIT = 1 << 22
_GRID = 1 << 16


def ramp_stages(ramp: Any, num_steps: int, *, chunk_size: int = 1 << 20) -> list[tuple[int, int]]:
    """The stages of an integer ramp over ``num_steps`` steps: ``(start_step, value)`` pairs.

    A stage is a maximal run of steps with the same value, i.e. one input shape
    and one compile of the train step (a value that comes back later, as in a
    cyclic ramp, starts a new stage but reuses the compile).

    Up to 2**22 steps (and for cyclic ramps) every step is evaluated,
    vectorised, ``chunk_size`` counts per call of one compiled function, and
    the change points found with NumPy. Longer runs of a non-cyclic ramp are
    not scanned: the ramp is evaluated at 65 536 evenly spaced steps and at
    both sides of its schedule's phase boundaries, and each interval whose
    ends differ is bisected (all intervals at once) down to the step where
    the value changes, so the time grows with the number of stages times
    ``log2(num_steps)``, not with ``num_steps`` (``ramp_stages(ramp, 2**31)``
    returns at once). This finds every stage of a ramp that is monotone
    between those samples, which the library's ramps are (their schedules
    are monotone within each phase). Counts past the index range (int32
    without x64) read the ramp at the range's last count.

    Args:
      ramp: an :class:`IntegerRamp` or any ``count -> int`` schedule.
      num_steps: the number of steps to cover (>= 1).
      chunk_size: counts evaluated per call (bounds memory on long runs).

    Returns:
      The stages in step order; the first starts at 0.

    Example:
      >>> import optax_warmup as ow
      >>> ow.ramp_stages(ow.batch_size_ramp(32, 128, 6, multiple=32), 10)
      [(0, 32), (1, 64), (3, 96), (5, 128)]
      >>> ow.ramp_stages(ow.batch_size_ramp(32, 128, 6, multiple=32), 2**40)[-1]
      (5, 128)
    """
    n = v.check_int_arg("num_steps", num_steps, low=1)
    if isinstance(ramp, DataRamp):  # stages in closed form, no evaluation per step
        st = ramp_schedule_stages(ramp)
        return [(s, b) for s, b in zip(st.steps, st.sizes, strict=True) if s < n]
    size = min(v.check_int_arg("chunk_size", chunk_size, low=1), n)
    boundaries = _phase_boundaries(ramp)
    if n > _SCAN_LIMIT and boundaries is not None:
        return _stages_by_bisection(ramp, n, boundaries)
    starts: list[np.ndarray] = []
    values: list[np.ndarray] = []
    previous = None
    for lo in range(0, n, size):
        counts = np.minimum(np.arange(lo, lo + size, dtype=np.int64), n - 1)
        vals = _evaluate_at(ramp, counts)[: min(size, n - lo)]
        change = np.empty(vals.shape, dtype=bool)
        change[0] = previous is None or vals[0] != previous
        change[1:] = vals[1:] != vals[:-1]
        idx = np.flatnonzero(change)
        starts.append(idx + lo)
        values.append(vals[idx])
        previous = vals[-1]
    return [
        (int(s), int(x))
        for s, x in zip(np.concatenate(starts), np.concatenate(values), strict=True)
    ]


def _phase_boundaries(ramp: Any) -> np.ndarray | None:
    """The phase boundaries of a non-cyclic ramp's schedule (none for a plain
    function), or ``None`` when the ramp may change between them in ways a
    bisection would miss (a cyclic or traced schedule, an unknown callable)."""
    from optax_warmup.engine import phases as _engine

    sched = ramp.schedule if isinstance(ramp, IntegerRamp) else None
    if not isinstance(sched, _engine.PhaseSchedule) or sched.is_cyclic:
        return None
    spans = v.concrete_value(sched.spans)
    if spans is None or spans.ndim != 1:
        return None
    ends = np.cumsum(spans.astype(np.int64))
    return np.concatenate([ends - 1, ends])


def _evaluate_at(ramp: Any, counts: np.ndarray) -> np.ndarray:
    """``ramp`` at int64 ``counts`` (saturated into the index dtype), padded to a
    power-of-two size so that few sizes are compiled."""
    idt = np.dtype(v.index_dtype())
    c = np.clip(counts, 0, np.iinfo(idt).max).astype(idt)
    size = max(256, 1 << max(c.size - 1, 0).bit_length())
    padded = np.pad(c, (0, size - c.size), mode="edge") if c.size else np.zeros(size, idt)
    return np.asarray(_evaluate(ramp, padded))[: c.size]


def _stages_by_bisection(ramp: Any, n: int, boundaries: np.ndarray) -> list[tuple[int, int]]:
    grid = np.linspace(0, n - 1, _GRID).round().astype(np.int64)
    pts = np.unique(np.concatenate([grid, boundaries[(boundaries >= 0) & (boundaries < n)]]))
    vals = np.concatenate(
        [_evaluate_at(ramp, pts[i : i + (1 << 20)]) for i in range(0, pts.size, 1 << 20)]
    )
    differ = vals[:-1] != vals[1:]
    a, b = pts[:-1][differ], pts[1:][differ]
    va, vb = vals[:-1][differ], vals[1:][differ]
    found_at: list[np.ndarray] = [np.zeros(1, np.int64)]
    found_val: list[np.ndarray] = [vals[:1]]
    while a.size:
        adjacent = b - a == 1
        found_at.append(b[adjacent])
        found_val.append(vb[adjacent])
        a, b, va, vb = a[~adjacent], b[~adjacent], va[~adjacent], vb[~adjacent]
        if not a.size:
            break
        m = (a + b) // 2
        vm = _evaluate_at(ramp, m)
        left, right = va != vm, vm != vb
        a, b = np.concatenate([a[left], m[right]]), np.concatenate([m[left], b[right]])
        va, vb = np.concatenate([va[left], vm[right]]), np.concatenate([vm[left], vb[right]])
    at = np.concatenate(found_at)
    val = np.concatenate(found_val)
    order = np.argsort(at, kind="stable")
    return [(int(s), int(x)) for s, x in zip(at[order], val[order], strict=True)]


# --- Batch sizes that change with the data consumed (tokens or examples) ---

DataClock = Literal["examples", "tokens"]
DATA_CLOCKS = ("examples", "tokens")
LrScaling = Literal["linear", "sqrt"]
LR_SCALINGS = ("linear", "sqrt")


@dataclasses.dataclass(frozen=True)
class DataRamp(ScheduleNode):
    """A batch size set by the data consumed: ``sizes[i]`` from ``thresholds[i]`` on.

    ``size(consumed) = sizes[i]`` for the last ``i`` with ``thresholds[i] <=
    consumed``, ``consumed`` counted in ``clock`` units (examples or tokens)
    before the step. Sizes are examples per step; ``seq_len`` tokens make one
    example (1: an example is a token, so sizes are tokens per step). Called
    with a count of consumed data it returns the size, in the index dtype.
    Build one with :func:`data_batch_ramp` or :func:`rampup_batch_size`.

    A pytree with no leaves (every field is static, so it is hashed and
    compared by value, as a jit cache key); its config node is
    ``{"kind": "data_batch_ramp", "stages": [[threshold, size], ...],
    "clock": ..., "seq_len": ...}``.
    """

    thresholds: tuple[int, ...]
    sizes: tuple[int, ...]
    seq_len: int
    clock: str
    config_kind: ClassVar[str] = "data_batch_ramp"

    def per_step(self, size: int) -> int:
        """Data (in clock units) consumed by one step of ``size`` examples."""
        return size * self.seq_len if self.clock == "tokens" else size

    def evaluate(self, count: ArrayLike) -> jax.Array:
        """The batch size after ``count`` data (``clock`` units) consumed."""
        idt = v.index_dtype()
        thr = jnp.asarray(np.minimum(self.thresholds, np.iinfo(idt).max).astype(idt))
        sizes = jnp.asarray(np.asarray(self.sizes).astype(idt))
        c = jnp.asarray(count)
        i = jnp.searchsorted(thr, c.astype(idt), side="right") - 1
        return sizes[jnp.clip(i, 0, len(self.sizes) - 1)]


register_node(DataRamp, data_fields=[], meta_fields=["thresholds", "sizes", "seq_len", "clock"])


def _whole(name: str, x: Any, low: int = 0) -> int:
    """A concrete whole number (a float like ``250e9`` allowed when whole)."""
    c = v.concrete_value(x)
    if c is None or c.ndim != 0 or c.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a concrete number, got {x!r}.")
    if c.dtype.kind == "f" and (not np.isfinite(c) or c != np.floor(c)):
        raise ValueError(f"{name} must be a whole number, got {c.item()!r}.")
    out = int(c)
    if out < low:
        raise ValueError(f"{name} must be >= {low}, got {out}.")
    return out


def data_batch_ramp(
    stages: Any,
    *,
    clock: DataClock = "tokens",
    seq_len: int = 1,
) -> DataRamp:
    """A batch size that changes at thresholds of data consumed (Megatron-style).

    ``stages`` maps data consumed to the batch size from there on, e.g.
    ``{0: 768, 250e9: 1536}``: 768 examples per step until 250B tokens have
    been consumed, then 1536 (Megatron-LM's ``"0:768 250B:1536"`` form). A
    step's size is set by the data consumed before it, so the step that
    crosses a threshold still runs at the old size.

    Args:
      stages: ``{threshold: size}`` or ``[(threshold, size), ...]``; the first
        threshold must be 0, thresholds increasing, sizes >= 1.
      clock: ``"tokens"`` or ``"examples"``, the unit of the thresholds.
      seq_len: tokens per example (1: sizes are tokens per step).

    Returns:
      A :class:`DataRamp`; :func:`ramp_stages` lists its stages in steps.

    Example:
      >>> import optax_warmup as ow
      >>> r = ow.data_batch_ramp({0: 2, 10: 4}, clock="examples")
      >>> ow.ramp_stages(r, 10)
      [(0, 2), (5, 4)]
    """
    v.check_choice("clock", clock, DATA_CLOCKS)
    items = list(stages.items()) if isinstance(stages, dict) else list(stages)
    if not items:
        raise ValueError("stages must hold at least one (threshold, size) pair, got none.")
    thr = [_whole(f"stages threshold {t!r}", t) for t, _ in items]
    sizes = [_whole(f"stages size at {t!r}", s, low=1) for t, s in items]
    if thr[0] != 0:
        raise ValueError(f"the first stage must start at 0 {clock}, got {thr[0]}.")
    if any(b <= a for a, b in itertools.pairwise(thr)):
        raise ValueError(f"stage thresholds must increase, got {thr}.")
    return DataRamp(tuple(thr), tuple(sizes), _whole("seq_len", seq_len, low=1), clock)


def rampup_batch_size(
    init_size: int,
    final_size: int,
    increment: int,
    ramp_amount: Any,
    *,
    clock: DataClock = "examples",
    seq_len: int = 1,
) -> DataRamp:
    """Megatron-LM's ``--rampup-batch-size <start> <increment> <ramp samples>``.

    The batch grows from ``init_size`` by ``increment`` in ``n = (final -
    init) / increment`` equal slices of ``ramp_amount`` data: size
    ``init + j * increment`` once ``j * ramp_amount / n`` has been consumed,
    ``final_size`` from ``ramp_amount`` on. Thresholds are exact integers
    (``ceil(j * ramp_amount / n)``); Megatron computes
    ``int(consumed / (ramp / n))`` in floating point (NVIDIA/Megatron-LM,
    ``megatron/core/num_microbatches_calculator.py``,
    ``RampupBatchsizeNumMicroBatchesCalculator.update``), which agrees except
    where that division rounds across a whole number.

    Args:
      init_size: the first batch size (examples per step, >= 1).
      final_size: the last; ``final - init`` a multiple of ``increment``.
      increment: the size step (>= 1).
      ramp_amount: data over which the batch ramps (in ``clock`` units).
      clock: ``"examples"`` (Megatron's samples) or ``"tokens"``.
      seq_len: tokens per example (1: sizes are tokens per step).

    Returns:
      A :class:`DataRamp`.

    Example:
      >>> import optax_warmup as ow
      >>> r = ow.rampup_batch_size(2, 6, 2, 20)
      >>> r.thresholds, r.sizes
      ((0, 10, 20), (2, 4, 6))
      >>> ow.ramp_stages(r, 12)
      [(0, 2), (5, 4), (8, 6)]
    """
    init = _whole("init_size", init_size, low=1)
    final = _whole("final_size", final_size, low=1)
    inc = _whole("increment", increment, low=1)
    amount = _whole("ramp_amount", ramp_amount)
    if final < init:
        raise ValueError(f"final_size must be >= init_size, got {final} < {init}.")
    if (final - init) % inc:
        raise ValueError(
            f"final_size - init_size ({final - init}) must be a multiple of increment ({inc})."
        )
    n = (final - init) // inc
    if n == 0:
        return data_batch_ramp([(0, init)], clock=clock, seq_len=seq_len)
    thresholds = [-(-j * amount // n) for j in range(n + 1)]
    sizes = [init + j * inc for j in range(n + 1)]
    # Equal thresholds (a ramp shorter than n units): the later size wins.
    stages = dict(zip(thresholds, sizes, strict=True))
    return data_batch_ramp(stages, clock=clock, seq_len=seq_len)


@dataclasses.dataclass(frozen=True)
class RampStages:
    """The step-by-step consumption of a batch-size ramp, in closed form.

    Stage ``i`` starts at step ``steps[i]`` with ``examples[i]`` examples
    consumed before it and runs ``sizes[i]`` examples per step; the last stage
    runs forever. Python integers, so counts past the int32 range are exact.
    """

    steps: tuple[int, ...]
    examples: tuple[int, ...]
    sizes: tuple[int, ...]
    seq_len: int

    def examples_at(self, step: int) -> int:
        """Examples consumed before ``step``."""
        i = int(np.searchsorted(self.steps, step, side="right")) - 1
        return self.examples[i] + (step - self.steps[i]) * self.sizes[i]

    def first_step(self, consumed: int, clock: str) -> int:
        """The first step with at least ``consumed`` data (``clock`` units) consumed before it."""
        per = self.seq_len if clock == "tokens" else 1
        data = [e * per for e in self.examples]
        i = int(np.searchsorted(data, consumed, side="right")) - 1
        return self.steps[i] + max(-(-(consumed - data[i]) // (self.sizes[i] * per)), 0)


def ramp_schedule_stages(
    ramp: Any, *, num_steps: int | None = None, seq_len: int = 1
) -> RampStages:
    """The stages of a batch-size ramp as a :class:`RampStages`.

    Args:
      ramp: a :class:`DataRamp`, a step-driven :class:`IntegerRamp` (e.g.
        :func:`batch_size_ramp`) or a whole number (a constant batch size).
      num_steps: steps to scan for a step-driven ramp (default: the end of its
        schedule, when it is a phase schedule).
      seq_len: tokens per example for a step-driven ramp or a constant.

    Returns:
      The stages.
    """
    if isinstance(ramp, DataRamp):
        step, examples = 0, 0
        steps: list[int] = []
        ex: list[int] = []
        sizes: list[int] = []
        n = len(ramp.sizes)
        for j in range(n):
            consumed = ramp.per_step(examples)
            if j + 1 < n and consumed >= ramp.thresholds[j + 1]:
                continue  # a batch overshot this stage's whole range
            steps.append(step)
            ex.append(examples)
            sizes.append(ramp.sizes[j])
            if j + 1 == n:
                break
            per = ramp.per_step(ramp.sizes[j])
            k = -(-(ramp.thresholds[j + 1] - consumed) // per)
            step += k
            examples += k * ramp.sizes[j]
        return RampStages(tuple(steps), tuple(ex), tuple(sizes), ramp.seq_len)
    seq = _whole("seq_len", seq_len, low=1)
    if not callable(ramp):
        return RampStages((0,), (0,), (_whole("ramp", ramp, low=1),), seq)
    if num_steps is None:
        inner: Any = getattr(ramp, "schedule", None)
        total = inner.total_steps() if hasattr(inner, "total_steps") else None
        if total is None:
            raise ValueError("num_steps is needed for a ramp that is not a phase schedule.")
        num_steps = int(total) + 1
    stages = ramp_stages(ramp, num_steps)
    ex, acc = [], 0
    for i, (s, size) in enumerate(stages):
        if i:
            acc += (s - stages[i - 1][0]) * stages[i - 1][1]
        ex.append(acc)
        if size < 1:
            raise ValueError(f"the ramp's batch size must be >= 1, got {size} at step {s}.")
    return RampStages(tuple(s for s, _ in stages), tuple(ex), tuple(b for _, b in stages), seq)


def lr_scale(size: ArrayLike, reference: ArrayLike, rule: LrScaling) -> jax.Array:
    """The learning-rate multiplier for a batch of ``size`` against ``reference``.

    ``"linear"``: ``size / reference`` (Goyal et al. 2017, "Accurate, Large
    Minibatch SGD"); ``"sqrt"``: ``sqrt(size / reference)`` (Krizhevsky 2014,
    "One weird trick for parallelizing convolutional neural networks"; the rule
    Malladi et al. 2022 derive for Adam). Float32.

    Example:
      >>> import optax_warmup as ow
      >>> float(ow.lr_scale(256, 1024, "sqrt")), float(ow.lr_scale(256, 1024, "linear"))
      (0.5, 0.25)
    """
    v.check_choice("rule", rule, LR_SCALINGS)
    ratio = jnp.asarray(size, jnp.float32) / jnp.maximum(jnp.asarray(reference, jnp.float32), 1)
    return jnp.sqrt(ratio) if rule == "sqrt" else ratio
