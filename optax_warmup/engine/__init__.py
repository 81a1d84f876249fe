"""The engine: phases, shapes, evaluation and argument validation.

Every schedule of the library is a :class:`~optax_warmup.PhaseSchedule` (or a
combination of them) evaluated here. Nothing in this layer imports from the
layers above it (schedules, transforms, tuning, io, compat).
"""
