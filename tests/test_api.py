"""The library's shape as an API: one way to build a phase, one warmup/decay rule,
validation once, one base for schedule nodes, a public Schedule type, every
public name tested, and the three front ends (Python, spec, config) in agreement.
"""

from __future__ import annotations

import ast
import collections
import json
import math
import pathlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.compat import keras, transformers
from optax_warmup.engine import build
from optax_warmup.engine import validation as v

PACKAGE = pathlib.Path(ow.__file__).parent
TESTS = pathlib.Path(__file__).parent
COUNTS = jnp.arange(-2, 126)


def sources(root: pathlib.Path) -> Iterator[tuple[pathlib.Path, str]]:
    for path in sorted(root.rglob("*.py")):
        yield path, path.read_text()


# --- One way to build a phase ------------------------------------------------------------


def test_no_raw_shape_tuples_outside_the_engine() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{i + 1}"
        for path, text in sources(PACKAGE)
        if "engine" not in path.relative_to(PACKAGE).parts
        for i, line in enumerate(text.splitlines())
        if "ResolvedShape(" in line
    ]
    assert offenders == []


def test_no_module_reaches_into_another_modules_private_names() -> None:
    # ``alias._name`` where ``alias`` is an imported optax_warmup module.
    offenders = []
    for path, text in sources(PACKAGE):
        aliases = re.findall(r"from optax_warmup(?:\.\w+)* import \w+ as (\w+)", text)
        aliases += re.findall(r"from optax_warmup(?:\.\w+)* import (\w+)$", text, re.M)
        for alias in set(aliases):
            for m in re.finditer(rf"\b{re.escape(alias)}\._[a-zA-Z]\w*", text):
                offenders.append(f"{path.relative_to(PACKAGE)}: {m.group(0)}")
        offenders += [
            f"{path.relative_to(PACKAGE)}: {m.group(0)}"
            for m in re.finditer(r"from optax_warmup[\w.]* import _\w+", text)
        ]
    assert offenders == []


LAYERS = ("engine", "schedules", "transforms", "tuning", "io", "compat")


def test_each_layer_imports_only_from_the_layers_before_it() -> None:
    # The README's "Architecture" section: module-level imports (a function may
    # import a higher layer lazily for an optional feature, e.g. a plot).
    offenders = []
    for i, layer in enumerate(LAYERS):
        for path, text in sources(PACKAGE / layer):
            for node in ast.parse(text).body:
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    inner = parts[1] if parts[0] == "optax_warmup" and len(parts) > 1 else ""
                    if inner in LAYERS and LAYERS.index(inner) > i:
                        offenders.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
    assert offenders == []


def test_typed_constructors_fill_the_engine_slots_by_name() -> None:
    assert build.exp_rate(0.5, 10.0, staircase=1.0, clamp=1.0).params == (
        math.log(0.5),
        10.0,
        1.0,
        1.0,
    )
    assert build.inverse_sqrt(4.0, exponent=1.0, staircase_steps=2.0).params == (4.0, 1.0, 2.0, 0)
    assert build.half_cosine(2.0, k_decay=3.0).params == (2.0, 0.0, 0.0, 3.0)
    assert build.cosine_wave(3.0, restart=True).params[:2] == (3.0, 1.0)
    assert build.radam(0.999, 5.0, one_minus_b2=1e-3).params[:3] == (0.999, 5.0, 1e-3)


def test_phase_builders_make_the_documented_values() -> None:
    # power_in(2) warmup without init: peak * ((c + 1) / W)**2; geometric decay.
    s = ow.from_phases(
        [
            build.warmup_phase(1.0, 4, build.power_in(2.0)),
            build.decay_phase(1.0, 4, 0.25, build.geometric()),
            build.hold_phase(0.25),
        ]
    )
    want = [((c + 1) / 4) ** 2 for c in range(4)] + [0.25 ** (c / 4) for c in range(4)] + [0.25]
    np.testing.assert_allclose(np.asarray(s(jnp.arange(9))), want, rtol=2e-6)


# --- One rule for warmup vs decay ----------------------------------------------------------


def decay_oracle(shape: str, init: float, end: float, steps: int, c: np.ndarray) -> np.ndarray:
    """The decay curves in float64, from their formulas (whichever way the value goes)."""
    p = np.clip(c / steps, 0.0, 1.0)
    f = {
        "polynomial": lambda: 1 - (1 - p) ** 2,
        "1-sqrt": lambda: np.sqrt(p),
        "exponential": lambda: (np.exp(p * np.log(end / init)) - 1) / (end / init - 1),
    }[shape]()
    return init + (end - init) * f


