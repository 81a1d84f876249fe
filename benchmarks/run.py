"""Run every benchmark and write ``<mode>.md`` and ``<mode>.json`` into the output folder.

Usage: ``python -m benchmarks [--quick | --smoke] [--out DIR] [--only SECTION,...]``
(or ``python benchmarks/run.py ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _common as c
from benchmarks import memory, phases, report, step, sweeps, train_step, transforms

SECTIONS: dict[str, Callable[[c.Sizes, c.Results], None]] = {
    phases.SECTION: phases.run,
    sweeps.SECTION: sweeps.run,
    train_step.SECTION: train_step.run,
    transforms.SECTION: transforms.run,
    memory.SECTION: memory.run,
    step.SECTION: step.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="short run (under 2 min on 2 cores)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: only checks that it runs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run (" + ", ".join(SECTIONS) + "); default all",
    )
    parser.add_argument(
        "--step-leaves",
        default="",
        help="leaf counts of the step section's train step (default 16,512,2048 in full mode)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = c.SIZES[mode]
    if args.step_leaves:
        leaves = tuple(int(x) for x in args.step_leaves.split(",") if x.strip())
        sizes = dataclasses.replace(sizes, step_leaf_counts=leaves)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    results = c.Results()
    info = report.machine()
    command = "python -m benchmarks" + (f" --{mode}" if mode != "full" else "")
    command += f" --only {args.only}" if args.only else ""
    command += f" --step-leaves {args.step_leaves}" if args.step_leaves else ""
    info.update(mode=mode, command=command, load_start=c.load_average())
    start = time.perf_counter()
    for name in chosen:
        c.log(f"== {name} (load {c.load_average()})")
        SECTIONS[name](sizes, results)
    info.update(load_end=c.load_average(), wall_s=time.perf_counter() - start)
    md_path, json_path = report.write(args.out, mode, info, results, chosen)
    print(md_path.read_text())
    c.log(f"wrote {md_path} and {json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
