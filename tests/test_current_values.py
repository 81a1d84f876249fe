"""current_values: the next update's hyperparameters through chains, wrappers and groups."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow


def floats(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(x) for k, x in values.items()}


def lin(c: int, peak: float, w: int) -> float:
    """The reference for ``ow.warmup_schedule(peak, w)``."""
    return peak * min(1.0, (c + 1) / w)


def test_chain_of_injected_and_warmed_up_transforms() -> None:
    tx: Any = optax.chain(
        ow.inject_schedules(optax.clip_by_global_norm)(max_norm=ow.linear_decay(4.0, 4)),
        ow.with_warmup(ow.inject_schedules(optax.sgd)(learning_rate=ow.warmup_schedule(0.1, 8)), 2),
    )
    params = jnp.zeros(2)
    state = tx.init(params)
    for c in range(5):
        got = floats(ow.current_values(state))
        want = {
            "0/max_norm": 4.0 * max(0.0, 1 - c / 4),
            "1/warmup_factor": min(1.0, (c + 1) / 2),
            "1/learning_rate": lin(c, 0.1, 8),
        }
        assert got == pytest.approx(want, rel=1e-6)
        _, state = tx.update(jnp.ones(2), state, params)


def test_optax_inject_hyperparams_reports_its_recorded_value() -> None:
    tx: Any = optax.inject_hyperparams(optax.sgd)(learning_rate=ow.warmup_schedule(1.0, 4))
    params = jnp.zeros(1)
    state = tx.init(params)
    assert floats(ow.current_values(state)) == {"learning_rate": 0.25}
    _, state = tx.update(jnp.ones(1), state, params)
    # Documented: optax keeps the value its last update used (0.25), not the next (0.5).
    assert floats(ow.current_values(state)) == {"learning_rate": 0.25}


def test_multisteps_counts_optimizer_steps_not_micro_batches() -> None:
    inner = ow.with_warmup(
        ow.inject_schedules(optax.sgd)(learning_rate=ow.warmup_schedule(1.0, 8)), 4
    )
    opt = optax.MultiSteps(inner, every_k_schedule=3)
    params = jnp.zeros(1)
    state: Any = opt.init(params)
    update = jax.jit(opt.update)
    for micro in range(8):
        k = micro // 3  # optimizer steps applied before this micro-batch
        got = floats(ow.current_values(state))
        want = {"warmup_factor": min(1.0, (k + 1) / 4), "learning_rate": lin(k, 1.0, 8)}
        assert got == pytest.approx(want, rel=1e-6)
        u, state = update(jnp.ones(1), state, params)
        emitted = micro % 3 == 2
        expected = -want["warmup_factor"] * want["learning_rate"] if emitted else 0.0
        assert float(u[0]) == pytest.approx(expected, rel=1e-6)
    assert int(state.inner_opt_state.count) == 2


def test_multi_transform_groups() -> None:
    params = {"embed": jnp.ones(3), "head": jnp.ones(2)}
    tx: Any = optax.multi_transform(
        {
            "embed": ow.inject_schedules(optax.sgd)(learning_rate=ow.warmup_schedule(0.1, 10)),
            "head": ow.with_warmup(optax.adam(1e-3), 5),
        },
        {"embed": "embed", "head": "head"},
    )
    state = tx.init(params)
    grads = jax.tree.map(jnp.ones_like, params)
    _, state = tx.update(grads, state, params)
    got = floats(ow.current_values(state))
    assert got == pytest.approx({"embed/learning_rate": 0.02, "head/warmup_factor": 0.4})


def test_no_schedule_gives_an_empty_dict() -> None:
    tx: Any = optax.adam(ow.warmup_schedule(1e-3, 10))  # the lr lives in a closure, not the state
    assert ow.current_values(tx.init(jnp.zeros(2))) == {}
    assert ow.current_values(()) == {}


def test_colliding_paths_keep_wrapper_fields() -> None:
    tx: Any = ow.with_warmup(ow.with_warmup(optax.sgd(1.0), 2), 4)
    got = floats(ow.current_values(tx.init(jnp.zeros(1))))
    assert got == {"warmup_factor": 0.25, "inner_state/warmup_factor": 0.5}


def test_jit_and_vmap() -> None:
    params = jnp.zeros(2)

    def values(b2: jax.Array) -> dict[str, jax.Array]:
        tx: Any = ow.with_warmup(ow.inject_schedules(optax.adam)(learning_rate=1e-3, b2=b2), 3)
        return ow.current_values(tx.init(params))

    batched = jax.jit(jax.vmap(values))(jnp.asarray([0.9, 0.99]))
    np.testing.assert_allclose(np.asarray(batched["b2"]), [0.9, 0.99], rtol=1e-7)
    np.testing.assert_allclose(np.asarray(batched["warmup_factor"]), [1 / 3, 1 / 3], rtol=1e-6)
    assert set(batched) == {"warmup_factor", "learning_rate", "b1", "b2", "eps", "eps_root"}
