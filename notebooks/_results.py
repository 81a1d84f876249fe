"""How the notebooks decide a claim, and where they write what they decided.

Every experimental notebook measures one number per seed for each claim it
checks (a ratio of largest stable learning rates, a difference of held-out
losses), summarises the seeds by their mean and a 95% Student-t interval, and
decides the claim with one rule, :func:`decide`:

- **agrees** when the whole interval lies inside the region the paper claims
  (so it excludes the alternative); an interval over a learning-rate grid is
  first widened by the grid's resolution;
- **disagrees** when the whole interval lies outside that region;
- **inconclusive** otherwise, or when a seed gave no finite number (a run that
  diverged where the metric needs it to train), or when fewer than two seeds
  gave one.

Each notebook writes its claims, with the per-seed numbers, to
``<figures>/results/<notebook>.json`` and rebuilds ``<figures>/results.md`` (one
table for every notebook whose json is there). ``tests/test_notebooks.py``
recomputes every verdict from the saved per-seed numbers. Only numpy here, so
``notebooks/execute.py`` and the tests import this without JAX.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Two-sided 95% Student-t critical values t_{0.975, df}, df = 1 ... 30 (standard tables;
# tests/test_notebooks.py checks them against scipy.stats.t.ppf).
T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
VERDICTS = ("agrees", "disagrees", "inconclusive")
README_START = "<!-- results:start (written by notebooks/execute.py; do not edit) -->"
README_END = "<!-- results:end -->"


def t_interval(values: Sequence[float], log: bool = False) -> tuple[float, float, float, int]:
    """Mean and 95% t interval of the finite ``values``: ``(mean, low, high, n_finite)``.

    With ``log`` the interval is computed on ``log2(values)`` and mapped back
    (a geometric mean, for ratios). Fewer than two finite values give NaN bounds.
    """
    x = np.asarray(values, np.float64)
    x = x[np.isfinite(x)]
    if log:
        x = np.log2(x[x > 0])
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        lo = hi = math.nan
    else:
        half = T95[min(n - 1, len(T95)) - 1] * float(x.std(ddof=1)) / math.sqrt(n)
        lo, hi = mean - half, mean + half
    if log:
        mean, lo, hi = 2.0**mean, 2.0**lo, 2.0**hi
    return mean, lo, hi, n


def decide(lo: float, hi: float, low: float, high: float, nonfinite: int = 0) -> str:
    """The verdict on a claim that the quantity lies in ``[low, high]`` (either may be
    infinite), given its interval ``[lo, hi]`` and the number of seeds without a
    finite value: see the module docstring."""
    if nonfinite > 0 or not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if low <= lo and hi <= high:
        return "agrees"
    if hi < low or lo > high:
        return "disagrees"
    return "inconclusive"


def claim(
    text: str,
    source: str,
    metric: str,
    values: Sequence[float],
    low: float,
    high: float,
    log: bool = False,
    resolution: float = 1.0,
    note: str = "",
) -> dict[str, Any]:
    """One decided claim: the per-seed ``values`` of ``metric``, their summary and the verdict
    on "``metric`` lies in [``low``, ``high``]".

    ``resolution`` (with ``log``): the values are only known to that factor (a
    learning-rate grid's step), so the interval is widened by it on both sides.
    """
    vals = [float(v) for v in np.asarray(values, np.float64).ravel()]
    mean, lo, hi, n = t_interval(vals, log=log)
    if log:
        lo, hi = lo / resolution, hi * resolution
    nonfinite = len(vals) - n
    return dict(
        claim=text,
        source=source,
        metric=metric,
        values=vals,
        low=low,
        high=high,
        log=log,
        resolution=resolution,
        mean=mean,
        lo=lo,
        hi=hi,
        seeds=len(vals),
        nonfinite=nonfinite,
        verdict=decide(lo, hi, low, high, nonfinite),
        note=note,
    )


def _num(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) else ("inf" if x > 0 else "-inf" if x < 0 else "n/a")


def describe(c: dict[str, Any]) -> str:
    """A one-line account of a claim: the measurement, the interval, the rule, the verdict."""
    region = f"[{_num(c['low'])}, {_num(c['high'])}]"
    kind = "geometric mean" if c["log"] else "mean"
    widened = f", widened x{c['resolution']:.3g} for the grid" if c["resolution"] != 1 else ""
    failed = f", {c['nonfinite']} without a finite value" if c["nonfinite"] else ""
    return (
        f"{c['claim']} ({c['source']}): {c['metric']} {kind} {_num(c['mean'])}, "
        f"95% t interval [{_num(c['lo'])}, {_num(c['hi'])}]{widened} over {c['seeds']} seeds"
        f"{failed}; "
        f"claimed region {region}: {c['verdict']}." + (f" ({c['note']})" if c["note"] else "")
    )


def write(figures: Path, notebook: str, scale: str, device: str, claims: list[dict]) -> Path:
    """Save ``claims`` as ``<figures>/results/<notebook>.json`` and rebuild ``results.md``."""
    folder = figures / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.json"
    record = dict(notebook=notebook, scale=scale, device=device, claims=claims)
    path.write_text(json.dumps(record, indent=1, allow_nan=True) + "\n")
    (figures / "results.md").write_text(table(figures))
    return path


def load(figures: Path) -> list[dict[str, Any]]:
    """Every notebook's saved record under ``<figures>/results``, in notebook order."""
    return [json.loads(p.read_text()) for p in sorted((figures / "results").glob("*.json"))]


def table(figures: Path) -> str:
    """The markdown results table of every notebook whose record is under ``figures``."""
    rows = [
        "| notebook | claim | source | measured | mean [95% interval] | seeds | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for record in load(figures):
        for c in record["claims"]:
            failed = f" ({c['nonfinite']} not finite)" if c["nonfinite"] else ""
            rows.append(
                f"| {record['notebook'][:2]} ({record['scale']}, {record['device']}) "
                f"| {c['claim']} (claimed: [{_num(c['low'])}, {_num(c['high'])}]) "
                f"| {c['source']} | {c['metric']} "
                f"| {_num(c['mean'])} [{_num(c['lo'])}, {_num(c['hi'])}] "
                f"| {c['seeds']}{failed} | {c['verdict']} |"
            )
    rule = (
        "Rule: a claim **agrees** when the 95% t interval over seeds lies inside the claimed "
        "region, **disagrees** when it lies outside, and is **inconclusive** otherwise or when a "
        "seed gave no finite value. Ratios use the geometric mean (interval on log2); a ratio of "
        "largest stable learning rates has its interval widened by the grid's resolution first."
    )
    return "\n".join([rule, "", *rows]) + "\n"


def refresh_readme(readme: Path, figures: Path) -> bool:
    """Replace the text between the results markers of ``readme`` by :func:`table`;
    return whether the file changed (False too when it has no markers)."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_START}\n{table(figures)}{README_END}{tail}"
    if new == text:
        return False
    readme.write_text(new)
    return True
