"""Operators written against the real FiftyOne's classes, as this library's registry holds them.

When the real ``fiftyone`` distribution is installed, ``import fiftyone.operators as foo`` in
plugin code gives FiftyOne's own ``Operator``/``Panel`` (this library never shadows them), so
a plugin's classes subclass those. They are registered here as they are, the very instances
FiftyOne would create, under the same URIs; nothing of FiftyOne is patched or wrapped. What
this library's executor asks of an operator beyond FiftyOne's interface (declared secrets,
the default execution options, whether it is a panel) is answered by the functions below for
both families, so the rest of the library never has to tell them apart.

FiftyOne's classes are looked up in ``sys.modules`` only: a plugin that subclasses them has
imported them already, and nobody else pays FiftyOne's import (several seconds).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from .operator import ExecutionOptions, Operator

__all__ = [
    "declared_secrets",
    "default_execution_options",
    "fiftyone_operator_class",
    "has_default_execution_options",
    "is_fiftyone_operator",
    "is_operator",
    "is_operator_class",
    "is_panel",
]


def _real_class(module_name: str, class_name: str) -> type | None:
    """FiftyOne's class, when the real FiftyOne's module is imported (never this library's
    own class seen through the compatible imports)."""
    module = sys.modules.get(module_name)
    if module is None or getattr(module, "__name__", "") != module_name:
        return None  # not imported, or an alias of this library's module
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or cls.__module__.startswith("fiftyone_plugins"):
        return None
    return cls


def fiftyone_operator_class() -> type | None:
    """``fiftyone.operators.operator.Operator`` of the real FiftyOne, if it is imported."""
    return _real_class("fiftyone.operators.operator", "Operator")


def is_fiftyone_operator(obj: Any) -> bool:
    """Whether ``obj`` is an instance of the real FiftyOne's ``Operator`` (or a subclass)."""
    base = fiftyone_operator_class()
    return base is not None and isinstance(obj, base)


def is_operator(obj: Any) -> bool:
    """Whether ``obj`` is an operator instance of either family."""
    return isinstance(obj, Operator) or is_fiftyone_operator(obj)


def is_operator_class(obj: Any) -> bool:
    """Whether ``obj`` is an operator class of either family."""
    if not isinstance(obj, type):
        return False
    if issubclass(obj, Operator):
        return True
    base = fiftyone_operator_class()
    return base is not None and issubclass(obj, base)


def is_panel(op: Any) -> bool:
    """Whether ``op`` is a panel: this library's panels say so, FiftyOne's subclass its
    ``Panel``."""
    if isinstance(op, Operator):
        return bool(op.is_panel)
    panel = _real_class("fiftyone.operators.panel", "Panel")
    if panel is not None and isinstance(op, panel):
        return True
    return bool(getattr(op, "is_panel", False))


def declared_secrets(op: Any) -> Sequence[str]:
    """The secret keys ``op`` may read (its plugin's, plus what ``add_secrets`` added);
    read-only (this library's operators hand out their own list, not a copy)."""
    if isinstance(op, Operator):
        return op.declared_secrets
    return list(dict.fromkeys(getattr(op, "_plugin_secrets", None) or ()))


def has_default_execution_options(op: Any) -> bool:
    """Whether ``op`` keeps its family's default ``resolve_execution_options`` (so the
    executor may decide from the config and one ``resolve_delegation`` answer)."""
    method = getattr(type(op), "resolve_execution_options", None)
    if isinstance(op, Operator):
        return method is Operator.resolve_execution_options
    base = fiftyone_operator_class()
    return base is not None and method is getattr(base, "resolve_execution_options", None)


def default_execution_options(
    op: Any, forced: bool | None, config: Any = None
) -> ExecutionOptions:
    """What the default ``resolve_execution_options`` of ``op`` gives once
    ``resolve_delegation`` answered ``forced``, as this library's options (``config``: the
    operator's, if the caller read it already)."""
    if isinstance(op, Operator):
        return op.default_execution_options(forced, config)
    if forced is not None:
        return ExecutionOptions(
            allow_immediate_execution=not forced, allow_delegated_execution=bool(forced)
        )
    if config is None:
        config = op.config
    return ExecutionOptions(
        allow_immediate_execution=getattr(config, "allow_immediate_execution", True),
        allow_delegated_execution=getattr(config, "allow_delegated_execution", False),
        default_choice_to_delegated=getattr(config, "default_choice_to_delegated", False),
    )
