"""Tiny Flax training loops shared by tests/test_flax.py and its fresh-process resume.

Run as a script (``python tests/flax_training.py CKPT_DIR OUT.npz``) it builds
every case from scratch with a different initialisation, restores the
checkpoints written by the test, finishes training and saves the parameters.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen, nnx
from flax.training import train_state

import optax_warmup as ow

WARMUP = 8
STEPS_BEFORE = 3  # the checkpoint is taken mid-warmup, after this many updates
STEPS_AFTER = 4


def data() -> tuple[jax.Array, jax.Array]:
    x = jax.random.normal(jax.random.key(0), (16, 3))
    y = jnp.sin(x.sum(axis=1, keepdims=True))
    return x, y


def transforms() -> dict[str, Callable[[], optax.GradientTransformation]]:
    """The optimizers each Flax test runs, by name; built fresh in every process."""
    return {
        "groups": lambda: ow.group_optimizer(
            {"first": None, "rest": ow.warmup_schedule(0.05, WARMUP)},
            {"first": r"^l1/"},
            optax.adam,
            default="rest",
        ),
        "scale_by_group": lambda: optax.chain(
            optax.sgd(0.1, momentum=0.9),
            ow.scale_by_group(
                {"bias": ow.warmup_factor(WARMUP), "kernel": 1.0},
                {"bias": "bias$"},
                default="kernel",
            ),
        ),
        "schedule_free": lambda: ow.schedule_free_adamw(0.05, warmup_steps=WARMUP),
        "with_warmup": lambda: ow.with_warmup(
            optax.adamw(ow.cosine_decay(0.05, 40), weight_decay=1e-2), WARMUP
        ),
        "gi_adam": lambda: ow.gi_adam(0.05),
    }


# --- NNX ----------------------------------------------------------------------


class NnxMLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.l1 = nnx.Linear(3, 8, rngs=rngs)
        self.l2 = nnx.Linear(8, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.l2(jnp.tanh(self.l1(x)))


def nnx_setup(name: str, seed: int) -> tuple[NnxMLP, nnx.Optimizer]:
    model = NnxMLP(nnx.Rngs(seed))
    return model, nnx.Optimizer(model, transforms()[name](), wrt=nnx.Param)


@nnx.jit
def nnx_step(model: NnxMLP, optimizer: nnx.Optimizer, x: jax.Array, y: jax.Array) -> jax.Array:
    def loss_fn(m: NnxMLP) -> jax.Array:
        return jnp.mean((m(x) - y) ** 2)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


def nnx_train(model: NnxMLP, optimizer: nnx.Optimizer, steps: int) -> list[float]:
    x, y = data()
    return [float(nnx_step(model, optimizer, x, y)) for _ in range(steps)]


def nnx_params(model: NnxMLP) -> dict[str, np.ndarray]:
    flat = jax.tree_util.tree_flatten_with_path(nnx.to_pure_dict(nnx.state(model, nnx.Param)))[0]
    return {jax.tree_util.keystr(k): np.asarray(v) for k, v in flat}


# --- Linen ----------------------------------------------------------------------


class LinenMLP(linen.Module):
    @linen.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = jnp.tanh(linen.Dense(8, name="l1")(x))
        return linen.Dense(1, name="l2")(h)


def linen_setup(name: str, seed: int) -> train_state.TrainState:
    model = LinenMLP()
    params = model.init(jax.random.key(seed), jnp.ones((1, 3)))["params"]
    return train_state.TrainState.create(
        apply_fn=model.apply, params=params, tx=transforms()[name]()
    )


@jax.jit
def linen_step(
    state: train_state.TrainState, x: jax.Array, y: jax.Array
) -> tuple[train_state.TrainState, jax.Array]:
    def loss_fn(params: Any) -> jax.Array:
        return jnp.mean((state.apply_fn({"params": params}, x) - y) ** 2)

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), loss


def linen_train(state: train_state.TrainState, steps: int) -> tuple[train_state.TrainState, list]:
    x, y = data()
    losses = []
    for _ in range(steps):
        state, loss = linen_step(state, x, y)
        losses.append(float(loss))
    return state, losses


def linen_params(state: train_state.TrainState) -> dict[str, np.ndarray]:
    flat = jax.tree_util.tree_flatten_with_path(state.params)[0]
    return {jax.tree_util.keystr(k): np.asarray(v) for k, v in flat}


# --- checkpoints ------------------------------------------------------------------

# (framework, transform) pairs checkpointed mid-warmup and resumed in a fresh process.
RESUME_CASES = (("nnx", "with_warmup"), ("linen", "gi_adam"))


def save(path: str, tree: Any) -> None:
    import orbax.checkpoint as ocp

    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(path, tree)
    checkpointer.wait_until_finished()


def restore(path: str, target: Any) -> Any:
    import orbax.checkpoint as ocp

    return ocp.StandardCheckpointer().restore(path, target)


def nnx_checkpoint(model: NnxMLP, optimizer: nnx.Optimizer) -> Any:
    return {"model": nnx.state(model), "optimizer": nnx.state(optimizer)}


def run_case(
    framework: str,
    name: str,
    *,
    seed: int,
    steps: int,
    ckpt: str | None = None,
    save_to: str | None = None,
    save_after: int = 0,
) -> dict[str, np.ndarray]:
    """Set up (restoring ``ckpt`` if given) and train ``steps`` steps; return the params.

    With ``save_to`` the state is checkpointed after ``save_after`` steps and
    training goes on uninterrupted.
    """
    if framework == "nnx":
        model, optimizer = nnx_setup(name, seed)
        if ckpt is not None:
            restored = restore(ckpt, nnx_checkpoint(model, optimizer))
            nnx.update(model, restored["model"])
            nnx.update(optimizer, restored["optimizer"])
        nnx_train(model, optimizer, save_after)
        if save_to is not None:
            save(save_to, nnx_checkpoint(model, optimizer))
        nnx_train(model, optimizer, steps - save_after)
        return {**nnx_params(model), "step": np.asarray(optimizer.step[...])}
    state = linen_setup(name, seed)
    if ckpt is not None:
        state = restore(ckpt, state)
    state, _ = linen_train(state, save_after)
    if save_to is not None:
        save(save_to, state)
    state, _ = linen_train(state, steps - save_after)
    return {**linen_params(state), "step": np.asarray(state.step)}


def resume_all(ckpt_dir: str) -> dict[str, np.ndarray]:
    """Fresh objects (another seed), restored from the checkpoints, trained to the end."""
    out: dict[str, np.ndarray] = {}
    for framework, name in RESUME_CASES:
        ckpt = f"{ckpt_dir}/{framework}_{name}"
        params = run_case(framework, name, seed=123, steps=STEPS_AFTER, ckpt=ckpt)
        out.update({f"{framework}/{name}/{k}": v for k, v in params.items()})
    return out


if __name__ == "__main__":
    arrays: dict[str, Any] = resume_all(sys.argv[1])
    np.savez(sys.argv[2], **arrays)
