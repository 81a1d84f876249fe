"""The JAX training stacks' schedules (MaxText, levanter, big_vision) against their source.

Each oracle below is a float64 transcription of the stack's own code at the cited
commit, evaluated count by count (optax's count: 0 for the first update), compared
with ours at every count from 0 to past the end, on hypothesis-generated configs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from compat_helpers import values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optax_warmup.compat import maxtext

RTOL = 2e-6  # float32 rounding
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def assert_close(got: np.ndarray, want: np.ndarray, peak: float) -> None:
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=2e-7 * abs(peak) + 1e-30)


# ---------------------------------------------------------------------------
# MaxText: transcription of src/maxtext/utils/maxtext_utils.py
# (create_learning_rate_schedule) and the config defaults of
# src/maxtext/configs/types.py, github.com/AI-Hypercomputer/maxtext at
# e591f30cbbf217ed67ef71263ec0538239f9c3b8; optax.linear_schedule /
# constant_schedule / join_schedules written out as optax 0.2.8 defines them.


def _optax_linear(init: float, end: float, transition: int) -> Callable[[int], float]:
    if transition <= 0:  # optax: a non-positive transition is constant at init
        return lambda t: init
    return lambda t: init + (end - init) * min(max(t, 0), transition) / transition


def _maxtext_cos(init_lr: float, final_lr: float, len_steps: int) -> Callable[[int], float]:
    def schedule(step: int) -> float:
        pct = step / (len_steps - 1) if len_steps > 1 else 1.0
        a = 0.5 * (math.cos(math.pi * pct) + 1)
        return init_lr * a + final_lr * (1 - a)

    return schedule


def maxtext_reference(c: dict[str, Any]) -> Callable[[int], float]:
    lr = c["learning_rate"]
    final_lr = lr * c["learning_rate_final_fraction"]
    schedule_steps = c["learning_rate_schedule_steps"]
    warmup_steps = int(schedule_steps * c["warmup_steps_fraction"])
    constant_zero_steps = c["steps"] - schedule_steps
    pieces: list[Callable[[int], float]] = []
    boundaries: list[int] = []
    if warmup_steps > 0:
        pieces.append(_optax_linear(0.0, lr, warmup_steps))
        boundaries.append(warmup_steps)
    if c["lr_schedule_type"] == "cosine":
        cos_steps = schedule_steps - warmup_steps
        if cos_steps > 0:
            pieces.append(_maxtext_cos(lr, final_lr, cos_steps))
            boundaries.append(warmup_steps + cos_steps)
    else:
        decay_steps = int(schedule_steps * c["wsd_decay_steps_fraction"])
        stable_steps = schedule_steps - warmup_steps - decay_steps
        if stable_steps > 0:
            pieces.append(lambda t: lr)
            boundaries.append(warmup_steps + stable_steps)
        if decay_steps > 0:
            if c["wsd_decay_style"] == "linear":
                pieces.append(_optax_linear(lr, final_lr, decay_steps - 1))
            else:
                pieces.append(_maxtext_cos(lr, final_lr, decay_steps))
            boundaries.append(warmup_steps + stable_steps + decay_steps)
    if constant_zero_steps > 0:
        pieces.append(lambda t: 0.0)
        boundaries.append(schedule_steps)

    def joined(step: int) -> float:  # optax.join_schedules (zip drops extra boundaries)
        out = pieces[0](step)
        for boundary, piece in zip(boundaries, pieces[1:], strict=False):
            out = out if step < boundary else piece(step - boundary)
        return out

    return joined


@st.composite
def maxtext_configs(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["cosine", "wsd"]))
    schedule_steps = draw(st.integers(1, 60))
    warm = draw(st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.5, 1.0]) | st.floats(0, 1))
    decay = draw(st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.0]) | st.floats(0, 1))
    if kind == "wsd" and warm + decay > 1:
        decay = 1.0 - warm
    return {
        "learning_rate": draw(st.sampled_from([3e-4, 1.0, 2.5e-5])),
        "steps": schedule_steps + draw(st.sampled_from([0, 0, 1, 7])),
        "learning_rate_schedule_steps": schedule_steps,
        "warmup_steps_fraction": warm,
        "learning_rate_final_fraction": draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, 1.5])),
        "lr_schedule_type": kind,
        "wsd_decay_steps_fraction": decay,
        "wsd_decay_style": draw(st.sampled_from(["linear", "cosine"])),
    }


@SETTINGS
@given(maxtext_configs())
def test_maxtext_matches_its_source_at_every_count(c: dict[str, Any]) -> None:
    counts = range(c["steps"] + 70)  # past the end: the cosine rises again
    want = np.asarray([maxtext_reference(c)(k) for k in counts])
    assert_close(values(maxtext.create_learning_rate_schedule(c), counts), want, c["learning_rate"])


def test_maxtext_defaults_and_keywords() -> None:
    # MaxText's defaults: S = steps = 150_001, W = 15_000, cosine to 0.1 lr.
    c = {
        "learning_rate": 3e-5,
        "steps": 150_001,
        "learning_rate_schedule_steps": 150_001,
        "warmup_steps_fraction": 0.1,
        "learning_rate_final_fraction": 0.1,
        "lr_schedule_type": "cosine",
        "wsd_decay_steps_fraction": 0.1,
        "wsd_decay_style": "linear",
    }
    counts = [0, 1, 14_999, 15_000, 15_001, 80_000, 149_999, 150_000, 150_001, 200_000]
    want = np.asarray([maxtext_reference(c)(k) for k in counts])
    assert_close(values(maxtext.create_learning_rate_schedule(), counts), want, 3e-5)
    # Keywords, an attribute object, and older MaxText's name of the final fraction.
    kw: dict[str, Any] = {"learning_rate": 1.0, "steps": 30, "learning_rate_schedule_steps": 20}
    wsd = {**c, **kw, "lr_schedule_type": "wsd", "wsd_decay_style": "cosine"}
    want = np.asarray([maxtext_reference(wsd)(k) for k in range(40)])
    s1 = maxtext.create_learning_rate_schedule(
        **kw, lr_schedule_type="wsd", wsd_decay_style="cosine"
    )
    s2 = maxtext.create_learning_rate_schedule(type("Config", (), wsd)())
    s3 = maxtext.create_learning_rate_schedule(
        **kw,
        lr_schedule_type="wsd",
        wsd_decay_style="cosine",
        learning_rate_final_fraction=0.7,
        cosine_learning_rate_final_fraction=0.1,
    )
    for s in (s1, s2, s3):
        assert_close(values(s, range(40)), want, 1.0)


def test_maxtext_minus_one_lengths_default_to_each_other() -> None:
    a = maxtext.create_learning_rate_schedule(steps=50, learning_rate=1.0)
    b = maxtext.create_learning_rate_schedule(steps=-1, learning_rate_schedule_steps=50)
    c = {
        "learning_rate": 1.0,
        "steps": 50,
        "learning_rate_schedule_steps": 50,
        "warmup_steps_fraction": 0.1,
        "learning_rate_final_fraction": 0.1,
        "lr_schedule_type": "cosine",
    }
    want = np.asarray([maxtext_reference(c)(k) for k in range(80)])
    assert_close(values(a, range(80)), want, 1.0)
    assert_close(values(b, range(80)), want * 3e-5, 3e-5)


def test_maxtext_traced_hyperparameters_compile_once_and_differentiate() -> None:
    traces = 0

    def at(lr: jax.Array, fraction: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        s = maxtext.create_learning_rate_schedule(
            learning_rate=lr,
            learning_rate_final_fraction=fraction,
            steps=40,
            learning_rate_schedule_steps=30,
            lr_schedule_type="wsd",
            wsd_decay_steps_fraction=0.3,
        )
        return s(jnp.arange(45))

    f = jax.jit(jax.vmap(at))
    got = f(jnp.asarray([1.0, 2e-4]), jnp.asarray([0.1, 0.0]))
    f(jnp.asarray([3.0, 1e-4]), jnp.asarray([0.2, 0.5]))
    assert traces == 1
    for row, lr, fr in zip(got, [1.0, 2e-4], [0.1, 0.0], strict=True):
        c = {
            "learning_rate": lr,
            "steps": 40,
            "learning_rate_schedule_steps": 30,
            "warmup_steps_fraction": 0.1,
            "learning_rate_final_fraction": fr,
            "lr_schedule_type": "wsd",
            "wsd_decay_steps_fraction": 0.3,
            "wsd_decay_style": "linear",
        }
        assert_close(np.asarray(row), np.asarray([maxtext_reference(c)(k) for k in range(45)]), lr)
    # d value / d learning_rate at a count of the decay = value / learning_rate.
    g = jax.grad(lambda lr: at(lr, jnp.asarray(0.1))[25])(jnp.asarray(2.0))
    assert float(g) == pytest.approx(float(at(jnp.asarray(1.0), jnp.asarray(0.1))[25]), rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"warmup_steps_fraction": 1.5}, "warmup_steps_fraction"),
        ({"wsd_decay_steps_fraction": -0.1}, "wsd_decay_steps_fraction"),
        (
            {
                "lr_schedule_type": "wsd",
                "warmup_steps_fraction": 0.6,
                "wsd_decay_steps_fraction": 0.5,
            },
            "warmup_steps_fraction \\+ wsd_decay_steps_fraction",
        ),
        ({"lr_schedule_type": "linear"}, "lr_schedule_type"),
        ({"wsd_decay_style": "sqrt"}, "wsd_decay_style"),
        ({"learning_rate_schedule_steps": 0}, "learning_rate_schedule_steps"),
        ({"steps": -2}, "steps"),
        ({"steps": 10.5}, "steps"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate_final_fraction": float("inf")}, "learning_rate_final_fraction"),
        ({"warmup_steps_fraction": jnp.asarray(0.1) + jax.numpy.zeros(2)}, "warmup_steps_fraction"),
    ],
)
def test_maxtext_bad_settings_raise_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        maxtext.create_learning_rate_schedule(**kwargs)
