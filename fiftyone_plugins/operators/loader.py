"""Importing a plugin's Python code and collecting the operators its ``register(p)`` adds.

Each plugin is imported as a package with a collision-free name,
``_fiftyone_plugins_.<slug>_<hash of its folder>``, whose ``__path__`` is the plugin folder:
two plugins may both have a ``utils.py``, and relative imports (``from .utils import x``,
``from . import sibling``) work. The FiftyOne-compatible imports
(:mod:`fiftyone_plugins.compat`) are installed first, so ``import fiftyone.operators as foo``
works in plugin code.

Plugins written for FiftyOne also import sibling modules absolutely, inside
``with fou.add_sys_path(os.path.dirname(os.path.abspath(__file__))): import utils``. Such
modules would land in ``sys.modules`` as top-level ``utils``, shared by every plugin. While a
plugin is imported and registered (and inside any later ``add_sys_path`` block on its folder)
:func:`plugin_modules` gives the plugin its own top-level modules: another plugin's module of
the same name is hidden meanwhile. Afterwards the plugin's modules stay in ``sys.modules`` as
they would in FiftyOne, unless another plugin (or the host) had the name first; either way the
plugin gets its own module objects back in its next ``add_sys_path`` block. Modules that do not
come from a plugin folder (the standard library, installed packages) are never touched.

:func:`file_stamp` covers the manifest and every ``.py`` file of the plugin (a bounded walk
that skips ``__pycache__``, hidden folders and ``node_modules``), so an edit of any module,
not only of the entry file, makes the registry import the plugin again.

Nothing here raises for a broken plugin: :func:`load_plugin` returns a :class:`LoadedPlugin`
whose ``errors`` say what went wrong (an import failure names the failing module, and, when a
package that is not part of the plugin is missing, hints at installing it; an operator the
manifest does not declare, a duplicate, an operator whose construction failed or whose
``config`` is not an :class:`~fiftyone_plugins.operators.OperatorConfig` are reported one by
one).
"""

from __future__ import annotations

import contextlib
import functools
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
from collections.abc import Iterator
from typing import Any

from ..definitions import PluginDefinition
from ..errors import (
    FiftyOnePluginsError,
    OperatorRegistrationError,
    PluginLoadError,
)
from .operator import CONFIG_FIELDS, Operator, OperatorConfig

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
    real = _real_folder(definition.directory).rstrip(os.sep) or os.sep
    digest = hashlib.sha1(real.encode()).hexdigest()[:10]
    return f"{MODULE_PREFIX}.{slug}_{digest}"


#: at most this many folder entries are looked at when stamping one plugin's Python files
MAX_STAMPED_ENTRIES = 2000

