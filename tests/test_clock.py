"""The data clock: schedules in tokens / examples under batch ramps, exact and resumable."""

from __future__ import annotations

import bisect
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow

_EVAL = jax.jit(lambda s, c: s(c))


def values(s, n: int) -> np.ndarray:
    return np.asarray(_EVAL(s, jnp.arange(n)), np.float64)


def megatron_sizes(init: int, final: int, inc: int, ramp: int, steps: int) -> list[tuple[int, int]]:
    """(consumed before, batch size) per step, by Megatron-LM's rule, transcribed from
    megatron/core/num_microbatches_calculator.py, RampupBatchsizeNumMicroBatchesCalculator.update:
    ``final if consumed > ramp else start + int(consumed / (ramp / n)) * increment``."""
    n = (final - init) // inc
    per_inc = ramp / n
    out, consumed = [], 0
    for _ in range(steps):
        b = final if consumed > ramp else init + int(consumed / per_inc) * inc
        out.append((consumed, b))
        consumed += b
    return out


# 0.5M -> 4M tokens per step in 0.5M increments over the first 3.5B tokens.
RAMP_ARGS = (500_000, 4_000_000, 500_000, 3_500_000_000)
STEPS = 3000


def test_data_ramp_matches_megatron_step_by_step() -> None:
    ramp = ow.rampup_batch_size(*RAMP_ARGS, clock="tokens")
    sim = megatron_sizes(*RAMP_ARGS, STEPS)
    stages = ow.ramp_schedule_stages(ramp)
    for k in (0, 1, 999, 1000, 1500, STEPS - 1):
        assert stages.examples_at(k) == sim[k][0]
    # ramp_stages lists exactly the change points of the simulated sizes.
    sizes = [b for _, b in sim]
    want = [(0, sizes[0])] + [(k, sizes[k]) for k in range(1, STEPS) if sizes[k] != sizes[k - 1]]
    assert ow.ramp_stages(ramp, STEPS) == want
    assert [b for _, b in want] == list(range(500_000, 4_000_001, 500_000))
    # The ramp called with the tokens consumed gives each step's size (past 2**31
    # tokens the counts need x64).
    consumed = np.asarray([c for c, _ in sim])
    with jax.enable_x64(True):
        np.testing.assert_array_equal(np.asarray(ramp(jnp.asarray(consumed))), sizes)


@pytest.mark.parametrize("warmup_tokens", [1_000_000_000, 1_000_123_457])
def test_warmup_in_tokens_ends_at_the_step_that_crosses_it(warmup_tokens: int) -> None:
    # Written in millions of tokens (unit=1e6), so the counts fit int32 without x64.
    peak, total_tokens = 3e-4, 8_000_000_000
    w, t = warmup_tokens / 1e6, total_tokens / 1e6
    ramp = ow.rampup_batch_size(*RAMP_ARGS, clock="tokens")
    sim = megatron_sizes(*RAMP_ARGS, STEPS)
    tokens = np.asarray([c for c, _ in sim], np.float64)
    with jax.enable_x64(True):
        s_tok = ow.join(
            [
                ow.warmup_schedule(peak, warmup_tokens, init_value=0.0),
                ow.cosine_decay(peak, total_tokens - warmup_tokens, end_ratio=0.1),
            ],
            [warmup_tokens],
        )
        exact64 = values(ow.by_tokens(s_tok, ramp), STEPS)
    in_units = ow.by_tokens(
        ow.join(
            [
                ow.warmup_schedule(peak, round(w), init_value=0.0),
                ow.cosine_decay(peak, round(t - w), end_ratio=0.1),
            ],
            [round(w)],
        ),
        ramp,
        unit=1e6,
    )
    # float64 oracle at the tokens consumed before each step.
    p = np.clip((tokens - warmup_tokens) / (total_tokens - warmup_tokens), 0, 1)
    want = np.where(
        tokens < warmup_tokens,
        peak * tokens / warmup_tokens,
        peak * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * p))),
    )
    np.testing.assert_allclose(exact64, want, rtol=2e-6, atol=1e-12)
    # The warmup rises until the step whose batch crosses the warmup's token count;
    # the next step is the first of the decay, the highest value of the run.
    crossing = int(np.argmax(tokens >= warmup_tokens))
    assert tokens[crossing - 1] < warmup_tokens <= tokens[crossing]
    assert int(np.argmax(exact64)) == crossing
    assert np.all(np.diff(exact64[: crossing + 1]) > 0)
    assert exact64[crossing - 1] < peak * (1 - 1e-4)
    if warmup_tokens % 1_000_000 == 0:  # whole millions: the int32 form is the same schedule
        in32 = values(in_units, STEPS)
        np.testing.assert_allclose(in32, want, rtol=2e-6, atol=1e-12)
        assert int(np.argmax(in32)) == crossing


