"""Shared test configuration: backend reporting, backend assertion, tolerances.

Set ``OPTAX_WARMUP_EXPECT_BACKEND`` (``cpu``, ``gpu`` or ``tpu``) to make the
suite fail when JAX runs on another backend (a silent CPU fallback on an
accelerator machine fails ``test_expected_backend``).
"""

from __future__ import annotations

import os

import jax
import pytest


def pytest_report_header(config: pytest.Config) -> str:
    return f"jax {jax.__version__}, backend {jax.default_backend()}, devices {jax.devices()}"


def backend_rtol() -> float:
    """Relative tolerance of float32 schedule values on this backend.

    CPU and GPU evaluate transcendental functions to about 1 ulp; TPU uses
    faster approximations, so its tolerance is looser.
    """
    return {"cpu": 2e-6, "gpu": 5e-6, "cuda": 5e-6, "rocm": 5e-6}.get(jax.default_backend(), 1e-4)


@pytest.fixture
def rtol() -> float:
    return backend_rtol()


@pytest.fixture
def expected_backend() -> str | None:
    return os.environ.get("OPTAX_WARMUP_EXPECT_BACKEND")
