"""fiftyone-plugins: an embeddable plugin framework compatible with FiftyOne plugins.

``import fiftyone_plugins as fop`` gives the plugin-management API of the reference's
``fiftyone.plugins`` namespace; operators live in :mod:`fiftyone_plugins.operators`.
Everything is imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it (imported lazily on first attribute access)
_EXPORTS = {
    "PluginDefinition": "definitions",
    "list_plugins": "management",
    "list_plugin_errors": "management",
    "list_downloaded_plugins": "management",
    "list_enabled_plugins": "management",
    "list_disabled_plugins": "management",
    "is_plugin_enabled": "management",
    "get_plugin": "management",
    "find_plugin": "management",
    "enable_plugin": "management",
    "disable_plugin": "management",
    "delete_plugin": "management",
    "create_plugin": "management",
    "load_plugin_requirements": "requirements",
    "install_plugin_requirements": "requirements",
    "ensure_plugin_requirements": "requirements",
    "ensure_plugin_compatibility": "requirements",
    "download_plugin": "download",
    "load_config": "config",
    "get_plugins_dir": "config",
    "PLUGIN_API_VERSION": "config",
    # FiftyOne's ``fiftyone.plugins`` exports it too
    "PluginSecretsResolver": "secrets",
}

__all__ = [
    "PLUGIN_API_VERSION",
    "PluginDefinition",
    "PluginSecretsResolver",
    "__version__",
    "create_plugin",
    "delete_plugin",
    "disable_plugin",
    "download_plugin",
    "enable_plugin",
    "ensure_plugin_compatibility",
    "ensure_plugin_requirements",
    "errors",
    "find_plugin",
    "get_plugin",
    "get_plugins_dir",
    "install_plugin_requirements",
    "is_plugin_enabled",
    "list_disabled_plugins",
    "list_downloaded_plugins",
    "list_enabled_plugins",
    "list_plugin_errors",
    "list_plugins",
    "load_config",
    "load_plugin_requirements",
    "operators",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        if name in ("errors", "operators"):
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import errors, operators
    from .config import PLUGIN_API_VERSION, get_plugins_dir, load_config
    from .definitions import PluginDefinition
    from .download import download_plugin
    from .management import (
        create_plugin,
        delete_plugin,
        disable_plugin,
        enable_plugin,
        find_plugin,
        get_plugin,
        is_plugin_enabled,
        list_disabled_plugins,
        list_downloaded_plugins,
        list_enabled_plugins,
        list_plugin_errors,
        list_plugins,
    )
    from .requirements import (
        ensure_plugin_compatibility,
        ensure_plugin_requirements,
        install_plugin_requirements,
        load_plugin_requirements,
    )
    from .secrets import PluginSecretsResolver
