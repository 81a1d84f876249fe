"""Integer ramps (batch size, sequence length) and their stages."""

from __future__ import annotations

from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow


@jax.jit
def evaluate(ramp: Any, counts: Any) -> jax.Array:
    """The ramp at the counts, compiled once per ramp structure (eager op-by-op is slow)."""
    return ramp(jnp.asarray(counts))


def ramp_reference(
    counts: np.ndarray, init: int, final: int, steps: int, multiple: int, rounding: str = "nearest"
) -> np.ndarray:
    """Linear ramp init -> final over steps, rounded to a multiple, clamped to [multiple, final]."""
    c = np.maximum(counts, 0).astype(np.float64)
    x = np.where(c < steps, init + (final - init) * c / max(steps, 1), final)
    q = x / multiple
    k = {"nearest": np.floor(q + 0.5), "floor": np.floor(q), "ceil": np.ceil(q)}[rounding]
    return np.clip(k * multiple, multiple, final).astype(np.int64)


def stages_reference(values: np.ndarray) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for i, x in enumerate(values.tolist()):
        if not out or out[-1][1] != x:
            out.append((i, x))
    return out


def test_gpt3_batch_ramp_golden() -> None:
    # GPT-3 175B: 32k tokens -> 3.2M tokens (1536 sequences of 2048), in whole sequences.
    ramp = ow.batch_size_ramp(16 * 2048, 1536 * 2048, 1000, multiple=2048)
    counts = np.arange(-2, 1100)
    got = np.asarray(evaluate(ramp, counts))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ramp_reference(counts, 16 * 2048, 1536 * 2048, 1000, 2048))
    assert got[-1] == 3_145_728
    assert np.all(got % 2048 == 0)


@pytest.mark.parametrize("rounding", ["nearest", "floor", "ceil"])
def test_sequence_length_warmup_golden(rounding: Any) -> None:
    # Li et al. 2022: linear from a short length to the full one, multiples of 8.
    ramp = ow.sequence_length_ramp(64, 2048, 3000, rounding=rounding)
    counts = np.arange(0, 3200)
    got = np.asarray(evaluate(ramp, counts))
    np.testing.assert_array_equal(got, ramp_reference(counts, 64, 2048, 3000, 8, rounding))


def test_shapes_and_integer_ramp_of_any_schedule() -> None:
    ramp = ow.sequence_length_ramp(8, 136, 10, shape="cosine")
    want = [
        8 * np.floor((8 + 128 * (1 - np.cos(np.pi * c / 10)) / 2) / 8 + 0.5) if c < 10 else 136
        for c in range(12)
    ]
    np.testing.assert_array_equal(
        np.asarray(evaluate(ramp, np.arange(12))), np.asarray(want, np.int64)
    )
    # Any schedule, with explicit bounds: a decay rounded to multiples of 5 within [10, 40].
    r = ow.integer_ramp(ow.linear_decay(50.0, 10), multiple=5, minimum=10, maximum=40)
    got = np.asarray(evaluate(r, np.arange(12)))
    want = np.clip(5 * np.floor((50 - 5 * np.arange(12.0)).clip(0) / 5 + 0.5), 10, 40)
    np.testing.assert_array_equal(got, want.astype(np.int64))


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
def test_ramp_stages(chunk_size: int) -> None:
    ramp = ow.batch_size_ramp(32, 512, 97, multiple=32)
    n = 150
    want = stages_reference(ramp_reference(np.arange(n), 32, 512, 97, 32))
    got = ow.ramp_stages(ramp, n, chunk_size=chunk_size)
    assert got == want
    assert len(got) == 16  # 32, 64, ..., 512: one compile each
    assert all(isinstance(s, int) and isinstance(x, int) for s, x in got)


