"""Importing a plugin's Python code and collecting the operators its ``register(p)`` adds.

The FiftyOne-compatible imports (:mod:`fiftyone_plugins.compat`) are installed first, so
``import fiftyone.operators as foo`` works in plugin code. The plugin is imported under its
collision-free package name, inside its own module scope (both from :mod:`.modules`).

Nothing here raises for a broken plugin: :func:`load_plugin` returns a :class:`LoadedPlugin`
whose ``errors`` say what went wrong (an import failure names the failing module, and, when a
package that is not part of the plugin is missing, hints at installing it; an operator the
manifest does not declare, a duplicate, an operator whose construction failed or whose
``config`` is not an :class:`~fiftyone_plugins.operators.OperatorConfig` are reported one by
one). The registration checks run here, when ``register(p)`` is called, so each error names
the plugin, the operator and the fault.
"""

from __future__ import annotations

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

from .. import compat
from ..definitions import PluginDefinition
from ..errors import (
    FiftyOnePluginsError,
    OperatorRegistrationError,
    PluginLoadError,
)
from .hosted import is_operator, is_operator_class
from .modules import (
    MODULE_PREFIX,
    ensure_root,
    forget_modules,
    module_name_for,
    names_in,
    plugin_modules,
    plugin_modules_for_path,
    purge,
    reset_import_caches,
    was_imported,
)
from .operator import CONFIG_FIELDS, Operator, OperatorConfig
from .stamps import file_stamp, source_stamps

__all__ = [
    "MODULE_PREFIX",
    "LoadedPlugin",
    "PluginContext",
    "file_stamp",
    "load_plugin",
    "module_name_for",
    "plugin_modules",
    "plugin_modules_for_path",
]

logger = logging.getLogger("fiftyone_plugins.operators")

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
            # this library's classes, or the real FiftyOne's (see .hosted): both as they are
            if is_operator(cls_or_instance):
                instance = cls_or_instance
            elif is_operator_class(cls_or_instance):
                instance = cls_or_instance()
            else:
                raise TypeError(f"{label!r} is not an Operator or Panel subclass")
            instance._builtin = definition.builtin
            instance.plugin_name = definition.name
            config = instance.config
            problem = _config_problem(config)
            if problem:
                raise TypeError(problem)
            name = config.name
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


def _config_problem(config: Any) -> str:
    """Why ``config`` cannot serve as an operator's config (``""`` when it can).

    An :class:`OperatorConfig` always can; another object only when it has every field
    listing, ``operators info`` and execution read, and ``to_json()``.
    """
    if isinstance(config, OperatorConfig):
        return ""
    missing = [field for field in CONFIG_FIELDS if not hasattr(config, field)]
    if not callable(getattr(config, "to_json", None)):
        missing.append("to_json()")
    if not missing:
        return ""
    shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
    return (
        f"its config is a {type(config).__name__}, not a fiftyone.operators.OperatorConfig "
        f"(it has no {shown})"
    )


def _failing_location(tb: Any, directory: str) -> str | None:
    """``file:line`` of the innermost traceback frame inside the plugin folder."""
    where = None
    root = os.path.realpath(directory) + os.sep
    for frame in traceback.extract_tb(tb):
        path = os.path.realpath(frame.filename)
        if path.startswith(root):
            where = f"{os.path.relpath(path, directory)}:{frame.lineno}"
    return where


def _own_module(definition: PluginDefinition, name: str) -> bool:
    """Whether the module ``name`` is part of the plugin rather than a package to install."""
    if name == MODULE_PREFIX or name.startswith(MODULE_PREFIX + "."):
        return True
    top = name.partition(".")[0]
    directory = definition.directory
    for path in (os.path.join(directory, top + ".py"), os.path.join(directory, top)):
        if os.path.exists(path):
            return True
    for path, *_ in source_stamps(directory):  # e.g. lib/<top>.py, put on sys.path
        if top in os.path.relpath(path[:-3], directory).split(os.sep):
            return True
    return False


def _load_error(definition: PluginDefinition, exc: BaseException) -> PluginLoadError:
    where = _failing_location(exc.__traceback__, definition.directory)
    at = f" (in {where})" if where else ""
    missing = None
    hint = ""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        if not _own_module(definition, exc.name):
            missing = exc.name
            retry = "the plugin is imported again on its next use, a second later at most"
            if os.path.isfile(os.path.join(definition.directory, "requirements.txt")):
                hint = (
                    f"; install its requirements with "
                    f"`fiftyone-plugins plugins requirements {definition.name} --install` "
                    f"({retry})"
                )
            else:
                hint = (
                    f"; install the package providing {exc.name.partition('.')[0]!r} "
                    f"(the plugin has no requirements.txt); {retry}"
                )
        elif not exc.name.startswith(MODULE_PREFIX):
            top = exc.name.partition(".")[0]
            hint = (
                f"; {top!r} is a module of the plugin itself: import it relatively "
                f"(`from . import {top}`) or inside "
                f"`fiftyone.core.utils.add_sys_path(<its folder>)`"
            )
    elif isinstance(exc, ImportError) and (exc.name or "").startswith("fiftyone"):
        # `from fiftyone import Dataset`: Python drops the compat layer's explanation
        match = re.search(r"cannot import name '([^']+)'", str(exc))
        if match:
            hint = "; " + compat.MISSING_MESSAGE.format(name=f"{exc.name}.{match.group(1)}")
    detail = f"{type(exc).__name__}: {exc}"
    return PluginLoadError(
        f"Plugin {definition.name!r} failed to import{at}: {detail}{hint}",
        name=definition.name,
        missing_module=missing,
    )


def load_plugin(definition: PluginDefinition) -> LoadedPlugin:
    """Imports a plugin's entry point and runs its ``register(p)``; never raises for the
    plugin's own faults."""
    compat.install()
    stamp = file_stamp(definition)
    if not definition.has_py:  # a JS-only plugin: declared operators live in the browser
        return LoadedPlugin(definition, [], [], None, stamp)
    module_name = module_name_for(definition)
    ctx = PluginContext(definition)
    with _lock:
        ensure_root()
        # forget what an earlier import left, so that edits of any module take effect
        purge(module_name)
        if was_imported(definition.directory):  # imported (or tried) before
            forget_modules(definition.directory)
            reset_import_caches()  # see modules created (or installed) since then
        sources = stamp[3] if len(stamp) > 3 else ()
        with plugin_modules(definition.directory, names_in(definition.directory, sources)):
            try:
                module = _import_entry(definition, module_name)
            except KeyboardInterrupt:
                purge(module_name)
                raise
            except BaseException as e:  # SystemExit too: a plugin must not end the host
                purge(module_name)
                error = _load_error(definition, e)
                logger.debug("%s", error)
                return LoadedPlugin(definition, [], [error], None, stamp)
            register = getattr(module, "register", None)
            if not callable(register):
                error = PluginLoadError(
                    f"Plugin {definition.name!r}: {definition.py_entry} defines no "
                    "register(p) function",
                    name=definition.name,
                )
                return LoadedPlugin(definition, [], [error], module_name, stamp)
            try:  # inside the scope: register() may import the plugin's modules too
                register(ctx)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # SystemExit too, as for the import above
                where = _failing_location(e.__traceback__, definition.directory)
                at = f" (in {where})" if where else ""
                ctx.errors.append(
                    PluginLoadError(
                        f"Plugin {definition.name!r}: register() failed{at}: "
                        f"{type(e).__name__}: {e}",
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
