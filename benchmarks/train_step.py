"""3. Train-step overhead: a jitted AdamW update with our schedule, a constant, optax's.

The parameters are a pytree of about ``step_params`` floats: three large
matrices and ``step_small_leaves`` small vectors (biases, norms). The gradient
is a fixed random pytree; every competitor owns its parameters and optimizer
state (donated to the step). Each round runs ``step_iters`` steps of every
competitor, in rotated order; the figure is the median per-step time.
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

SECTION = "train step"
PEAK = 3e-4
WARMUP = 2_000
TOTAL = 100_000

Params = Any


def make_params(total: int, n_small: int, seed: int = 0) -> Params:
    """About ``total`` float32 parameters: three large leaves and ``n_small`` small ones."""
    small = max(16, min(1024, total // (8 * n_small)))
    cols = 1024 if total >= 1024 * 64 else 64
    rows = max(1, (total - n_small * small) // (3 * cols))
    rng = np.random.default_rng(seed)
    params = {f"large_{i}": rng.standard_normal((rows, cols), np.float32) for i in range(3)}
    for i in range(n_small):
        params[f"small_{i:03d}"] = rng.standard_normal((small,), np.float32)
    return {k: jnp.asarray(x) for k, x in params.items()}


def param_count(params: Params) -> int:
    return sum(int(x.size) for x in jax.tree_util.tree_leaves(params))


def tree_bytes(tree: Any) -> int:
    return sum(int(x.nbytes) for x in jax.tree_util.tree_leaves(tree))


def step_fn(opt: optax.GradientTransformation) -> Callable[..., tuple[Params, Any]]:
    def step(params: Params, state: Any, grads: Params) -> tuple[Params, Any]:
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return step


class Runner:
    """Runs ``iters`` donated steps of one optimizer on its own copy of the state."""

    def __init__(
        self, opt: optax.GradientTransformation, params: Params, grads: Params, iters: int
    ):
        self.params = jax.tree_util.tree_map(jnp.copy, params)
        self.state = opt.init(self.params)
        self.grads = grads
        self.iters = iters
        fn = step_fn(opt)
        self.lowered = jax.jit(fn, donate_argnums=(0, 1)).lower(self.params, self.state, grads)
        self.step = self.lowered.compile()
        self.state_bytes = tree_bytes(self.state)

    def __call__(self) -> None:
        for _ in range(self.iters):
            self.params, self.state = self.step(self.params, self.state, self.grads)
        c.block(self.params)


def tiny_params(n_leaves: int) -> Params:
    """``n_leaves`` one-element leaves: a step whose cost is all fixed overhead."""
    return {f"leaf_{i:03d}": jnp.ones((1,), jnp.float32) for i in range(n_leaves)}


def time_steps(
    opts: dict[str, optax.GradientTransformation], params: Params, rounds: int, iters: int
) -> tuple[dict[str, list[float]], dict[str, Runner]]:
    """Per-step seconds per round for each optimizer, interleaved."""
    grads = jax.tree_util.tree_map(lambda x: 1e-3 * jnp.ones_like(x), params)
    runners = {name: Runner(opt, params, grads, iters) for name, opt in opts.items()}
    times = c.interleave(dict(runners), rounds, warmup=1)
    per_step = {k: [t / iters for t in v] for k, v in times.items()}
    return per_step, runners


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median over rounds of ``a / b`` (each round runs both back to back)."""
    return c.median(x / y for x, y in zip(a, b, strict=True))


