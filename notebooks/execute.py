"""Execute the notebooks in this folder and save their figures.

Usage (from the repository root)::

    python notebooks/execute.py                       # every notebook at ci scale
    python notebooks/execute.py --figures docs/assets # ... and refresh the README figures
    OPTAX_WARMUP_SCALE=full python notebooks/execute.py 02 --output /tmp/executed
    OPTAX_WARMUP_SCALE=full python notebooks/execute.py --all  # on an accelerator

``--all`` runs every notebook and writes into ``docs/assets`` (unless
``--figures`` says otherwise): the figures, each experiment's decided claims
(``results/NN_name.json``), the results table ``results.md``, and the README's
results section (between its ``results`` markers) refreshed from that table.
Whenever ``--figures`` is ``docs/assets`` the README section is refreshed too.

The notebooks read their size from ``OPTAX_WARMUP_SCALE`` (``ci`` or ``full``)
and write their figure into ``OPTAX_WARMUP_FIGURES``; this script sets both
for the kernel it starts. ``tests/test_notebooks.py`` runs the same code at
``ci`` scale. The ``.ipynb`` files are committed without outputs; pass
``--output`` to keep executed copies elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ASSETS = ROOT / "docs" / "assets"
sys.path.insert(0, str(HERE))
import _results

SCALES = ("ci", "full")
# A guard against a hung kernel, not a performance target: ci-scale notebooks
# take well under a minute on two CPU cores.
DEFAULT_TIMEOUT = {"ci": 900.0, "full": 7200.0}


def notebook_paths(selection: list[str] | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``), optionally those whose name starts with one
    of ``selection`` (``"02"`` or ``"02_one_compile_many_runs"``)."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if selection:
        paths = [p for p in paths if any(p.stem.startswith(s) for s in selection)]
    return paths


def kernel_env(scale: str, figures: Path) -> dict[str, str]:
    """The environment of the notebook kernel: the scale switch, the figure folder, and
    the repository root on ``PYTHONPATH`` so an uninstalled checkout imports too."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}.")
    env = dict(os.environ)
    env["OPTAX_WARMUP_SCALE"] = scale
    env["OPTAX_WARMUP_FIGURES"] = str(figures.resolve())
    path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + path if path else "")
    return env


def execute(
    path: Path, *, scale: str = "ci", figures: Path, timeout: float | None = None
) -> nbformat.NotebookNode:
    """Run one notebook top to bottom in a fresh ``python3`` kernel and return it executed.

    Raises ``nbclient.exceptions.CellExecutionError`` if a cell fails, and an
    error (nbclient's cell timeout, or ``TimeoutError``) if a cell or the whole
    notebook runs longer than ``timeout`` seconds.
    """
    limit = DEFAULT_TIMEOUT[scale] if timeout is None else timeout
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=int(limit),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = kernel_env(scale, figures)

    async def run() -> nbformat.NotebookNode:
        return await asyncio.wait_for(client.async_execute(env=env), timeout=limit)

    try:
        return asyncio.run(run())
    except asyncio.TimeoutError as e:  # asyncio's own class before Python 3.11
        raise TimeoutError(f"{path.name} did not finish within {limit:.0f} s") from e


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--all`` (every notebook) defaults ``--figures`` to docs/assets."""
    parser = argparse.ArgumentParser(description="Execute the notebooks and save their figures.")
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every notebook; figures, results table and README section into docs/assets",
    )
    parser.add_argument("--scale", default=os.environ.get("OPTAX_WARMUP_SCALE", "ci"))
    parser.add_argument("--figures", type=Path, help="folder for the figures (default: a temp dir)")
    parser.add_argument("--output", type=Path, help="folder for executed copies (with outputs)")
    parser.add_argument("--timeout", type=float, help="seconds per notebook")
    args = parser.parse_args(argv)
    if args.all:
        if args.names:
            parser.error("--all runs every notebook: give no names with it")
        if args.figures is None:
            args.figures = ASSETS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.figures is None:
        args.figures = Path(tempfile.mkdtemp(prefix="optax_warmup_figures_"))
    args.figures.mkdir(parents=True, exist_ok=True)
    print(f"figures go to {args.figures}")
    for path in notebook_paths(args.names):
        start = time.perf_counter()
        nb = execute(path, scale=args.scale, figures=args.figures, timeout=args.timeout)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s at {args.scale} scale")
        if args.output is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.output / path.name)
    if (args.figures / "results").is_dir():
        print(f"results table: {args.figures / 'results.md'}")
        print(_results.table(args.figures))
    if args.figures.resolve() == ASSETS.resolve():
        changed = _results.refresh_readme(ROOT / "README.md", args.figures)
        print("README results section", "refreshed" if changed else "unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
