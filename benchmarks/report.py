"""Machine description and the markdown / JSON outputs of a benchmark run."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import jax

from benchmarks import _common as c


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Where and with what the benchmarks ran."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": _version("jaxlib"),
        "optax": _version("optax"),
        "optax_warmup": _version("optax-warmup") or _local_version(),
        "numpy": _version("numpy"),
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def _local_version() -> str:
    import optax_warmup

    return optax_warmup.__version__


def _fmt(x: float | int | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, int):
        return f"{x:,}"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 0.01:
        return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"
    return f"{x:.2e}"


def _ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:,.1f}"


def _met(m: bool | None, detail: str) -> str:
    if "skipped" in detail:
        return "skipped"
    return {True: "yes", False: "**no**", None: "-"}[m]


def markdown(info: dict[str, Any], results: c.Results, sections: list[str]) -> str:
    """The run as markdown: a header, one table per section, then the targets."""
    lines = [
        f"# optax_warmup benchmarks ({info['mode']})",
        "",
        f"- date: {info['date']}; command: `{info['command']}`",
        f"- machine: {info['cpu']}, {info['cpu_count']} CPUs ({info['usable_cpus']} usable), "
        f"{info['memory_gib']} GiB; {info['platform']}",
        f"- versions: python {info['python']}, jax {info['jax']}, jaxlib {info['jaxlib']}, "
        f"optax {info['optax']}, optax_warmup {info['optax_warmup']}; "
        f"backend {info['backend']}",
        f"- load average (1 min) at start / end: {info['load_start']} / {info['load_end']}; "
        f"wall time {info['wall_s']:.0f} s",
        "",
    ]
    for section in sections:
        figs = [f for f in results.figures if f.section == section]
        notes = results.notes.get(section, [])
        if not figs and not notes:
            continue
        lines += [f"## {section}", ""]
        competitors = list(dict.fromkeys(f.competitor for f in figs))
        rows = list(dict.fromkeys((f.case, f.metric) for f in figs))
        if figs:
            lines.append("| case | metric | " + " | ".join(competitors) + " |")
            lines.append("| --- | --- |" + " ---: |" * len(competitors))
            table = {(f.case, f.metric, f.competitor): f.value for f in figs}
            for case, metric in rows:
                cells = [_fmt(table.get((case, metric, k))) for k in competitors]
                lines.append(f"| {case} | {metric} | " + " | ".join(cells) + " |")
            lines.append("")
        lines += [f"- {n}" for n in notes]
        if notes:
            lines.append("")
    lines += ["## targets", "", "| section | ratio | value | target | met | note |"]
    lines.append("| --- | --- | ---: | --- | --- | --- |")
    for ch in results.checks:
        lines.append(
            f"| {ch.section} | {ch.claim} | {_ratio(ch.ratio)} | {ch.target} | "
            f"{_met(ch.met, ch.detail)} | {ch.detail} |"
        )
    return "\n".join(lines) + "\n"


def write(
    out_dir: Path, mode: str, info: dict[str, Any], results: c.Results, sections: list[str]
) -> tuple[Path, Path]:
    """Write ``<mode>.md`` and ``<mode>.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path = out_dir / f"{mode}.md"
    json_path = out_dir / f"{mode}.json"
    md_path.write_text(markdown(info, results, sections))
    payload = {
        "machine": info,
        "figures": [dataclasses.asdict(f) for f in results.figures],
        "checks": [dataclasses.asdict(ch) for ch in results.checks],
        "notes": results.notes,
    }
    json_path.write_text(json.dumps(payload, indent=1) + "\n")
    return md_path, json_path
