"""Plotting schedules with matplotlib (imported only when a plot is drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optax_warmup.io import config as _config
from optax_warmup.io import preview as _preview

MISSING_MATPLOTLIB = "plotting needs matplotlib: pip install 'optax-warmup[plot]'"


def resolve(schedule: Any) -> Any:
    """A schedule from a schedule, a spec string or a config dict."""
    if isinstance(schedule, str | Mapping):
        return _config.from_config(schedule)
    if not callable(schedule):
        raise ValueError(f"expected a schedule, a spec string or a config, got {schedule!r}.")
    return schedule


def escape_text(text: str | None) -> str | None:
    """``text`` shown literally by matplotlib: ``$`` escaped (no mathtext)."""
    return None if text is None else str(text).replace("$", "\\$")


def plot(
    schedules: Any,
    num_steps: int,
    ax: Any = None,
    *,
    labels: Sequence[str | None] | None = None,
    **line_kwargs: Any,
) -> Any:
    """Plot one or several schedules over counts ``0 .. num_steps - 1`` (for notebooks).

    Args:
      schedules: a schedule, a spec string, a config dict, or a list of them.
      num_steps: how many counts to draw.
      ax: a matplotlib ``Axes`` to draw on; a new figure when ``None``.
      labels: one legend label per schedule (default: the spec strings), shown
        literally (a ``$`` is not read as mathtext).
      **line_kwargs: passed to ``ax.plot`` for every line.

    Returns:
      The ``Axes``.

    Raises:
      ImportError: when matplotlib is not installed.

    Example:
      >>> import matplotlib
      >>> matplotlib.use("Agg")
      >>> import optax_warmup as ow
      >>> ax = ow.plot(["linear(10) > cosine @ total=100", ow.linear_decay(1.0, 100)], 100)
      >>> len(ax.get_lines()), float(ax.get_lines()[1].get_ydata()[0])
      (2, 1.0)
    """
    items = list(schedules) if isinstance(schedules, list | tuple) else [schedules]
    if not items:
        raise ValueError("schedules must hold at least one schedule, got none.")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}.")
    if labels is None:
        labels = [s if isinstance(s, str) else None for s in items]
    if len(labels) != len(items):
        raise ValueError(
            f"labels must hold one label per schedule ({len(items)}), got {len(labels)}."
        )
    resolved = [resolve(s) for s in items]
    if ax is None:
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError(MISSING_MATPLOTLIB) from None
        _, ax = plt.subplots()
    for s, label in zip(resolved, labels, strict=True):
        counts = _preview.sample_counts(s, num_steps)
        ax.plot(counts, _preview.evaluate(s, counts), label=escape_text(label), **line_kwargs)
    ax.set_xlabel("step (updates applied)")
    ax.set_ylabel("value")
    if any(label is not None for label in labels):
        ax.legend()
    return ax