def compare(
    section: str,
    label: str,
    opts: dict[str, optax.GradientTransformation],
    pairs: list[tuple[str, str, float | None]],
    sizes: c.Sizes,
    results: c.Results,
) -> dict[str, Runner]:
    """Time ``opts`` on the benchmark pytree and on one-element leaves; check ``pairs``.

    Each pair ``(a, b, limit)`` records ``a / b`` from the medians, and the same
    ratio estimated from the fixed cost: ``(b + fixed(a) - fixed(b)) / b``,
    where ``fixed`` is the fastest per-step time with every leaf cut to one
    element: the schedule and dispatch overhead without the memory traffic,
    which is far easier to resolve on a loaded machine than a 1% difference on
    the full pytree.
    """
    params = make_params(sizes.step_params, sizes.step_small_leaves)
    leaves = len(params)
    per_step, runners = time_steps(opts, params, sizes.step_rounds, sizes.step_iters)
    case = f"{label}, {param_count(params):,} params ({leaves} leaves)"
    med = {k: c.median(v) for k, v in per_step.items()}
    for name, seconds in med.items():
        results.add(section, case, "step (ms)", name, 1e3 * seconds, "ms", per_step[name])
        ops = c.hlo_op_count(runners[name].lowered.as_text())
        results.add(section, case, "StableHLO ops", name, ops, "ops")
        results.add(section, case, "state (bytes)", name, runners[name].state_bytes, "B")
    tiny, _ = time_steps(opts, tiny_params(leaves), sizes.step_rounds, 20 * sizes.step_iters)
    tiny_case = f"{label}, {leaves} leaves of 1 param (fixed cost)"
    # Contention only ever adds time, so the fixed cost is the fastest round.
    fixed = {k: min(v) for k, v in tiny.items()}
    for name, seconds in fixed.items():
        results.add(section, tiny_case, "fastest step (us)", name, 1e6 * seconds, "us", tiny[name])
    for a, b, limit in pairs:
        paired = paired_ratio(per_step[a], per_step[b])
        minima = min(per_step[a]) / min(per_step[b])
        results.check(
            section,
            f"{case}: {a} / {b}",
            med[a],
            med[b],
            at_most=limit,
            detail=f"paired per-round median {paired:.3f}; ratio of minima {minima:.3f}",
        )
        extra = fixed[a] - fixed[b]
        results.check(
            section,
            f"{case}: {a} / {b}, from the fixed cost",
            med[b] + extra,
            med[b],
            at_most=limit,
            detail=f"fixed-cost difference {1e6 * extra:+.1f} us per step",
        )
    return runners


def schedules() -> dict[str, optax.ScalarOrSchedule]:
    """The learning rates of :func:`optimizers`, by competitor."""
    return {
        "constant lr": PEAK,
        "ours warmup-cosine": ow.warmup_decay_schedule(PEAK, WARMUP, TOTAL),
        "optax warmup_cosine_decay_schedule": optax.warmup_cosine_decay_schedule(
            0.0, PEAK, WARMUP, TOTAL
        ),
    }


def optimizers() -> dict[str, optax.GradientTransformation]:
    """The three train-step competitors: AdamW with each learning rate."""
    return {name: optax.adamw(lr) for name, lr in schedules().items()}


def per_evaluation_seconds(lr: optax.ScalarOrSchedule, evals: int, repeats: int) -> list[float]:
    """Seconds per schedule evaluation inside one compiled loop of ``evals`` counts."""

    def loop(start: jax.Array) -> jax.Array:
        def body(i: jax.Array, acc: jax.Array) -> jax.Array:
            value = lr(start + i) if callable(lr) else jnp.float32(lr) + 0 * i
            return acc + value

        return jax.lax.fori_loop(0, evals, body, jnp.float32(0))

    f = jax.jit(loop).lower(jnp.int32(0)).compile()
    c.block(f(jnp.int32(0)))
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        c.block(f(jnp.int32(r)))
        times.append((time.perf_counter() - t0) / evals)
    return times


def run(sizes: c.Sizes, results: c.Results) -> None:
    evals = 20_000
    case = f"schedule alone: one evaluation in a compiled loop of {evals:,} counts"
    for name, lr in schedules().items():
        t = per_evaluation_seconds(lr, evals, 7)
        results.add(SECTION, case, "time (ns)", name, 1e9 * c.median(t), "ns", t)
    c.log(f"[train step] AdamW, {sizes.step_params:,} params")
    ours, const, theirs = (
        "ours warmup-cosine",
        "constant lr",
        "optax warmup_cosine_decay_schedule",
    )
    pairs: list[tuple[str, str, float | None]] = [(ours, const, 1.01), (ours, theirs, 1.00)]
    compare(SECTION, "AdamW step", optimizers(), pairs, sizes, results)
    results.note(
        SECTION,
        f"{sizes.step_rounds} rounds x {sizes.step_iters} steps per competitor, interleaved; "
        f"warmup {WARMUP}, total {TOTAL} steps, peak {PEAK}.",
    )
