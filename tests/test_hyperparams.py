"""inject_schedules: next-update values, float32 hyperparameters for bf16 params, recipes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow


def quarter(c: int) -> float:
    """The reference for ``ow.warmup_schedule(1.0, 4)``."""
    return min(1.0, (c + 1) / 4)


def test_state_holds_the_next_updates_values() -> None:
    sched = ow.warmup_schedule(1.0, 4)
    ours: Any = ow.inject_schedules(optax.sgd)(learning_rate=sched)
    theirs: Any = optax.inject_hyperparams(optax.sgd)(learning_rate=sched)
    p = jnp.zeros(1)
    s_ours, s_theirs = ours.init(p), theirs.init(p)
    for k in range(6):
        assert float(s_ours.hyperparams["learning_rate"]) == pytest.approx(quarter(k))
        u, s_ours = ours.update(jnp.ones(1), s_ours, p)
        assert float(u[0]) == pytest.approx(-quarter(k))  # the value it reported
        _, s_theirs = theirs.update(jnp.ones(1), s_theirs, p)
        # optax records the value just used: one step behind the next update's.
        assert float(s_theirs.hyperparams["learning_rate"]) == pytest.approx(quarter(k))
    assert int(s_ours.count) == 6


def test_bf16_params_keep_float32_hyperparameters() -> None:
    params = jnp.ones(3, jnp.bfloat16)
    g = jnp.asarray([1.0, -2.0, 0.5], jnp.bfloat16)
    ours: Any = ow.inject_schedules(optax.adam)(learning_rate=1e-2, b2=0.999)
    state = ours.init(params)
    assert state.hyperparams["b2"].dtype == jnp.float32
    assert float(state.hyperparams["b2"]) == pytest.approx(0.999)  # not 1.0
    u, state = ours.update(g, state, params)
    assert u.dtype == jnp.bfloat16
    adam_state = state.inner_state[0]
    assert adam_state.mu.dtype == jnp.bfloat16
    assert adam_state.nu.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(u, np.float32), -1e-2 * np.sign(g), rtol=1e-2)
    # optax.inject_hyperparams rounds b2 to the params' dtype: 1.0, a broken bias correction.
    theirs: Any = optax.inject_hyperparams(optax.adam)(learning_rate=1e-2, b2=0.999)
    assert float(theirs.init(params).hyperparams["b2"]) == 1.0


def test_momentum_warmup_golden() -> None:
    """b1 0.85 -> 0.95 over 300 steps, used at the right count by SGD's momentum."""
    b1 = ow.warmup_schedule(0.95, 300, init_value=0.85)
    tx: Any = ow.inject_schedules(optax.sgd)(learning_rate=1.0, momentum=b1)
    p = jnp.zeros(1)
    state = tx.init(p)
    trace = 0.0
    for c in range(4):
        mom = 0.85 + 0.1 * c / 300
        assert float(state.hyperparams["momentum"]) == pytest.approx(mom, rel=1e-6)
        u, state = tx.update(jnp.ones(1), state, p)
        trace = 1.0 + mom * trace
        assert float(u[0]) == pytest.approx(-trace, rel=1e-6)
    state = state._replace(count=jnp.asarray(299))
    _, state = tx.update(jnp.ones(1), state, p)
    assert float(state.hyperparams["momentum"]) == pytest.approx(0.95)


@pytest.mark.parametrize("rate", [0.8, 0.5])
def test_adafactor_b2_golden(rate: float, rtol: float) -> None:
    counts = np.asarray([0, 1, 2, 9, 99, 9999])
    got = np.asarray(jax.jit(ow.adafactor_b2(rate).__call__)(jnp.asarray(counts)), np.float64)
    np.testing.assert_allclose(got, 1 - (counts + 1.0) ** -rate, rtol=rtol, atol=1e-7)


def test_adafactor_b2_drives_the_second_moment() -> None:
    tx: Any = ow.inject_schedules(optax.scale_by_rms)(decay=ow.adafactor_b2(), eps=0.0)
    g1, g2 = jnp.asarray([2.0, -1.0]), jnp.asarray([1.0, 3.0])
    state = tx.init(jnp.zeros(2))
    _, state = tx.update(g1, state)
    np.testing.assert_allclose(np.asarray(state.inner_state.nu), [4.0, 1.0])  # b2 = 0
    _, state = tx.update(g2, state)
    b2 = 1 - 2**-0.8
    want = b2 * np.asarray([4.0, 1.0]) + (1 - b2) * np.asarray([1.0, 9.0])
    np.testing.assert_allclose(np.asarray(state.inner_state.nu), want, rtol=1e-6)


