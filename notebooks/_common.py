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
    examples: int, inputs: int, hidden: int, out_scale: float = 10.0
) -> tuple[Any, Any, tuple[jax.Array, jax.Array]]:
    """A regression task (Gaussian inputs, targets from a random tanh teacher) and a
    :class:`SharpMLP` student, split for functional use.

    Returns ``(graphdef, params, (x, y))``: ``nnx.merge(graphdef, params)``
    rebuilds the model, so a training step can be a pure function of
    ``params`` and be vmapped over hyperparameters.
    """
    x = jax.random.normal(jax.random.key(0), (examples, inputs))
    teacher = nnx.Sequential(
        nnx.Linear(inputs, 32, rngs=nnx.Rngs(1)), jnp.tanh, nnx.Linear(32, 1, rngs=nnx.Rngs(2))
    )
    graphdef, params = nnx.split(SharpMLP(inputs, hidden, out_scale, nnx.Rngs(0)))
    return graphdef, params, (x, teacher(x))
