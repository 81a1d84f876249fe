"""A learning-rate range test and warmup finder that trains every configuration in one compile.

``N`` copies of the model, one per (peak learning rate, warmup length) pair,
train side by side under ``jax.vmap`` inside one jitted ``lax.scan``: the
peak and the warmup length are traced arguments of the schedule (the library's
schedules accept traced hyperparameters), so the whole grid costs one
compilation. The sequential range test (one run per rate, as PyTorch
Lightning's ``lr_find`` sweeps or a loop of optax runs do) compiles once per
configuration when the rate is a Python number.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v
from optax_warmup.schedules import warmup as _warmup
from optax_warmup.tuning import sharpness as _sharpness

Rule = Literal["within", "min_loss", "steepest"]
RULES = ("within", "min_loss", "steepest")
LossFn = Callable[[Any, Any], ArrayLike]
OptimizerFactory = Callable[[Callable[[ArrayLike], ArrayLike]], optax.GradientTransformation]
Batches = Callable[[jax.Array], Any] | Iterable[Any]


@dataclasses.dataclass(frozen=True)
class FinderResult:
    """What :func:`find_learning_rate` measured and suggests.

    Attributes:
      learning_rates: the peak learning rates tried, ``(R,)``, increasing.
      warmup_steps: the warmup lengths tried, ``(W,)``.
      losses: the training loss of every copy at every step, ``(W, R, num_steps)``
        (float64; non-finite values are kept).
      final_losses: the mean loss of the last ``tail`` steps, ``(W, R)``; ``inf``
        where any of them is not finite (a diverged copy).
      rule: the rule that picked the suggestion.
      tolerance: the rule's tolerance.
      suggested_lr: the suggested peak learning rate (NaN when every copy diverged).
      suggested_warmup: the suggested warmup length (-1 when every copy diverged).
      compile_seconds: time to trace and compile the vmapped training (once;
        about 0 when a previous call with the same functions, settings and
        argument shapes is reused).
      run_seconds: time to run it, all copies together.
      num_traces: how many times this call traced the training function (1, or
        0 when a compiled grid was reused).
    """

    learning_rates: np.ndarray
    warmup_steps: np.ndarray
    losses: np.ndarray
    final_losses: np.ndarray
    rule: str
    tolerance: float
    suggested_lr: float
    suggested_warmup: int
    compile_seconds: float
    run_seconds: float
    num_traces: int

    def plot(self, ax: Any = None) -> Any:
        """Final loss against the peak learning rate, one line per warmup, the pick marked.

        Returns:
          The matplotlib ``Axes`` (a new figure when ``ax`` is ``None``).

        Raises:
          ImportError: when matplotlib is not installed.
        """
        from optax_warmup.io.plot import MISSING_MATPLOTLIB  # local: io sits above tuning

        try:
            import matplotlib.pyplot as plt
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(MISSING_MATPLOTLIB) from e
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        finite = np.where(np.isfinite(self.final_losses), self.final_losses, np.nan)
        for w, row in zip(self.warmup_steps, finite, strict=True):
            ax.plot(self.learning_rates, row, marker="o", ms=3, label=f"warmup {int(w)}")
        if self.suggested_warmup >= 0:
            w_index = int(np.flatnonzero(self.warmup_steps == self.suggested_warmup)[0])
            r_index = int(np.argmin(np.abs(self.learning_rates - self.suggested_lr)))
            ax.plot(
                [self.suggested_lr],
                [finite[w_index, r_index]],
                marker="*",
                ms=14,
                color="k",
                ls="none",
                label=f"{self.rule}: {self.suggested_lr:.3g}, warmup {self.suggested_warmup}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("peak learning rate")
        ax.set_ylabel(f"final training loss (last steps, {self.losses.shape[-1]}-step budget)")
        ax.legend(fontsize=8)
        return ax


def log_grid(min_lr: float, max_lr: float, num: int) -> np.ndarray:
    """``num`` learning rates evenly spaced in log scale from ``min_lr`` to ``max_lr``."""
    return np.geomspace(min_lr, max_lr, num)


def _pick_rate(final: np.ndarray, log_lrs: np.ndarray, rule: str, tolerance: float) -> int:
    """The index of the rate the rule picks on one row of final losses (some finite)."""
    finite = np.isfinite(final)
    best = int(np.argmin(np.where(finite, final, np.inf)))
    if rule == "min_loss":
        return best
    if rule == "within":
        limit = final[best] + tolerance * abs(final[best])
        ok = np.flatnonzero(finite & (final <= limit))
        return int(ok.max())
    # steepest: the most negative slope of the final loss in log(lr), among finite points
    if finite.sum() < 2:
        return best
    slopes = np.gradient(np.where(finite, final, np.nan), log_lrs)
    slopes = np.where(np.isfinite(slopes), slopes, np.inf)
    return int(np.argmin(slopes))


def suggest(
    learning_rates: np.ndarray,
    warmup_steps: np.ndarray,
    final_losses: np.ndarray,
    rule: str = "within",
    tolerance: float = 0.05,
) -> tuple[float, int]:
    """The suggested ``(peak learning rate, warmup length)`` from a grid of final losses.

    Warmup: the shortest warmup whose best final loss is within ``tolerance``
    (relative) of the best over the whole grid. Peak, on that warmup's row:

    - ``"within"``: the largest rate whose final loss is at most
      ``best + tolerance * |best|``, ``best`` the row's smallest final loss (a
      rate a little below the edge of stability trains as well as the best one
      and leaves room for a longer run);
    - ``"min_loss"``: the rate with the smallest final loss;
    - ``"steepest"``: the rate where the final loss falls fastest against
      ``log(lr)`` (the range test's steepest-descent heuristic, Smith 2017,
      "Cyclical Learning Rates for Training Neural Networks").

    Args:
      learning_rates: ``(R,)`` increasing.
      warmup_steps: ``(W,)``.
      final_losses: ``(W, R)``; non-finite entries are diverged copies.
      rule: ``"within"``, ``"min_loss"`` or ``"steepest"``.
      tolerance: the relative tolerance, >= 0.

    Returns:
      ``(peak, warmup)``.

    Example:
      >>> import numpy as np
      >>> from optax_warmup.tuning import finder
      >>> lrs = np.array([0.01, 0.1, 1.0, 10.0])
      >>> final = np.array([[2.0, 1.0, 1.04, np.inf]])
      >>> finder.suggest(lrs, np.array([0]), final, "within", 0.05)
      (1.0, 0)
      >>> finder.suggest(lrs, np.array([0]), final, "min_loss")
      (0.1, 0)
    """
    v.check_choice("rule", rule, RULES)
    v.check_range("tolerance", tolerance, low=0.0)
    final = np.asarray(final_losses, np.float64)
    if not np.isfinite(final).any():
        raise ValueError("every configuration diverged: lower the learning rates.")
    row_best = np.min(np.where(np.isfinite(final), final, np.inf), axis=1)
    overall = row_best.min()
    good = np.flatnonzero(row_best <= overall + tolerance * abs(overall))
    w_order = good[np.argsort(np.asarray(warmup_steps)[good], kind="stable")]
    w_index = int(w_order[0])
    r_index = _pick_rate(final[w_index], np.log(learning_rates), rule, tolerance)
    return float(learning_rates[r_index]), int(warmup_steps[w_index])


def _stack_batches(batches: Batches, num_steps: int) -> tuple[bool, Any]:
    """``(True, fn)`` for a batch function, ``(False, stacked)`` for an iterable."""
    if callable(batches):
        return True, batches
    taken = []
    for batch in batches:
        taken.append(batch)
        if len(taken) == num_steps:
            break
    if len(taken) < num_steps:
        raise ValueError(f"batches must yield num_steps={num_steps} batches, got {len(taken)}.")
    return False, jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *taken)


def _first_batch(is_fn: bool, data: Any) -> Any:
    return data(jnp.zeros([], jnp.int32)) if is_fn else jax.tree.map(lambda x: x[0], data)


def _train_losses(
    loss_fn: LossFn,
    optimizer: OptimizerFactory,
    schedule: Callable[[ArrayLike], ArrayLike],
    params: Any,
    is_fn: bool,
    data: Any,
    num_steps: int,
) -> jax.Array:
    """The training loss at each of ``num_steps`` steps of one copy (traceable)."""
    tx = optimizer(schedule)
    grad_fn = jax.value_and_grad(loss_fn)

    def step(carry: tuple[Any, Any], x: Any) -> tuple[tuple[Any, Any], jax.Array]:
        p, state = carry
        batch = data(x) if is_fn else x
        loss, grads = grad_fn(p, batch)
        updates, state = tx.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), jnp.asarray(loss, jnp.float32)

    xs = jnp.arange(num_steps, dtype=jnp.int32) if is_fn else data
    return jax.lax.scan(step, (params, tx.init(params)), xs, length=num_steps)[1]


_COMPILED: dict[Any, Any] = {}
_CACHE_SIZE = 8


def _cache_key(*parts: Any) -> Any:
    """A key for a compiled grid: the functions, the static settings, and the
    arguments' structure, shapes and dtypes; ``None`` when something is unhashable."""
    *static, args = parts
    leaves, treedef = jax.tree.flatten(args)
    avals = tuple(
        (np.shape(x), str(jnp.result_type(x)), bool(getattr(x, "weak_type", False))) for x in leaves
    )
    key = (*static, treedef, avals)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def find_learning_rate(
    loss_fn: LossFn,
    params: Any,
    optimizer: OptimizerFactory,
    batches: Batches,
    *,
    num_steps: int = 100,
    learning_rates: Sequence[float] | np.ndarray | None = None,
    min_lr: float | Literal["sharpness"] = 1e-5,
    max_lr: float = 1.0,
    num_rates: int = 16,
    warmup_steps: Sequence[int] = (0,),
    warmup_shape: str = "linear",
    rule: Rule = "within",
    tolerance: float = 0.05,
    tail: int = 10,
) -> FinderResult:
    """Train ``R x W`` copies (peak rates x warmups) in one compile; suggest a peak and a warmup.

    Copy ``(w, r)`` trains ``params`` for ``num_steps`` steps with
    ``optimizer(schedule)``, ``schedule = warmup_schedule(lr_r, W_w)`` (rising
    to ``lr_r`` over ``W_w`` steps, the first update not wasted, then constant),
    on the same batches. All copies run under ``jax.vmap`` in one jitted
    ``lax.scan``; their final losses (the mean of the last ``tail`` steps)
    feed :func:`suggest`. The compiled grid is kept (the last 8) and reused by
    a call with the same ``loss_fn``, ``optimizer``, batch function, settings
    and argument shapes: new initial parameters or new stacked batches (e.g.
    another seed) run without compiling. With ``min_lr="sharpness"`` the grid starts at the
    gradient-descent critical rate ``2 / sharpness`` of ``params`` on the first
    batch (:func:`optax_warmup.estimate_sharpness`,
    :func:`optax_warmup.suggest_warmup_init`) and ends at ``max_lr``.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``.
      params: the initial parameters (a pytree).
      optimizer: a factory taking a learning-rate schedule and returning an
        optax transformation, e.g. ``optax.adam`` or
        ``lambda lr: optax.sgd(lr, momentum=0.9)``.
      batches: a function ``step -> batch`` (traceable: it runs inside the
        scan, e.g. a ``lax.dynamic_slice`` of an array), or an iterable of at
        least ``num_steps`` batches (stacked here; every copy sees the same).
      num_steps: the training budget of every copy (>= 1).
      learning_rates: the peak rates to try; default ``num_rates`` rates on a
        log grid from ``min_lr`` to ``max_lr``.
      min_lr: the smallest rate of the default grid, or ``"sharpness"``.
      max_lr: the largest rate of the default grid.
      num_rates: the default grid's size (>= 2).
      warmup_steps: the warmup lengths to try (>= 0 each).
      warmup_shape: the warmup's shape (see :func:`optax_warmup.warmup_schedule`).
      rule: the suggestion rule (see :func:`suggest`).
      tolerance: the rule's relative tolerance.
      tail: how many final steps are averaged into a copy's final loss.

    Returns:
      A :class:`FinderResult` (with ``compile_seconds`` and ``run_seconds``;
      compare with :func:`time_sequential`).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from optax_warmup.tuning import finder
      >>> loss = lambda p, b: 0.5 * jnp.sum(b * p**2)  # sharpness 4: SGD diverges above 0.5
      >>> batches = lambda step: jnp.array([1.0, 4.0])
      >>> r = finder.find_learning_rate(loss, jnp.ones(2), optax.sgd, batches, num_steps=20,
      ...     min_lr=0.01, max_lr=1.0, num_rates=9, rule="min_loss")
      >>> r.num_traces, round(r.suggested_lr, 4)  # one compile; 0.56 > 2/4 diverges
      (1, 0.3162)
    """
    v.check_int_arg("num_steps", num_steps, low=1)
    v.check_int_arg("tail", tail, low=1)
    v.check_choice("rule", rule, RULES)
    tail = min(tail, num_steps)
    is_fn, data = _stack_batches(batches, num_steps)
    if learning_rates is None:
        v.check_int_arg("num_rates", num_rates, low=2)
        if isinstance(min_lr, str):
            v.check_choice("min_lr", min_lr, ("sharpness",))
            sharp = _sharpness.estimate_sharpness(loss_fn, params, _first_batch(is_fn, data))
            min_lr = float(_sharpness.suggest_warmup_init(jnp.maximum(sharp, 1e-30)))
        v.check_range("min_lr", min_lr, low=0.0, low_open=True)
        if not max_lr > min_lr:
            raise ValueError(f"max_lr must exceed min_lr={min_lr!r}, got max_lr={max_lr!r}.")
        lrs = log_grid(float(min_lr), float(max_lr), num_rates)
    else:
        lrs = np.sort(np.asarray(learning_rates, np.float64))
        if lrs.ndim != 1 or lrs.size < 1 or not np.all(lrs > 0):
            raise ValueError(f"learning_rates must be positive numbers, got {learning_rates!r}.")
    warmups = np.asarray(list(warmup_steps), np.int64)
    if warmups.ndim != 1 or warmups.size < 1 or np.any(warmups < 0):
        raise ValueError(f"warmup_steps must be lengths >= 0, got {warmup_steps!r}.")

    traces = [0]

    def train_all(peaks: jax.Array, lengths: jax.Array, params: Any, stacked: Any) -> jax.Array:
        traces[0] += 1
        source = data if is_fn else stacked

        def one(peak: jax.Array, length: jax.Array) -> jax.Array:
            schedule = _warmup.warmup_schedule(peak, length, shape=warmup_shape)  # type: ignore[arg-type]
            return _train_losses(loss_fn, optimizer, schedule, params, is_fn, source, num_steps)

        return jax.vmap(one)(peaks, lengths)

    grid_w, grid_r = np.meshgrid(warmups, lrs, indexing="ij")
    args = (
        jnp.asarray(grid_r.ravel(), jnp.float32),
        jnp.asarray(grid_w.ravel(), jnp.int32),
        params,
        None if is_fn else data,
    )
    key = _cache_key(loss_fn, optimizer, batches if is_fn else None, num_steps, warmup_shape, args)
    start = time.perf_counter()
    compiled = _COMPILED.get(key) if key is not None else None
    if compiled is None:
        compiled = jax.jit(train_all).lower(*args).compile()
        if key is not None:
            if len(_COMPILED) >= _CACHE_SIZE:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[key] = compiled
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    out = np.asarray(jax.block_until_ready(compiled(*args)), np.float64)
    run_seconds = time.perf_counter() - start

    losses = out.reshape(warmups.size, lrs.size, num_steps)
    last = losses[..., -tail:]
    final = np.where(np.all(np.isfinite(last), axis=-1), last.mean(axis=-1), np.inf)
    peak, warmup = (
        suggest(lrs, warmups, final, rule, tolerance) if np.isfinite(final).any() else (np.nan, -1)
    )
    return FinderResult(
        learning_rates=lrs,
        warmup_steps=warmups,
        losses=losses,
        final_losses=final,
        rule=rule,
        tolerance=float(tolerance),
        suggested_lr=float(peak),
        suggested_warmup=int(warmup),
        compile_seconds=compile_seconds,
        run_seconds=run_seconds,
        num_traces=traces[0],
    )


