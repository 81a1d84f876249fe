"""Counting traced operations, for the O(1)-in-phases tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.extend.core as jex_core


def num_equations(jaxpr: jex_core.Jaxpr) -> int:
    """Equations of a jaxpr, counting those of its sub-jaxprs (pjit, custom_jvp...)."""
    n = 0
    for eqn in jaxpr.eqns:
        n += 1
        for p in eqn.params.values():
            for sub in p if isinstance(p, tuple | list) else (p,):
                if isinstance(sub, jex_core.ClosedJaxpr):
                    n += num_equations(sub.jaxpr)
                elif isinstance(sub, jex_core.Jaxpr):
                    n += num_equations(sub)
    return n


def traced_size(fn: Callable[..., Any], *args: Any) -> int:
    """Equations traced for ``fn(*args)``, nested jit programs included."""
    return num_equations(jax.make_jaxpr(fn)(*args).jaxpr)
