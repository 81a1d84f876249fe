"""Per-group schedules: regex and label-function selection, freezing, multipliers."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow


def make_params(dtype: Any = jnp.float32) -> dict[str, Any]:
    return {
        "embed": {"table": jnp.ones((3, 2), dtype)},
        "layers": [{"kernel": jnp.ones((2, 2), dtype), "bias": jnp.ones((2,), dtype)}] * 2,
        "head": {"kernel": jnp.ones((2, 1), dtype)},
    }


def grads_like(params: Any) -> Any:
    return jax.tree_util.tree_map(lambda p: jnp.full(p.shape, 2.0, p.dtype), params)


def test_parameter_paths() -> None:
    paths = ow.parameter_paths(make_params())
    assert paths["layers"][1]["kernel"] == "layers/1/kernel"
    assert paths["embed"]["table"] == "embed/table"


def test_regex_labels_first_match_wins_and_default() -> None:
    select = {"emb": r"^embed/", "bias": r"bias$", "first": r"^layers/0/"}
    labels = ow.group_labels(
        make_params(), select, ["emb", "bias", "first", "rest"], default="rest"
    )
    assert labels["embed"]["table"] == "emb"
    assert labels["layers"][0]["bias"] == "bias"  # "bias" comes before "first"
    assert labels["layers"][0]["kernel"] == "first"
    assert labels["layers"][1]["kernel"] == "rest"
    assert labels["head"]["kernel"] == "rest"


def test_empty_group_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="'decoder' selects no parameters"):
        ow.group_labels(
            make_params(), {"decoder": r"^decoder/"}, ["decoder", "rest"], default="rest"
        )
    tx: Any = ow.group_optimizer(
        {"decoder": 0.1, "rest": 0.1}, {"decoder": r"^decoder/"}, optax.sgd, default="rest"
    )
    with pytest.raises(ValueError, match="'decoder' selects no parameters"):
        tx.init(make_params())
    tx = ow.scale_by_group({"decoder": None, "rest": 1.0}, {"decoder": "^dec"}, default="rest")
    with pytest.raises(ValueError, match="'decoder'"):
        tx.init(make_params())
    # A default group that nothing falls into is empty too.
    with pytest.raises(ValueError, match="'rest' selects no parameters"):
        ow.group_labels({"a": 1.0}, {"a": "a"}, ["a", "rest"], default="rest")


def test_bad_selections_raise() -> None:
    params = make_params()
    with pytest.raises(ValueError, match="no group pattern matches"):
        ow.group_labels(params, {"emb": "^embed"}, ["emb"])
    with pytest.raises(ValueError, match="no schedule"):
        ow.group_labels(params, {"emb": "^embed", "x": "head"}, ["emb"], default="emb")
    with pytest.raises(ValueError, match="not a regex"):
        ow.group_labels(params, {"emb": "(["}, ["emb"], default="emb")
    with pytest.raises(ValueError, match="unknown groups"):
        ow.group_labels(params, lambda p: jax.tree_util.tree_map(lambda _: "zz", p), ["a"])
    with pytest.raises(ValueError, match="default='nope'"):
        ow.group_optimizer({"a": 0.1}, {"a": "embed"}, optax.sgd, default="nope")
    with pytest.raises(ValueError, match="make_optimizer"):
        ow.group_optimizer({"a": 0.1}, {"a": "."})
    with pytest.raises(ValueError, match="at least one group"):
        ow.scale_by_group({}, {})


def test_group_optimizer_schedules_and_freezing(rtol: float) -> None:
    params = make_params()
    warm = ow.warmup_schedule(0.4, 4)
    tx: Any = ow.group_optimizer(
        {"embed": None, "head": warm, "body": 0.1},
        {"embed": r"^embed/", "head": r"^head/"},
        optax.sgd,
        default="body",
    )
    state = tx.init(params)
    step = jax.jit(tx.update)
    g = grads_like(params)
    for k in range(6):
        updates, state = step(g, state, params)
        np.testing.assert_array_equal(np.asarray(updates["embed"]["table"]), 0.0)
        head_lr = 0.4 * min(1.0, (k + 1) / 4)  # warmup with no wasted update
        np.testing.assert_allclose(updates["head"]["kernel"], -2.0 * head_lr, rtol=rtol)
        np.testing.assert_allclose(updates["layers"][1]["bias"], -0.2, rtol=rtol)
    # The frozen group keeps no optimizer state.
    assert jax.tree_util.tree_leaves(state.inner_states["embed"]) == []


def test_group_optimizer_accepts_transformations_and_label_fn() -> None:
    params = make_params()

    def label_fn(p: Any) -> Any:
        return {"embed": "frozen", "layers": "adam", "head": "adam"}  # a prefix of params

    tx: Any = ow.group_optimizer({"frozen": None, "adam": optax.adam(0.1)}, label_fn)
    state = tx.init(params)
    updates, _ = tx.update(grads_like(params), state, params)
    np.testing.assert_array_equal(np.asarray(updates["embed"]["table"]), 0.0)
    # Adam's first update is -lr * sign(g).
    np.testing.assert_allclose(updates["head"]["kernel"], -0.1, rtol=1e-5)


def test_scale_by_group_values_and_dtype() -> None:
    params = make_params(jnp.bfloat16)
    third = np.float32(1 / 3)  # bf16(1/3) = 0.33984: quantising it first changes the result
    mult = {"frozen": None, "head": ow.warmup_factor(3), "body": third}
    tx: Any = optax.chain(
        optax.sgd(-1.0),
        ow.scale_by_group(mult, {"frozen": "^embed", "head": "^head"}, default="body"),
    )
    state = tx.init(params)
    g = jax.tree_util.tree_map(lambda p: jnp.full(p.shape, 1.015625, p.dtype), params)
    body_exact = np.asarray(jnp.asarray(np.float32(1.015625) * third, jnp.bfloat16))
    body_quantised = np.asarray(jnp.bfloat16(1.015625) * jnp.asarray(third, jnp.bfloat16))
    assert body_exact != body_quantised
    for k in range(4):
        updates, state = tx.update(g, state, params)
        assert all(u.dtype == jnp.bfloat16 for u in jax.tree_util.tree_leaves(updates))
        np.testing.assert_array_equal(np.asarray(updates["embed"]["table"], np.float32), 0.0)
        want_head = np.float32(1.015625) * np.float32(min(1.0, (k + 1) / 3))
        np.testing.assert_array_equal(
            np.asarray(updates["head"]["kernel"]), np.asarray(jnp.asarray(want_head, jnp.bfloat16))
        )
        np.testing.assert_array_equal(np.asarray(updates["layers"][0]["kernel"]), body_exact)
    assert int(state[1].count) == 4


def test_current_values_reports_next_multipliers() -> None:
    params = make_params()
    tx: Any = optax.chain(
        optax.sgd(1.0),
        ow.scale_by_group(
            {"frozen": None, "head": ow.warmup_factor(4), "body": 0.5},
            {"frozen": "^embed", "head": "^head"},
            default="body",
        ),
    )
    state = tx.init(params)
    for k in range(3):
        values = ow.current_values(state)
        assert set(values) == {"1/multiplier/frozen", "1/multiplier/head", "1/multiplier/body"}
        np.testing.assert_allclose(values["1/multiplier/head"], min(1.0, (k + 1) / 4))
        np.testing.assert_array_equal(values["1/multiplier/frozen"], 0.0)
        np.testing.assert_array_equal(values["1/multiplier/body"], 0.5)
        updates, state = tx.update(grads_like(params), state, params)
        # The value reported before the update is the one it used.
        np.testing.assert_allclose(updates["head"]["kernel"], -2.0 * min(1.0, (k + 1) / 4))


def test_scale_by_group_count_saturates() -> None:
    tx: Any = ow.scale_by_group({"a": ow.warmup_factor(2)}, {"a": "."})
    state = tx.init({"w": jnp.ones(1)})
    state = state._replace(count=jnp.asarray(np.iinfo(np.int32).max, jnp.int32))
    updates, state = tx.update({"w": jnp.ones(1)}, state)
    np.testing.assert_array_equal(updates["w"], 0.5)  # the multiplier the state held
    assert int(state.count) == np.iinfo(np.int32).max  # no wraparound to negative counts
    np.testing.assert_array_equal(state.multipliers["a"], 1.0)


def test_scale_by_group_jit_traces_once_over_multiplier_arrays() -> None:
    traces = 0

    @jax.jit
    def run(m: jax.Array, g: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        tx: Any = ow.scale_by_group({"a": ow.warmup_schedule(m, 4)}, {"a": "w"})
        updates, _ = tx.update({"w": g}, tx.init({"w": g}))
        return updates["w"]

    np.testing.assert_allclose(run(jnp.asarray(2.0), jnp.ones(2)), 0.5)
    np.testing.assert_allclose(run(jnp.asarray(4.0), jnp.ones(2)), 1.0)
    assert traces == 1
    # vmap over a sweep of multipliers.
    out = jax.vmap(run, in_axes=(0, None))(jnp.asarray([1.0, 8.0]), jnp.ones(2))
    np.testing.assert_allclose(out[:, 0], [0.25, 2.0])
