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
# # 01 · A gallery of warmup schedules
#
# Every schedule family of `optax_warmup`, evaluated and plotted: warmup shapes,
# the three ways to put a warmup in front of a main schedule, warmup-decay and
# warmup-stable-decay (WSD) cooldowns, cycles, restarts and rewarmup, and the
# warmup factors tied to Adam's `b2`. Nothing here trains; the schedules are
# evaluated over a whole run at once with `schedule(jnp.arange(T))`. The scale
# switch only changes the run length of the plotted curves.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import optax_warmup as ow

T = 1000 if SCALE == "ci" else 10_000  # plotted run length
W = T // 10  # warmup length
steps = jnp.arange(T)


@jax.jit
def evaluate(schedule, counts):
    """Library schedules are pytrees: one compiled evaluation serves every schedule of a kind."""
    return schedule(counts)


def curve(schedule, n=T):
    """A schedule's values over counts 0..n-1, as a NumPy array."""
    return np.asarray(evaluate(schedule, jnp.arange(n)))


fig, axes = plt.subplots(3, 3, figsize=(15, 11))
axes = axes.ravel()
facts = {}  # numbers the closing cell reports

# %% [markdown]
# ## Warmup shapes
# `warmup_schedule(peak, W, shape=...)`. By default the warmup wastes no
# update: count `c` gets `peak * f((c + 1) / W)`, so the first update already
# moves. With `init_value=x` it is the optax / Hugging Face convention, `x` at
# count 0. A constant warmup holds a low value, then jumps (Goyal et al. 2017).

# %%
ax = axes[0]
for shape in ["linear", "cosine", "exponential", ow.shapes.polynomial(2.0), "1-sqrt"]:
    name = shape if isinstance(shape, str) else "polynomial(2)"
    ax.plot(curve(ow.warmup_schedule(1.0, W, shape=shape), 2 * W), label=name)
ax.plot(
    curve(ow.warmup_schedule(1.0, W, shape="constant", init_value=0.1), 2 * W),
    "k:",
    label="constant (init 0.1)",
)
ax.set_title(f"warmup shapes, W={W}")
ax.legend(fontsize=8)

ours = curve(ow.warmup_schedule(1.0, W), 3)
theirs = np.asarray(optax.warmup_constant_schedule(0.0, 1.0, W)(jnp.arange(3)))
facts["first_update"] = (ours[0], theirs[0])
print("first three values, optax_warmup default:", ours)
print("first three values, optax.warmup_constant_schedule(0, 1, W):", theirs)

# %% [markdown]
# ## The first steps: which update is wasted?
# Zoom on the first 10 counts of a 5-step warmup in both conventions.

# %%
ax = axes[1]
k = np.arange(10)
ax.step(k, curve(ow.warmup_schedule(1.0, 5), 10), where="post", label="ow default: peak*(c+1)/W")
ax.step(
    k,
    curve(ow.warmup_schedule(1.0, 5, init_value=0.0), 10),
    where="post",
    label="ow init_value=0 (optax/HF)",
    linestyle="--",
)
ax.step(
    k,
    np.asarray(optax.linear_schedule(0.0, 1.0, 5)(jnp.arange(10))),
    where="post",
    label="optax.linear_schedule",
    linestyle=":",
)
ax.set_title("first updates of a 5-step warmup")
ax.set_xlabel("count (updates already applied)")
ax.legend(fontsize=8)

# %% [markdown]
# ## Three conventions for `add_warmup`
# - `prefix`: warm up to `main(0)`, then run the main schedule from its start
#   (the run gets `W` steps longer);
# - `continuous`: warmup replaces the first `W` steps and aims at `main(W)`
#   (TF Model Garden);
# - `multiply`: a warmup factor times the main schedule (pytorch_warmup).

# %%
ax = axes[2]
main = ow.cosine_decay(1.0, T)
ax.plot(curve(main, T + W), "k--", lw=1, label="main: cosine_decay")
jumps = {}
for mode in ["prefix", "continuous", "multiply"]:
    y = curve(ow.add_warmup(main, W, mode=mode), T + W)
    ax.plot(y, label=mode)
    jumps[mode] = (float(np.max(np.abs(np.diff(y)))), int(np.argmax(y)), float(y.max()))
ax.set_title(f"add_warmup(cosine_decay, W={W}, mode=...)")
ax.legend(fontsize=8)
facts["modes"] = jumps
for mode, (jump, at, peak) in jumps.items():
    print(f"{mode:>10}: peak {peak:.4f} at count {at}, largest step-to-step change {jump:.4f}")

# %% [markdown]
# ## Warmup then decay
# `warmup_decay_schedule(peak, W, T, decay_shape=...)`, with the final value
# as a ratio of the peak.

