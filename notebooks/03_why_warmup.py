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
# # 03 · Why warmup works
#
# After Kalra & Barkeshli, "Why Warmup the Learning Rate? Underlying Mechanisms
# and Improvements" (NeurIPS 2024). Gradient descent is stable while the
# learning rate stays below `2 / sharpness`, the sharpness being the top
# eigenvalue of the loss Hessian. When a network starts sharp, warmup keeps
# the learning rate under that limit while training moves to flatter regions:
# the sharpness falls to follow `2 / lr` as the learning rate rises, and the
# network ends up training at rates that would have made it blow up at step 0.
#
# We track the sharpness with `ow.estimate_sharpness` (power iteration on
# Hessian-vector products) while training a Flax NNX MLP by full-batch
# gradient descent on a synthetic teacher-student regression. Its last layer
# is initialised large, so it starts sharp (the paper's sharpness-reduction
# regime). Three experiments:
#
# 1. the sharpness during training, with and without warmup;
# 2. the largest trainable learning rate as a function of the warmup length;
# 3. warmup started at the critical rate `2 / sharpness`
#    (`ow.suggest_warmup_init`) instead of at 0.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _common import teacher_student
from flax import nnx

import optax_warmup as ow

if SCALE == "ci":
    N, D, H, STEPS, EVERY = 256, 16, 64, 200, 10
    PEAK_MULTIPLES = 2.0 ** (np.arange(15) / 2)  # 1 ... 128 times 2 / sharpness
    WARMUPS = np.array([0, 5, 10, 20, 40, 80, 120, 160])
    POWER_ITERATIONS = 20
else:
    N, D, H, STEPS, EVERY = 2048, 16, 256, 2000, 20
    PEAK_MULTIPLES = 2.0 ** (np.arange(29) / 4)
    WARMUPS = np.array([0, 10, 25, 50, 100, 200, 400, 800, 1200, 1600])
    POWER_ITERATIONS = 30
TRACKED_MULTIPLE, TRACKED_WARMUP = 16.0, STEPS // 2

# A Flax NNX MLP whose last layer starts large, and its teacher's data (notebooks/_common.py).
graphdef, params0, DATA = teacher_student(N, D, H)


def loss_fn(params, batch):
    x, y = batch
    return 0.5 * jnp.mean((nnx.merge(graphdef, params)(x) - y) ** 2)


init_loss = float(loss_fn(params0, DATA))
sharpness0 = float(ow.estimate_sharpness(loss_fn, params0, DATA, num_iterations=50))
eta_c = float(ow.suggest_warmup_init(sharpness0))  # 2 / sharpness
print(f"initial loss {init_loss:.3f}, initial sharpness {sharpness0:.2f}")
print(f"critical learning rate 2 / sharpness = {eta_c:.5f}")

# %% [markdown]
# ## 1. Sharpness during training
# Four runs, the sharpness measured every few steps inside the jitted loop:
# a small constant rate (half the critical one); a constant rate 16 times the
# critical one, no warmup; the same peak reached by a linear warmup from 0 over
# half the run; and the same warmup started at the critical rate.


