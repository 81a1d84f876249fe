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
# # 04 · Adam without tuning the warmup
#
# Which Adam variants tolerate the highest learning rate without anyone
# choosing a warmup length? For each variant we find the **largest stable
# learning rate** (every rate up to it trains) on two small tasks, over
# several seeds:
#
# - plain `optax.adam`, no warmup;
# - Adam with the **untuned linear** warmup `min(1, (1 - b2) t / 2)` and the
#   **untuned exponential** warmup `1 - exp(-(1 - b2) t)` (Ma & Yarats 2019):
#   `ow.with_warmup(optax.adam(lr), ow.untuned_linear_warmup(b2))` (the
#   exponential one has the same effective warmup period, so only the linear
#   one is swept; both are plotted);
# - Adam with **RAdam's rectification as a warmup factor**, `ow.radam_warmup(b2)`;
# - **`optax.radam`** itself, no warmup;
# - **GI-Adam** (`ow.gi_adam`: Adam with `v_0 = g_0**2`, Kalra & Barkeshli 2024),
#   no warmup;
# - a **tuned** linear warmup: at each learning rate, the better of two
#   warmup lengths (it trains at a rate if either length does).
#
# **The claims checked.** Kalra & Barkeshli (2024) report that GI-Adam without
# warmup and Adam with a tuned warmup tolerate learning rates 2-4x higher than
# plain Adam, and that `optax.radam` without warmup fails about where plain
# Adam fails; Ma & Yarats (2019) that the untuned warmups do about as well as a
# tuned one. Each claim is a region for a per-seed ratio of largest stable
# rates; the closing cell decides it with the rule in `notebooks/_results.py`
# (the 95% t interval over seeds, widened by the grid's resolution, inside the
# region: agrees; outside: disagrees; otherwise inconclusive).
#
# **Protocol.** A run *trained* when its held-out loss at the end is finite and
# below half the initial loss. A coarse grid of learning rates (factor 2)
# brackets every variant's failure point; a fine pass (factor 2^(1/4)) between
# each run's last coarse success and first failure gives the edge to 19%. The
# largest stable rate is the top of the first run of successes: rates too
# small to train within the budget may come before it, and a lucky success
# above a failure does not count. A
# seed changes the initialisation and the training batches.

# %%
import time

import _results
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _common import bracket, device_name, stack
from flax import nnx

import optax_warmup as ow

