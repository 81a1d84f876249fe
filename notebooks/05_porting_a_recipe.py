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
# # 05 · Porting a recipe
#
# Two recipes as their authors run them, ported to optax with
# `optax_warmup.compat`, value for value:
#
# 1. **Hugging Face**: AdamW with `get_cosine_schedule_with_warmup`
#    (a BERT-style fine-tuning run, warmup over 6% of the steps);
# 2. **timm**: a DeiT-style ImageNet recipe, `--sched cosine --warmup-epochs 5
#    --warmup-lr 1e-6 --min-lr 1e-5 --sched-on-updates`, i.e.
#    `CosineLRScheduler(t_initial, lr_min, warmup_t, warmup_lr_init)` stepped
#    after every update.
#
# The "native" curve is the learning rate the peer's optimizer holds at each
# `optimizer.step()`. If `torch`, `transformers` and `timm` are installed the
# notebook steps the real schedulers; otherwise it uses a plain-Python float64
# transcription of their stepping loops (written from the peers' documented
# algorithms, independently of the library). The first cell below says which.
# We also show the library's own idiom for the same recipe, to make the
# conventions that differ visible: Hugging Face's first update at lr 0, and
# timm's drop at the end of warmup when the warmup is not a prefix.

# %%
import importlib.util
import math

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import optax_warmup as ow
from optax_warmup.compat import timm as timm_compat
from optax_warmup.compat import transformers as hf_compat

HAVE = {m: importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "timm")}
PEERS = all(HAVE.values())
NATIVE = "the peers' own schedulers" if PEERS else "float64 transcriptions (peers not installed)"
print("installed:", ", ".join(f"{m} {'yes' if ok else 'no'}" for m, ok in HAVE.items()))
print("native curves from:", NATIVE)

# Hugging Face fine-tuning recipe.
HF_LR = 5e-5
HF_STEPS = 1000 if SCALE == "ci" else 100_000
HF_WARMUP = int(0.06 * HF_STEPS)
HF_SHOWN = HF_STEPS + HF_STEPS // 5  # also past the end: a resumed or overlong run

# timm recipe: base lr 5e-4 * batch / 512, 300 epochs of ImageNet at batch 1024.
TIMM_LR = 5e-4 * 1024 / 512
EPOCHS, UPDATES_PER_EPOCH = (30, 50) if SCALE == "ci" else (300, 1251)
TIMM_T = int(ow.steps_from_epochs(EPOCHS, UPDATES_PER_EPOCH))
TIMM_WARMUP = int(ow.steps_from_epochs(5, UPDATES_PER_EPOCH))
TIMM_MIN, TIMM_WARMUP_LR = 1e-5, 1e-6
print(f"HF: {HF_STEPS} steps, warmup {HF_WARMUP}; timm: {TIMM_T} updates, warmup {TIMM_WARMUP}")

# %% [markdown]
# ## The native curves


# %%
def hf_native(base_lr, warmup, total, steps):
    """lr held by the optimizer at each of the first ``steps`` updates."""
    if PEERS:
        import torch
        from transformers import get_cosine_schedule_with_warmup

        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
        sched = get_cosine_schedule_with_warmup(opt, warmup, total)
        out = []
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return np.array(out)
    # LambdaLR: update k uses base_lr * f(k); f is HF's cosine-with-warmup lambda.
    out = []
    for k in range(steps):
        if k < warmup:
            f = k / max(1, warmup)
        else:
            progress = (k - warmup) / max(1, total - warmup)
            f = max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
        out.append(base_lr * f)
    return np.array(out)