def test_phase_count_is_phases_plus_stages() -> None:
    ramp = ow.rampup_batch_size(*RAMP_ARGS, clock="tokens")
    s = ow.by_tokens(ow.warmup_decay_schedule(1.0, 1000, 8000), ramp, unit=1e6)
    assert isinstance(s, ow.PhaseSchedule)
    assert s.num_phases <= 3 + len(ramp.sizes)


def test_examples_under_a_step_ramp_and_a_constant() -> None:
    ramp = ow.batch_size_ramp(32, 256, 50, multiple=32)
    sizes = np.asarray(ramp(jnp.arange(400)), np.int64)
    ex = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.float64)
    s = ow.by_examples(ow.warmup_decay_schedule(1.0, 2000, 60000, init_value=0.0), ramp)
    p = np.clip((ex - 2000) / 58000, 0, 1)
    want = np.where(ex < 2000, ex / 2000, 0.5 * (1 + np.cos(np.pi * p)))
    np.testing.assert_allclose(values(s, 400), want, rtol=2e-6, atol=1e-7)
    const = ow.by_tokens(ow.linear_decay(1.0, 1000), 4, seq_len=5)  # 20 tokens per step
    want = np.maximum(1 - 20 * np.arange(60) / 1000, 0)
    np.testing.assert_allclose(values(const, 60), want, rtol=0, atol=1e-7)


def test_lr_scaling_by_stage() -> None:
    ramp = ow.data_batch_ramp({0: 256, 10_000: 1024}, clock="examples")
    base = ow.by_examples(ow.constant_schedule(1.0), ramp)
    scaled = ow.by_examples(ow.constant_schedule(1.0), ramp, lr_scaling="sqrt")
    lin = ow.by_examples(ow.constant_schedule(1.0), ramp, lr_scaling="linear", reference_size=256)
    b = np.asarray([256 if 256 * k < 10_000 else 1024 for k in range(60)], np.float64)
    np.testing.assert_array_equal(values(base, 60), 1.0)
    np.testing.assert_allclose(values(scaled, 60), np.sqrt(b / 1024), rtol=1e-7)
    np.testing.assert_allclose(values(lin, 60), b / 256, rtol=1e-7)


def _train(tx: Any, grads: Any, state: Any, params: Any, sizes: Any, seq_len: Any) -> Any:
    @jax.jit
    def step(params, state, g, b):
        u, state = tx.update(g, state, params, batch_size=b, seq_len=seq_len)
        return optax.apply_updates(params, u), state

    for g, b in zip(grads, sizes, strict=True):
        params, state = step(params, state, g, b)
    return params, state


