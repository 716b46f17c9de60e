"""Naming code by string: ``package.module:attr`` or ``package.module.attr``.

Settings name pluggable parts this way (a store class, a dataset resolver, a worker's runner,
an operator type); this is the one place such a string becomes an object, so every one of them
accepts both spellings and fails with one clear line naming the setting's value.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_object", "split_path"]


def split_path(path: str) -> tuple[str, str]:
    """``("package.module", "attr")`` from either spelling; ``ValueError`` if it has no dot
    or colon to split on."""
    module_name, sep, attr = path.strip().partition(":")
    if not sep:
        module_name, _, attr = module_name.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"expected 'package.module:attr' or 'package.module.attr', not {path!r}")
    return module_name, attr


def import_object(path: str, what: str, error: type[Exception] = ImportError) -> Any:
    """The object ``path`` names; any failure is an ``error`` saying ``Cannot import the
    <what> '<path>': <why>`` (the cause chained)."""
    try:
        module_name, attr = split_path(path)
        module = importlib.import_module(module_name)
        dotted = attr.split(".")
        found: Any = module
        for part in dotted:
            found = getattr(found, part)
    except (ImportError, AttributeError, ValueError) as e:
        raise error(f"Cannot import the {what} {path!r}: {e}") from e
    return found
