"""GI-Adam against a float64 NumPy reference; state layout, jit, vmap and dtypes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow

STEPS = 5
LR = 1e-2


def gi_adam_ref(
    grads: list[np.ndarray],
    params: np.ndarray,
    lr: float,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    eps_root: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(mu, nu, update) after each step: Adam with v_0 = g_0**2 and bias correction."""
    m = np.zeros_like(params)
    v = grads[0] ** 2
    p = params.copy()
    out = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        if nesterov:
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        else:
            m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        u = -lr * (m_hat / (np.sqrt(v_hat + eps_root) + eps) + weight_decay * p)
        p = p + u
        out.append((m.copy(), v.copy(), u))
    return out


def random_grads(n: int = STEPS, size: int = 4, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = np.asarray([1e-3, 1.0, 10.0, 0.1])[:size]
    return [rng.normal(size=size) * scale for _ in range(n)]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"b1": 0.8, "b2": 0.99, "eps": 1e-6, "eps_root": 1e-10}, {"nesterov": True}],
)
def test_gi_adam_matches_reference(kwargs: dict) -> None:
    grads = random_grads()
    params = np.asarray([0.5, -1.0, 2.0, 0.0])
    want = gi_adam_ref(grads, params, LR, **kwargs)
    tx: Any = ow.gi_adam(LR, **kwargs)
    p = jnp.asarray(params, jnp.float32)
    state = tx.init(p)
    update = jax.jit(tx.update)
    for (m, v, u_ref), g in zip(want, grads, strict=True):
        u, state = update(jnp.asarray(g, jnp.float32), state, p)
        p = optax.apply_updates(p, u)
        adam_state = state[0]
        np.testing.assert_allclose(np.asarray(adam_state.mu), m, rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(np.asarray(adam_state.nu), v, rtol=1e-5, atol=1e-14)
        np.testing.assert_allclose(np.asarray(u), u_ref, rtol=1e-5, atol=1e-6 * LR)


def test_gi_adamw_matches_reference() -> None:
    grads = random_grads(seed=3)
    params = np.asarray([0.5, -1.0, 2.0, 0.3])
    want = gi_adam_ref(grads, params, LR, weight_decay=0.5)
    tx: Any = ow.gi_adamw(LR, weight_decay=0.5)
    p = jnp.asarray(params, jnp.float32)
    state = tx.init(p)
    update = jax.jit(tx.update)
    for (_, _, u_ref), g in zip(want, grads, strict=True):
        u, state = update(jnp.asarray(g, jnp.float32), state, p)
        p = optax.apply_updates(p, u)
        np.testing.assert_allclose(np.asarray(u), u_ref, rtol=1e-5, atol=1e-6 * LR)


def test_first_update_is_a_built_in_warmup() -> None:
    """With v_0 = g_0**2 the first update is lr sqrt(1 - b2) sign(g); Adam's is lr sign(g)."""
    g = jnp.asarray([3.0, -0.01])
    params = jnp.zeros(2)
    gi: Any = ow.gi_adam(1.0)
    adam: Any = optax.adam(1.0)
    u_gi, _ = gi.update(g, gi.init(params), params)
    u_adam, _ = adam.update(g, adam.init(params), params)
    np.testing.assert_allclose(np.asarray(u_gi), -np.sqrt(1 - 0.999) * np.sign(g), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(u_adam), -np.sign(g), rtol=1e-4)


def test_state_layout_matches_optax_adam() -> None:
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    gi_state: Any = ow.gi_adamw(1e-3).init(params)
    adam_state: Any = optax.adamw(1e-3).init(params)
    assert jax.tree.structure(gi_state) == jax.tree.structure(adam_state)
    assert isinstance(gi_state[0], optax.ScaleByAdamState)
    assert gi_state[0].count.dtype == jnp.int32


def test_one_trace_for_all_steps_and_hyperparameter_arrays() -> None:
    traces = []

    @jax.jit
    def step(b2: jax.Array, g: jax.Array, state: Any) -> tuple[jax.Array, Any]:
        traces.append(1)
        tx: Any = ow.scale_by_gi_adam(b2=b2)
        return tx.update(g, state)

    state: Any = ow.scale_by_gi_adam().init(jnp.zeros(4))
    for i, g in enumerate(random_grads()):
        _, state = step(jnp.asarray(0.99 + i * 1e-3), jnp.asarray(g, jnp.float32), state)
    assert len(traces) == 1
    assert int(state.count) == STEPS


def test_vmap_over_b2() -> None:
    grads = [jnp.asarray(g, jnp.float32) for g in random_grads()]

    def final_update(b2: jax.Array) -> jax.Array:
        tx: Any = ow.scale_by_gi_adam(b2=b2)
        state = tx.init(jnp.zeros(4))
        u = jnp.zeros(4)
        for g in grads:
            u, state = tx.update(g, state)
        return u

    b2s = [0.95, 0.99, 0.999]
    got = np.asarray(jax.jit(jax.vmap(final_update))(jnp.asarray(b2s)))
    for row, b2 in zip(got, b2s, strict=True):
        _, _, u_ref = gi_adam_ref([np.asarray(g) for g in grads], np.zeros(4), -1.0, b2=b2)[-1]
        np.testing.assert_allclose(row, u_ref, rtol=2e-5, atol=1e-10)


def test_bf16_params_keep_their_dtype() -> None:
    params = jnp.ones(3, jnp.bfloat16)
    tx: Any = ow.gi_adam(1e-2)
    state = tx.init(params)
    u, state = tx.update(jnp.asarray([1.0, -2.0, 0.5], jnp.bfloat16), state, params)
    assert u.dtype == jnp.bfloat16
    assert state[0].nu.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(state[0].nu, np.float32), [1.0, 4.0, 0.25])


def test_zero_first_gradient_is_finite() -> None:
    tx: Any = ow.gi_adam(1.0)
    params = jnp.zeros(2)
    state = tx.init(params)
    u, state = tx.update(jnp.zeros(2), state, params)
    np.testing.assert_array_equal(np.asarray(u), [0.0, 0.0])
    u, _ = tx.update(jnp.ones(2), state, params)
    assert np.all(np.isfinite(np.asarray(u)))
