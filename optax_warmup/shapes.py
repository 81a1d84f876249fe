"""Warmup and decay shapes, for the ``shape=`` argument of every schedule.

Example:
  >>> import optax_warmup as ow
  >>> s = ow.warmup_schedule(1.0, 4, shape=ow.shapes.polynomial(2.0))
  >>> [float(s(c)) for c in range(4)]
  [0.0625, 0.25, 0.5625, 1.0]
"""

from optax_warmup.engine.shapes import (
    SHAPE_NAMES,
    Shape,
    ShapeFn,
    ShapeLike,
    constant,
    cosine,
    custom,
    exponential,
    linear,
    one_minus_sqrt,
    polynomial,
    tanh,
)

__all__ = [
    "SHAPE_NAMES",
    "Shape",
    "ShapeFn",
    "ShapeLike",
    "constant",
    "cosine",
    "custom",
    "exponential",
    "linear",
    "one_minus_sqrt",
    "polynomial",
    "tanh",
]
