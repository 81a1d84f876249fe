"""Sharpness at initialisation, and the warmup start it suggests.

Sharpness is the top eigenvalue of the loss Hessian ``H`` (for Adam, of the
preconditioned Hessian ``P^-1 H`` with ``P = diag(sqrt(v_hat) + eps)``).
Gradient descent is stable while ``lr < 2 / sharpness``; Kalra & Barkeshli
(2024, "Why Warmup the Learning Rate? Underlying Mechanisms and
Improvements") start warmup near that critical learning rate instead of at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from optax_warmup.engine import validation as v

LossFn = Callable[[Any, Any], ArrayLike]


def _power_iteration(
    matvec: Callable[[jax.Array], jax.Array], dim: int, key: jax.Array, num_iterations: int
) -> jax.Array:
    """Rayleigh quotient of the largest-magnitude eigenvector of a symmetric operator."""
    w0 = jax.random.normal(key, (dim,), jnp.float32)
    w0 = w0 / jnp.linalg.norm(w0)

    def step(_: int, w: jax.Array) -> jax.Array:
        hw = matvec(w)
        norm = jnp.linalg.norm(hw)
        return jnp.where(norm > 0, hw / jnp.where(norm > 0, norm, 1.0), w)

    w = jax.lax.fori_loop(0, num_iterations, step, w0)
    return jnp.vdot(w, matvec(w))


def estimate_sharpness(
    loss_fn: LossFn,
    params: Any,
    batch: Any,
    *,
    num_iterations: int = 20,
    key: jax.Array | None = None,
    preconditioner: Any = None,
) -> jax.Array:
    """The top Hessian eigenvalue of ``loss_fn(params, batch)`` by power iteration.

    Each iteration is one Hessian-vector product, ``jax.jvp`` of ``jax.grad``
    (forward-over-reverse, no Hessian is formed); the loop is a
    ``lax.fori_loop`` of ``num_iterations`` steps from a random start vector,
    and the estimate is the Rayleigh quotient ``w^T H w`` of the final unit
    vector. With a diagonal ``preconditioner`` ``P`` it is the top eigenvalue
    of ``P^-1 H``, computed on the symmetric ``P^-1/2 H P^-1/2`` (same
    eigenvalues). Power iteration finds the eigenvalue of largest magnitude:
    a strongly negative curvature direction would be returned as a negative
    value. Convergence is geometric in the ratio of the two largest magnitudes.

    Args:
      loss_fn: ``loss_fn(params, batch) -> scalar``.
      params: the parameters (any pytree of float arrays).
      batch: the data passed to ``loss_fn``.
      num_iterations: power-iteration steps (>= 1); jit-compatible.
      key: PRNG key for the start vector (default ``jax.random.key(0)``).
      preconditioner: optional pytree like ``params`` of positive diagonal
        entries ``P`` (see :func:`adam_preconditioner`).

    Returns:
      The estimate, a float32 scalar.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> loss = lambda p, b: 0.5 * jnp.sum(b * p**2)  # Hessian diag(b)
      >>> round(float(ow.estimate_sharpness(loss, jnp.zeros(3), jnp.array([1.0, 3.0, 10.0]))), 4)
      10.0
    """
    n = v.check_int_arg("num_iterations", num_iterations, low=1)
    if key is None:
        key = jax.random.key(0)
    flat, unravel = ravel_pytree(params)
    dim = flat.shape[0]
    if dim == 0:
        raise ValueError("params must hold at least one parameter, got none.")

    def grad_fn(p: Any) -> Any:
        return jax.grad(lambda q: loss_fn(q, batch))(p)

    def hvp(w: jax.Array) -> jax.Array:
        tangent = unravel(w.astype(flat.dtype))
        out = jax.jvp(grad_fn, (params,), (tangent,))[1]
        return ravel_pytree(out)[0].astype(jnp.float32)

    if preconditioner is None:
        matvec = hvp
    else:
        p_flat, _ = ravel_pytree(preconditioner)
        if p_flat.shape != flat.shape:
            raise ValueError(
                f"preconditioner must be shaped like params ({dim} entries), got {p_flat.shape[0]}."
            )
        v.check_range("preconditioner", p_flat, low=0.0, low_open=True)
        d = jax.lax.rsqrt(jnp.maximum(p_flat.astype(jnp.float32), jnp.finfo(jnp.float32).tiny))

        def matvec(w: jax.Array) -> jax.Array:
            return d * hvp(d * w)

    return _power_iteration(matvec, dim, key, n)


def _adam_states(opt_state: Any) -> list[Any]:
    def is_adam(x: Any) -> bool:
        return hasattr(x, "nu") and hasattr(x, "count") and not isinstance(x, type)

    leaves = jax.tree_util.tree_leaves(opt_state, is_leaf=is_adam)
    return [x for x in leaves if is_adam(x)]


def adam_preconditioner(
    opt_state: Any = None,
    *,
    v_hat: Any = None,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
) -> Any:
    """Adam's diagonal preconditioner ``P = sqrt(v_hat) + eps``, from a state or from ``v_hat``.

    From an optimizer state the second moment ``nu`` and ``count`` of its one
    Adam-like state (a state with ``nu`` and ``count`` fields, such as
    ``optax.ScaleByAdamState``) are bias-corrected: ``v_hat = nu / (1 - b2**count)``
    (``v_hat = 0`` before the first update).

    Args:
      opt_state: an optimizer state holding exactly one Adam-like state.
      v_hat: the bias-corrected second moment, shaped like the params
        (instead of ``opt_state``).
      b2: Adam's ``b2``, in (0, 1), for the bias correction.
      eps: Adam's ``eps`` (> 0), added outside the square root.

    Returns:
      ``P`` as a pytree shaped like the params.

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> ow.adam_preconditioner(v_hat=jnp.array([4.0, 9.0]), eps=0.5).tolist()
      [2.5, 3.5]
    """
    if (opt_state is None) == (v_hat is None):
        raise ValueError("pass exactly one of opt_state and v_hat.")
    v.check_range("b2", b2, low=0.0, high=1.0, low_open=True, high_open=True)
    v.check_range("eps", eps, low=0.0, low_open=True)
    if v_hat is None:
        states = _adam_states(opt_state)
        if len(states) != 1:
            raise ValueError(
                f"opt_state must hold exactly one Adam-like state (with nu and count), "
                f"found {len(states)}; pass v_hat instead."
            )
        nu, count = states[0].nu, states[0].count
        t = jnp.asarray(count, jnp.float32)
        correction = -jnp.expm1(t * jnp.log(jnp.asarray(b2, jnp.float32)))
        safe = jnp.where(t > 0, correction, 1.0)
        v_hat = jax.tree_util.tree_map(lambda n: n / safe, nu)
    return jax.tree_util.tree_map(lambda x: jnp.sqrt(jnp.maximum(x, 0)) + eps, v_hat)


def estimate_preconditioned_sharpness(
    loss_fn: LossFn,
    params: Any,
    batch: Any,
    opt_state: Any = None,
    *,
    v_hat: Any = None,
    b2: ArrayLike = 0.999,
    eps: ArrayLike = 1e-8,
    num_iterations: int = 20,
    key: jax.Array | None = None,
) -> jax.Array:
    """The top eigenvalue of Adam's preconditioned Hessian ``P^-1 H``.

    ``P = diag(sqrt(v_hat) + eps)`` from an Adam state or a given ``v_hat``
    (see :func:`adam_preconditioner`); the eigenvalue is found by
    :func:`estimate_sharpness`. Adam is stable while
    ``lr < (2 + 2 b1) / ((1 - b1) * sharpness)`` (Cohen et al. 2022, "Adaptive
    Gradient Methods at the Edge of Stability").

    Example:
      >>> import jax.numpy as jnp
      >>> import optax_warmup as ow
      >>> loss = lambda p, b: 0.5 * jnp.sum(b * p**2)
      >>> h, v = jnp.array([1.0, 3.0, 10.0]), jnp.array([1.0, 1.0, 100.0])
      >>> s = ow.estimate_preconditioned_sharpness(loss, jnp.zeros(3), h, v_hat=v, eps=1e-12)
      >>> round(float(s), 4)  # max(1/1, 3/1, 10/10)
      3.0
    """
    p = adam_preconditioner(opt_state, v_hat=v_hat, b2=b2, eps=eps)
    return estimate_sharpness(
        loss_fn, params, batch, num_iterations=num_iterations, key=key, preconditioner=p
    )


def suggest_warmup_init(sharpness: ArrayLike, *, b1: ArrayLike = 0.0) -> jax.Array:
    """The warmup's initial learning rate suggested by the sharpness: the critical rate.

    ``lr_init = 2 / sharpness`` for gradient descent (``b1 = 0``), and
    ``(2 + 2 b1) / ((1 - b1) sharpness)`` for Adam with its EMA momentum ``b1``,
    given the preconditioned sharpness. Kalra & Barkeshli (2024) start warmup
    at about this critical learning rate rather than at 0, which shortens or
    removes the warmup. Traced values are clamped (sharpness to at least
    1e-30, ``b1`` to at most 1 - 1e-6), so the suggestion stays finite.

    Args:
      sharpness: the (preconditioned) sharpness, > 0.
      b1: the EMA momentum of the optimizer the sharpness belongs to, in [0, 1).

    Returns:
      The suggested initial learning rate (float32).

    Example:
      >>> import optax_warmup as ow
      >>> float(ow.suggest_warmup_init(10.0))
      0.2
      >>> round(float(ow.suggest_warmup_init(100.0, b1=0.9)), 6)
      0.38
    """
    v.check_range("sharpness", sharpness, low=0.0, low_open=True)
    v.check_range("b1", b1, low=0.0, high=1.0, high_open=True)
    s = jnp.maximum(jnp.asarray(sharpness, jnp.float32), 1e-30)
    b = jnp.clip(jnp.asarray(b1, jnp.float32), 0.0, 1.0 - 1e-6)
    return 2.0 * (1.0 + b) / ((1.0 - b) * s)
