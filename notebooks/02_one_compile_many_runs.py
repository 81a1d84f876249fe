# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
# The size switch (OPTAX_WARMUP_SCALE=ci|full), where the figure goes, and what JAX runs on.
from _common import setup

SCALE, FIGURES = setup()

# %% [markdown]
# # 02 · One compile, many runs
#
# A learning-rate sweep is usually a loop over configurations, each with its
# own optimizer, its own `jax.jit` and its own compile. `optax_warmup`
# schedules accept traced hyperparameters, so the whole grid of
# (peak learning rate x warmup length) can be one function of two arrays:
# `jax.vmap` it, `jax.jit` it, compile once.
#
# The model is a small Flax NNX MLP (two tanh layers) trained by full-batch
# gradient descent on a synthetic teacher-student regression task. Its last
# layer is initialised large, so the loss surface starts sharp and flattens as
# training proceeds: the regime where warmup lets a network train at learning
# rates that would otherwise diverge (Kalra & Barkeshli 2024). The schedule is
# a linear warmup from 0 and a cosine decay to 0, the same curve as
# `optax.warmup_cosine_decay_schedule(0, peak, W, T)`, so the two loops below
# can be compared number for number.

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _common import teacher_student
from flax import nnx

import optax_warmup as ow

if SCALE == "ci":
    N, D, H, STEPS = 256, 16, 64, 200
    PEAKS = 0.02 * 2.0 ** np.arange(6)  # 0.02 ... 0.64
    WARMUPS = np.array([0, 25, 50, 100])
else:
    N, D, H, STEPS = 2048, 16, 256, 2000
    PEAKS = 0.0025 * 2.0 ** (np.arange(17) / 2)  # 0.0025 ... 0.64
    WARMUPS = np.array([0, 25, 50, 100, 200, 300, 500, 750, 1000, 1500])
# A Flax NNX MLP whose last layer starts large, and its teacher's data (notebooks/_common.py).
graphdef, params0, (X, Y) = teacher_student(N, D, H)


def loss_fn(params, x, y):
    return 0.5 * jnp.mean((nnx.merge(graphdef, params)(x) - y) ** 2)


init_loss = float(loss_fn(params0, X, Y))
n_params = sum(p.size for p in jax.tree.leaves(params0))
print(f"{n_params} parameters, {N} examples, {STEPS} steps, initial loss {init_loss:.3f}")
print(f"grid: {len(PEAKS)} peak lrs x {len(WARMUPS)} warmup lengths = {PEAKS.size * WARMUPS.size}")

# %% [markdown]
# ## What optax does with a traced warmup length
# optax's schedules branch in Python on their hyperparameters, so a sweep over
# `warmup_steps` cannot be vmapped:

# %%
try:
    jax.vmap(lambda w: optax.warmup_cosine_decay_schedule(0.0, 1.0, w, 100)(10))(jnp.array([5, 10]))
    optax_vmaps = True
except Exception as e:  # the error class is the point here
    optax_vmaps = False
    print(f"optax: {type(e).__name__}")

swept = jax.vmap(lambda w: ow.warmup_decay_schedule(1.0, w, 100, init_value=0.0)(10))(
    jnp.array([5, 10])
)
print("optax_warmup:", np.asarray(swept))

# %% [markdown]
# ## Like with like: the same training loop, compiled once or once per configuration
# `train(peak, warmup)` builds its schedule and optimizer and runs all `STEPS`
# updates in one `lax.scan`. Three ways to run the grid, with the same
# per-step computation:
#
# 1. **ours, vmapped**: `jax.jit(jax.vmap(jax.vmap(train)))`, one compile for
#    all `N` configurations, one call;
# 2. **ours, looped**: `jax.jit(train)` compiled once (the hyperparameters are
#    traced arguments) and called `N` times;
# 3. **optax, looped**: the same scan with `optax.warmup_cosine_decay_schedule`
#    whose hyperparameters are Python numbers, as optax requires, so each
#    configuration is its own `jax.jit` and its own compile, then one call.
#
# 2 against 3 isolates the cost of compiling per configuration (same calls,
# same dispatch); 1 against 2 is what batching the runs adds. Compile and run
# are timed separately (`.lower().compile()`, then the call).