CONFIGS = {
    "ci": dict(
        b2=0.95,  # untuned linear warmup 2 / (1 - b2) = 40 steps of 160
        steps=160,
        seeds=3,
        coarse=0.016 * 2.0 ** np.arange(6),  # 0.016 ... 0.512
        tf=dict(vocab=16, length=8, width=16, heads=2, layers=1, batch=16),
        mlp=dict(inputs=32, hidden=64, classes=10, batch=64),
    ),
    "full": dict(
        b2=0.998,  # untuned linear warmup 1000 steps of 5000
        steps=5000,
        seeds=5,
        coarse=1e-4 * 2.0 ** np.arange(13),  # 1e-4 ... 0.41
        tf=dict(vocab=64, length=32, width=64, heads=4, layers=2, batch=64),
        mlp=dict(inputs=64, hidden=256, classes=10, batch=256),
    ),
}
C = CONFIGS[SCALE]
B2, STEPS, SEEDS, COARSE, TF, MLP_SIZE = (
    C[k] for k in ("b2", "steps", "seeds", "coarse", "tf", "mlp")
)
TUNED_WARMUPS = (STEPS // 10, STEPS // 4)
print(
    f"b2={B2}, {STEPS} steps, {SEEDS} seeds, coarse grid of {COARSE.size} rates "
    f"{COARSE[0]:.3g} ... {COARSE[-1]:.3g} (x{COARSE[1] / COARSE[0]:g})"
)

# %% [markdown]
# ## The warmup factors
# Every factor-based variant is "Adam whose update is multiplied by `w(count)`",
# so we tabulate each factor over the run and train all of them in one compiled
# function: the factor table row is an argument.

# %%
counts = jnp.arange(STEPS)
factors = {
    "adam": ow.constant_schedule(1.0),
    "adam + untuned linear": ow.untuned_linear_warmup(B2),
    "adam + untuned exponential": ow.untuned_exponential_warmup(B2),
    "adam + RAdam factor": ow.radam_warmup(B2),
}
for w in TUNED_WARMUPS:
    factors[f"adam + linear W={w}"] = ow.warmup_factor(w)
ROWS = list(factors)
TABLE = jnp.stack([jnp.broadcast_to(factors[n](counts), (STEPS,)) for n in ROWS])
for name in ROWS[1:]:
    period = float(ow.effective_warmup_period(factors[name]))
    print(
        f"{name:>28}: effective warmup period {period:.1f} steps ({period / STEPS:.0%} of the run)"
    )

# The variants compared: (optimizer family, factor-table rows); a variant trains at a rate
# when any of its rows does (the tuned warmup: the better warmup length at each rate).
METHODS = {
    "adam": ("factor", [0]),
    "adam + untuned linear": ("factor", [1]),
    "adam + RAdam factor": ("factor", [3]),
    "adam + tuned linear warmup": ("factor", [4, 5]),
    "optax.radam": ("radam", [0]),
    "gi_adam": ("gi_adam", [0]),
}
NAMES = list(METHODS)

# %% [markdown]
# ## The two tasks


# %%
class Block(nnx.Module):
    """Post-LayerNorm block (Vaswani et al. 2017), the layout that needs warmup most."""

    def __init__(self, width, heads, rngs):
        self.attn = nnx.MultiHeadAttention(heads, width, decode=False, rngs=rngs)
        self.ln1 = nnx.LayerNorm(width, rngs=rngs)
        self.fc1 = nnx.Linear(width, 4 * width, rngs=rngs)
        self.fc2 = nnx.Linear(4 * width, width, rngs=rngs)
        self.ln2 = nnx.LayerNorm(width, rngs=rngs)

    def __call__(self, x, mask):
        x = self.ln1(x + self.attn(x, mask=mask))
        return self.ln2(x + self.fc2(nnx.gelu(self.fc1(x))))


class Transformer(nnx.Module):
    def __init__(self, vocab, length, width, heads, layers, rngs):
        self.embed = nnx.Embed(vocab, width, rngs=rngs)
        self.pos = nnx.Param(0.02 * jax.random.normal(rngs.params(), (length, width)))
        self.blocks = nnx.List([Block(width, heads, rngs) for _ in range(layers)])
        self.unembed = nnx.Linear(width, vocab, rngs=rngs)

    def __call__(self, tokens):
        h = self.embed(tokens) + self.pos[...]
        mask = nnx.make_causal_mask(tokens)
        for block in self.blocks:
            h = block(h, mask)
        return self.unembed(h)


class MLP(nnx.Module):
    def __init__(self, inputs, hidden, classes, rngs):
        self.l1 = nnx.Linear(inputs, hidden, rngs=rngs)
        self.l2 = nnx.Linear(hidden, hidden, rngs=rngs)
        self.l3 = nnx.Linear(hidden, classes, rngs=rngs)

    def __call__(self, x):
        return self.l3(nnx.relu(self.l2(nnx.relu(self.l1(x)))))


def transformer_task():
    """Sequences of uniform random tokens; the target at position t is the token at t - 2."""

    def model(seed):
        return Transformer(
            TF["vocab"], TF["length"], TF["width"], TF["heads"], TF["layers"], nnx.Rngs(seed)
        )

    def batch(key):
        x = jax.random.randint(key, (TF["batch"], TF["length"]), 0, TF["vocab"])
        return x, jnp.roll(x, 2, axis=1)

    def loss(model, xy):
        x, y = xy
        logits = model(x)[:, 2:]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y[:, 2:]).mean()

    return model, batch, loss