def test_transform_clock_matches_the_ramp_schedule_and_resumes_bit_identically() -> None:
    ramp = ow.data_batch_ramp({0: 2, 40: 4, 100: 8}, clock="tokens", seq_len=5)
    stages = ow.ramp_schedule_stages(ramp)
    n = 30
    sizes = [stages.sizes[np.searchsorted(stages.steps, k, side="right") - 1] for k in range(n)]
    sched = ow.warmup_decay_schedule(0.1, 200, 1500, init_value=0.0)
    grads = [jnp.full((3,), float(k % 5) - 2.0) for k in range(n)]
    params0 = jnp.ones(3)

    # Batch sizes given to update(): the clock in the state.
    tx = ow.with_clock(optax.sgd(1.0), ow.by_tokens(sched))
    straight, st_state = _train(tx, grads, tx.init(params0), params0, sizes, 5)
    assert int(st_state.clock.tokens) == 5 * sum(sizes)
    assert int(st_state.clock.examples) == sum(sizes)
    assert int(st_state.clock.steps) == n

    # Resume mid-ramp from a serialised checkpoint: bit-identical.
    half, h_state = _train(tx, grads[:13], tx.init(params0), params0, sizes[:13], 5)
    blob = flax.serialization.to_bytes((half, h_state))
    restored: Any = flax.serialization.from_bytes((params0, tx.init(params0)), blob)
    resumed, _ = _train(tx, grads[13:], restored[1], restored[0], sizes[13:], 5)
    np.testing.assert_array_equal(np.asarray(resumed), np.asarray(straight))

    # Batch sizes read from the ramp inside the transform: the same training.
    tx_ramp = ow.with_clock(optax.sgd(1.0), ow.by_tokens(sched), batch_size=ramp)
    st = tx_ramp.init(params0)
    p = params0
    for g in grads:
        u, st = tx_ramp.update(g, st, p)
        p = optax.apply_updates(p, u)
    np.testing.assert_array_equal(np.asarray(p), np.asarray(straight))

    # The same run with the step schedule on the ramp as a plain optax learning rate.
    plain = optax.sgd(ow.by_tokens(sched, ramp))
    q, _ = _train(plain, grads, plain.init(params0), params0, sizes, 5)
    np.testing.assert_allclose(np.asarray(q), np.asarray(straight), rtol=1e-6)


def test_scale_by_clock_in_a_chain_with_lr_scaling() -> None:
    tx = optax.chain(
        optax.sgd(1.0),
        ow.scale_by_clock(
            ow.by_examples(ow.constant_schedule(2.0)), lr_scaling="linear", reference_size=8
        ),
    )
    state: Any = tx.init(jnp.zeros(1))
    u: Any
    u, state = tx.update(jnp.ones(1), state, batch_size=4)
    assert float(u[0]) == -1.0  # 2.0 * 4 / 8
    assert {k: float(x) for k, x in ow.current_values(state).items()} == {"1/clock_factor": 2.0}


def test_clock_saturates_instead_of_wrapping() -> None:
    tx = ow.scale_by_clock(ow.by_tokens(ow.constant_schedule(1.0)), seq_len=2**20)
    state: Any = tx.init(jnp.zeros(1))
    big = jnp.iinfo(jnp.int32).max - 5
    clock = state.clock._replace(tokens=jnp.asarray(big, jnp.int32))
    state = state._replace(clock=clock)
    _, state = tx.update(jnp.ones(1), state, batch_size=3)
    assert int(state.clock.tokens) == jnp.iinfo(jnp.int32).max
    assert state.clock.tokens.dtype == jnp.int32
    with jax.enable_x64(True):
        tx64 = ow.scale_by_clock(ow.by_tokens(ow.constant_schedule(1.0)), seq_len=4096)
        st: Any = tx64.init(jnp.zeros(1))
        assert st.clock.tokens.dtype == jnp.int64
        st = st._replace(clock=st.clock._replace(tokens=jnp.asarray(300 * 10**9, jnp.int64)))
        _, st = tx64.update(jnp.ones(1), st, batch_size=1024)
        assert int(st.clock.tokens) == 300 * 10**9 + 1024 * 4096


def test_traced_batch_sizes_under_jit_and_vmap() -> None:
    sched = ow.by_tokens(ow.warmup_schedule(1.0, 1000, init_value=0.0))
    tx = ow.scale_by_clock(sched, seq_len=10)

    def two_updates(b: Any) -> Any:
        state: Any = tx.init(jnp.zeros(1))
        u: Any
        _, state = tx.update(jnp.ones(1), state, batch_size=b)
        u, state = tx.update(jnp.ones(1), state, batch_size=b)
        return u[0], state.clock.tokens

    u, tok = jax.jit(jax.vmap(two_updates))(jnp.asarray([1, 5, 20]))
    np.testing.assert_allclose(np.asarray(u), [0.01, 0.05, 0.2], rtol=1e-6)
    assert np.asarray(tok).tolist() == [20, 100, 400]


