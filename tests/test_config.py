"""from_config / to_config: exact round trips for every schedule kind, units, errors."""

from __future__ import annotations

import json
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.io import config as _config

# One fixed count array (512 counts) keeps JAX's eager op cache warm across examples.
COUNTS = jnp.arange(-3, 509)
HYP = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def values(schedule: Any) -> np.ndarray:
    return np.asarray(schedule(COUNTS))


def assert_same(a: Any, b: Any) -> None:
    """Equal at every count (bit for bit), including before 0 and past the end."""
    np.testing.assert_array_equal(values(a), values(b))


def round_trip(schedule: Any) -> Any:
    """to_config -> JSON text -> from_config."""
    return ow.from_config(json.loads(json.dumps(ow.to_config(schedule))))


durations = st.integers(0, 120)
positive = st.integers(1, 120)
peaks = st.floats(1e-6, 10.0, allow_nan=False, allow_infinity=False)
ratios = st.floats(0.0, 0.9, allow_nan=False)
warm_shapes = st.sampled_from(["linear", "cosine", "polynomial", "exponential", "1-sqrt"])
decay_shapes = st.sampled_from(["linear", "cosine", "polynomial", "exponential", "1-sqrt", "tanh"])


@st.composite
def shape_objects(draw: Any) -> Any:
    """A parameterised shape object."""
    kind = draw(st.sampled_from(["poly", "cos", "exp", "tau", "tanh"]))
    x = draw(st.floats(0.25, 4.0))
    return {
        "poly": lambda: ow.shapes.polynomial(x),
        "cos": lambda: ow.shapes.cosine(x),
        "exp": lambda: ow.shapes.exponential(x),
        "tau": lambda: ow.shapes.exponential(time_constant=10 * x),
        "tanh": lambda: ow.shapes.tanh(-x, x),
    }[kind]()


