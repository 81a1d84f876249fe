"""reduce_on_plateau and its peers' equivalents, against float64 replays of the peers' code.

The replays below transcribe, in float64 Python:

- torch ``ReduceLROnPlateau.step`` / ``_reduce_lr`` / ``_is_better``
  (torch/optim/lr_scheduler.py, pytorch/pytorch 008f727ece1520e12c25089a7969d5b8fca75f8e);
  Hugging Face's ``get_reduce_on_plateau_schedule`` returns it unchanged
  (src/transformers/optimization.py, huggingface/transformers
  ad1fc9639f2e7b6808a2ca982c0a9b3134d76ee8);
- timm ``PlateauLRScheduler.step`` (timm/scheduler/plateau_lr.py,
  huggingface/pytorch-image-models 23f09af08e6b26f114dcc8194246779c229ed619),
  driven as timm's train loop does: ``step(epoch + 1, metric)``;
- Keras ``ReduceLROnPlateau.on_epoch_end`` (keras/src/callbacks/reduce_lr_on_plateau.py,
  keras-team/keras 040582fc160b1080954ddc1f554dd70fbbb1da5a; unchanged in
  Keras 3.15.1 but for the ``"auto"`` mode), whose lr lives in a float32 variable.

Metric sequences are random walks on a grid of 1/16 with stalls, so every
comparison has a margin far above float32 rounding. The multiplier of update
``k`` must equal the peer's lr during step ``k``, at every step.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optax_warmup as ow
from optax_warmup.compat import keras, timm, torch, transformers

STEPS = 96


# ----------------------------------------------------------------------------- replays


class TorchPlateau:
    """torch's ReduceLROnPlateau on a one-group optimizer (float64)."""

    def __init__(
        self,
        lr: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        self.lr = lr
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metric: float) -> None:
        current = float(metric)
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old_lr = self.lr
            new_lr = max(old_lr * self.factor, self.min_lr)
            if old_lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0


class TimmPlateau:
    """timm's PlateauLRScheduler (no noise) over the torch replay."""

    def __init__(
        self,
        lr: float,
        decay_rate: float = 0.1,
        patience_t: int = 10,
        threshold: float = 1e-4,
        cooldown_t: int = 0,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        lr_min: float = 0.0,
        mode: str = "max",
    ) -> None:
        self.base = lr
        self.inner = TorchPlateau(
            lr,
            mode=mode,
            factor=decay_rate,
            patience=patience_t,
            threshold=threshold,
            cooldown=cooldown_t,
            min_lr=lr_min,
        )
        self.warmup_t, self.warmup_lr_init = warmup_t, warmup_lr_init
        if warmup_t:
            self.warmup_step = (lr - warmup_lr_init) / warmup_t
            self.inner.lr = warmup_lr_init
        else:
            self.warmup_step = 1.0

    @property
    def lr(self) -> float:
        return self.inner.lr

    def step(self, epoch: int, metric: float) -> None:
        if epoch <= self.warmup_t:
            self.inner.lr = self.warmup_lr_init + epoch * self.warmup_step
        else:
            self.inner.step(metric)


