"""The optax drop-in names against optax 0.2.8 itself, and their documented differences."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from tests.jaxpr_size import traced_size

DROPINS = (
    "linear_schedule",
    "polynomial_schedule",
    "cosine_decay_schedule",
    "exponential_decay",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
    "linear_onecycle_schedule",
    "cosine_onecycle_schedule",
    "sgdr_schedule",
    "join_schedules",
)


COUNTS = np.arange(-5, 200)
PAD = 256  # every evaluation uses one count shape, so compiled programs and op caches are reused

_evaluate = jax.jit(lambda schedule, counts: schedule(counts))


def _padded(counts: Any) -> tuple[jax.Array, int]:
    c = np.asarray(counts).reshape(-1)
    return jnp.asarray(np.pad(c, (0, PAD - c.size))), c.size


def ours(schedule: Any, counts: Any) -> np.ndarray:
    """The drop-in's values (a schedule is a pytree, so one jitted evaluator serves them all)."""
    c, n = _padded(counts)
    return np.asarray(_evaluate(schedule, c), dtype=np.float64)[:n]


def theirs(schedule: Any, counts: Any) -> np.ndarray:
    """optax's values; vmapped because some optax schedules only take a scalar count."""
    c, n = _padded(counts)
    out = jax.vmap(lambda c: jnp.asarray(schedule(c), jnp.float32) + 0 * c)(c)
    return np.asarray(out, dtype=np.float64)[:n]


def sgdr_cycles(m: Any) -> Any:
    return m.sgdr_schedule(
        [
            dict(init_value=0.0, peak_value=1.0, warmup_steps=3, decay_steps=20),
            dict(
                init_value=0.1,
                peak_value=0.5,
                warmup_steps=0,
                decay_steps=15,
                end_value=0.01,
                exponent=2.0,
            ),
            dict(init_value=0.0, peak_value=0.25, warmup_steps=5, decay_steps=10, end_value=0.02),
        ]
    )


def joined(m: Any) -> Any:
    pieces = [
        m.linear_schedule(0.0, 1.0, 5),
        m.cosine_decay_schedule(1.0, 20, 0.1),
        m.exponential_decay(0.5, 3, 0.5),
    ]
    return m.join_schedules(pieces, [5, 25])


# (id, factory taking the module (optax_warmup or optax), length N, equal at negative counts)
CASES: list[tuple[str, Callable[[Any], Any], int, bool]] = [
    ("linear", lambda m: m.linear_schedule(1.0, 0.1, 30), 30, True),
    ("linear_begin", lambda m: m.linear_schedule(0.2, 1.5, 30, 7), 37, True),
    ("linear_warmup", lambda m: m.linear_schedule(0.0, 3e-4, 100), 100, True),
    ("polynomial", lambda m: m.polynomial_schedule(1.0, 0.1, 2.5, 30, 4), 34, True),
    ("polynomial_sqrt", lambda m: m.polynomial_schedule(1.0, 0.0, 0.5, 30), 30, True),
    ("polynomial_int_power", lambda m: m.polynomial_schedule(0.0, 2.0, 3, 16, 2), 18, True),
    ("exponential", lambda m: m.exponential_decay(1.0, 7, 0.5), 60, True),
    ("exponential_staircase", lambda m: m.exponential_decay(2.0, 5, 0.7, 6, True, 0.5), 60, True),
    ("exponential_growth", lambda m: m.exponential_decay(0.1, 5, 1.5, 3, False, 0.4), 60, True),
    ("exponential_end_above", lambda m: m.exponential_decay(1.0, 2, 0.5, 3, False, 2.0), 9, True),
    ("exponential_rate_one", lambda m: m.exponential_decay(1.0, 3, 1.0, 0, False, 0.5), 9, True),
    ("cosine", lambda m: m.cosine_decay_schedule(1.0, 40), 40, False),
    ("cosine_alpha_exponent", lambda m: m.cosine_decay_schedule(2.0, 40, 0.1, 2.0), 40, False),
    ("cosine_alpha_above_one", lambda m: m.cosine_decay_schedule(1.0, 10, 1.5), 10, False),
    (
        "piecewise_constant",
        lambda m: m.piecewise_constant_schedule(1.0, {20: 0.1, 10: 0.5, 25: 2.0}),
        25,
        True,
    ),
    (
        "piecewise_constant_zero_key",
        lambda m: m.piecewise_constant_schedule(1.0, {0: 0.5, 20: 0.1}),
        20,
        False,
    ),
    ("piecewise_constant_none", lambda m: m.piecewise_constant_schedule(0.3), 0, True),
    (
        "piecewise_interpolate_linear",
        lambda m: m.piecewise_interpolate_schedule("linear", 1.0, {10: 0.5, 20: 0.1, 25: 2.0}),
        25,
        False,
    ),
    (
        "piecewise_interpolate_cosine",
        lambda m: m.piecewise_interpolate_schedule("cosine", 2.0, {0: 0.5, 7: 0.1, 20: 3.0}),
        20,
        False,
    ),
    ("linear_onecycle", lambda m: m.linear_onecycle_schedule(100, 1.0), 100, False),
    (
        "linear_onecycle_custom",
        lambda m: m.linear_onecycle_schedule(37, 0.3, 0.29, 0.71, 10.0, 100.0),
        37,
        False,
    ),
    (
        "linear_onecycle_start_zero",
        lambda m: m.linear_onecycle_schedule(20, 1.0, 0.0, 0.5),
        20,
        False,
    ),
    ("cosine_onecycle", lambda m: m.cosine_onecycle_schedule(100, 1.0), 100, False),
    (
        "cosine_onecycle_custom",
        lambda m: m.cosine_onecycle_schedule(37, 0.3, 0.29, 10.0, 100.0),
        37,
        False,
    ),
    ("warmup_constant", lambda m: m.warmup_constant_schedule(0.1, 1.0, 10), 10, True),
    ("warmup_constant_zero", lambda m: m.warmup_constant_schedule(0.0, 1.0, 10), 10, True),
    ("warmup_cosine", lambda m: m.warmup_cosine_decay_schedule(0.0, 1.0, 10, 50, 0.05), 50, True),
    (
        "warmup_cosine_no_warmup",
        lambda m: m.warmup_cosine_decay_schedule(0.0, 1.0, 0, 50, 0.05, 1.5),
        50,
        False,
    ),
    (
        "warmup_cosine_exponent",
        lambda m: m.warmup_cosine_decay_schedule(0.1, 2.0, 5, 30, 0.0, 3.0),
        30,
        True,
    ),
    (
        "warmup_exponential",
        lambda m: m.warmup_exponential_decay_schedule(0.0, 1.0, 10, 5, 0.8, 3, True, 0.2),
        60,
        True,
    ),
    (
        "warmup_exponential_plain",
        lambda m: m.warmup_exponential_decay_schedule(0.1, 1.0, 4, 3, 0.5),
        30,
        True,
    ),
    ("sgdr", sgdr_cycles, 45, True),
    ("join", joined, 40, True),
]


