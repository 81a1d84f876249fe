"""Durations with explicit units, for configs and spec strings.

A duration is a number with an optional magnitude suffix (``k`` = 1e3,
``M`` = 1e6, ``B`` or ``G`` = 1e9, ``T`` = 1e12) and an optional unit:

- no unit, or ``steps``: optimizer steps; the number must be whole, and a
  bare ``0.1`` or ``1.0`` is refused as ambiguous (some codebases read it as
  a fraction of the run);
- ``%``: a percentage of the run, needs ``total_steps``;
- ``epochs`` (``ep``): needs ``steps_per_epoch``;
- ``examples`` (``ex``): needs ``batch_size`` (examples per step);
- ``tokens`` (``tok``): needs ``tokens_per_step`` (or ``batch_size`` and
  ``seq_len``).

Conversions round to the nearest step (half to even). Values (not
durations) may carry the unit ``x``: a multiple of the peak.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

SUFFIXES = {"k": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
UNITS = {
    "%": "%",
    "x": "x",
    "step": "steps",
    "steps": "steps",
    "ep": "epochs",
    "epoch": "epochs",
    "epochs": "epochs",
    "ex": "examples",
    "example": "examples",
    "examples": "examples",
    "tok": "tokens",
    "token": "tokens",
    "tokens": "tokens",
}
# ASCII digits only: Python's \d (and float()) also accept other scripts' digits.
NUMBER_RE = r"(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?"
# The largest step count a duration may name (int64; without x64 the engine
# saturates counts at int32's maximum).
MAX_STEPS = 2**63 - 1
_QUANTITY = re.compile(
    rf"^\s*(?P<num>{NUMBER_RE})(?P<suffix>[kMBGT])?\s*(?P<unit>%|[A-Za-z]+)?\s*$"
)

HOW_TO_WRITE = (
    "write a whole number of steps (2000, 2k), a percentage of the run ('10%' with "
    "total_steps), or epochs, examples or tokens ('0.5 epochs' with steps_per_epoch, "
    "'1M tokens' with tokens_per_step)"
)


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A number as written: its value (suffix applied), unit and whether it had a point."""

    value: float
    unit: str | None = None
    text: str = ""
    has_point: bool = False


@dataclasses.dataclass(frozen=True)
class UnitContext:
    """What the units need: the run length, epoch length and batch sizes (in steps)."""

    total_steps: int | None = None
    steps_per_epoch: float | None = None
    batch_size: float | None = None
    tokens_per_step: float | None = None
    seq_len: float | None = None

    def with_updates(self, **kwargs: Any) -> UnitContext:
        """A context with the given (non-``None``) fields replaced, each checked (> 0)."""
        new = {}
        for k, x in kwargs.items():
            if x is None:
                continue
            if k not in CONTEXT_KEYS:
                raise ValueError(f"unknown unit setting {k!r}; expected one of {CONTEXT_KEYS}.")
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
                raise ValueError(f"{k} must be a number, got {x!r}.")
            if x <= 0 and not (k == "total_steps" and x == 0):
                raise ValueError(f"{k} must be > 0, got {x!r}.")
            if k == "total_steps" and x != int(x):
                raise ValueError(f"total_steps must be a whole number of steps, got {x!r}.")
            new[k] = int(x) if k == "total_steps" else x
        return dataclasses.replace(self, **new)


CONTEXT_KEYS = tuple(f.name for f in dataclasses.fields(UnitContext))


def make_quantity(number: str, suffix: str | None, unit: str | None) -> Quantity:
    """A :class:`Quantity` from its lexed parts; ``unit`` must be a key of ``UNITS``."""
    value = float(number.replace("_", ""))
    if suffix:
        value *= SUFFIXES[suffix]
    text = number + (suffix or "") + (unit or "")
    has_point = "." in number or "e" in number.lower()
    return Quantity(value, UNITS[unit] if unit else None, text, has_point)


def parse_quantity(text: str, name: str) -> Quantity:
    """Parse ``"2k"``, ``"10%"``, ``"5 epochs"``, ``"0.1x"``... (``ValueError`` if malformed)."""
    m = _QUANTITY.match(text)
    if m is None:
        raise ValueError(f"{name}: cannot read {text!r} as a number; {HOW_TO_WRITE}.")
    unit = m.group("unit")
    if unit is not None and unit not in UNITS:
        raise ValueError(
            f"{name}: unknown unit {unit!r} in {text!r}; units are "
            f"{sorted(set(UNITS.values()))} (suffixes k, M, B)."
        )
    return make_quantity(m.group("num"), m.group("suffix"), unit)


