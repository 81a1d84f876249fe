"""4. Transform overhead: warmup as a transform or schedule vs plain ``optax.adam(lr)``.

Competitors on the train-step pytree: ``optax.adam(lr)``; ``optax.adam`` with
our warmup schedule; ``with_warmup(optax.adam(lr), ...)`` and ``gi_adam(lr)``
when the library provides them (they are reported as skipped otherwise).
Optimizer-state bytes are compared with optax's equivalent: ``adam`` with
optax's own warmup schedule (for our schedule and ``with_warmup``) and
``adam`` (for GI-Adam).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax

import optax_warmup as ow
from benchmarks import _common as c
from benchmarks import train_step as ts

SECTION = "transforms"
LR = 1e-3
WARMUP = 1_000


def _with_warmup(fn: Callable[..., Any], tx: optax.GradientTransformation) -> Any:
    """``with_warmup(tx, ...)`` for a linear warmup over ``WARMUP`` steps."""
    attempts: list[Callable[[], Any]] = [
        lambda: fn(tx, WARMUP),
        lambda: fn(tx, warmup_steps=WARMUP),
        lambda: fn(tx, ow.warmup_factor(WARMUP)),
    ]
    error: Exception | None = None
    for attempt in attempts:
        try:
            return attempt()
        except TypeError as e:  # try the next calling convention
            error = e
    raise TypeError(f"cannot call with_warmup: {error}")


def optimizers() -> tuple[dict[str, optax.GradientTransformation], list[str]]:
    """The competitors available in this build of the library, and the skipped ones."""
    optax_warmup_schedule = optax.linear_schedule(0.0, LR, WARMUP)
    opts: dict[str, optax.GradientTransformation] = {
        "optax adam(lr)": optax.adam(LR),
        "optax adam(ours warmup schedule)": optax.adam(ow.warmup_schedule(LR, WARMUP)),
        "optax adam(optax warmup schedule)": optax.adam(optax_warmup_schedule),
    }
    skipped = []
    with_warmup = getattr(ow, "with_warmup", None)
    if with_warmup is None:
        skipped.append("with_warmup")
    else:
        opts["with_warmup(optax adam(lr))"] = _with_warmup(with_warmup, optax.adam(LR))
    gi_adam = getattr(ow, "gi_adam", None)
    if gi_adam is None:
        skipped.append("gi_adam")
    else:
        opts["gi_adam(lr)"] = gi_adam(LR)
    return opts, skipped


def run(sizes: c.Sizes, results: c.Results) -> None:
    opts, skipped = optimizers()
    c.log(f"[transforms] {', '.join(opts)}")
    plain = "optax adam(lr)"
    pairs: list[tuple[str, str, float | None]] = [
        (name, plain, 1.01)
        for name in ("optax adam(ours warmup schedule)", "with_warmup(optax adam(lr))")
        if name in opts
    ]
    if "gi_adam(lr)" in opts:
        pairs.append(("gi_adam(lr)", plain, None))
    runners = ts.compare(SECTION, "Adam step", opts, pairs, sizes, results)
    equivalents = {
        "optax adam(ours warmup schedule)": "optax adam(optax warmup schedule)",
        "with_warmup(optax adam(lr))": "optax adam(optax warmup schedule)",
        "gi_adam(lr)": plain,
    }
    for ours, theirs in equivalents.items():
        if ours in runners:
            a, b = runners[ours].state_bytes, runners[theirs].state_bytes
            results.check(
                SECTION,
                f"state bytes: {ours} / {theirs}",
                a,
                b,
                at_most=1.0,
                detail=f"{a:,} B vs {b:,} B ({a - b:+,} B)",
            )
    for name in skipped:
        results.note(SECTION, f"{name}: skipped: not available in this build of optax_warmup")
        results.checks.append(
            c.Check(
                SECTION,
                f"{name} overhead and state bytes",
                None,
                "<= 1.01",
                None,
                "skipped: not available",
            )
        )
    results.note(
        SECTION,
        f"warmup over {WARMUP} steps to lr {LR}; optax's equivalent of a warmup "
        "transform is adam with optax's own warmup schedule (linear_schedule).",
    )
