"""The API reference's coverage check: every public name has an entry.

The public names are ``optax_warmup.__all__`` (less the two subpackages it
lists), ``optax_warmup.shapes.__all__`` and the ``__all__`` of every module of
``optax_warmup.compat``. Each must be documented under that public path
(``optax_warmup.warmup_schedule``, ``optax_warmup.compat.timm.CosineLRScheduler``)
by an autodoc directive on one of the ``docs/api/*.md`` pages.

Two users: ``docs/conf.py`` runs :func:`check` on the objects Sphinx actually
registered (the build fails when a name is missing), and ``tests/test_docs.py``
runs :func:`missing_from_pages` on the page sources (no Sphinx needed).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

PACKAGE = "optax_warmup"
# Where a name is defined -> the API page its entry belongs on (longest prefix wins).
PAGES = {
    "optax_warmup.engine": "api/engine.md",
    "optax_warmup.engine.shapes": "api/shapes.md",
    "optax_warmup.shapes": "api/shapes.md",
    "optax_warmup.schedules": "api/schedules.md",
    "optax_warmup.compat.optax": "api/optax_names.md",
    "optax_warmup.compat": "api/compat.md",
    "optax_warmup.transforms": "api/transforms.md",
    "optax_warmup.tuning": "api/tuning.md",
    "optax_warmup.io": "api/io.md",
}
FALLBACK_PAGE = "api/index.md"
_DIRECTIVE = re.compile(r"^\.\. (?:autofunction|autoclass|autodata)::\s+([\w.]+)", re.MULTILINE)


def public_objects() -> dict[str, Any]:
    """Every public name, by the dotted path it is documented under, with its object."""
    root = importlib.import_module(PACKAGE)
    modules = {"shapes", "compat"}
    names = {f"{PACKAGE}.{n}": getattr(root, n) for n in root.__all__ if n not in modules}
    shapes = importlib.import_module(f"{PACKAGE}.shapes")
    names.update({f"{PACKAGE}.shapes.{n}": getattr(shapes, n) for n in shapes.__all__})
    compat = importlib.import_module(f"{PACKAGE}.compat")
    for module_name in compat.__all__:
        module = importlib.import_module(f"{PACKAGE}.compat.{module_name}")
        prefix = f"{PACKAGE}.compat.{module_name}"
        # compat.optax has no __all__: its 13 names are documented as their top-level aliases.
        public = getattr(module, "__all__", ())
        names.update({f"{prefix}.{n}": getattr(module, n) for n in public})
    return names


def page_for(path: str, obj: Any) -> str:
    """The API page a public name belongs on, from the module that defines it."""
    if path.startswith(f"{PACKAGE}.shapes."):
        return PAGES[f"{PACKAGE}.shapes"]
    if path.startswith(f"{PACKAGE}.compat."):
        return PAGES[f"{PACKAGE}.compat"]
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith(PACKAGE):
        module = ""
    best = max((p for p in PAGES if module == p or module.startswith(p + ".")), key=len, default="")
    return PAGES.get(best, FALLBACK_PAGE)


def directive_for(path: str, obj: Any) -> str:
    """The autodoc directive that documents ``path`` (in a MyST ``{eval-rst}`` block)."""
    if inspect.isclass(obj):
        kind = "autoclass"
    elif inspect.isroutine(obj):
        kind = "autofunction"
    else:
        kind = "autodata"
    return f"```{{eval-rst}}\n.. {kind}:: {path}\n```"


def message(missing: list[str], objects: dict[str, Any]) -> str:
    """What to add, and where, for each missing name."""
    lines = [f"{len(missing)} public name(s) have no entry in the API reference:"]
    for path in missing:
        obj = objects[path]
        lines.append(
            f"  {path}: add to docs/{page_for(path, obj)} (under the matching heading):\n"
            + "\n".join("      " + line for line in directive_for(path, obj).splitlines())
        )
    return "\n".join(lines)


def documented_in_pages(api_dir: Path) -> set[str]:
    """The names that the autodoc directives of ``api_dir/*.md`` document."""
    found: set[str] = set()
    for page in sorted(api_dir.glob("*.md")):
        found.update(_DIRECTIVE.findall(page.read_text()))
    return found


def missing_from_pages(api_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """Public names no API page documents (from the page sources), and every public object."""
    objects = public_objects()
    return sorted(set(objects) - documented_in_pages(api_dir)), objects


def check(documented: set[str]) -> str | None:
    """The error message when a public name is not in ``documented``, else ``None``."""
    objects = public_objects()
    missing = sorted(set(objects) - documented)
    return message(missing, objects) if missing else None


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: fail the build when the reference misses a public name."""
    from sphinx.errors import ExtensionError

    def on_consistency(app: Any, env: Any) -> None:
        documented = set(env.get_domain("py").objects)
        problem = check(documented)
        if problem is not None:
            raise ExtensionError(problem)

    app.connect("env-check-consistency", on_consistency)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
