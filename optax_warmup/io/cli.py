"""The ``optax-warmup`` command (also ``python -m optax_warmup``).

Subcommands: ``show`` (key values, warmup, terminal plot), ``plot`` (PNG/PDF
with matplotlib), ``compare`` (where two schedules differ) and ``config``
(the JSON config of a schedule). A schedule is given as a spec string (see
:mod:`optax_warmup.io.spec`), an inline JSON config (``'{"kind": ...}'``) or
a ``.json`` / ``.yaml`` file. Bad input exits with status 2 and one line on
stderr; ``compare`` exits with 1 when the schedules differ.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from optax_warmup.io import config as _config
from optax_warmup.io import plot as _plot
from optax_warmup.io import preview as _preview
from optax_warmup.io import spec as _spec
from optax_warmup.io import units as _units

EXAMPLE = "linear(2k) > cosine(to=0.1x) @ peak=3e-4 total=100k"


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


def _read_config(arg: str) -> Any:
    if arg.lstrip().startswith("{"):
        return json.loads(arg)
    with open(arg, encoding="utf-8") as f:
        text = f.read()
    if arg.endswith(".json"):
        return json.loads(text)
    try:
        import yaml
    except ImportError:
        raise UsageError("reading YAML needs pyyaml: pip install 'optax-warmup[yaml]'") from None
    try:
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
    except (ValueError, TypeError, OSError) as e:
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


def _fmt_value(x: float) -> str:
    return f"{x:.6g}"


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
    counts = np.unique(np.concatenate([samples, [m for m, _ in marks], np.arange(warm + 1)]))
    values = _preview.evaluate(s, counts)
    short = [_config.shortest_float(x, values.dtype) for x in values]
    at = dict(zip(counts.tolist(), short, strict=True))
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
        "effective_warmup_period": round(_preview.effective_warmup_period(values[: warm + 1]), 3),
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
    cols = shutil.get_terminal_size((80, 24)).columns
    return args.width or max(40, min(cols, 100)), args.height


def cmd_show(args: argparse.Namespace) -> int:
    loaded = load(args.schedule)
    steps = _steps(args.steps, [loaded])
    data = show_data(loaded, steps)
    counts, values = data.pop("curve")
    if args.json:
        print(json.dumps(data, indent=2))
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
        print(terminal_plot([(counts, values, None)], *_plot_size(args)))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    loaded = [load(a) for a in args.schedules]
    steps = _steps(args.steps, loaded)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(_plot.MISSING_MATPLOTLIB) from None
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    _plot.plot([x.schedule for x in loaded], steps, ax=ax, labels=[x.label for x in loaded])
    if args.log:
        ax.set_yscale("log")
    if args.title:
        ax.set_title(args.title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(args.output, dpi=args.dpi)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot write {args.output}: {_one_line(e)}") from None
    if args.json:
        out = {"output": args.output, "steps": steps, "schedules": [x.label for x in loaded]}
        print(json.dumps(out, indent=2))
    else:
        print(f"wrote {args.output} ({len(loaded)} schedule(s), {_fmt_step(steps)} steps)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    a, b = load(args.a), load(args.b)
    steps = _steps(args.steps, [a, b])
    if not args.tol >= 0:
        raise UsageError(f"--tol must be >= 0, got {args.tol}")
    r = _preview.compare(a.schedule, b.schedule, steps, args.tol)
    if args.json:
        print(json.dumps({"a": a.label, "b": b.label, **r}, indent=2))
        return 0 if r["equal"] else 1
    print(f"A: {a.label}")
    print(f"B: {b.label}")
    print(
        f"over steps 0 .. {_fmt_step(steps - 1)}: max |A - B| = {r['max_abs_diff']:.3g} "
        f"at step {_fmt_step(r['at'])} (A = {_fmt_value(r['a_at'])}, B = {_fmt_value(r['b_at'])}), "
        f"{r['max_rel_diff']:.3g} of the peak {_fmt_value(r['peak'])}"
    )
    if r["equal"]:
        print(f"same: no step differs by more than {args.tol:g} x peak")
        return 0
    print(
        f"differ at {_fmt_step(r['num_differ'])} of {_fmt_step(steps)} steps "
        f"(by more than {args.tol:g} x peak), first at step {_fmt_step(r['first_differ'])}, "
        f"in {r['num_ranges']} range(s):"
    )
    for g in r["ranges"]:
        print(
            f"  steps {_fmt_step(g['first'])} .. {_fmt_step(g['last'])}: "
            f"max |A - B| = {g['max_abs_diff']:.3g} at step {_fmt_step(g['at'])}"
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
    print(json.dumps(config, indent=None if args.compact else 2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``optax-warmup``."""
    p = argparse.ArgumentParser(
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
        return args.func(args)
    except UsageError as e:
        print(f"optax-warmup: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
