"""6. The per-step path: one scalar evaluation per train step, as training uses a schedule.

a. Nanoseconds per scalar evaluation inside one compiled ``fori_loop``: the
   13 optax drop-ins (``optax_warmup.compat.optax``) and the native
   composites, each next to the optax schedule with the same curve.
b. The same against the number of phases and cycles, N = 1 .. 10000 (ours
   ``from_arrays`` of N linear pieces, the curve ``join`` builds, and
   ``cosine_restarts`` with N cycles; optax's ``join_schedules`` /
   ``sgdr_schedule`` up to the N it compiles in reasonable time).
c. Compile time and the size of the optimized program (lines of the compiled
   HLO text) of a jitted Adam train step on L leaves of 64 floats: our
   schedule, optax's schedule with the same curve, a constant lr.
d. The time of that train step.

Every timing is the minimum over rounds in which the competitors run
interleaved (contention only ever adds time), so the figures are the least
disturbed by other work on a shared machine.
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
from optax_warmup.compat import optax as dropin

SECTION = "step"
LEAF = 64
Sched = Callable[[jax.Array], Any]


def dropin_pairs() -> dict[str, tuple[Sched, Sched]]:
    """The 13 optax drop-ins: (ours, optax) with the same arguments."""
    cycles = [
        {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 100, "decay_steps": 1000},
        {"init_value": 0.0, "peak_value": 0.5, "warmup_steps": 100, "decay_steps": 2000},
    ]
    args: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "constant_schedule": ((1.0,), {}),
        "linear_schedule": ((0.0, 1.0, 1000), {"transition_begin": 10}),
        "polynomial_schedule": ((1.0, 0.1, 2.0, 1000), {"transition_begin": 10}),
        "cosine_decay_schedule": ((1.0, 1000), {"alpha": 0.1}),
        "exponential_decay": ((1.0, 100, 0.5), {"transition_begin": 10, "end_value": 0.01}),
        "piecewise_constant_schedule": ((1.0, {100: 0.5, 500: 0.1}), {}),
        "piecewise_interpolate_schedule": (("linear", 1.0, {100: 0.5, 500: 0.1}), {}),
        "linear_onecycle_schedule": ((1000, 1.0), {}),
        "cosine_onecycle_schedule": ((1000, 1.0), {}),
        "warmup_constant_schedule": ((0.0, 1.0, 100), {}),
        "warmup_cosine_decay_schedule": ((0.0, 1.0, 100, 1000), {}),
        "warmup_exponential_decay_schedule": ((0.0, 1.0, 100, 100, 0.5), {}),
        "sgdr_schedule": ((cycles,), {}),
    }
    out = {}
    for name, (a, kw) in args.items():
        ours = getattr(dropin, name, None) or getattr(ow, name)
        out[name] = (ours(*a, **kw), getattr(optax, name)(*a, **kw))
    return out


def native_pairs() -> dict[str, tuple[Sched, Sched]]:
    """Native composites next to the optax schedule with the same curve."""
    return {
        "warmup_decay_schedule (warmup-cosine)": (
            ow.warmup_decay_schedule(1.0, 100, 1000, init_value=0.0),
            optax.warmup_cosine_decay_schedule(0.0, 1.0, 100, 1000),
        ),
        "warmup_schedule (linear)": (
            ow.warmup_schedule(1.0, 100, init_value=0.0),
            optax.linear_schedule(0.0, 1.0, 100),
        ),
        "cosine_decay": (ow.cosine_decay(1.0, 1000), optax.cosine_decay_schedule(1.0, 1000)),
        "linear_decay": (ow.linear_decay(1.0, 1000), optax.linear_schedule(1.0, 0.0, 1000)),
        "warmup_stable_decay (linear)": (
            ow.warmup_stable_decay(1.0, 1000, 100, decay_steps=400, init_value=0.0),
            optax.join_schedules(
                [
                    optax.linear_schedule(0.0, 1.0, 100),
                    optax.constant_schedule(1.0),
                    optax.linear_schedule(1.0, 0.0, 400),
                ],
                [100, 600],
            ),
        ),
        "cosine_restarts (3 cycles)": (
            ow.cosine_restarts(1.0, 1000, warmup_steps=100, init_value=0.0, num_cycles=3),
            optax.sgdr_schedule(
                [{"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 100, "decay_steps": 1000}]
                * 3
            ),
        ),
    }


def _loop(lr: Sched | float, evals: int) -> Callable[[jax.Array], jax.Array]:
    def loop(start: jax.Array) -> jax.Array:
        def body(i: jax.Array, acc: jax.Array) -> jax.Array:
            value = lr(start + i) if callable(lr) else jnp.float32(lr) + 0 * i
            return acc + jnp.asarray(value, jnp.float32)

        return jax.lax.fori_loop(0, evals, body, jnp.float32(0))

    return loop


def scalar_ns(lrs: dict[str, Sched | float], evals: int, rounds: int) -> dict[str, float]:
    """Nanoseconds per scalar evaluation (min over interleaved rounds)."""
    fns = {k: jax.jit(_loop(lr, evals)).lower(jnp.int32(0)).compile() for k, lr in lrs.items()}
    arg = jnp.int32(0)
    for f in fns.values():
        c.block(f(arg))
    times = c.interleave({k: (lambda f=f: c.block(f(arg))) for k, f in fns.items()}, rounds)
    return {k: 1e9 * min(v) / evals for k, v in times.items()}


def _section_a(sizes: c.Sizes, results: c.Results) -> dict[str, float]:
    evals, rounds = sizes.step_evals, sizes.step_eval_rounds
    base = scalar_ns({"loop": 0.0}, evals, rounds)["loop"]
    results.add(SECTION, "(a) empty loop (constant lr)", "ns / eval", "ours", base, "ns")
    ratios: dict[str, float] = {}
    for group, pairs in (("drop-in", dropin_pairs()), ("native", native_pairs())):
        for name, (ours, theirs) in pairs.items():
            c.log(f"[step] (a) {group} {name}")
            ns = scalar_ns({"ours": ours, "optax": theirs}, evals, rounds)
            case = f"(a) {group} {name}"
            results.add(SECTION, case, "ns / eval", "ours", ns["ours"], "ns")
            results.add(SECTION, case, "ns / eval", "optax", ns["optax"], "ns")
            values = [
                np.asarray(jax.jit(jax.vmap(s))(jnp.arange(0, 3000, 7))) for s in (ours, theirs)
            ]
            diff = float(np.max(np.abs(values[0] - values[1])))
            results.add(SECTION, case, "max abs diff vs optax", "ours", diff, "")
            ratios[case] = ns["ours"] / ns["optax"]
    for case in (
        "(a) drop-in warmup_cosine_decay_schedule",
        "(a) native warmup_decay_schedule (warmup-cosine)",
    ):
        fig = {
            f.competitor: f.value
            for f in results.figures
            if f.case == case and f.metric == "ns / eval"
        }
        results.check(
            SECTION,
            f"{case}: ours / optax",
            fig["ours"],
            fig["optax"],
            at_most=1.5,
            detail=f"empty loop {base:.2f} ns included in both",
        )
    return ratios


def _ours_join(n: int) -> Sched:
    """``N`` linear pieces of 1000 steps, alternating 0 -> 1 and 1 -> 0 (``from_arrays``:
    one vectorised construction, as ``join`` gives for N pieces)."""
    i = np.arange(n)
    return ow.from_arrays(np.full(n, 1000), (i % 2).astype(float), ((i + 1) % 2).astype(float))


def _optax_join(n: int) -> Sched:
    pieces = [optax.linear_schedule(float(i % 2), float((i + 1) % 2), 1000) for i in range(n)]
    return optax.join_schedules(pieces, [1000 * (i + 1) for i in range(n - 1)])


def _ours_cycles(n: int) -> Sched:
    return ow.cosine_restarts(1.0, 1000, warmup_steps=100, init_value=0.0, num_cycles=n)


def _optax_cycles(n: int) -> Sched:
    cycle = {"init_value": 0.0, "peak_value": 1.0, "warmup_steps": 100, "decay_steps": 1000}
    return optax.sgdr_schedule([cycle] * n)


def _section_b(sizes: c.Sizes, results: c.Results) -> None:
    evals, rounds = sizes.step_evals, sizes.step_eval_rounds
    by_n: dict[str, dict[int, dict[str, float]]] = {"phases": {}, "cycles": {}}
    for kind, ours, theirs in (
        ("phases", _ours_join, _optax_join),
        ("cycles", _ours_cycles, _optax_cycles),
    ):
        for n in sizes.step_phase_ns:
            c.log(f"[step] (b) {kind}, N={n}")
            lrs: dict[str, Sched] = {"ours": ours(n)}
            if n <= sizes.step_optax_max_n:
                lrs["optax"] = theirs(n)
            # Spread the counts over the whole schedule, so the phase search is exercised.
            k_step = max(1, 1000 * n // evals)
            scaled: dict[str, Sched | float] = {
                k: (lambda t, s=s, m=k_step: s(t * m)) for k, s in lrs.items()
            }
            ns = scalar_ns(scaled, evals, rounds)
            by_n[kind][n] = ns
            for who, value in ns.items():
                results.add(SECTION, f"(b) {kind}, N={n}", "ns / eval", who, value, "ns")
    lo, hi = min(sizes.step_phase_ns), max(sizes.step_phase_ns)
    mid = 1000 if 1000 in sizes.step_phase_ns else hi
    for kind in by_n:
        results.check(
            SECTION,
            f"(b) {kind}: ours N={mid} / N={lo} (scalar)",
            by_n[kind][mid]["ours"],
            by_n[kind][lo]["ours"],
            at_most=2.0,
        )
    at = 100 if 100 in by_n["phases"] and "optax" in by_n["phases"][100] else None
    if at is not None:
        results.check(
            SECTION,
            f"(b) phases, N={at}: optax join_schedules / ours (scalar)",
            by_n["phases"][at]["optax"],
            by_n["phases"][at]["ours"],
            at_least=5.0,
        )


def make_leaves(n: int) -> dict[str, jax.Array]:
    rng = np.random.default_rng(0)
    return {f"w{i:05d}": jnp.asarray(rng.standard_normal(LEAF, np.float32)) for i in range(n)}


def train_step(opt: optax.GradientTransformation) -> Callable[..., Any]:
    def step(params: Any, state: Any, grads: Any) -> Any:
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


def step_competitors() -> dict[str, optax.GradientTransformation]:
    return {
        "ours": optax.adam(ow.warmup_decay_schedule(1e-3, 100, 10_000, init_value=0.0)),
        "optax": optax.adam(optax.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 10_000)),
        "constant lr": optax.adam(1e-3),
    }


def compiled_lines(opt: optax.GradientTransformation, params: Any) -> tuple[int, float, Any]:
    """Lines of the optimized HLO of the train step, compile seconds, the executable."""
    state = opt.init(params)
    t0 = time.perf_counter()
    compiled = jax.jit(train_step(opt)).lower(params, state, params).compile()
    seconds = time.perf_counter() - t0
    return len(str(compiled.as_text()).splitlines()), seconds, compiled


def _runner(exe: Any, params: Any, state: Any, iters: int) -> Callable[[], None]:
    def run() -> None:
        p, s = params, state
        for _ in range(iters):
            p, s = exe(p, s, params)
        c.block(p)

    return run


def _section_cd(sizes: c.Sizes, results: c.Results) -> None:
    for n in sizes.step_leaf_counts:
        c.log(f"[step] (c, d) Adam, {n} leaves of {LEAF} floats")
        params = make_leaves(n)
        opts = step_competitors()
        names = list(opts)
        secs: dict[str, list[float]] = {k: [] for k in names}
        lines: dict[str, int] = {}
        exe: dict[str, Any] = {}
        # The largest programs compile once (tens of seconds each on 2 cores).
        rounds = sizes.step_compile_rounds if n <= 512 else 1
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                lines[name], s, exe[name] = compiled_lines(opts[name], params)
                secs[name].append(s)
        case = f"(c) Adam step, {n} leaves of {LEAF} floats"
        for name in names:
            results.add(SECTION, case, "optimized HLO lines", name, lines[name], "lines")
            results.add(SECTION, case, "compile (s), min", name, min(secs[name]), "s", secs[name])
        states = {k: opts[k].init(params) for k in names}
        iters = sizes.step_iters

        times = c.interleave(
            {k: _runner(exe[k], params, states[k], iters) for k in names}, sizes.step_rounds
        )
        for name in names:
            results.add(
                SECTION,
                f"(d) Adam step, {n} leaves",
                "step (us), min",
                name,
                1e6 * min(times[name]) / iters,
                "us",
                times[name],
            )
        if n in (512,) or n == max(sizes.step_leaf_counts):
            results.check(
                SECTION,
                f"(c) {n} leaves: HLO lines ours / optax",
                lines["ours"],
                lines["optax"],
                at_most=1.05,
            )
            results.check(
                SECTION,
                f"(c) {n} leaves: compile ours / optax (min of rounds)",
                min(secs["ours"]),
                min(secs["optax"]),
                at_most=1.15,
            )
            results.check(
                SECTION,
                f"(d) {n} leaves: step ours / optax (min of rounds)",
                min(times["ours"]),
                min(times["optax"]),
                detail="no target in the issue; shown for 'nothing gets slower'",
            )


def run(sizes: c.Sizes, results: c.Results) -> None:
    _section_a(sizes, results)
    _section_b(sizes, results)
    _section_cd(sizes, results)
    results.note(
        SECTION,
        f"(a, b) one jitted fori_loop of {sizes.step_evals:,} scalar evaluations per "
        f"competitor, min over {sizes.step_eval_rounds} interleaved rounds; (c) compile = "
        f"trace + lower + compile of a fresh jitted step, min of {sizes.step_compile_rounds}; "
        f"(d) {sizes.step_iters} steps per round, min of {sizes.step_rounds} interleaved rounds. "
        "Minima, because other work on a shared machine only ever adds time.",
    )