#: folders never searched for a plugin's Python code (hidden folders are skipped too)
SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules"})


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _source_stamps(directory: str) -> tuple[tuple[str, int, int, int], ...]:
    """``(path, mtime_ns, size, inode)`` of the ``.py`` files in a plugin folder, subfolders
    included (not ``__pycache__``, ``node_modules``, hidden or symlinked folders), looking at
    :data:`MAX_STAMPED_ENTRIES` folder entries at most."""
    stamps: list[tuple[str, int, int, int]] = []
    budget = MAX_STAMPED_ENTRIES
    pending = [directory]
    while pending and budget > 0:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    budget -= 1
                    if budget < 0:
                        break
                    name = entry.name
                    if name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        if name not in SKIPPED_FOLDERS:
                            pending.append(entry.path)
                    elif name.endswith(".py"):
                        st = entry.stat()
                        stamps.append((entry.path, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:  # a folder or file that vanished or cannot be read
            continue
    stamps.sort()
    return tuple(stamps)


def file_stamp(definition: PluginDefinition) -> tuple[Any, ...]:
    """What changes when the plugin's manifest or any of its Python files is edited, added
    or removed."""
    stamps: list[Any] = [definition.manifest_path, _stat(definition.manifest_path)]
    entry = _stat(definition.py_entry_path)
    stamps.append(entry)
    if entry is not None:  # a JS-only plugin has no Python files to watch
        stamps.append(_source_stamps(definition.directory))
    return tuple(stamps)


def _ensure_root() -> None:
    if MODULE_PREFIX not in sys.modules:
        root = _types.ModuleType(MODULE_PREFIX, "Namespace of imported fiftyone plugin code")
        root.__path__ = []
        sys.modules[MODULE_PREFIX] = root


def _purge(module_name: str) -> None:
    """Forgets a plugin's modules so that its code can be imported again."""
    if module_name not in sys.modules:  # never imported, or already forgotten with its modules
        return
    prefix = module_name + "."
    for name in [n for n in sys.modules if n == module_name or n.startswith(prefix)]:
        del sys.modules[name]


# -- top-level modules imported from plugin folders ------------------------------------------

# realpath + os.sep of every plugin folder whose code was imported
_roots: set[str] = set()
# plugin folder -> the top-level modules imported from it, kept out of sys.modules
_private: dict[str, dict[str, _types.ModuleType]] = {}
# plugin folder -> the module names the folder itself provides (``x.py``, ``x/``)
_provided: dict[str, frozenset[str]] = {}
_scopes = threading.local()  # .open: the plugin folders whose scope is open in this thread


def _module_origin(module: Any) -> str | None:
    """The file (or first package folder) a module was loaded from, without side effects."""
    try:
        namespace = object.__getattribute__(module, "__dict__")
    except (AttributeError, TypeError):
        return None
    origin = namespace.get("__file__")
    if isinstance(origin, str):
        return origin
    path = namespace.get("__path__")
    if path is not None:
        try:
            first = next(iter(path), None)
        except Exception:  # a namespace path that cannot be recomputed
            return None
        return first if isinstance(first, str) else None
    return None


@functools.lru_cache(maxsize=4096)
def _real_folder(folder: str) -> str:
    return os.path.join(os.path.realpath(folder), "")


def _inside(module: Any, roots: tuple[str, ...]) -> str | None:
    """The plugin root (among ``roots``) the module was loaded from, if any."""
    if not roots:
        return None
    origin = _module_origin(module)
    if origin is None:
        return None
    real = _real_folder(os.path.dirname(origin))
    for root in roots:
        if real.startswith(root):
            return root
    return None


def _provided_names(root: str) -> frozenset[str]:
    """Module names a plugin folder provides at its top level."""
    names = set()
    try:
        with os.scandir(root) as it:
            for entry in it:
                name = entry.name
                if name.startswith(".") or name in SKIPPED_FOLDERS:
                    continue
                if name.endswith(".py"):
                    names.add(name[:-3])
                elif entry.is_dir():
                    names.add(name)
    except OSError:
        pass
    return frozenset(names)


def _names_in(directory: str, source_stamps: Any) -> frozenset[str]:
    """:func:`_provided_names` from the stamps of the folder's ``.py`` files (no disk access;
    folders holding no ``.py`` file are left out, they provide no code)."""
    start = len(os.path.join(directory, ""))
    names = set()
    for path, *_ in source_stamps:
        first, sep, _rest = path[start:].partition(os.sep)
        names.add(first if sep else first[:-3])
    return frozenset(names)


@contextlib.contextmanager
def plugin_modules(directory: str, provided: frozenset[str] | None = None) -> Iterator[None]:
    """Scopes the top-level modules imported from a plugin folder to that plugin.

    Inside the block, ``sys.modules`` holds the top-level modules this plugin imported from
    its folder before (and no module of another plugin folder under a name this folder
    provides). Afterwards the modules imported from inside the folder are remembered for the
    plugin's next block and, as in FiftyOne, stay in ``sys.modules`` (so a later plain
    ``import utils`` in the plugin's code still works), unless the name was taken before the
    block by another plugin's or the host's module: that one is put back, so the first owner
    of a name keeps it and no plugin ever runs with another plugin's module. Blocks on a
    folder whose scope is already open in this thread do nothing more. ``provided``: the
    module names the folder provides at its top level, when the caller knows them.
    """
    root = _real_folder(directory)
    opened: list[str] = getattr(_scopes, "open", None) or []
    _scopes.open = opened
    if root in opened:
        yield
        return
    _roots.add(root)
    private = _private.setdefault(root, {})
    if provided is not None:
        _provided[root] = provided
    else:
        provided = _provided.get(root)
        if provided is None:
            provided = _provided[root] = _provided_names(root)
    modules = sys.modules
    hidden: dict[str, Any] = {}
    for name in provided | private.keys():
        current = modules.get(name)
        if current is None or current is private.get(name):
            continue
        owner = _inside(current, tuple(_roots))
        if owner is not None:  # another plugin's module (or a stale one of this plugin)
            del modules[name]
            if owner != root:
                hidden[name] = current
        elif name in private:  # a host module named like one of the plugin's: lend it out
            hidden[name] = current
    for name, module in private.items():
        modules[name] = module
    # modules imported in the block are added at the end of sys.modules (a dict keeps
    # insertion order): only those after the last entry present now need a look
    marker = next(reversed(modules), None)
    marked = modules.get(marker) if marker is not None else None
    opened.append(root)
    try:
        yield
    finally:
        opened.remove(root)
        added: list[tuple[str, Any]] = []
        for name in reversed(list(modules)):
            module = modules[name]
            if name == marker and module is marked:
                break
            added.append((name, module))
        added.extend((name, modules.get(name)) for name in list(private))
        for name, module in added:
            if module is None or name.startswith(MODULE_PREFIX):
                continue
            if private.get(name) is module or _inside(module, (root,)) is not None:
                private[name] = module
                if name in hidden and modules.get(name) is module:
                    del modules[name]  # the name's earlier owner gets it back below
        for name, module in hidden.items():
            modules.setdefault(name, module)


def plugin_modules_for_path(path: str) -> contextlib.AbstractContextManager[None]:
    """:func:`plugin_modules` of the imported plugin whose folder holds ``path`` (what
    ``fiftyone.core.utils.add_sys_path`` uses), or a no-op for any other path."""
    if _roots:
        real = _real_folder(path)
        for root in tuple(_roots):
            if real.startswith(root):
                return plugin_modules(root)
    return contextlib.nullcontext()


def _forget_modules(directory: str) -> None:
    """Forgets the top-level modules previously imported from a plugin folder."""
    root = _real_folder(directory)
    _private.pop(root, None)
    _provided.pop(root, None)


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
    for path, *_ in _source_stamps(directory):  # e.g. lib/<top>.py, put on sys.path
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
            from ..compat import MISSING_MESSAGE

            hint = "; " + MISSING_MESSAGE.format(name=f"{exc.name}.{match.group(1)}")
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
        # forget what an earlier import left, so that edits of any module take effect
        _purge(module_name)
        if _real_folder(definition.directory) in _roots:  # imported (or tried) before
            _forget_modules(definition.directory)
            importlib.invalidate_caches()  # see modules created (or installed) since then
        sources = stamp[3] if len(stamp) > 3 else ()
        with plugin_modules(definition.directory, _names_in(definition.directory, sources)):
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