@pytest.mark.parametrize(
    ("spec", "shape"), [("poly", "polynomial"), ("exp", "exponential"), ("1-sqrt", "1-sqrt")]
)
@pytest.mark.parametrize(("init", "end"), [(1.0, 2.0), (2.0, 0.5)])
def test_decay_shapes_follow_the_role_not_the_direction(
    spec: str, shape: str, init: float, end: float
) -> None:
    c = np.arange(0, 12)
    want = decay_oracle(shape, init, end, 10, c)
    from_spec = ow.parse_spec(f"{spec}(10) @ peak={init} end={end}")
    from_python = ow.decay_schedule(init, 10, shape=shape, end_value=end)
    np.testing.assert_allclose(np.asarray(from_spec(jnp.asarray(c))), want, rtol=3e-6)
    np.testing.assert_allclose(np.asarray(from_python(jnp.asarray(c))), want, rtol=3e-6)


def test_issue_example_values() -> None:
    s = ow.parse_spec("poly(10) @ peak=1 end=2")
    np.testing.assert_allclose([float(s(c)) for c in (1, 5, 9)], [1.19, 1.75, 1.99], rtol=2e-6)


@pytest.mark.parametrize(("spec", "shape"), [("poly", "polynomial"), ("1-sqrt", "1-sqrt")])
def test_the_first_segment_of_a_chain_is_the_warmup_even_when_it_falls(
    spec: str, shape: str
) -> None:
    s = ow.parse_spec(f"{spec}(8, from=3x) > hold(4) @ peak=1")
    py = ow.warmup_schedule(1.0, 8, shape=shape, init_value=3.0)
    np.testing.assert_array_equal(np.asarray(s(COUNTS)), np.asarray(py(COUNTS)))
    p = np.arange(8) / 8
    f = p**2 if shape == "polynomial" else 1 - np.sqrt(1 - p)  # the warmup curves
    np.testing.assert_allclose(np.asarray(s(jnp.arange(8))), 3.0 + (1.0 - 3.0) * f, rtol=3e-6)


