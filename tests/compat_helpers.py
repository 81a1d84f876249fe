"""Evaluation and comparison helpers shared by the tests of optax_warmup.compat.

Schedules are evaluated through one jitted function that takes the schedule as a
pytree argument, on count arrays padded to a fixed length: schedules of the same
structure then share one compilation, which keeps these tests fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

_PAD = 128
_EVAL = jax.jit(lambda schedule, counts: schedule(counts))


def values(schedule: Any, counts: Iterable[int]) -> np.ndarray:
    """``schedule(counts)`` as float64 NumPy, via one jitted evaluation."""
    c = np.asarray(list(counts), dtype=np.int64)
    size = max(_PAD, -(-len(c) // _PAD) * _PAD)
    padded = np.zeros(size, np.int32)
    padded[: len(c)] = c
    return np.asarray(_EVAL(schedule, padded), np.float64)[: len(c)]


def assert_matches(
    schedule: Any,
    reference: Callable[[int], float],
    counts: Iterable[int],
    rtol: float,
    scale: float = 1.0,
) -> None:
    """Every count within ``max(rtol, 1e-6)`` relative (``1e-12 * scale`` absolute)."""
    counts = list(counts)
    want = np.asarray([reference(k) for k in counts], np.float64)
    np.testing.assert_allclose(
        values(schedule, counts), want, rtol=max(rtol, 1e-6), atol=1e-12 * scale
    )