class KerasPlateau:
    """Keras's ReduceLROnPlateau callback; the optimizer's lr is a float32 variable."""

    def __init__(
        self,
        lr: float,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        self.lr = float(np.float32(lr))
        self.factor, self.patience, self.min_delta = factor, patience, min_delta
        self.cooldown, self.min_lr = cooldown, min_lr
        if mode == "min" or (mode == "auto" and "acc" not in monitor):
            self.better = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        else:
            self.better = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, current: float) -> None:
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.better(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.cooldown_counter > 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = self.lr
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.lr = float(np.float32(new_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


# ----------------------------------------------------------------------------- helpers


def metric_walk(seed: int, steps: int = STEPS, rising: bool = False) -> np.ndarray:
    """A noisy improving metric on a 1/16 grid that stalls for stretches."""
    rng = np.random.default_rng(seed)
    level, out = 40.0, []
    for _ in range(steps):
        if rng.random() < 0.45:
            level = max(level - rng.integers(1, 12) / 16, 1.0)
        noise = rng.integers(0, 6) / 16 if rng.random() < 0.5 else 0.0
        out.append(level + noise)
    walk = np.asarray(out, np.float64)
    return 64.0 - walk if rising else walk


def run_multipliers(tx: optax.GradientTransformationExtraArgs, metrics: np.ndarray) -> np.ndarray:
    """The multiplier tx applies to each update when update k reports ``metrics[k]``."""

    @jax.jit
    def run(ms: jax.Array) -> jax.Array:
        def body(state: Any, m: jax.Array) -> tuple[Any, Any]:
            u, state = tx.update(jnp.ones(()), state, value=m)
            return state, u

        return jax.lax.scan(body, tx.init(jnp.zeros(())), ms)[1]

    return np.asarray(run(jnp.asarray(metrics, jnp.float32)), np.float64)


_STATIC = ("mode", "threshold_mode", "monitor")
_RUNNERS: dict[Any, Any] = {}


def compat_multipliers(
    fn: Any, peak: float, kwargs: dict[str, Any], metrics: np.ndarray
) -> np.ndarray:
    """``run_multipliers(fn(peak, **kwargs), metrics)`` with every numeric argument traced
    (defaults filled in), so one compilation serves all cases of a function and mode."""
    sig_fn = torch.ReduceLROnPlateau if fn is transformers.get_reduce_on_plateau_schedule else fn
    params = list(inspect.signature(sig_fn).parameters.values())[1:]
    static = {k: kwargs.get(k, p.default) for p in params if (k := p.name) in _STATIC}
    nums = {
        p.name: jnp.asarray(
            kwargs.get(p.name, p.default), jnp.int32 if isinstance(p.default, int) else jnp.float32
        )
        for p in params
        if p.name not in _STATIC
    }
    key = (fn, tuple(sorted(static.items())))
    if key not in _RUNNERS:

        def run(ms: jax.Array, peak: jax.Array, nums: dict[str, jax.Array]) -> jax.Array:
            tx = fn(peak, **static, **nums)

            def body(state: Any, m: jax.Array) -> tuple[Any, Any]:
                u, state = tx.update(jnp.ones(()), state, value=m)
                return state, u

            return jax.lax.scan(body, tx.init(jnp.zeros(())), ms)[1]

        _RUNNERS[key] = jax.jit(run)
    out = _RUNNERS[key](jnp.asarray(metrics, jnp.float32), jnp.float32(peak), nums)
    return np.asarray(out, np.float64)


def peer_lrs(peer: Any, metrics: np.ndarray, step: Callable[[Any, int, float], None]) -> np.ndarray:
    out = []
    for k, m in enumerate(metrics):
        out.append(peer.lr)
        step(peer, k, float(m))
    return np.asarray(out)


def torch_step(peer: Any, k: int, m: float) -> None:
    peer.step(m)


def timm_step(peer: Any, k: int, m: float) -> None:
    peer.step(k + 1, m)


def keras_step(peer: Any, k: int, m: float) -> None:
    peer.on_epoch_end(m)


def assert_same(ours: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(ours, want, rtol=2e-6, atol=1e-12)


# ----------------------------------------------------------------------------- peers

TORCH_CASES = [
    {},
    {"factor": 0.5, "patience": 2},
    {"factor": 0.5, "patience": 0, "cooldown": 2},
    {"factor": 0.3, "patience": 1, "threshold": 0.02},
    {"factor": 0.5, "patience": 1, "threshold": 0.25, "threshold_mode": "abs"},
    {"factor": 0.5, "patience": 1, "min_lr": 0.02, "cooldown": 1},
    {"factor": 0.5, "patience": 0, "eps": 0.01},
    {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 3},
    {"mode": "max", "factor": 0.7, "patience": 1, "threshold": 0.3, "threshold_mode": "abs"},
]


@pytest.mark.parametrize("kwargs", TORCH_CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_torch_reduce_lr_on_plateau_every_step(kwargs: dict[str, Any], seed: int) -> None:
    metrics = metric_walk(seed, rising=kwargs.get("mode") == "max")
    want = peer_lrs(TorchPlateau(0.1, **kwargs), metrics, torch_step)
    assert_same(compat_multipliers(torch.ReduceLROnPlateau, 0.1, kwargs, metrics), want)
    if kwargs.get("patience", 10) <= 2:
        assert want[-1] < 0.1  # the case does reduce


@pytest.mark.parametrize("kwargs", TORCH_CASES[:4])
def test_transformers_reduce_on_plateau_is_torch(kwargs: dict[str, Any]) -> None:
    metrics = metric_walk(3)
    want = peer_lrs(TorchPlateau(2e-5, **kwargs), metrics, torch_step)
    ours = compat_multipliers(transformers.get_reduce_on_plateau_schedule, 2e-5, kwargs, metrics)
    assert_same(ours, want)


TIMM_CASES = [
    {"mode": "min", "decay_rate": 0.5, "patience_t": 1},
    {"mode": "min", "decay_rate": 0.5, "patience_t": 1, "warmup_t": 5, "warmup_lr_init": 1e-4},
    {"mode": "min", "decay_rate": 0.2, "patience_t": 0, "warmup_t": 3, "cooldown_t": 2},
    {"mode": "min", "decay_rate": 0.5, "patience_t": 0, "warmup_t": 4, "lr_min": 0.01},
    {"decay_rate": 0.5, "patience_t": 2, "warmup_t": 6, "threshold": 0.01},  # timm's "max"
]


@pytest.mark.parametrize("kwargs", TIMM_CASES)
@pytest.mark.parametrize("seed", [0, 2])
def test_timm_plateau_with_warmup_every_step(kwargs: dict[str, Any], seed: int) -> None:
    metrics = metric_walk(seed, rising=kwargs.get("mode", "max") == "max")
    want = peer_lrs(TimmPlateau(0.1, **kwargs), metrics, timm_step)
    assert_same(compat_multipliers(timm.PlateauLRScheduler, 0.1, kwargs, metrics), want)
    assert want[-1] < 0.1


KERAS_CASES = [
    {},
    {"factor": 0.5, "patience": 2},
    {"factor": 0.5, "patience": 0},
    {"factor": 0.5, "patience": 1, "cooldown": 1},
    {"factor": 0.5, "patience": 2, "cooldown": 3, "min_delta": 0.3},
    {"factor": 0.2, "patience": 1, "min_lr": 0.003},
    {"monitor": "val_accuracy", "factor": 0.5, "patience": 2, "cooldown": 2},
    {"mode": "max", "factor": 0.5, "patience": 3},
]


@pytest.mark.parametrize("kwargs", KERAS_CASES)
@pytest.mark.parametrize("seed", [0, 4])
def test_keras_reduce_lr_on_plateau_every_step(kwargs: dict[str, Any], seed: int) -> None:
    rising = kwargs.get("mode") == "max" or "acc" in kwargs.get("monitor", "")
    metrics = metric_walk(seed, rising=rising)
    want = peer_lrs(KerasPlateau(0.1, **kwargs), metrics, keras_step)
    assert_same(compat_multipliers(keras.ReduceLROnPlateau, 0.1, kwargs, metrics), want)


def test_keras_and_torch_differ_by_one_in_patience_and_cooldown() -> None:
    metrics = metric_walk(5)
    k = peer_lrs(KerasPlateau(0.1, factor=0.5, patience=3, cooldown=2), metrics, keras_step)
    common = {"factor": 0.5, "threshold": 1e-4, "threshold_mode": "abs", "eps": 0.0}
    t = peer_lrs(TorchPlateau(0.1, patience=2, cooldown=1, **common), metrics, torch_step)
    t_same = peer_lrs(TorchPlateau(0.1, patience=3, cooldown=2, **common), metrics, torch_step)
    np.testing.assert_allclose(k, t, rtol=1e-6)
    assert not np.allclose(k, t_same)


# ----------------------------------------------------------------------------- the transform


def replay(
    metrics: np.ndarray,
    lr: Callable[[int], float],
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    rtol: float = 1e-4,
    atol: float = 0.0,
    cooldown: int = 0,
    min_scale: float = 0.0,
    window: int = 1,
    start_step: int = 0,
) -> np.ndarray:
    """The documented rule in float64, with the window and the start step."""
    peer = TorchPlateau(
        1.0, mode, factor, patience, 0.0, "rel", cooldown, min_lr=min_scale, eps=0.0
    )
    peer.is_better = (  # type: ignore[method-assign]
        (lambda a, b: a < b * (1 - rtol) - atol)
        if mode == "min"
        else (lambda a, b: a > b * (1 + rtol) + atol)
    )
    out, buf = [], []
    for k, m in enumerate(metrics):
        out.append(lr(k) * peer.lr)
        if k < start_step:
            continue
        buf.append(m)
        if len(buf) == window:
            peer.step(sum(buf) / window)
            buf = []
    return np.asarray(out)


def test_schedule_first_then_plateau_factor_with_window_and_start_step() -> None:
    metrics = metric_walk(6)
    sched = ow.warmup_cosine_decay_schedule(0.0, 1.0, 10, STEPS, end_value=0.1)
    lr = lambda k: float(sched(k))  # noqa: E731
    kw = {"factor": 0.5, "patience": 0, "window": 3, "start_step": 10, "min_scale": 0.1}
    kw |= {"rtol": 0.02}
    ours = run_multipliers(ow.reduce_on_plateau(sched, **kw), metrics)
    want = replay(metrics, lr, **kw)
    np.testing.assert_allclose(ours, want, rtol=2e-6, atol=1e-9)
    np.testing.assert_allclose(ours[:10], [lr(k) for k in range(10)], rtol=1e-6)
    assert want[-1] < lr(STEPS - 1) * 0.99  # the factor did act


def test_values_before_start_step_are_ignored() -> None:
    metrics = np.concatenate([np.full(5, 100.0), np.full(10, 1.0)])
    ours = run_multipliers(ow.reduce_on_plateau(factor=0.5, patience=0, start_step=5), metrics)
    # best starts from the first monitored value (1.0): one improvement, then a reduction per step
    np.testing.assert_allclose(ours[:7], [1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(ours[7:9], [0.5, 0.25])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=30, max_size=30),
    st.sampled_from(["min", "max"]),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from([0.0, 0.05]),
    st.integers(1, 3),
)
def test_property_matches_the_rule(
    ints: list[int], mode: str, patience: int, cooldown: int, rtol: float, window: int
) -> None:
    metrics = np.asarray(ints, np.float64) / 4 + 1.0
    kw = {"mode": mode, "factor": 0.5, "patience": patience, "cooldown": cooldown}
    kw |= {"rtol": rtol, "atol": 0.25 if rtol == 0 else 0.0, "window": window}
    ours = _run_traced(metrics, **kw)
    want = replay(metrics, lambda k: 1.0, **kw)
    np.testing.assert_allclose(ours, want, rtol=1e-6)


@jax.jit
def _traced_runner(
    metrics: jax.Array, params: dict[str, jax.Array], is_max: jax.Array
) -> jax.Array:
    def run(mode: str) -> jax.Array:
        tx = ow.reduce_on_plateau(mode=mode, **params)  # type: ignore[arg-type]

        def body(state: Any, m: jax.Array) -> tuple[Any, Any]:
            u, state = tx.update(jnp.ones(()), state, value=m)
            return state, u

        return jax.lax.scan(body, tx.init(jnp.zeros(())), metrics)[1]

    return jnp.where(is_max, run("max"), run("min"))


def _run_traced(metrics: np.ndarray, mode: str, **kw: Any) -> np.ndarray:
    """All hyperparameters traced: one compilation serves every example."""
    params = {k: jnp.asarray(x) for k, x in kw.items()}
    params = {
        k: (
            x.astype(jnp.int32)
            if k in ("patience", "cooldown", "window")
            else x.astype(jnp.float32)
        )
        for k, x in params.items()
    }
    out = _traced_runner(jnp.asarray(metrics, jnp.float32), params, jnp.asarray(mode == "max"))
    return np.asarray(out, np.float64)


def test_vmap_over_factor_and_patience() -> None:
    metrics = jnp.asarray(metric_walk(7), jnp.float32)

    def run(factor: jax.Array, patience: jax.Array) -> jax.Array:
        tx = ow.reduce_on_plateau(0.1, factor=factor, patience=patience)

        def body(state: Any, m: jax.Array) -> tuple[Any, Any]:
            u, state = tx.update(jnp.ones(()), state, value=m)
            return state, u

        return jax.lax.scan(body, tx.init(jnp.zeros(())), metrics)[1]

    factors = jnp.asarray([0.5, 0.2, 0.5])
    patiences = jnp.asarray([0, 1, 3])
    out = np.asarray(jax.jit(jax.vmap(run))(factors, patiences))
    for i in range(3):
        want = peer_lrs(
            TorchPlateau(0.1, factor=float(factors[i]), patience=int(patiences[i]), eps=0.0),
            np.asarray(metrics, np.float64),
            torch_step,
        )
        np.testing.assert_allclose(out[i], want, rtol=2e-6)


def test_checkpoint_round_trip_mid_patience_is_bit_identical() -> None:
    tx = optax.chain(
        optax.adam(1.0),
        ow.reduce_on_plateau(ow.warmup_schedule(1e-2, 4), factor=0.5, patience=3, cooldown=2),
    )
    params = jnp.linspace(-1.0, 1.0, 5)
    metrics = np.asarray([5.0, 4.0] + [3.0] * 38)
    step = jax.jit(lambda g, s, p, m: tx.update(g, s, p, value=m))

    def train(state: Any, p: Any, ms: np.ndarray) -> tuple[Any, Any]:
        for m in ms:
            u, state = step(jnp.sin(p) + m / 100, state, p, jnp.float32(m))
            p = optax.apply_updates(p, u)
        return state, p

    full_state, full_p = train(tx.init(params), params, metrics)
    half_state, half_p = train(tx.init(params), params, metrics[:11])
    plateau = half_state[1]
    # one reduction (at the 7th value), a 2-step cooldown, then 2 of 3 tolerated bad values
    assert (float(plateau.scale), int(plateau.num_bad)) == (0.5, 2)
    saved = jax.tree.map(np.asarray, half_state)  # what a checkpoint holds
    restored = jax.tree.unflatten(
        jax.tree.structure(tx.init(params)), [jnp.asarray(x) for x in jax.tree.leaves(saved)]
    )
    resumed_state, resumed_p = train(restored, jnp.asarray(np.asarray(half_p)), metrics[11:])
    assert np.array_equal(np.asarray(resumed_p), np.asarray(full_p))
    for a, b in zip(jax.tree.leaves(resumed_state), jax.tree.leaves(full_state), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert float(full_state[1].scale) < 1.0


def test_multisteps_reacts_once_per_optimizer_step() -> None:
    k = 3
    metrics = metric_walk(9, steps=60)
    inner = ow.reduce_on_plateau(factor=0.5, patience=1)
    tx = optax.MultiSteps(inner, every_k_schedule=k)
    state = tx.init(jnp.zeros(()))
    step = jax.jit(lambda s, m: tx.update(jnp.ones(()), s, value=m))
    emitted = []
    for m in metrics:
        u, state = step(state, jnp.float32(m))
        emitted.append(float(u))
    emitted = np.asarray(emitted)
    assert np.all(emitted.reshape(-1, k)[:, :-1] == 0)  # only every k-th mini-step emits
    inner_state = state.inner_opt_state
    assert int(inner_state.count) == len(metrics) // k
    # the plateau saw one value per optimizer step: the last mini-batch's
    want = replay(metrics[k - 1 :: k], lambda _: 1.0, factor=0.5, patience=1)
    np.testing.assert_allclose(emitted.reshape(-1, k)[:, -1], want, rtol=1e-6)
    assert want[-1] < 1.0


def test_current_values_reads_the_next_multiplier() -> None:
    sched = ow.warmup_schedule(0.1, 3)
    tx = optax.chain(optax.adam(1.0), ow.reduce_on_plateau(sched, factor=0.5, patience=0))
    state = tx.init(jnp.zeros(2))
    values = ow.current_values(state)
    assert sorted(values) == ["1/learning_rate", "1/plateau_scale"]
    assert float(values["1/learning_rate"]) == pytest.approx(0.1 / 3)
    step = jax.jit(lambda s, m: tx.update(jnp.ones(2), s, jnp.zeros(2), value=m))
    for m in [5.0, 5.0, 5.0, 5.0]:
        _, state = step(state, jnp.float32(m))
    values = ow.current_values(state)
    # after the 2nd, 3rd and 4th value the factor halves: 1/8; count 4 is past warmup
    assert float(values["1/plateau_scale"]) == 0.125
    assert float(values["1/learning_rate"]) == pytest.approx(0.1 * 0.125)


def test_nan_value_counts_as_no_improvement_and_never_poisons_the_update() -> None:
    metrics = np.asarray([1.0, np.nan, np.nan, 0.5])
    ours = run_multipliers(ow.reduce_on_plateau(factor=0.5, patience=1), metrics)
    np.testing.assert_allclose(ours, [1.0, 1.0, 1.0, 0.5])
    assert np.all(np.isfinite(ours))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"factor": 1.0}, "factor"),
        ({"factor": -0.1}, "factor"),
        ({"patience": -1}, "patience"),
        ({"rtol": 1.0}, "rtol"),
        ({"atol": -1.0}, "atol"),
        ({"cooldown": -2}, "cooldown"),
        ({"min_scale": 2.0}, "min_scale"),
        ({"window": 0}, "window"),
        ({"start_step": -1}, "start_step"),
        ({"mode": "up"}, "mode"),
    ],
)
def test_invalid_arguments_name_themselves(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        ow.reduce_on_plateau(**kwargs)


def test_compat_argument_errors() -> None:
    with pytest.raises(ValueError, match="threshold_mode"):
        torch.ReduceLROnPlateau(0.1, threshold_mode="relative")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        keras.ReduceLROnPlateau(0.1, mode="down")
    with pytest.raises(ValueError, match="monitor"):
        keras.ReduceLROnPlateau(0.1, monitor="val_f1")
    with pytest.raises(ValueError, match="warmup_t"):
        timm.PlateauLRScheduler(0.1, warmup_t=-1)


# ----------------------------------------------------------------------------- the real peers
# Run where the peers are installed (e.g. /work/venv-peers); skipped elsewhere.


def _torch_optimizer(lr: float) -> Any:
    torch_ = pytest.importorskip("torch")
    return torch_.optim.SGD([torch_.nn.Parameter(torch_.zeros(1))], lr=lr)


def _real_lrs(opt: Any, metrics: np.ndarray, step: Callable[[int, float], None]) -> np.ndarray:
    out = []
    for k, m in enumerate(metrics):
        out.append(float(opt.param_groups[0]["lr"]))
        step(k, float(m))
    return np.asarray(out)


@pytest.mark.parametrize("kwargs", TORCH_CASES)
def test_real_torch_and_transformers(kwargs: dict[str, Any]) -> None:
    opt = _torch_optimizer(0.1)
    real_torch = pytest.importorskip("torch")

    metrics = metric_walk(0, rising=kwargs.get("mode") == "max")
    sched = real_torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    want = _real_lrs(opt, metrics, lambda k, m: sched.step(m))
    assert_same(compat_multipliers(torch.ReduceLROnPlateau, 0.1, kwargs, metrics), want)
    hf = pytest.importorskip("transformers")
    opt = _torch_optimizer(0.1)
    sched = hf.get_reduce_on_plateau_schedule(opt, **kwargs)
    want = _real_lrs(opt, metrics, lambda k, m: sched.step(m))
    ours = compat_multipliers(transformers.get_reduce_on_plateau_schedule, 0.1, kwargs, metrics)
    assert_same(ours, want)


def _timm_plateau_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """timm's plateau_lr module, without running timm/__init__ (it needs torchvision)."""
    import importlib
    import importlib.util
    import sys
    import types

    try:
        return importlib.import_module("timm.scheduler.plateau_lr")
    except ImportError:
        spec = importlib.util.find_spec("timm")
        if spec is None or not spec.submodule_search_locations:
            pytest.skip("timm is not installed")
    root = next(iter(spec.submodule_search_locations))
    for name, path in (("timm", root), ("timm.scheduler", f"{root}/scheduler")):
        stub = types.ModuleType(name)
        stub.__path__ = [path]
        monkeypatch.setitem(sys.modules, name, stub)
    for name in ("timm.scheduler.scheduler", "timm.scheduler.plateau_lr"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = importlib.import_module("timm.scheduler.plateau_lr")
    monkeypatch.delitem(sys.modules, "timm.scheduler.plateau_lr")
    monkeypatch.delitem(sys.modules, "timm.scheduler.scheduler", raising=False)
    return module


@pytest.mark.parametrize("kwargs", TIMM_CASES)
def test_real_timm(kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    opt = _torch_optimizer(0.1)
    plateau_lr = _timm_plateau_module(monkeypatch)
    metrics = metric_walk(0, rising=kwargs.get("mode", "max") == "max")
    with pytest.warns(FutureWarning):  # timm 1.0.31 deprecates the scheduler
        sched = plateau_lr.PlateauLRScheduler(opt, **kwargs)
    want = _real_lrs(opt, metrics, lambda k, m: sched.step(k + 1, m))
    assert_same(compat_multipliers(timm.PlateauLRScheduler, 0.1, kwargs, metrics), want)


@pytest.mark.parametrize("kwargs", KERAS_CASES)
def test_real_keras(kwargs: dict[str, Any]) -> None:
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    real_keras = pytest.importorskip("keras")

    class Model:  # what the callback reads: model.optimizer.learning_rate
        optimizer = real_keras.optimizers.SGD(learning_rate=0.1)

    real_kwargs = dict(kwargs)
    if "acc" in kwargs.get("monitor", "") and "mode" not in kwargs:
        real_kwargs["mode"] = "max"  # what Keras 3.15 reads from a compiled accuracy metric
    callback = real_keras.callbacks.ReduceLROnPlateau(**real_kwargs)
    callback.set_model(Model())
    callback.on_train_begin()
    monitor = kwargs.get("monitor", "val_loss")
    rising = kwargs.get("mode") == "max" or "acc" in monitor
    metrics = metric_walk(0, rising=rising)
    want = []
    for k, m in enumerate(metrics):
        want.append(float(np.asarray(Model.optimizer.learning_rate)))
        callback.on_epoch_end(k, {monitor: float(m)})
    assert_same(compat_multipliers(keras.ReduceLROnPlateau, 0.1, kwargs, metrics), np.asarray(want))
