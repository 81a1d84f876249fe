"""``python -m optax_warmup``: print a warmup schedule's values at key steps."""

from __future__ import annotations

import optax_warmup as ow


def main() -> None:
    s = ow.warmup_decay_schedule(3e-4, 2000, 100_000, end_ratio=0.1)
    print("warmup_decay_schedule(3e-4, warmup_steps=2000, total_steps=100_000, end_ratio=0.1)")
    for c in (0, 1, 999, 1999, 2000, 50_000, 99_999, 100_000):
        print(f"  step {c:>7}: {float(s(c)):.6g}")


if __name__ == "__main__":
    main()
