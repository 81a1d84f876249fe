"""Shared pieces of the benchmark suite: sizes, timing, op counts, result records."""

from __future__ import annotations

import dataclasses
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import jax
import jax.extend.core as jex


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Problem sizes and repeat counts for one mode (smoke, quick or full)."""

    # 1. phases and cycles
    phase_ns: tuple[int, ...]
    phase_counts: int
    compile_repeats: int
    run_repeats: int
    # 2a. evaluation sweep (warmup lengths x peaks)
    sweep_warmups: int
    sweep_peaks: int
    sweep_counts: int
    sweep_repeats: int
    # 2b. tiny-model sweep
    models: int
    model_steps: int
    model_repeats: int
    # 3-5. train step
    step_params: int
    step_small_leaves: int
    step_rounds: int
    step_iters: int
    memory_steps: int
    # warm-up calls before timing (off only for the smoke test)
    warm_up: bool = True
    # 6. the per-step path
    step_evals: int = 20_000
    step_eval_rounds: int = 7
    step_phase_ns: tuple[int, ...] = (1, 10, 100, 1000, 10000)
    step_optax_max_n: int = 100
    step_leaf_counts: tuple[int, ...] = (16, 512, 2048)
    step_compile_rounds: int = 2


SIZES: dict[str, Sizes] = {
    # Only checks that every benchmark runs (the unit test uses it).
    "smoke": Sizes(
        phase_ns=(1, 4),
        phase_counts=10_000,
        compile_repeats=1,
        run_repeats=2,
        sweep_warmups=2,
        sweep_peaks=2,
        sweep_counts=1_000,
        sweep_repeats=1,
        models=1,
        model_steps=10,
        model_repeats=1,
        step_params=20_000,
        step_small_leaves=8,
        step_rounds=2,
        step_iters=1,
        memory_steps=2,
        warm_up=False,
        step_evals=200,
        step_eval_rounds=2,
        step_phase_ns=(1, 10),
        step_optax_max_n=10,
        step_leaf_counts=(4,),
        step_compile_rounds=1,
    ),
    # Under two minutes on two CPU cores.
    "quick": Sizes(
        phase_ns=(1, 10, 100),
        phase_counts=1_000_000,
        compile_repeats=2,
        run_repeats=3,
        sweep_warmups=8,
        sweep_peaks=8,
        sweep_counts=10_000,
        sweep_repeats=1,
        models=8,
        model_steps=200,
        model_repeats=1,
        step_params=1_000_000,
        step_small_leaves=128,
        step_rounds=15,
        step_iters=5,
        memory_steps=5,
        step_phase_ns=(1, 10, 100, 1000),
        step_leaf_counts=(16, 512),
        step_compile_rounds=1,
    ),
    # The figures the issue asks for.
    "full": Sizes(
        phase_ns=(1, 10, 100, 1000),
        phase_counts=1_000_000,
        compile_repeats=3,
        run_repeats=5,
        sweep_warmups=16,
        sweep_peaks=16,
        sweep_counts=10_000,
        sweep_repeats=3,
        models=64,
        model_steps=300,
        model_repeats=1,
        step_params=10_000_000,
        step_small_leaves=256,
        step_rounds=31,
        step_iters=5,
        memory_steps=10,
    ),
}


@dataclasses.dataclass
class Figure:
    """One measured value of one competitor."""

    section: str
    case: str
    metric: str
    competitor: str
    value: float | int | None
    unit: str
    samples: list[float] | None = None


@dataclasses.dataclass
class Check:
    """A ratio between two figures compared with the issue's target."""

    section: str
    claim: str
    ratio: float | None
    target: str
    met: bool | None
    detail: str = ""


@dataclasses.dataclass
class Results:
    """Everything one run measured."""

    figures: list[Figure] = dataclasses.field(default_factory=list)
    checks: list[Check] = dataclasses.field(default_factory=list)
    notes: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def add(
        self,
        section: str,
        case: str,
        metric: str,
        competitor: str,
        value: float | int | None,
        unit: str,
        samples: Iterable[float] | None = None,
    ) -> None:
        sample_list = None if samples is None else [float(x) for x in samples]
        self.figures.append(Figure(section, case, metric, competitor, value, unit, sample_list))

    def note(self, section: str, text: str) -> None:
        self.notes.setdefault(section, []).append(text)

    def check(
        self,
        section: str,
        claim: str,
        numerator: float | None,
        denominator: float | None,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
        detail: str = "",
    ) -> float | None:
        """Record ``numerator / denominator`` against ``<= at_most`` or ``>= at_least``."""
        if numerator is None or denominator is None or denominator <= 0:
            ratio = None
        else:
            ratio = numerator / denominator
        if at_most is not None:
            target = f"<= {at_most:g}"
            met = None if ratio is None else ratio <= at_most
        elif at_least is not None:
            target = f">= {at_least:g}"
            met = None if ratio is None else ratio >= at_least
        else:
            target, met = "(none)", None
        self.checks.append(Check(section, claim, ratio, target, met, detail))
        return ratio


def log(message: str) -> None:
    """Progress on stderr (the results go to files)."""
    print(message, file=sys.stderr, flush=True)


def median(xs: Iterable[float]) -> float:
    return float(statistics.median(list(xs)))


def block(x: Any) -> Any:
    return jax.block_until_ready(x)


def interleave(
    fns: Mapping[str, Callable[[], Any]], repeats: int, *, warmup: int = 1
) -> dict[str, list[float]]:
    """Wall seconds of each function over ``repeats`` rounds, competitors interleaved.

    Every round runs each function once, the order rotated from round to round
    so that no competitor always runs first or last; ``warmup`` rounds are run
    first and discarded. The functions must block until their results are ready.
    """
    names = list(fns)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            fns[name]()
            dt = time.perf_counter() - t0
            if r >= warmup:
                times[name].append(dt)
    return times


def compile_seconds(fn: Callable[..., Any], *args: Any) -> tuple[float, Any, Any]:
    """Seconds to trace, lower and compile ``jax.jit(fn)`` for ``args``.

    ``fn`` must be a fresh function object so that no jit cache is hit. Returns
    the seconds, the lowered and the compiled computation.
    """
    t0 = time.perf_counter()
    lowered = jax.jit(fn).lower(*args)
    compiled = lowered.compile()
    return time.perf_counter() - t0, lowered, compiled


def jaxpr_eqn_count(fn: Callable[..., Any], *args: Any) -> int:
    """Number of equations in the jaxpr of ``fn``, nested jaxprs included."""

    def count(jaxpr: Any) -> int:
        n = 0
        for eqn in jaxpr.eqns:
            n += 1
            for sub in jex.jaxprs_in_params(eqn.params):
                n += count(sub)
        return n

    return count(jax.make_jaxpr(fn)(*args).jaxpr)


_HLO_OP = re.compile(r"^\s*(?:%[^=]+=\s*)?\"?(stablehlo|chlo|mhlo)\.[a-z_]+", re.MULTILINE)


def hlo_op_count(text: str) -> int:
    """Number of StableHLO / CHLO operations in a lowered module's text."""
    return len(_HLO_OP.findall(text))


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not every platform has it
        return None
