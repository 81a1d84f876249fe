"""Layer-wise learning-rate decay against timm's formula."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import optax_warmup as ow

DEPTH = 4


def vit_params() -> dict:
    block = {"attn": {"qkv": jnp.ones(2)}, "mlp": {"fc1": jnp.ones(2)}}
    return {
        "cls_token": jnp.ones(2),
        "pos_embed": jnp.ones(2),
        "patch_embed": {"proj": jnp.ones(2)},
        "blocks": [block] * DEPTH,
        "norm": {"scale": jnp.ones(2)},
        "head": {"kernel": jnp.ones(2)},
    }


def timm_scale(layer_id: int, num_layers: int, decay: float) -> float:
    """timm's rule, transcribed from huggingface/pytorch-image-models
    timm/optim/_param_groups.py @ 72b9752a1a56ca4d97ccff0f2f50c36895585602,
    param_groups_layer_decay: ``layer_max = num_layers - 1``,
    ``layer_scales = [layer_decay ** (layer_max - i) for i in range(num_layers)]``,
    unmatched parameters at ``layer_max``. The ViT layer ids follow BEiT's
    get_num_layer_for_vit: embeddings 0, block i -> i + 1, the rest depth + 1."""
    layer_max = num_layers - 1
    return decay ** (layer_max - layer_id)


def expected_id(path: str) -> int:
    if path.startswith(("cls_token", "pos_embed", "patch_embed")):
        return 0
    if path.startswith("blocks/"):
        return int(path.split("/")[1]) + 1
    return DEPTH + 1


@pytest.mark.parametrize("decay", [0.65, 0.75, 1.0])
def test_multipliers_follow_timm(decay: float) -> None:
    params = vit_params()
    ld = ow.layer_decay(params, decay)
    assert ld.num_layers == DEPTH + 2
    labels = ld.select(params)
    for path, label in zip(
        jax.tree_util.tree_leaves(ow.parameter_paths(params)),
        jax.tree_util.tree_leaves(labels),
        strict=True,
    ):
        want = timm_scale(expected_id(path), DEPTH + 2, decay)
        assert ld.multipliers[label] == pytest.approx(want, rel=1e-12), path


def test_scale_by_group_and_group_optimizer_apply_them() -> None:
    params = vit_params()
    ld = ow.layer_decay(params, 0.5)
    grads = jax.tree.map(jnp.ones_like, params)
    tx = optax.chain(optax.sgd(1.0), ow.scale_by_group(ld.multipliers, ld.select))
    u: Any = tx.update(grads, tx.init(params))[0]
    assert float(u["head"]["kernel"][0]) == -1.0
    assert float(u["blocks"][DEPTH - 1]["mlp"]["fc1"][0]) == -0.5
    assert float(u["blocks"][0]["attn"]["qkv"][0]) == -(0.5**DEPTH)
    assert float(u["patch_embed"]["proj"][0]) == -(0.5 ** (DEPTH + 1))
    # One optimizer per depth with its own scaled schedule.
    lr = ow.warmup_schedule(1.0, 2)
    groups = {g: ow.multiply(lr, m) for g, m in ld.multipliers.items()}
    tx2 = ow.group_optimizer(groups, ld.select, optax.sgd)
    u2: Any = tx2.update(grads, tx2.init(params))[0]
    np.testing.assert_allclose(float(u2["blocks"][0]["attn"]["qkv"][0]), -0.5 * 0.5**DEPTH)


def test_custom_labels_and_errors() -> None:
    params = {"a": jnp.ones(1), "b": jnp.ones(1)}
    ld = ow.layer_decay(params, 0.5, layer_of=lambda p: {"a": 0, "b": 2}[p], num_layers=4)
    assert ld.multipliers == {"layer_0": 0.125, "layer_2": 0.5}
    with pytest.raises(ValueError, match="decay must lie"):
        ow.layer_decay(params, 1.5)
    with pytest.raises(ValueError, match="outside"):
        ow.layer_decay(params, 0.5, layer_of=lambda p: 5, num_layers=3)
