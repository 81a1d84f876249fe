"""``python -m optax_warmup``: the ``optax-warmup`` command line (see ``optax_warmup.io.cli``)."""

from optax_warmup.io.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