# %%
def sgd_run(schedule, track=False):
    """Full-batch gradient descent; with ``track`` the sharpness every EVERY steps."""
    opt = optax.sgd(schedule)

    def step(carry, _):
        params, state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, DATA)
        updates, state = opt.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), loss

    carry = (params0, opt.init(params0))
    if not track:
        (params, _), losses = jax.lax.scan(step, carry, length=STEPS)
        return loss_fn(params, DATA), losses

    def chunk(carry, _):
        sharp = ow.estimate_sharpness(loss_fn, carry[0], DATA, num_iterations=POWER_ITERATIONS)
        carry, losses = jax.lax.scan(step, carry, length=EVERY)
        return carry, (sharp, losses)

    _, (sharp, losses) = jax.lax.scan(chunk, carry, length=STEPS // EVERY)
    return sharp, losses.reshape(-1)


peak = TRACKED_MULTIPLE * eta_c
tracked_schedules = {
    f"constant {0.5:g} x 2/sharpness": ow.constant_schedule(0.5 * eta_c),
    f"constant {TRACKED_MULTIPLE:g} x, no warmup": ow.constant_schedule(peak),
    f"warmup 0 -> {TRACKED_MULTIPLE:g} x over {TRACKED_WARMUP}": ow.warmup_schedule(
        peak, TRACKED_WARMUP, init_value=0.0
    ),
    f"warmup 2/sharpness -> {TRACKED_MULTIPLE:g} x": ow.warmup_schedule(
        peak, TRACKED_WARMUP, init_value=eta_c
    ),
}
tracked = jax.jit(lambda: [sgd_run(s, track=True) for s in tracked_schedules.values()])()
tracked = {
    name: (np.asarray(sharp), np.asarray(losses))
    for name, (sharp, losses) in zip(tracked_schedules, tracked, strict=True)
}
steps_tracked = np.arange(0, STEPS, EVERY)
for name, (sharp, losses) in tracked.items():
    ratios = np.round(sharp[[0, 1, 5, -1]] / sharpness0, 3).tolist()
    print(f"{name:>34}: sharpness / initial at steps {steps_tracked[[0, 1, 5, -1]].tolist()}:")
    print(f"{'':>36}{ratios}, max loss {np.nanmax(losses):.3g}, final loss {losses[-1]:.3g}")

# %% [markdown]
# ## 2. Largest trainable learning rate vs warmup length
# A grid of peak rates (multiples of the critical rate) by warmup lengths,
# each a linear warmup then a constant rate, trained in one vmapped, jitted
# call; and the same grid with the warmup started at the critical rate. A run
# "trained" when its final loss is finite and below 10% of the initial loss.

# %%
peaks = jnp.asarray(PEAK_MULTIPLES * eta_c, jnp.float32)
warmups = jnp.asarray(WARMUPS, jnp.int32)


def grid_run(peak, warmup, init):
    return sgd_run(ow.warmup_schedule(peak, warmup, init_value=init))


grid = jax.jit(jax.vmap(jax.vmap(grid_run, (None, 0, None)), (0, None, None)))
final0, curves0 = (np.asarray(a) for a in grid(peaks, warmups, 0.0))
final_c, curves_c = (np.asarray(a) for a in grid(peaks, warmups, eta_c))


def max_trainable(final):
    ok = np.isfinite(final) & (final < 0.1 * init_loss)
    return np.array(
        [PEAK_MULTIPLES[ok[:, j]].max() if ok[:, j].any() else np.nan for j in range(len(WARMUPS))]
    )


max0, max_c = max_trainable(final0), max_trainable(final_c)
for w, a, b in zip(WARMUPS, max0, max_c, strict=True):
    print(f"W={w:>4}: largest trainable peak, x 2/sharpness: {a:6.3g} from 0, {b:6.3g} from 2/sh.")

# %% [markdown]
# ## 3. Starting the warmup at 2 / sharpness
# The rates between 0 and the critical rate are stable from the first step, so
# a warmup that starts there wastes steps. For every (peak, warmup) cell we
# count the steps until the loss first falls below a target, for the warmup
# from 0 and from `suggest_warmup_init(sharpness)`.

# %%
TARGETS = (1e-2 * init_loss, 1e-3 * init_loss)


def steps_to(curves, target):
    hit = curves < target
    return np.where(hit.any(-1), hit.argmax(-1), -1)


reach = {}
for target in TARGETS:
    r0, rc = steps_to(curves0, target), steps_to(curves_c, target)
    both = (r0 >= 0) & (rc >= 0)
    reach[target] = dict(
        from0=r0,
        from_c=rc,
        both=int(both.sum()),
        sooner=int(np.sum(rc[both] < r0[both])),
        later=int(np.sum(rc[both] > r0[both])),
        fastest0=int(r0[r0 >= 0].min()) if (r0 >= 0).any() else -1,
        fastest_c=int(rc[rc >= 0].min()) if (rc >= 0).any() else -1,
        median_gain=float(np.median(r0[both] - rc[both])) if both.any() else float("nan"),
    )
    d = reach[target]
    print(
        f"target loss {target:.4g}: reached in {int((r0 >= 0).sum())} cells from 0 and "
        f"{int((rc >= 0).sum())} from 2/sharpness; where both did ({d['both']}), 2/sharpness "
        f"was sooner in {d['sooner']}, later in {d['later']}, median gain "
        f"{d['median_gain']:.1f} steps; fastest {d['fastest0']} vs {d['fastest_c']} steps"
    )

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
ax = axes[0]
for (name, (sharp, _)), color in zip(tracked.items(), ["C2", "C3", "C0", "C1"], strict=True):
    ax.semilogy(
        steps_tracked,
        np.where(sharp > 0, sharp / sharpness0, np.nan),
        "o-",
        ms=3,
        color=color,
        label=name,
    )
ramp = np.asarray(tracked_schedules[list(tracked_schedules)[2]](jnp.arange(STEPS)))
with np.errstate(divide="ignore"):
    ax.semilogy(
        np.arange(STEPS), (2 / ramp) / sharpness0, "C0--", lw=1, label="2 / lr of the warmup from 0"
    )
ax.set_ylim(1e-2, 2)
ax.set_xlabel("step")
ax.set_ylabel("sharpness / initial sharpness")
ax.set_title("sharpness falls to follow 2 / lr")
ax.legend(fontsize=7)

ax = axes[1]
ax.semilogy(WARMUPS, max0, "o-", label="warmup from 0")
ax.semilogy(WARMUPS, max_c, "s--", label="warmup from 2/sharpness")
ax.set_xlabel("warmup steps")
ax.set_ylabel("largest trainable peak / (2 / sharpness)")
ax.set_title("max trainable learning rate vs warmup length")
ax.legend(fontsize=8)

ax = axes[2]
shown = reach[TARGETS[-1]]
fast = np.where(shown["from_c"] >= 0, shown["from_c"], 10**9)
i_best, j_best = np.unravel_index(np.argmin(fast), fast.shape)  # fastest from 2/sharpness
for curves, key, label, color in [
    (curves0, "from0", "from 0", "C0"),
    (curves_c, "from_c", "from 2/sharpness", "C1"),
]:
    at = shown[key][i_best, j_best]
    ax.semilogy(curves[i_best, j_best], color=color, label=f"{label}: target at step {at}")
ax.axhline(TARGETS[-1], color="grey", ls=":", lw=1)
ax.set_xlabel("step")
ax.set_ylabel("training loss")
ax.set_title(f"peak {PEAK_MULTIPLES[i_best]:.3g} x 2/sharpness, W={WARMUPS[j_best]}")
ax.legend(fontsize=8)
fig.suptitle(f"Why warmup works ({SCALE} scale, {STEPS} steps of full-batch GD)")
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "03_why_warmup.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
names = list(tracked)
print("What we saw:")
print(f"- Initial sharpness {sharpness0:.2f}: critical learning rate 2/sharpness = {eta_c:.5f}.")
s_hi, l_hi = tracked[names[1]]
s_w, l_w = tracked[names[2]]
s_lo, l_lo = tracked[names[0]]
end_warm = TRACKED_WARMUP // EVERY
edge = 1 / TRACKED_MULTIPLE  # 2 / lr at the peak, in units of the initial sharpness
print(
    f"- At {TRACKED_MULTIPLE:g}x the critical rate with no warmup the loss rose from "
    f"{init_loss:.3g} to {np.nanmax(l_hi):.3g} before coming down (final {l_hi[-1]:.3g}). "
    f"The largest-magnitude Hessian eigenvalue after {EVERY} steps was "
    f"{s_hi[1] / sharpness0:.3g} x the initial sharpness"
    + (" (negative curvature dominated)" if s_hi[1] < 0 else "")
    + f"; after {5 * EVERY} steps the sharpness was {s_hi[5] / sharpness0:.3g} x initial "
    f"(2/lr = {edge:.3g} x)."
)
print(
    f"- With a {TRACKED_WARMUP}-step warmup to the same rate the largest loss was "
    f"{np.nanmax(l_w):.3g} (initial {init_loss:.3g}); at the end of the warmup the sharpness was "
    f"{s_w[end_warm] / sharpness0:.3g} x initial, against 2/lr = {edge:.3g} x "
    f"(sharpness x lr / 2 = {s_w[end_warm] * peak / 2:.2f}); final loss {l_w[-1]:.3g}."
)
print(
    f"- At half the critical rate the sharpness ended at {s_lo[-1] / sharpness0:.3g} x initial "
    f"and the final loss was {l_lo[-1]:.3g}."
)
print(
    "- Largest trainable peak (x 2/sharpness) by warmup length, from 0: "
    + ", ".join(f"W={w}: {m:.3g}" for w, m in zip(WARMUPS, max0, strict=True))
    + f"; the best warmup allowed {np.nanmax(max0) / max0[0]:.1f}x the rate of no warmup."
)
for target, d in reach.items():
    print(
        f"- Warmup from 2/sharpness vs from 0, steps to loss {target:.3g}: sooner in "
        f"{d['sooner']}, later in {d['later']} of {d['both']} cells (median gain "
        f"{d['median_gain']:.1f} steps); "
        f"fastest run {d['fastest_c']} vs {d['fastest0']} steps."
    )
print(
    "- Largest trainable peaks with the warmup from 2/sharpness: "
    + ", ".join(f"W={w}: {m:.3g}" for w, m in zip(WARMUPS, max_c, strict=True))
    + "."
)
