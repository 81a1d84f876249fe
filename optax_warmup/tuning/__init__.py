"""Tools that help choose a schedule: sharpness at initialisation and the
warmup start it suggests; a one-compile learning-rate and warmup finder.
"""