# %%
def make_train(schedule_fn):
    def train(peak, warmup):
        opt = optax.sgd(schedule_fn(peak, warmup))

        def step(carry, _):
            params, state = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, X, Y)
            updates, state = opt.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), loss

        (params, _), losses = jax.lax.scan(step, (params0, opt.init(params0)), length=STEPS)
        return loss_fn(params, X, Y), losses

    return train


train = make_train(lambda p, w: ow.warmup_decay_schedule(p, w, STEPS, init_value=0.0))
peaks = jnp.asarray(PEAKS, jnp.float32)
warmups = jnp.asarray(WARMUPS, jnp.int32)
timing = {}


def timed(name, jitted_calls):
    """Trace, lower and compile each jitted function of [(function, arguments), ...] (summed as
    the compile time), then call it (summed as the run time)."""
    t_compile = t_run = 0.0
    outs = []
    for fn, fargs in jitted_calls:
        start = time.perf_counter()
        compiled = fn.lower(*fargs).compile()
        t_compile += time.perf_counter() - start
        start = time.perf_counter()
        outs.append(jax.block_until_ready(compiled(*fargs)))
        t_run += time.perf_counter() - start
    timing[name] = dict(compile=t_compile, run=t_run, compiles=len(jitted_calls))
    return outs


grid_fn = jax.jit(jax.vmap(jax.vmap(train, in_axes=(None, 0)), in_axes=(0, None)))
((final, curves),) = timed("ours, vmapped", [(grid_fn, (peaks, warmups))])
final, curves = np.asarray(final), np.asarray(curves)

# Ours, looped: one compile (traced hyperparameters), then N calls.
start = time.perf_counter()
one_compiled = jax.jit(train).lower(peaks[0], warmups[0]).compile()
t_one_compile = time.perf_counter() - start
start = time.perf_counter()
looped = np.array(
    [[float(one_compiled(p, w)[0]) for w in warmups] for p in peaks], dtype=np.float32
)
timing["ours, looped"] = dict(compile=t_one_compile, run=time.perf_counter() - start, compiles=1)


# optax, looped: every configuration its own jitted function (Python-number hyperparameters).
def optax_config(peak, warmup):
    fn = make_train(lambda p, w: optax.warmup_cosine_decay_schedule(0.0, peak, warmup, STEPS))
    return jax.jit(lambda: fn(None, None))


calls = []
for peak in PEAKS.tolist():
    for warmup in WARMUPS.tolist():
        calls.append((optax_config(peak, warmup), ()))
baseline = np.array([float(o[0]) for o in timed("optax, looped", calls)], np.float32)
baseline = baseline.reshape(final.shape)
for name, t in timing.items():
    print(
        f"{name:>14}: {t['compiles']:>3} compile(s) {t['compile']:6.2f} s, "
        f"run {t['run']:6.2f} s, total {t['compile'] + t['run']:6.2f} s"
    )

# %% [markdown]
# ## Same numbers?
# All three run the same schedule on the same data from the same
# initialisation. Runs far from the stability edge agree to float32 rounding;
# runs at the edge of stability are chaotic, so the different order of
# floating-point operations in the batched computation can change their
# trajectory.

# %%
trained = np.isfinite(final) & (final < 0.1 * init_loss)
trained_loop = np.isfinite(baseline) & (baseline < 0.1 * init_loss)
both = trained & trained_loop
with np.errstate(invalid="ignore", over="ignore"):
    rel = np.abs(final - baseline) / np.abs(baseline)
close = both & (rel < 1e-4)
print("runs that trained (final loss < 10% of initial):", trained.sum(), "vmapped,", end=" ")
print(trained_loop.sum(), "in the loop")
print(f"same verdict (trained or not) in {np.sum(trained == trained_loop)} of {final.size} runs")
print(f"final losses within 1e-4 relative in {close.sum()} of {both.sum()} runs that both trained")
print(f"largest relative difference among those: {np.max(rel[both]):.2e}")
with np.errstate(invalid="ignore", over="ignore"):
    rel_loop = np.abs(looped - baseline) / np.abs(baseline)
close_loop = both & (rel_loop < 1e-4)
print(f"ours looped vs optax looped: within 1e-4 relative in {close_loop.sum()} of {both.sum()}")

# %% [markdown]
# ## Final loss over the grid, with the divergence boundary

