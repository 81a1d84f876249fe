"""Looking at a schedule: its length, warmup, key points, samples and differences.

Shared by the command line (``optax_warmup.io.cli``) and :func:`optax_warmup.plot`.
Everything here evaluates concrete schedules on the host and returns NumPy or
Python values.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as v
from optax_warmup.schedules import combine as _combine
from optax_warmup.transforms import optimizer_warmups as _optimizer_warmups

_OPEN_ENDED = (
    _shapes.INV_SQRT,
    _shapes.EXP_APPROACH,
    _shapes.RADAM,
    _shapes.EXP_RATE,
    _shapes.COSINE_WAVE,
    _shapes.POWER_CYCLE,
)
_CHUNK = 1 << 20
_MIN_BUCKET = 1 << 12
_SHOWN_CYCLES = 3


@jax.jit
def _evaluate(schedule: Any, counts: jax.Array) -> jax.Array:
    return jnp.asarray(schedule(counts))


def evaluate(schedule: Any, counts: Any) -> np.ndarray:
    """``schedule`` at integer ``counts``, as a NumPy array of the schedule's dtype.

    Compiled once per bucket of sizes (powers of two from 4096 up to 2**20
    counts at a time), so a preview compiles once or twice whatever it asks for.
    Counts beyond the index dtype's range (int32 without x64) saturate at its
    largest value, as the schedules' own counts do, instead of wrapping.
    """
    s = _combine.as_schedule(schedule)
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    idt = v.index_dtype()
    counts = np.clip(counts, np.iinfo(idt).min, np.iinfo(idt).max)
    parts = []
    for i in range(0, max(counts.size, 1), _CHUNK):
        chunk = counts[i : i + _CHUNK]
        size = max(_MIN_BUCKET, 1 << max(chunk.size - 1, 0).bit_length())
        padded = np.pad(chunk, (0, size - chunk.size), mode="edge") if chunk.size else chunk
        values = np.asarray(_evaluate(s, jnp.asarray(padded.astype(idt))))
        parts.append(values[: chunk.size])
    return np.concatenate(parts)


def _spans(s: _engine.PhaseSchedule) -> np.ndarray:
    c = v.concrete_value(s.spans)
    if c is None or c.ndim != 1:
        raise ValueError("the schedule must be concrete (not traced or batched) to be previewed.")
    return c.astype(np.int64)


def schedule_length(schedule: Any) -> int | None:
    """The steps a schedule is written for, or ``None`` when it does not say.

    The sum of the phase spans; with cycles, the prefix plus ``num_cycles``
    cycles (at most 3 shown when unlimited); a final open-ended phase
    (inverse-sqrt...) adds ten times the steps before it (at least 1000).
    """
    if isinstance(schedule, _engine.PhaseSchedule):
        spans = _spans(schedule)
        if schedule.cycle_start is not None:
            prefix = int(spans[: schedule.cycle_start].sum())
            body = int(spans[schedule.cycle_start :].sum())
            limit = int(np.asarray(schedule.num_cycles))
            n = limit if limit < np.iinfo(np.int32).max else _SHOWN_CYCLES
            mul = float(np.asarray(schedule.cycle_mul))
            return min(prefix + round(body * _cycle_lengths(n, mul)), _MAX_LENGTH)
        total = int(spans.sum())
        if spans[-1] == 0 and schedule.kinds[-1] in _OPEN_ENDED:
            total += max(10 * total, 1000)
        return total or None
    if isinstance(schedule, _combine.ProductSchedule):
        lengths = [schedule_length(f) for f in schedule.factors]
        known = [n for n in lengths if n]
        return max(known) if known else None
    if isinstance(schedule, _combine.JoinedSchedule):
        b = v.concrete_value(schedule.boundaries)
        last = int(b[-1]) if b is not None and b.size else 0
        tail = schedule_length(schedule.pieces[-1]) if schedule.rebase else None
        return last + (tail or 0) or None
    return None


_MAX_LENGTH = 2**62


def _cycle_lengths(n: int, mul: float) -> float:
    """``1 + mul + ... + mul**(n - 1)`` (the length of ``n`` cycles in first-cycle
    lengths), capped at ``2**62`` instead of overflowing."""
    if mul == 1:
        return float(n)
    if n * math.log(mul) > math.log(float(_MAX_LENGTH)) + math.log(mul):
        return float(_MAX_LENGTH)
    return (mul**n - 1) / (mul - 1)


def warmup_steps(schedule: Any, num_steps: int) -> int:
    """Length of the leading warmup: the rising phases at the start.

    For a :class:`PhaseSchedule`, the spans of its first phases whose end
    value exceeds their start value (zero-span phases are skipped). For other
    schedules, the first count after which the value stops rising.
    """
    if isinstance(schedule, _engine.PhaseSchedule):
        spans = _spans(schedule)
        starts = np.asarray(schedule.starts)
        ends = np.asarray(schedule.ends)
        w = 0
        for span, a, b in zip(spans, starts, ends, strict=True):
            if span == 0:
                continue
            if b <= a:
                break
            w += int(span)
        return min(w, num_steps)
    vals = evaluate(schedule, np.arange(min(num_steps, _CHUNK) + 1)).astype(np.float64)
    if vals.size < 2 or vals[1] <= vals[0]:
        return 0
    falls = np.nonzero(np.diff(vals) <= 0)[0]
    return int(falls[0]) + 1 if falls.size else int(vals.size - 1)


def effective_warmup_period(values: np.ndarray) -> float:
    """``sum_{t < W} (1 - v_t / peak)`` from the values at counts ``0 .. W``.

    ``peak`` is the largest of the ``W + 1`` values. The number of full-size
    updates the warmup costs (Ma & Yarats 2019): 999.5 for a 2000-step linear
    warmup that wastes no update, 1000.5 when it starts at 0 (optax, Hugging
    Face). 0 without a warmup (``W = 0``) or with a peak <= 0.
    """
    values = np.asarray(values, dtype=np.float64)
    peak = float(values.max()) if values.size else 0.0
    if values.size < 2 or peak <= 0:
        return 0.0
    return float(_optimizer_warmups.effective_warmup_period(values[:-1] / peak))


def _phase_name(s: _engine.PhaseSchedule, i: int) -> str:
    kind = s.kinds[i]
    a = float(np.asarray(s.params)[i, 0])
    start, end = float(np.asarray(s.starts)[i]), float(np.asarray(s.ends)[i])
    if kind == _shapes.CONSTANT:
        return "hold" if start == end else "constant"
    if kind == _shapes.POWER_IN:
        return "linear" if a == 1 else ("1-sqrt" if a == 0.5 else f"power {a:g}")
    if kind == _shapes.POWER_OUT:
        return "1-sqrt" if a == 0.5 else f"polynomial {a:g}"
    names = {
        _shapes.COSINE: "cosine",
        _shapes.EXP_NORMALIZED: "exponential",
        _shapes.EXP_APPROACH: "exponential",
        _shapes.GEOMETRIC: "exponential",
        _shapes.EXP_RATE: "exponential decay",
        _shapes.INV_SQRT: "inverse sqrt",
        _shapes.TANH: "tanh",
        _shapes.RADAM: "RAdam factor",
        _shapes.COSINE_WAVE: "cosine wave",
        _shapes.POWER_CYCLE: "polynomial (cycle)",
    }
    return names.get(kind, "custom")


def _continues(s: _engine.PhaseSchedule, i: int) -> bool:
    """Whether phase ``i`` is a cut of phase ``i - 1`` (same shape and values, resumed with
    an offset), as a schedule on a batch ramp or a stretched one has: no new phase starts."""
    if i == 0 or s.kinds[i] != s.kinds[i - 1]:
        return False
    fields = [np.asarray(getattr(s, f)) for f in ("starts", "ends", "params")]
    same = all(np.array_equal(x[i], x[i - 1]) for x in fields)
    return same and float(np.asarray(s.offsets)[i]) > 0


def key_steps(schedule: Any, num_steps: int, warmup: int) -> list[tuple[int, str]]:
    """Labelled counts: the first update, the end of warmup, phase and cycle starts,
    the quarters of the run and the last update (sorted, labels of a count joined)."""
    marks: dict[int, list[str]] = {}

    def add(step: int, label: str) -> None:
        if 0 <= step < num_steps:
            marks.setdefault(step, []).append(label)

    add(0, "first update")
    if warmup > 0:
        add(warmup - 1, "end of warmup")
    if isinstance(schedule, _engine.PhaseSchedule):
        spans = _spans(schedule)
        begins = np.cumsum(spans) - spans
        shown = 0
        for i, (b, span) in enumerate(zip(begins, spans, strict=True)):
            if span > 0 and b > 0 and shown < 6 and not _continues(schedule, i):
                add(int(b), f"{_phase_name(schedule, i)} starts")
                shown += 1
        if schedule.cycle_start is not None:
            prefix = int(begins[schedule.cycle_start])
            body = int(spans[schedule.cycle_start :].sum())
            mul = float(np.asarray(schedule.cycle_mul))
            limit = int(np.asarray(schedule.num_cycles))
            for k in range(1, min(_SHOWN_CYCLES, limit)):
                done = min(body * _cycle_lengths(k, mul), _MAX_LENGTH)
                add(prefix + round(done), f"cycle {k + 1} starts")
    for q in (1, 2, 3):
        add(q * num_steps // 4, f"{25 * q}% of the run")
    add(num_steps - 1, "last update")
    return [(step, ", ".join(marks[step])) for step in sorted(marks)]


def sample_counts(schedule: Any, num_steps: int, max_points: int = 2000) -> np.ndarray:
    """Counts to draw a curve with: evenly spaced, plus both sides of every phase boundary."""
    if num_steps <= max_points:
        return np.arange(num_steps)
    counts = [np.linspace(0, num_steps - 1, max_points).round().astype(np.int64)]
    if isinstance(schedule, _engine.PhaseSchedule) and not schedule.is_cyclic:
        ends = np.cumsum(_spans(schedule))
        counts += [ends - 1, ends]
    c = np.unique(np.concatenate(counts))
    return c[(c >= 0) & (c < num_steps)]


# Up to this many steps, ``compare`` evaluates every step; beyond, the sample
# counts of both schedules (evenly spaced plus both sides of every boundary).
MAX_EXACT_STEPS = 1 << 21


def compare(a: Any, b: Any, num_steps: int, tol: float, max_ranges: int = 5) -> dict[str, Any]:
    """Where and by how much two schedules differ over counts ``0 .. num_steps - 1``.

    Two values differ when ``|a - b| > tol * peak``, ``peak`` the largest
    finite magnitude either schedule reaches; a step where either value is not
    finite (NaN, inf) always differs. Up to ``MAX_EXACT_STEPS`` (2**21) steps
    every step is compared; beyond, only sampled counts (evenly spaced, plus
    both sides of each phase boundary), and ``"sampled"`` gives how many:
    ``num_differ`` and the ranges then count sampled steps (a range runs from
    the first to the last differing sample). Returns a dict for
    ``json.dumps``; values that are not finite are ``None``.
    """
    if num_steps <= MAX_EXACT_STEPS:
        counts = np.arange(num_steps)
        sampled = None
    else:
        counts = np.union1d(
            sample_counts(a, num_steps, 1 << 16), sample_counts(b, num_steps, 1 << 16)
        )
        sampled = int(counts.size)
    with np.errstate(all="ignore"):
        va = evaluate(a, counts).astype(np.float64)
        vb = evaluate(b, counts).astype(np.float64)
        finite = np.isfinite(va) & np.isfinite(vb)
        diff = np.where(finite, np.abs(va - vb), np.inf)
        mags = np.abs(np.concatenate([va[np.isfinite(va)], vb[np.isfinite(vb)], [0.0]]))
    n = counts.size
    peak = float(mags.max())
    scale = peak if peak > 0 else 1.0
    bad = diff > tol * scale
    i = int(diff.argmax()) if n else 0
    ranges = []
    if bad.any():
        edges = np.diff(np.concatenate([[0], bad.astype(np.int8), [0]]))
        starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        for s0, s1 in list(zip(starts, stops, strict=True))[:max_ranges]:
            j = s0 + int(diff[s0:s1].argmax())
            ranges.append(
                {
                    "first": int(counts[s0]),
                    "last": int(counts[s1 - 1]),
                    "max_abs_diff": _finite_or_none(diff[j]),
                    "at": int(counts[j]),
                }
            )
    first = int(counts[int(np.argmax(bad))]) if bad.any() else None
    return {
        "steps": num_steps,
        "sampled": sampled,
        "tolerance": tol,
        "peak": peak,
        "equal": not bool(bad.any()),
        "max_abs_diff": _finite_or_none(diff[i]) if n else 0.0,
        "max_rel_diff": _finite_or_none(diff[i] / scale) if n else 0.0,
        "at": int(counts[i]) if n else 0,
        "a_at": _finite_or_none(va[i]) if n else None,
        "b_at": _finite_or_none(vb[i]) if n else None,
        "num_differ": int(bad.sum()),
        "first_differ": first,
        "ranges": ranges,
        "num_ranges": int(np.sum(np.diff(np.concatenate([[0], bad.astype(np.int8)])) == 1)),
    }


def _finite_or_none(x: Any) -> float | None:
    """``float(x)``, or ``None`` when it is NaN or infinite (strict JSON has neither)."""
    f = float(x)
    return f if np.isfinite(f) else None
