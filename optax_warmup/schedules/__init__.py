"""Schedules: ``count -> value`` functions built on the engine.

Warmups, decays, composites (warmup + decay, WSD, restarts, one-cycle), joins,
products and sums, noise, and the integer ramps of the data side.
"""
