"""Reading a training stack's config object for the stack compat modules.

The JAX training stacks hand their schedule builders a config object (MaxText's
pydantic config, levanter's ``OptimizerConfig`` dataclass, an
``ml_collections.ConfigDict``) or a plain mapping. :func:`fields` reads the
settings a compat function needs from either, by the stack's own field names.

Example:
  >>> from optax_warmup.compat import stack_config
  >>> stack_config.fields({"steps": 10, "other": 1}, {"steps": 5, "warmup": 0.1})
  {'steps': 10, 'warmup': 0.1}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__: list[str] = []


def fields(config: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The settings named in ``defaults``, read from ``config`` where it has them.

    Args:
      config: a mapping (read by key) or any object (read by attribute); the
        fields it lacks keep their default, the ones not named are ignored.
      defaults: each setting's name and its value when ``config`` lacks it.

    Returns:
      A dict with one entry per name of ``defaults``.
    """
    if isinstance(config, Mapping):
        return {name: config.get(name, default) for name, default in defaults.items()}
    return {name: getattr(config, name, default) for name, default in defaults.items()}