@pytest.mark.parametrize(
    ("factory", "n", "neg_equal"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_values_match_optax(
    factory: Callable[[Any], Any], n: int, neg_equal: bool, rtol: float
) -> None:
    # One array shape for every case keeps JAX's per-op caches warm; compare -5 .. n + 20.
    counts = COUNTS[: n + 26]
    mine, want = ours(factory(ow), counts), theirs(factory(optax), counts)
    keep = counts >= 0 if not neg_equal else np.ones(counts.shape, bool)
    np.testing.assert_allclose(mine[keep], want[keep], rtol=rtol, atol=1e-7)
    # Negative counts always give the value at 0 (where optax differs, see the differences below).
    np.testing.assert_array_equal(mine[counts < 0], mine[counts == 0][0])


@pytest.mark.parametrize("name", DROPINS)
def test_same_signature_as_optax(name: str) -> None:
    def params(fn: Any) -> list[tuple[str, Any, Any]]:
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert params(getattr(ow, name)) == params(getattr(optax, name))


def test_join_schedules_of_optax_functions(rtol: float) -> None:
    pieces = [optax.linear_schedule(0.0, 1.0, 5), optax.cosine_decay_schedule(1.0, 20, 0.1)]
    counts = np.arange(0, 40)
    np.testing.assert_allclose(
        ours(ow.join_schedules(pieces, [5]), counts),
        theirs(optax.join_schedules(pieces, [5]), counts),
        rtol=rtol,
    )


def pw_constant(m: Any, init_value: Any, s1: Any, s2: Any) -> Any:
    return m.piecewise_constant_schedule(init_value, {10: s1, 20: s2})


def pw_linear(m: Any, init_value: Any, s1: Any, s2: Any) -> Any:
    return m.piecewise_interpolate_schedule("linear", init_value, {10: s1, 20: s2})


def sgdr_two(m: Any, peak_value: Any, warmup_steps: Any, decay_steps: Any, end_value: Any) -> Any:
    first = dict(
        init_value=0.0,
        peak_value=peak_value,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        end_value=end_value,
    )
    second = dict(init_value=0.0, peak_value=0.5, warmup_steps=2, decay_steps=10)
    return m.sgdr_schedule([first, second])


def join_two(m: Any, boundary: Any) -> Any:
    pieces = [m.linear_schedule(0.0, 1.0, 5), m.cosine_decay_schedule(1.0, 20, 0.1)]
    return m.join_schedules(pieces, [boundary])


# (builder(module, **hyper), base hyperparameters, sweeps: name -> 3 values)
SWEEPS: list[tuple[Callable[..., Any], dict[str, Any], dict[str, list[Any]]]] = [
    (
        lambda m, **k: m.linear_schedule(**k),
        dict(init_value=1.0, end_value=0.1, transition_steps=20, transition_begin=3),
        dict(
            init_value=[0.5, 1.0, 2.0],
            end_value=[0.0, 0.3, 1.5],
            transition_steps=[1, 10, 30],
            transition_begin=[0, 5, 12],
        ),
    ),
    (
        lambda m, **k: m.polynomial_schedule(**k),
        dict(init_value=1.0, end_value=0.1, power=2.0, transition_steps=20, transition_begin=3),
        dict(power=[0.5, 1.0, 3.0], transition_steps=[1, 10, 30]),
    ),
    (
        lambda m, **k: m.exponential_decay(**k),
        dict(
            init_value=1.0,
            transition_steps=5,
            decay_rate=0.6,
            transition_begin=2,
            staircase=False,
            end_value=0.1,
        ),
        dict(
            init_value=[0.5, 1.0, 2.0],
            transition_steps=[1, 3, 7],
            decay_rate=[0.3, 0.9, 1.2],
            transition_begin=[0, 4, 9],
            staircase=[False, True, True],
            end_value=[0.0, 0.2, 0.5],
        ),
    ),
    (
        lambda m, **k: m.cosine_decay_schedule(**k),
        dict(init_value=1.0, decay_steps=20, alpha=0.1, exponent=1.0),
        dict(
            init_value=[0.5, 1.0, 2.0],
            decay_steps=[1, 10, 30],
            alpha=[0.0, 0.1, 0.5],
            exponent=[0.5, 1.0, 2.0],
        ),
    ),
    (
        pw_constant,
        dict(init_value=1.0, s1=0.5, s2=0.1),
        dict(init_value=[0.5, 2.0, 3.0], s1=[0.1, 0.5, 2.0]),
    ),
    (
        pw_linear,
        dict(init_value=1.0, s1=0.5, s2=0.1),
        dict(init_value=[0.5, 2.0, 3.0], s2=[0.0, 0.5, 2.0]),
    ),
    (
        lambda m, **k: m.linear_onecycle_schedule(**k),
        dict(
            transition_steps=30,
            peak_value=1.0,
            pct_start=0.3,
            pct_final=0.8,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
        dict(
            transition_steps=[10, 25, 40],
            peak_value=[0.5, 1.0, 2.0],
            pct_start=[0.1, 0.25, 0.5],
            pct_final=[0.6, 0.75, 0.9],
            div_factor=[2.0, 10.0, 25.0],
            final_div_factor=[1.0, 10.0, 1e4],
        ),
    ),
    (
        lambda m, **k: m.cosine_onecycle_schedule(**k),
        dict(
            transition_steps=30,
            peak_value=1.0,
            pct_start=0.3,
            div_factor=10.0,
            final_div_factor=100.0,
        ),
        dict(
            transition_steps=[10, 25, 40],
            peak_value=[0.5, 1.0, 2.0],
            pct_start=[0.1, 0.25, 0.5],
            div_factor=[2.0, 10.0, 25.0],
            final_div_factor=[1.0, 10.0, 1e4],
        ),
    ),
    (
        lambda m, **k: m.warmup_constant_schedule(**k),
        dict(init_value=0.1, peak_value=1.0, warmup_steps=10),
        dict(init_value=[0.0, 0.1, 0.5], peak_value=[0.5, 1.0, 2.0], warmup_steps=[1, 5, 20]),
    ),
    (
        lambda m, **k: m.warmup_cosine_decay_schedule(**k),
        dict(
            init_value=0.0,
            peak_value=1.0,
            warmup_steps=5,
            decay_steps=30,
            end_value=0.1,
            exponent=1.0,
        ),
        dict(
            init_value=[0.0, 0.1, 0.5],
            peak_value=[0.5, 1.0, 2.0],
            warmup_steps=[0, 3, 10],
            decay_steps=[11, 20, 40],
            end_value=[0.0, 0.05, 0.3],
            exponent=[0.5, 1.0, 2.0],
        ),
    ),
    (
        lambda m, **k: m.warmup_exponential_decay_schedule(**k),
        dict(
            init_value=0.0,
            peak_value=1.0,
            warmup_steps=5,
            transition_steps=4,
            decay_rate=0.7,
            transition_begin=2,
            staircase=False,
            end_value=0.05,
        ),
        dict(
            peak_value=[0.5, 1.0, 2.0],
            warmup_steps=[0, 3, 10],
            transition_steps=[1, 4, 9],
            decay_rate=[0.3, 0.7, 0.95],
            transition_begin=[0, 2, 6],
            end_value=[0.0, 0.05, 0.3],
        ),
    ),
    (
        sgdr_two,
        dict(peak_value=1.0, warmup_steps=3, decay_steps=15, end_value=0.0),
        dict(
            peak_value=[0.5, 1.0, 2.0],
            warmup_steps=[0, 3, 8],
            decay_steps=[9, 15, 25],
            end_value=[0.0, 0.1, 0.2],
        ),
    ),
    (join_two, dict(boundary=5), dict(boundary=[0, 5, 17])),
]
SWEEP_CASES = [(b, base, name, vals) for b, base, sweeps in SWEEPS for name, vals in sweeps.items()]


@pytest.mark.parametrize(
    ("builder", "base", "name", "vals"),
    SWEEP_CASES,
    ids=[f"{i}-{c[2]}" for i, c in enumerate(SWEEP_CASES)],
)
def test_vmap_over_each_hyperparameter_matches_optax_loop(
    builder: Callable[..., Any], base: dict[str, Any], name: str, vals: list[Any], rtol: float
) -> None:
    counts = jnp.arange(0, 70)
    swept = jax.vmap(lambda x: builder(ow, **{**base, name: x})(counts))(jnp.asarray(vals))
    want = np.stack([theirs(builder(optax, **{**base, name: x}), counts) for x in vals])
    np.testing.assert_allclose(np.asarray(swept, np.float64), want, rtol=max(rtol, 1e-6), atol=1e-7)


@pytest.mark.parametrize(
    ("builder", "base"), [s[:2] for s in SWEEPS], ids=[f"{i}" for i in range(len(SWEEPS))]
)
def test_one_trace_for_100_hyperparameter_arrays(
    builder: Callable[..., Any], base: dict[str, Any]
) -> None:
    traces = []

    @jax.jit
    def value(hyper: dict[str, jax.Array], count: jax.Array) -> jax.Array:
        traces.append(1)
        return builder(ow, **hyper)(count)

    key, x0 = next(iter(base.items()))
    for i in range(100):
        hyper = {k: jnp.asarray(x) for k, x in base.items()}
        hyper[key] = jnp.asarray(x0 * (1 + i / 1000) if isinstance(x0, float) else x0 + i % 7)
        out = value(hyper, jnp.asarray(i))
    assert len(traces) == 1
    assert np.isfinite(float(out))


def test_grad_through_values() -> None:
    @jax.jit
    def grads(peak: jax.Array, rate: jax.Array) -> tuple[jax.Array, jax.Array]:
        g_peak = jax.grad(lambda p: ow.warmup_cosine_decay_schedule(0.0, p, 10, 50)(30))(peak)
        g_rate = jax.grad(lambda r: ow.exponential_decay(1.0, 2, r)(4))(rate)
        return g_peak, g_rate

    g_peak, g_rate = grads(1.0, 0.5)
    want = 0.5 * (1 + np.cos(np.pi * 20 / 40))  # the cosine factor at count 30
    np.testing.assert_allclose(float(g_peak), want, rtol=1e-6)
    np.testing.assert_allclose(float(g_rate), 2 * 0.5, rtol=1e-5)  # d/dr r**2


def test_thousand_pieces_build_and_evaluate_like_ten(rtol: float) -> None:
    count = jnp.asarray(7, jnp.int32)
    for n in (10, 1000):
        bounds = np.arange(1, n + 1) * 3
        scales = np.full(n, 0.999)
        d = dict(zip(bounds.tolist(), scales.tolist(), strict=True))
        s = ow.piecewise_interpolate_schedule("linear", 1.0, d)
        values = np.cumprod(np.r_[1.0, scales].astype(np.float32))  # optax's float32 product
        counts = np.linspace(0, 3 * n + 4, PAD).astype(np.int32)
        want = np.interp(counts, np.r_[0, bounds], values)
        np.testing.assert_allclose(ours(s, counts), want, rtol=max(rtol, 1e-5))
    # Optax's dicts of numbers: evaluation is the same program for 10 or 1000 pieces.
    sizes = set()
    for n in (10, 1000):
        d = {3 * (i + 1): 0.999 for i in range(n)}
        kwargs = [dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=9)] * n
        sizes.add(
            (
                traced_size(ow.piecewise_constant_schedule(1.0, d), count),
                traced_size(ow.piecewise_interpolate_schedule("cosine", 1.0, d), count),
                traced_size(ow.sgdr_schedule(kwargs), count),
            )
        )
    assert len(sizes) == 1
    # Given (traced) arrays, building too is the same program for 10 or 1000 pieces.
    sizes = set()
    for n in (10, 1000):
        bounds = jnp.arange(1, n + 1) * 3
        scales = jnp.full((n,), 0.999)
        peaks = jnp.linspace(1.0, 0.1, n)

        def build(scales: jax.Array, peaks: jax.Array, bounds: jax.Array = bounds) -> jax.Array:
            a = ow.piecewise_interpolate_schedule("linear", 1.0, (bounds, scales))(count)
            b = ow.sgdr_schedule(
                dict(init_value=0.0, peak_value=peaks, warmup_steps=2, decay_steps=9)
            )(count)
            return a + b

        sizes.add(traced_size(build, scales, peaks))
    assert len(sizes) == 1


def test_sgdr_dict_of_arrays_matches_list_of_dicts(rtol: float) -> None:
    peaks, warm, length = [1.0, 0.5, 0.25], [2, 0, 3], [10, 7, 12]
    kwargs: list[dict[str, Any]] = [
        dict(init_value=0.0, peak_value=p, warmup_steps=w, decay_steps=d, end_value=0.01)
        for p, w, d in zip(peaks, warm, length, strict=True)
    ]
    arrays = dict(
        init_value=0.0,
        peak_value=jnp.asarray(peaks),
        warmup_steps=jnp.asarray(warm),
        decay_steps=jnp.asarray(length),
        end_value=0.01,
    )
    counts = np.arange(0, 40)
    np.testing.assert_allclose(
        ours(ow.sgdr_schedule(arrays), counts),
        theirs(optax.sgdr_schedule(kwargs), counts),
        rtol=rtol,
        atol=1e-7,
    )


def test_piecewise_pair_of_arrays_matches_dict(rtol: float) -> None:
    d = {4: 0.5, 9: 0.2, 15: 3.0}
    pair = (jnp.asarray(list(d)), jnp.asarray(list(d.values())))
    counts = np.arange(0, 25)
    for kind in ("linear", "cosine"):
        np.testing.assert_allclose(
            ours(ow.piecewise_interpolate_schedule(kind, 1.0, pair), counts),
            ours(ow.piecewise_interpolate_schedule(kind, 1.0, d), counts),
            rtol=rtol,
        )


@settings(max_examples=20, deadline=None)
@given(
    init=st.floats(0.0, 1.0),
    peak=st.floats(0.01, 2.0),
    warmup=st.integers(0, 30),
    extra=st.integers(0, 60),
    end_ratio=st.floats(0.0, 0.9),
    exponent=st.floats(0.25, 4.0),
    rate=st.floats(0.05, 0.99),
    staircase=st.booleans(),
)
def test_property_warmup_decays_match_optax(
    init: float,
    peak: float,
    warmup: int,
    extra: int,
    end_ratio: float,
    exponent: float,
    rate: float,
    staircase: bool,
) -> None:
    counts = COUNTS[5:]
    args = (init, peak, warmup, warmup + extra + 1, end_ratio * peak, exponent)
    np.testing.assert_allclose(
        ours(ow.warmup_cosine_decay_schedule(*args), counts),
        theirs(optax.warmup_cosine_decay_schedule(*args), counts),
        rtol=2e-5,
        atol=1e-6,
    )
    args2 = (init, peak, warmup, extra + 1, rate, 3, staircase, end_ratio * peak)
    # optax's staircase decay, vmapped, can floor 55 / 55 to 0 (XLA rewrites the
    # division as a multiplication by the reciprocal); its scalar calls do not.
    theirs2 = optax.warmup_exponential_decay_schedule(*args2)
    np.testing.assert_allclose(
        ours(ow.warmup_exponential_decay_schedule(*args2), counts),
        np.asarray([np.asarray(theirs2(int(c))) for c in counts], dtype=np.float64),
        rtol=2e-5,
        atol=1e-6,
    )


BAD: list[tuple[Callable[[], Any], str]] = [
    (lambda: ow.linear_schedule(1.0, 0.0, -3), "transition_steps"),
    (lambda: ow.linear_schedule(1.0, 0.0, 10, -2), "transition_begin"),
    (lambda: ow.linear_schedule(1.0, float("nan"), 10), "end_value"),
    (lambda: ow.polynomial_schedule(1.0, 0.0, 0.0, 10), "power"),
    (lambda: ow.polynomial_schedule(1.0, 0.0, 2.0, 2.5), "transition_steps"),
    (lambda: ow.exponential_decay(1.0, 0, 0.5), "transition_steps"),
    (lambda: ow.exponential_decay(1.0, 5, 0.0), "decay_rate"),
    (lambda: ow.exponential_decay(1.0, 5, -0.5), "decay_rate"),
    (lambda: ow.exponential_decay(1.0, 5, 0.5, -1), "transition_begin"),
    (lambda: ow.cosine_decay_schedule(1.0, -1), "decay_steps"),
    (lambda: ow.cosine_decay_schedule(1.0, 10, float("inf")), "alpha"),
    (lambda: ow.cosine_decay_schedule(1.0, 10, 0.0, 0.0), "exponent"),
    (lambda: ow.piecewise_constant_schedule(1.0, {5: -0.1}), "boundaries_and_scales"),
    (lambda: ow.piecewise_constant_schedule(1.0, {-5: 0.1}), "boundaries_and_scales"),
    (lambda: ow.piecewise_interpolate_schedule("quadratic", 1.0), "interpolate_type"),
    (lambda: ow.piecewise_interpolate_schedule("linear", 1.0, {3: -1.0}), "boundaries_and_scales"),
    (lambda: ow.linear_onecycle_schedule(0, 1.0), "transition_steps"),
    (lambda: ow.linear_onecycle_schedule(10, 1.0, 0.6, 0.3), "pct_final"),
    (lambda: ow.linear_onecycle_schedule(10, 1.0, 1.5), "pct_start"),
    (lambda: ow.cosine_onecycle_schedule(10, 1.0, -0.1), "pct_start"),
    (lambda: ow.warmup_constant_schedule(0.0, 1.0, -5), "warmup_steps"),
    (lambda: ow.warmup_cosine_decay_schedule(0.0, 1.0, -5, 100), "warmup_steps"),
    (lambda: ow.warmup_cosine_decay_schedule(0.0, 1.0, 50, 40), "decay_steps"),
    (lambda: ow.warmup_cosine_decay_schedule(0.0, 1.0, 5, 40, 0.0, -1.0), "exponent"),
    (lambda: ow.warmup_exponential_decay_schedule(0.0, 1.0, -1, 5, 0.5), "warmup_steps"),
    (lambda: ow.warmup_exponential_decay_schedule(0.0, 1.0, 5, 5, 0.0), "decay_rate"),
    (lambda: ow.sgdr_schedule([]), "cosine_kwargs"),
    (
        lambda: ow.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, decay_steps=5)]),
        "warmup_steps",
    ),
    (
        lambda: ow.sgdr_schedule(
            [dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=5, alpha=0.1)]
        ),
        "alpha",
    ),
    (
        lambda: ow.sgdr_schedule(
            [
                dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=5),
                dict(init_value=0.0, peak_value=1.0, warmup_steps=6, decay_steps=5),
            ]
        ),
        r"cosine_kwargs\[1\].*decay_steps",
    ),
    (lambda: ow.join_schedules([0.1, 0.2, 0.3], [8, 4]), "boundaries must be sorted"),
    (lambda: ow.join_schedules([0.1, 0.2], [4, 8, 9]), "boundaries"),
    (lambda: ow.join_schedules([0.1, 0.2], [-4]), "boundaries"),
]


