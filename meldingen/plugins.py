"""Optional parts of the application, named as "module:attribute" and loaded only when they are installed.

Blueprints, CLI groups and task modules of later pieces of work are listed by name where they plug in; this
is the one place that decides what "not installed" means: the module (or a package above it) is missing.
A module that exists but fails to import for another reason still raises.
"""

from __future__ import annotations

import importlib


def import_optional(spec: str):
    """The attribute named by "module:attribute" (or the module itself), or None when the module is absent."""
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            return None
        raise
    return getattr(module, attribute) if attribute else module
