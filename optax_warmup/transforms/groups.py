"""Per-group schedules: parameter groups with their own schedule, multiplier, or frozen.

Groups are chosen by a label function (``params -> pytree of group names``, as
in ``optax.multi_transform``) or by regular expressions on each parameter's
path, a ``/``-joined string such as ``"encoder/layers/0/kernel"``. A trailing
``value`` attribute (the wrapper Flax NNX puts around each array when it
initialises an optimizer) is not part of the path, so a pattern matches the
same parameters at ``init`` and at ``update``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from optax_warmup.schedules import combine as _combine
from optax_warmup.transforms import warmup as _transforms

LabelFn = Callable[[Any], Any]
Select = Mapping[str, str] | LabelFn


def _key_name(key: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def _path_string(path: tuple[Any, ...]) -> str:
    if path and isinstance(path[-1], jax.tree_util.GetAttrKey) and path[-1].name == "value":
        path = path[:-1]
    return "/".join(_key_name(k) for k in path)


def parameter_paths(params: Any) -> Any:
    """The pytree of ``params`` with each leaf replaced by its ``/``-joined path string.

    Example:
      >>> import optax_warmup as ow
      >>> ow.parameter_paths({"enc": [1.0, 2.0], "head": {"w": 3.0}})
      {'enc': ['enc/0', 'enc/1'], 'head': {'w': 'head/w'}}
    """
    return jax.tree_util.tree_map_with_path(lambda p, _: _path_string(p), params)


def _regex_labels(params: Any, patterns: Mapping[str, str], default: str | None) -> Any:
    compiled = []
    for name, pattern in patterns.items():
        try:
            compiled.append((name, re.compile(pattern)))
        except re.error as e:
            raise ValueError(
                f"the pattern of group {name!r} is not a regex: {pattern!r} ({e})."
            ) from e
    unmatched: list[str] = []

    def label(path: tuple[Any, ...], _: Any) -> str | None:
        s = _path_string(path)
        for name, rx in compiled:
            if rx.search(s):
                return name
        unmatched.append(s)
        return default

    labels = jax.tree_util.tree_map_with_path(label, params)
    if default is None and unmatched:
        shown = ", ".join(repr(s) for s in unmatched[:5])
        more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
        raise ValueError(
            f"no group pattern matches the parameters {shown}{more}; add a pattern for them "
            "or pass default=<group name>."
        )
    return labels


def group_labels(params: Any, select: Select, groups: Any, *, default: str | None = None) -> Any:
    """Label every parameter with its group name, and check that every group is used.

    Args:
      params: the parameters (any pytree; only its structure and paths are read).
      select: ``{group: regex}`` (``re.search`` on each path; the first group whose
        pattern matches wins) or a label function ``params -> pytree of group names``.
      groups: the group names that must each select at least one parameter.
      default: the group of parameters no pattern matches (regex selection only);
        ``None`` makes an unmatched parameter an error.

    Returns:
      The pytree of group names, shaped like ``params``.

    Raises:
      ValueError: a group selects no parameter, a label names an unknown group,
        or a parameter matches no pattern and there is no ``default``.

    Example:
      >>> import optax_warmup as ow
      >>> params = {"embed": 0.0, "body": {"w": 0.0, "b": 0.0}}
      >>> ow.group_labels(params, {"emb": "^embed"}, ["emb", "rest"], default="rest")
      {'body': {'b': 'rest', 'w': 'rest'}, 'embed': 'emb'}
    """
    names = list(groups)
    if callable(select):
        labels = select(params)
    else:
        unknown = [g for g in select if g not in names]
        if unknown:
            raise ValueError(f"select names groups with no schedule: {unknown}; groups: {names}.")
        labels = _regex_labels(params, select, default)
    used = set(jax.tree_util.tree_leaves(labels))
    unknown = sorted(str(g) for g in used - set(names))
    if unknown:
        raise ValueError(f"parameters are labelled with unknown groups {unknown}; groups: {names}.")
    for g in names:
        if g not in used:
            raise ValueError(f"group {g!r} selects no parameters.")
    return labels


def _label_fn(select: Select, groups: list[str], default: str | None) -> LabelFn:
    if not callable(select) and default is not None and default not in groups:
        raise ValueError(f"default={default!r} is not one of the groups {groups}.")
    return lambda params: group_labels(params, select, groups, default=default)


def group_optimizer(
    groups: Mapping[str, Any],
    select: Select,
    make_optimizer: Callable[[Any], optax.GradientTransformation] | None = None,
    *,
    default: str | None = None,
) -> optax.GradientTransformation:
    """An optimizer that gives each parameter group its own schedule (``None``: frozen).

    Each group ``g`` is updated by ``make_optimizer(groups[g])`` (e.g. an Adam
    with that group's learning-rate schedule), or by ``groups[g]`` itself when it
    is already an ``optax.GradientTransformation``; ``None`` freezes the group:
    its updates are exactly zero (``optax.set_to_zero``) and it keeps no
    optimizer state. Built on ``optax.multi_transform``, so each group keeps its
    own state and count.

    Args:
      groups: ``{group: schedule, number, GradientTransformation or None}``.
      select: ``{group: regex}`` on the parameter paths, or a label function
        (see :func:`group_labels`).
      make_optimizer: builds a group's optimizer from its schedule or number;
        needed unless every group is a transformation or ``None``.
      default: the group of parameters no regex matches.

    Returns:
      A gradient transformation. ``init`` raises ``ValueError`` naming any
      group that selects no parameters.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> params = {"embed": jnp.ones(2), "head": jnp.ones(2), "body": jnp.ones(2)}
      >>> tx = ow.group_optimizer(
      ...     {"embed": None, "head": ow.warmup_schedule(1.0, 2), "body": 0.1},
      ...     {"embed": "^embed", "head": "^head"},
      ...     optax.sgd,
      ...     default="body",
      ... )
      >>> state = tx.init(params)
      >>> updates, state = tx.update({k: jnp.ones(2) for k in params}, state)
      >>> {k: round(float(u[0]), 6) for k, u in updates.items()}
      {'body': -0.1, 'embed': 0.0, 'head': -0.5}
    """
    names = list(groups)
    if not names:
        raise ValueError("groups must name at least one group, got none.")
    transforms: dict[Any, optax.GradientTransformation] = {}
    for name, spec in groups.items():
        if spec is None:
            transforms[name] = optax.set_to_zero()
        elif isinstance(spec, optax.GradientTransformation):
            transforms[name] = spec
        elif make_optimizer is None:
            raise ValueError(
                f"group {name!r} has a schedule, so make_optimizer is needed, got None."
            )
        else:
            transforms[name] = make_optimizer(spec)
    return optax.multi_transform(transforms, _label_fn(select, names, default))


class ScaleByGroupState(NamedTuple):
    """State of :func:`scale_by_group`.

    Attributes:
      count: updates applied so far (int32, saturating at the int32 maximum).
      multipliers: each group's multiplier for the next update (float32; 0 for
        a frozen group), as reported by :func:`optax_warmup.current_values`.
    """

    count: jax.Array
    multipliers: dict[str, jax.Array]


def scale_by_group(
    multipliers: Mapping[str, Any],
    select: Select,
    *,
    default: str | None = None,
) -> optax.GradientTransformation:
    """Multiply each parameter group's updates by its own schedule or number (``None``: zero).

    ``update_g = m_g(count) * update_g``, with ``m_g`` evaluated in float32 and
    the product cast back to the update's dtype (the multiplier itself is never
    rounded to bf16). Chain it after any optimizer to give groups their own
    warmup or learning-rate multiplier while sharing one optimizer. The state
    holds the multipliers of the next update, which
    :func:`optax_warmup.current_values` reports as ``multiplier/<group>``.

    Args:
      multipliers: ``{group: schedule, number or None}``; ``None`` freezes the group.
      select: ``{group: regex}`` on the parameter paths, or a label function.
      default: the group of parameters no regex matches.

    Returns:
      A gradient transformation with a :class:`ScaleByGroupState`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> params = {"head": jnp.ones(1), "body": jnp.ones(1)}
      >>> tx = optax.chain(
      ...     optax.sgd(1.0),
      ...     ow.scale_by_group({"head": ow.warmup_factor(4), "body": 1.0}, {"head": "head"},
      ...                       default="body"),
      ... )
      >>> state = tx.init(params)
      >>> updates, state = tx.update({"head": jnp.ones(1), "body": jnp.ones(1)}, state)
      >>> {k: float(u[0]) for k, u in updates.items()}
      {'body': -1.0, 'head': -0.25}
    """
    names = list(multipliers)
    if not names:
        raise ValueError("multipliers must name at least one group, got none.")
    schedules = {
        g: None if m is None else _combine.as_schedule(m, f"multipliers[{g!r}]")
        for g, m in multipliers.items()
    }
    label_fn = _label_fn(select, names, default)

    def state_at(count: jax.Array) -> ScaleByGroupState:
        values = {
            g: jnp.zeros([], jnp.float32) if sched is None else _transforms.factor_at(sched, count)
            for g, sched in schedules.items()
        }
        return ScaleByGroupState(count=count, multipliers=values)

    def init_fn(params: optax.Params) -> ScaleByGroupState:
        label_fn(params)
        return state_at(jnp.zeros([], jnp.int32))

    def update_fn(
        updates: optax.Updates, state: Any, params: optax.Params | None = None
    ) -> tuple[optax.Updates, ScaleByGroupState]:
        del params
        labels = label_fn(updates)

        def scale(group: str, sub: Any) -> Any:
            if schedules[group] is None:
                return jax.tree_util.tree_map(jnp.zeros_like, sub)
            return _transforms.scale_tree(sub, state.multipliers[group])

        # labels may be a prefix of the updates (as optax.multi_transform allows).
        updates = jax.tree_util.tree_map(scale, labels, updates)
        return updates, state_at(_transforms.next_count(state.count))

    return optax.GradientTransformation(init_fn, update_fn)


_BLOCK = re.compile(r"(?:^|/|_)(?:layers?|blocks?|h|stages?)[_/.]?(\d+)(?:/|$)")
_STEM = re.compile(r"(?:^|/)(?:[a-z_]*embed[a-z_]*|cls_token|mask_token|stem)(?:/|$)")


def layer_id_from_path(path: str) -> int | None:
    """The depth of a parameter from its path, for :func:`layer_decay`'s default labels.

    ``0`` for embeddings and stems (a path part containing ``embed``, or
    ``cls_token``, ``mask_token``, ``stem``); ``i + 1`` for the ``i``-th block
    (``layers_3``, ``layers/3``, ``blocks/3``, ``h/3``, ``stages_1``); ``None``
    for anything else (the final norm, the head: the top layer).

    Example:
      >>> import optax_warmup as ow
      >>> [ow.layer_id_from_path(p) for p in ("patch_embed/kernel", "blocks/4/mlp/w", "head/w")]
      [0, 5, None]
    """
    m = _BLOCK.search(path)
    if m:
        return int(m.group(1)) + 1
    if _STEM.search(path):
        return 0
    return None


class LayerDecay(NamedTuple):
    """Layer-wise learning-rate decay groups, for :func:`scale_by_group` / :func:`group_optimizer`.

    Attributes:
      multipliers: ``{"layer_<i>": decay ** (top - i)}`` for every depth in use.
      select: the label function: ``params -> pytree of "layer_<i>"``.
      num_layers: ``top + 1``, the number of depths (embeddings 0 to the head ``top``).
    """

    multipliers: dict[str, float]
    select: LabelFn
    num_layers: int


def layer_decay(
    params: Any,
    decay: float,
    *,
    layer_of: Callable[[str], int | None] | None = None,
    num_layers: int | None = None,
) -> LayerDecay:
    """Layer-wise learning-rate decay (BEiT / ELECTRA fine-tuning, timm's ``layer_decay``).

    Each parameter gets a depth ``i`` (0 for the embeddings, ``k + 1`` for
    block ``k``, the top ``L - 1`` for the rest: norm and head) and the
    multiplier ``decay ** (L - 1 - i)``: the head trains at the full rate,
    each block below at ``decay`` times the one above (timm's
    ``param_groups_layer_decay``; Bao et al. 2022, "BEiT: BERT Pre-Training
    of Image Transformers"; Clark et al. 2020, "ELECTRA").

    Args:
      params: the parameters (only their paths are read).
      decay: the per-layer factor, in (0, 1].
      layer_of: ``path -> depth or None`` (``None``: the top); default
        :func:`layer_id_from_path`.
      num_layers: ``L``; default one above the deepest labelled depth, so
        unlabelled parameters (the head) sit above the last block.

    Returns:
      A :class:`LayerDecay`: ``scale_by_group(ld.multipliers, ld.select)``
      after an optimizer, or ``group_optimizer({g: lr * m ...}, ld.select, ...)``.

    Raises:
      ValueError: ``decay`` outside (0, 1], or a depth outside ``[0, L)``.

    Example:
      >>> import jax, jax.numpy as jnp, optax
      >>> import optax_warmup as ow
      >>> params = {"embed": jnp.ones(1), "layers_0": jnp.ones(1), "layers_1": jnp.ones(1),
      ...           "head": jnp.ones(1)}
      >>> ld = ow.layer_decay(params, 0.5)
      >>> ld.multipliers
      {'layer_0': 0.125, 'layer_1': 0.25, 'layer_2': 0.5, 'layer_3': 1.0}
      >>> tx = optax.chain(optax.sgd(1.0), ow.scale_by_group(ld.multipliers, ld.select))
      >>> u, _ = tx.update(jax.tree.map(jnp.ones_like, params), tx.init(params))
      >>> {k: float(x[0]) for k, x in u.items()}
      {'embed': -0.125, 'head': -1.0, 'layers_0': -0.25, 'layers_1': -0.5}
    """
    v_decay = float(decay)
    if not 0.0 < v_decay <= 1.0:
        raise ValueError(f"decay must lie in (0, 1], got {decay!r}.")
    find = layer_id_from_path if layer_of is None else layer_of
    paths = jax.tree_util.tree_leaves(parameter_paths(params))
    ids = [find(p) for p in paths]
    known = [i for i in ids if i is not None]
    top = (max(known) + 1 if known else 0) if num_layers is None else int(num_layers) - 1
    for p, i in zip(paths, ids, strict=True):
        if i is not None and not 0 <= i <= top:
            raise ValueError(f"parameter {p!r} has depth {i}, outside [0, {top}] (num_layers).")
    used = sorted({top if i is None else i for i in ids})
    multipliers = {f"layer_{i}": v_decay ** (top - i) for i in used}

    def depth(path: tuple[Any, ...], _: Any) -> str:
        i = find(_path_string(path))
        return f"layer_{top if i is None else i}"

    def select(tree: Any) -> Any:
        return jax.tree_util.tree_map_with_path(depth, tree)

    return LayerDecay(multipliers, select, top + 1)
