"""Exact equivalents of other libraries' learning-rate schedules, as optax schedules.

One module per peer: :mod:`~optax_warmup.compat.transformers` (Hugging Face),
:mod:`~optax_warmup.compat.timm`, :mod:`~optax_warmup.compat.torch`
(``torch.optim.lr_scheduler``), :mod:`~optax_warmup.compat.pytorch_warmup` and
:mod:`~optax_warmup.compat.keras`; the JAX training stacks' configs:
:mod:`~optax_warmup.compat.maxtext`, :mod:`~optax_warmup.compat.levanter`,
:mod:`~optax_warmup.compat.big_vision` (the stack's own field names; shared
helpers in :mod:`~optax_warmup.compat.stack_config`),
:mod:`~optax_warmup.compat.t5x` (factor strings) and
:mod:`~optax_warmup.compat.composer` (time strings). Each function takes the peer's own
arguments plus the base learning rate and returns a schedule whose value at
count ``k`` is the learning rate the peer applies on its ``(k+1)``-th update.
:mod:`~optax_warmup.compat.optax` holds the 13 drop-ins for optax's own
schedules (optax's signatures and conventions; also re-exported at the top
level). The peers themselves are never imported.

Example:
  >>> from optax_warmup.compat import transformers as hf
  >>> s = hf.get_linear_schedule_with_warmup(1e-3, num_warmup_steps=2, num_training_steps=4)
  >>> [float(s(k)) for k in range(5)]
  [0.0, 0.0005, 0.001, 0.0005, 0.0]
"""

from optax_warmup.compat import (
    big_vision,
    composer,
    keras,
    levanter,
    maxtext,
    optax,
    pytorch_warmup,
    t5x,
    timm,
    torch,
    transformers,
)

__all__ = [
    "big_vision",
    "composer",
    "keras",
    "levanter",
    "maxtext",
    "optax",
    "pytorch_warmup",
    "t5x",
    "timm",
    "torch",
    "transformers",
]
