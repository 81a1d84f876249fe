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
# # 06 · Warmup on real text: a character-level Transformer
#
# The other notebooks use synthetic tasks. Here the data is real text that
# nobody here wrote: the English help topics that ship with CPython itself
# (`pydoc_data.topics`, the text `help("assert")` prints; about 0.46 M
# characters in 79 topics). Nothing is downloaded.
#
# A small GPT-style (pre-LayerNorm, causal) Transformer learns to predict the
# next character, trained by AdamW under `ow.warmup_decay_schedule` (a linear
# warmup of `W` steps, then a cosine decay to 0). Every topic whose index is
# 9 mod 10 is held out, so the held-out loss is measured on topics the model
# never saw. All runs (seeds x warmup lengths x peak learning rates) are one
# function of traced hyperparameters, vmapped and compiled once.
#
# **The claims checked.** Warmup is needed to train Transformers with Adam at
# large learning rates (Vaswani et al. 2017; Liu et al. 2020, "On the Variance
# of the Adaptive Learning Rate and Beyond"), and its benefit grows with the
# target learning rate (Kalra & Barkeshli 2024). Each is decided from per-seed
# held-out losses with the rule in `notebooks/_results.py`. A run that
# diverges (non-finite loss) is counted, shown, and scored the loss of a
# uniform prediction, `log(vocabulary size)`.

# %%
import pydoc_data.topics
import time

import _results
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _common import device_name, stack
from flax import nnx

import optax_warmup as ow

CONFIGS = {
    "ci": dict(
        steps=200, seeds=3, batch=16, context=32, width=32, heads=2, layers=1,
        peaks=(3e-3, 3e-2), warmups=(0, 20, 50), evals=5, eval_batches=4,
    ),
    "full": dict(
        steps=3000, seeds=5, batch=32, context=128, width=128, heads=4, layers=4,
        peaks=(1e-3, 1e-2), warmups=(0, 30, 150, 300, 750), evals=20, eval_batches=32,
    ),
}  # fmt: skip
C = CONFIGS[SCALE]
STEPS, SEEDS, PEAKS, WARMUPS = C["steps"], C["seeds"], C["peaks"], C["warmups"]
MAIN_W = STEPS // 10 if STEPS // 10 in WARMUPS else max(WARMUPS)  # the warmup the claims use
print(f"{STEPS} steps, {SEEDS} seeds, peaks {PEAKS}, warmups {WARMUPS} (claims use W={MAIN_W})")

# %% [markdown]
# ## The data

# %%
topics = pydoc_data.topics.topics
names = sorted(topics)
held = [n for i, n in enumerate(names) if i % 10 == 9]
train_text = "\n".join(topics[n] for n in names if n not in held)
test_text = "\n".join(topics[n] for n in held)
alphabet = sorted({c for c in train_text if c == "\n" or " " <= c <= "~"})
VOCAB = len(alphabet) + 1  # the last id stands for any other character
lookup = np.full(0x110000, VOCAB - 1, np.int32)
lookup[[ord(c) for c in alphabet]] = np.arange(len(alphabet))


def encode(text):
    return jnp.asarray(lookup[np.frombuffer(text.encode("utf-32-le"), np.uint32)])


TRAIN, TEST = encode(train_text), encode(test_text)
print(f"{len(names)} topics, {len(held)} held out ({', '.join(held[:4])}, ...)")
print(f"train {TRAIN.size} characters, held-out {TEST.size}, vocabulary {VOCAB}")
print(f"uniform prediction: {np.log(VOCAB):.3f} nats per character")

# %% [markdown]
# ## The model


# %%
class Block(nnx.Module):
    """Pre-LayerNorm Transformer block (GPT-2 layout)."""

    def __init__(self, width, heads, rngs):
        self.ln1 = nnx.LayerNorm(width, rngs=rngs)
        self.attn = nnx.MultiHeadAttention(heads, width, decode=False, rngs=rngs)
        self.ln2 = nnx.LayerNorm(width, rngs=rngs)
        self.fc1 = nnx.Linear(width, 4 * width, rngs=rngs)
        self.fc2 = nnx.Linear(4 * width, width, rngs=rngs)

    def __call__(self, x, mask):
        x = x + self.attn(self.ln1(x), mask=mask)
        return x + self.fc2(nnx.gelu(self.fc1(self.ln2(x))))