# %%
ax = axes[3]
for shape in ["cosine", "linear", ow.shapes.polynomial(2.0), "exponential", "1-sqrt"]:
    name = shape if isinstance(shape, str) else "polynomial(2)"
    s = ow.warmup_decay_schedule(1.0, W, T, decay_shape=shape, end_ratio=0.05)
    ax.plot(curve(s), label=name)
ax.set_title("warmup_decay_schedule, end_ratio=0.05")
ax.legend(fontsize=8)

# %% [markdown]
# ## Warmup-stable-decay (WSD) cooldowns
# Warm up, hold the peak, then cool down over the last 20% of the run.
# Haegele et al. (2024) found the `1-sqrt` cooldown better than linear.

# %%
ax = axes[4]
cooldown_mean = {}
D = T // 5
for shape in ["linear", "cosine", "1-sqrt"]:
    y = curve(ow.warmup_stable_decay(1.0, T, W, decay_fraction=0.2, decay_shape=shape))
    ax.plot(y, label=shape)
    cooldown_mean[shape] = float(y[T - D : T].mean())
ax.set_title("warmup_stable_decay, cooldown = last 20%")
ax.legend(fontsize=8)
facts["cooldown_mean"] = cooldown_mean
print("mean lr during the cooldown, as a fraction of the peak:", cooldown_mean)

# %% [markdown]
# ## Transformer-era schedules
# Noam (`d**-0.5 * min(t**-0.5, t * W**-1.5)`) and a linear warmup followed by
# Hugging Face's inverse square root, normalised to the same peak.

# %%
ax = axes[5]
noam = curve(ow.noam_schedule(512, W))
ax.plot(noam / noam.max(), label="noam_schedule(512, W) / peak")
ax.plot(curve(ow.add_warmup(ow.inverse_sqrt_decay(1.0, W), W)), "--", label="warmup + inverse_sqrt")
ax.plot(
    curve(ow.add_warmup(ow.one_minus_sqrt_decay(1.0, T - W), W)), ":", label="warmup + 1-sqrt decay"
)
ax.set_title("noam, inverse sqrt, 1-sqrt")
ax.legend(fontsize=8)

# %% [markdown]
# ## Cycles and restarts
# SGDR-style restarts with a warmup in every cycle, each cycle twice as long
# and its peak 0.7 times the last (`cosine_restarts`), and the one-cycle
# policy with PyTorch's conventions (two and three phases).

# %%
ax = axes[6]
restarts = ow.cosine_restarts(1.0, T // 7, warmup_steps=T // 70, cycle_mul=2.0, cycle_decay=0.7)
y = curve(restarts)
ax.plot(y, label="cosine_restarts(mul=2, decay=0.7)")
ax.plot(curve(ow.one_cycle(0.8, T)), "--", label="one_cycle")
ax.plot(curve(ow.one_cycle(0.8, T, three_phase=True)), ":", label="one_cycle, three_phase")
ax.set_title("cycles")
ax.legend(fontsize=8)
rising = np.diff(y) > 0
starts = np.flatnonzero(rising[1:] & ~rising[:-1]) + 2  # first count of each new cycle
complete = list(zip([0, *starts[:-1]], starts, strict=True))  # cycles that end inside the plot
facts["cycle_starts"] = [int(s) for s in starts]
facts["cycle_peaks"] = [round(float(y[a:b].max()), 4) for a, b in complete]
facts["cycle_warmups"] = [int(np.argmax(y[a:b])) + 1 for a, b in complete]
print("restart counts:", facts["cycle_starts"], "peaks of complete cycles:", facts["cycle_peaks"])

# Cost does not grow with the number of cycles (one closed-form evaluation):
lines = {}
for n in (10, 1000):
    s = ow.cosine_restarts(1.0, 10, warmup_steps=2, num_cycles=n)
    lines[f"optax_warmup, {n} cycles"] = jax.jit(lambda c, s=s: s(c)).lower(3).as_text().count("\n")
for n in (10, 100):
    piece = dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=10, end_value=0.0)
    s = optax.sgdr_schedule([piece] * n)
    lines[f"optax.sgdr_schedule, {n} cycles"] = jax.jit(s).lower(3).as_text().count("\n")
facts["hlo_lines"] = lines
print("lines of StableHLO for one evaluation:", lines)

# %% [markdown]
# ## Rewarmup for continued pretraining
# Train with a cosine decay, stop at 60%, then warm up again from the current
# value to a new peak and decay again (Gupta et al. 2023; Ibrahim et al. 2024).

