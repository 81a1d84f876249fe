"""2. Sweeps: many warmup configurations in one vmapped compile vs optax's loop.

a. Evaluate warmup-cosine schedules for a grid of warmup lengths x peaks over
   ``sweep_counts`` counts. Ours: one ``jax.jit(jax.vmap(...))`` over traced
   warmup lengths and peaks (one compile). Optax: its hyperparameters pass
   through Python ``if``s and cannot be traced, so a sweep is a loop with one
   compile per configuration (``jax.jit`` per schedule, as inside a train
   step); the eager loop (no jit) is shown for reference.
b. Train ``models`` tiny MLPs (full-batch Adam on a fixed synthetic regression
   problem) for ``model_steps`` steps, one per warmup length. Ours: the whole
   training vmapped over warmup lengths, one compile. Optax: a loop of jitted
   trainings, one compile each.

Wall time covers everything a user waits for: building schedules, tracing,
compiling and running. Every repeat uses fresh functions (so it compiles
again); competitors are interleaved after a small warm-up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import optax_warmup as ow
from benchmarks import _common as c

SECTION = "sweeps"
PEAK_RANGE = (1e-4, 1e-2)
MODEL_PEAK = 3e-2


def _grid(n_warmups: int, n_peaks: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    warmups = np.linspace(total // 100, total // 5, n_warmups).round().astype(np.int32)
    peaks = np.geomspace(*PEAK_RANGE, n_peaks).astype(np.float32)
    w, p = np.meshgrid(warmups, peaks, indexing="ij")
    return w.ravel(), p.ravel()


def _jitted(schedule: Callable[[jax.Array], Any]) -> Callable[[jax.Array], Any]:
    def fn(counts: jax.Array) -> Any:
        return schedule(counts)

    return jax.jit(fn)


def _ours_sweep_fn(total: int) -> Callable[[jax.Array, jax.Array], jax.Array]:
    counts = jnp.arange(total, dtype=jnp.int32)

    def one(warmup: jax.Array, peak: jax.Array) -> jax.Array:
        return ow.warmup_decay_schedule(peak, warmup, total, init_value=0.0)(counts)

    return jax.vmap(one)


def eval_ours(w: np.ndarray, p: np.ndarray, total: int) -> jax.Array:
    return c.block(jax.jit(_ours_sweep_fn(total))(jnp.asarray(w), jnp.asarray(p)))


def _breakdown(w: np.ndarray, p: np.ndarray, total: int) -> dict[str, dict[str, float]]:
    """Compile and run seconds of ours (all configs) and of optax (one config)."""
    args = (jnp.asarray(w), jnp.asarray(p))
    ours_compile, _, ours_fn = c.compile_seconds(_ours_sweep_fn(total), *args)
    counts = jnp.arange(total, dtype=jnp.int32)
    s = optax.warmup_cosine_decay_schedule(0.0, float(p[0]), int(w[0]), total)

    def one_optax(x: jax.Array) -> Any:
        return s(x)

    optax_compile, _, optax_fn = c.compile_seconds(one_optax, counts)
    runs = c.interleave(
        {"ours": lambda: c.block(ours_fn(*args)), "optax": lambda: c.block(optax_fn(counts))}, 3
    )
    return {
        "ours": {"compile": ours_compile, "run": c.median(runs["ours"])},
        "optax": {"compile": optax_compile, "run": c.median(runs["optax"])},
    }


def eval_optax(w: np.ndarray, p: np.ndarray, total: int, *, jit: bool = True) -> list[jax.Array]:
    counts = jnp.arange(total, dtype=jnp.int32)
    outs = []
    for warmup, peak in zip(w.tolist(), p.tolist(), strict=True):
        s = optax.warmup_cosine_decay_schedule(0.0, peak, warmup, total)
        outs.append(_jitted(s)(counts) if jit else s(counts))
    return c.block(outs)


def run(sizes: c.Sizes, results: c.Results) -> None:
    _eval_sweep(sizes, results)
    _model_sweep(sizes, results)


def _eval_sweep(sizes: c.Sizes, results: c.Results) -> None:
    total = sizes.sweep_counts
    w, p = _grid(sizes.sweep_warmups, sizes.sweep_peaks, total)
    n = w.size
    case = f"evaluate {n} warmup configs x {total:,} counts"
    c.log(f"[sweeps] {case}")
    last: dict[str, Any] = {}
    fns: dict[str, Callable[[], Any]] = {
        "ours vmap (1 compile)": lambda: last.update(ours=eval_ours(w, p, total)),
        "optax jit loop (1 compile per config)": lambda: last.update(optax=eval_optax(w, p, total)),
        "optax eager loop (no jit)": lambda: eval_optax(w, p, total, jit=False),
    }
    # Warm-up on two configurations (first-use costs), then interleaved repeats.
    if sizes.warm_up:
        for fn in (eval_ours, eval_optax):
            fn(w[:2], p[:2], total)
        eval_optax(w[:2], p[:2], total, jit=False)
    times = c.interleave(fns, sizes.sweep_repeats, warmup=0)
    med = {k: c.median(v) for k, v in times.items()}
    for name, seconds in med.items():
        results.add(SECTION, case, "wall (s)", name, seconds, "s", times[name])
    parts = _breakdown(w, p, total)
    names = list(med)
    for who, name in (("ours", names[0]), ("optax", names[1])):
        per = "" if who == "ours" else " per config"
        for part in ("compile", "run"):
            value = parts[who][part]
            results.add(SECTION, case, f"of which {part}{per} (s)", name, value, "s")
    ours = np.asarray(last["ours"])
    theirs = np.stack([np.asarray(x) for x in last["optax"]])
    rel = float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))
    results.add(SECTION, case, "max rel diff vs optax", "ours vmap (1 compile)", rel, "")
    results.check(
        SECTION,
        f"{case}: optax jit loop / ours wall",
        med[names[1]],
        med[names[0]],
        at_least=50.0,
        detail="" if n == 256 else f"(target is set at 256 configs; this run has {n})",
    )
    results.check(
        SECTION,
        f"{case}: optax eager loop / ours wall",
        med[names[2]],
        med[names[0]],
        detail="no target; eager optax cannot sit inside a jitted train step",
    )


# --- tiny models ---------------------------------------------------------------

Params = Any


def _problem() -> tuple[Params, jax.Array, jax.Array]:
    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(0), 4)
    x = jax.random.normal(k1, (256, 8))
    teacher = jax.random.normal(k2, (8,))
    y = jnp.sin(x @ teacher) + 0.1 * jax.random.normal(k3, (256,))
    ka, kb = jax.random.split(k4)
    params = {
        "w1": jax.random.normal(ka, (8, 32)) / jnp.sqrt(8.0),
        "b1": jnp.zeros((32,)),
        "w2": jax.random.normal(kb, (32,)) / jnp.sqrt(32.0),
        "b2": jnp.zeros(()),
    }
    return params, x, y


def _loss(params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def train(schedule: optax.ScalarOrSchedule, steps: int) -> jax.Array:
    """Final loss of the tiny MLP after ``steps`` full-batch Adam steps."""
    params, x, y = _problem()
    opt = optax.adam(schedule)

    def step(carry: tuple[Params, Any], _: None) -> tuple[tuple[Params, Any], None]:
        params, state = carry
        grads = jax.grad(_loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=steps)
    return _loss(params, x, y)


def models_ours(warmups: np.ndarray, steps: int) -> jax.Array:
    def one(warmup: jax.Array) -> jax.Array:
        return train(ow.warmup_decay_schedule(MODEL_PEAK, warmup, steps, init_value=0.0), steps)

    return c.block(jax.jit(jax.vmap(one))(jnp.asarray(warmups)))


def models_optax(warmups: np.ndarray, steps: int) -> list[jax.Array]:
    outs = []
    for warmup in warmups.tolist():
        s = optax.warmup_cosine_decay_schedule(0.0, MODEL_PEAK, warmup, steps)

        def fn(s: optax.Schedule = s) -> jax.Array:
            return train(s, steps)

        outs.append(jax.jit(fn)())
    return c.block(outs)


def _model_sweep(sizes: c.Sizes, results: c.Results) -> None:
    steps = sizes.model_steps
    warmups = np.linspace(1, steps // 2, sizes.models).round().astype(np.int32)
    n = warmups.size
    case = f"train {n} tiny MLPs x {steps} Adam steps over warmup lengths"
    c.log(f"[sweeps] {case}")
    last: dict[str, Any] = {}
    fns: dict[str, Callable[[], Any]] = {
        "ours vmap (1 compile)": lambda: last.update(ours=models_ours(warmups, steps)),
        "optax jit loop (1 compile per config)": lambda: last.update(
            optax=models_optax(warmups, steps)
        ),
    }
    if sizes.warm_up:
        models_ours(warmups[:2], steps)
        models_optax(warmups[:1], steps)
    times = c.interleave(fns, sizes.model_repeats, warmup=0)
    med = {k: c.median(v) for k, v in times.items()}
    for name, seconds in med.items():
        results.add(SECTION, case, "wall (s)", name, seconds, "s", times[name])
    ours = np.asarray(last["ours"])
    theirs = np.asarray(last["optax"])
    rel = float(np.max(np.abs(ours - theirs) / np.abs(theirs)))
    results.add(
        SECTION, case, "max rel diff of final loss vs optax", "ours vmap (1 compile)", rel, ""
    )
    names = list(med)
    results.check(
        SECTION,
        f"{case}: optax loop / ours wall",
        med[names[1]],
        med[names[0]],
        detail="no target set by the issue",
    )
