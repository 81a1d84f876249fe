"""The suite runs on whatever backend JAX finds; this test pins it when asked."""

from __future__ import annotations

import jax
import pytest


def test_expected_backend(expected_backend: str | None) -> None:
    if not expected_backend:
        pytest.skip("OPTAX_WARMUP_EXPECT_BACKEND is not set")
    aliases = {"gpu": {"gpu", "cuda", "rocm"}, "cuda": {"gpu", "cuda"}, "tpu": {"tpu"}}
    wanted = aliases.get(expected_backend.lower(), {expected_backend.lower()})
    assert jax.default_backend() in wanted, (
        f"expected backend {expected_backend!r}, JAX runs on {jax.default_backend()!r}: "
        "did it fall back to CPU?"
    )
    assert all(d.platform in wanted or d.platform == jax.default_backend() for d in jax.devices())