def test_ramp_stages_of_a_cyclic_ramp_and_truncated_runs() -> None:
    tri = ow.join(
        [ow.warmup_schedule(20.0, 5, init_value=4.0), ow.linear_decay(20.0, 5, end_value=4.0)], [5]
    )
    assert isinstance(tri, ow.PhaseSchedule)
    ramp = ow.integer_ramp(ow.cyclic(tri), multiple=4)
    values = np.asarray(evaluate(ramp, np.arange(40)))
    assert len(set(values.tolist())) == 5  # 4, 8, ..., 20: five compiles
    got = ow.ramp_stages(ramp, 40, chunk_size=6)
    assert got == stages_reference(values)
    assert len(got) > 5  # values come back each cycle: more stages than compiles
    # Fewer steps than the ramp: only the stages reached.
    long_ramp = ow.sequence_length_ramp(8, 1024, 10_000)
    assert ow.ramp_stages(long_ramp, 3) == [(0, 8)]


def test_ramp_stages_long_run() -> None:
    n, steps = 1_200_000, 1_000_000
    ramp = ow.sequence_length_ramp(64, 2048, steps)
    got = ow.ramp_stages(ramp, n, chunk_size=1 << 19)
    assert [x for _, x in got] == list(range(64, 2049, 8))
    # Exactly the change points of the ramp itself...
    assert got == stages_reference(np.asarray(evaluate(ramp, np.arange(n))))
    # ...which are those of the float64 formula, up to one step where float32
    # progress (c / 1e6) cannot resolve a rounding boundary.
    starts = np.asarray([s for s, _ in got[1:]])
    values = np.asarray([x for _, x in got[1:]])
    exact = ramp_reference(np.arange(n), 64, 2048, steps, 8)
    want = np.searchsorted(exact, values, side="left")
    assert np.max(np.abs(starts - want)) <= 1


@jax.jit
def _batch_ramp_values(init: jax.Array, final: jax.Array, steps: jax.Array, multiple: jax.Array):
    return ow.batch_size_ramp(init, final, steps, multiple=multiple)(jnp.arange(-1, 304))


@settings(max_examples=25, deadline=None)
@given(
    init=st.integers(1, 500),
    extra=st.integers(0, 4000),
    steps=st.integers(0, 300),
    multiple=st.sampled_from([1, 2, 8, 64]),
)
def test_ramp_properties(init: int, extra: int, steps: int, multiple: int) -> None:
    final = multiple * max(1, -(-(init + extra) // multiple))
    init = min(init, final)
    got = np.asarray(_batch_ramp_values(init, final, steps, multiple))  # one compile for all
    assert np.all(got % multiple == 0)
    assert np.all((got >= multiple) & (got <= final))
    assert np.all(np.diff(got) >= 0)
    assert got[steps + 1] == final  # count == steps
    assert got[0] == got[1] == ramp_reference(np.zeros(1), init, final, steps, multiple)[0]


def test_traced_hyperparameters_vmap_and_one_trace() -> None:
    traces = 0

    @jax.jit
    def at(final: jax.Array, steps: jax.Array, count: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return ow.batch_size_ramp(32, final, steps, multiple=32)(count)

    assert int(at(jnp.asarray(256), jnp.asarray(4), jnp.asarray(1))) == 96
    assert int(at(jnp.asarray(512), jnp.asarray(8), jnp.asarray(4))) == 288
    assert traces == 1
    out = jax.vmap(at, in_axes=(0, 0, None))(jnp.asarray([256, 512]), jnp.asarray([4, 8]), 4)
    np.testing.assert_array_equal(out, [256, 288])


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="multiple"):
        ow.batch_size_ramp(32, 256, 10, multiple=0)
    with pytest.raises(ValueError, match="final_size=250 must be a multiple of multiple=32"):
        ow.batch_size_ramp(32, 250, 10, multiple=32)
    with pytest.raises(ValueError, match="init_length must not exceed final_length"):
        ow.sequence_length_ramp(4096, 2048, 10)
    with pytest.raises(ValueError, match="init_size"):
        ow.batch_size_ramp(0, 256, 10)
    with pytest.raises(ValueError, match="ramp_steps"):
        ow.batch_size_ramp(32, 256, -1)
    with pytest.raises(ValueError, match="rounding"):
        ow.integer_ramp(1.0, rounding=cast(Any, "up"))
    with pytest.raises(ValueError, match="minimum must not exceed maximum"):
        ow.integer_ramp(1.0, minimum=8, maximum=4)
    with pytest.raises(ValueError, match="num_steps"):
        ow.ramp_stages(ow.integer_ramp(1.0), 0)