def test_weight_decay_fixed_and_tied_to_lr() -> None:
    lr = ow.warmup_schedule(1e-2, 4)
    params = jnp.asarray([1.0, -2.0])
    zero = jnp.zeros(2)
    fixed: Any = ow.inject_schedules(optax.adamw)(learning_rate=lr, weight_decay=0.1)
    tied: Any = ow.inject_schedules(optax.adamw)(
        learning_rate=lr, weight_decay=ow.tied_to_lr(0.1, lr, 1e-2)
    )
    s_fixed, s_tied = fixed.init(params), tied.init(params)
    for c in range(5):
        lr_c = 1e-2 * quarter(c)
        assert float(s_tied.hyperparams["weight_decay"]) == pytest.approx(0.1 * quarter(c))
        u, s_fixed = fixed.update(zero, s_fixed, params)  # no gradient: decay only
        np.testing.assert_allclose(np.asarray(u), -lr_c * 0.1 * params, rtol=1e-5)
        u, s_tied = tied.update(zero, s_tied, params)
        np.testing.assert_allclose(np.asarray(u), -lr_c * 0.1 * quarter(c) * params, rtol=1e-5)


def test_clip_threshold_schedule() -> None:
    max_norm = ow.linear_decay(10.0, 4, end_value=2.0)  # 10, 8, 6, 4, 2, 2
    tx: Any = ow.inject_schedules(optax.clip_by_global_norm)(max_norm=max_norm)
    g = jnp.asarray([12.0, 16.0])  # norm 20
    state = tx.init(g)
    for want in [10.0, 8.0, 6.0, 4.0, 2.0, 2.0]:
        u, state = tx.update(g, state)
        assert float(jnp.linalg.norm(u)) == pytest.approx(want, rel=1e-6)


def test_one_trace_for_many_hyperparameter_arrays_and_vmap() -> None:
    traces = []
    params = jnp.ones(2)

    @jax.jit
    def two_steps(lr: jax.Array, b2: jax.Array) -> jax.Array:
        traces.append(1)
        tx: Any = ow.inject_schedules(optax.adam)(learning_rate=ow.warmup_schedule(lr, 10), b2=b2)
        state = tx.init(params)
        _, state = tx.update(jnp.asarray([1.0, 2.0]), state, params)
        u, state = tx.update(jnp.asarray([2.0, -1.0]), state, params)
        return u

    outs = [two_steps(jnp.asarray(lr), jnp.asarray(b2)) for lr, b2 in [(1e-3, 0.9), (1e-2, 0.99)]]
    assert len(traces) == 1
    batched = jax.vmap(two_steps)(jnp.asarray([1e-3, 1e-2]), jnp.asarray([0.9, 0.99]))
    np.testing.assert_allclose(np.asarray(batched), np.stack(outs), rtol=1e-6)
    # Second update: lr_1 = 2 lr / 10, Adam's direction from the two gradients.
    for lr, b2, u in [(1e-3, 0.9, outs[0]), (1e-2, 0.99, outs[1])]:
        g1, g2 = np.asarray([1.0, 2.0]), np.asarray([2.0, -1.0])
        m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1 - 0.9**2)
        v = (b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2) / (1 - b2**2)
        np.testing.assert_allclose(np.asarray(u), -0.2 * lr * m / (np.sqrt(v) + 1e-8), rtol=1e-5)


def test_unscheduled_values_may_be_edited() -> None:
    tx: Any = ow.inject_schedules(optax.sgd)(learning_rate=0.5)
    p = jnp.zeros(1)
    state = tx.init(p)
    state.hyperparams["learning_rate"] = jnp.asarray(0.25)
    u, state = tx.update(jnp.ones(1), state, p)
    assert float(u[0]) == -0.25
    assert float(state.hyperparams["learning_rate"]) == 0.25


def test_static_callables_and_extra_args() -> None:
    def mask(p: Any) -> Any:
        return {"w": True, "b": False}

    params = {"w": jnp.ones(2), "b": jnp.ones(2)}
    tx: Any = ow.inject_schedules(optax.adamw, static_args="mask")(
        learning_rate=1.0, weight_decay=0.5, mask=mask
    )
    zeros = jax.tree.map(jnp.zeros_like, params)
    u, _ = tx.update(zeros, tx.init(params), params)
    np.testing.assert_allclose(np.asarray(u["w"]), [-0.5, -0.5])
    np.testing.assert_allclose(np.asarray(u["b"]), [0.0, 0.0])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="static_args"):
        ow.inject_schedules(optax.adam, static_args="not_an_argument")
    with pytest.raises(ValueError, match="decay_rate"):
        ow.adafactor_b2(0.0)
    with pytest.raises(ValueError, match="peak_lr"):
        ow.tied_to_lr(0.1, 1e-3, 0.0)
    with pytest.raises(ValueError, match="value"):
        ow.tied_to_lr(float("nan"), 1e-3, 1e-3)
