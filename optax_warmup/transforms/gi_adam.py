"""GI-Adam: Adam with its second moment initialised from the first gradient.

Kalra & Barkeshli (2024) set ``v_0 = g_0**2`` instead of ``v_0 = 0`` and keep
Adam's bias correction. The first update's ``v_hat`` is then
``g_0**2 / (1 - b2)`` rather than ``g_0**2``, so early updates are scaled by
about ``sqrt(1 - b2**t)``: a warmup built into the optimizer.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax.typing import ArrayLike


def _square(g: jax.Array) -> jax.Array:
    return jnp.real(g * jnp.conj(g))


def scale_by_gi_adam(
    b1: ArrayLike = 0.9,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
    eps_root: ArrayLike = 0.0,
    mu_dtype: Any | None = None,
    *,
    nesterov: bool = False,
) -> optax.GradientTransformation:
    """Rescale updates by GI-Adam: Adam with ``v_0 = g_0**2`` (Kalra & Barkeshli 2024).

    At the first update (``count == 0``) the second moment is set to the
    gradient's square, then Adam proceeds unchanged:
    ``m_t = b1 m_(t-1) + (1 - b1) g_t``, ``v_t = b2 v_(t-1) + (1 - b2) g_t**2``,
    ``u_t = (m_t / (1 - b1**t)) / (sqrt(v_t / (1 - b2**t) + eps_root) + eps)``.
    The choice is a ``jnp.where`` on the count (no Python branch), and the
    state is an ``optax.ScaleByAdamState``, so it checkpoints and inspects like
    Adam's. Arguments are those of ``optax.scale_by_adam``.

    Args:
      b1: first-moment decay.
      b2: second-moment decay.
      eps: term added to the denominator outside the square root.
      eps_root: term added inside the square root.
      mu_dtype: dtype of the first moment (``None``: that of the params).
      nesterov: use Nesterov momentum, as ``optax.scale_by_adam``.

    Returns:
      An ``optax.GradientTransformation``.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.scale_by_gi_adam()
      >>> state = tx.init(jnp.zeros(1))
      >>> u, state = tx.update(jnp.array([2.0]), state)
      >>> float(state.nu[0]), round(float(u[0]), 4)  # sqrt(1 - b2) = 0.0316
      (4.0, 0.0316)

    References:
      Kalra & Barkeshli, Why warmup the learning rate? Underlying mechanisms
      and improvements, NeurIPS 2024 (arXiv:2406.09405).
    """
    adam = optax.scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov)

    def update_fn(
        updates: optax.Updates, state: optax.ScaleByAdamState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, optax.OptState]:
        first = state.count == 0

        def init_nu(g: Any, nu: Any) -> Any:
            if g is None:
                return nu
            return jnp.where(first, _square(g).astype(nu.dtype), nu)

        nu = jax.tree.map(init_nu, updates, state.nu, is_leaf=lambda x: x is None)
        return adam.update(updates, state._replace(nu=nu), params)

    return optax.GradientTransformation(adam.init, update_fn)  # type: ignore[arg-type]


def gi_adam(
    learning_rate: optax.ScalarOrSchedule,
    b1: ArrayLike = 0.9,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
    eps_root: ArrayLike = 0.0,
    mu_dtype: Any | None = None,
    *,
    nesterov: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """GI-Adam, a drop-in for ``optax.adam`` with ``v_0 = g_0**2`` (Kalra & Barkeshli 2024).

    ``chain(scale_by_gi_adam(...), scale_by_learning_rate(learning_rate))``:
    the same state layout as ``optax.adam``. In the paper, GI-Adam without
    warmup tolerated about the learning rate that Adam needed a 1024-step
    warmup for.

    Args:
      learning_rate: a number or a schedule.
      b1, b2, eps, eps_root, mu_dtype, nesterov: as :func:`scale_by_gi_adam`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> tx = ow.gi_adam(1e-3)
      >>> params = jnp.ones(2)
      >>> u, _ = tx.update(jnp.array([1.0, -3.0]), tx.init(params), params)
      >>> [round(float(x), 7) for x in u]  # -lr * sqrt(1 - b2) * sign(g)
      [-3.16e-05, 3.16e-05]

    References:
      Kalra & Barkeshli, Why warmup the learning rate? Underlying mechanisms
      and improvements, NeurIPS 2024 (arXiv:2406.09405).
    """
    return optax.chain(
        scale_by_gi_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        optax.scale_by_learning_rate(learning_rate),
    )


def gi_adamw(
    learning_rate: optax.ScalarOrSchedule,
    b1: ArrayLike = 0.9,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
    eps_root: ArrayLike = 0.0,
    mu_dtype: Any | None = None,
    weight_decay: optax.ScalarOrSchedule = 1e-4,
    mask: Any | None = None,
    *,
    nesterov: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """GI-AdamW, a drop-in for ``optax.adamw`` with ``v_0 = g_0**2``.

    ``chain(scale_by_gi_adam(...), add_decayed_weights(weight_decay, mask),
    scale_by_learning_rate(learning_rate))``: the update is
    ``-lr (u_t + weight_decay * params)``, as in ``optax.adamw``.

    Args:
      learning_rate: a number or a schedule.
      b1, b2, eps, eps_root, mu_dtype, nesterov: as :func:`scale_by_gi_adam`.
      weight_decay: the decoupled weight decay coefficient (number or schedule).
      mask: which parameters decay (a pytree of bools or a function of the params).

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> tx = ow.gi_adamw(0.1, weight_decay=0.5)
      >>> params = jnp.ones(1)
      >>> u, _ = tx.update(jnp.array([0.0]), tx.init(params), params)
      >>> round(float(u[0]), 6)  # -lr * weight_decay * params: no gradient, only decay
      -0.05

    References:
      Kalra & Barkeshli, Why warmup the learning rate? Underlying mechanisms
      and improvements, NeurIPS 2024 (arXiv:2406.09405).
    """
    return optax.chain(
        scale_by_gi_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
        optax.add_decayed_weights(weight_decay, mask),
        optax.scale_by_learning_rate(learning_rate),
    )
