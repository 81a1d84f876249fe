"""The one-compile learning-rate and warmup finder.

Oracles: the closed form of gradient descent on a quadratic (float64), and the
same grid run one configuration at a time with optax's own schedules.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow
from optax_warmup.tuning import finder

CURVATURE = np.array([0.5, 1.0, 4.0])  # Hessian diag: sharpness 4, GD diverges above 0.5


def quadratic(p: jax.Array, b: jax.Array) -> jax.Array:
    return 0.5 * jnp.sum(b * p**2)


def quadratic_batches(step: jax.Array) -> jax.Array:
    del step
    return jnp.asarray(CURVATURE, jnp.float32)


def gd_losses(peak: float, warmup: int, steps: int) -> np.ndarray:
    """Loss before each step of GD on the quadratic, float64, with the finder's warmup."""
    p = np.ones(3)
    out = []
    for c in range(steps):
        out.append(0.5 * np.sum(CURVATURE * p**2))
        lr = peak * min(1.0, (c + 1) / warmup) if warmup > 0 else peak
        p = p - lr * CURVATURE * p
    return np.asarray(out)


def test_every_copy_follows_the_closed_form() -> None:
    lrs = [0.05, 0.2, 0.45, 0.6]
    warmups = [0, 8]
    r = ow.find_learning_rate(
        quadratic,
        jnp.ones(3),
        optax.sgd,
        quadratic_batches,
        num_steps=30,
        learning_rates=lrs,
        warmup_steps=warmups,
        rule="min_loss",
    )
    assert r.losses.shape == (2, 4, 30)
    for i, w in enumerate(warmups):
        for j, lr in enumerate(lrs):
            want = gd_losses(lr, w, 30)
            np.testing.assert_allclose(r.losses[i, j], want, rtol=2e-5, atol=1e-30)
    # 0.6 > 2/4 diverges without warmup; the best stable rate is 0.45
    assert r.final_losses[0, 3] > r.losses[0, 3, 0]
    assert r.suggested_lr == 0.45
    assert r.num_traces == 1


def test_matches_running_the_grid_one_by_one_with_optax() -> None:
    key = jax.random.key(0)
    x = jax.random.normal(key, (64, 4))
    y = jnp.tanh(x @ jnp.array([1.0, -2.0, 0.5, 1.5]))
    params = {"w": jnp.zeros((4, 8)) + 0.1, "v": jnp.linspace(-1.0, 1.0, 8)}

    def loss(p: Any, batch: tuple[jax.Array, jax.Array]) -> jax.Array:
        xb, yb = batch
        return jnp.mean((jnp.tanh(xb @ p["w"]) @ p["v"] - yb) ** 2)

    batches = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 48, 4)]
    lrs, warmups = [1e-2, 3e-2], [0, 4]
    r = ow.find_learning_rate(
        loss, params, optax.adam, batches, num_steps=12, learning_rates=lrs, warmup_steps=warmups
    )
    seconds, seq = finder.time_sequential(
        loss, params, optax.adam, batches, lrs, warmups, num_steps=12
    )
    assert seconds > 0
    np.testing.assert_allclose(r.losses, seq, rtol=1e-4)
    assert r.compile_seconds > 0
    assert r.run_seconds > 0


def test_one_trace_whatever_the_grid_size() -> None:
    traced = [0]

    def counting_loss(p: jax.Array, b: jax.Array) -> jax.Array:
        traced[0] += 1
        return quadratic(p, b)

    def run(num_rates: int, warmups: list[int]) -> finder.FinderResult:
        traced[0] = 0
        return ow.find_learning_rate(
            counting_loss,
            jnp.ones(3),
            optax.sgd,
            quadratic_batches,
            num_steps=5,
            min_lr=0.01,
            max_lr=0.4,
            num_rates=num_rates,
            warmup_steps=warmups,
        )

    small = run(2, [0])
    traces_small = traced[0]
    big = run(12, [0, 3, 6])
    assert small.num_traces == big.num_traces == 1
    assert traced[0] == traces_small  # the loss is traced as often for 36 copies as for 2
    again = ow.find_learning_rate(
        counting_loss,
        2 * jnp.ones(3),  # new parameters, same shapes and dtypes: the compiled grid is reused
        optax.sgd,
        quadratic_batches,
        num_steps=5,
        min_lr=0.01,
        max_lr=0.4,
        num_rates=12,
        warmup_steps=[0, 3, 6],
    )
    assert again.num_traces == 0
    np.testing.assert_allclose(again.losses[..., 0], 4 * big.losses[..., 0], rtol=1e-6)


