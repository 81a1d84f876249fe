"""Spec strings: a schedule written on one line, for the command line and configs.

Example::

    linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k

is a 2000-step linear warmup to 3e-4, then a cosine decay to 3e-5 at step
100 000. A spec is a chain of segments joined by ``>``, then optional
settings after ``@``.

Grammar (EBNF; spaces are free, names are case-sensitive)::

    spec     = chain [ "@" { setting [ "," ] } ] ;
    chain    = element { ">" element } ;
    element  = cycle | segment ;
    cycle    = "cycle" "(" chain { "," NAME "=" number } ")" ;
    segment  = NAME [ "(" [ arg { "," arg } ] ")" ] ;
    arg      = [ NAME "=" ] number ;
    setting  = NAME "=" number ;
    number   = DIGITS [ "." DIGITS ] [ ("e"|"E") ["+"|"-"] DIGITS ] [ SUFFIX ] [ UNIT ] ;
    SUFFIX   = "k" | "M" | "B" | "G" | "T" ;       (* 1e3, 1e6, 1e9, 1e9, 1e12 *)
    UNIT     = "%" | "x" | "steps" | "ep" | "epochs" | "ex" | "examples" | "tok" | "tokens" ;

Segments (the first positional argument is the duration):

- ``linear``, ``cosine(exponent=)``, ``poly(power=)``, ``exp(rate=`` or
  ``tau=)``, ``1-sqrt``, ``tanh(lower=, upper=)``: move from the current
  value to ``to=`` in that shape: the warmup curve for the warmup (the first
  segment of a chain of several), the decay curve for every other segment,
  whichever way it goes, as in the Python API (``poly(10) @ peak=1 end=2``
  is ``decay_schedule(1.0, 10, shape="polynomial", end_value=2.0)``; see
  :mod:`optax_warmup.shapes`);
- ``constant(D, from=V)``: hold the start value for ``D`` steps, then jump;
- ``hold(D, V)`` (or ``hold(D, to=V)``): stay at ``V`` (default: the current
  value) for ``D`` steps;
- ``rsqrt(tau=, shift=, to=)``: open-ended inverse-sqrt decay towards ``to``
  (default 0); last segment only; ``tau`` defaults to the warmup length;
- ``cycle(CHAIN, n=, mul=, decay=)``: repeat ``CHAIN`` (restarts, each
  cycle ``mul`` times longer, values given relative to the peak multiplied
  by ``decay`` per cycle); last element only.

Values are absolute (``3e-5``) or multiples of the peak (``0.1x``).
Durations are steps (``2000``, ``2k``, ``1.5M``), a percentage of ``total``
(``10%``), epochs (``5ep``, needs ``steps_per_epoch``), examples (``50kex``,
needs ``batch_size``) or tokens (``1Btok``, needs ``tokens_per_step``); a
bare ``0.1`` is refused as ambiguous.

Where each segment starts and goes:

- when the chain has more than one element, its first segment is the
  warmup: it rises to the peak from 0 with no wasted first update (count
  ``c`` gets ``peak * f((c + 1) / D)``), or from ``from=`` (the optax
  convention: ``from`` at count 0);
- otherwise the chain starts at the peak (``hold`` and ``rsqrt`` never warm
  up); every later segment starts where the previous one ended and goes to
  its ``to=``, by default the ``end`` setting (0);
- one segment may omit its duration: it takes the steps left until
  ``total``. A final ``hold`` without duration lasts forever.

Settings: ``peak`` (default 1: a factor schedule), ``total`` (the run
length), ``end`` (default target of decays), ``steps_per_epoch``,
``batch_size``, ``tokens_per_step``, ``seq_len``.

A batch ramp: ``batch=`` (the first batch size), ``batch_final=``,
``batch_ramp=`` (the data over which the batch grows) and
``batch_increment=`` (default: ``batch``), Megatron-LM's
``--rampup-batch-size`` (see :func:`optax_warmup.rampup_batch_size`). Sizes
are examples per step, or tokens (``4Mtok``: ``seq_len`` tokens an example,
default 1). The schedule then runs on a data clock: every duration and
``total`` is in tokens or examples (tokens as soon as one of ``batch*`` or
``total`` is), a segment's count ``c`` is the data consumed before the step,
and the result is a schedule of the step count, exact at every step under
the ramp (:func:`optax_warmup.by_tokens`); :func:`compile_spec` gives the
step at which ``total`` is reached and the ramp::

    linear(2Btok) > cosine(to=0.1x) @ peak=3e-4 total=300Btok
        batch=0.5Mtok batch_final=4Mtok batch_ramp=50Btok           (one line)

More examples::

    linear(2%) > hold > 1-sqrt(20%) @ peak=1e-3 total=50k       WSD, 1-sqrt cooldown
    linear(4k) > rsqrt @ peak=7e-4                              inverse square root
    cycle(cosine(10k), n=5, mul=2, decay=0.5) @ peak=0.1        SGDR restarts
    linear(5ep) > cosine @ peak=0.1 total=90ep steps_per_epoch=390
    hold(30ep) > hold(30ep, 0.1x) > hold(to=0.01x) @ peak=0.1 steps_per_epoch=390
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
from collections.abc import Iterator
from typing import Any

from optax_warmup.engine import build as _build
from optax_warmup.engine import phases as _engine
from optax_warmup.engine import shapes as _shapes
from optax_warmup.engine import validation as _validation
from optax_warmup.io import units as _units

_SHAPE_SEGMENTS = {
    "linear": "linear",
    "cosine": "cosine",
    "cos": "cosine",
    "poly": "poly",
    "polynomial": "poly",
    "exp": "exp",
    "exponential": "exp",
    "1-sqrt": "1-sqrt",
    "one_minus_sqrt": "1-sqrt",
    "tanh": "tanh",
    "constant": "constant",
}
_SEGMENTS = {**_SHAPE_SEGMENTS, "hold": "hold", "rsqrt": "rsqrt", "invsqrt": "rsqrt"}
_KEYWORDS = {
    "linear": ("to", "from"),
    "cosine": ("to", "from", "exponent"),
    "poly": ("to", "from", "power"),
    "exp": ("to", "from", "rate", "tau"),
    "1-sqrt": ("to", "from"),
    "tanh": ("to", "from", "lower", "upper"),
    "constant": ("to", "from"),
    "hold": ("to",),
    "rsqrt": ("to", "tau", "shift"),
    "cycle": ("n", "mul", "decay"),
}
_RAMP_SETTINGS = ("batch", "batch_final", "batch_ramp", "batch_increment")
_SETTINGS = (
    "peak",
    "total",
    "end",
    *(k for k in _units.CONTEXT_KEYS if k != "total_steps"),
    *_RAMP_SETTINGS,
)
_OPS = "()=,>@"
# Bounds on the work a spec can ask for: its length in characters and the
# nesting depth of cycle(...) (each level a recursion of the parser).
MAX_SPEC_LENGTH = 4096
MAX_NESTING = 16
_NUMBER = re.compile(_units.NUMBER_RE)
_WORDS = {
    "how": "write whole steps (2000, 2k), a percentage of total= (10%), epochs (0.5ep), "
    "examples (50kex) or tokens (1Btok)",
    "total_steps": "total= after @",
    "steps_per_epoch": "steps_per_epoch= after @",
    "batch_size": "batch_size= after @ (examples per step)",
    "tokens_per_step": "tokens_per_step= after @ (or batch_size= and seq_len=)",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SpecError(ValueError):
    """A malformed spec string; ``column`` (1-based) points at the problem.

    ``str(error)`` shows the message, the spec and a caret under the column;
    :meth:`one_line` gives the message alone (for command-line errors).
    """

    def __init__(self, message: str, column: int, text: str) -> None:
        self.message = message
        self.column = column
        self.text = text
        caret = " " * (column - 1) + "^"
        super().__init__(f"{self.one_line()}\n  {text}\n  {caret}")

    def one_line(self) -> str:
        return f"column {self.column}: {self.message}"


@dataclasses.dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op" or "eof"
    text: str
    col: int
    quantity: _units.Quantity | None = None


@dataclasses.dataclass(frozen=True)
class _Arg:
    key: str | None
    q: _units.Quantity
    col: int


@dataclasses.dataclass(frozen=True)
class _Segment:
    name: str
    col: int
    args: tuple[_Arg, ...]


@dataclasses.dataclass(frozen=True)
class _Cycle:
    col: int
    body: tuple[Any, ...]
    args: tuple[_Arg, ...]


def _describe(tok: _Token) -> str:
    return "the end of the spec" if tok.kind == "eof" else repr(tok.text)


def _lex(text: str) -> list[_Token]:
    toks: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif text.startswith("1-sqrt", i):
            toks.append(_Token("name", "1-sqrt", col))
            i += len("1-sqrt")
        elif ch in _OPS:
            toks.append(_Token("op", ch, col))
            i += 1
        elif m := _NUMBER.match(text, i):
            j = m.end()
            suffix = text[j] if j < n and text[j] in _units.SUFFIXES else None
            j += 1 if suffix else 0
            unit, j = _lex_unit(text, j)
            q = _units.make_quantity(m.group(), suffix, unit)
            toks.append(_Token("num", text[i:j].strip(), col, q))
            i = j
        elif m := _WORD.match(text, i):
            toks.append(_Token("name", m.group(), col))
            i = m.end()
        else:
            raise SpecError(f"unexpected character {ch!r}", col, text)
    toks.append(_Token("eof", "", n + 1))
    return toks


def _lex_unit(text: str, j: int) -> tuple[str | None, int]:
    """The unit after a number at ``j``, attached or after spaces (then not a setting name)."""
    if j < len(text) and text[j] == "%":
        return "%", j + 1
    m = _WORD.match(text, j)
    if m:  # attached letters must be a unit
        if m.group() not in _units.UNITS:
            units = ", ".join(sorted(k for k in _units.UNITS if len(k) <= 3))
            raise SpecError(
                f"unknown unit {m.group()!r} (units: {units}; suffixes k, M, B)", j + 1, text
            )
        return m.group(), m.end()
    k = j
    while k < len(text) and text[k] == " ":
        k += 1
    if k < len(text) and text[k] == "%":
        return "%", k + 1
    m = _WORD.match(text, k)
    if k > j and m and m.group() in _units.UNITS:
        after = text[m.end() :].lstrip()
        if not after.startswith("=") and not after.startswith("("):
            return m.group(), m.end()
    return None, j


class _Parser:
    """Recursive descent over the grammar in the module docstring."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _lex(text)
        self.pos = 0
        self.depth = 0

    def error(self, message: str, col: int) -> SpecError:
        return SpecError(message, col, self.text)

    def peek(self, ahead: int = 0) -> _Token:
        return self.toks[min(self.pos + ahead, len(self.toks) - 1)]

    def advance(self) -> _Token:
        tok = self.peek()
        self.pos += 1
        return tok

    def at(self, op: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text == op

    def expect(self, op: str, context: str) -> _Token:
        if not self.at(op):
            tok = self.peek()
            raise self.error(f"expected {op!r} {context}, found {_describe(tok)}", tok.col)
        return self.advance()

    def parse(self) -> tuple[tuple[Any, ...], tuple[_Arg, ...]]:
        if self.peek().kind == "eof":
            raise self.error("empty spec: expected a segment such as linear(2000)", 1)
        chain = self.chain()
        settings: list[_Arg] = []
        if self.at("@"):
            self.advance()
            while self.peek().kind != "eof":
                settings.append(self.keyword("a setting such as peak=3e-4"))
                if self.at(","):
                    self.advance()
        tok = self.peek()
        if tok.kind != "eof":
            hint = " (arguments go in parentheses: linear(2000))" if tok.kind == "num" else ""
            raise self.error(f"expected '>' or '@', found {_describe(tok)}{hint}", tok.col)
        return chain, tuple(settings)

    def chain(self) -> tuple[Any, ...]:
        elements = [self.element()]
        while self.at(">"):
            self.advance()
            elements.append(self.element())
        return tuple(elements)

    def element(self) -> Any:
        tok = self.peek()
        if tok.kind != "name":
            raise self.error(
                f"expected a segment such as linear(2000), found {_describe(tok)}", tok.col
            )
        self.advance()
        if tok.text == "cycle":
            self.expect("(", "after cycle")
            if self.depth >= MAX_NESTING:
                raise self.error(f"cycle(...) nested deeper than {MAX_NESTING} levels", tok.col)
            self.depth += 1
            body = self.chain()
            self.depth -= 1
            args = []
            while self.at(","):
                self.advance()
                args.append(self.keyword("a cycle setting such as n=3"))
            self.expect(")", "to close cycle(")
            return _Cycle(tok.col, body, tuple(args))
        if tok.text not in _SEGMENTS:
            close = difflib.get_close_matches(tok.text, [*_SEGMENTS, "cycle"], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            names = ", ".join(sorted({*_SEGMENTS.values(), "cycle"}))
            raise self.error(f"unknown segment {tok.text!r}{hint}; segments: {names}", tok.col)
        args: list[_Arg] = []
        if self.at("("):
            self.advance()
            if not self.at(")"):
                args.append(self.arg())
                while self.at(","):
                    self.advance()
                    args.append(self.arg())
            self.expect(")", f"to close {tok.text}(")
        return _Segment(tok.text, tok.col, tuple(args))

    def arg(self) -> _Arg:
        if self.peek().kind == "name" and self.peek(1).kind == "op" and self.peek(1).text == "=":
            return self.keyword("an argument")
        return self.number(None)

    def keyword(self, what: str) -> _Arg:
        tok = self.peek()
        if tok.kind != "name":
            raise self.error(f"expected {what}, found {_describe(tok)}", tok.col)
        self.advance()
        self.expect("=", f"after {tok.text}")
        return self.number(tok.text, tok.col)

    def number(self, key: str | None, col: int | None = None) -> _Arg:
        tok = self.peek()
        if tok.kind != "num":
            raise self.error(f"expected a number, found {_describe(tok)}", tok.col)
        self.advance()
        assert tok.quantity is not None
        return _Arg(key, tok.quantity, tok.col if col is None else col)


@dataclasses.dataclass(frozen=True)
class _Level:
    value: float
    relative: float  # 1.0 when written relative to the peak (it follows cycle decay)


@dataclasses.dataclass(frozen=True)
class CompiledSpec:
    """A parsed spec: the schedule and the run length it was written for (``None``: not given)."""

    schedule: _engine.PhaseSchedule
    total_steps: int | None
    batch_ramp: Any = None  # the DataRamp of batch= ... settings (the schedule is in steps)


class _Compiler:
    def __init__(self, text: str, ctx: _units.UnitContext) -> None:
        self.text = text
        self.ctx = ctx
        self.peak = 1.0
        self.end = _Level(0.0, 0.0)
        self.cycle: dict[str, Any] = {}
        self.cycle_col = 1
        self.warmup_span = 0
        self.clock: str | None = None  # "tokens" / "examples" under a batch ramp
        self.ramp: Any = None

    def error(self, message: str, col: int) -> SpecError:
        return SpecError(message, col, self.text)

    @contextlib.contextmanager
    def at(self, col: int) -> Iterator[None]:
        """Report any ``ValueError`` raised inside as a :class:`SpecError` at ``col``."""
        try:
            yield
        except SpecError:
            raise
        except ValueError as e:
            raise self.error(str(e).rstrip("."), col) from None

    def steps(self, a: _Arg, name: str, *, allow_percent: bool = True) -> int:
        with self.at(a.col):
            if self.clock is not None:  # durations are data on a batch ramp
                return _units.to_data(a.q, self.ctx, name, self.clock, allow_percent=allow_percent)
            return _units.to_steps(a.q, self.ctx, name, allow_percent=allow_percent, words=_WORDS)

    def batch_ramp(self, seen: dict[str, _Arg]) -> None:
        """Set up the data clock from ``batch=`` ... ``batch_ramp=`` (Megatron's rampup)."""
        if not any(k in seen for k in _RAMP_SETTINGS):
            return
        if "batch" not in seen:
            first = min((seen[k] for k in _RAMP_SETTINGS if k in seen), key=lambda a: a.col)
            raise self.error("a batch ramp needs batch= (the first batch size)", first.col)
        units = {seen[k].q.unit for k in (*_RAMP_SETTINGS, "total") if k in seen}
        self.clock = "tokens" if "tokens" in units else "examples"
        seq = self.ctx.seq_len or 1
        if seq != int(seq):
            raise self.error(f"seq_len must be a whole number, got {seq:g}", seen["seq_len"].col)

    def make_ramp(self, seen: dict[str, _Arg]) -> None:
        """Build the ramp once ``total`` is known (``batch_ramp`` may be a percentage of it)."""
        from optax_warmup.schedules import ramps as _ramps  # local: only for ramps

        seq = self.ctx.seq_len or 1

        def size(key: str) -> int:
            with self.at(seen[key].col):
                return _units.batch_examples(seen[key].q, seq, key)

        init = size("batch")
        final = size("batch_final") if "batch_final" in seen else init
        inc = size("batch_increment") if "batch_increment" in seen else init
        amount = self.steps(seen["batch_ramp"], "batch_ramp") if "batch_ramp" in seen else 0
        col = seen.get("batch_final", seen["batch"]).col
        with self.at(col):
            self.ramp = _ramps.rampup_batch_size(
                init,
                final,
                inc,
                amount,
                clock=self.clock,  # type: ignore[arg-type]
                seq_len=int(seq),
            )

    def number(self, a: _Arg, name: str) -> float:
        with self.at(a.col):
            return _units.to_value(a.q, name)

    def level(self, a: _Arg, name: str) -> _Level:
        with self.at(a.col):
            value = _units.to_value(a.q, name, peak=self.peak)
        return _Level(value, 1.0 if a.q.unit == "x" else 0.0)

    def settings(self, settings: tuple[_Arg, ...]) -> tuple[int | None, _Arg | None]:
        seen: dict[str, _Arg] = {}
        for s in settings:
            assert s.key is not None
            if s.key not in _SETTINGS:
                close = difflib.get_close_matches(s.key, _SETTINGS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.error(
                    f"unknown setting {s.key!r}{hint}; settings: {', '.join(_SETTINGS)}", s.col
                )
            if s.key in seen:
                raise self.error(f"{s.key} is set twice", s.col)
            seen[s.key] = s
        for key, s in seen.items():
            if key in _units.CONTEXT_KEYS:
                with self.at(s.col):
                    self.ctx = self.ctx.with_updates(**{key: self.number(s, key)})
        self.batch_ramp(seen)
        total = seen.get("total")
        if total is not None:
            steps = self.steps(total, "total", allow_percent=False)
            with self.at(total.col):
                self.ctx = self.ctx.with_updates(total_steps=steps)
        if self.clock is not None:
            self.make_ramp(seen)
        if "peak" in seen:
            self.peak = self.number(seen["peak"], "peak")
        if "end" in seen:
            self.end = self.level(seen["end"], "end")
        return self.ctx.total_steps, total

    def keywords(self, name: str, col: int, args: tuple[_Arg, ...]) -> dict[str, _Arg]:
        out: dict[str, _Arg] = {}
        for a in args:
            if a.key is None:
                continue
            if a.key not in _KEYWORDS[name]:
                allowed = ", ".join(f"{k}=" for k in _KEYWORDS[name])
                raise self.error(f"{name} takes no argument {a.key}= (it takes {allowed})", a.col)
            if a.key in out:
                raise self.error(f"{a.key}= is given twice", a.col)
            out[a.key] = a
        return out

    def positional(self, seg: _Segment, name: str, most: int) -> list[_Arg]:
        pos = [a for a in seg.args if a.key is None]
        if len(pos) > most:
            what = {
                0: "no duration (it never ends; give tau=)",
                1: "one positional argument (the duration)",
            }
            raise self.error(
                f"{name} takes {what.get(most, 'a duration and a value')}", pos[most].col
            )
        return pos

    def chain(self, elements: tuple[Any, ...], *, in_cycle: bool) -> list[_engine.Phase]:
        """The phases of a chain; a trailing cycle sets ``self.cycle``."""
        spans = self.spans(elements, in_cycle=in_cycle)
        phases: list[_engine.Phase] = []
        cur = _Level(self.peak, 1.0)
        n = len(elements)
        for i, el in enumerate(elements):
            if isinstance(el, _Cycle):
                start = len(phases)
                phases.extend(self.chain(el.body, in_cycle=True))
                self.cycle = {"cycle_start": start, **self.cycle_args(el)}
                return phases
            name = _SEGMENTS[el.name]
            kw = self.keywords(name, el.col, el.args)
            pos = self.positional(el, el.name, {"hold": 2, "rsqrt": 0}.get(name, 1))
            warm = i == 0 and n > 1 and name not in ("hold", "rsqrt")
            no_waste = warm and "from" not in kw
            if "from" in kw:
                cur = self.level(kw["from"], "from")
            elif no_waste:
                cur = _Level(0.0, 0.0)
            if name == "hold":
                if "to" in kw and len(pos) > 1:
                    raise self.error("hold's value is given twice (positional and to=)", pos[1].col)
                value = kw.get("to", pos[1] if len(pos) > 1 else None)
                target = cur if value is None else self.level(value, "to")
                cur = target
            elif "to" in kw:
                target = self.level(kw["to"], "to")
            elif warm:
                target = _Level(self.peak, 1.0)
            elif name == "rsqrt":
                target = _Level(0.0, 0.0)
            else:
                target = self.end
            with self.at(el.col):
                phases.append(self.phase(name, kw, spans[i], cur, target, warm, no_waste))
            cur = target
        if not in_cycle and _SEGMENTS[elements[-1].name] != "rsqrt":
            phases.append(_build.hold_phase(cur.value, scale=cur.relative))
        return phases

    def phase(
        self,
        name: str,
        kw: dict[str, _Arg],
        span: int,
        start: _Level,
        target: _Level,
        warm: bool,
        no_waste: bool,
    ) -> _engine.Phase:
        scales = {"start_scale": start.relative, "end_scale": target.relative}
        if name == "rsqrt":
            tau = kw.get("tau")
            shift = kw.get("shift")
            tau_v = self.number(tau, "tau") if tau is not None else self.default_tau()
            shift_v = 0.0 if shift is None else self.number(shift, "shift")
            shape = _build.inverse_sqrt(tau_v)
            return _build.decay_phase(start.value, 0, target.value, shape, offset=shift_v, **scales)
        if name == "hold":
            return _build.decay_phase(
                target.value, span, target.value, _build.constant_shape(), **scales
            )
        if name == "constant" and no_waste:
            raise ValueError(
                "a constant warmup holds its start value, then jumps; give from= "
                "(e.g. constant(500, from=0.1x))"
            )
        shape = self.shape(name, kw)
        if warm:  # the warmup: the warmup curve (engine/build.py states the rule)
            return _build.warmup_phase(
                target.value, span, shape, None if no_waste else start.value, **scales
            )
        return _build.decay_phase(start.value, span, target.value, shape, **scales)

    def shape(self, name: str, kw: dict[str, _Arg]) -> _shapes.Shape:
        def num(key: str) -> float | None:
            return None if key not in kw else self.number(kw[key], key)

        if name == "cosine":
            e = num("exponent")
            return _shapes.cosine() if e is None else _shapes.cosine(e)
        if name == "poly":
            p = num("power")
            return _shapes.polynomial() if p is None else _shapes.polynomial(p)
        if name == "exp":
            return _shapes.exponential(num("rate"), time_constant=num("tau"))
        if name == "tanh":
            lo, hi = num("lower"), num("upper")
            return _shapes.tanh(-7.0 if lo is None else lo, 3.0 if hi is None else hi)
        return _shapes.as_shape(name)

    def default_tau(self) -> float:
        tau = self.warmup_span
        if not tau:
            raise ValueError("rsqrt needs tau= (its timescale in steps) when no warmup precedes it")
        return float(tau)

    def spans(self, elements: tuple[Any, ...], *, in_cycle: bool) -> list[int]:
        """Each element's span in steps; an element without a duration takes what is left."""
        spans: list[int | None] = []
        has_cycle = isinstance(elements[-1], _Cycle)
        for i, el in enumerate(elements):
            if isinstance(el, _Cycle):
                if in_cycle:
                    raise self.error("cycle() cannot be nested", el.col)
                if i != len(elements) - 1:
                    raise self.error("cycle(...) must be the last element of the chain", el.col)
                spans.append(0)
                continue
            name = _SEGMENTS[el.name]
            self.keywords(name, el.col, el.args)
            self.positional(el, el.name, {"hold": 2, "rsqrt": 0}.get(name, 1))
            if name == "rsqrt":
                if i != len(elements) - 1 or in_cycle:
                    raise self.error("rsqrt never ends: it must be the last segment", el.col)
                spans.append(0)
                continue
            pos = [a for a in el.args if a.key is None]
            spans.append(self.steps(pos[0], "duration") if pos else None)
            if i == 0 and len(elements) > 1 and name != "hold" and pos:
                self.warmup_span = spans[-1] or 0
        open_ = [i for i, s in enumerate(spans) if s is None]
        known = sum(s for s in spans if s is not None)
        total = self.ctx.total_steps
        if len(open_) > 1:
            col = elements[open_[1]].col
            raise self.error("only one segment may omit its duration", col)
        if open_:
            i = open_[0]
            el = elements[i]
            last_hold = i == len(elements) - 1 and _SEGMENTS[el.name] == "hold"
            if in_cycle:
                raise self.error("segments inside cycle() need a duration", el.col)
            if has_cycle:
                raise self.error("a segment before cycle() needs a duration", el.col)
            if total is None and last_hold:
                spans[i] = 0
            elif total is None:
                raise self.error(
                    f"{el.name} has no duration: give one, or total= after @ "
                    "(it then takes the steps left)",
                    el.col,
                )
            elif known > total:
                raise self.error(
                    f"the other segments already span {known} steps, more than total={total}",
                    el.col,
                )
            else:
                spans[i] = total - known
                if i == 0 and len(elements) > 1 and _SEGMENTS[el.name] != "hold":
                    self.warmup_span = spans[i] or 0
        return [0 if s is None else s for s in spans]

    def cycle_args(self, el: _Cycle) -> dict[str, Any]:
        kw = self.keywords("cycle", el.col, el.args)
        out: dict[str, Any] = {}
        if "n" in kw:
            n = self.number(kw["n"], "n")
            if n != int(n) or n < 1:
                raise self.error(f"n must be a whole number of cycles >= 1, got {n:g}", kw["n"].col)
            out["num_cycles"] = int(n)
        self.cycle_col = kw["decay"].col if "decay" in kw else el.col
        for key, name, low in (("mul", "cycle_mul", 1.0), ("decay", "cycle_decay", 0.0)):
            if key in kw:
                x = self.number(kw[key], key)
                with self.at(kw[key].col):
                    _validation.check_range(key, x, low=low)
                out[name] = x
        return out


def compile_spec(text: str, **context: Any) -> CompiledSpec:
    """Parse a spec string into a schedule and the ``total`` it names (see the module docstring).

    ``context`` holds default unit settings (``total_steps``,
    ``steps_per_epoch``, ``batch_size``, ``tokens_per_step``, ``seq_len``);
    the spec's own settings override them. A spec longer than
    ``MAX_SPEC_LENGTH`` (4096) characters, nested deeper than ``MAX_NESTING``
    (16) ``cycle(...)`` levels or not a ``str`` raises ``ValueError``.
    """
    if not isinstance(text, str):
        raise ValueError(f"spec must be a string, got {type(text).__name__} {text!r:.60}.")
    if len(text) > MAX_SPEC_LENGTH:
        raise ValueError(
            f"spec is {len(text)} characters long; at most {MAX_SPEC_LENGTH} are accepted."
        )
    chain, settings = _Parser(text).parse()
    c = _Compiler(text, _units.UnitContext())
    with c.at(1):
        c.ctx = c.ctx.with_updates(**context)
    total, total_arg = c.settings(settings)
    phases = c.chain(chain, in_cycle=False)
    if total is not None and total_arg is not None and not c.cycle:
        span = sum(int(p.span) for p in phases)  # type: ignore[arg-type]
        if span > total:
            raise c.error(f"the segments span {span} steps, more than total={total}", total_arg.col)
    if c.cycle.get("cycle_decay") is not None:
        first = c.cycle["cycle_start"]
        body = phases[first:]
        with c.at(c.cycle_col):
            _validation.check_cycle_decay(
                "decay",
                c.cycle["cycle_decay"],
                starts=[float(p.start) for p in phases],  # type: ignore[arg-type]
                ends=[float(p.end) for p in phases],  # type: ignore[arg-type]
                scales=[[float(p.scale_start), float(p.scale_end)] for p in phases],  # type: ignore[arg-type]
                period=sum(int(p.span) for p in body),  # type: ignore[arg-type]
                num_cycles=c.cycle.get("num_cycles"),
                cycle_mul=c.cycle.get("cycle_mul", 1.0),
            )
    if c.ramp is not None:
        return _on_ramp(c, phases, total)
    with c.at(1):
        schedule = _engine.from_phases(phases, **c.cycle)
    return CompiledSpec(schedule, total)


def _on_ramp(c: _Compiler, phases: list[_engine.Phase], total: int | None) -> CompiledSpec:
    """The schedule in steps of a spec written in data under a batch ramp (exact per step)."""
    import jax

    from optax_warmup.schedules import ramps as _ramps  # local: only for ramps
    from optax_warmup.transforms import clock as _clock

    assert c.clock is not None
    if c.cycle:
        raise c.error("cycle() cannot run on a batch ramp's data clock", 1)
    with c.at(1):
        with jax.enable_x64(True):  # data counts pass the int32 range; only the table is kept
            table = _clock.phase_table(_engine.from_phases(phases))
        stages = _ramps.ramp_schedule_stages(c.ramp)
        schedule = _clock.phases_on_ramp(table, stages, c.clock)
    steps = None if total is None else stages.first_step(total, c.clock)
    return CompiledSpec(schedule, steps, c.ramp)


def parse_spec(text: str, **context: Any) -> _engine.PhaseSchedule:
    """Build a schedule from a one-line spec string.

    See the module docstring for the grammar. ``context`` gives default unit
    settings (``total_steps``, ``steps_per_epoch``, ``batch_size``,
    ``tokens_per_step``, ``seq_len``) that the spec's settings override.

    Args:
      text: the spec, e.g. ``"linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k"``.
      **context: default unit settings.

    Returns:
      The schedule.

    Raises:
      SpecError: (a ``ValueError``) with the column of the problem.

    Example:
      >>> import optax_warmup as ow
      >>> s = ow.parse_spec("linear(2) > linear(to=0.5x) @ peak=2 total=4")
      >>> [float(s(c)) for c in range(5)]
      [1.0, 2.0, 2.0, 1.5, 1.0]
      >>> ow.parse_spec("linear(2) > cosin @ total=10")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      optax_warmup.io.spec.SpecError: column 13: unknown segment 'cosin' ...
    """
    return compile_spec(text, **context).schedule
