"""scale_by_warmup and with_warmup: golden factors, equivalence with a scaled lr, state, dtypes."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from tests import reference as ref

INT32_MAX = int(np.iinfo(np.int32).max)


def run(tx: Any, grads: list[Any], params: Any) -> tuple[list[Any], Any]:
    """Apply ``tx`` to a list of gradients; return the updates and the final state."""
    state = tx.init(params)
    out = []
    for g in grads:
        u, state = tx.update(g, state, params)
        params = optax.apply_updates(params, u)
        out.append(u)
    return out, state


def grads_seq(n: int, shape: tuple[int, ...] = (3,), seed: int = 0) -> list[jax.Array]:
    rng = np.random.default_rng(seed)
    return [jnp.asarray(rng.normal(size=shape), jnp.float32) for _ in range(n)]


@pytest.mark.parametrize(("shape", "init"), [("linear", None), ("cosine", None), ("linear", 0.1)])
def test_scale_by_warmup_golden(shape: str, init: float | None, rtol: float) -> None:
    tx: Any = ow.scale_by_warmup(6, shape=shape, init_value=init)
    ones = [jnp.ones(2)] * 9
    updates, state = run(tx, ones, jnp.zeros(2))
    want = [ref.warmup(c, 1.0, 6, shape, init) for c in range(9)]
    np.testing.assert_allclose([float(u[0]) for u in updates], want, rtol=rtol)
    assert int(state.count) == 9
    assert state.count.dtype == jnp.int32


def test_first_update_not_zero_by_default() -> None:
    params = jnp.ones(3)
    for tx in [ow.with_warmup(optax.adam(1e-3), 1000), ow.scale_by_warmup(1000)]:
        (u,), _ = run(tx, [jnp.ones(3)], params)
        assert np.all(np.abs(np.asarray(u)) > 0)


def test_schedule_as_factor(rtol: float) -> None:
    factor = ow.warmup_schedule(0.5, 4)  # any schedule, here peaking at 0.5
    updates, _ = run(ow.scale_by_warmup(factor), [jnp.ones(1)] * 6, jnp.zeros(1))
    np.testing.assert_allclose([float(u[0]) for u in updates], [0.125, 0.25, 0.375, 0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_with_warmup_equals_lr_times_factor(name: str) -> None:
    """Updates linear in the lr: wrapping equals scaling the lr by the factor."""
    lr, w, n = 0.1, 5, 8
    make = {"sgd": lambda s: optax.sgd(s, momentum=0.9), "adam": optax.adam}[name]
    factor = [ref.warmup(c, 1.0, w) for c in range(n)]
    grads = grads_seq(n)
    params = jnp.asarray([1.0, -2.0, 0.5])
    got, _ = run(ow.with_warmup(make(lr), w), grads, params)
    want, _ = run(make(lambda c: lr * jnp.asarray(factor)[c]), grads, params)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["adamw", "lion", "muon", "sgd"])
def test_wraps_any_optimizer_and_keeps_inner_state(name: str) -> None:
    tx: Any = {
        "adamw": optax.adamw(1e-2, weight_decay=0.1),
        "lion": optax.lion(1e-3),
        "muon": optax.contrib.muon(1e-2),
        "sgd": optax.sgd(0.1),
    }[name]
    params = {"w": jnp.ones((4, 3)), "b": jnp.ones(3)}
    rng = np.random.default_rng(1)
    grads = [jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), p.dtype), params)] * 2
    wrapped: Any = ow.with_warmup(tx, 4)
    # Step by step from the same state: wrapped update == factor * inner update.
    state = wrapped.init(params)
    s_inner = tx.init(params)
    wrapped_update, inner_update = jax.jit(wrapped.update), jax.jit(tx.update)
    for c, g in enumerate(grads):
        u, state = wrapped_update(g, state, params)
        v, s_inner = inner_update(g, s_inner, params)
        for a, b in zip(jax.tree.leaves(u), jax.tree.leaves(v), strict=True):
            np.testing.assert_allclose(a, (c + 1) / 4 * b, rtol=1e-6)
    # Nothing in the inner state lost or reset.
    jax.tree.map(np.testing.assert_array_equal, state.inner_state, s_inner)


def test_state_is_a_namedtuple_and_saturates() -> None:
    tx: Any = ow.with_warmup(optax.sgd(1.0), 10)
    state = tx.init(jnp.zeros(2))
    assert isinstance(state, ow.WithWarmupState)
    assert state._fields == ("count", "warmup_factor", "inner_state")
    assert float(state.warmup_factor) == pytest.approx(0.1)
    state = state._replace(count=jnp.asarray(INT32_MAX, jnp.int32))
    u, state = tx.update(jnp.ones(2), state, jnp.zeros(2))
    assert int(state.count) == INT32_MAX  # no wraparound to a negative count
    np.testing.assert_array_equal(np.asarray(u), [-1.0, -1.0])
    assert float(state.warmup_factor) == 1.0


def test_factor_not_quantised_to_bf16() -> None:
    x = jnp.asarray(np.linspace(1.0, 3.0, 64), jnp.bfloat16)
    tx: Any = ow.scale_by_warmup(3)  # first factor 1/3, not representable in bf16
    u, _ = tx.update(x, tx.init(x))
    assert u.dtype == jnp.bfloat16
    f32 = (x.astype(jnp.float32) * jnp.float32(1 / 3)).astype(jnp.bfloat16)
    quantised = x * jnp.asarray(1 / 3, jnp.bfloat16)
    np.testing.assert_array_equal(np.asarray(u, np.float32), np.asarray(f32, np.float32))
    assert np.any(np.asarray(quantised, np.float32) != np.asarray(f32, np.float32))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_param_dtypes_kept(dtype: Any) -> None:
    params = {"a": jnp.ones(3, dtype), "b": jnp.ones(2, jnp.float32)}
    tx: Any = ow.with_warmup(optax.adam(1e-2), 3)
    grads = jax.tree.map(lambda p: jnp.full_like(p, 0.5), params)
    (u, _), state = run(tx, [grads, grads], params)
    assert u["a"].dtype == dtype
    assert u["b"].dtype == jnp.float32
    assert state.inner_state[0].mu["a"].dtype == dtype
    assert state.warmup_factor.dtype == jnp.float32


def test_extra_args_pass_through() -> None:
    def init(params: Any) -> optax.EmptyState:
        return optax.EmptyState()

    def update(updates: Any, state: Any, params: Any = None, *, scale: Any) -> tuple:
        return jax.tree.map(lambda g: g * scale, updates), state

    tx: Any = ow.with_warmup(optax.GradientTransformationExtraArgs(init, update), 2)  # type: ignore[arg-type]
    u, _ = tx.update(jnp.ones(1), tx.init(jnp.ones(1)), None, scale=4.0)
    np.testing.assert_allclose(np.asarray(u), [2.0])


def test_traced_warmup_length_traces_once() -> None:
    traces = []

    @jax.jit
    def first_updates(w: jax.Array) -> jax.Array:
        traces.append(1)
        tx: Any = ow.with_warmup(optax.sgd(1.0), w)
        params = jnp.zeros(1)
        state = tx.init(params)
        u1, state = tx.update(jnp.ones(1), state, params)
        u2, _ = tx.update(jnp.ones(1), state, params)
        return jnp.concatenate([u1, u2])

    for w in [2, 4, 10]:
        np.testing.assert_allclose(np.asarray(first_updates(jnp.asarray(w))), [-1 / w, -2 / w])
    assert len(traces) == 1
    got = jax.vmap(first_updates)(jnp.asarray([2, 4, 10]))
    np.testing.assert_allclose(np.asarray(got[:, 0]), [-0.5, -0.25, -0.1], rtol=1e-6)


def test_vmap_over_b2_tied_factor() -> None:
    def first_factor(b2: jax.Array) -> jax.Array:
        tx: Any = ow.scale_by_warmup(ow.untuned_linear_warmup(b2))
        u, _ = tx.update(jnp.ones(()), tx.init(jnp.zeros(())))
        return u

    b2 = jnp.asarray([0.9, 0.99, 0.999])
    got = jax.jit(jax.vmap(first_factor))(b2)
    np.testing.assert_allclose(np.asarray(got), (1 - np.asarray(b2, np.float64)) / 2, rtol=1e-4)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="warmup_steps"):
        ow.scale_by_warmup(-3)
    with pytest.raises(ValueError, match="warmup_steps"):
        ow.with_warmup(optax.sgd(0.1), 2.5)
    with pytest.raises(ValueError, match="shape and init_value"):
        ow.scale_by_warmup(ow.warmup_factor(3), shape="cosine")
    with pytest.raises(ValueError, match="tx must be"):
        ow.with_warmup(0.1, 3)  # type: ignore[arg-type]


@settings(max_examples=20, deadline=None)
@given(w=st.integers(1, 200), c=st.integers(0, 400))
def test_linear_factor_property(w: int, c: int) -> None:
    tx: Any = ow.scale_by_warmup(w)
    state = ow.ScaleByWarmupState(jnp.asarray(c, jnp.int32), jnp.zeros(()))
    u, state = tx.update(jnp.ones(()), state)
    assert float(u) == pytest.approx(min(1.0, (c + 1) / w), rel=1e-6)
    assert float(state.warmup_factor) == pytest.approx(min(1.0, (c + 2) / w), rel=1e-6)