# %%
max_lr = np.array(
    [PEAKS[trained[:, j]].max() if trained[:, j].any() else np.nan for j in range(len(WARMUPS))]
)
best = np.unravel_index(np.nanargmin(np.where(trained, final, np.nan)), final.shape)

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5))
shown = np.where(np.isfinite(final), np.log10(np.minimum(final, init_loss)), np.nan)
cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
im = ax.imshow(shown, origin="lower", aspect="auto", cmap=cmap)
ax.set_xticks(range(len(WARMUPS)), [str(w) for w in WARMUPS])
ax.set_yticks(range(len(PEAKS)), [f"{p:.3g}" for p in PEAKS])
for i, j in zip(*np.nonzero(~trained), strict=True):
    ax.text(j, i, "x", ha="center", va="center", color="red", fontsize=12)
rows = np.array([np.flatnonzero(m == PEAKS)[0] if np.isfinite(m) else -1 for m in max_lr])
edges = np.arange(len(WARMUPS) + 1) - 0.5
ax.stairs(rows + 0.5, edges, baseline=None, color="black", lw=2.5, label="largest lr that trained")
ax.set_xlabel("warmup steps")
ax.set_ylabel("peak learning rate")
ax.set_title("log10 final loss (x: diverged or > 10% of initial)")
ax.legend(loc="lower right", fontsize=8)
fig.colorbar(im, ax=ax, label="log10 final loss")

hot = min(rows[0] + 1, len(PEAKS) - 1)  # the lowest lr at which W=0 failed
for j, w in enumerate(WARMUPS):
    ax2.semilogy(np.where(np.isfinite(curves[hot, j]), curves[hot, j], np.nan), label=f"W={w}")
ax2.set_ylim(top=10 * init_loss)
ax2.set_xlabel("step")
ax2.set_ylabel("training loss")
ax2.set_title(f"loss curves at peak lr {PEAKS[hot]:.3g}")
ax2.legend(fontsize=8)
tv, to = timing["ours, vmapped"], timing["optax, looped"]
fig.suptitle(
    f"{final.size} runs (one seed): ours vmapped {tv['compile']:.1f} s compile + {tv['run']:.1f} s "
    f"run vs optax {to['compiles']} compiles {to['compile']:.1f} s + {to['run']:.1f} s run "
    f"({SCALE} scale, {jax.default_backend()})"
)
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "02_one_compile_many_runs.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
print("What we saw:")
for name, t in timing.items():
    print(
        f"- {name}: {t['compiles']} compile(s) in {t['compile']:.2f} s, {final.size} runs of "
        f"{STEPS} steps in {t['run']:.2f} s."
    )
tl = timing["ours, looped"]
print(
    f"- Same calls, same per-step work: compiling per configuration cost the optax loop "
    f"{to['compile']:.2f} s against {tl['compile']:.2f} s for ours "
    f"({to['compile'] / tl['compile']:.1f}x); "
    f"their run times were {to['run']:.2f} s and {tl['run']:.2f} s. Batching the runs with vmap "
    f"took the run from {tl['run']:.2f} s to {tv['run']:.2f} s on {jax.default_backend()}."
)
print(
    f"- optax's warmup_cosine_decay_schedule {'can' if optax_vmaps else 'cannot'} be vmapped "
    "over warmup_steps."
)
print(
    "- Largest peak lr that trained, by warmup length: "
    + ", ".join(f"W={w}: {m:.3g}" for w, m in zip(WARMUPS, max_lr, strict=True))
    + "."
)
gain = np.nanmax(max_lr) / max_lr[0]
print(
    f"- One seed, a factor-2 grid: the largest trainable peak lr was {max_lr[0]:.3g} without "
    f"warmup and {np.nanmax(max_lr):.3g} at best with one ({gain:.0f}x; notebook 03 measures "
    "this over seeds with a finer grid)."
)
best_w0 = np.nanmin(np.where(trained[:, 0], final[:, 0], np.nan))
print(
    f"- Lowest final loss {final[best]:.4g} at peak lr {PEAKS[best[0]]:.3g} with "
    f"W={WARMUPS[best[1]]}; the best run without warmup reached {best_w0:.4g}."
)
print(
    f"- Ours vmapped and optax looped agree on which runs trained in "
    f"{np.sum(trained == trained_loop)} of {final.size} runs and on the final loss (1e-4 "
    f"relative) in {close.sum()} of {both.sum()} runs that both trained; ours looped and optax "
    f"looped in {close_loop.sum()} of {both.sum()}."
)