@pytest.mark.parametrize(
    ("make", "match"), BAD, ids=[f"{i}-{b[1][:20]}" for i, b in enumerate(BAD)]
)
def test_bad_inputs_raise_naming_the_argument(make: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


# --- the documented differences from optax, asserted -------------------------------------------


def test_zero_length_transition_is_complete() -> None:
    counts = np.arange(0, 5)
    # optax: warmup_steps=0 holds init_value forever, so a warmup from 0 never trains.
    np.testing.assert_array_equal(theirs(optax.warmup_constant_schedule(0.0, 1.0, 0), counts), 0.0)
    np.testing.assert_array_equal(ours(ow.warmup_constant_schedule(0.0, 1.0, 0), counts), 1.0)
    np.testing.assert_array_equal(theirs(optax.linear_schedule(1.0, 0.2, 0, 2), counts), 1.0)
    np.testing.assert_allclose(
        ours(ow.linear_schedule(1.0, 0.2, 0, 2), counts), [1, 1, 0.2, 0.2, 0.2], rtol=1e-7
    )
    np.testing.assert_allclose(
        ours(ow.polynomial_schedule(1.0, 0.2, 2.0, 0), counts), 0.2, rtol=1e-7
    )
    # warmup_cosine_decay_schedule with warmup_steps=0 already starts at the peak in optax.
    np.testing.assert_allclose(
        theirs(optax.warmup_cosine_decay_schedule(0.0, 1.0, 0, 10), [0]), [1.0]
    )
    # decay_steps == warmup_steps: optax raises; the drop-in holds end_value after warmup.
    with pytest.raises(ValueError, match="decay_steps"):
        optax.warmup_cosine_decay_schedule(0.0, 1.0, 5, 5)
    np.testing.assert_allclose(
        ours(ow.warmup_cosine_decay_schedule(0.0, 1.0, 5, 5, 0.1), [4, 5, 9]),
        [0.8, 0.1, 0.1],
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="decay_steps"):
        optax.cosine_decay_schedule(1.0, 0)
    np.testing.assert_allclose(ours(ow.cosine_decay_schedule(2.0, 0, 0.1), [0, 3]), 0.2, rtol=1e-6)


def test_negative_lengths_shift_in_optax_and_raise_here() -> None:
    shifted = theirs(optax.warmup_cosine_decay_schedule(0.0, 1.0, -2, 10), [0])
    assert shifted[0] < 0.99  # optax: the decay started 2 steps before count 0
    with pytest.raises(ValueError, match="warmup_steps"):
        ow.warmup_cosine_decay_schedule(0.0, 1.0, -2, 10)
    # Traced: clamped at 0 (the peak from count 0).
    value = jax.jit(lambda w: ow.warmup_cosine_decay_schedule(0.0, 1.0, w, 10)(0))(-2)
    assert float(value) == pytest.approx(1.0, rel=1e-6)


def test_traced_invalid_exponential_arguments_hold_init() -> None:
    f = jax.jit(lambda t, r: ow.exponential_decay(1.0, t, r, end_value=0.1)(jnp.arange(5)))
    np.testing.assert_array_equal(
        np.asarray(f(0, 0.5)), 1.0
    )  # optax's value for transition_steps=0
    np.testing.assert_array_equal(np.asarray(f(2, 0.0)), 1.0)  # and for decay_rate=0
    np.testing.assert_array_equal(np.asarray(f(2, -0.5)), 1.0)  # optax: NaN at odd counts
    assert np.isnan(theirs(optax.exponential_decay(1.0, 2, -0.5), [1])[0])


def test_join_validates_boundaries_where_optax_is_silent() -> None:
    pieces = [lambda c: jnp.float32(1.0), lambda c: jnp.float32(2.0), lambda c: jnp.float32(3.0)]
    # optax: the later (smaller) boundary overrides, piece 2 never runs; extra boundaries ignored.
    np.testing.assert_array_equal(
        theirs(optax.join_schedules(pieces, [8, 4]), [3, 5, 9]), [1.0, 3.0, 3.0]
    )
    np.testing.assert_array_equal(theirs(optax.join_schedules(pieces[:2], [4, 8, 9]), [5]), [2.0])
    with pytest.raises(ValueError, match="sorted"):
        ow.join_schedules(pieces, [8, 4])
    with pytest.raises(ValueError, match="one fewer"):
        ow.join_schedules(pieces[:2], [4, 8, 9])
    # Traced boundaries are made non-decreasing instead.
    f = jax.jit(lambda b: ow.join_schedules(pieces, b)(jnp.arange(10)))
    np.testing.assert_array_equal(np.asarray(f(jnp.asarray([8, 4]))), [1.0] * 8 + [3.0] * 2)


def test_negative_counts_give_the_value_at_zero() -> None:
    neg = [-3, -1]
    # cosine_decay_schedule: optax mirrors the cosine at negative counts.
    np.testing.assert_allclose(
        theirs(optax.cosine_decay_schedule(1.0, 3), neg), [0.0, 0.75], atol=1e-6
    )
    np.testing.assert_allclose(ours(ow.cosine_decay_schedule(1.0, 3), neg), 1.0, rtol=1e-6)
    # piecewise_interpolate and the one-cycle schedules: optax returns 0.
    np.testing.assert_array_equal(
        theirs(optax.piecewise_interpolate_schedule("linear", 1.0), neg), 0.0
    )
    np.testing.assert_array_equal(ours(ow.piecewise_interpolate_schedule("linear", 1.0), neg), 1.0)
    np.testing.assert_array_equal(theirs(optax.cosine_onecycle_schedule(10, 1.0), neg), 0.0)
    np.testing.assert_allclose(ours(ow.cosine_onecycle_schedule(10, 1.0), neg), 0.04, rtol=1e-6)
    # piecewise_constant with a boundary at 0: optax gives the unscaled init_value.
    np.testing.assert_array_equal(
        theirs(optax.piecewise_constant_schedule(1.0, {0: 0.5}), neg), 1.0
    )
    np.testing.assert_array_equal(ours(ow.piecewise_constant_schedule(1.0, {0: 0.5}), neg), 0.5)
    # warmup_cosine_decay_schedule without warmup: optax gives init_value before 0.
    np.testing.assert_array_equal(
        theirs(optax.warmup_cosine_decay_schedule(0.0, 1.0, 0, 9), neg), 0.0
    )
    np.testing.assert_allclose(
        ours(ow.warmup_cosine_decay_schedule(0.0, 1.0, 0, 9), neg), 1.0, rtol=1e-6
    )


def test_float_counts_are_floored() -> None:
    s = ow.linear_schedule(0.0, 1.0, 10)
    assert float(s(2.5)) == float(s(2)) == np.float32(0.2)
    assert float(np.asarray(optax.linear_schedule(0.0, 1.0, 10)(2.5))) == 0.25


def test_onecycle_with_coinciding_boundaries_still_reaches_the_peak() -> None:
    counts = np.arange(0, 12)
    # int(0.3 * 10) == int(0.35 * 10): optax's dict keeps one scale and never reaches the peak.
    assert theirs(optax.linear_onecycle_schedule(10, 1.0, 0.3, 0.35), counts).max() < 0.05
    mine = ours(ow.linear_onecycle_schedule(10, 1.0, 0.3, 0.35), counts)
    np.testing.assert_allclose(mine[[0, 1, 2, 3, 10]], [0.04, 0.36, 0.68, 0.04, 4e-6], rtol=1e-5)
    # pct_final = 1: optax falls from the peak to peak / final_div_factor, skipping init.
    np.testing.assert_allclose(
        theirs(optax.linear_onecycle_schedule(10, 1.0, 0.3, 1.0), [10]), [1e-4], rtol=1e-5
    )
    np.testing.assert_allclose(
        ours(ow.linear_onecycle_schedule(10, 1.0, 0.3, 1.0), [3, 9, 10]),
        [1.0, 0.1771429, 4e-6],
        rtol=1e-5,
    )
    # cosine_onecycle with pct_start = 1: optax never rises; the drop-in peaks at the end.
    assert theirs(optax.cosine_onecycle_schedule(10, 1.0, 1.0), counts).max() < 0.05
    np.testing.assert_allclose(
        ours(ow.cosine_onecycle_schedule(10, 1.0, 1.0), [9, 10]), [0.9763, 4e-6], rtol=1e-3
    )


def test_zero_peak_keeps_end_value() -> None:
    counts = [3, 10, 20]
    np.testing.assert_array_equal(
        theirs(optax.warmup_cosine_decay_schedule(0.0, 0.0, 3, 10, 0.5), counts), 0.0
    )
    np.testing.assert_allclose(
        ours(ow.warmup_cosine_decay_schedule(0.0, 0.0, 3, 10, 0.5), counts),
        [0.0, 0.5, 0.5],
        atol=1e-7,
    )


def test_first_update_is_zero_like_optax_unlike_the_library_default() -> None:
    for sched in (
        ow.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100),
        ow.warmup_constant_schedule(0.0, 1.0, 10),
        ow.warmup_exponential_decay_schedule(0.0, 1.0, 10, 5, 0.5),
    ):
        assert float(sched(0)) == 0.0
    assert float(ow.warmup_decay_schedule(1.0, 10, 100)(0)) == pytest.approx(0.1)


