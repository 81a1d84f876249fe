"""optax_warmup.compat.t5x and .composer against float64 transcriptions of the stacks' sources.

t5x: ``ref_t5x`` follows ``step_fn`` of ``create_learning_rate_scheduler`` in
google-research/t5x ``t5x/utils.py`` at commit
cc342d419ec3e3e9c4bf1df33c82330cafdc1e16, line by line, in float64 (the cyclic
``progress % 1.0`` written with an integer remainder, its exact value).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.compat import t5x
from tests.compat_helpers import values

T5X_COMMIT = "cc342d419ec3e3e9c4bf1df33c82330cafdc1e16"
FAR = [10**6 + 7, 2**31 - 100]  # (a negative step_offset shifts up to 40 counts later)
# The engine's cosine wave takes the time in its phase as float32: exact up to 2**24.
FAR_WAVE = [10**6 + 7, 2**24 - 3]


def ref_t5x(
    step: int,
    factors: str,
    base: float,
    w: int,
    df: float,
    spd: int,
    spc: int,
    offset: int,
    min_lr: float,
) -> float:
    """t5x/utils.py@cc342d419ec3, ``step_fn``, in float64."""
    step = max(0, step - offset)
    ret = 1.0
    for name in [n.strip() for n in factors.split("*")]:
        if name == "constant":
            ret *= base
        elif name == "linear_warmup":
            ret *= min(1.0, step / w)
        elif name == "linear_decay":
            ret *= base * min(step / w, 1.0 + df * (w - step))
        elif name == "rsqrt_decay":
            ret /= math.sqrt(max(step, w))
        elif name == "rsqrt_normalized_decay":
            ret *= math.sqrt(w)
            ret /= math.sqrt(max(step, w))
        elif name == "decay_every":
            ret *= df ** (step // spd)
        elif name == "cosine_decay":
            frac = ((step - w) % spc) / spc if step > w else 0.0  # progress % 1.0
            ret *= max(0.0, 0.5 * (1.0 + math.cos(math.pi * frac)))
        else:
            raise ValueError(name)
    return max(ret, min_lr)


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    """float32 rounding: ``rtol`` relative, ``2e-7`` of the largest value absolute."""
    peak = float(np.max(np.abs(want))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=2e-7 * peak)


_T5X_STRINGS = [
    "constant * linear_warmup * rsqrt_decay",
    "constant * rsqrt_normalized_decay",
    "linear_decay",
    "constant * decay_every",
    "constant * linear_warmup * cosine_decay",
    "constant*linear_warmup*rsqrt_normalized_decay*decay_every",
    "constant * cosine_decay * decay_every",
    "rsqrt_decay",
]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    factors=st.sampled_from(_T5X_STRINGS),
    base=st.floats(0.0, 2.0),
    w=st.integers(1, 60),
    df=st.floats(0.0, 1.0),
    spd=st.integers(1, 40),
    spc=st.integers(1, 80),
    offset=st.integers(-20, 40),
    min_lr=st.sampled_from([0.0, 1e-8, 1e-4]),
)
def test_t5x_matches_the_transcription_at_every_count(
    factors: str,
    base: float,
    w: int,
    df: float,
    spd: int,
    spc: int,
    offset: int,
    min_lr: float,
) -> None:
    s = t5x.create_learning_rate_scheduler(
        factors,
        base_learning_rate=base,
        warmup_steps=w,
        decay_factor=df,
        steps_per_decay=spd,
        steps_per_cycle=spc,
        step_offset=offset,
        min_learning_rate=min_lr,
    )
    counts = list(range(256)) + (FAR_WAVE if "cosine" in factors else FAR)
    want = np.asarray([ref_t5x(k, factors, base, w, df, spd, spc, offset, min_lr) for k in counts])
    assert_close(values(s, counts), want, rtol=2e-6)


def test_t5x_defaults_and_documented_values() -> None:
    s = t5x.create_learning_rate_scheduler()
    counts = [0, 1, 500, 999, 1000, 1001, 5000, 10**6]
    want = [
        ref_t5x(
            k,
            "constant * linear_warmup * rsqrt_decay",
            0.5,
            1000,
            0.5,
            20000,
            100000,
            0,
            1e-8,
        )
        for k in counts
    ]
    assert_close(values(s, counts), np.asarray(want), rtol=2e-6)
    assert float(s(0)) == np.float32(1e-8)  # linear_warmup is 0 at the first update: the floor
    assert float(s(1000)) == pytest.approx(0.5 / math.sqrt(1000), rel=1e-6)


def test_t5x_repeated_factor_multiplies_twice_and_spaces_are_ignored() -> None:
    s = t5x.create_learning_rate_scheduler("constant*constant *  rsqrt_decay", 0.5, 4)
    assert values(s, [0, 16]) == pytest.approx([0.25 / 2, 0.25 / 4], rel=1e-6)


def test_t5x_decay_every_boundaries_are_exact_at_awkward_periods() -> None:
    # 41 * (1/41) < 1 in float32: a float division misses the boundary by one step.
    for spd in (41, 47, 55, 61, 82, 83, 94, 97, 107):
        s = t5x.create_learning_rate_scheduler(
            "decay_every", steps_per_decay=spd, min_learning_rate=0
        )
        got = values(s, [spd - 1, spd, 2 * spd - 1, 2 * spd])
        assert got.tolist() == [1.0, 0.5, 0.5, 0.25], spd


def test_t5x_cosine_restarts_on_the_cycle_boundary() -> None:
    s = t5x.create_learning_rate_scheduler(
        "cosine_decay", warmup_steps=3, steps_per_cycle=41, min_learning_rate=0
    )
    got = values(s, [0, 3, 43, 44, 3 + 41 * 1000])
    assert got[[0, 1, 3, 4]].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert got[2] == pytest.approx(0.5 * (1 + math.cos(math.pi * 40 / 41)), abs=2e-7)


def test_t5x_step_offset_holds_the_first_value_then_shifts() -> None:
    s = t5x.create_learning_rate_scheduler("constant * linear_warmup", 1.0, 4, step_offset=10)
    got = values(s, [0, 9, 10, 11, 14, 20])
    assert got.tolist() == pytest.approx([1e-8, 1e-8, 1e-8, 0.25, 1.0, 1.0])


def test_t5x_vmap_over_traced_hyperparameters_compiles_once() -> None:
    traces = 0

    def at(base: jax.Array, df: jax.Array, floor: jax.Array, w: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        s = t5x.create_learning_rate_scheduler(
            "constant * linear_warmup * rsqrt_decay * decay_every",
            base,
            w,
            decay_factor=df,
            steps_per_decay=7,
            min_learning_rate=floor,
        )
        return s(jnp.arange(64))

    f = jax.jit(jax.vmap(at))
    bases, dfs, floors, ws = [0.5, 1.0, 2.0], [0.5, 0.9, 1.0], [0.0, 1e-3, 1e-2], [1, 8, 20]
    got = np.asarray(f(*(jnp.asarray(x) for x in (bases, dfs, floors, ws))), np.float64)
    f(*(jnp.asarray(x) for x in ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.0] * 3, [2, 3, 4])))
    assert traces == 1
    for row, b, d, fl, w in zip(got, bases, dfs, floors, ws, strict=True):
        want = [
            ref_t5x(
                k,
                "constant * linear_warmup * rsqrt_decay * decay_every",
                b,
                w,
                d,
                20000 * 0 + 7,
                100000,
                0,
                fl,
            )
            for k in range(64)
        ]
        assert_close(row, np.asarray(want), rtol=2e-6)


def test_t5x_traced_offset_and_grad() -> None:
    f = jax.jit(
        lambda o: t5x.create_learning_rate_scheduler(
            "constant * linear_warmup", 1.0, 4, step_offset=o
        )(jnp.arange(8))
    )
    assert np.asarray(f(2)).tolist() == pytest.approx([1e-8, 1e-8, 1e-8, 0.25, 0.5, 0.75, 1.0, 1.0])
    g = jax.grad(
        lambda lr: t5x.create_learning_rate_scheduler(base_learning_rate=lr, warmup_steps=4)(16)
    )
    assert float(g(1.0)) == pytest.approx(0.25, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factors": "constant * cosine"}, "unknown factor 'cosine'"),
        ({"factors": "constant *"}, "unknown factor ''"),
        ({"factors": ""}, "unknown factor ''"),
        ({"warmup_steps": 0}, "warmup_steps must be >= 1 with the factor 'linear_warmup'"),
        ({"factors": "rsqrt_decay", "warmup_steps": 0}, "warmup_steps must be >= 1"),
        ({"warmup_steps": 2.5}, "warmup_steps must be a whole number"),
        ({"factors": "decay_every", "steps_per_decay": 0}, "steps_per_decay must be >= 1"),
        ({"factors": "cosine_decay", "steps_per_cycle": 0}, "steps_per_cycle must be >= 1"),
        ({"base_learning_rate": -1.0}, "base_learning_rate"),
        ({"decay_factor": float("nan")}, "decay_factor"),
        ({"min_learning_rate": -1e-3}, "min_learning_rate"),
        ({"step_offset": 1.5}, "step_offset must be a whole number"),
    ],
)
def test_t5x_bad_inputs_name_the_argument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("*", r"\*")):
        t5x.create_learning_rate_scheduler(**kwargs)


def test_t5x_zero_warmup_is_fine_where_no_factor_divides_by_it() -> None:
    s = t5x.create_learning_rate_scheduler("constant * cosine_decay", 1.0, 0, steps_per_cycle=4)
    assert values(s, range(5)).tolist() == pytest.approx(
        [ref_t5x(k, "constant * cosine_decay", 1.0, 0, 0.5, 1, 4, 0, 1e-8) for k in range(5)]
    )
    assert isinstance(s, ow.ScheduleNode)