# --- Validation once, at the public boundary ---------------------------------------------


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Counts the outermost validation calls per argument name."""
    calls: collections.Counter[str] = collections.Counter()
    depth = [0]

    def spy(fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(name: str, *args: Any, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls[name] += 1
            depth[0] += 1
            try:
                return fn(name, *args, **kwargs)
            finally:
                depth[0] -= 1

        return wrapped

    for f in ("check_finite", "check_range", "check_duration", "as_duration"):
        monkeypatch.setattr(v, f, spy(getattr(v, f)))
    return calls


def test_warmup_cosine_decay_validates_each_argument_once(
    checked: collections.Counter[str],
) -> None:
    ow.warmup_cosine_decay_schedule(0.0, 1.0, 100, 1000)
    assert dict(checked) == {
        "warmup_steps": 1,
        "peak_value": 1,
        "init_value": 1,
        "decay_steps": 1,
        "end_value": 1,
        "exponent": 1,
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ow.warmup_cosine_decay_schedule(0.0, 1.0, -1, 10), "warmup_steps must be >= 0"),
        (lambda: ow.warmup_cosine_decay_schedule(0.0, np.nan, 1, 10), "peak_value must be finite"),
        (lambda: ow.warmup_decay_schedule(1.0, 2, 1), "total_steps must be >= warmup_steps"),
        (lambda: ow.cosine_restarts(np.inf, 4), "peak_value must be finite"),
        (lambda: ow.one_cycle(np.nan, 10), "peak_value must be finite"),
        (lambda: ow.noam_schedule(8, 4, scale=np.nan), "scale must be finite"),
        (
            lambda: transformers.get_constant_schedule_with_warmup(1.0, -2),
            "num_warmup_steps must be >= 0",
        ),
        (
            lambda: transformers.get_linear_schedule_with_warmup(np.nan, 2, 10),
            "peak_value must be finite",
        ),
        (
            lambda: transformers.get_wsd_schedule(np.nan, 2, 2, 10),
            "peak_value must be finite",
        ),
        (lambda: keras.CosineDecay(np.nan, 10), "initial_learning_rate must be finite"),
        (
            lambda: ow.add_warmup(ow.linear_decay(1.0, 4), 2, shape="constant"),
            "pass init_value",
        ),
    ],
)
def test_errors_name_the_users_argument(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_traced_duration_saturates_instead_of_overflowing() -> None:
    as_duration = jax.jit(lambda x: v.as_duration("warmup_steps", x))
    top = int(np.nextafter(np.float32(2**31), np.float32(0)))  # the largest float32 < 2**31
    cases = [(1e20, top), (3e9, top), (-1e20, 0), (np.nan, 0), (np.inf, top), (2.6, 3)]
    for x, want in cases:
        assert int(as_duration(jnp.float32(x))) == want, x
    assert int(as_duration(jnp.uint32(4_000_000_000))) == 2**31 - 1
    # A warmup of a traced huge length stays a warmup (before: the cast wrapped to 0 steps).
    value = jax.jit(lambda w: ow.warmup_schedule(1.0, w)(10))(jnp.float32(1e20))
    assert 0.0 < float(value) < 1e-8


# --- One base for schedule nodes: dtype, pytree, config ------------------------------------


def node_examples() -> dict[str, Any]:
    a, b = ow.linear_decay(1.0, 10), ow.cosine_decay(0.5, 6)
    return {
        "PhaseSchedule": ow.warmup_decay_schedule(1.0, 3, 12),
        "ProductSchedule": ow.multiply(a, b, 0.5),
        "SumSchedule": ow.add(0.1, a, b),
        "MaximumSchedule": ow.maximum(a, b, 0.2),
        "MinimumSchedule": ow.minimum(a, 0.7),
        "JoinedSchedule": ow.join([a, ow.cyclic(b)], [4], rebase=False),
        "ShiftedSchedule": ow.shift(a, 3),
        "NoisySchedule": ow.with_noise(a, jax.random.key(7), pct=0.3, start_step=2, end_step=9),
        "NoisySchedule (raw key)": ow.with_noise(b, jax.random.PRNGKey(3), kind="uniform"),
        "IntegerRamp": ow.batch_size_ramp(32, 256, 20, multiple=32),
        "nested": ow.integer_ramp(ow.shift(ow.add(a, ow.multiply(b, 100.0)), -2), multiple=4),
    }


@pytest.mark.parametrize("name", list(node_examples()))
def test_to_config_round_trips_every_public_schedule_type_exactly(name: str) -> None:
    s = node_examples()[name]
    back = ow.from_config(json.loads(json.dumps(ow.to_config(s))))
    assert type(back) is type(s)
    np.testing.assert_array_equal(np.asarray(back(COUNTS)), np.asarray(s(COUNTS)))
    assert ow.to_config(back) == ow.to_config(s)


def test_to_config_names_the_one_type_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="FunctionSchedule, the one schedule type"):
        ow.to_config(ow.add(ow.linear_decay(1.0, 4), ow.FunctionSchedule(lambda c: 0.0 * c)))


# Every public constructor in ``ow.__all__`` that returns a schedule, with arguments. The
# walker below fails if a new one is missing here.
_LR = ow.linear_decay(1.0, 40)
SCHEDULE_CONSTRUCTORS: dict[str, Callable[[], Any]] = {
    "from_arrays": lambda: ow.from_arrays(
        np.asarray([3, 5, 0]), np.asarray([0.0, 1.0, 0.2]), np.asarray([1.0, 0.2, 0.2])
    ),
    "from_phases": lambda: ow.from_phases([build.warmup_phase(1.0, 4), build.hold_phase(1.0)]),
    "warmup_schedule": lambda: ow.warmup_schedule(2.0, 9, shape="cosine"),
    "warmup_factor": lambda: ow.warmup_factor(7, shape="exponential"),
    "add_warmup": lambda: ow.add_warmup(ow.cosine_decay(1.0, 30), 5, mode="multiply"),
    "decay_schedule": lambda: ow.decay_schedule(1.0, 20, shape="exponential", end_value=0.1),
    "linear_decay": lambda: ow.linear_decay(1.0, 11, end_ratio=0.1),
    "cosine_decay": lambda: ow.cosine_decay(1.0, 17, exponent=2.0),
    "polynomial_decay": lambda: ow.polynomial_decay(1.0, 13, power=3.0),
    "one_minus_sqrt_decay": lambda: ow.one_minus_sqrt_decay(1.0, 19),
    "tanh_decay": lambda: ow.tanh_decay(1.0, 23),
    "inverse_sqrt_decay": lambda: ow.inverse_sqrt_decay(1.0, 10, shift=2),
    "piecewise_constant": lambda: ow.piecewise_constant([5, 30], [1.0, 0.5, 0.1]),
    "warmup_decay_schedule": lambda: ow.warmup_decay_schedule(1.0, 6, 60, decay_shape="linear"),
    "warmup_stable_decay": lambda: ow.warmup_stable_decay(1.0, 100, 10, decay_fraction=0.2),
    "noam_schedule": lambda: ow.noam_schedule(64, 12),
    "one_cycle": lambda: ow.one_cycle(1.0, 50, three_phase=True),
    "cyclic": lambda: ow.cyclic(ow.cosine_decay(1.0, 9), num_cycles=4, cycle_mul=1.5),
    "cosine_restarts": lambda: ow.cosine_restarts(1.0, 10, warmup_steps=2, cycle_decay=0.8),
    "rewarmup": lambda: ow.rewarmup(_LR, 20, ow.cosine_decay(0.5, 30), 5),
    "constant_schedule": lambda: ow.constant_schedule(0.3),
    "join": lambda: ow.join([_LR, ow.data_batch_ramp({0: 2, 30: 4})], [25]),
    "multiply": lambda: ow.multiply(ow.shift(ow.data_batch_ramp({0: 1, 7: 3}), 2), _LR),
    "add": lambda: ow.add(0.1, _LR, ow.batch_size_ramp(1, 4, 30)),
    "maximum": lambda: ow.maximum(_LR, ow.shift(ow.linear_decay(0.5, 9), -3), 0.01),
    "minimum": lambda: ow.minimum(ow.warmup_schedule(2.0, 7), _LR),
    "shift": lambda: ow.shift(ow.rampup_batch_size(2, 8, 2, 60), -3),
    "as_schedule": lambda: ow.as_schedule(0.25),
    "with_noise": lambda: ow.with_noise(_LR, jax.random.key(1), pct=0.5),
    "integer_ramp": lambda: ow.integer_ramp(_LR, multiple=1, maximum=1),
    "batch_size_ramp": lambda: ow.batch_size_ramp(32, 256, 20, multiple=32),
    "sequence_length_ramp": lambda: ow.sequence_length_ramp(8, 128, 30),
    "branch_cooldown": lambda: ow.branch_cooldown(ow.constant_schedule(1.0), 30, 20),
    "delay": lambda: ow.delay(_LR, 10, value=0.5),
    "extend": lambda: ow.extend(ow.warmup_decay_schedule(1.0, 5, 40), 80, at=20),
    "stretch": lambda: ow.stretch(ow.warmup_decay_schedule(1.0, 5, 40), 1.5),
    "data_batch_ramp": lambda: ow.data_batch_ramp([(0, 768), (250e9, 1536)], seq_len=2048),
    "rampup_batch_size": lambda: ow.rampup_batch_size(2, 10, 2, 40, clock="tokens", seq_len=3),
    "untuned_linear_warmup": lambda: ow.untuned_linear_warmup(0.99),
    "untuned_exponential_warmup": lambda: ow.untuned_exponential_warmup(0.99),
    "radam_warmup": lambda: ow.radam_warmup(0.99),
    "adafactor_b2": lambda: ow.adafactor_b2(),
    "tied_to_lr": lambda: ow.tied_to_lr(0.1, _LR, 1.0),
    "by_examples": lambda: ow.by_examples(ow.join([_LR, 0.1], [30])),
    "by_tokens": lambda: ow.by_tokens(ow.linear_decay(1.0, 64), ow.data_batch_ramp({0: 2, 8: 4})),
    "parse_spec": lambda: ow.parse_spec("linear(5) > cosine(40) @ peak=1"),
    "from_config": lambda: ow.from_config({"kind": "by_tokens", "schedule": "cosine(9) @ peak=1"}),
    "cosine_decay_schedule": lambda: ow.cosine_decay_schedule(1.0, 30, alpha=0.1),
    "cosine_onecycle_schedule": lambda: ow.cosine_onecycle_schedule(40, 1.0),
    "exponential_decay": lambda: ow.exponential_decay(1.0, 5, 0.5, 3, staircase=True),
    "join_schedules": lambda: ow.join_schedules([_LR, ow.cosine_decay(0.5, 9)], [12]),
    "linear_onecycle_schedule": lambda: ow.linear_onecycle_schedule(40, 1.0),
    "linear_schedule": lambda: ow.linear_schedule(1.0, 0.1, 30, 4),
    "piecewise_constant_schedule": lambda: ow.piecewise_constant_schedule(1.0, {5: 0.5, 9: 0.1}),
    "piecewise_interpolate_schedule": lambda: ow.piecewise_interpolate_schedule(
        "cosine", 1.0, {4: 0.5, 30: 0.2}
    ),
    "polynomial_schedule": lambda: ow.polynomial_schedule(1.0, 0.1, 2.0, 30, 5),
    "sgdr_schedule": lambda: ow.sgdr_schedule(
        [
            {"init_value": 1.0, "peak_value": 1.0, "warmup_steps": 2, "decay_steps": 10},
            {"init_value": 0.5, "peak_value": 0.5, "warmup_steps": 0, "decay_steps": 20},
        ]
    ),
    "warmup_constant_schedule": lambda: ow.warmup_constant_schedule(0.0, 1.0, 7),
    "warmup_cosine_decay_schedule": lambda: ow.warmup_cosine_decay_schedule(0.0, 1.0, 5, 50),
    "warmup_exponential_decay_schedule": lambda: ow.warmup_exponential_decay_schedule(
        0.0, 1.0, 5, 10, 0.5
    ),
}
# Public functions annotated ``Any`` that return a schedule (the walker cannot see them).
_UNANNOTATED_SCHEDULE_FUNCTIONS = {"branch_cooldown", "delay"}


def public_schedule_constructors() -> list[str]:
    """The functions in ``ow.__all__`` whose return annotation is a schedule type."""
    import inspect

    names = []
    for name in ow.__all__:
        obj = getattr(ow, name)
        if inspect.isclass(obj) or not callable(obj) or inspect.ismodule(obj):
            continue
        returns = str(inspect.signature(obj).return_annotation)
        if re.search(r"Schedule\b|Ramp\b", returns) or name in _UNANNOTATED_SCHEDULE_FUNCTIONS:
            names.append(name)
    return names


def test_the_walker_covers_every_public_schedule_constructor() -> None:
    names = public_schedule_constructors()
    assert len(names) >= 55
    assert sorted(set(names) - set(SCHEDULE_CONSTRUCTORS)) == []
    assert sorted(set(SCHEDULE_CONSTRUCTORS) - set(names)) == []


def values_at_many_counts(s: Any) -> np.ndarray:
    """``s`` at ``COUNTS`` (a clocked schedule: its data schedule; a data ramp: at
    data counts past its last threshold too)."""
    if isinstance(s, ow.ClockedSchedule):
        return values_at_many_counts(s.schedule)
    if isinstance(s, ow.DataRamp):
        edges = np.asarray(s.thresholds, np.int64)
        counts = np.unique(np.concatenate([edges, np.maximum(edges - 1, 0), edges + 1]))
        return np.asarray(jax.jit(s)(np.minimum(counts, np.iinfo(v.index_dtype()).max)))
    return np.asarray(_evaluate(s, COUNTS))


@pytest.mark.parametrize("name", sorted(SCHEDULE_CONSTRUCTORS))
def test_to_config_round_trips_what_every_public_constructor_returns(name: str) -> None:
    s = SCHEDULE_CONSTRUCTORS[name]()
    assert isinstance(s, ow.PhaseSchedule | ow.ScheduleNode)
    config = ow.to_config(s)
    back = ow.from_config(json.loads(json.dumps(config)))
    assert type(back) is type(s)
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(s)
    assert ow.to_config(back) == config
    np.testing.assert_array_equal(values_at_many_counts(back), values_at_many_counts(s))


def test_clocked_and_data_ramp_nodes_round_trip_nested() -> None:
    ramp = ow.rampup_batch_size(2, 8, 2, 60)
    clocked = ow.by_tokens(ow.multiply(ow.join([_LR, ow.shift(_LR, 5)], [10]), 2.0))
    s = ow.multiply(ow.join([ow.shift(ramp, 4), ramp], [6]), ow.add(ramp, 1))
    back = ow.from_config(json.loads(json.dumps(ow.to_config(s))))
    np.testing.assert_array_equal(np.asarray(back(jnp.arange(120))), np.asarray(s(jnp.arange(120))))
    # Thresholds ceil(j * 60 / 3): 2 examples per step from 0, 4 from 20, 6 from 40, 8 from 60.
    assert [int(x) for x in ramp(jnp.asarray([0, 19, 20, 39, 40, 59, 60]))] == [2, 2, 4, 4, 6, 6, 8]
    back_clocked = ow.from_config(ow.to_config(clocked))
    assert isinstance(clocked, ow.ClockedSchedule)
    assert isinstance(back_clocked, ow.ClockedSchedule)
    assert back_clocked.clock == "tokens"
    np.testing.assert_array_equal(
        np.asarray(back_clocked.schedule(COUNTS)), np.asarray(clocked.schedule(COUNTS))
    )
    # A clocked schedule read back drives the data clock the same way: 6 tokens per
    # update, the join restarting its second piece (shifted by 5) at 10 tokens.
    for sched in (clocked, back_clocked):
        tx = ow.scale_by_clock(sched, batch_size=3, seq_len=2)
        state = tx.init(jnp.zeros(1))
        outs = []
        for _ in range(4):
            u, state = tx.update(jnp.ones(1), state)
            outs.append(float(np.asarray(u)[0]))
        assert outs == pytest.approx(
            [2 * (1 - 6 * k / 40) if 6 * k < 10 else 2 * (1 - (6 * k - 5) / 40) for k in range(4)],
            rel=1e-6,
        )


def test_data_clock_config_nodes_refuse_what_they_cannot_use() -> None:
    with pytest.raises(ValueError, match=r"without 'batch'.*takes only 'schedule', got 'unit'"):
        ow.from_config({"kind": "by_tokens", "schedule": 1.0, "unit": 1e6})
    with pytest.raises(ValueError, match=r"stages must be a list of \[threshold, size\] pairs"):
        ow.from_config({"kind": "data_batch_ramp", "stages": {"0": 2}})
    with pytest.raises(ValueError, match="must be a whole number"):
        ow.from_config({"kind": "data_batch_ramp", "stages": [[0, 2.5]]})


def test_config_key_forms() -> None:
    node = {"kind": "with_noise", "schedule": 1.0, "key": 5, "pct": 0.2}
    s = ow.from_config(node)
    same = ow.with_noise(1.0, jax.random.key(5), pct=0.2)
    np.testing.assert_array_equal(np.asarray(s(COUNTS)), np.asarray(same(COUNTS)))
    with pytest.raises(ValueError, match=r"config\.key must be a seed"):
        ow.from_config({**node, "key": "five"})


@pytest.mark.parametrize("name", list(node_examples()))
def test_every_node_is_a_pytree_that_jits_and_satisfies_schedule(name: str) -> None:
    s = node_examples()[name]
    assert isinstance(s, ow.Schedule)
    assert isinstance(s, ow.ScheduleNode | ow.PhaseSchedule)
    leaves, tree = jax.tree_util.tree_flatten(s)
    rebuilt = jax.tree_util.tree_unflatten(tree, leaves)
    evaluate = jax.jit(lambda sched, c: sched(c))
    np.testing.assert_array_equal(np.asarray(evaluate(rebuilt, COUNTS)), np.asarray(s(COUNTS)))
    np.testing.assert_array_equal(np.asarray(jax.jit(s)(COUNTS)), np.asarray(s(COUNTS)))


def test_nodes_promote_dtypes_as_their_inputs() -> None:
    with jax.enable_x64(True):
        a = ow.decay_schedule(1.0, 7, shape="linear", dtype=jnp.float64)
        b = ow.decay_schedule(3.0, 5, shape="linear", end_value=1.0, dtype=jnp.float64)
        c = jnp.arange(0, 9)
        fa = np.clip(1.0 - np.arange(9) / 7, 0.0, None)
        fb = 3.0 + (1.0 - 3.0) * np.clip(np.arange(9) / 5, 0.0, 1.0)
        for s, want in [
            (ow.multiply(a, b), fa * fb),
            (ow.add(a, b), fa + fb),
            (ow.join([a, b], [3]), np.where(np.arange(9) < 3, fa, np.roll(fb, 3))),
            (ow.join([a, ow.shift(b, 0)], [3]), np.where(np.arange(9) < 3, fa, np.roll(fb, 3))),
            (ow.shift(a, 2), np.clip(1.0 - (np.arange(9) + 2) / 7, 0.0, None)),
        ]:
            out = s(c)
            assert out.dtype == jnp.float64
            np.testing.assert_allclose(
                np.asarray(out), want, rtol=1e-13, atol=1e-15
            )  # float32 would be ~1e-7 off
        assert ow.with_noise(a, jax.random.key(0))(c).dtype == jnp.float64
    # float32 by default, and float32 for integer inputs (a product of two ramps).
    r = ow.integer_ramp(ow.linear_decay(64.0, 4), multiple=8)
    assert ow.multiply(r, r)(2).dtype == jnp.float32
    assert ow.add(ow.linear_decay(1.0, 4), 1)(2).dtype == jnp.float32


def test_shift_values_and_validation() -> None:
    s = ow.shift(ow.linear_decay(1.0, 4), -2)
    np.testing.assert_allclose(
        [float(s(c)) for c in range(7)], [1, 1, 1, 0.75, 0.5, 0.25, 0], rtol=2e-6, atol=1e-7
    )
    with pytest.raises(ValueError, match="steps must be a whole number"):
        ow.shift(1.0, 0.5)
    assert isinstance(ow.ShiftedSchedule(ow.constant_schedule(1.0), jnp.asarray(1)), ow.Schedule)


@pytest.mark.parametrize("x64", [False, True])
def test_shift_saturates_at_the_count_dtype_limits(x64: bool) -> None:
    """A shifted count never wraps: past the dtype's maximum it stays at the end."""
    with jax.enable_x64(x64):
        dt = jnp.int64 if x64 else jnp.int32
        info = jnp.iinfo(dt)
        base = ow.linear_decay(1.0, 10)
        late, early = ow.shift(base, -5), ow.shift(base, 5)
        ev = jax.jit(lambda s, c: s(c))
        for c in (info.max - 3, info.max):
            assert float(ev(late, jnp.asarray(c, dt))) == 0.0  # a wrap would give 1.0
            assert float(ev(early, jnp.asarray(c, dt))) == 0.0
        # Negative counts are count 0 (the library's rule), shifted like it.
        assert float(ev(early, jnp.asarray(info.min, dt))) == pytest.approx(0.5, rel=1e-6)
        assert float(ev(late, jnp.asarray(7, dt))) == pytest.approx(0.8, rel=1e-6)