def timm_native(base_lr, t_initial, lr_min, warmup_t, warmup_lr_init, steps):
    if PEERS:
        import torch
        from timm.scheduler import CosineLRScheduler

        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
        sched = CosineLRScheduler(
            opt,
            t_initial=t_initial,
            lr_min=lr_min,
            warmup_t=warmup_t,
            warmup_lr_init=warmup_lr_init,
            t_in_epochs=False,
        )
        out = []
        for k in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step_update(num_updates=k + 1)
        return np.array(out)

    # The constructor sets warmup_lr_init; after update k, step_update(k + 1)
    # sets the next lr to _get_lr(k + 1). So update k uses _get_lr(k).
    def get_lr(t):
        if t < warmup_t:
            return warmup_lr_init + t * (base_lr - warmup_lr_init) / warmup_t
        # warmup_prefix=False: the cosine clock is not shifted by the warmup.
        if t >= t_initial:  # cycle_limit = 1
            return lr_min
        return lr_min + 0.5 * (base_lr - lr_min) * (1 + math.cos(math.pi * t / t_initial))

    return np.array([get_lr(k) for k in range(steps)])


hf_ref = hf_native(HF_LR, HF_WARMUP, HF_STEPS, HF_SHOWN)
timm_ref = timm_native(TIMM_LR, TIMM_T, TIMM_MIN, TIMM_WARMUP, TIMM_WARMUP_LR, TIMM_T + 10)

# %% [markdown]
# ## The ports
# Same arguments as the peer, the optimizer's learning rate first. The
# schedule's value at count `k` is the peer's learning rate at its `k`-th
# update, so it goes straight into an optax optimizer.

# %%
hf_schedule = hf_compat.get_cosine_schedule_with_warmup(HF_LR, HF_WARMUP, HF_STEPS)
hf_recipe = optax.adamw(hf_schedule, weight_decay=0.01)

timm_schedule = timm_compat.CosineLRScheduler(
    TIMM_LR, TIMM_T, lr_min=TIMM_MIN, warmup_t=TIMM_WARMUP, warmup_lr_init=TIMM_WARMUP_LR
)
timm_recipe = optax.adamw(timm_schedule, weight_decay=0.05)


def curve(schedule, n):
    return np.asarray(schedule(jnp.arange(n)), np.float64)


def applied_lr(schedule, n):
    """The lr optax actually applies at each update: SGD on one parameter with gradient 1."""
    opt = optax.sgd(schedule)

    def step(state, _):
        updates, state = opt.update(jnp.ones(()), state)
        return state, -updates

    return np.asarray(jax.lax.scan(step, opt.init(jnp.zeros(())), length=n)[1], np.float64)


results = {}
for name, schedule, ref in [("HF", hf_schedule, hf_ref), ("timm", timm_schedule, timm_ref)]:
    port = curve(schedule, len(ref))
    applied = applied_lr(schedule, len(ref))
    results[name] = dict(
        port=port,
        abs=float(np.max(np.abs(port - ref))),
        rel=float(np.max(np.abs(port - ref) / np.maximum(np.abs(ref), 1e-30))),
        applied=float(np.max(np.abs(applied - ref) / np.maximum(np.abs(ref), 1e-30))),
    )
    r = results[name]
    print(
        f"{name}: max |port - native| = {r['abs']:.3g} (relative {r['rel']:.2e}); "
        f"lr applied by optax.sgd vs native: relative {r['applied']:.2e}"
    )

# %% [markdown]
# ## The library's own idiom for the same recipes
# `ow.warmup_decay_schedule` wastes no update (count 0 already gets
# `peak / W`) and puts the cosine after the warmup. Close to the peers, not
# equal: here is by how much.

