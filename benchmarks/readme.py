"""Write the README's benchmark table from a results file (``python -m benchmarks.readme``).

The table lists every benchmark target of one run, with its measured ratio and
met / missed, between the markers ``<!-- benchmarks:start -->`` and
``<!-- benchmarks:end -->``. ``tests/test_benchmarks.py`` checks that the README
holds exactly what this module renders from the results file it names, so the
README's figures are always a committed run's.

Usage::

    python -m benchmarks --only step,sweeps,phases --out benchmarks/results/run
    python -m benchmarks.readme benchmarks/results/run/full.json
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.report import _met, _ratio

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- benchmarks:start", "<!-- benchmarks:end -->"


def render(results_path: Path) -> str:
    """The README block (markers included) for the run stored at ``results_path``."""
    data: dict[str, Any] = json.loads(results_path.read_text())
    info = data["machine"]
    rel = results_path.resolve().relative_to(ROOT).as_posix()
    checks = [ch for ch in data["checks"] if ch["target"] != "(none)"]
    missed = [ch for ch in checks if ch["met"] is False]
    lines = [
        f"{START} (written by `python -m benchmarks.readme {rel}`; do not edit) -->",
        f"Run {info['date']}, `{info['command']}`, {info['cpu']} ({info['usable_cpus']} usable "
        f"CPUs), backend {info['backend']}, jax {info['jax']}, optax {info['optax']}; load "
        f"average {float(info['load_start']):.1f} at start, {float(info['load_end']):.1f} at end. "
        f"{len(checks) - len(missed)} of {len(checks)} targets met. Every figure is the minimum "
        f"or median over interleaved rounds of ours and optax in one process; all figures: "
        f"[{rel.removesuffix('.json')}.md]({rel.removesuffix('.json')}.md).",
        "",
        "| section | ours vs optax | measured | target | met |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for ch in checks:
        lines.append(
            f"| {ch['section']} | {ch['claim']} | {_ratio(ch['ratio'])} | {ch['target']} | "
            f"{_met(ch['met'], ch['detail'])} |"
        )
    lines.append(END)
    return "\n".join(lines)


def current_block(text: str) -> tuple[str, str] | None:
    """The README's block and the results path it names (``""`` if none yet), or ``None``."""
    m = re.search(re.escape(START) + r".*?" + re.escape(END), text, re.S)
    if m is None:
        return None
    named = re.match(re.escape(START) + r" \(written by `python -m benchmarks\.readme (\S+)`", m[0])
    return m.group(0), "" if named is None else named.group(1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme", description=__doc__)
    parser.add_argument(
        "results", type=Path, help="a results .json written by python -m benchmarks"
    )
    args = parser.parse_args(argv)
    text = README.read_text()
    found = current_block(text)
    if found is None:
        raise SystemExit(f"README.md has no {START} ... {END} block")
    README.write_text(text.replace(found[0], render(args.results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
