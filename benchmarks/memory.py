"""5. Memory of the train-step benchmark: ours vs optax vs a constant learning rate.

Each competitor runs in its own Python process (``python -m benchmarks.memory
NAME PARAMS SMALL_LEAVES STEPS``) so that its peak resident memory is its
own. The process reports the RSS right after JAX started (the baseline), the
peak RSS from then on (Linux ``VmHWM``, reset after the baseline; elsewhere
``ru_maxrss``), and XLA's compiled memory analysis of the step (argument,
output, temporary and aliased bytes), which does not depend on the machine's
load.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks import _common as c

SECTION = "memory"
_ROOT = Path(__file__).resolve().parent.parent


def _status_bytes(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (Linux), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_bytes() -> int:
    """Peak RSS of this process.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` survives ``fork`` + ``exec``, so
    it would count the parent benchmark process too.
    """
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss) if sys.platform == "darwin" else int(rss) * 1024


def measure(name: str, params: int, small_leaves: int, steps: int) -> dict[str, Any]:
    """Run ``steps`` train steps of competitor ``name`` in this process; report memory.

    Peaks are taken per stage (building the state, compiling the step, running
    it), each above the RSS at the start of the stage, where the peak can be
    reset (Linux); ``total`` is the peak above the RSS once JAX started.
    """
    import jax
    import jax.numpy as jnp

    from benchmarks import train_step as ts

    jax.block_until_ready(jnp.zeros(1) + 1)
    resettable = _reset_peak()
    baseline = _status_bytes("VmRSS") if resettable else None
    baseline = _peak_bytes() if baseline is None else baseline
    stages: dict[str, int] = {}
    overall = baseline

    def stage_start() -> int:
        nonlocal overall
        overall = max(overall, _peak_bytes())
        if resettable and _reset_peak():
            return _status_bytes("VmRSS") or 0
        return _peak_bytes()

    start = stage_start()
    opt = ts.optimizers()[name]
    p = ts.make_params(params, small_leaves)
    grads = jax.tree_util.tree_map(lambda x: 1e-3 * jnp.ones_like(x), p)
    state = jax.block_until_ready(opt.init(p))
    stages["init"] = _peak_bytes() - start
    start = stage_start()
    lowered = jax.jit(ts.step_fn(opt), donate_argnums=(0, 1)).lower(p, state, grads)
    step = lowered.compile()
    stages["compile"] = _peak_bytes() - start
    start = stage_start()
    for _ in range(steps):
        p, state = step(p, state, grads)
    jax.block_until_ready(p)
    stages["run"] = _peak_bytes() - start
    overall = max(overall, _peak_bytes())
    analysis = step.memory_analysis()
    fields = ("argument", "output", "alias", "temp")
    compiled = {f: int(getattr(analysis, f"{f}_size_in_bytes", 0) or 0) for f in fields}
    return {
        "baseline_rss": baseline,
        "peak_rss": overall,
        "stages": stages,
        "compiled": compiled,
        "optimized_hlo_lines": len((step.as_text() or "").splitlines()),
    }


def _subprocess(name: str, sizes: c.Sizes) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    args = [name, str(sizes.step_params), str(sizes.step_small_leaves), str(sizes.memory_steps)]
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", *args],
        cwd=_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(sizes: c.Sizes, results: c.Results) -> None:
    from benchmarks import train_step as ts

    c.log(f"[memory] train step, {sizes.step_params:,} params, one process per competitor")
    case = f"AdamW train step, ~{sizes.step_params:,} params, {sizes.memory_steps} steps"
    mib = 1 / 2**20
    data = {name: _subprocess(name, sizes) for name in ts.optimizers()}
    for name, d in data.items():
        results.add(SECTION, case, "peak RSS (MiB)", name, d["peak_rss"] * mib, "MiB")
        grown = (d["peak_rss"] - d["baseline_rss"]) * mib
        results.add(SECTION, case, "peak RSS above JAX start (MiB)", name, grown, "MiB")
        for stage, value in d["stages"].items():
            results.add(SECTION, case, f"peak growth while {stage} (MiB)", name, value * mib, "MiB")
        for field, value in d["compiled"].items():
            results.add(SECTION, case, f"compiled {field} (MiB)", name, value * mib, "MiB")
        results.add(SECTION, case, "optimized HLO (lines)", name, d["optimized_hlo_lines"], "")
    ours, theirs, const = (
        "ours warmup-cosine",
        "optax warmup_cosine_decay_schedule",
        "constant lr",
    )

    def above_start(name: str) -> float:
        return data[name]["peak_rss"] - data[name]["baseline_rss"]

    for other in (theirs, const):
        results.check(
            SECTION,
            f"peak RSS above JAX start: ours / {other}",
            above_start(ours),
            above_start(other),
            detail="no target set by the issue",
        )
        results.check(
            SECTION,
            f"peak growth while running: ours / {other}",
            data[ours]["stages"]["run"],
            data[other]["stages"]["run"],
            detail="no target set by the issue",
        )
    results.note(
        SECTION,
        "compile-stage memory grows with the schedule's scalar code: XLA duplicates the "
        "learning-rate computation into every per-leaf update fusion (optax's too), so a "
        "schedule with more scalar ops costs more compiler memory per leaf.",
    )


if __name__ == "__main__":
    name, params, small, steps = sys.argv[1], *map(int, sys.argv[2:5])
    print(json.dumps(measure(name, params, small, steps)))