def test_errors() -> None:
    s = ow.by_tokens(ow.constant_schedule(1.0))
    with pytest.raises(TypeError, match="counts tokens"):
        s(3)
    tx = ow.scale_by_clock(s)
    state = tx.init(jnp.zeros(1))
    with pytest.raises(ValueError, match="needs the batch size"):
        tx.update(jnp.ones(1), state)
    with pytest.raises(ValueError, match="needs seq_len"):
        tx.update(jnp.ones(1), state, batch_size=2)
    with pytest.raises(ValueError, match="must increase"):
        ow.data_batch_ramp({0: 2, 10: 4, 5: 8})
    with pytest.raises(ValueError, match="must start at 0"):
        ow.data_batch_ramp({5: 2})
    with pytest.raises(ValueError, match="multiple of increment"):
        ow.rampup_batch_size(2, 7, 2, 100)
    with pytest.raises(ValueError, match="cannot be cyclic"):
        ow.by_tokens(ow.cosine_restarts(1.0, 10), 4)
    with pytest.raises(ValueError, match="reference_size"):
        ow.scale_by_clock(s, lr_scaling="sqrt")
    # Without a ramp the clock counts single tokens: a unit would be silently ignored.
    with pytest.raises(ValueError, match=r"unit=1000000.0 needs the ramp"):
        ow.by_tokens(ow.constant_schedule(1.0), unit=1e6)


DONE_WHEN = (
    "linear(2Btok) > cosine(to=0.1x) @ peak=3e-4 total=300Btok "
    "batch=0.5Mtok batch_final=4Mtok batch_ramp=50Btok"
)


def test_spec_with_a_batch_ramp_is_exact_per_step() -> None:
    from optax_warmup.io import spec

    compiled = spec.compile_spec(DONE_WHEN)
    sim = megatron_sizes(500_000, 4_000_000, 500_000, 50_000_000_000, 100_000)
    tokens = np.asarray([c for c, _ in sim], np.float64)
    total = int(np.argmax(tokens >= 300e9))
    assert compiled.total_steps == total
    assert compiled.batch_ramp.sizes == tuple(range(500_000, 4_000_001, 500_000))
    got = values(compiled.schedule, total + 10)
    t = tokens[: total + 10]
    p = np.clip((t - 2e9) / 298e9, 0, 1)
    # The spec's warmup wastes no update: count c gets peak (c + 1) / D, c in tokens.
    want = np.where(
        t < 2e9, 3e-4 * (t + 1) / 2e9, 3e-4 * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * p)))
    )
    np.testing.assert_allclose(got, want, rtol=3e-6, atol=1e-12)
    assert int(np.argmax(got)) == int(np.argmax(t >= 2e9 - 1))