def test_node_types() -> None:
    nodes = node_examples()
    assert isinstance(nodes["SumSchedule"], ow.SumSchedule)
    assert isinstance(nodes["IntegerRamp"], ow.IntegerRamp)
    assert isinstance(nodes["ProductSchedule"], ow.ProductSchedule)
    assert isinstance(nodes["JoinedSchedule"], ow.JoinedSchedule)
    assert isinstance(nodes["NoisySchedule"], ow.NoisySchedule)
    assert isinstance(nodes["ShiftedSchedule"], ow.ShiftedSchedule)
    assert isinstance(nodes["MaximumSchedule"], ow.MaximumSchedule)
    assert isinstance(nodes["MinimumSchedule"], ow.MinimumSchedule)
    c = np.arange(14)
    lin = np.maximum(1 - c / 10, 0)
    cos = 0.25 * (1 + np.cos(np.pi * np.minimum(c, 6) / 6))
    np.testing.assert_allclose(
        np.asarray(nodes["MaximumSchedule"](jnp.asarray(c))),
        np.maximum(np.maximum(lin, cos), 0.2),
        rtol=2e-6,
        atol=1e-7,
    )
    np.testing.assert_allclose(
        np.asarray(nodes["MinimumSchedule"](jnp.asarray(c))), np.minimum(lin, 0.7), rtol=2e-6
    )
    with pytest.raises(ValueError, match="maximum needs at least one schedule"):
        ow.maximum()
    sum_values = np.asarray(nodes["SumSchedule"](jnp.arange(4)))
    np.testing.assert_allclose(
        sum_values,
        [0.1 + (1 - c / 10) + 0.25 * (1 + np.cos(np.pi * c / 6)) for c in range(4)],
        rtol=2e-6,
    )


