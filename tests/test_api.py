"""The library's shape as an API: one way to build a phase, one warmup/decay rule,
validation once, one base for schedule nodes, a public Schedule type, every
public name tested, and the three front ends (Python, spec, config) in agreement.
"""

from __future__ import annotations

import ast
import collections
import json
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
    assert build.exp_rate(0.5, 10.0, staircase=1.0, clamp=1.0).params == (0.5, 10.0, 1.0, 1.0)
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


# --- One base for schedule nodes: dtype, pytree, config ------------------------------------


def node_examples() -> dict[str, Any]:
    a, b = ow.linear_decay(1.0, 10), ow.cosine_decay(0.5, 6)
    return {
        "PhaseSchedule": ow.warmup_decay_schedule(1.0, 3, 12),
        "ProductSchedule": ow.multiply(a, b, 0.5),
        "SumSchedule": ow.add(0.1, a, b),
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


def test_node_types() -> None:
    nodes = node_examples()
    assert isinstance(nodes["SumSchedule"], ow.SumSchedule)
    assert isinstance(nodes["IntegerRamp"], ow.IntegerRamp)
    assert isinstance(nodes["ProductSchedule"], ow.ProductSchedule)
    assert isinstance(nodes["JoinedSchedule"], ow.JoinedSchedule)
    assert isinstance(nodes["NoisySchedule"], ow.NoisySchedule)
    assert isinstance(nodes["ShiftedSchedule"], ow.ShiftedSchedule)
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
        "keras",
        "levanter",
        "maxtext",
        "optax",
        "pytorch_warmup",
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