def mlp_task():
    """Gaussian inputs labelled by a random tanh teacher network; held-out batches are new draws."""
    s = MLP_SIZE
    teacher = nnx.Sequential(
        nnx.Linear(s["inputs"], 64, rngs=nnx.Rngs(1001)),
        jnp.tanh,
        nnx.Linear(64, s["classes"], rngs=nnx.Rngs(1002)),
    )

    def model(seed):
        return MLP(s["inputs"], s["hidden"], s["classes"], nnx.Rngs(seed))

    def batch(key):
        x = jax.random.normal(key, (s["batch"], s["inputs"]))
        return x, jnp.argmax(3.0 * teacher(x), axis=-1)

    def loss(model, xy):
        x, y = xy
        return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

    return model, batch, loss


# %% [markdown]
# ## One task: three compiles, two passes
# The factor-table variants share one compiled function, vmapped over a chunk
# of (learning rate, table row, seed) configurations; `optax.radam` and
# GI-Adam have their own optimizer states, so each gets one more. Every call
# has the same chunk size, so the coarse and the fine pass reuse the compiles.


# %%
def sweep(task, check_public_api=False):
    make_model, batch, loss = task()
    graphdef = nnx.split(make_model(0))[0]
    params = stack([nnx.split(make_model(s))[1] for s in range(SEEDS)])
    train_keys = jax.vmap(lambda s: jax.random.split(jax.random.key(s), STEPS))(
        jnp.arange(1000, 1000 + SEEDS)
    )
    held_out = jax.vmap(batch)(jax.random.split(jax.random.key(2), 8))

    def loss_fn(p, xy):
        return loss(nnx.merge(graphdef, p), xy)

    def evaluate(p):
        return jnp.mean(jax.vmap(lambda xy: loss_fn(p, xy))(held_out))

    def train(opt, seed):
        p0 = jax.tree.map(lambda a: a[seed], params)

        def step(carry, key):
            p, state = carry
            value, grads = jax.value_and_grad(loss_fn)(p, batch(key))
            updates, state = opt.update(grads, state, p)
            return (optax.apply_updates(p, updates), state), value

        (p, _), curve = jax.lax.scan(step, (p0, opt.init(p0)), train_keys[seed])
        return evaluate(p), curve

    def with_factor(lr, row, seed):
        factor = lambda count: TABLE[row, jnp.minimum(count, STEPS - 1)]  # noqa: E731
        return train(ow.with_warmup(optax.adam(lr, b2=B2), factor), seed)

    families = {
        "factor": with_factor,
        "radam": lambda lr, row, seed: train(optax.radam(lr, b2=B2), seed),
        "gi_adam": lambda lr, row, seed: train(ow.gi_adam(lr, b2=B2), seed),
    }
    # A family's fine pass is one call: three rates per seed for each of its table rows.
    rows_of = {k: sum(len(r) for f, r in METHODS.values() if f == k) for k in families}
    chunk = {k: rows_of[k] * SEEDS * 3 for k in families}
    compiled = {k: jax.jit(jax.vmap(f)) for k, f in families.items()}
    timing = {k: 0.0 for k in families}
    runs = {"count": 0}

    def run_configs(family, lr, row, seed):
        """Final held-out loss and training curve of each configuration, chunk by chunk."""
        n = lr.size
        size = chunk[family]
        pad = -n % size
        args = [np.concatenate([a, np.repeat(a[:1], pad)]) for a in (lr, row, seed)]
        finals, curves = [], []
        start = time.perf_counter()
        for i in range(0, n + pad, size):
            f, c = compiled[family](
                jnp.asarray(args[0][i : i + size], jnp.float32),
                jnp.asarray(args[1][i : i + size], jnp.int32),
                jnp.asarray(args[2][i : i + size], jnp.int32),
            )
            finals.append(np.asarray(f))
            curves.append(np.asarray(c))
        timing[family] += time.perf_counter() - start
        runs["count"] += n
        return np.concatenate(finals)[:n], np.concatenate(curves)[:n]

    init = float(evaluate(jax.tree.map(lambda a: a[0], params)))
    losses = {}

    def final_losses(lrs):
        """Final held-out loss per (method, seed, lr) for lrs of shape (methods, seeds, L); a
        method with several rows (the tuned warmup) gets the best row at each rate. One call
        per optimizer family."""
        seed = np.broadcast_to(np.arange(SEEDS)[:, None], lrs.shape[1:]).ravel()
        out = np.full(lrs.shape, np.inf)
        for family in families:
            parts = [
                (m, row)
                for m, (fam, rows) in enumerate(METHODS.values())
                if fam == family
                for row in rows
            ]
            lr = np.concatenate([lrs[m].ravel() for m, _ in parts])
            rows = np.concatenate([np.full(seed.size, row) for _, row in parts])
            final, _ = run_configs(family, lr, rows, np.tile(seed, len(parts)))
            final = np.where(np.isfinite(final), final, np.inf).reshape(len(parts), *lrs.shape[1:])
            for (m, _), f in zip(parts, final, strict=True):
                out[m] = np.minimum(out[m], f)
        losses.setdefault("passes", []).append((lrs, out))
        return out

    result = bracket(lambda lrs: final_losses(lrs) < 0.5 * init, COARSE, (len(METHODS), SEEDS))
    result["coarse_loss"] = losses["passes"][0][1]
    result["init"] = init
    result["timing"] = timing
    result["runs"] = runs["count"]
    if check_public_api:  # the tabulated factor is the library's: one run through the public API
        lr = float(COARSE[1])
        direct = ow.with_warmup(optax.adam(lr, b2=B2), ow.untuned_linear_warmup(B2))
        check = float(jax.jit(lambda: train(direct, 0)[0])())
        tabulated = float(run_configs("factor", np.array([lr]), np.array([1]), np.array([0]))[0][0])
        print(f"with_warmup(adam, untuned_linear_warmup): {check:.6f}, tabulated: {tabulated:.6f}")
    return result