def test_optimizer_states_are_the_public_state_types() -> None:
    import optax

    params = {"head": jnp.ones(1), "body": jnp.ones(1)}
    tx = ow.scale_by_group(
        {"head": ow.warmup_factor(4), "body": 1.0}, {"head": "head"}, default="body"
    )
    state = tx.init(params)
    assert isinstance(state, ow.ScaleByGroupState)
    np.testing.assert_allclose(np.asarray(state.multipliers["head"]), 0.25)
    inj = ow.inject_schedules(optax.sgd)(learning_rate=ow.warmup_schedule(1.0, 4))
    state = inj.init(jnp.zeros(2))
    assert isinstance(state, ow.InjectSchedulesState)
    assert float(state.hyperparams["learning_rate"]) == 0.25


def test_spec_errors_are_spec_error_and_value_error() -> None:
    with pytest.raises(ow.SpecError, match="unknown segment 'cosin'"):
        ow.parse_spec("linear(10) > cosin(100)")
    assert issubclass(ow.SpecError, ValueError)


def test_compat_namespace_holds_every_peer_and_the_optax_dropins() -> None:
    import optax_warmup.compat.optax as ox

    assert set(ow.compat.__all__) == {
        "big_vision",
        "composer",
        "keras",
        "levanter",
        "maxtext",
        "optax",
        "pytorch_warmup",
        "t5x",
        "timm",
        "torch",
        "transformers",
    }
    dropins = [n for n in dir(ox) if not n.startswith("_") and callable(getattr(ox, n))]
    dropins = [n for n in dropins if getattr(getattr(ox, n), "__module__", "") == ox.__name__]
    assert len(dropins) == 13
    for name in dropins:
        assert getattr(ow, name) is getattr(ox, name)  # the top-level names are aliases
        doc = " ".join((getattr(ox, name).__doc__ or "").split())
        assert "Follows optax's convention" in doc
        assert "the native equivalent is :func:`optax_warmup." in doc


