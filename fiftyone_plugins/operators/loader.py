"""Importing a plugin's Python code and collecting the operators its ``register(p)`` adds.

Each plugin is imported as a package with a collision-free name,
``_fiftyone_plugins_.<slug>_<hash of its folder>``, whose ``__path__`` is the plugin folder:
two plugins may both have a ``utils.py``, and relative imports (``from .utils import x``,
``from . import sibling``) work. The FiftyOne-compatible imports
(:mod:`fiftyone_plugins.compat`) are installed first, so ``import fiftyone.operators as foo``
works in plugin code.

Nothing here raises for a broken plugin: :func:`load_plugin` returns a :class:`LoadedPlugin`
whose ``errors`` say what went wrong (an import failure names the failing module and hints at
installing the plugin's requirements; an operator the manifest does not declare, a duplicate,
or an operator whose construction failed are reported one by one).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import re
import sys
import threading
import traceback
import types as _types
from typing import Any

from ..definitions import PluginDefinition
from ..errors import (
    FiftyOnePluginsError,
    OperatorRegistrationError,
    PluginLoadError,
)
from .operator import Operator

logger = logging.getLogger("fiftyone_plugins.operators")

#: the parent package of every plugin module in ``sys.modules``
MODULE_PREFIX = "_fiftyone_plugins_"

_lock = threading.RLock()


class LoadedPlugin:
    """What importing one plugin produced: its operators (panels included) and errors."""

    __slots__ = ("definition", "operators", "errors", "module_name", "stamp")

    def __init__(
        self,
        definition: PluginDefinition,
        operators: list[Operator],
        errors: list[FiftyOnePluginsError],
        module_name: str | None,
        stamp: tuple[Any, ...],
    ) -> None:
        self.definition = definition
        #: registered operators and panels, in registration order
        self.operators = operators
        #: what went wrong (a failed import is a PluginLoadError, bad registrations others)
        self.errors = errors
        self.module_name = module_name
        #: the files' stamps at load time; a different stamp means "load again"
        self.stamp = stamp

    @property
    def load_error(self) -> PluginLoadError | None:
        """The import failure, if the plugin's code could not be imported at all."""
        for error in self.errors:
            if isinstance(error, PluginLoadError):
                return error
        return None

    def __repr__(self) -> str:
        return (
            f"LoadedPlugin({self.definition.name!r}, {len(self.operators)} operators, "
            f"{len(self.errors)} errors)"
        )


def module_name_for(definition: PluginDefinition) -> str:
    """The collision-free package name a plugin's code is imported under."""
    slug = re.sub(r"[^0-9A-Za-z_]", "_", definition.name).strip("_") or "plugin"
    digest = hashlib.sha1(os.path.realpath(definition.directory).encode()).hexdigest()[:10]
    return f"{MODULE_PREFIX}.{slug}_{digest}"


def file_stamp(definition: PluginDefinition) -> tuple[Any, ...]:
    """What changes when the plugin's manifest or entry file is edited."""
    stamps: list[Any] = [definition.manifest_path]
    for path in (definition.manifest_path, definition.py_entry_path):
        try:
            st = os.stat(path)
            stamps.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def _ensure_root() -> None:
    if MODULE_PREFIX not in sys.modules:
        root = _types.ModuleType(MODULE_PREFIX, "Namespace of imported fiftyone plugin code")
        root.__path__ = []
        sys.modules[MODULE_PREFIX] = root


def _purge(module_name: str) -> None:
    """Forgets a plugin's modules so that its code can be imported again."""
    prefix = module_name + "."
    for name in [n for n in sys.modules if n == module_name or n.startswith(prefix)]:
        del sys.modules[name]


class PluginContext:
    """The ``p`` a plugin's ``register(p)`` receives."""

    def __init__(self, definition: PluginDefinition) -> None:
        self.plugin_definition = definition
        self.instances: list[Operator] = []
        self.errors: list[FiftyOnePluginsError] = []
        self._declared = set(definition.operators) | set(definition.panels)

    @property
    def name(self) -> str:
        return self.plugin_definition.name

    @property
    def secrets(self) -> list[str]:
        return list(self.plugin_definition.secrets)

    def has_errors(self) -> bool:
        return bool(self.errors)

    def register(self, cls_or_instance: Any) -> None:
        """Registers an operator or panel class (or instance) declared in the manifest."""
        definition = self.plugin_definition
        label = getattr(cls_or_instance, "__name__", None) or type(cls_or_instance).__name__
        try:
            if isinstance(cls_or_instance, Operator):
                instance = cls_or_instance
            elif isinstance(cls_or_instance, type) and issubclass(cls_or_instance, Operator):
                instance = cls_or_instance()
            else:
                raise TypeError(f"{label!r} is not an Operator or Panel subclass")
            instance._builtin = definition.builtin
            instance.plugin_name = definition.name
            name = instance.config.name
        except Exception as e:  # a plugin's constructor or config is arbitrary code
            self.errors.append(
                OperatorRegistrationError(
                    f"Plugin {definition.name!r}: cannot register {label}: "
                    f"{type(e).__name__}: {e}",
                    uri=None,
                    name=definition.name,
                )
            )
            return
        uri = f"{definition.name}/{name}"
        if not isinstance(name, str) or not name:
            reason = f"its config name {name!r} is not a non-empty string"
        elif name not in self._declared:
            reason = (
                f"operator {name!r} is not declared in {definition.manifest_path}; "
                "add it under 'operators' (or 'panels') there"
            )
        elif any(op.config.name == name for op in self.instances):
            reason = f"operator {name!r} is registered twice"
        else:
            reason = ""
        if reason:
            self.errors.append(
                OperatorRegistrationError(
                    f"Plugin {definition.name!r}: {reason}", uri=uri, name=definition.name
                )
            )
            return
        if definition.secrets:
            instance.add_secrets(definition.secrets)
        self.instances.append(instance)

    def register_all(self) -> None:  # compatibility with FiftyOne's PluginContext
        pass


