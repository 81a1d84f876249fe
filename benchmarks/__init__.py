"""Benchmarks of optax_warmup against optax, side by side in one run.

Run every benchmark with ``python -m benchmarks`` (``--quick`` for a short
run, ``--smoke`` for the tiny sizes the unit test uses, ``--out DIR`` for
where the markdown and JSON results go; ``benchmarks/results`` by default).
"""
