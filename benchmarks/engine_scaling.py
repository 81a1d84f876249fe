"""Traced op count and compile time of a 1000-phase schedule against a 1-phase one.

Run from the repository root::

    PYTHONPATH=. python benchmarks/engine_scaling.py [--pieces 1000] [--optax]

Each schedule is a join of ``N`` linear pieces of 10 steps (``optax_warmup.join``
merges them into one phase schedule); cosine restarts are compared for 1 and
``N`` cycles. For each: the StableHLO ops of the lowered function (all of its
nested functions included), the time to trace and lower, the time to compile,
and one evaluation over 1e6 counts. ``--optax`` adds ``optax.join_schedules`` over the
same pieces for comparison. Figures are wall-clock seconds on the current
backend; they are recorded, not asserted.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

import optax_warmup as ow


def stablehlo_ops(text: str) -> int:
    """StableHLO operations in a lowered module's text (not ``#stablehlo.*`` attributes)."""
    return len(re.findall(r"(?<![#\w])stablehlo\.\w+", text))


def measure(name: str, schedule: Callable[[Any], Any], build_s: float) -> dict[str, Any]:
    counts = jnp.arange(1_000_000, dtype=jnp.int32)

    def f(c: jax.Array) -> jax.Array:
        return schedule(c)

    t0 = time.perf_counter()
    lowered = jax.jit(f).lower(counts)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    compiled(counts).block_until_ready()
    t3 = time.perf_counter()
    compiled(counts).block_until_ready()
    t4 = time.perf_counter()
    return {
        "schedule": name,
        "build_s": build_s,
        "hlo_ops": stablehlo_ops(lowered.as_text()),
        "lower_s": t1 - t0,
        "compile_s": t2 - t1,
        "eval_1e6_s": min(t3 - t2, t4 - t3),
    }


def built(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    s = fn()
    jax.block_until_ready(jax.tree_util.tree_leaves(s))
    return s, time.perf_counter() - t0


def joined_pieces(n: int) -> Any:
    pieces = [
        ow.linear_decay(1.0 - i / (2 * n), 10, end_value=1.0 - (i + 1) / (2 * n)) for i in range(n)
    ]
    return ow.join(pieces, [10 * (i + 1) for i in range(n - 1)])


def optax_pieces(n: int) -> Any:
    import optax

    pieces = [
        optax.linear_schedule(1.0 - i / (2 * n), 1.0 - (i + 1) / (2 * n), 10) for i in range(n)
    ]
    return optax.join_schedules(pieces, [10 * (i + 1) for i in range(n - 1)])


def main() -> None:
    parser = argparse.ArgumentParser(description="Engine scaling: 1 phase against N phases.")
    parser.add_argument("--pieces", type=int, default=1000)
    parser.add_argument("--optax", action="store_true", help="also time optax.join_schedules")
    args = parser.parse_args()
    n = args.pieces
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}")
    # Warm up JAX itself so the first row does not pay for it.
    measure("warm-up", ow.constant_schedule(1.0), 0.0)
    rows = []
    for k in (1, n):
        s, b = built(lambda k=k: joined_pieces(k))
        rows.append(measure(f"ow.join, {k} linear piece(s) ({s.num_phases} phases)", s, b))
    for k in (1, n):
        s, b = built(lambda k=k: ow.cosine_restarts(1.0, 10, num_cycles=k))
        rows.append(measure(f"ow.cosine_restarts, {k} cycle(s)", s, b))
    if args.optax:
        for k in (1, n):
            s, b = built(lambda k=k: optax_pieces(k))
            rows.append(measure(f"optax.join_schedules, {k} linear piece(s)", s, b))
    head = f"{'schedule':<48} {'build s':>8} {'HLO ops':>8} {'lower s':>8}"
    head += f" {'compile s':>9} {'eval 1e6 s':>10}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['schedule']:<48} {r['build_s']:8.3f} {r['hlo_ops']:8d} "
            f"{r['lower_s']:8.3f} {r['compile_s']:9.3f} {r['eval_1e6_s']:10.4f}"
        )


if __name__ == "__main__":
    main()