def report(title, r):
    print(f"{title}: initial held-out loss {r['init']:.3f}; {r['runs']} runs in", end=" ")
    print(", ".join(f"{k} {v:.1f} s" for k, v in r["timing"].items()))
    print(f"  largest stable lr per seed (resolution x{r['resolution']:.3f}):")
    for m, name in enumerate(NAMES):
        flags = []
        if r["below"][m].any():
            flags.append(f"{int(r['below'][m].sum())} seed(s): no rate trained")
        if r["censored"][m].any():
            flags.append(f"{int(r['censored'][m].sum())} seed(s) never failed (censored)")
        values = " ".join(f"{x:7.4g}" for x in r["max_lr"][m])
        print(f"  {name:>28}: {values}" + (f"  [{'; '.join(flags)}]" if flags else ""))


tf = sweep(transformer_task)
report("Transformer", tf)

# %%
mlp = sweep(mlp_task, check_public_api=True)
report("MLP", mlp)

# %% [markdown]
# ## The claims, decided per task


# %%
def ratio(r, a, b):
    """Per seed: largest stable lr of variant ``a`` over that of ``b`` (NaN if either is)."""
    return r["max_lr"][NAMES.index(a)] / r["max_lr"][NAMES.index(b)]


def decided(title, r):
    res, kb, my = r["resolution"], "Kalra & Barkeshli 2024", "Ma & Yarats 2019"
    spec = [
        ("GI-Adam without warmup tolerates >= 2x plain Adam's lr", kb, "gi_adam", "adam", 2),
        ("a tuned linear warmup tolerates >= 2x plain Adam's lr", kb,
         "adam + tuned linear warmup", "adam", 2),
        ("optax.radam without warmup fails about where plain Adam fails", kb, "optax.radam",
         "adam", None),
        ("the untuned linear warmup tolerates about the tuned warmup's lr", my,
         "adam + untuned linear", "adam + tuned linear warmup", None),
    ]  # fmt: skip
    out = []
    for text, source, a, b, at_least in spec:
        low, high = (at_least, np.inf) if at_least else (2**-0.5, 2**0.5)
        c = _results.claim(
            f"{title}: {text}",
            source,
            f"max stable lr ratio {a} / {b}",
            ratio(r, a, b),
            low,
            high,
            log=True,
            resolution=res,
        )
        out.append(c)
    return out


CLAIMS = decided("Transformer", tf) + decided("MLP", mlp)
for c in CLAIMS:
    print(_results.describe(c))