def optax_warmup_schedule(peak: float, warmup: int) -> optax.Schedule:
    """The finder's linear warmup written with optax alone (for :func:`time_sequential`).

    ``peak (c + 1) / W`` for ``c < W`` then ``peak`` is ``optax.linear_schedule(peak / W,
    peak, W - 1)``; ``W <= 1`` is ``peak`` from the start.
    """
    if warmup <= 1:
        return optax.constant_schedule(peak)
    return optax.linear_schedule(peak / warmup, peak, warmup - 1)


def time_sequential(
    loss_fn: LossFn,
    params: Any,
    optimizer: OptimizerFactory,
    batches: Batches,
    learning_rates: Sequence[float] | np.ndarray,
    warmup_steps: Sequence[int] = (0,),
    *,
    num_steps: int = 100,
) -> tuple[float, np.ndarray]:
    """Run the same grid one configuration at a time with optax's schedules, as a baseline.

    Each configuration builds ``optimizer(optax_warmup_schedule(lr, W))`` with
    Python numbers and jits its own training loop (a ``lax.scan`` of the same
    step), so every configuration compiles again: this is what a loop of optax
    runs costs.

    Returns:
      ``(seconds, losses)``: the total wall time (compiles included) and the
      losses, ``(W, R, num_steps)``, to compare with :func:`find_learning_rate`.
    """
    v.check_int_arg("num_steps", num_steps, low=1)
    is_fn, data = _stack_batches(batches, num_steps)
    warmups = [int(w) for w in warmup_steps]
    rates = [float(r) for r in np.sort(np.asarray(learning_rates, np.float64))]
    out = np.zeros((len(warmups), len(rates), num_steps))
    start = time.perf_counter()
    for i, w in enumerate(warmups):
        for j, lr in enumerate(rates):
            schedule = optax_warmup_schedule(lr, w)

            def run(p: Any, stacked: Any, schedule: optax.Schedule = schedule) -> jax.Array:
                source = data if is_fn else stacked
                return _train_losses(loss_fn, optimizer, schedule, p, is_fn, source, num_steps)

            losses = jax.jit(run)(params, None if is_fn else data)
            out[i, j] = np.asarray(jax.block_until_ready(losses), np.float64)
    return time.perf_counter() - start, out
