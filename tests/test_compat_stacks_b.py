"""optax_warmup.compat.t5x and .composer against float64 transcriptions of the stacks' sources.

t5x: ``ref_t5x`` follows ``step_fn`` of ``create_learning_rate_scheduler`` in
google-research/t5x ``t5x/utils.py`` at commit
cc342d419ec3e3e9c4bf1df33c82330cafdc1e16, line by line, in float64 (the cyclic
``progress % 1.0`` written with an integer remainder, its exact value).
"""

from __future__ import annotations

import math
import re
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.compat import composer, t5x
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
            # t5x holds decay_factor in float32 (a jnp weak float), as the library does:
            # df ** n then carries n times its rounding, which no float32 result can avoid.
            ret *= float(np.float32(df)) ** (step // spd)
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
    base=st.floats(0.0, 2.0).map(lambda x: round(x, 6)),
    w=st.integers(1, 60),
    df=st.floats(0.0, 1.0).map(lambda x: round(x, 6)),
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


# --- Composer ------------------------------------------------------------------------------
# ``Ref*`` below transcribe mosaicml/composer at commit
# 6405188805a0054b4551ec49e4919c54c971d0e8: ``composer/core/time.py`` (``Time``,
# ``Time.from_timestring``, ``Timestamp.get``; max_duration * ssr in
# ``composer/trainer/trainer.py::_scale_max_duration_by_ssr``) and
# ``composer/optim/scheduler.py`` (``_convert_time``, ``_cosine_anneal``, each scheduler's
# ``__call__`` and the two ``_raise_if_...`` checks), in float64 Python. The trainer steps the
# schedulers before it advances its timestamp (``trainer.py``, the train loop), so update ``k``
# uses the multiplier of batch ``max(k - 1, 0)``.

COMPOSER_COMMIT = "6405188805a0054b4551ec49e4919c54c971d0e8"


class RefTime:
    def __init__(self, value: float, unit: str) -> None:
        if unit != "dur" and not isinstance(value, int):
            raise TypeError(value)
        self.value, self.unit = (float(value) if unit == "dur" else value), unit

    @staticmethod
    def parse(text: str) -> RefTime:
        m = re.findall(r"^(.+)(iter|ep|ba|sp|tok|dur|sec)$", text, flags=re.IGNORECASE)
        value, unit = float(m[0][0]), m[0][1].lower()
        if unit != "dur":
            if int(value) != value:
                raise TypeError(text)
            value = int(value)
        return RefTime(value, unit)


class RefState:
    def __init__(
        self, max_duration: str, ssr: float, L: int | None, spb: int | None, tpb: int | None
    ):
        md = RefTime.parse(max_duration)
        self.max_duration = RefTime(type(md.value)(md.value * ssr), md.unit)  # Time.__mul__
        if self.max_duration.value == 0:  # _scale_max_duration_by_ssr
            raise ValueError("max_duration")
        self.dataloader_len, self.spb, self.tpb, self.batch = L, spb, tpb, 0

    def get(self, unit: str) -> int:
        return {
            "ba": self.batch,
            "sp": self.batch * (self.spb or 0),
            "tok": self.batch * (self.tpb or 0),
        }[unit]


def ref_convert(time: str, state: RefState, ssr: float = 1.0) -> RefTime:
    t = RefTime.parse(time)
    md = state.max_duration
    if t.unit == "dur":
        if md.unit == "ep":
            return RefTime(int(t.value * int(state.dataloader_len) * md.value), "ba")  # type: ignore[arg-type]
        return RefTime(int(t.value * md.value), md.unit)
    if t.unit == "ep":
        t = RefTime(t.value * int(state.dataloader_len), "ba")  # type: ignore[arg-type]
    return RefTime(int(t.value * ssr), t.unit)


def ref_anneal(x: float, min_y: float = 0.0, max_y: float = 1.0) -> float:
    x = min(max(x, 0.0), 1.0)
    return min_y + (max_y - min_y) * (1 + math.cos(x * math.pi)) / 2


def ref_check_max(t_max: RefTime, state: RefState) -> None:
    md = state.max_duration
    if t_max.unit == md.unit:
        if t_max.value < md.value:
            raise ValueError("t_max")
    elif t_max.unit == "ba" and md.unit == "ep" and state.dataloader_len is not None:  # noqa: SIM102
        if t_max.value < md.value * int(state.dataloader_len):
            raise ValueError("t_max")


def ref_linear(state: RefState, ai: float, af: float, t_max: str, ssr: float = 1.0) -> float:
    t = ref_convert(t_max, state, ssr)
    frac = min(1.0, state.get(t.unit) / t.value)
    return ai + frac * (af - ai)


def f32(x: float) -> float:
    """A rate as the library holds it (float32): Composer's float64 ``gamma ** n`` differs by
    about ``n`` float32 roundings of ``gamma``, which no float32 schedule can avoid."""
    return float(np.float32(x))


def ref_multistep(state: RefState, milestones: list[str], gamma: float, ssr: float) -> float:
    gamma = f32(gamma)
    factor = 1.0
    for m in [ref_convert(x, state, ssr) for x in milestones]:
        if state.get(m.unit) >= m.value:
            factor *= gamma
    return factor


def ref_with_warmup(kind: str, state: RefState, ssr: float, kw: dict) -> float:
    """``...WithWarmupScheduler.__call__`` of ``kind`` (Constant: Linear, alpha_i = alpha_f)."""
    t_warmup, scale = kw["t_warmup"], kw.get("scale_warmup", False)
    peak = kw.get("alpha_i", 1.0) if kind == "linear" else 1.0
    tw = ref_convert(t_warmup, state)
    if kind != "multistep":
        t_max = ref_convert(kw.get("t_max", "1dur"), state, ssr)
        if tw.unit != t_max.unit:
            raise ValueError("units")
        ref_check_max(t_max, state)
    if state.get(tw.unit) < tw.value:
        return ref_linear(state, 0.0, peak, t_warmup, ssr if scale else 1.0)
    if kind == "multistep":
        return ref_multistep(state, kw["milestones"], kw.get("gamma", 0.1), ssr)
    cur = state.get(tw.unit)
    frac = (cur - tw.value) / (t_max.value - tw.value) if t_max.value > tw.value else 0.0
    frac = min(1.0, frac)
    af = kw.get("alpha_f", 0.0)
    if kind == "linear":
        return peak + frac * (af - peak)
    if kind == "cosine":
        return ref_anneal(frac, min_y=af)
    return af + (1 - frac) ** kw.get("power", 2.0) * (1.0 - af)


def ref_plain(kind: str, state: RefState, ssr: float, kw: dict) -> float:
    """The schedulers without warmup."""
    if kind == "constant":
        t = ref_convert(kw.get("t_max", "1dur"), state, ssr)
        return kw.get("alpha", 1.0) if state.get(t.unit) < t.value else 1.0
    if kind == "linear":
        return ref_linear(
            state, kw.get("alpha_i", 1.0), kw.get("alpha_f", 0.0), kw.get("t_max", "1dur"), ssr
        )
    if kind == "cosine":
        t = ref_convert(kw.get("t_max", "1dur"), state, ssr)
        return ref_anneal(state.get(t.unit) / t.value, min_y=kw.get("alpha_f", 0.0))
    if kind == "poly":
        t = ref_convert(kw.get("t_max", "1dur"), state, ssr)
        frac = min(1.0, state.get(t.unit) / t.value)
        af = kw.get("alpha_f", 0.0)
        return af + (1 - frac) ** kw["power"] * (1.0 - af)
    if kind == "step":
        t = ref_convert(kw["step_size"], state, ssr)
        return f32(kw.get("gamma", 0.1)) ** int(state.get(t.unit) / t.value)
    if kind == "multistep":
        return ref_multistep(state, kw["milestones"], kw.get("gamma", 0.1), ssr)
    if kind == "restarts":
        t_0 = ref_convert(kw["t_0"], state, ssr)
        interval_len, interval_end = t_0.value, t_0.value
        while interval_end <= state.get(t_0.unit):
            if interval_len == 0:
                raise ValueError("Interval between restarts ... has decayed to 0.")
            interval_len = int(kw.get("t_mult", 1.0) * interval_len)
            interval_end += interval_len
        interval_start = interval_end - interval_len
        frac = (state.get(t_0.unit) - interval_start) / interval_len
        return ref_anneal(frac, min_y=kw.get("alpha_f", 0.0))
    t = ref_convert(kw.get("decay_period", "1ep"), state, ssr)
    return f32(kw["gamma"]) ** float(state.get(t.unit) / t.value)


_WARMUP_FNS = {
    "constant": composer.ConstantWithWarmupScheduler,
    "linear": composer.LinearWithWarmupScheduler,
    "cosine": composer.CosineAnnealingWithWarmupScheduler,
    "poly": composer.PolynomialWithWarmupScheduler,
    "multistep": composer.MultiStepWithWarmupScheduler,
}
_PLAIN_FNS = {
    "constant": composer.ConstantScheduler,
    "linear": composer.LinearScheduler,
    "cosine": composer.CosineAnnealingScheduler,
    "poly": composer.PolynomialScheduler,
    "step": composer.StepScheduler,
    "multistep": composer.MultiStepScheduler,
    "exponential": composer.ExponentialScheduler,
    "restarts": composer.CosineAnnealingWarmRestartsScheduler,
}


def ref_composer_lrs(
    warmup: bool, kind: str, lr: float, kw: dict, clock: dict, counts: list[int], lag: bool = True
) -> np.ndarray:
    ssr = clock.get("scale_schedule_ratio", 1.0)
    state = RefState(
        clock["max_duration"],
        ssr,
        clock.get("batches_per_epoch"),
        clock.get("samples_per_batch"),
        clock.get("tokens_per_batch"),
    )
    out = []
    for k in counts:
        state.batch = max(k - 1, 0) if lag else k
        if warmup:
            ref_kind = "linear" if kind == "constant" else kind
            rkw = dict(kw)
            if kind == "constant":
                rkw["alpha_i"] = rkw["alpha_f"] = rkw.pop("alpha", 1.0)
            out.append(lr * ref_with_warmup(ref_kind, state, ssr, rkw))
        else:
            out.append(lr * ref_plain(kind, state, ssr, kw))
    return np.asarray(out)


_PER = {"ba": 1, "sp": "samples_per_batch", "tok": "tokens_per_batch"}


@st.composite
def composer_configs(draw: st.DrawFn, warmup: bool) -> tuple[str, dict, dict]:
    """A scheduler kind, its arguments (Composer time strings) and the trainer's clock."""
    clock = {
        "batches_per_epoch": draw(st.integers(1, 12)),
        "samples_per_batch": draw(st.integers(1, 64)),
        "tokens_per_batch": draw(st.integers(1, 3000)),
        "scale_schedule_ratio": draw(st.sampled_from([1.0, 1.0, 0.5, 0.37, 1.5, 2.0])),
    }
    md_unit = draw(st.sampled_from(["ba", "ep", "sp", "tok"]))
    batches = draw(st.integers(4, 120))
    if md_unit == "ep":
        md_value = max(1, batches // clock["batches_per_epoch"])
    elif md_unit == "ba":
        md_value = batches
    else:
        per = clock[_PER[md_unit]]
        md_value = batches * per + draw(st.integers(0, per - 1))
    clock["max_duration"] = f"{md_value}{md_unit}"
    base = "ba" if md_unit in ("ba", "ep") else md_unit  # t_max's unit after conversion

    def a_time(same_as_base: bool, top: float, low: int = 0) -> str:
        unit = draw(st.sampled_from(["dur", base] + (["ep"] if base == "ba" else [])))
        if not same_as_base and draw(st.booleans()):
            unit = draw(st.sampled_from(["ba", "ep", "sp", "tok", "dur"]))
        if unit == "dur":
            return f"{draw(st.integers(low, int(100 * top))) / 100}dur"
        per_batch = {
            "ba": 1,
            "ep": 0,
            "sp": clock["samples_per_batch"],
            "tok": clock["tokens_per_batch"],
        }
        if unit == "ep":
            top_ep = max(1, int(top * batches) // clock["batches_per_epoch"])
            return f"{draw(st.integers(low, top_ep))}ep"
        return f"{draw(st.integers(low, int(top * batches * per_batch[unit]) + 1))}{unit}"

    kinds = list(_WARMUP_FNS) if warmup else list(_PLAIN_FNS)
    kind = draw(st.sampled_from(kinds))
    kw: dict = {}
    if warmup:
        kw["t_warmup"] = a_time(True, 0.6)
        kw["scale_warmup"] = draw(st.booleans())
    if kind in ("constant",):
        kw["alpha"] = round(draw(st.floats(0.0, 2.0)), 6)
        if not warmup:
            kw["t_max"] = a_time(False, 1.2)
    if kind in ("linear", "cosine", "poly"):
        kw["alpha_f"] = round(draw(st.floats(0.0, 1.0)), 6)
        if kind == "linear":
            kw["alpha_i"] = round(draw(st.floats(0.0, 2.0)), 6)
        if kind == "poly":
            kw["power"] = round(draw(st.floats(0.2, 4.0)), 6)
        if warmup:
            kw["t_max"] = draw(st.sampled_from(["1dur", "1.25dur", "1dur"]))
        else:
            kw["t_max"] = a_time(False, 1.2, low=1)
    if kind in ("step", "multistep", "exponential"):
        kw["gamma"] = round(draw(st.floats(0.05, 1.0)), 6)
    if kind == "step":
        kw["step_size"] = a_time(False, 0.4, low=1)
    if kind == "exponential":
        kw["decay_period"] = a_time(False, 0.5, low=1)
    if kind == "restarts":
        kw["t_0"] = a_time(False, 0.5, low=1)
        kw["t_mult"] = draw(st.sampled_from([1.0, 1.0, 2.0, 1.5, 1.05, 0.5, 0.8, 3.0]))
        kw["alpha_f"] = round(draw(st.floats(0.0, 1.0)), 6)
    if kind == "multistep":
        kw["milestones"] = [a_time(False, 1.0) for _ in range(draw(st.integers(0, 3)))]
    return kind, kw, clock


COMPOSER_COUNTS = [*range(300), 10**5 + 3, 2**24 - 3]


def run_batches(clock: dict) -> int:
    """The batches a run of ``max_duration`` trains (the trainer stops at max_duration)."""
    md = RefState(clock["max_duration"], clock.get("scale_schedule_ratio", 1.0), None, None, None)
    m = md.max_duration
    if m.unit == "ep":
        return m.value * clock["batches_per_epoch"]
    per = {"ba": 1, "sp": clock["samples_per_batch"], "tok": clock["tokens_per_batch"]}[m.unit]
    return -(-m.value // per)


def _composer_case(warmup: bool, kind: str, kw: dict, clock: dict) -> None:
    fn = (_WARMUP_FNS if warmup else _PLAIN_FNS)[kind]
    lr = 3e-4
    counts = COMPOSER_COUNTS
    if kind == "restarts":  # Composer raises only when training reaches a cycle of length 0
        counts = list(range(run_batches(clock) + 1))  # batch k - 1 at count k: all it sees
    try:
        want = ref_composer_lrs(warmup, kind, lr, kw, clock, counts)
    except (ZeroDivisionError, ValueError):  # Composer refuses the config: so must we
        with pytest.raises(ValueError, match=r"t_max|t_warmup|step_size|decay_period|max_dur|t_0"):
            fn(lr, **kw, **clock)
        return
    got = values(fn(lr, **kw, **clock), counts)
    assert_close(got, want, rtol=2e-6)


@settings(max_examples=70, deadline=None, derandomize=True)
@given(composer_configs(warmup=True))
def test_composer_warmup_schedulers_match_the_transcription(case: tuple[str, dict, dict]) -> None:
    _composer_case(True, *case)


@settings(max_examples=70, deadline=None, derandomize=True)
@given(composer_configs(warmup=False))
def test_composer_schedulers_match_the_transcription(case: tuple[str, dict, dict]) -> None:
    _composer_case(False, *case)


def test_composer_first_two_updates_share_batch_zeros_multiplier() -> None:
    kw: dict[str, Any] = {"max_duration": "8ba"}
    lagged = composer.LinearWithWarmupScheduler(1.0, "4ba", **kw)
    direct = composer.LinearWithWarmupScheduler(1.0, "4ba", trainer_lag=False, **kw)
    assert values(direct, range(6)).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 0.75]
    assert values(lagged, range(6)).tolist() == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


def test_composer_time_units_convert_as_composer_does() -> None:
    # 2ep of 5 batches = 10 batches; 0.25dur of 4ep = int(0.25 * 5 * 4) = 5 batches.
    kw: dict[str, Any] = {"max_duration": "4ep", "batches_per_epoch": 5, "trainer_lag": False}
    a = composer.CosineAnnealingWithWarmupScheduler(1.0, "2ep", **kw)
    b = composer.CosineAnnealingWithWarmupScheduler(1.0, "10ba", **kw)
    c = composer.CosineAnnealingWithWarmupScheduler(1.0, "0.5dur", **kw)
    counts = list(range(25))
    assert values(a, counts).tolist() == values(b, counts).tolist() == values(c, counts).tolist()
    # Samples: a warmup of 100sp with 48 per batch ends after count 2 (96 < 100 <= 144).
    s = composer.LinearWithWarmupScheduler(
        1.0, "100sp", max_duration="480sp", samples_per_batch=48, trainer_lag=False
    )
    assert values(s, [1, 2, 3]).tolist() == pytest.approx([0.48, 0.96, 1 - 44 / 380])


def test_composer_scale_schedule_ratio_scales_dur_and_t_max_not_the_warmup() -> None:
    kw: dict[str, Any] = {"max_duration": "10ba", "trainer_lag": False}
    half = composer.LinearWithWarmupScheduler(1.0, "4ba", scale_schedule_ratio=0.5, **kw)
    # max_duration -> 5ba, t_max = 1dur -> 5ba; the warmup still lasts 4 batches.
    assert values(half, range(7)).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 0.0, 0.0]
    scaled = composer.LinearWithWarmupScheduler(
        1.0, "4ba", scale_warmup=True, scale_schedule_ratio=0.5, **kw
    )
    # scale_warmup: the slope follows 2ba, the warmup still ends at 4ba (held at 1 between).
    assert values(scaled, range(6)).tolist() == [0.0, 0.5, 1.0, 1.0, 1.0, 0.0]
    dur = composer.LinearWithWarmupScheduler(1.0, "0.4dur", scale_schedule_ratio=0.5, **kw)
    # 0.4dur of the scaled 5ba = 2ba: the warmup scales with max_duration even unscaled.
    assert values(dur, range(6)).tolist() == pytest.approx([0.0, 0.5, 1.0, 2 / 3, 1 / 3, 0.0])


def test_composer_past_max_duration_holds_the_final_multiplier() -> None:
    s = composer.CosineAnnealingWithWarmupScheduler(
        2.0, "2ba", alpha_f=0.1, max_duration="10ba", trainer_lag=False
    )
    assert values(s, [10, 11, 10**6]).tolist() == pytest.approx([0.2, 0.2, 0.2], rel=1e-6)
    c = composer.ConstantWithWarmupScheduler(
        1.0, "2ba", alpha=0.5, max_duration="4ba", trainer_lag=False
    )
    assert values(c, [4, 100]).tolist() == [0.5, 0.5]  # alpha, not 1.0, past t_max


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "2ep", max_duration="9ba"),
            "batches_per_epoch",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "2sp", max_duration="9sp"),
            "samples_per_batch",
        ),
        (
            lambda: composer.ExponentialScheduler(1.0, 0.5, "9tok", max_duration="9ba"),
            "tokens_per_batch",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(
                1.0, "2sp", max_duration="9ba", samples_per_batch=2
            ),
            "same units",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "2ba", t_max="5ba", max_duration="9ba"),
            "t_max",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "1.5ba", max_duration="9ba"),
            "t_warmup: ba times must be whole",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "10", max_duration="9ba"),
            "t_warmup: cannot read",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "3iter", max_duration="9ba"),
            "'iter' is not supported",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "3sec", max_duration="9ba"),
            "'sec' is not supported",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(1.0, "2ba", max_duration="0.5dur"),
            "max_duration must be in",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(
                1.0, "2ba", max_duration="3ba", scale_schedule_ratio=0.2
            ),
            "is 0",
        ),
        (
            lambda: composer.LinearWithWarmupScheduler(
                1.0, "2ba", max_duration="3ba", scale_schedule_ratio=0
            ),
            "scale_schedule_ratio",
        ),
        (
            lambda: composer.LinearScheduler(1.0, t_max="0ba", max_duration="3ba"),
            "t_max must be > 0",
        ),
        (
            lambda: composer.StepScheduler(1.0, "0.0dur", max_duration="3ba"),
            "step_size must be > 0",
        ),
        (lambda: composer.PolynomialScheduler(1.0, 0.0, max_duration="3ba"), "power"),
        (lambda: composer.MultiStepScheduler(1.0, "2ba", max_duration="3ba"), "milestones"),
        (lambda: composer.LinearWithWarmupScheduler(float("nan"), "2ba", max_duration="3ba"), "lr"),
        (
            lambda: composer.LinearWithWarmupScheduler(
                1.0, "2ba", max_duration="3ba", batches_per_epoch=0
            ),
            "batches_per_epoch",
        ),
    ],
)
def test_composer_bad_inputs_name_the_argument(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_composer_vmap_over_traced_lr_and_alpha_f_compiles_once() -> None:
    traces = 0
    kw: dict[str, Any] = {"max_duration": "3ep", "batches_per_epoch": 7}

    def at(lr: jax.Array, alpha_f: jax.Array, gamma: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        a = composer.CosineAnnealingWithWarmupScheduler(lr, "0.1dur", alpha_f=alpha_f, **kw)
        b = composer.MultiStepWithWarmupScheduler(lr, "3ba", ["1ep", "2ep"], gamma, **kw)
        return jnp.stack([a(jnp.arange(30)), b(jnp.arange(30))])

    f = jax.jit(jax.vmap(at))
    lrs, afs, gs = [1e-3, 3e-4], [0.0, 0.1], [0.5, 0.1]
    got = np.asarray(f(jnp.asarray(lrs), jnp.asarray(afs), jnp.asarray(gs)), np.float64)
    f(jnp.asarray([1.0, 2.0]), jnp.asarray([0.2, 0.3]), jnp.asarray([0.9, 0.8]))
    assert traces == 1
    counts = list(range(30))
    clock = dict(kw)
    for row, lr, af, g in zip(got, lrs, afs, gs, strict=True):
        want_a = ref_composer_lrs(
            True, "cosine", lr, {"t_warmup": "0.1dur", "alpha_f": af}, clock, counts
        )
        want_b = ref_composer_lrs(
            True,
            "multistep",
            lr,
            {"t_warmup": "3ba", "milestones": ["1ep", "2ep"], "gamma": g},
            clock,
            counts,
        )
        assert_close(row[0], want_a, rtol=2e-6)
        assert_close(row[1], want_b, rtol=2e-6)


def test_composer_grad_flows_through_lr_and_alpha() -> None:
    def f(lr: jax.Array, af: jax.Array) -> jax.Array:
        s = composer.CosineAnnealingScheduler(lr, alpha_f=af, max_duration="4ba", trainer_lag=False)
        return s(2)  # lr * (af + (1 - af) / 2)

    g_lr, g_af = jax.grad(f, argnums=(0, 1))(2.0, 0.2)
    assert float(g_lr) == pytest.approx(0.6, rel=1e-6)
    assert float(g_af) == pytest.approx(1.0, rel=1e-6)


def test_composer_step_scheduler_in_samples_drops_on_the_exact_batch() -> None:
    # 4sp steps with 3 samples per batch: floor(3k / 4); float32 k / (4/3) misses k = 4.
    s = composer.StepScheduler(
        1.0, "4sp", 0.5, max_duration="100ba", samples_per_batch=3, trainer_lag=False
    )
    ks = list(range(40))
    assert values(s, ks).tolist() == pytest.approx([0.5 ** (3 * k // 4) for k in ks], rel=2e-6)
    assert isinstance(s, ow.PhaseSchedule)