_results.write(FIGURES, "04_adam_without_tuning", SCALE, device_name(), CLAIMS)

# %%
fig, axes = plt.subplots(2, 2, figsize=(15, 9.5))
ax = axes[0, 0]
for name in ROWS[1:4]:
    ax.plot(np.asarray(TABLE[ROWS.index(name)]), label=name.replace("adam + ", ""))
t = np.arange(1, STEPS + 1)
ax.plot(np.sqrt(1 - B2**t), "k--", lw=1, label="GI-Adam implicit sqrt(1-b2^t)")
ax.set_title(f"warmup factors at b2={B2}")
ax.set_xlabel("step")
ax.legend(fontsize=8)

ax = axes[0, 1]
for k, (title, r, marker) in enumerate([("Transformer", tf, "o"), ("MLP", mlp, "s")]):
    for m in range(len(NAMES)):
        mean, lo, hi, _ = _results.t_interval(r["max_lr"][m], log=True)
        y = m + 0.15 * (2 * k - 1)
        err = [[mean - lo], [hi - mean]] if np.isfinite(lo) else None
        ax.errorbar(mean, y, xerr=err, fmt=marker, color=f"C{k}", label=title if m == 0 else None)
        ax.plot(r["max_lr"][m], np.full(SEEDS, y), "|", color=f"C{k}", ms=8)
ax.set_xscale("log")
ax.set_yticks(range(len(NAMES)), NAMES, fontsize=8)
ax.set_xlabel("largest stable learning rate")
ax.set_title(f"geometric mean, 95% t interval, seeds as ticks ({SEEDS} seeds)")
ax.legend(fontsize=8)

for ax, (title, r) in zip(axes[1], [("Transformer (post-LN)", tf), ("MLP", mlp)], strict=True):
    loss = r["coarse_loss"]  # (methods, seeds, L), inf where diverged
    for m, name in enumerate(NAMES):
        med = np.median(np.where(np.isfinite(loss[m]), loss[m], np.nan), axis=0)
        diverged = (~np.isfinite(loss[m])).sum(0)
        style = "k-" if name == "adam" else "-"
        ax.loglog(COARSE, med, style, marker="o", ms=3, label=name)
        bad = diverged > 0
        ax.plot(COARSE[bad], np.full(bad.sum(), 2 * r["init"]), "x", color=ax.lines[-1].get_color())
    ax.axhline(0.5 * r["init"], color="grey", lw=0.8, ls="--", label="half the initial loss")
    ax.set_xlabel("peak learning rate (coarse grid)")
    ax.set_ylabel(f"final held-out loss, median of {SEEDS} seeds")
    n_div = int((~np.isfinite(loss)).sum())
    ax.set_title(f"{title}: {n_div} of {loss.size} coarse runs diverged (x: at that lr)")
    ax.legend(fontsize=7)
verdicts = ", ".join(f"{v} {sum(c['verdict'] == v for c in CLAIMS)}" for v in _results.VERDICTS)
fig.suptitle(
    f"Adam variants: largest stable lr over {SEEDS} seeds ({SCALE} scale, {STEPS} steps, "
    f"b2={B2}); claims: {verdicts}"
)
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "04_adam_without_tuning.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
print("What we saw:")
for title, r in [("Transformer", tf), ("MLP", mlp)]:
    means = {n: _results.t_interval(r["max_lr"][m], log=True)[0] for m, n in enumerate(NAMES)}
    order = sorted(means, key=lambda n: -means[n] if np.isfinite(means[n]) else np.inf)
    censored = [n for m, n in enumerate(NAMES) if r["censored"][m].any()]
    below = [n for m, n in enumerate(NAMES) if r["below"][m].any()]
    print(
        f"- {title}: largest stable lr, geometric mean over {SEEDS} seeds: "
        + ", ".join(f"{n} {means[n]:.3g}" for n in order)
        + f" (resolution x{r['resolution']:.3f}); grid did not bracket: "
        + (", ".join(censored) if censored else "none")
        + "; no rate trained in some seed: "
        + (", ".join(below) if below else "none")
        + "."
    )
for c in CLAIMS:
    print(f"- {_results.describe(c)}")
