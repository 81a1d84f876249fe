"""A schedule inside a jitted, sharded update on 8 fake CPU devices (in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import optax_warmup as ow

    assert jax.device_count() == 8, jax.devices()
    mesh = Mesh(np.asarray(jax.devices()), ("data",))
    shard_rows = NamedSharding(mesh, P("data", None))
    replicated = NamedSharding(mesh, P())

    schedule = ow.warmup_stable_decay(0.05, 12, 3, decay_steps=4, decay_shape="1-sqrt")
    noisy = ow.with_noise(schedule, jax.random.key(0), pct=0.1)

    def loss(params, x):
        return jnp.mean((x @ params["w"] + params["b"]) ** 2)

    def train(params, x, sched, peak_scale):
        opt = optax.adamw(lambda c: peak_scale * sched(c))
        state = opt.init(params)
        lrs = []
        for _ in range(12):
            lrs.append(sched(state[0].count))
            grads = jax.grad(loss)(params, x)
            updates, state = opt.update(grads, state, params)
            params = optax.apply_updates(params, updates)
        return params, jnp.stack(lrs)

    rng = np.random.default_rng(0)
    params = {
        "w": jnp.asarray(rng.normal(size=(64, 16)), jnp.float32),
        "b": jnp.zeros((16,), jnp.float32),
    }
    x = jnp.asarray(rng.normal(size=(32, 64)), jnp.float32)

    step = jax.jit(train)
    used = {}
    for name, sched in (("plain", schedule), ("noisy", noisy)):
        ref_params, ref_lrs = step(params, x, sched, 1.0)
        sharded = {
            "w": jax.device_put(params["w"], shard_rows),
            "b": jax.device_put(params["b"], replicated),
        }
        sched_on_mesh = jax.device_put(sched, replicated)
        out_params, lrs = step(sharded, jax.device_put(x, replicated), sched_on_mesh, 1.0)
        assert out_params["w"].sharding.is_equivalent_to(shard_rows, 2), out_params["w"].sharding
        np.testing.assert_allclose(np.asarray(lrs), np.asarray(ref_lrs), rtol=1e-6)
        for k in params:
            np.testing.assert_allclose(
                np.asarray(out_params[k]), np.asarray(ref_params[k]), rtol=1e-5, atol=1e-6
            )
        # The parameters did move, with the scheduled learning rates.
        assert float(jnp.abs(out_params["w"] - params["w"]).max()) > 1e-3
        used[name] = np.asarray(lrs)
    want = [0.05 * min((c + 1) / 3, 1.0) for c in range(8)]
    np.testing.assert_allclose(used["plain"][:8], want, rtol=1e-5)
    assert np.all(np.abs(used["noisy"] / used["plain"] - 1) < 0.1)
    assert np.any(used["noisy"] != used["plain"])
    print("SHARDED-OK")
    """
)


def test_schedule_in_a_sharded_jitted_update_matches_unsharded() -> None:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SHARDED-OK" in proc.stdout
