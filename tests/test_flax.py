"""The library's transforms in Flax NNX and Linen, and checkpoint/resume with orbax."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import optax_warmup as ow
from tests import flax_training as ft

NAMES = list(ft.transforms())
STEPS = 4


def functional_run(name: str, seed: int, steps: int) -> dict[str, np.ndarray]:
    """The same training as the NNX loop, written with plain optax on a pure param dict."""
    model = ft.NnxMLP(nnx.Rngs(seed))
    graphdef, state = nnx.split(model)
    params = nnx.to_pure_dict(state)
    tx: Any = ft.transforms()[name]()
    opt_state = tx.init(params)
    x, y = ft.data()

    @jax.jit
    def step(params: Any, opt_state: Any) -> tuple[Any, Any]:
        def loss(p: Any) -> jax.Array:
            m = nnx.merge(graphdef, nnx.State(p))
            return jnp.mean((m(x) - y) ** 2)

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(steps):
        params, opt_state = step(params, opt_state)
    flat = jax.tree_util.tree_flatten_with_path(params)[0]
    return {jax.tree_util.keystr(k): np.asarray(v) for k, v in flat}


@pytest.mark.parametrize("name", NAMES)
def test_nnx_optimizer_matches_plain_optax(name: str) -> None:
    model, optimizer = ft.nnx_setup(name, seed=0)
    before = ft.nnx_params(model)
    losses = ft.nnx_train(model, optimizer, STEPS)
    after = ft.nnx_params(model)
    want = functional_run(name, seed=0, steps=STEPS)
    assert after.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(after[k], want[k], rtol=1e-6, atol=1e-7, err_msg=k)
    assert int(optimizer.step[...]) == STEPS
    assert losses[-1] < losses[0]
    if name == "with_warmup":  # the warmup factor the next update will use, read through NNX
        values = ow.current_values(nnx.as_pure(optimizer.opt_state))
        np.testing.assert_allclose(values["warmup_factor"], (STEPS + 1) / ft.WARMUP, rtol=1e-6)
    frozen = name == "groups"
    for k in before:
        moved = not np.array_equal(before[k], after[k])
        assert moved != (frozen and "l1" in k), k


@pytest.mark.parametrize("name", ["groups", "schedule_free"])
def test_linen_train_state(name: str) -> None:
    state = ft.linen_setup(name, seed=0)
    before = ft.linen_params(state)
    state, losses = ft.linen_train(state, STEPS)
    after = ft.linen_params(state)
    assert int(state.step) == STEPS
    assert losses[-1] < losses[0]
    for k in before:
        moved = not np.array_equal(before[k], after[k])
        assert moved != (name == "groups" and "l1" in k), k


def test_checkpoint_mid_warmup_resumes_bit_identically_in_a_fresh_process(tmp_path: Path) -> None:
    assert ft.STEPS_BEFORE < ft.WARMUP  # the checkpoint is taken mid-warmup
    uninterrupted: dict[str, np.ndarray] = {}
    for framework, name in ft.RESUME_CASES:
        params = ft.run_case(
            framework,
            name,
            seed=0,
            steps=ft.STEPS_BEFORE + ft.STEPS_AFTER,
            save_to=str(tmp_path / f"{framework}_{name}"),
            save_after=ft.STEPS_BEFORE,
        )
        uninterrupted.update({f"{framework}/{name}/{k}": v for k, v in params.items()})

    out = tmp_path / "resumed.npz"
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(root / "tests" / "flax_training.py"), str(tmp_path), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    resumed = dict(np.load(out))
    assert resumed.keys() == uninterrupted.keys()
    for k, v in uninterrupted.items():
        np.testing.assert_array_equal(resumed[k], v, err_msg=k)
    assert all(
        int(resumed[k]) == ft.STEPS_BEFORE + ft.STEPS_AFTER for k in resumed if k.endswith("/step")
    )