class CharLM(nnx.Module):
    def __init__(self, rngs):
        self.embed = nnx.Embed(VOCAB, C["width"], rngs=rngs)
        self.pos = nnx.Param(0.02 * jax.random.normal(rngs.params(), (C["context"], C["width"])))
        self.blocks = nnx.List([Block(C["width"], C["heads"], rngs) for _ in range(C["layers"])])
        self.ln = nnx.LayerNorm(C["width"], rngs=rngs)
        self.unembed = nnx.Linear(C["width"], VOCAB, rngs=rngs)

    def __call__(self, tokens):
        h = self.embed(tokens) + self.pos[...]
        mask = nnx.make_causal_mask(tokens)
        for block in self.blocks:
            h = block(h, mask)
        return self.unembed(self.ln(h))


graphdef = nnx.split(CharLM(nnx.Rngs(0)))[0]
PARAMS = stack([nnx.split(CharLM(nnx.Rngs(s)))[1] for s in range(SEEDS)])
n_params = sum(x.size for x in jax.tree.leaves(PARAMS)) // SEEDS
print(f"{n_params} parameters per model")


def windows(data, key, n):
    """``n`` random windows of ``context + 1`` characters: inputs and next-character targets."""
    starts = jax.random.randint(key, (n,), 0, data.size - C["context"] - 1)
    idx = starts[:, None] + jnp.arange(C["context"] + 1)
    seq = data[idx]
    return seq[:, :-1], seq[:, 1:]


def loss_fn(params, xy):
    x, y = xy
    logits = nnx.merge(graphdef, params)(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


HELD_OUT = windows(TEST, jax.random.key(7), C["eval_batches"] * C["batch"])


def held_out_loss(params):
    x, y = (a.reshape(C["eval_batches"], C["batch"], -1) for a in HELD_OUT)
    return jnp.mean(jax.lax.map(lambda xy: loss_fn(params, xy), (x, y)))


# %% [markdown]
# ## All runs in one compile
# `train(seed, peak, warmup)`: the seed picks the initialisation and the
# batches; the schedule is built from the traced `peak` and `warmup`. The
# held-out loss is measured `evals` times during the run.


# %%
def train(seed, peak, warmup):
    schedule = ow.warmup_decay_schedule(peak, warmup, STEPS, init_value=0.0)
    opt = optax.adamw(schedule, b1=0.9, b2=0.99, weight_decay=0.01)
    params = jax.tree.map(lambda a: a[seed], PARAMS)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(100), seed), STEPS)
    keys = keys.reshape(C["evals"], STEPS // C["evals"])

    def step(carry, key):
        p, state = carry
        value, grads = jax.value_and_grad(loss_fn)(p, windows(TRAIN, key, C["batch"]))
        updates, state = opt.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), value

    def chunk(carry, keys):
        carry, train_losses = jax.lax.scan(step, carry, keys)
        return carry, (held_out_loss(carry[0]), train_losses)

    _, (held, curve) = jax.lax.scan(chunk, (params, opt.init(params)), keys)
    return held, curve.reshape(-1)


grid = np.stack(
    np.meshgrid(np.arange(SEEDS), np.arange(len(PEAKS)), np.arange(len(WARMUPS)), indexing="ij"),
    -1,
).reshape(-1, 3)
args = (
    jnp.asarray(grid[:, 0], jnp.int32),
    jnp.asarray(np.asarray(PEAKS)[grid[:, 1]], jnp.float32),
    jnp.asarray(np.asarray(WARMUPS)[grid[:, 2]], jnp.int32),
)
start = time.perf_counter()
compiled = jax.jit(jax.vmap(train)).lower(*args).compile()
t_compile = time.perf_counter() - start
start = time.perf_counter()
held, curves = jax.block_until_ready(compiled(*args))
t_run = time.perf_counter() - start
shape = (SEEDS, len(PEAKS), len(WARMUPS))
held = np.asarray(held).reshape(*shape, -1)  # (seed, peak, warmup, eval)
curves = np.asarray(curves).reshape(*shape, -1)
print(f"{grid.shape[0]} runs: compile {t_compile:.1f} s, run {t_run:.1f} s, one compile")
init_loss = float(held_out_loss(jax.tree.map(lambda a: a[0], PARAMS)))
diverged = ~np.isfinite(held[..., -1])
final = np.where(diverged, np.log(VOCAB), held[..., -1])
print(f"initial held-out loss {init_loss:.3f}; diverged runs: {int(diverged.sum())}")
for p, peak in enumerate(PEAKS):
    print(f"peak {peak:g}: final held-out loss per seed (rows) and warmup (columns {WARMUPS})")
    for s in range(SEEDS):
        print("   " + " ".join(f"{x:7.4f}" for x in final[s, p]))