# %%
ax = axes[7]
at = int(0.6 * T)
old = ow.cosine_decay(1.0, T)
again = ow.rewarmup(old, at, ow.cosine_decay(0.6, T - at), W // 2)
ax.plot(curve(old), "k--", lw=1, label="original run")
ax.plot(curve(again), label=f"rewarmup at {at} to 0.6")
ax.set_title("rewarmup")
ax.legend(fontsize=8)
facts["rewarmup"] = (float(curve(old)[at]), float(curve(again)[at + W // 2]))

# %% [markdown]
# ## Warmup factors tied to Adam's `b2`
# Ma & Yarats (2019): the untuned linear warmup `min(1, (1 - b2) t / 2)` and
# exponential warmup `1 - exp(-(1 - b2) t)`, and Liu et al.'s RAdam
# rectification as a factor, each labelled with its effective warmup period
# `T(w) = sum_t (1 - w_t)` from `effective_warmup_period`; `t = c + 1` counts
# from 1 at the first update. Dashed: the factor GI-Adam applies implicitly
# when the gradient scale is stationary, `sqrt(1 - b2**t)` (Kalra & Barkeshli
# 2024), summed the same way.

# %%
ax = axes[8]
b2 = 0.999
horizon = 8000
factors = {
    "untuned_linear_warmup": ow.untuned_linear_warmup(b2),
    "untuned_exponential_warmup": ow.untuned_exponential_warmup(b2),
    "radam_warmup (threshold 5)": ow.radam_warmup(b2),
    "radam_warmup (threshold 4)": ow.radam_warmup(b2, threshold=4.0),
}
periods = {}
for name, f in factors.items():
    periods[name] = float(ow.effective_warmup_period(f))
    ax.plot(curve(f, horizon), label=f"{name}: T={periods[name]:.1f}")
t = np.arange(1, 40 * horizon, dtype=np.float64)
gi = np.sqrt(1 - b2**t)
periods["GI-Adam implicit sqrt(1-b2^t)"] = float(np.sum(1 - gi))
ax.plot(
    gi[:horizon],
    "k--",
    lw=1,
    label=f"GI-Adam implicit: T={periods['GI-Adam implicit sqrt(1-b2^t)']:.1f}",
)
ax.set_title(f"b2-tied warmup factors, b2={b2}")
ax.legend(fontsize=7)
facts["periods"] = periods

# %%
for a in axes:
    a.grid(alpha=0.3)
fig.suptitle(f"optax_warmup schedule gallery ({SCALE} scale, T={T})")
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "01_gallery.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw
# Computed from the values above.

# %%
print("What we saw:")
ours0, theirs0 = facts["first_update"]
print(
    f"- The first update of a {W}-step linear warmup uses {ours0:.4g} x peak by default; "
    f"optax.warmup_constant_schedule(0, peak, W) gives {theirs0:.4g} (a wasted update)."
)
m = facts["modes"]
print(
    f"- add_warmup: prefix peaks at {m['prefix'][2]:.4f} at count {m['prefix'][1]}; continuous "
    f"peaks at {m['continuous'][2]:.4f} (= main(W)) at count {m['continuous'][1]}; multiply "
    f"peaks at {m['multiply'][2]:.4f} at count {m['multiply'][1]}. Largest step-to-step change: "
    + ", ".join(f"{k} {v[0]:.4f}" for k, v in m.items())
    + "."
)
cm = facts["cooldown_mean"]
print(
    "- WSD cooldown, mean lr over the last 20% as a fraction of the peak: "
    + ", ".join(f"{k} {v:.3f}" for k, v in cm.items())
    + f"; the 1-sqrt cooldown spends {100 * (1 - cm['1-sqrt'] / cm['linear']):.0f}% less "
    + "learning rate than the linear one."
)
print(
    f"- cosine_restarts restarts at counts {facts['cycle_starts']}; the complete cycles peak at "
    f"{facts['cycle_peaks']}, reached on their update number {facts['cycle_warmups']} "
    "(with cycle_mul the whole cycle stretches, its warmup included)."
)
hl = facts["hlo_lines"]
print("- Lines of StableHLO for one evaluation: " + ", ".join(f"{k}: {v}" for k, v in hl.items()))
r0, r1 = facts["rewarmup"]
print(f"- Rewarmup starts from the old value {r0:.4f} and reaches the new peak {r1:.4f}.")
print(
    "- Effective warmup periods at b2=0.999: "
    + ", ".join(f"{k} {v:.1f}" for k, v in facts["periods"].items())
    + " steps."
)
per = facts["periods"]
lin = per["untuned_linear_warmup"]
print(
    f"- RAdam's factor (threshold 5) is {per['radam_warmup (threshold 5)'] / lin:.3f}x the "
    f"untuned linear period; GI-Adam's implicit warmup is "
    f"{per['GI-Adam implicit sqrt(1-b2^t)'] / lin:.2f}x of it."
)
