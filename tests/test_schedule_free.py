"""Schedule-Free with warmup: one clock for the inner step and the averaging weights."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow

GRADS = np.asarray(
    [[1.0, -2.0], [0.5, 1.5], [-1.0, 0.25], [2.0, 2.0], [0.1, -0.3], [1.0, 1.0], [-0.5, 0.5]]
)


def lr_table(k: int) -> float:
    """Warmup over 3 updates (no wasted update) to 0.3, then linear decay to 0.1 over 4."""
    if k < 3:
        return 0.3 * (k + 1) / 3
    return 0.3 - 0.2 * min(k - 3, 4) / 4


def schedule() -> Any:
    return ow.add_warmup(ow.linear_decay(0.3, 4, end_value=0.1), 3)


def sgd_reference(b1: float = 0.9, power: float = 2.0) -> tuple[np.ndarray, list[float]]:
    """Schedule-Free SGD (Defazio et al. 2024) in float64, lr_k used by step and weights."""
    z = x = y = np.asarray([1.0, -1.0])
    max_lr, weight_sum = 0.0, 0.0
    for k, g in enumerate(GRADS):
        lr = lr_table(k)
        max_lr = max(max_lr, lr)
        weight = max_lr**power
        weight_sum += weight
        c = weight / weight_sum if weight_sum > 0 else 0.0
        z = z - lr * g
        x = (1 - c) * x + c * z
        y = b1 * x + (1 - b1) * z
    return y, [max_lr, weight_sum]


def run(tx: Any, steps: int = len(GRADS)) -> tuple[Any, Any]:
    params = jnp.asarray([1.0, -1.0])
    state = tx.init(params)
    update = jax.jit(tx.update)
    for g in GRADS[:steps]:
        updates, state = update(jnp.asarray(g, jnp.float32), state, params)
        params = optax.apply_updates(params, updates)
    return params, state


def test_sgd_matches_reference_on_one_clock() -> None:
    lr = schedule()
    params, state = run(ow.schedule_free(optax.sgd(lr), lr))
    y, (max_lr, weight_sum) = sgd_reference()
    np.testing.assert_allclose(params, y, rtol=1e-5)
    np.testing.assert_allclose(state.max_lr, max_lr, rtol=1e-6)
    np.testing.assert_allclose(state.weight_sum, weight_sum, rtol=1e-5)


def test_lr_applied_at_update_k_is_schedule_at_k() -> None:
    lr = schedule()
    tx: Any = ow.schedule_free(optax.sgd(lr), lr)
    ahead: Any = optax.contrib.schedule_free(optax.sgd(lr), lr)  # optax: weights one step ahead
    params = jnp.asarray([1.0, -1.0])
    state, state_ahead = tx.init(params), ahead.init(params)
    for k, g in enumerate(GRADS):
        g = jnp.asarray(g, jnp.float32)
        new_params, state_new = tx.update(g, state, params)
        # The inner SGD step on z and the averaging weight both use lr(k).
        np.testing.assert_allclose(state_new.z - state.z, -lr_table(k) * g, rtol=1e-5, atol=1e-7)
        want_max = max(lr_table(j) for j in range(k + 1))
        np.testing.assert_allclose(state_new.max_lr, want_max, rtol=1e-6)
        _, state_ahead = ahead.update(g, state_ahead, params)
        if k < 3:  # during warmup optax's weights already see lr(k + 1)
            np.testing.assert_allclose(state_ahead.max_lr, lr_table(k + 1), rtol=1e-6)
        state = state_new
        params = optax.apply_updates(params, new_params)


@pytest.mark.parametrize("make", [ow.schedule_free_sgd, ow.schedule_free_adamw])
def test_zero_warmup_still_trains(make: Any) -> None:
    params, state = run(make(0.1, warmup_steps=0), steps=1)
    assert np.all(np.asarray(params) != np.asarray([1.0, -1.0]))
    np.testing.assert_allclose(state.max_lr, 0.1, rtol=1e-6)


def test_adamw_warmup_lr_on_one_clock() -> None:
    tx: Any = ow.schedule_free_adamw(0.4, warmup_steps=4, b2=0.99, eps=1e-12)
    params = jnp.asarray([1.0, -1.0])
    state = tx.init(params)
    for k, g in enumerate(GRADS[:6]):
        g = jnp.asarray(g, jnp.float32)
        updates, new_state = tx.update(g, state, params)
        lr = 0.4 * min(1.0, (k + 1) / 4)
        np.testing.assert_allclose(new_state.max_lr, lr, rtol=1e-6)
        if k == 0:  # bias-corrected RMS of one gradient: the z step is -lr * sign(g)
            np.testing.assert_allclose(new_state.z - state.z, -lr * np.sign(g), rtol=1e-5)
        state = new_state
        params = optax.apply_updates(params, updates)


def test_schedule_learning_rate_is_multiplied_by_the_warmup() -> None:
    main = ow.linear_decay(1.0, 10)
    tx: Any = ow.schedule_free_sgd(main, warmup_steps=2)
    _, state = run(tx, steps=3)
    # lr(0) = 0.5 * 1.0, lr(1) = 1.0 * 0.9, lr(2) = 0.8: the max is lr(1).
    np.testing.assert_allclose(state.max_lr, 0.9, rtol=1e-6)
    z = np.asarray([1.0, -1.0]) - 0.5 * GRADS[0] - 0.9 * GRADS[1] - 0.8 * GRADS[2]
    np.testing.assert_allclose(state.z, z, rtol=1e-5)


def test_traced_learning_rate_one_trace_and_vmap() -> None:
    traces = 0

    @jax.jit
    def first_z(peak: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        tx: Any = ow.schedule_free_sgd(peak, warmup_steps=2)
        params = jnp.asarray([1.0, -1.0])
        _, state = tx.update(jnp.asarray(GRADS[0], jnp.float32), tx.init(params), params)
        return state.z

    np.testing.assert_allclose(first_z(jnp.asarray(0.2)), [1.0 - 0.1, -1.0 + 0.2], rtol=1e-6)
    first_z(jnp.asarray(0.4))
    assert traces == 1
    out = jax.vmap(first_z)(jnp.asarray([0.2, 0.4]))
    np.testing.assert_allclose(out[:, 0], [0.9, 0.8], rtol=1e-6)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="b1"):
        ow.schedule_free_sgd(0.1, b1=0.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        ow.schedule_free_adamw(0.1, warmup_steps=-1)