def test_cli_show_under_a_batch_ramp(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from optax_warmup.io import cli

    assert cli.main(["show", DONE_WHEN, "--json", "--no-plot"]) == 0
    data = json.loads(capsys.readouterr().out)
    sim = megatron_sizes(500_000, 4_000_000, 500_000, 50_000_000_000, 100_000)
    tokens = np.asarray([c for c, _ in sim])
    assert data["steps"] == int(np.argmax(tokens >= 300 * 10**9))
    assert data["warmup_steps"] == int(np.argmax(tokens >= 2 * 10**9 - 1))
    assert data["peak"] == pytest.approx(3e-4)
    # The ramp's stages cut the cosine into pieces; it is still one phase.
    labels = [p["label"] for p in data["points"]]
    assert sum("cosine starts" in label for label in labels) == 1


def test_spec_ramp_over_a_percentage_of_the_run() -> None:
    a = ow.parse_spec(
        "linear(1Btok) > cosine @ total=40Btok batch=1Mtok batch_final=4Mtok batch_ramp=25%"
    )
    b = ow.parse_spec(
        "linear(1Btok) > cosine @ total=40Btok batch=1Mtok batch_final=4Mtok batch_ramp=10Btok"
    )
    np.testing.assert_array_equal(values(a, 12_000), values(b, 12_000))


def test_spec_ramp_errors() -> None:
    with pytest.raises(ow.SpecError, match="no fixed amount of data"):
        ow.parse_spec("linear(2000) > cosine @ total=10Btok batch=1Mtok batch_ramp=1Btok")
    with pytest.raises(ow.SpecError, match="needs batch="):
        ow.parse_spec("linear(2Btok) > cosine @ total=10Btok batch_final=1Mtok")
    with pytest.raises(ow.SpecError, match="whole number"):
        ow.parse_spec("linear(2Btok) > cosine @ total=10Btok batch=1Mtok seq_len=3")


_SHAPES = ("linear", "cosine", "1-sqrt", "exponential")


@settings(max_examples=8, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    gaps=st.lists(st.integers(1, 300), min_size=4, max_size=4),
    seq_len=st.integers(1, 4),
    warm=st.integers(0, 400),
    decay=st.integers(1, 2000),
    shape=st.sampled_from(_SHAPES),
    rsqrt=st.booleans(),
)
def test_on_ramp_equals_the_schedule_at_the_data_consumed(
    sizes: list[int],
    gaps: list[int],
    seq_len: int,
    warm: int,
    decay: int,
    shape: str,
    rsqrt: bool,
) -> None:
    thresholds = np.cumsum([0, *gaps[: len(sizes) - 1]]).tolist()
    ramp = ow.data_batch_ramp(dict(zip(thresholds, sizes, strict=True)), seq_len=seq_len)
    if rsqrt:  # an open-ended shape whose parameter is a duration (tau)
        s = ow.join([ow.warmup_schedule(1.0, warm), ow.inverse_sqrt_decay(1.0, 50)], [warm])
    else:
        s = ow.warmup_decay_schedule(1.0, warm, warm + decay, decay_shape=shape, end_ratio=0.1)
    on_ramp = ow.by_tokens(s, ramp)
    n = 300
    stages = ow.ramp_schedule_stages(ramp)
    tokens = np.asarray([stages.examples_at(k) * seq_len for k in range(n)])
    # The ramp itself, step by step: each step's size is set by the tokens before it.
    for k in range(1, n):
        size = sizes[bisect.bisect_right(thresholds, int(tokens[k - 1])) - 1]
        assert tokens[k] - tokens[k - 1] == seq_len * size
    got = values(on_ramp, n)
    want = np.asarray(_EVAL(s, jnp.asarray(tokens)), np.float64)
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-6)


DONE_WHEN_CONFIG = {
    "kind": "by_tokens",
    "unit": 1e6,
    "batch": "0.5Mtok",
    "batch_final": "4Mtok",
    "batch_ramp": "50B tokens",
    "schedule": {
        "kind": "warmup_decay_schedule",
        "peak_value": 3e-4,
        "warmup_steps": "2B tokens",
        "total_steps": "300B tokens",
        "init_value": 0.0,
        "end_ratio": 0.1,
    },
}


def test_config_with_a_batch_ramp(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from optax_warmup.io import cli

    s = ow.from_config(DONE_WHEN_CONFIG)
    spec = ow.parse_spec(DONE_WHEN)
    n = 99_545
    got, ref = values(s, n), values(spec, n)
    # Same run: the config's warmup uses the optax convention, the spec's wastes no
    # update (one token ahead), a difference far below float32 resolution here.
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-12)
    again = ow.from_config(ow.to_config(s))
    np.testing.assert_array_equal(values(again, n), got)
    assert cli.main(["show", json.dumps(DONE_WHEN_CONFIG), "--json", "--no-plot"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"] == 99_542
    assert data["warmup_steps"] == 4_000
    with pytest.raises(ValueError, match="takes no key 'batch_size'"):
        ow.from_config({**DONE_WHEN_CONFIG, "batch_size": 3})
