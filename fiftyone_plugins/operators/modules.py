"""Plugin code in ``sys.modules``: collision-free package names, and each plugin's own
top-level modules.

Each plugin is imported as a package with a collision-free name,
``_fiftyone_plugins_.<slug>_<hash of its folder>`` (:func:`module_name_for`), whose
``__path__`` is the plugin folder: two plugins may both have a ``utils.py``, and relative
imports (``from .utils import x``, ``from . import sibling``) work.

Plugins written for FiftyOne also import sibling modules absolutely, inside
``with fou.add_sys_path(os.path.dirname(os.path.abspath(__file__))): import utils``. Such
modules would land in ``sys.modules`` as top-level ``utils``, shared by every plugin. While a
plugin is imported and registered (and inside any later ``add_sys_path`` block on its folder)
:func:`plugin_modules` gives the plugin its own top-level modules: another plugin's module of
the same name is hidden meanwhile. Afterwards the plugin's modules stay in ``sys.modules`` as
they would in FiftyOne, unless another plugin (or the host) had the name first; either way the
plugin gets its own module objects back in its next ``add_sys_path`` block. Modules that do not
come from a plugin folder (the standard library, installed packages) are never touched.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import re
import sys
import threading
import types as _types
from collections.abc import Iterator
from typing import Any

from ..definitions import PluginDefinition
from .stamps import SKIPPED_FOLDERS

__all__ = [
    "MODULE_PREFIX",
    "ensure_root",
    "forget_modules",
    "module_name_for",
    "names_in",
    "plugin_modules",
    "plugin_modules_for_path",
    "purge",
    "real_folder",
    "was_imported",
]

#: the parent package of every plugin module in ``sys.modules``
MODULE_PREFIX = "_fiftyone_plugins_"


def module_name_for(definition: PluginDefinition) -> str:
    """The collision-free package name a plugin's code is imported under."""
    slug = re.sub(r"[^0-9A-Za-z_]", "_", definition.name).strip("_") or "plugin"
    real = real_folder(definition.directory).rstrip(os.sep) or os.sep
    digest = hashlib.sha1(real.encode()).hexdigest()[:10]
    return f"{MODULE_PREFIX}.{slug}_{digest}"


def ensure_root() -> None:
    if MODULE_PREFIX not in sys.modules:
        root = _types.ModuleType(MODULE_PREFIX, "Namespace of imported fiftyone plugin code")
        root.__path__ = []
        sys.modules[MODULE_PREFIX] = root


def purge(module_name: str) -> None:
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
def real_folder(folder: str) -> str:
    return os.path.join(os.path.realpath(folder), "")


def _inside(module: Any, roots: tuple[str, ...]) -> str | None:
    """The plugin root (among ``roots``) the module was loaded from, if any."""
    if not roots:
        return None
    origin = _module_origin(module)
    if origin is None:
        return None
    real = real_folder(os.path.dirname(origin))
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


def names_in(directory: str, source_stamps: Any) -> frozenset[str]:
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
    root = real_folder(directory)
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
        real = real_folder(path)
        for root in tuple(_roots):
            if real.startswith(root):
                return plugin_modules(root)
    return contextlib.nullcontext()


def forget_modules(directory: str) -> None:
    """Forgets the top-level modules previously imported from a plugin folder."""
    root = real_folder(directory)
    _private.pop(root, None)
    _provided.pop(root, None)


def was_imported(directory: str) -> bool:
    """Whether code of this plugin folder was imported (or tried) in this process."""
    return real_folder(directory) in _roots


def reset_import_caches() -> None:
    """Makes the import system see modules created (or installed) since the last import."""
    importlib.invalidate_caches()