def test_newer_public_types_are_what_their_builders_return() -> None:
    import optax

    ramp = ow.data_batch_ramp({0: 2, 10: 4}, clock="examples")
    assert isinstance(ramp, ow.DataRamp)
    assert ow.ramp_stages(ramp, 10) == [(0, 2), (5, 4)]  # 10 examples at 2 per step: step 5
    assert isinstance(ow.ramp_schedule_stages(ramp, num_steps=10), ow.RampStages)
    np.testing.assert_allclose(float(ow.lr_scale(256, 1024, "sqrt")), np.sqrt(256 / 1024))
    np.testing.assert_allclose(float(ow.lr_scale(256, 1024, "linear")), 256 / 1024)
    paths = ("patch_embed/kernel", "blocks/4/mlp/w", "head/w")
    assert [ow.layer_id_from_path(p) for p in paths] == [0, 5, None]
    params = {"embed": jnp.ones(1), "layers_0": jnp.ones(1), "head": jnp.ones(1)}
    ld = ow.layer_decay(params, 0.5)
    assert isinstance(ld, ow.LayerDecay)
    assert ld.multipliers == {"layer_0": 0.25, "layer_1": 0.5, "layer_2": 1.0}
    plateau = ow.reduce_on_plateau(0.1).init(jnp.zeros(1))
    assert isinstance(plateau, ow.ReduceOnPlateauState)
    clocked = ow.by_examples(ow.linear_decay(1.0, 8))
    assert isinstance(clocked, ow.ClockedSchedule)
    with pytest.raises(TypeError, match="counts examples, not steps"):
        clocked(0)
    state = ow.scale_by_clock(clocked).init(jnp.zeros(1))
    assert isinstance(state, ow.ScaleByClockState)
    assert isinstance(state.clock, ow.DataClockState)
    assert isinstance(ow.with_clock(optax.sgd(1.0), clocked).init(jnp.zeros(1)), ow.WithClockState)


