"""Sharpness by power iteration on Hessian-vector products, plain and Adam-preconditioned."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow


def quadratic(params: Any, h: jax.Array) -> jax.Array:
    """0.5 x^T H x over the flattened params {"a": (2,), "b": (3,)}."""
    x = jnp.concatenate([params["a"], params["b"]])
    return 0.5 * x @ h @ x


def random_spd(seed: int, eigenvalues: list[float]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return (q * np.asarray(eigenvalues)) @ q.T


PARAMS = {"a": jnp.zeros(2), "b": jnp.zeros(3)}


def test_diagonal_quadratic() -> None:
    loss = lambda p, b: 0.5 * jnp.sum(b * p**2)  # noqa: E731
    s = ow.estimate_sharpness(loss, jnp.ones(3), jnp.asarray([1.0, 3.0, 10.0]))
    np.testing.assert_allclose(s, 10.0, rtol=1e-5)


def test_dense_quadratic_against_numpy() -> None:
    h = random_spd(0, [0.5, 1.0, 2.0, 4.0, 9.0])
    s = ow.estimate_sharpness(quadratic, PARAMS, jnp.asarray(h, jnp.float32), num_iterations=60)
    np.testing.assert_allclose(s, np.linalg.eigvalsh(h).max(), rtol=1e-4)


def test_logistic_regression_against_the_explicit_hessian() -> None:
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(32, 4)) * [1.0, 2.0, 0.5, 3.0], jnp.float32)
    y = jnp.asarray(rng.integers(0, 2, size=32), jnp.float32)
    w = jnp.asarray(rng.normal(size=4) * 0.1, jnp.float32)

    def loss(w: jax.Array, batch: Any) -> jax.Array:
        xb, yb = batch
        logits = xb @ w
        return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, yb))

    hess = np.asarray(jax.jit(jax.hessian(loss))(w, (x, y)), np.float64)
    s = jax.jit(lambda w, b: ow.estimate_sharpness(loss, w, b, num_iterations=100))(w, (x, y))
    np.testing.assert_allclose(s, np.linalg.eigvalsh(hess).max(), rtol=1e-4)


def test_start_vector_key_does_not_change_the_answer() -> None:
    h = jnp.asarray(random_spd(2, [1.0, 2.0, 3.0, 4.0, 12.0]), jnp.float32)
    values = [
        float(ow.estimate_sharpness(quadratic, PARAMS, h, key=jax.random.key(i), num_iterations=50))
        for i in range(3)
    ]
    np.testing.assert_allclose(values, 12.0, rtol=1e-4)


def test_preconditioned_against_numpy_eigenvalues() -> None:
    h = random_spd(3, [0.2, 1.0, 3.0, 5.0, 8.0])
    v_hat = np.asarray([0.01, 4.0, 0.25, 1.0, 9.0])
    eps = 1e-3
    p_diag = np.sqrt(v_hat) + eps
    want = np.linalg.eigvals(np.diag(1 / p_diag) @ h).real.max()
    v_tree = {"a": jnp.asarray(v_hat[:2], jnp.float32), "b": jnp.asarray(v_hat[2:], jnp.float32)}
    s = ow.estimate_preconditioned_sharpness(
        quadratic, PARAMS, jnp.asarray(h, jnp.float32), v_hat=v_tree, eps=eps, num_iterations=200
    )
    np.testing.assert_allclose(s, want, rtol=1e-4)
    # Not the plain sharpness: the preconditioner matters.
    assert abs(want - np.linalg.eigvalsh(h).max()) > 1.0


def test_preconditioner_from_an_adam_state() -> None:
    h = random_spd(4, [0.5, 1.0, 2.0, 3.0, 6.0])
    hj = jnp.asarray(h, jnp.float32)
    params = {"a": jnp.asarray([1.0, -2.0]), "b": jnp.asarray([0.5, 3.0, -1.0])}
    b2, eps = 0.95, 1e-8
    tx = optax.chain(optax.clip_by_global_norm(100.0), optax.adam(1e-3, b2=b2, eps=eps))
    state = tx.init(params)
    nu = np.zeros(5)
    grad, update = jax.jit(jax.grad(quadratic)), jax.jit(tx.update)
    for _ in range(3):
        g = grad(params, hj)
        gf = np.concatenate([np.asarray(g["a"]), np.asarray(g["b"])]).astype(np.float64)
        nu = b2 * nu + (1 - b2) * gf**2
        updates, state = update(g, state, params)
        params = optax.apply_updates(params, updates)
    p_diag = np.sqrt(nu / (1 - b2**3)) + eps
    p = ow.adam_preconditioner(state, b2=b2, eps=eps)
    got = np.concatenate([np.asarray(p["a"]), np.asarray(p["b"])])
    np.testing.assert_allclose(got, p_diag, rtol=1e-4)
    want = np.linalg.eigvals(np.diag(1 / p_diag) @ h).real.max()
    s = ow.estimate_preconditioned_sharpness(
        quadratic, params, hj, state, b2=b2, eps=eps, num_iterations=200
    )
    np.testing.assert_allclose(s, want, rtol=1e-4)


def test_before_the_first_update_the_preconditioner_is_eps() -> None:
    state = optax.adam(1e-3).init(PARAMS)
    p = ow.adam_preconditioner(state, eps=0.5)
    np.testing.assert_array_equal(p["b"], 0.5)


def test_suggest_warmup_init_is_the_stability_edge(rtol: float) -> None:
    np.testing.assert_allclose(ow.suggest_warmup_init(10.0), 0.2, rtol=rtol)
    np.testing.assert_allclose(ow.suggest_warmup_init(10.0, b1=0.9), 3.8, rtol=rtol)
    out = jax.vmap(ow.suggest_warmup_init)(jnp.asarray([1.0, 4.0]))
    np.testing.assert_allclose(out, [2.0, 0.5], rtol=rtol)
    # Gradient descent on a quadratic: stable just below 2 / sharpness, unstable above.
    h = jnp.asarray(random_spd(5, [1.0, 2.0, 5.0]), jnp.float32)
    sharp = ow.estimate_sharpness(lambda x, b: 0.5 * x @ b @ x, jnp.ones(3), h)
    lr_c = ow.suggest_warmup_init(sharp)

    def final_norm(lr: jax.Array) -> float:
        x = jnp.ones(3)
        for _ in range(60):
            x = x - lr * (h @ x)
        return float(jnp.linalg.norm(x))

    assert final_norm(0.95 * lr_c) < 1.0
    assert final_norm(1.05 * lr_c) > 10.0


def test_traced_values_stay_finite() -> None:
    out = jax.jit(ow.suggest_warmup_init)(jnp.asarray(0.0))
    assert np.isfinite(out)
    out = jax.jit(lambda b: ow.suggest_warmup_init(1.0, b1=b))(jnp.asarray(1.0))
    assert np.isfinite(out)


def test_bad_inputs() -> None:
    loss = lambda p, b: jnp.sum(p**2)  # noqa: E731
    with pytest.raises(ValueError, match="num_iterations"):
        ow.estimate_sharpness(loss, jnp.ones(2), None, num_iterations=0)
    with pytest.raises(ValueError, match="preconditioner must be shaped like params"):
        ow.estimate_sharpness(loss, jnp.ones(2), None, preconditioner=jnp.ones(3))
    with pytest.raises(ValueError, match="preconditioner"):
        ow.estimate_sharpness(loss, jnp.ones(2), None, preconditioner=jnp.zeros(2))
    with pytest.raises(ValueError, match="params"):
        ow.estimate_sharpness(loss, {}, None)
    with pytest.raises(ValueError, match="exactly one of opt_state and v_hat"):
        ow.adam_preconditioner()
    with pytest.raises(ValueError, match="found 0"):
        ow.adam_preconditioner(optax.sgd(0.1, momentum=0.9).init(jnp.ones(2)))
    two = optax.chain(optax.adam(0.1), optax.adam(0.1)).init(jnp.ones(2))
    with pytest.raises(ValueError, match="found 2"):
        ow.adam_preconditioner(two)
    with pytest.raises(ValueError, match="b2"):
        ow.adam_preconditioner(v_hat=jnp.ones(2), b2=1.0)
    with pytest.raises(ValueError, match="sharpness"):
        ow.suggest_warmup_init(0.0)
    with pytest.raises(ValueError, match="b1"):
        ow.suggest_warmup_init(1.0, b1=1.0)
