"""The ``optax-warmup`` command (also ``python -m optax_warmup``).

Subcommands: ``show`` (key values, warmup, terminal plot), ``plot`` (PNG/PDF
with matplotlib), ``compare`` (where two schedules differ) and ``config``
(the JSON config of a schedule). A schedule is given as a spec string (see
:mod:`optax_warmup.io.spec`), an inline JSON config (``'{"kind": ...}'``) or
a ``.json`` / ``.yaml`` file. Bad input exits with status 2 and one line on
stderr (warnings included); ``compare`` exits with 1 when the schedules differ.

The work is bounded whatever the input: specs of at most 4096 characters,
config files of at most 1 MiB, at most ``MAX_YAML_ALIASES`` YAML aliases and
the nesting and size limits of :mod:`optax_warmup.io.config`; schedules are
evaluated at the points shown (``show`` samples the curve, and the warmup's
effective period is a sum over 2**16 samples when the warmup is longer; ``compare`` checks
every step up to 2**21 steps and sampled steps beyond), so a 3-billion-step
run costs as much as a short one. Without 64-bit counts, steps past 2**31 - 1
read the value at 2**31 - 1 (the schedules saturate their counts). JSON output
is strict: a value that is not finite is written as ``null``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from optax_warmup.io import config as _config
from optax_warmup.io import plot as _plot
from optax_warmup.io import preview as _preview
from optax_warmup.io import spec as _spec
from optax_warmup.io import units as _units

EXAMPLE = "linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k"
MAX_CONFIG_BYTES = 1 << 20
MAX_YAML_ALIASES = 100
DPI_RANGE = (10, 1200)
WARMUP_SAMPLES = 1 << 16
WIDTH_RANGE = (20, 1000)
HEIGHT_RANGE = (5, 200)


class UsageError(Exception):
    """Bad input: reported on one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Loaded:
    schedule: Any
    label: str
    total_steps: int | None


def _one_line(e: BaseException) -> str:
    text = e.one_line() if isinstance(e, _spec.SpecError) else str(e)
    return " ".join(text.split()) or type(e).__name__