# %%
hf_idiom = curve(ow.warmup_decay_schedule(HF_LR, HF_WARMUP, HF_STEPS), HF_SHOWN)
timm_idiom = curve(
    ow.warmup_decay_schedule(
        TIMM_LR, TIMM_WARMUP, TIMM_T, init_value=TIMM_WARMUP_LR, end_value=TIMM_MIN
    ),
    TIMM_T + 10,
)
hf_past = hf_ref[HF_STEPS:]
drop_before, drop_after = timm_ref[TIMM_WARMUP - 1], timm_ref[TIMM_WARMUP]
print(f"HF first update: native {hf_ref[0]:.3g}, library idiom {hf_idiom[0]:.3g}")
print(f"HF past num_training_steps: native rises again to {hf_past.max():.3g} by step {HF_SHOWN}")
idiom_before, idiom_after = timm_idiom[TIMM_WARMUP - 1], timm_idiom[TIMM_WARMUP]
print(f"timm at the end of warmup: {drop_before:.4g} -> {drop_after:.4g}", end="; ")
print(f"library idiom: {idiom_before:.4g} -> {idiom_after:.4g}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
ax = axes[0]
NATIVE_LABEL = "native: transformers itself" if PEERS else "native: float64 transcription"
ax.plot(hf_ref, "k", lw=3, alpha=0.3, label=NATIVE_LABEL)
ax.plot(results["HF"]["port"], "C0--", label="compat.transformers port")
ax.plot(hf_idiom, "C1:", label="ow.warmup_decay_schedule")
ax.axvline(HF_STEPS, color="grey", lw=0.8)
ax.set_title(f"Hugging Face cosine with warmup (W={HF_WARMUP}, N={HF_STEPS})")
ax.set_xlabel("update")
ax.legend(fontsize=8)

ax = axes[1]
zoom = slice(0, 2 * TIMM_WARMUP)
timm_label = "native: timm itself" if PEERS else "native: float64 transcription"
ax.plot(np.arange(len(timm_ref))[zoom], timm_ref[zoom], "k", lw=3, alpha=0.3, label=timm_label)
ax.plot(
    np.arange(len(timm_ref))[zoom], results["timm"]["port"][zoom], "C0--", label="compat.timm port"
)
ax.plot(np.arange(len(timm_ref))[zoom], timm_idiom[zoom], "C1:", label="ow.warmup_decay_schedule")
ax.set_title(f"timm CosineLRScheduler, first {2 * TIMM_WARMUP} of {TIMM_T} updates")
ax.set_xlabel("update")
ax.legend(fontsize=8)

ax = axes[2]
for name, ref, color in [("HF", hf_ref, "C0"), ("timm", timm_ref, "C2")]:
    diff = np.abs(results[name]["port"] - ref) / np.maximum(np.abs(ref), 1e-30)
    ax.semilogy(
        np.arange(len(ref)) / len(ref),
        np.where(diff > 0, diff, np.nan),
        ".",
        ms=2,
        color=color,
        label=name,
    )
ax.set_title("relative |port - native| (zeros not drawn)")
ax.set_xlabel("fraction of the shown updates")
ax.legend(fontsize=8)
fig.suptitle(f"Porting recipes with optax_warmup.compat ({SCALE} scale); native curves: {NATIVE}")
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "05_porting_a_recipe.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
source = (
    "the peers themselves (torch, transformers and timm were importable)"
    if PEERS
    else "float64 transcriptions of the peers' stepping loops, not the peers: "
    + ", ".join(m for m, ok in HAVE.items() if not ok)
    + " not installed, so this compares the ports against our reading of the peers' code"
)
print("What we saw:")
print(f"- Native curves came from {source}.")
for name, r in results.items():
    print(
        f"- {name}: the compat port matches the native learning rate to {r['rel']:.2e} "
        f"relative (max abs {r['abs']:.3g}); the lr optax applies update by update matches "
        f"to {r['applied']:.2e}."
    )
print(
    f"- Hugging Face's first update uses lr {hf_ref[0]:.3g}; the library idiom uses "
    f"{hf_idiom[0]:.3g} (peak / W). Past num_training_steps HF's cosine rises again, to "
    f"{hf_past.max():.3g} by step {HF_SHOWN}; the idiom holds {hf_idiom[-1]:.3g}."
)
print(
    f"- timm without warmup_prefix drops from {drop_before:.4g} to {drop_after:.4g} at update "
    f"{TIMM_WARMUP} ({100 * (1 - drop_after / drop_before):.2f}%); largest difference between the "
    f"idiom and timm over the run: {np.max(np.abs(timm_idiom - timm_ref)):.3g} "
    f"({100 * np.max(np.abs(timm_idiom - timm_ref)) / TIMM_LR:.2f}% of the peak)."
)
