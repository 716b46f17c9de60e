"""What the registry lists: :class:`OperatorEntry` rows, and :class:`DeclaredOperator`
stand-ins for operators of disabled plugins, known only from their manifest.

Reading an operator's ``config`` runs plugin code: :func:`config_name` does it safely (a
config that breaks after registration leaves that operator out, with one warning, and no
other operator is affected).
"""

from __future__ import annotations

import logging
from typing import Any

from ..definitions import PluginDefinition
from ..errors import OperatorError
from .hosted import is_panel as _is_panel
from .operator import Operator, OperatorConfig

__all__ = ["DeclaredOperator", "OperatorEntry", "broken_config", "config_name", "is_panel"]

logger = logging.getLogger("fiftyone_plugins.operators")


class DeclaredOperator(Operator):
    """A stand-in for an operator of a disabled plugin, known only from its manifest.

    Its code is not imported, so it cannot run; ``loaded`` is ``False``.
    """

    loaded = False

    def __init__(self, definition: PluginDefinition, name: str, panel: bool) -> None:
        super().__init__(_builtin=definition.builtin)
        self.plugin_name = definition.name
        self.definition = definition
        self._name = name
        self._panel = panel

    @property
    def config(self) -> OperatorConfig:
        return OperatorConfig(name=self._name, unlisted=False)

    @property
    def is_panel(self) -> bool:
        return self._panel

    def execute(self, ctx: Any) -> Any:
        raise OperatorError(
            f"Operator {self.uri!r} belongs to the disabled plugin {self.plugin_name!r}; "
            f"enable it with `fiftyone-plugins plugins enable {self.plugin_name}`",
            uri=self.uri,
        )


class OperatorEntry:
    """One row of ``operators list``: an operator or panel and where it comes from."""

    __slots__ = ("uri", "name", "plugin", "enabled", "builtin", "panel", "unlisted", "operator")

    def __init__(
        self,
        plugin: PluginDefinition,
        name: str,
        enabled: bool,
        panel: bool,
        unlisted: bool | None,
        operator: Operator | None,
    ) -> None:
        self.uri = f"{plugin.name}/{name}"
        self.name = name
        self.plugin = plugin
        self.enabled = enabled
        self.builtin = plugin.builtin
        self.panel = panel
        #: ``None`` for a disabled plugin (its code, hence its config, is not loaded)
        self.unlisted = unlisted
        self.operator = operator

    def __repr__(self) -> str:
        return f"OperatorEntry({self.uri!r}, enabled={self.enabled})"


def is_panel(op: Operator) -> bool:
    return _is_panel(op)


_broken_configs: set[str] = set()  # operator classes already warned about


def broken_config(op: Operator, e: Exception) -> None:
    key = f"{op.plugin_name}:{type(op).__qualname__}"
    if key not in _broken_configs:
        _broken_configs.add(key)
        logger.warning(
            "Plugin %r: leaving out %s, whose config failed after registration: %s: %s",
            op.plugin_name,
            type(op).__name__,
            type(e).__name__,
            e,
        )


def config_name(op: Operator) -> str | None:
    """An operator's config name, or ``None`` when its config broke after registration
    (the operator is then left out, and no other operator is affected)."""
    try:
        name = op.config.name
    except Exception as e:  # a plugin's config property is arbitrary code
        broken_config(op, e)
        return None
    return name if isinstance(name, str) else None