def test_int32_overflow_raises_and_x64_works() -> None:
    big = 3_000_000_000
    with pytest.raises(OverflowError):
        optax.linear_schedule(0.0, 1.0, big)(10)
    with pytest.raises(ValueError, match=r"transition_steps.*x64"):
        ow.linear_schedule(0.0, 1.0, big)
    with pytest.raises(ValueError, match=r"decay_steps.*x64"):
        ow.warmup_cosine_decay_schedule(0.0, 1.0, 10, big)
    with pytest.raises(ValueError, match=r"boundaries_and_scales.*x64"):
        ow.piecewise_constant_schedule(1.0, {big: 0.1})
    with pytest.raises(ValueError, match="x64"):
        ow.sgdr_schedule(
            [dict(init_value=0.0, peak_value=1.0, warmup_steps=0, decay_steps=2**30)] * 3
        )
    # A time constant (not an index) may exceed int32 without x64.
    np.testing.assert_allclose(
        float(ow.exponential_decay(1.0, big, 0.5)(2**31 - 1)), 0.5 ** ((2**31 - 1) / big), rtol=1e-5
    )
    with jax.enable_x64(True):
        counts = jnp.asarray([10, 2**31 + 5, big, big + 7], jnp.int64)
        np.testing.assert_allclose(
            ours(ow.linear_schedule(0.0, 1.0, big), counts),
            [10 / big, (2**31 + 5) / big, 1.0, 1.0],
            rtol=1e-6,
        )
        s = ow.warmup_cosine_decay_schedule(0.0, 1.0, 10, big)
        want = 0.5 * (1 + np.cos(np.pi * (2**31 + 5 - 10) / (big - 10)))
        np.testing.assert_allclose(ours(s, counts[1:2]), [want], rtol=1e-5)
        s = ow.piecewise_constant_schedule(1.0, {big: 0.1})
        np.testing.assert_allclose(ours(s, counts), [1.0, 1.0, 0.1, 0.1], rtol=1e-7)