@st.composite
def library_schedules(draw: Any) -> Any:
    """Any schedule the library's public functions build, with drawn hyperparameters."""
    kind = draw(
        st.sampled_from(
            [
                "warmup",
                "warmup_shape_object",
                "warmup_factor",
                "constant_warmup",
                "decay",
                "named_decay",
                "inverse_sqrt",
                "piecewise",
                "warmup_decay",
                "wsd",
                "noam",
                "one_cycle",
                "cosine_restarts",
                "cyclic",
                "add_warmup",
                "rewarmup",
                "join",
                "generic_join",
                "multiply",
                "constant",
            ]
        )
    )
    peak = draw(peaks)
    w = draw(durations)
    t = w + draw(durations)
    if kind == "warmup":
        init = draw(st.none() | st.floats(0.0, 1.0))
        return ow.warmup_schedule(peak, w, shape=draw(warm_shapes), init_value=init)
    if kind == "warmup_shape_object":
        return ow.warmup_schedule(peak, w, shape=draw(shape_objects()))
    if kind == "warmup_factor":
        return ow.warmup_factor(w, shape=draw(warm_shapes))
    if kind == "constant_warmup":
        return ow.warmup_schedule(peak, w, shape="constant", init_value=peak / 10)
    if kind == "decay":
        end = draw(st.sampled_from(["value", "ratio"]))
        kw = {"end_value": peak / 7} if end == "value" else {"end_ratio": draw(ratios)}
        return ow.decay_schedule(peak, w, shape=draw(decay_shapes), **kw)
    if kind == "named_decay":
        fn = draw(
            st.sampled_from(
                [
                    ow.linear_decay,
                    ow.cosine_decay,
                    ow.polynomial_decay,
                    ow.one_minus_sqrt_decay,
                    ow.tanh_decay,
                ]
            )
        )
        return fn(peak, w, end_ratio=draw(ratios))
    if kind == "inverse_sqrt":
        return ow.inverse_sqrt_decay(peak, draw(positive), shift=draw(durations))
    if kind == "piecewise":
        bounds = sorted(draw(st.lists(durations, min_size=0, max_size=4)))
        vals = draw(st.lists(peaks, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
        return ow.piecewise_constant(bounds, vals)
    if kind == "warmup_decay":
        return ow.warmup_decay_schedule(
            peak,
            w,
            t,
            decay_shape=draw(decay_shapes),
            warmup_shape=draw(warm_shapes),
            end_ratio=draw(ratios),
        )
    if kind == "wsd":
        d = draw(st.integers(0, t - w))
        return ow.warmup_stable_decay(peak, t, w, decay_steps=d, decay_shape=draw(decay_shapes))
    if kind == "noam":
        return ow.noam_schedule(draw(st.integers(16, 1024)), draw(positive))
    if kind == "one_cycle":
        return ow.one_cycle(
            peak,
            draw(st.integers(4, 200)),
            pct_start=draw(st.floats(0.1, 0.45)),
            anneal=draw(st.sampled_from(["cos", "linear"])),
            three_phase=draw(st.booleans()),
        )
    if kind == "cosine_restarts":
        return ow.cosine_restarts(
            peak,
            draw(st.integers(5, 60)),
            warmup_steps=draw(st.integers(0, 4)),
            end_ratio=draw(ratios),
            num_cycles=draw(st.none() | st.integers(1, 5)),
            cycle_mul=draw(st.sampled_from([1.0, 1.5, 2.0])),
            cycle_decay=draw(st.floats(0.1, 1.0)),
        )
    if kind == "cyclic":
        return ow.cyclic(ow.linear_decay(peak, draw(positive)), cycle_decay=draw(ratios))
    if kind == "add_warmup":
        mode = draw(st.sampled_from(["prefix", "continuous", "multiply"]))
        return ow.add_warmup(ow.cosine_decay(peak, draw(positive)), w, mode=mode)
    if kind == "rewarmup":
        return ow.rewarmup(ow.linear_decay(peak, 100), w, ow.cosine_decay(2 * peak, 50), 10)
    if kind == "join":
        return ow.join([ow.warmup_schedule(peak, 10), ow.cosine_decay(peak, 200)], [w])
    if kind == "generic_join":
        # A cyclic piece followed by another cannot be merged: a JoinedSchedule.
        first = ow.cosine_restarts(peak, draw(st.integers(5, 30)))
        return ow.join([first, ow.constant_schedule(peak / 3)], [w])
    if kind == "multiply":
        return ow.multiply(ow.warmup_factor(w), ow.cosine_decay(peak, draw(positive)), 0.5)
    return ow.constant_schedule(peak)


@HYP
@given(library_schedules())
def test_round_trip_every_schedule_kind(schedule: Any) -> None:
    back = round_trip(schedule)
    assert type(back) is type(schedule)
    assert_same(back, schedule)
    # The config of the rebuilt schedule is the same config.
    assert ow.to_config(back) == ow.to_config(schedule)


@pytest.mark.parametrize("kind", range(_shapes.NUM_BUILTIN))
def test_round_trip_every_engine_shape(kind: int) -> None:
    """Every engine shape id (including ones no public function emits yet)."""
    params = {
        _shapes.EXP_RATE: [0.5, 7.0, 1.0, 1.0],
        _shapes.RADAM: [0.99, 5.0, 0.0, 0.0],
        _shapes.TANH: [-6.0, 2.5, 0.0, 0.0],
        _shapes.INV_SQRT: [13.0, 0.0, 0.0, 0.0],
        _shapes.EXP_APPROACH: [9.0, 0.0, 0.0, 0.0],
    }.get(kind, [1.7, 0.0, 0.0, 0.0])
    s = _engine.from_arrays(
        np.asarray([40, 0]),
        np.asarray([0.3, 0.05]),
        np.asarray([1.2, 0.05]),
        kinds=(kind, _shapes.CONSTANT),
        params=np.asarray(params),
        lengths=np.asarray([37.5, 0.0]),
        offsets=np.asarray([0.25, 0.0]),
        cycle_scale=np.asarray([[1.0, 0.0], [0.0, 0.0]]),
    )
    assert_same(round_trip(s), s)
    assert set(_config.ENGINE_SHAPES.values()) == set(range(_shapes.NUM_BUILTIN))
    # Written as the typed constructor's named arguments, not parameter slots (except
    # where no constructor call gives them: constant and geometric fix the first slot at 1).
    phase = ow.to_config(s)["phases"][0]
    name = {k: n for n, k in _config.ENGINE_SHAPES.items()}[kind]
    if kind in (_shapes.CONSTANT, _shapes.GEOMETRIC):
        assert phase["shape"] == name
        assert phase["params"] == [1.7]
    else:
        assert "params" not in phase
        assert phase["shape"]["name"] == name


def test_phase_shapes_are_typed_constructors_by_name() -> None:
    s = ow.cosine_decay(1.0, 17, exponent=2.0)
    phases = ow.to_config(s)["phases"]
    assert phases[0]["shape"] == {"name": "cosine", "exponent": 2.0}
    assert phases[1]["shape"] == "constant"  # a bare name: the unit parameters
    s = ow.exponential_decay(1.0, 5, 0.5, 3, staircase=True)
    shape = ow.to_config(s)["phases"][1]["shape"]
    assert shape == {"name": "exp_rate", "rate": 0.5, "steps": 5.0, "staircase": 1.0}
    # cosine_wave keeps a float64 multiplier as two float32 parts: written as their sum.
    wave = _engine.from_phases([_engine.Phase(30, 1.0, 0.0, _build.cosine_wave(1 / 3))])
    shape = ow.to_config(wave)["phases"][0]["shape"]
    assert shape["name"] == "cosine_wave"
    assert shape["half_waves"] == pytest.approx(1 / 3, rel=1e-15)
    assert_same(round_trip(wave), wave)


def test_older_phase_configs_with_parameter_slots_still_read() -> None:
    old = {"span": 10, "shape": "cosine", "start": 1.0, "end": 0.0, "params": [2.0]}
    new = {"span": 10, "shape": {"name": "cosine", "exponent": 2.0}, "start": 1.0, "end": 0.0}
    want = ow.cosine_decay(1.0, 10, exponent=2.0)
    for phase in (old, new):
        s = ow.from_config(
            {
                "kind": "phases",
                "phases": [phase, {"span": 0, "shape": "constant", "start": 0.0, "end": 0.0}],
            }
        )
        np.testing.assert_array_equal(np.asarray(s(COUNTS)), np.asarray(want(COUNTS)))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ({"name": "cosine", "power": 2.0}, r"'cosine' takes \['exponent', 'k_decay'\]"),
        ({"name": "sigmoid"}, r"shape must be one of"),
        ({"name": "exp_rate"}, r"'exp_rate' takes \['rate', 'steps', 'staircase', 'clamp'\]"),
    ],
)
def test_typed_phase_shape_errors(shape: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ow.from_config(
            {"kind": "phases", "phases": [{"span": 3, "shape": shape, "start": 0, "end": 1}]}
        )


def test_to_config_is_readable() -> None:
    s = ow.cosine_restarts(0.1, 1000, warmup_steps=50, num_cycles=3, cycle_mul=2.0)
    c = ow.to_config(s)
    assert c["cycles"] == {"start": 0, "num_cycles": 3, "mul": 2.0, "decay": 1.0}
    assert [p["shape"] for p in c["phases"]] == ["power_in", "cosine", "constant"]
    assert c["phases"][0] == {
        "span": 50,
        "shape": "power_in",
        "start": 0.0,
        "end": 0.1,  # the float32 0.1, written as its shortest decimal
        "offset": 1.0,
        "scale": [0.0, 1.0],
    }
    assert "cycles" not in ow.to_config(ow.linear_decay(1.0, 10))


def test_round_trip_through_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    s = ow.warmup_stable_decay(3e-4, 300, 20, decay_fraction=0.2, decay_shape="1-sqrt")
    back = ow.from_config(yaml.safe_load(yaml.safe_dump(ow.to_config(s))))
    assert_same(back, s)


def test_round_trip_float64_under_x64() -> None:
    with jax.enable_x64(True):
        s = ow.warmup_schedule(1 / 3, 7, dtype=jnp.float64)
        c = ow.to_config(s)
        assert c["dtype"] == "float64"
        assert c["phases"][0]["end"] == 1 / 3
        back = ow.from_config(c)
        np.testing.assert_array_equal(np.asarray(back(COUNTS)), np.asarray(s(COUNTS)))


# --- high-level configs --------------------------------------------------------


HIGH_LEVEL = [
    (
        {"kind": "warmup_schedule", "peak_value": 2.0, "warmup_steps": 10, "shape": "cosine"},
        lambda: ow.warmup_schedule(2.0, 10, shape="cosine"),
    ),
    (
        {
            "kind": "warmup_schedule",
            "peak_value": "3e-4",  # YAML 1.1 reads 3e-4 as a string
            "warmup_steps": "1k",
            "shape": {"name": "polynomial", "power": 3},
        },
        lambda: ow.warmup_schedule(3e-4, 1000, shape=ow.shapes.polynomial(3.0)),
    ),
    (
        {
            "kind": "wsd",
            "peak_value": 1e-3,
            "total_steps": "400",
            "warmup_steps": "5%",
            "decay_steps": "20%",
            "decay_shape": "1-sqrt",
        },
        lambda: ow.warmup_stable_decay(1e-3, 400, 20, decay_steps=80, decay_shape="1-sqrt"),
    ),
    (
        {
            "kind": "warmup_decay_schedule",
            "peak_value": 0.1,
            "steps_per_epoch": 39,
            "warmup_steps": "1 epoch",
            "total_steps": "10 epochs",
            "end_ratio": 0.01,
        },
        lambda: ow.warmup_decay_schedule(0.1, 39, 390, end_ratio=0.01),
    ),
    (
        {
            "kind": "add_warmup",
            "total_steps": 500,
            "warmup_steps": "10%",
            "mode": "multiply",
            "schedule": {"kind": "cosine_decay", "init_value": 1.0, "decay_steps": "100%"},
        },
        lambda: ow.add_warmup(ow.cosine_decay(1.0, 500), 50, mode="multiply"),
    ),
    (
        {
            "kind": "join",
            "schedules": [
                {"kind": "constant_schedule", "value": 1.0},
                0.5,
                "linear(10) @ peak=0.25",
            ],
            "boundaries": [100, "2k examples"],
            "batch_size": 10,
        },
        lambda: ow.join([ow.constant_schedule(1.0), 0.5, ow.linear_decay(0.25, 10)], [100, 200]),
    ),
    (
        {
            "kind": "cosine_restarts",
            "peak_value": 0.1,
            "cycle_steps": "1M tokens",
            "tokens_per_step": 10_000,
            "cycle_mul": 2,
            "cycle_decay": 0.5,
        },
        lambda: ow.cosine_restarts(0.1, 100, cycle_mul=2.0, cycle_decay=0.5),
    ),
    (
        {"kind": "one_cycle", "peak_value": 0.1, "total_steps": 100, "three_phase": True},
        lambda: ow.one_cycle(0.1, 100, three_phase=True),
    ),
    (
        {"kind": "noam_schedule", "model_dim": 512, "warmup_steps": 40},
        lambda: ow.noam_schedule(512, 40),
    ),
    (
        {
            "kind": "rewarmup",
            "schedule": {"kind": "linear_decay", "init_value": 1.0, "decay_steps": 100},
            "at_step": 50,
            "new_schedule": {"kind": "cosine_decay", "init_value": 2.0, "decay_steps": 80},
            "warmup_steps": 10,
        },
        lambda: ow.rewarmup(ow.linear_decay(1.0, 100), 50, ow.cosine_decay(2.0, 80), 10),
    ),
    (
        {"kind": "piecewise_constant", "boundaries": ["25%", "50%"], "values": [1, 0.1, 0.01]},
        lambda: ow.piecewise_constant([100, 200], [1.0, 0.1, 0.01]),
    ),
]


@pytest.mark.parametrize(("config", "expected"), HIGH_LEVEL)
def test_high_level_configs(config: dict[str, Any], expected: Any) -> None:
    s = ow.from_config(config, total_steps=400)
    assert_same(s, expected())
    # to_config(from_config(c)) evaluates identically.
    assert_same(ow.from_config(ow.to_config(s)), s)


def test_config_kinds_are_the_public_functions() -> None:
    for kind in _config.kinds():
        if kind not in ("phases", "wsd", "constant"):
            assert callable(getattr(ow, kind)), kind


# --- durations and units -------------------------------------------------------


def _warmup_steps(x: Any, **context: Any) -> int:
    s = ow.from_config({"kind": "warmup_schedule", "peak_value": 1.0, "warmup_steps": x}, **context)
    assert isinstance(s, ow.PhaseSchedule)
    return int(np.asarray(s.spans)[0])


@pytest.mark.parametrize(
    ("duration", "context", "steps"),
    [
        (2000, {}, 2000),
        ("2k", {}, 2000),
        ("1.5k steps", {}, 1500),
        ("1e5", {}, 100_000),
        (2000.0, {}, 2000),
        ("100_000", {}, 100_000),
        ("10%", {"total_steps": 1000}, 100),
        ("12.5%", {"total_steps": 1000}, 125),
        ("5 epochs", {"steps_per_epoch": 390}, 1950),
        ("0.5ep", {"steps_per_epoch": 391}, 196),  # 195.5 rounds half to even
        ("50k examples", {"batch_size": 256}, 195),  # 195.3
        ("1M tokens", {"tokens_per_step": 4096}, 244),  # 244.1
        ("1M tok", {"batch_size": 8, "seq_len": 512}, 244),
        ("3B tokens", {"tokens_per_step": 1_000_000}, 3000),
    ],
)
def test_duration_units(duration: Any, context: dict[str, Any], steps: int) -> None:
    assert _warmup_steps(duration, **context) == steps


@pytest.mark.parametrize(
    ("duration", "context", "message"),
    [
        (0.1, {}, r"warmup_steps=0\.1 is ambiguous.*'10%' with total_steps"),
        (1.0, {}, r"warmup_steps=1\.0 is ambiguous"),
        ("0.5", {}, r"warmup_steps=0\.5 is ambiguous"),
        (2.5, {}, r"not a whole number"),
        ("10%", {}, r"warmup_steps=10% is a percentage of the run: give total_steps"),
        ("2 epochs", {}, r"in epochs: give steps_per_epoch"),
        ("5k examples", {}, r"counts examples: give batch_size"),
        ("1M tokens", {"batch_size": 8}, r"counts tokens: give tokens_per_step"),
        ("3 parsecs", {}, r"unknown unit 'parsecs'"),
        ("0.1x", {}, r"cannot be a multiple of the peak"),
        ("soon", {}, r"cannot read 'soon' as a number"),
        (-5, {}, r"non-negative"),
        (True, {}, r"must be a number"),
    ],
)
def test_ambiguous_or_bad_durations(duration: Any, context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _warmup_steps(duration, **context)


def test_unit_settings_apply_to_nested_nodes() -> None:
    config = {
        "kind": "join",
        "steps_per_epoch": 10,
        "total_steps": "20 epochs",
        "schedules": [
            {"kind": "warmup_schedule", "peak_value": 1.0, "warmup_steps": "1 epoch"},
            {"kind": "linear_decay", "init_value": 1.0, "decay_steps": "50%", "total_steps": 40},
        ],
        "boundaries": ["10%"],
    }
    s = ow.from_config(config)
    want = ow.join([ow.warmup_schedule(1.0, 10), ow.linear_decay(1.0, 20)], [20])
    assert_same(s, want)


def test_percent_total_cannot_be_a_percentage() -> None:
    with pytest.raises(ValueError, match="cannot be a percentage"):
        ow.from_config(
            {"kind": "linear_decay", "init_value": 1, "decay_steps": 5, "total_steps": "10%"}
        )


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kind": "warmup_cosine"}, r"config: unknown kind 'warmup_cosine'; expected one of"),
        ({"peak_value": 1}, r"config needs a 'kind'"),
        ([1, 2], r"config must be a dict with a 'kind'"),
        (
            {"kind": "warmup_schedule", "peak_value": 1, "warmup_steps": 5, "warmup": 3},
            r"warmup_schedule takes no argument 'warmup'",
        ),
        ({"kind": "warmup_schedule", "peak_value": 1}, r"warmup_schedule needs \['warmup_steps'\]"),
        (
            {"kind": "warmup_schedule", "peak_value": 1, "warmup_steps": 5, "shape": "cosin"},
            r"config.shape must be one of",
        ),
        (
            {
                "kind": "warmup_schedule",
                "peak_value": 1,
                "warmup_steps": 5,
                "shape": {"name": "cosine", "power": 2},
            },
            r"shape 'cosine' takes \['exponent'\]",
        ),
        (
            {"kind": "add_warmup", "warmup_steps": 5, "schedule": {"kind": "nope"}},
            r"config.schedule: unknown kind 'nope'",
        ),
        (
            {
                "kind": "join",
                "schedules": [1.0, {"kind": "linear_decay", "init_value": 1}],
                "boundaries": [3],
            },
            r"config.schedules\[1\]: linear_decay needs \['decay_steps'\]",
        ),
        (
            {"kind": "warmup_schedule", "peak_value": "fast", "warmup_steps": 5},
            r"config.peak_value: cannot read 'fast'",
        ),
        (
            {"kind": "warmup_schedule", "peak_value": float("nan"), "warmup_steps": 5},
            r"config\.peak_value must be finite, got nan",
        ),
        (
            {"kind": "one_cycle", "peak_value": 1, "total_steps": 10, "three_phase": "yes"},
            r"three_phase must be true or false",
        ),
        ({"kind": "phases", "phases": []}, r"config.phases must be a non-empty list"),
        (
            {"kind": "phases", "phases": [{"span": 3, "shape": "sigmoid", "start": 0, "end": 1}]},
            r"config.phases\[0\].shape must be one of",
        ),
        (
            {"kind": "phases", "phases": [{"span": 3, "start": 0, "end": 1}]},
            r"config.phases\[0\] needs 'shape'",
        ),
        (
            {
                "kind": "phases",
                "phases": [{"span": 3, "shape": "constant", "start": 0, "end": 1, "slope": 2}],
            },
            r"unknown key 'slope'",
        ),
        (
            {
                "kind": "phases",
                "phases": [{"span": 3, "shape": "constant", "start": 0, "end": 1}],
                "cycles": {"start": 4},
            },
            r"cycle_start must index a phase",
        ),
    ],
)
def test_config_errors(config: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ow.from_config(config)


def test_to_config_refuses_what_cannot_be_serialised() -> None:
    with pytest.raises(ValueError, match=r"Python function \(<lambda>\).*cannot be serialised"):
        ow.to_config(ow.multiply(ow.warmup_factor(3), lambda c: 0.5))
    with pytest.raises(ValueError, match=r"schedule.schedules\[1\] is a Python function"):
        ow.to_config(ow.multiply(ow.warmup_factor(3), lambda c: 0.5))
    with pytest.raises(ValueError, match="custom shape function"):
        ow.to_config(ow.warmup_schedule(1.0, 4, shape=lambda p: p**3))
    with pytest.raises(ValueError, match="not a schedule"):
        ow.to_config(0.5)  # type: ignore[arg-type]


def test_to_config_refuses_traced_and_batched_schedules() -> None:
    batched = jax.vmap(lambda p: ow.warmup_schedule(p, 10))(jnp.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="not a batch"):
        ow.to_config(batched)
    assert ow.to_config(jax.tree.map(lambda x: x[1], batched)) == ow.to_config(
        ow.warmup_schedule(2.0, 10)
    )

    @jax.jit
    def traced(p: jax.Array) -> jax.Array:
        ow.to_config(ow.warmup_schedule(p, 10))
        return p

    with pytest.raises(ValueError, match="traced"):
        traced(1.0)


def test_register_a_kind() -> None:
    def double_warmup(peak_value: float, warmup_steps: int) -> Any:
        return ow.warmup_schedule(2 * peak_value, warmup_steps)

    _config.register("double_warmup_for_test", double_warmup)
    try:
        s = ow.from_config({"kind": "double_warmup_for_test", "peak_value": 1, "warmup_steps": "5"})
        assert_same(s, ow.warmup_schedule(2.0, 5))
        with pytest.raises(ValueError, match="already registered"):
            _config.register("join", double_warmup)
    finally:
        _config._REGISTRY.pop("double_warmup_for_test")
