"""Tools that help choose a schedule: sharpness at initialisation and the
warmup start it suggests.
"""