def test_iterable_and_function_batches_agree() -> None:
    data = jnp.stack([jnp.asarray(CURVATURE * (1 + 0.1 * i), jnp.float32) for i in range(10)])
    kw: dict[str, Any] = {"num_steps": 10, "learning_rates": [0.1, 0.3], "warmup_steps": [0, 2]}
    a = ow.find_learning_rate(quadratic, jnp.ones(3), optax.sgd, list(data), **kw)
    b = ow.find_learning_rate(quadratic, jnp.ones(3), optax.sgd, lambda s: data[s], **kw)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_grid_can_start_at_the_critical_rate() -> None:
    r = ow.find_learning_rate(
        quadratic,
        jnp.ones(3),
        optax.sgd,
        quadratic_batches,
        num_steps=5,
        min_lr="sharpness",
        max_lr=5.0,
        num_rates=3,
    )
    np.testing.assert_allclose(r.learning_rates, [0.5, np.sqrt(0.5 * 5.0), 5.0], rtol=1e-5)


def test_warmup_lets_a_larger_rate_through() -> None:
    # a sharp start that flattens: warmup lets rates that diverge at step 0 train
    def loss(p: jax.Array, b: jax.Array) -> jax.Array:
        del b
        return 0.25 * jnp.sum(p**4) + 0.5 * jnp.sum(p**2)

    r = ow.find_learning_rate(
        loss,
        jnp.full(2, 3.0),
        optax.sgd,
        quadratic_batches,
        num_steps=40,
        learning_rates=[0.05, 0.1, 0.2, 0.4, 0.8, 1.2],
        warmup_steps=[0, 20],
        rule="within",
    )
    diverged = ~np.isfinite(r.final_losses)
    assert diverged[0].sum() > diverged[1].sum()


def test_all_diverged_gives_no_suggestion() -> None:
    r = ow.find_learning_rate(
        quadratic,
        jnp.ones(3),
        optax.sgd,
        quadratic_batches,
        num_steps=200,
        learning_rates=[5.0, 50.0],
    )
    assert np.all(np.isinf(r.final_losses))
    assert np.isnan(r.suggested_lr)
    assert r.suggested_warmup == -1


def test_suggest_rules() -> None:
    lrs = np.array([0.001, 0.01, 0.1, 1.0, 10.0])
    final = np.array(
        [
            [3.0, 2.0, 1.2, 1.1, np.inf],  # no warmup: best 1.1
            [3.0, 2.5, 1.0, 1.02, 1.04],  # warmup 10: best 1.0, 10.0 within 5%
            [3.0, 2.5, 1.0, 1.0, 1.0],  # warmup 50: as good, longer
        ]
    )
    warmups = np.array([0, 10, 50])
    assert finder.suggest(lrs, warmups, final, "within", 0.05) == (10.0, 10)
    assert finder.suggest(lrs, warmups, final, "within", 0.01) == (0.1, 10)
    assert finder.suggest(lrs, warmups, final, "min_loss", 0.05) == (0.1, 10)
    assert finder.suggest(lrs, warmups, final, "within", 0.2) == (1.0, 0)
    steep = np.array([[3.0, 2.9, 1.0, 0.95, 0.9]])
    assert finder.suggest(lrs, np.array([0]), steep, "steepest") == (0.01, 0)


def test_suggest_and_finder_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="diverged"):
        finder.suggest(np.array([1.0]), np.array([0]), np.array([[np.inf]]))
    with pytest.raises(ValueError, match="rule"):
        finder.suggest(np.array([1.0]), np.array([0]), np.array([[1.0]]), "best")  # type: ignore[arg-type]
    kw: dict[str, Any] = {"num_steps": 2}
    with pytest.raises(ValueError, match="max_lr"):
        ow.find_learning_rate(
            quadratic, jnp.ones(3), optax.sgd, quadratic_batches, min_lr=1.0, max_lr=0.5, **kw
        )
    with pytest.raises(ValueError, match="warmup_steps"):
        ow.find_learning_rate(
            quadratic, jnp.ones(3), optax.sgd, quadratic_batches, warmup_steps=[-1], **kw
        )
    with pytest.raises(ValueError, match="batches"):
        ow.find_learning_rate(quadratic, jnp.ones(3), optax.sgd, [CURVATURE], **kw)
    with pytest.raises(ValueError, match="learning_rates"):
        ow.find_learning_rate(
            quadratic, jnp.ones(3), optax.sgd, quadratic_batches, learning_rates=[0.1, -1.0], **kw
        )


def test_plot_marks_the_suggestion() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    r = ow.find_learning_rate(
        quadratic,
        jnp.ones(3),
        optax.sgd,
        quadratic_batches,
        num_steps=10,
        learning_rates=[0.1, 0.3, 0.45],
        warmup_steps=[0, 4],
    )
    ax = r.plot()
    assert len(ax.get_lines()) == 3
    star = ax.get_lines()[-1]
    assert float(star.get_xdata()[0]) == r.suggested_lr