def _failing_location(tb: Any, directory: str) -> str | None:
    """``file:line`` of the innermost traceback frame inside the plugin folder."""
    where = None
    root = os.path.realpath(directory) + os.sep
    for frame in traceback.extract_tb(tb):
        path = os.path.realpath(frame.filename)
        if path.startswith(root):
            where = f"{os.path.relpath(path, directory)}:{frame.lineno}"
    return where


def _load_error(definition: PluginDefinition, exc: BaseException) -> PluginLoadError:
    where = _failing_location(exc.__traceback__, definition.directory)
    at = f" (in {where})" if where else ""
    missing = None
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        missing = exc.name
    if isinstance(exc, ImportError):
        hint = (
            f"; install its requirements with "
            f"`fiftyone-plugins plugins requirements {definition.name} --install`"
        )
    else:
        hint = ""
    detail = f"{type(exc).__name__}: {exc}"
    return PluginLoadError(
        f"Plugin {definition.name!r} failed to import{at}: {detail}{hint}",
        name=definition.name,
        missing_module=missing,
    )


def load_plugin(definition: PluginDefinition) -> LoadedPlugin:
    """Imports a plugin's entry point and runs its ``register(p)``; never raises for the
    plugin's own faults."""
    from ..compat import install

    install()
    stamp = file_stamp(definition)
    if not definition.has_py:  # a JS-only plugin: declared operators live in the browser
        return LoadedPlugin(definition, [], [], None, stamp)
    module_name = module_name_for(definition)
    ctx = PluginContext(definition)
    with _lock:
        _ensure_root()
        _purge(module_name)
        try:
            module = _import_entry(definition, module_name)
        except KeyboardInterrupt:
            _purge(module_name)
            raise
        except BaseException as e:  # SystemExit too: a plugin must not end the host
            _purge(module_name)
            error = _load_error(definition, e)
            logger.debug("%s", error)
            return LoadedPlugin(definition, [], [error], None, stamp)
    register = getattr(module, "register", None)
    if not callable(register):
        error = PluginLoadError(
            f"Plugin {definition.name!r}: {definition.py_entry} defines no register(p) function",
            name=definition.name,
        )
        return LoadedPlugin(definition, [], [error], module_name, stamp)
    try:
        register(ctx)
    except Exception as e:
        where = _failing_location(e.__traceback__, definition.directory)
        at = f" (in {where})" if where else ""
        ctx.errors.append(
            PluginLoadError(
                f"Plugin {definition.name!r}: register() failed{at}: {type(e).__name__}: {e}",
                name=definition.name,
            )
        )
    for problem in ctx.errors:
        logger.debug("%s", problem)
    return LoadedPlugin(definition, ctx.instances, ctx.errors, module_name, stamp)


def _import_entry(definition: PluginDefinition, module_name: str) -> _types.ModuleType:
    directory = definition.directory
    entry = os.path.normpath(definition.py_entry)
    init_path = os.path.join(directory, "__init__.py")
    package_file = definition.py_entry_path if entry == "__init__.py" else init_path
    if os.path.isfile(package_file):
        spec = importlib.util.spec_from_file_location(
            module_name, package_file, submodule_search_locations=[directory]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {package_file}", path=package_file)
        package = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = package
        spec.loader.exec_module(package)
    else:  # an entry file but no __init__.py: an empty package around the folder
        package = _types.ModuleType(module_name)
        package.__path__ = [directory]
        package.__file__ = None
        package.__package__ = module_name
        sys.modules[module_name] = package
    if entry == "__init__.py":
        return package
    dotted = entry[:-3] if entry.endswith(".py") else entry
    dotted = dotted.replace(os.sep, ".")
    if dotted.endswith(".__init__"):
        dotted = dotted[: -len(".__init__")]
    return importlib.import_module(f"{module_name}.{dotted}")
