"""``python -m optax_warmup``: the ``optax-warmup`` command line (see ``optax_warmup._cli``)."""

from optax_warmup._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
