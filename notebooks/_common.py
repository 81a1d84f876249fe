"""What the notebooks share: the size switch and a synthetic task that starts sharp.

Imported by the notebooks in this folder (Jupyter runs a notebook's kernel in
the notebook's own folder, so ``import _common`` finds this file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

SCALES = ("ci", "full")


def setup() -> tuple[str, Path]:
    """Read ``OPTAX_WARMUP_SCALE`` (``ci`` by default) and ``OPTAX_WARMUP_FIGURES``
    (``../docs/assets``), print what JAX runs on, and return both."""
    scale = os.environ.get("OPTAX_WARMUP_SCALE", "ci")
    if scale not in SCALES:
        raise ValueError(f"OPTAX_WARMUP_SCALE must be one of {SCALES}, got {scale!r}")
    figures = Path(os.environ.get("OPTAX_WARMUP_FIGURES", "../docs/assets"))
    print(f"jax {jax.__version__} | backend: {jax.default_backend()} | devices: {jax.devices()}")
    print(f"scale: {scale}")
    return scale, figures


class SharpMLP(nnx.Module):
    """Two tanh layers and a linear output whose weights start large (std ``out_scale / sqrt(H)``).

    The large last layer makes the loss surface start sharp and flatten during
    training: the "sharpness reduction" regime of Kalra & Barkeshli (2024),
    where warmup lets gradient descent reach learning rates that diverge at
    step 0.
    """

    def __init__(self, inputs: int, hidden: int, out_scale: float, rngs: nnx.Rngs):
        self.hidden1 = nnx.Linear(inputs, hidden, rngs=rngs)
        self.hidden2 = nnx.Linear(hidden, hidden, rngs=rngs)
        init = nnx.initializers.normal(out_scale / np.sqrt(hidden))
        self.out = nnx.Linear(hidden, 1, kernel_init=init, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(jnp.tanh(self.hidden2(jnp.tanh(self.hidden1(x)))))


def teacher_student(
    examples: int, inputs: int, hidden: int, out_scale: float = 10.0, seeds: int | None = None
) -> tuple[Any, Any, tuple[jax.Array, jax.Array]]:
    """A regression task (Gaussian inputs, targets from a random tanh teacher) and a
    :class:`SharpMLP` student, split for functional use.

    Returns ``(graphdef, params, (x, y))``: ``nnx.merge(graphdef, params)``
    rebuilds the model, so a training step can be a pure function of
    ``params`` and be vmapped over hyperparameters. With ``seeds``, ``params``
    has a leading axis: the student initialised from ``nnx.Rngs(seed)`` for
    each seed in ``range(seeds)`` (the data and the teacher stay the same).
    """
    x = jax.random.normal(jax.random.key(0), (examples, inputs))
    teacher = nnx.Sequential(
        nnx.Linear(inputs, 32, rngs=nnx.Rngs(1)), jnp.tanh, nnx.Linear(32, 1, rngs=nnx.Rngs(2))
    )
    graphdef, params = nnx.split(SharpMLP(inputs, hidden, out_scale, nnx.Rngs(0)))
    if seeds is not None:
        params = stack(
            [nnx.split(SharpMLP(inputs, hidden, out_scale, nnx.Rngs(s)))[1] for s in range(seeds)]
        )
    return graphdef, params, (x, teacher(x))


def stack(trees: list[Any]) -> Any:
    """Stack pytrees of the same structure along a new leading axis (one entry per seed)."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def device_name() -> str:
    """The backend and the first device's kind, for the results table ("gpu: NVIDIA H200")."""
    return f"{jax.default_backend()}: {jax.devices()[0].device_kind}"


def first_run(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the first run of True along the last axis (ascending learning
    rates): ``ok[..., start:end]`` are all True and ``ok[..., end]`` is False or past the end;
    ``start == end == 0`` where nothing is True. Rates too small to train in the budget come
    before the run; a lucky success above the first failure does not count."""
    ok = np.asarray(ok, bool)
    any_ok = ok.any(-1)
    start = np.where(any_ok, ok.argmax(-1), 0)
    after = np.arange(ok.shape[-1]) >= start[..., None]
    end = np.cumprod(ok | ~after, axis=-1).sum(-1)
    return start, np.where(any_ok, end, 0)


def bracket(evaluate, coarse: np.ndarray, shape: tuple[int, ...], substeps: int = 4) -> dict:
    """The largest stable learning rate of every run of ``shape`` (methods x seeds, say), in
    two passes.

    ``evaluate(lrs)`` takes learning rates of shape ``shape + (L,)`` and returns
    whether each run trained. The coarse pass tries the ascending grid
    ``coarse`` (a constant ratio ``q`` between points); the fine pass tries
    ``edge * q**(j / substeps)``, ``j = 1 .. substeps-1``, between each run's
    last coarse success ``edge`` (the top of its first run of successes) and
    the first coarse failure above it. The result's ``max_lr`` is the largest
    rate that trained before the first failure, known to a factor
    ``resolution = q**(1/substeps)``; NaN where no coarse rate trained
    (``below``), ``coarse[-1]`` where nothing above the first success failed
    (``censored``: the grid did not bracket the failure point).
    """
    coarse = np.asarray(coarse, np.float64)
    q = coarse[1] / coarse[0]
    ok_c = np.asarray(evaluate(np.broadcast_to(coarse, (*shape, coarse.size))), bool)
    _, end = first_run(ok_c)
    edge = coarse[np.maximum(end - 1, 0)]
    fine = edge[..., None] * q ** (np.arange(1, substeps) / substeps)
    ok_f = np.asarray(evaluate(fine), bool)
    bracketed = (end > 0) & (end < coarse.size)
    kf = np.where(bracketed, np.cumprod(ok_f, axis=-1).sum(-1), 0)
    best = np.take_along_axis(fine, np.maximum(kf - 1, 0)[..., None], -1)[..., 0]
    best = np.where(kf > 0, best, edge)
    return dict(
        max_lr=np.where(end > 0, best, np.nan),
        below=end == 0,
        censored=end == coarse.size,
        resolution=float(q ** (1 / substeps)),
        coarse_ok=ok_c,
        fine_lrs=fine,
        fine_ok=ok_f,
    )


def run_in_chunks(fn, args: tuple[np.ndarray, ...], chunk: int) -> Any:
    """Call ``fn`` (a jitted, vmapped function of 1-d arrays) on ``args`` ``chunk`` entries at a
    time, padding the last chunk, so that every call has the same shape and one compile serves
    all; return its outputs, concatenated and trimmed, as numpy arrays."""
    n = len(args[0])
    pad = -n % chunk
    padded = [np.concatenate([np.asarray(a), np.repeat(np.asarray(a)[:1], pad)]) for a in args]
    outs = [fn(*(a[i : i + chunk] for a in padded)) for i in range(0, n + pad, chunk)]
    return jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs])[:n], *outs)
