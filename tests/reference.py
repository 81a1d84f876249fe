"""Independent float64 NumPy references written from the formulas (not from the code)."""

from __future__ import annotations

import math

import numpy as np


def warmup(
    c: int,
    peak: float,
    w: int,
    shape: str = "linear",
    init: float | None = None,
    power: float = 2.0,
    rate: float = 5.0,
) -> float:
    """Warmup value; no wasted update when ``init`` is None."""
    if c >= w:
        return peak
    if init is None:
        p, start = (c + 1) / w, 0.0
    else:
        p, start = c / w, init
    f = {
        "linear": lambda p: p,
        "cosine": lambda p: (1 - math.cos(math.pi * p)) / 2,
        "polynomial": lambda p: p**power,
        "exponential": lambda p: (1 - math.exp(-rate * p)) / (1 - math.exp(-rate)),
        "1-sqrt": lambda p: 1 - math.sqrt(1 - p),
        "constant": lambda p: 0.0,
    }[shape](p)
    return start + (peak - start) * f


def decay(
    c: int,
    init: float,
    d: int,
    end: float,
    shape: str = "cosine",
    power: float = 1.0,
    exponent: float = 1.0,
) -> float:
    if c >= d:
        return end
    p = c / d
    if shape == "linear":
        return init + (end - init) * p
    if shape == "cosine":
        return end + (init - end) * ((1 + math.cos(math.pi * p)) / 2) ** exponent
    if shape == "polynomial":
        return end + (init - end) * (1 - p) ** power
    if shape == "1-sqrt":
        return end + (init - end) * (1 - math.sqrt(p))
    if shape == "exponential":
        return init * (end / init) ** p
    raise AssertionError(shape)


def wsd(c: int, peak: float, total: int, w: int, d: int, end: float, shape: str) -> float:
    if c < w:
        return peak * (c + 1) / w
    if c < total - d:
        return peak
    return decay(c - (total - d), peak, d, end, shape)


def noam(c: int, d: float, w: int) -> float:
    t = c + 1
    return d**-0.5 * min(t**-0.5, t * w**-1.5)


def sgdr(
    c: int, peak: float, t0: int, mul: float, decay_: float, end: float, limit: int | None = None
) -> float:
    """timm-style cosine restarts: cycle i lasts t0*mul**i, peak decays, floor fixed."""
    if mul == 1:
        i, t_i, t_cur = c // t0, t0, c % t0
    else:
        i = math.floor(math.log(1 - c / t0 * (1 - mul), mul))
        t_i = mul**i * t0
        t_cur = c - (1 - mul**i) / (1 - mul) * t0
    if limit is not None and i >= limit:
        return end
    top = peak * decay_**i
    return end + 0.5 * (top - end) * (1 + math.cos(math.pi * t_cur / t_i))


def one_cycle_torch(
    k: int,
    max_lr: float,
    total: int,
    pct: float,
    div: float,
    final_div: float,
    anneal: str = "cos",
    three_phase: bool = False,
) -> float:
    """torch.optim.lr_scheduler.OneCycleLR's get_lr at step k (its documented algorithm)."""
    initial = max_lr / div
    min_lr = initial / final_div
    if three_phase:
        phases = [
            (pct * total - 1, initial, max_lr),
            (2 * pct * total - 2, max_lr, initial),
            (total - 1, initial, min_lr),
        ]
    else:
        phases = [(pct * total - 1, initial, max_lr), (total - 1, max_lr, min_lr)]
    start_step = 0.0
    for i, (end_step, a, b) in enumerate(phases):
        if k <= end_step or i == len(phases) - 1:
            pct_ = (k - start_step) / (end_step - start_step)
            if anneal == "cos":
                return b + (a - b) / 2 * (math.cos(math.pi * pct_) + 1)
            return (b - a) * pct_ + a
        start_step = end_step
    raise AssertionError


def table(fn, counts) -> np.ndarray:
    return np.asarray([fn(int(c)) for c in counts], dtype=np.float64)