# --- Each function does one job ----------------------------------------------------------

MAX_FUNCTION_LINES = 60
# Functions over the limit in modules this check found them in, not split yet (each one
# is another part of the library's own work; remove its entry when it is split).
_LONG_FUNCTIONS_TO_SPLIT = {
    "compat/timm.py:WSDLRScheduler",
    "schedules/horizon.py:_retime",
    "transforms/hyperparams.py:inject_schedules",
    "transforms/plateau.py:reduce_on_plateau",
    "tuning/finder.py:find_learning_rate",
}


def function_lengths() -> dict[str, int]:
    """Lines of every function in the package (its docstring not counted)."""
    out = {}
    for path, text in sources(PACKAGE):
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                assert first.end_lineno is not None
                lines -= first.end_lineno - first.lineno + 1
            key = f"{path.relative_to(PACKAGE).as_posix()}:{node.name}"
            out[key] = max(out.get(key, 0), lines)  # nested functions may share a name
    return out


def test_no_function_is_over_60_lines() -> None:
    lengths = function_lengths()
    assert lengths["engine/phases.py:evaluate"] <= 30
    too_long = {k: n for k, n in lengths.items() if n > MAX_FUNCTION_LINES}
    assert sorted(set(too_long) - _LONG_FUNCTIONS_TO_SPLIT) == []
    # An entry whose function was split (or renamed) must leave the list.
    assert sorted(_LONG_FUNCTIONS_TO_SPLIT - set(too_long)) == []


