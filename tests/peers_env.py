"""Create the real peers' environment for ``tests/test_peers_real.py``, in one command.

    python -m tests.peers_env [VENV]          # default /work/venv-peers

Makes a virtual environment beside the project's (the peers pull in torch,
which the library itself never needs), installs this checkout with its
``test`` and ``peers`` extras, and pins ``torch==2.13.0`` (the CPU build: a
plain ``torch`` would pull a multi-GB CUDA build). torchvision, pulled in by
timm, is removed when it does not load against that torch (its wheel is built
for the CUDA torch; the test loads ``timm.scheduler`` without it). Then run::

    KERAS_BACKEND=jax VENV/bin/python -m pytest -s tests/test_peers_real.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH = "torch==2.13.0"


def main(argv: list[str]) -> int:
    venv = Path(argv[0] if argv else "/work/venv-peers")
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "install"]
    subprocess.run([*pip, "-e", f"{ROOT}[test,peers]", TORCH], check=True)
    probe = subprocess.run([str(py), "-c", "import torchvision"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(py), "-m", "pip", "uninstall", "-y", "torchvision"], check=True)
    run = f"KERAS_BACKEND=jax {py} -m pytest -s tests/test_peers_real.py"
    print(f"peers installed in {venv}; run: {run}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