def as_quantity(value: Any, name: str) -> Quantity:
    """A config value (int, float or string with units) as a :class:`Quantity`."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if isinstance(value, int):
        return Quantity(float(value), None, str(value), False)
    if isinstance(value, float):
        return Quantity(value, None, repr(value), True)
    if isinstance(value, str):
        return parse_quantity(value, name)
    raise ValueError(f"{name} must be a number or a string such as '2k' or '10%', got {value!r}.")


CONFIG_WORDS = {
    "how": HOW_TO_WRITE,
    "total_steps": "total_steps",
    "steps_per_epoch": "steps_per_epoch",
    "batch_size": "batch_size (examples per step)",
    "tokens_per_step": "tokens_per_step (or batch_size and seq_len)",
}


def to_steps(
    q: Quantity,
    ctx: UnitContext,
    name: str,
    *,
    allow_percent: bool = True,
    words: dict[str, str] = CONFIG_WORDS,
) -> int:
    """Convert a duration to whole steps (``ValueError`` naming ``name`` and the fix).

    ``words`` says how messages name the settings (a config key, a spec setting).
    """
    x = q.value
    what = f"{name}={q.text or repr(x)}"
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{what}: a duration must be a non-negative number.")
    steps = _to_steps(q, ctx, what, allow_percent, words)
    if not math.isfinite(steps) or steps > MAX_STEPS:
        raise ValueError(f"{what} is {steps:.3g} steps, beyond the int64 range of step counts.")
    return round(steps)


def _to_steps(
    q: Quantity, ctx: UnitContext, what: str, allow_percent: bool, words: dict[str, str]
) -> float:
    """``q`` in steps, unrounded (see :func:`to_steps`)."""
    x = q.value
    if q.unit in (None, "steps"):
        ambiguous = q.unit is None and q.has_point and 0 < x <= 1
        if ambiguous or x != math.floor(x):
            raise ValueError(f"{what} is ambiguous or not a whole number: {words['how']}.")
        return x
    if q.unit == "%":
        if not allow_percent:
            raise ValueError(f"{what}: this duration cannot be a percentage of the run.")
        if ctx.total_steps is None:
            raise ValueError(f"{what} is a percentage of the run: give {words['total_steps']}.")
        return x * ctx.total_steps / 100
    if q.unit == "epochs":
        if ctx.steps_per_epoch is None:
            raise ValueError(f"{what} is in epochs: give {words['steps_per_epoch']}.")
        return x * ctx.steps_per_epoch
    if q.unit == "examples":
        if ctx.batch_size is None:
            raise ValueError(f"{what} counts examples: give {words['batch_size']}.")
        return x / ctx.batch_size
    if q.unit == "tokens":
        per_step = ctx.tokens_per_step
        if per_step is None and ctx.batch_size is not None and ctx.seq_len is not None:
            per_step = ctx.batch_size * ctx.seq_len
        if per_step is None:
            raise ValueError(f"{what} counts tokens: give {words['tokens_per_step']}.")
        return x / per_step
    raise ValueError(f"{what}: a duration cannot be a multiple of the peak.")


def to_value(q: Quantity, name: str, *, peak: float | None = None) -> float:
    """A value: plain, or ``x`` times ``peak`` when ``peak`` is given (``ValueError`` otherwise)."""
    if q.unit is None:
        return q.value
    if q.unit == "x":
        if peak is None:
            raise ValueError(f"{name}={q.text}: a multiple of the peak is not allowed here.")
        return q.value * peak
    raise ValueError(
        f"{name} is a value, not a duration; got {q.text!r} (use 0.1x for 10% of peak)."
    )


def to_data(
    q: Quantity,
    ctx: UnitContext,
    name: str,
    clock: str,
    *,
    allow_percent: bool = True,
) -> int:
    """Convert a duration to whole examples or tokens (``clock``), for a schedule on a data clock.

    Under a batch ramp a step is no fixed amount of data, so durations are
    written in tokens or examples (or ``%`` of a ``total`` in data); an
    example is ``seq_len`` tokens (default 1). Rounds to the nearest unit.
    """
    x = q.value
    what = f"{name}={q.text or repr(x)}"
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{what}: a duration must be a non-negative number.")
    seq = ctx.seq_len or 1
    if q.unit == "%":
        if not allow_percent:
            raise ValueError(f"{what}: this duration cannot be a percentage of the run.")
        if ctx.total_steps is None:
            raise ValueError(
                f"{what} is a percentage of the run: give total= in tokens or examples."
            )
        return round(x * ctx.total_steps / 100)
    if q.unit == "tokens":
        return round(x if clock == "tokens" else x / seq)
    if q.unit == "examples":
        return round(x * seq if clock == "tokens" else x)
    if q.unit is None and x == 0:
        return 0
    raise ValueError(
        f"{what}: under a batch ramp a step is no fixed amount of data; write the duration "
        "in tokens (2Btok) or examples (50kex), or as a percentage of total."
    )


def batch_examples(q: Quantity, seq_len: float, name: str) -> int:
    """A batch size as whole examples per step: examples, or tokens (``4Mtok``) / ``seq_len``."""
    x = q.value
    if q.unit == "tokens":
        x = x / seq_len
    elif q.unit not in (None, "examples"):
        raise ValueError(f"{name} is a batch size: examples per step, or tokens (4Mtok)")
    if x != int(x) or x < 1:
        raise ValueError(
            f"{name}={q.text} must be a whole number (>= 1) of examples of "
            f"seq_len={seq_len:g} tokens"
        )
    return int(x)