def _json_safe(x: Any) -> Any:
    """``x`` with every float that is not finite replaced by ``None`` (strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_safe(e) for k, e in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(e) for e in x]
    return x


def dumps(x: Any, **kwargs: Any) -> str:
    """Strict JSON: NaN and infinities are written as ``null``."""
    return json.dumps(_json_safe(x), allow_nan=False, **kwargs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; write a finite number.")


def _read_config(arg: str) -> Any:
    inline = arg.lstrip().startswith("{")
    if inline:
        text = arg
    else:
        if os.path.isdir(arg):
            raise UsageError(f"{arg} is a directory, not a config file")
        with open(arg, encoding="utf-8") as f:
            text = f.read(MAX_CONFIG_BYTES + 1)
        if len(text) > MAX_CONFIG_BYTES:
            raise UsageError(f"{arg}: config files are limited to {MAX_CONFIG_BYTES} bytes")
    if inline or arg.endswith(".json"):
        return json.loads(text, parse_constant=_reject_constant)
    try:
        import yaml
    except ImportError:
        raise UsageError("reading YAML needs pyyaml: pip install 'optax-warmup[yaml]'") from None
    try:
        aliases = sum(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, yaml.SafeLoader))
        if aliases > MAX_YAML_ALIASES:
            raise UsageError(
                f"{arg}: {aliases} YAML aliases; at most {MAX_YAML_ALIASES} are accepted"
            )
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"{arg}: not valid YAML ({_one_line(e)})") from None


def load(arg: str) -> Loaded:
    """A schedule from a spec string, an inline JSON config or a config file."""
    try:
        is_config = arg.lstrip().startswith("{") or arg.endswith((".json", ".yaml", ".yml"))
        if not is_config:
            compiled = _spec.compile_spec(arg)
            return Loaded(compiled.schedule, arg, compiled.total_steps)
        config = _read_config(arg)
        _config.check_size(config)
        if isinstance(config, str):
            compiled = _spec.compile_spec(config)
            return Loaded(compiled.schedule, config, compiled.total_steps)
        schedule = _config.from_config(config)
        total = None
        if isinstance(config, dict) and config.get("total_steps") is not None:
            total = _config.node_total_steps(config)
        label = arg if len(arg) <= 60 else arg[:57] + "..."
        return Loaded(schedule, label, total)
    except UsageError:
        raise
    except RecursionError:
        raise UsageError("the schedule is nested too deeply") from None
    except (ValueError, TypeError, OSError, ArithmeticError) as e:
        raise UsageError(_one_line(e)) from None


def _steps(arg_steps: str | None, loaded: Sequence[Loaded]) -> int:
    if arg_steps is not None:
        try:
            q = _units.parse_quantity(arg_steps, "--steps")
            steps = _units.to_steps(q, _units.UnitContext(), "--steps", allow_percent=False)
        except ValueError as e:
            raise UsageError(_one_line(e)) from None
        if steps < 1:
            raise UsageError("--steps must be at least 1")
        return steps
    found = [x.total_steps or _preview.schedule_length(x.schedule) for x in loaded]
    return max([n for n in found if n] or [1000])


def _fmt_step(n: int) -> str:
    return f"{n:,}"


def _fmt_value(x: float | None) -> str:
    return "nan" if x is None else f"{x:.6g}"


def _fmt_diff(x: float | None) -> str:
    return "nan" if x is None else f"{x:.3g}"


def _fmt_ratio(r: float) -> str:
    return f"{r:.4f}" if r == 0 or abs(r) >= 0.01 else f"{r:.3g}"


def _short(n: float) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.3g}"


def show_data(loaded: Loaded, steps: int) -> dict[str, Any]:
    """Everything ``show`` prints, as a JSON-serialisable dict (and the sampled curve)."""
    s = loaded.schedule
    warm = _preview.warmup_steps(s, steps)
    marks = _preview.key_steps(s, steps, warm)
    samples = _preview.sample_counts(s, steps)
    # The warmup's counts for its effective period: every one up to 2**16, evenly
    # spaced samples beyond (the period is then a trapezoid sum over 2**16 samples).
    exact = warm + 1 <= WARMUP_SAMPLES
    warm_counts = (
        np.arange(warm + 1)
        if exact
        else np.unique(np.linspace(0, warm, WARMUP_SAMPLES).round().astype(np.int64))
    )
    counts = np.unique(np.concatenate([samples, [m for m, _ in marks]])).astype(np.int64)
    with np.errstate(all="ignore"):  # one call, one compile
        both = _preview.evaluate(s, np.concatenate([counts, warm_counts]))
    values, warm_values = both[: counts.size], both[counts.size :]
    short = [_config.shortest_float(x, values.dtype) for x in values]
    at = dict(zip(counts.tolist(), short, strict=True))
    period = _preview.effective_warmup_period(warm_values)
    if not exact and warm_counts.size > 1:
        # Trapezoid rule plus the Euler-Maclaurin end correction of the sum.
        w = np.asarray(warm_values, np.float64)
        g0, gl = 1 - w[0] / w.max(), 1 - w[-1] / w.max()
        h = warm / (warm_counts.size - 1)
        period = h * (period - g0 / 2 + gl / 2) + (g0 - gl) / 2
    finite = np.isfinite(values)
    if not finite.all():
        bad = int(counts[np.argmin(finite)])
        raise UsageError(f"the schedule's value at step {bad:,} is {values[~finite][0]}")
    i = int(values.argmax())
    try:
        config = _config.to_config(s)
    except ValueError:
        config = None
    return {
        "schedule": loaded.label,
        "steps": steps,
        "peak": short[i],
        "peak_step": int(counts[i]),
        "warmup_steps": warm,
        "effective_warmup_period": round(period, 3),
        "points": [{"step": m, "value": at[m], "label": label} for m, label in marks],
        "config": config,
        "curve": (samples, np.asarray([at[c] for c in samples.tolist()])),
    }


def terminal_plot(series: list[tuple[Any, Any, str | None]], width: int, height: int) -> str:
    """A line plot drawn with plotext, returned as text."""
    import plotext

    fig = plotext.figure
    fig.clear()
    top = 0.0
    last = 1
    for x, y, label in series:
        sig = fig.signal([float(a) for a in x], [float(b) for b in y], marker="braille")
        sig.lines()
        if label:
            sig.label(label)
        fig.draw(sig)
        top = max(top, float(max(y)))
        last = max(last, int(x[-1]))
    xt = [round(last * k / 4) for k in range(5)]
    fig.ruler(0).ticks(xt, [_short(t) for t in xt])
    if top > 0:
        fig.ruler(1).lim(0, top * 1.05)
        yt = [top * k / 4 for k in range(5)]
        fig.ruler(1).ticks(yt, [f"{t:.3g}" for t in yt])
    fig.plot_size(width, height)
    colorless = not sys.stdout.isatty() or bool(os.environ.get("NO_COLOR"))
    return fig.build().string(colorless=colorless)


def _plot_size(args: argparse.Namespace) -> tuple[int, int]:
    for name, value, (lo, hi) in (
        ("--width", args.width, WIDTH_RANGE),
        ("--height", args.height, HEIGHT_RANGE),
    ):
        if value is not None and not lo <= value <= hi:
            raise UsageError(f"{name} must lie in [{lo}, {hi}], got {value}")
    cols = shutil.get_terminal_size((80, 24)).columns
    return args.width or max(40, min(cols, 100)), args.height


def cmd_show(args: argparse.Namespace) -> int:
    size = _plot_size(args)  # checked before any output
    loaded = load(args.schedule)
    steps = _steps(args.steps, [loaded])
    data = show_data(loaded, steps)
    counts, values = data.pop("curve")
    if args.json:
        print(dumps(data, indent=2))
        return 0
    peak = data["peak"]
    print(data["schedule"])
    warm = data["warmup_steps"]
    summary = [
        f"{_fmt_step(steps)} steps",
        f"peak {_fmt_value(peak)} at step {_fmt_step(data['peak_step'])}",
    ]
    if warm:
        summary.append(
            f"warmup {_fmt_step(warm)} steps "
            f"(effective warmup period {data['effective_warmup_period']:.1f} steps)"
        )
    else:
        summary.append("no warmup")
    print(" | ".join(summary))
    print()
    print(f"{'step':>12}  {'value':>12}  {'/ peak':>8}")
    for p in data["points"]:
        ratio = _fmt_ratio(p["value"] / peak) if peak else "-"
        step, value = _fmt_step(p["step"]), _fmt_value(p["value"])
        print(f"{step:>12}  {value:>12}  {ratio:>8}  {p['label']}")
    if not args.no_plot:
        print()
        print(terminal_plot([(counts, values, None)], *size))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    loaded = [load(a) for a in args.schedules]
    steps = _steps(args.steps, loaded)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(_plot.MISSING_MATPLOTLIB) from None
    lo, hi = DPI_RANGE
    if not lo <= args.dpi <= hi:
        raise UsageError(f"--dpi must lie in [{lo}, {hi}], got {args.dpi}")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output) or args.output.endswith(os.sep):
        raise UsageError(f"-o {args.output} is a directory; give an image file name")
    if not os.path.isdir(out_dir):
        raise UsageError(f"-o {args.output}: the directory {out_dir} does not exist")
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    with np.errstate(all="ignore"):
        _plot.plot([x.schedule for x in loaded], steps, ax=ax, labels=[x.label for x in loaded])
    if args.log:
        ax.set_yscale("log")
    if args.title:
        ax.set_title(_plot.escape_text(args.title) or "")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(args.output, dpi=args.dpi)
    except (OSError, ValueError, RuntimeError) as e:
        raise UsageError(f"cannot write {args.output}: {_one_line(e)}") from None
    if args.json:
        out = {"output": args.output, "steps": steps, "schedules": [x.label for x in loaded]}
        print(dumps(out, indent=2))
    else:
        print(f"wrote {args.output} ({len(loaded)} schedule(s), {_fmt_step(steps)} steps)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load(args.a), load(args.b)
    steps = _steps(args.steps, [a, b])
    if not 0 <= args.tol < math.inf:
        raise UsageError(f"--tol must be >= 0 and finite, got {args.tol}")
    r = _preview.compare(a.schedule, b.schedule, steps, args.tol)
    if args.json:
        print(dumps({"a": a.label, "b": b.label, **r}, indent=2))
        return 0 if r["equal"] else 1
    print(f"A: {a.label}")
    print(f"B: {b.label}")
    print(
        f"over steps 0 .. {_fmt_step(steps - 1)}: max |A - B| = {_fmt_diff(r['max_abs_diff'])} "
        f"at step {_fmt_step(r['at'])} (A = {_fmt_value(r['a_at'])}, B = {_fmt_value(r['b_at'])}), "
        f"{_fmt_diff(r['max_rel_diff'])} of the peak {_fmt_value(r['peak'])}"
    )
    if r["equal"]:
        print(f"same: no step differs by more than {args.tol:g} x peak")
        return 0
    where = (
        f"{_fmt_step(steps)} steps"
        if r["sampled"] is None
        else f"{_fmt_step(r['sampled'])} sampled steps"
    )
    print(
        f"differ at {_fmt_step(r['num_differ'])} of {where} "
        f"(by more than {args.tol:g} x peak), first at step {_fmt_step(r['first_differ'])}, "
        f"in {r['num_ranges']} range(s):"
    )
    for g in r["ranges"]:
        print(
            f"  steps {_fmt_step(g['first'])} .. {_fmt_step(g['last'])}: "
            f"max |A - B| = {_fmt_diff(g['max_abs_diff'])} at step {_fmt_step(g['at'])}"
        )
    if r["num_ranges"] > len(r["ranges"]):
        print(f"  ... and {r['num_ranges'] - len(r['ranges'])} more")
    return 1


def cmd_config(args: argparse.Namespace) -> int:
    loaded = load(args.schedule)
    try:
        config = _config.to_config(loaded.schedule)
    except ValueError as e:
        raise UsageError(_one_line(e)) from None
    print(dumps(config, indent=None if args.compact else 2))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        _error(f"{self.prog}: {message}")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``optax-warmup``."""
    p = _Parser(
        prog="optax-warmup",
        description="Preview, plot and compare learning-rate schedules.",
        epilog=f"example: optax-warmup show '{EXAMPLE}'\n"
        "SPEC is a spec string (grammar: pydoc optax_warmup.io.spec), an inline JSON config "
        "or a .json/.yaml config file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    steps_help = "number of steps (default: the schedule's total, e.g. total= in the spec)"

    show = sub.add_parser("show", help="key values, warmup and a terminal plot")
    show.add_argument("schedule", metavar="SPEC")
    show.add_argument("--steps", help=steps_help)
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.add_argument("--no-plot", action="store_true", help="leave out the terminal plot")
    show.add_argument("--width", type=int, default=None, help="plot width in columns")
    show.add_argument("--height", type=int, default=16, help="plot height in rows")
    show.set_defaults(func=cmd_show)

    plot = sub.add_parser("plot", help="draw schedules to an image file with matplotlib")
    plot.add_argument("schedules", metavar="SPEC", nargs="+")
    plot.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    plot.add_argument("--steps", help=steps_help)
    plot.add_argument("--log", action="store_true", help="logarithmic value axis")
    plot.add_argument("--title", default=None)
    plot.add_argument("--dpi", type=int, default=120)
    plot.add_argument("--json", action="store_true", help="print JSON instead of text")
    plot.set_defaults(func=cmd_plot)

    cmp_ = sub.add_parser(
        "compare", help="where and by how much two schedules differ (exit 1 if they do)"
    )
    cmp_.add_argument("a", metavar="SPEC_A")
    cmp_.add_argument("b", metavar="SPEC_B")
    cmp_.add_argument("--steps", help=steps_help)
    cmp_.add_argument(
        "--tol", type=float, default=1e-5, help="differ when |A - B| > tol x peak (1e-5)"
    )
    cmp_.add_argument("--json", action="store_true", help="print JSON instead of text")
    cmp_.set_defaults(func=cmd_compare)

    cfg = sub.add_parser("config", help="print the JSON config of a schedule (to_config)")
    cfg.add_argument("schedule", metavar="SPEC")
    cfg.add_argument("--compact", action="store_true", help="one line")
    cfg.set_defaults(func=cmd_config)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        # A warning (numpy's overflow in a cast...) is an error: one line, exit 2.
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return args.func(args)
    except UsageError as e:
        _error(str(e))
        return 2
    except BrokenPipeError:  # output piped into head & co.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except RecursionError:
        _error("the input is nested too deeply")
        return 2
    except (Exception, Warning) as e:  # any other failure: still one line, never a traceback
        _error(f"{type(e).__name__}: {_one_line(e)}")
        return 2


def _error(message: str) -> None:
    text = " ".join(message.split())
    if len(text) > 300:
        text = text[:297] + "..."
    print(f"optax-warmup: error: {text}", file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