# --- The Schedule type --------------------------------------------------------------------


def test_public_functions_annotate_schedules_with_the_schedule_type() -> None:
    import inspect

    for name in ("add_warmup", "join", "rewarmup", "from_config", "join_schedules", "as_schedule"):
        assert inspect.signature(getattr(ow, name)).return_annotation == "Schedule", name
    assert (PACKAGE / "py.typed").exists()


# --- Every public name is tested -----------------------------------------------------------


def test_every_public_name_is_exercised_by_a_test() -> None:
    text = (
        "\n".join(t for path, t in sources(TESTS) if path.name != pathlib.Path(__file__).name)
        + pathlib.Path(__file__).read_text().split("# --- Every public name")[0]
    )
    untested = [
        name
        for name in ow.__all__
        if not re.search(
            rf"(\b\w+\.{name}\b|import[^\n]*\b{name}\b|^\s+{name},$)",
            text,
            re.M,
        )
    ]
    assert untested == []


# --- Python API, spec string and config agree ---------------------------------------------

_SPEC_SHAPE = {
    "linear": "linear",
    "cosine": "cosine",
    "polynomial": "poly",
    "exponential": "exp",
    "1-sqrt": "1-sqrt",
}
shape_names = st.sampled_from(list(_SPEC_SHAPE))
values = st.sampled_from([0.05, 0.3, 1.0, 2.5, 1e-3, 7e-4])
HYP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_evaluate = jax.jit(lambda s, c: s(c))  # one evaluator; one shape of counts (COUNTS)


@st.composite
def three_ways(draw: Any) -> tuple[Any, str, dict[str, Any]]:
    """A schedule as a Python call, a spec string and a config node."""
    kind = draw(st.sampled_from(["warmup_decay", "wsd", "decay"]))
    peak, end = draw(values), draw(values)
    w, d, hold = draw(st.integers(1, 40)), draw(st.integers(1, 60)), draw(st.integers(0, 30))
    ws, ds = draw(shape_names), draw(shape_names)
    if kind == "warmup_decay":
        py = ow.warmup_decay_schedule(
            peak, w, w + d, warmup_shape=ws, decay_shape=ds, end_value=end
        )
        spec = f"{_SPEC_SHAPE[ws]}({w}) > {_SPEC_SHAPE[ds]}({d}) @ peak={peak!r} end={end!r}"
        cfg = {
            "kind": "warmup_decay_schedule",
            "peak_value": peak,
            "warmup_steps": w,
            "total_steps": w + d,
            "warmup_shape": ws,
            "decay_shape": ds,
            "end_value": end,
        }
    elif kind == "wsd":
        py = ow.warmup_stable_decay(
            peak, w + hold + d, w, decay_steps=d, warmup_shape=ws, decay_shape=ds, end_value=end
        )
        spec = (
            f"{_SPEC_SHAPE[ws]}({w}) > hold({hold}) > {_SPEC_SHAPE[ds]}({d}, to={end!r}) "
            f"@ peak={peak!r}"
        )
        cfg = {
            "kind": "wsd",
            "peak_value": peak,
            "total_steps": f"{w + hold + d}",
            "warmup_steps": w,
            "decay_steps": d,
            "warmup_shape": ws,
            "decay_shape": ds,
            "end_value": end,
        }
    else:  # a lone decay, which may rise (end > peak): the decay curve either way
        py = ow.decay_schedule(peak, d, shape=ds, end_value=end)
        spec = f"{_SPEC_SHAPE[ds]}({d}) @ peak={peak!r} end={end!r}"
        cfg = {
            "kind": "decay_schedule",
            "init_value": peak,
            "decay_steps": d,
            "shape": ds,
            "end_value": end,
        }
    return py, spec, cfg


@HYP
@given(three_ways())
def test_python_spec_and_config_agree(case: tuple[Any, str, dict[str, Any]]) -> None:
    py, spec, cfg = case
    want = np.asarray(_evaluate(py, COUNTS))
    for other in (ow.parse_spec(spec), ow.from_config(cfg), ow.from_config(spec)):
        np.testing.assert_allclose(np.asarray(_evaluate(other, COUNTS)), want, rtol=2e-6, atol=0)