# %% [markdown]
# ## The claims

# %%
w0, wm = WARMUPS.index(0), WARMUPS.index(MAIN_W)
gain = final[:, :, w0] - final[:, :, wm]  # (seed, peak): held-out loss saved by warmup
CLAIMS = [
    _results.claim(
        f"char LM, peak lr {PEAKS[-1]:g}: warmup (W={MAIN_W}) lowers the held-out loss "
        "vs no warmup",
        "Vaswani et al. 2017; Liu et al. 2020",
        f"held-out loss(W=0) - loss(W={MAIN_W}), nats",
        gain[:, -1],
        0.0,
        np.inf,
    ),
    _results.claim(
        f"char LM: warmup's gain is larger at peak {PEAKS[-1]:g} than at {PEAKS[0]:g}",
        "Kalra & Barkeshli 2024",
        "gain(high peak) - gain(low peak), nats",
        gain[:, -1] - gain[:, 0],
        0.0,
        np.inf,
    ),
]
for c in CLAIMS:
    print(_results.describe(c))
_results.write(FIGURES, "06_char_lm_warmup", SCALE, device_name(), CLAIMS)

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
eval_steps = (np.arange(C["evals"]) + 1) * (STEPS // C["evals"])
for ax, p in zip(axes[:2], range(len(PEAKS)), strict=True):
    for j, w in enumerate(WARMUPS):
        runs = held[:, p, j]
        mean = np.nanmean(np.where(np.isfinite(runs), runs, np.nan), axis=0)
        ax.plot(eval_steps, mean, "o-", ms=3, color=f"C{j}", label=f"W={w}")
        ax.fill_between(
            eval_steps, np.nanmin(runs, 0), np.nanmax(runs, 0), color=f"C{j}", alpha=0.15
        )
        n_div = int(diverged[:, p, j].sum())
        if n_div:
            ax.plot([], [], "x", color=f"C{j}", label=f"W={w}: {n_div} diverged")
    ax.axhline(np.log(VOCAB), color="grey", ls=":", lw=1, label="uniform prediction")
    ax.set_xlabel("step")
    ax.set_ylabel("held-out loss (nats/char)")
    ax.set_title(f"peak lr {PEAKS[p]:g}: mean of {SEEDS} seeds, band = min..max")
    ax.legend(fontsize=7)
ax = axes[2]
for p, peak in enumerate(PEAKS):
    means = [_results.t_interval(final[:, p, j]) for j in range(len(WARMUPS))]
    m = np.array([x[0] for x in means])
    err = np.array([[x[0] - x[1], x[2] - x[0]] for x in means]).T
    ax.errorbar(np.arange(len(WARMUPS)) + 0.05 * p, m, yerr=err, fmt="o-", label=f"peak {peak:g}")
ax.set_xticks(range(len(WARMUPS)), [str(w) for w in WARMUPS])
ax.set_xlabel("warmup steps W")
ax.set_ylabel("final held-out loss, mean and 95% t interval")
ax.set_title("final held-out loss vs warmup length")
ax.legend(fontsize=8)
verdicts = "; ".join(f"{c['verdict']}" for c in CLAIMS)
fig.suptitle(
    f"Char-level Transformer on CPython's pydoc topics ({SCALE} scale, {STEPS} steps, "
    f"{SEEDS} seeds, {grid.shape[0]} runs in one compile); claims: {verdicts}"
)
fig.tight_layout()
FIGURES.mkdir(parents=True, exist_ok=True)
fig.savefig(FIGURES / "06_char_lm_warmup.png", dpi=80)
plt.show()

# %% [markdown]
# ## What we saw

# %%
print("What we saw:")
print(
    f"- {grid.shape[0]} runs ({SEEDS} seeds x {len(PEAKS)} peaks x {len(WARMUPS)} warmups) of "
    f"{STEPS} steps in one compile: {t_compile:.1f} s compile, {t_run:.1f} s run on "
    f"{device_name()}; {int(diverged.sum())} diverged."
)
for p, peak in enumerate(PEAKS):
    best = int(np.argmin(final[:, p].mean(0)))
    print(
        f"- Peak {peak:g}: mean final held-out loss by warmup "
        + ", ".join(f"W={w}: {final[:, p, j].mean():.3f}" for j, w in enumerate(WARMUPS))
        + f" (lowest at W={WARMUPS[best]}; uniform {np.log(VOCAB):.3f})."
    )
for c in CLAIMS:
    print(f"- {_results.describe(c)}")
