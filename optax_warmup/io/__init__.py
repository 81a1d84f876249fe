"""Input and output: spec strings, configs, duration units, previews, plots and
the ``optax-warmup`` command line.
"""
