"""1. Phases and cycles: compile time, traced ops and run time against optax.

Linear phases: N linear pieces of ``PIECE`` steps each, alternating 0 -> 1 and
1 -> 0. Ours as ``optax_warmup.join`` of ``linear_decay`` pieces and as one
``from_arrays`` call; optax as ``join_schedules`` of ``linear_schedule``.

Cycles (SGDR-like): N cycles of ``PIECE`` steps, each a linear warmup over
``CYCLE_WARMUP`` steps from 0 to 1 and a cosine decay to 0. Ours
``cosine_restarts(num_cycles=N)`` (built on ``cyclic``); optax
``sgdr_schedule`` with N cycles.

Every schedule is closed over by the jitted function, as in a train step. For
each (case, N) the competitors are compiled in turn (fresh functions, so no
cache is hit), then evaluated over ``phase_counts`` counts, interleaved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_warmup as ow
from benchmarks import _common as c

SECTION = "phases"
PIECE = 1000
CYCLE_WARMUP = 100

Sched = Callable[[jax.Array], Any]
Builder = Callable[[int], Sched]


def ours_join(n: int) -> Sched:
    pieces = [ow.linear_decay(float(i % 2), PIECE, end_value=float((i + 1) % 2)) for i in range(n)]
    return ow.join(pieces, [PIECE * (i + 1) for i in range(n - 1)])


def ours_arrays(n: int) -> Sched:
    i = np.arange(n)
    return ow.from_arrays(np.full(n, PIECE), (i % 2).astype(float), ((i + 1) % 2).astype(float))


def optax_join(n: int) -> Sched:
    pieces = [optax.linear_schedule(float(i % 2), float((i + 1) % 2), PIECE) for i in range(n)]
    return optax.join_schedules(pieces, [PIECE * (i + 1) for i in range(n - 1)])


def ours_restarts(n: int) -> Sched:
    return ow.cosine_restarts(
        1.0, PIECE, warmup_steps=CYCLE_WARMUP, init_value=0.0, end_value=0.0, num_cycles=n
    )


def optax_sgdr(n: int) -> Sched:
    cycle = {
        "init_value": 0.0,
        "peak_value": 1.0,
        "warmup_steps": CYCLE_WARMUP,
        "decay_steps": PIECE,
        "end_value": 0.0,
    }
    return optax.sgdr_schedule([cycle] * n)


CASES: dict[str, dict[str, Builder]] = {
    "linear phases": {
        "ours join": ours_join,
        "ours from_arrays": ours_arrays,
        "optax join_schedules": optax_join,
    },
    "cycles": {
        "ours cosine_restarts": ours_restarts,
        "optax sgdr_schedule": optax_sgdr,
    },
}
OPTAX = {"linear phases": "optax join_schedules", "cycles": "optax sgdr_schedule"}


def _closure(schedule: Sched) -> Sched:
    def fn(counts: jax.Array) -> Any:
        return schedule(counts)

    return fn


def run(sizes: c.Sizes, results: c.Results) -> None:
    counts = jnp.arange(sizes.phase_counts, dtype=jnp.int32)
    for builders in CASES.values() if sizes.warm_up else ():  # first-use costs
        for build in builders.values():
            c.block(jax.jit(_closure(build(2)))(counts[:10]))
    for case, builders in CASES.items():
        by_n: dict[int, dict[str, dict[str, float]]] = {}
        for n in sizes.phase_ns:
            c.log(f"[phases] {case}, N={n}")
            by_n[n] = _measure(case, n, builders, counts, sizes, results)
        _checks(case, by_n, sizes, results)
    results.note(
        SECTION,
        f"pieces of {PIECE} steps; cycles warm up over {CYCLE_WARMUP} steps, then cosine; "
        f"run time is one evaluation of {sizes.phase_counts:,} counts (int32 arange). "
        "compile = trace + lower + XLA compile of a fresh jitted function; build = "
        "constructing the schedule object in Python (eager).",
    )


def _measure(
    case: str,
    n: int,
    builders: dict[str, Builder],
    counts: jax.Array,
    sizes: c.Sizes,
    results: c.Results,
) -> dict[str, dict[str, float]]:
    label = f"{case}, N={n}"
    build: dict[str, list[float]] = {k: [] for k in builders}
    comp: dict[str, list[float]] = {k: [] for k in builders}
    compiled: dict[str, Any] = {}
    lowered: dict[str, Any] = {}
    schedules: dict[str, Sched] = {}
    names = list(builders)
    for r in range(sizes.compile_repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            sched = builders[name](n)
            c.block(jax.tree_util.tree_leaves(sched))
            build[name].append(time.perf_counter() - t0)
            seconds, lowered[name], compiled[name] = c.compile_seconds(_closure(sched), counts)
            comp[name].append(seconds)
            schedules[name] = sched
    runners = {name: (lambda f=compiled[name]: c.block(f(counts))) for name in names}
    runs = c.interleave(runners, sizes.run_repeats)
    reference = np.asarray(compiled[names[-1]](counts))
    out: dict[str, dict[str, float]] = {}
    for name in names:
        eqns = c.jaxpr_eqn_count(_closure(schedules[name]), counts)
        ops = c.hlo_op_count(lowered[name].as_text())
        values = {
            "build_s": c.median(build[name]),
            "compile_s": c.median(comp[name]),
            "run_s": c.median(runs[name]),
            "compile_min": min(comp[name]),
            "run_min": min(runs[name]),
        }
        out[name] = values
        results.add(SECTION, label, "build (s)", name, values["build_s"], "s", build[name])
        results.add(SECTION, label, "compile (s)", name, values["compile_s"], "s", comp[name])
        results.add(SECTION, label, "jaxpr eqns", name, eqns, "ops")
        results.add(SECTION, label, "StableHLO ops", name, ops, "ops")
        results.add(SECTION, label, "run (s)", name, values["run_s"], "s", runs[name])
        if name != names[-1]:
            diff = float(np.max(np.abs(np.asarray(compiled[name](counts)) - reference)))
            results.add(SECTION, label, "max abs diff vs optax", name, diff, "")
    return out


def _checks(
    case: str, by_n: dict[int, dict[str, dict[str, float]]], sizes: c.Sizes, results: c.Results
) -> None:
    lo, hi = min(by_n), max(by_n)
    optax_name = OPTAX[case]
    ours = [name for name in by_n[hi] if name != optax_name]
    note = "" if hi == 1000 else f"target is set at N=1000; this run stops at N={hi}; "

    def minima(a: dict[str, float], b: dict[str, float], key: str) -> str:
        return f"{note}ratio of minima {a[key] / b[key]:.3g}"

    for name in ours:
        a, b = by_n[hi][name], by_n[lo][name]
        results.check(
            SECTION,
            f"{case}: {name} compile, N={hi} / N={lo}",
            a["compile_s"],
            b["compile_s"],
            at_most=2.0,
            detail=minima(a, b, "compile_min"),
        )
    for name in ours:
        a, b = by_n[hi][optax_name], by_n[hi][name]
        for what in ("compile", "run"):
            results.check(
                SECTION,
                f"{case}, N={hi}: optax / {name} {what}",
                a[f"{what}_s"],
                b[f"{what}_s"],
                at_least=20.0,
                detail=minima(a, b, f"{what}_min"),
            )
        results.check(
            SECTION,
            f"{case}, N={hi}: optax compile / {name} build + compile",
            a["build_s"] + a["compile_s"],
            b["build_s"] + b["compile_s"],
            detail="no target; what a user waits for before the first step",
        )
