"""Gradient transformations: warmup for any optimizer, optimizer-tied warmups,
GI-Adam, scheduled hyperparameters, per-group schedules, Schedule-Free, and
reading the values an optimizer state will use next.
"""
