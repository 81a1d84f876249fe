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
# eigenvalue of the loss Hessian. The paper's account: when a network starts
# sharp, warmup keeps the learning rate near that limit while training moves
# to flatter regions, so the sharpness comes down to about `2 / lr` as the
# rate rises, and warmup lets the network train at larger rates than it could
# without. It also proposes starting the warmup at the critical rate
# `2 / sharpness` rather than at 0.
#
# We test those three statements on a Flax NNX MLP trained by full-batch
# gradient descent on a synthetic teacher-student regression; its last layer
# starts large, so it starts sharp (the paper's sharpness-reduction regime).
# The sharpness comes from `ow.estimate_sharpness` (power iteration on
# Hessian-vector products). Every measurement is repeated over seeds (a seed
# is the student's initialisation) and each claim is decided by the rule in
# `notebooks/_results.py`: the 95% t interval over seeds inside the claimed
# region agrees, outside disagrees, otherwise inconclusive. Learning rates are
# in units of each seed's own critical rate `2 / sharpness_0`.

# %%
import _results
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _common import bracket, device_name, run_in_chunks, teacher_student
from flax import nnx

import optax_warmup as ow

CONFIGS = {
    "ci": dict(
        examples=256, inputs=16, hidden=64, steps=200, every=10, seeds=3,
        coarse=2.0 ** np.arange(9), power_iterations=20, tracked_multiple=8.0,
    ),
    "full": dict(
        examples=2048, inputs=16, hidden=256, steps=2000, every=20, seeds=5,
        coarse=2.0 ** np.arange(11), power_iterations=30, tracked_multiple=8.0,
    ),
}  # fmt: skip
C = CONFIGS[SCALE]
STEPS, EVERY, SEEDS, COARSE = C["steps"], C["every"], C["seeds"], C["coarse"]
WARMUPS = (0, STEPS // 10, STEPS // 4, STEPS // 2)
MAIN_W = STEPS // 4  # the warmup length the claims use, fixed before the run
TRACKED = C["tracked_multiple"]

# A Flax NNX MLP whose last layer starts large, one initialisation per seed (notebooks/_common.py).
graphdef, PARAMS, DATA = teacher_student(C["examples"], C["inputs"], C["hidden"], seeds=SEEDS)


def loss_fn(params, batch):
    x, y = batch
    return 0.5 * jnp.mean((nnx.merge(graphdef, params)(x) - y) ** 2)


def seed_params(seed):
    return jax.tree.map(lambda a: a[seed], PARAMS)


init_loss = np.asarray(jax.vmap(lambda p: loss_fn(p, DATA))(PARAMS))
sharpness0 = np.asarray(
    jax.jit(jax.vmap(lambda p: ow.estimate_sharpness(loss_fn, p, DATA, num_iterations=50)))(PARAMS)
)
eta_c = np.asarray(ow.suggest_warmup_init(jnp.asarray(sharpness0)))  # 2 / sharpness, per seed
for s in range(SEEDS):
    print(
        f"seed {s}: initial loss {init_loss[s]:.3f}, sharpness {sharpness0[s]:.2f}, "
        f"2/sharpness {eta_c[s]:.5f}"
    )

# %% [markdown]
# ## 1. Sharpness during training
# Per seed, three runs at the same peak rate, `TRACKED` times the critical
# one: no warmup; a linear warmup from 0 over `MAIN_W` steps; the same warmup
# started at the critical rate. The first two measure the sharpness every
# `EVERY` steps inside the jitted loop.


# %%
def sgd_run(schedule, params, track=False):
    """Full-batch gradient descent; with ``track`` the sharpness every EVERY steps."""
    opt = optax.sgd(schedule)

    def step(carry, _):
        p, state = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, DATA)
        updates, state = opt.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), loss

    carry = (params, opt.init(params))
    if not track:
        (p, _), losses = jax.lax.scan(step, carry, length=STEPS)
        return loss_fn(p, DATA), losses

    def chunk(carry, _):
        sharp = ow.estimate_sharpness(loss_fn, carry[0], DATA, num_iterations=C["power_iterations"])
        carry, losses = jax.lax.scan(step, carry, length=EVERY)
        return carry, (sharp, losses)

    _, (sharp, losses) = jax.lax.scan(chunk, carry, length=STEPS // EVERY)
    return sharp, losses.reshape(-1)


def tracked_run(seed, eta):
    peak = TRACKED * eta
    p = seed_params(seed)
    return dict(
        none=sgd_run(ow.constant_schedule(peak), p, track=True),
        warm=sgd_run(ow.warmup_schedule(peak, MAIN_W, init_value=0.0), p, track=True),
        warm_c=sgd_run(ow.warmup_schedule(peak, MAIN_W, init_value=eta), p)[1],
    )


tracked = jax.jit(jax.vmap(tracked_run))(jnp.arange(SEEDS), jnp.asarray(eta_c))
tracked = jax.tree.map(np.asarray, tracked)
steps_tracked = np.arange(0, STEPS, EVERY)
end_warm = MAIN_W // EVERY  # the measurement at the end of the warmup
for s in range(SEEDS):
    for key, label in [("none", "no warmup"), ("warm", f"warmup W={MAIN_W}")]:
        sharp, losses = tracked[key][0][s], tracked[key][1][s]
        print(
            f"seed {s} {label:>14}: sharpness/initial at steps 0, {EVERY}, {MAIN_W}, last: "
            f"{sharp[0] / sharpness0[s]:.3f} {sharp[1] / sharpness0[s]:.3f} "
            f"{sharp[end_warm] / sharpness0[s]:.3f} {sharp[-1] / sharpness0[s]:.3f}; "
            f"max loss {np.nanmax(losses):.3g}, final {losses[-1]:.3g}"
        )

# %% [markdown]
# ## 2. Largest trainable learning rate vs warmup length
# A run *trained* when its final loss is finite and below 10% of its initial
# loss. For each seed and each warmup (linear from 0, and `MAIN_W` from the
# critical rate), a coarse grid of peaks (factor 2, in units of the seed's
# critical rate) then a fine pass (factor 2^(1/4)) around the failure point.

# %%
VARIANTS = [(w, False) for w in WARMUPS] + [(MAIN_W, True)]
LABELS = [f"W={w} from {'2/sharpness' if c else '0'}" for w, c in VARIANTS]


def grid_run(multiple, variant, seed):
    eta = jnp.asarray(eta_c)[seed]
    w = jnp.asarray([v[0] for v in VARIANTS])[variant]
    init = jnp.where(jnp.asarray([v[1] for v in VARIANTS])[variant], eta, 0.0)
    return sgd_run(ow.warmup_schedule(multiple * eta, w, init_value=init), seed_params(seed))[0]


grid_fn = jax.jit(jax.vmap(grid_run))


def trained(multiples):
    """Whether each run trained, for peaks (x 2/sharpness) of shape (variants, seeds, L)."""
    v, s = np.meshgrid(range(len(VARIANTS)), range(SEEDS), indexing="ij")
    v = np.broadcast_to(v[..., None], multiples.shape).ravel()
    s = np.broadcast_to(s[..., None], multiples.shape).ravel()
    final = run_in_chunks(grid_fn, (multiples.ravel(), v, s), SEEDS * COARSE.size)
    final = final.reshape(multiples.shape)
    return np.isfinite(final) & (final < 0.1 * init_loss[None, :, None])


edge = bracket(trained, COARSE, (len(VARIANTS), SEEDS))
RES = edge["resolution"]
for label, m, below, cens in zip(
    LABELS, edge["max_lr"], edge["below"], edge["censored"], strict=True
):
    flags = f" (no rate trained: {below.sum()}, never failed: {cens.sum()})"
    print(f"{label:>22}: largest trainable peak / (2/sharpness) per seed {m}{flags}")

# %% [markdown]
# ## 3. The claims

# %%
KB = "Kalra & Barkeshli 2024"
i0, im, ic = LABELS.index("W=0 from 0"), LABELS.index(f"W={MAIN_W} from 0"), len(VARIANTS) - 1
alignment = tracked["warm"][0][:, end_warm] * TRACKED * eta_c / 2  # sharpness x lr / 2


def steps_to(curves, target):
    hit = curves < target[:, None]
    return np.where(hit.any(-1), hit.argmax(-1), np.nan)  # NaN: never reached


target = 1e-2 * init_loss
saved = steps_to(tracked["warm"][1], target) - steps_to(tracked["warm_c"], target)
ratio = _results.claim(
    f"MLP (GD): a linear warmup over {MAIN_W} steps raises the largest trainable lr over none",
    KB,
    f"largest trainable lr ratio, W={MAIN_W} / W=0",
    edge["max_lr"][im] / edge["max_lr"][i0],
    1.0,
    np.inf,
    log=True,
    resolution=RES,
)
CLAIMS = [
    ratio,
    _results.claim(
        f"MLP (GD): by the end of the warmup the sharpness has come down to about 2 / lr "
        f"(peak {TRACKED:g}x critical)",
        KB,
        "sharpness x lr / 2 at the end of the warmup",
        alignment,
        0.5,
        2.0,
    ),
    _results.claim(
        f"MLP (GD): a warmup started at 2/sharpness reaches 1% of the initial loss sooner "
        f"than from 0 (W={MAIN_W}, peak {TRACKED:g}x)",
        KB,
        "steps saved (from 0 minus from 2/sharpness); NaN if either never reached it",
        saved,
        1.0,
        np.inf,
    ),
]
for c in CLAIMS:
    print(_results.describe(c))
_results.write(FIGURES, "03_why_warmup", SCALE, device_name(), CLAIMS)

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
ax = axes[0]
for key, label, color in [("none", "no warmup", "C3"), ("warm", f"warmup W={MAIN_W}", "C0")]:
    for s in range(SEEDS):
        sharp = tracked[key][0][s] / sharpness0[s]
        ax.semilogy(
            steps_tracked, np.where(sharp > 0, sharp, np.nan), "o-", ms=2, lw=0.8, color=color,
            label=f"{label} (peak {TRACKED:g}x critical)" if s == 0 else None,
        )  # fmt: skip
ramp = np.asarray(ow.warmup_schedule(TRACKED, MAIN_W, init_value=0.0)(jnp.arange(STEPS)))
with np.errstate(divide="ignore"):
    ax.semilogy(np.arange(STEPS), 1 / ramp, "C0--", lw=1, label="2 / lr of the warmup")
ax.axhline(1 / TRACKED, color="C3", ls=":", lw=1, label="2 / lr of the constant rate")
ax.set_ylim(1e-2, 3)
ax.set_xlabel("step")
ax.set_ylabel("sharpness / initial sharpness (one line per seed)")
ax.set_title(
    f"sharpness x lr/2 at end of warmup: {CLAIMS[1]['mean']:.2f} "
    f"[{CLAIMS[1]['lo']:.2f}, {CLAIMS[1]['hi']:.2f}]"
)
ax.legend(fontsize=7)

ax = axes[1]
for k, label in enumerate(LABELS):
    mean, lo, hi, _ = _results.t_interval(edge["max_lr"][k], log=True)
    err = [[mean - lo], [hi - mean]] if np.isfinite(lo) else None
    ax.errorbar(k, mean, yerr=err, fmt="o", color="C1" if "2/sh" in label else "C0")
    ax.plot(np.full(SEEDS, k), edge["max_lr"][k], "_", color="k", ms=10)
ax.set_yscale("log")
ax.set_xticks(range(len(LABELS)), LABELS, rotation=20, fontsize=8)
ax.set_ylabel("largest trainable peak / (2 / sharpness)")
ax.set_title(f"geometric mean, 95% t interval, seeds as ticks (resolution x{RES:.2f})")

ax = axes[2]
for key, label, color in [("warm", "from 0", "C0"), ("warm_c", "from 2/sharpness", "C1")]:
    curves = tracked[key][1] if key == "warm" else tracked[key]
    for s in range(SEEDS):
        ax.semilogy(curves[s] / init_loss[s], color=color, lw=0.8, label=label if s == 0 else None)
ax.axhline(1e-2, color="grey", ls=":", lw=1, label="target: 1% of the initial loss")
ax.set_xlabel("step")
ax.set_ylabel("training loss / initial loss")
ax.set_title(f"W={MAIN_W} to {TRACKED:g}x critical: steps saved {CLAIMS[2]['mean']:.1f}")
ax.legend(fontsize=8)
verdicts = "; ".join(c["verdict"] for c in CLAIMS)
fig.suptitle(
    f"Why warmup works ({SCALE} scale, {STEPS} steps of full-batch GD, {SEEDS} seeds); "
    f"claims: {verdicts}"
)
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "03_why_warmup.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
print("What we saw:")
print(
    f"- Initial sharpness over {SEEDS} seeds: "
    + ", ".join(f"{x:.2f}" for x in sharpness0)
    + "; each seed's learning rates are in units of its own 2/sharpness."
)
none_final = tracked["none"][1][:, -1]
none_max = np.nanmax(tracked["none"][1], axis=1)
print(
    f"- Without warmup at {TRACKED:g}x the critical rate: final loss / initial per seed "
    + ", ".join(f"{f / i:.3g}" for f, i in zip(none_final, init_loss, strict=True))
    + "; largest loss / initial "
    + ", ".join(f"{m / i:.3g}" for m, i in zip(none_max, init_loss, strict=True))
    + f"; {int(np.sum(~np.isfinite(none_final)))} of {SEEDS} diverged."
)
for k, label in enumerate(LABELS):
    mean, lo, hi, n = _results.t_interval(edge["max_lr"][k], log=True)
    print(
        f"- {label}: largest trainable peak {mean:.3g} x 2/sharpness (95% t [{lo:.3g}, {hi:.3g}], "
        f"{n} seeds, resolution x{RES:.2f}); grid did not bracket it in "
        f"{int(edge['censored'][k].sum())} seeds, no rate trained in "
        f"{int(edge['below'][k].sum())}."
    )
for c in CLAIMS:
    print(f"- {_results.describe(c)}")
