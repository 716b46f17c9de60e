"""Finding plugins on disk: one definition or one error per plugin folder, cached.

Discovery walks the plugins directory breadth-first, in sorted order, up to
:data:`MAX_DEPTH` folder levels. A folder holding a manifest is a plugin: the walk does not
descend into it. Hidden folders, ``node_modules`` and ``__pycache__`` are skipped, and a
folder reached twice (a symlink loop) is visited once.

When two plugins declare the same name, the one closest to the plugins directory wins, then
the one whose relative path sorts first; the others are listed in the winner's
``shadow_paths``. A downloaded plugin named like a builtin one wins over the builtin.

Results are cached on what is on disk: every folder walked and every manifest read. On Linux
an inotify watch reports any change to them in one system call; elsewhere (or past the
kernel's watch limits) their modification stamps are compared. Any change (a plugin added,
removed or edited) triggers a new walk; nothing changed means no manifest is re-read.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict, deque

from ._watch import FolderWatcher
from .definitions import MANIFEST_NAMES, PluginDefinition
from .errors import PluginDefinitionError, PluginError
from .plugin_cache import ManifestCache

__all__ = [
    "BUILTIN_PLUGINS_DIR",
    "MAX_DEPTH",
    "SKIPPED_FOLDERS",
    "Discovery",
    "all_plugins",
    "builtin_plugins",
    "downloaded_plugins",
    "generation",
    "invalidate",
    "scan_plugins_dir",
]

#: how many folder levels below the plugins directory are searched for manifests
MAX_DEPTH = 4
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages"})
BUILTIN_PLUGINS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin_plugins")

# entries modified this close to a scan may change again within the same clock tick
_RACY_NS = 100_000_000


class Discovery:
    """What one walk of a plugins directory found."""

    __slots__ = ("plugins", "errors")

    def __init__(self, plugins: list[PluginDefinition], errors: list[PluginError]) -> None:
        #: valid plugins, one per name, sorted by name
        self.plugins = plugins
        #: one error per plugin folder that could not be read or validated
        self.errors = errors

    def __repr__(self) -> str:
        return f"Discovery({len(self.plugins)} plugins, {len(self.errors)} errors)"

    def get(self, name: str) -> PluginDefinition | None:
        for plugin in self.plugins:
            if plugin.name == name:
                return plugin
        return None


class _Scan:
    __slots__ = ("signature", "folders", "manifests", "errors", "racy")

    def __init__(
        self,
        signature: list[tuple[str, tuple[int, int, int]]],
        folders: list[tuple[str, bool]],
        manifests: list[tuple[int, str, str]],
        errors: list[PluginError],
        racy: bool,
    ) -> None:
        self.signature = signature  # (path, stamp) of every folder walked and manifest read
        self.folders = folders  # every folder walked, and whether it is a plugin folder
        self.manifests = manifests  # (depth, relative folder, manifest path)
        self.errors = errors
        self.racy = racy  # something changed within a clock tick of the walk


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _walk(root: str, max_depth: int) -> _Scan:
    started = time.time_ns()
    signature: list[tuple[str, tuple[int, int, int]]] = []
    folders: list[tuple[str, bool]] = []
    manifests: list[tuple[int, str, str]] = []
    errors: list[PluginError] = []
    seen: set[tuple[int, int]] = set()
    racy = False
    queue: deque[tuple[str, int]] = deque([(root, 0)])
    while queue:
        folder, depth = queue.popleft()
        try:
            st = os.stat(folder)
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            continue
        except OSError as e:
            reason = f"cannot read folder: {e.strerror or e}"
            errors.append(PluginDefinitionError(folder, reason))
            continue
        signature.append((folder, _stamp(st)))
        racy = racy or st.st_mtime_ns >= started - _RACY_NS
        names = {e.name: e for e in entries}
        manifest_entry = None
        for manifest_name in MANIFEST_NAMES:
            entry = names.get(manifest_name)
            if entry is not None and entry.is_file():
                manifest_entry = entry
                break
        folders.append((folder, manifest_entry is not None))
        if manifest_entry is not None:
            try:
                mst = manifest_entry.stat()
            except OSError:
                continue
            signature.append((manifest_entry.path, _stamp(mst)))
            racy = racy or mst.st_mtime_ns >= started - _RACY_NS
            rel = os.path.relpath(folder, root)
            manifests.append((depth, rel, manifest_entry.path))
            continue
        if depth >= max_depth:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in SKIPPED_FOLDERS:
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                queue.append((entry.path, depth + 1))
    return _Scan(signature, folders, manifests, errors, racy)


def _unchanged(signature: list[tuple[str, tuple[int, int, int]]]) -> bool:
    stat = os.stat
    for path, stamp in signature:
        try:
            st = stat(path)
        except OSError:
            return False
        if (st.st_mtime_ns, st.st_size, st.st_ino) != stamp:
            return False
    return True


def _build(scan: _Scan, root: str, builtin: bool) -> Discovery:
    winners: dict[str, PluginDefinition] = {}
    errors = list(scan.errors)
    cache = ManifestCache.open()  # parsed manifests remembered across processes
    for _depth, _rel, path in sorted(scan.manifests, key=lambda m: (m[0], m[1])):
        try:
            plugin = PluginDefinition.from_file(
                path, plugins_dir=root, builtin=builtin, cache=cache
            )
        except PluginDefinitionError as e:
            errors.append(e)
            continue
        first = winners.get(plugin.name)
        if first is None:
            winners[plugin.name] = plugin
        else:
            first.shadow_paths.append(plugin.directory)
    if cache is not None:
        cache.save()
    plugins = sorted(winners.values(), key=lambda p: p.name)
    errors.sort(key=lambda e: getattr(e, "path", "") or "")
    return Discovery(plugins, errors)


#: validations by stamps before a cached walk is handed to inotify
_ARM_AFTER = 3


class _Cached:
    __slots__ = ("scan", "result", "watcher", "checks")

    def __init__(self, scan: _Scan, result: Discovery) -> None:
        self.scan = scan
        self.result = result
        self.watcher: FolderWatcher | None = None
        self.checks = 0

    def still_valid(self) -> bool:
        if self.watcher is not None:
            return not self.watcher.changed()
        if not _unchanged(self.scan.signature):
            return False
        self.checks += 1
        if self.checks >= _ARM_AFTER:
            # Asked repeatedly: a long-lived process. From now on inotify answers in one
            # call; a one-shot CLI run never pays for importing ctypes and adding watches.
            self.watcher = _watch(self.scan)
        return True

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()


_CACHE_SIZE = 4
_cache: OrderedDict[tuple[str, int, bool], _Cached] = OrderedDict()
_lock = threading.RLock()


def _watch(scan: _Scan) -> FolderWatcher | None:
    """Watches a scan's folders, or ``None`` where inotify is unavailable or changes raced."""
    try:
        watcher = FolderWatcher(scan.folders, frozenset(MANIFEST_NAMES))
    except OSError:
        return None
    if not _unchanged(scan.signature):  # changed before the watches were in place
        watcher.close()
        return None
    return watcher


def scan_plugins_dir(
    plugins_dir: str, *, max_depth: int = MAX_DEPTH, builtin: bool = False
) -> Discovery:
    """Returns the plugins found in ``plugins_dir``, cached until something changes on disk.

    The returned objects are shared with the cache: treat them as read-only.
    """
    key = (plugins_dir, max_depth, builtin)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            if cached.still_valid():
                _cache.move_to_end(key)
                return cached.result
            cached.close()
            del _cache[key]
        scan = _walk(plugins_dir, max_depth)
        result = _build(scan, plugins_dir, builtin)
        if scan.racy or not scan.signature:
            return result
        _cache[key] = _Cached(scan, result)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)[1].close()
        return result


def builtin_plugins() -> Discovery:
    """The plugins that ship inside this package."""
    return scan_plugins_dir(BUILTIN_PLUGINS_DIR, max_depth=1, builtin=True)


def downloaded_plugins(plugins_dir: str | None = None) -> Discovery:
    """The plugins in the configured (or given) plugins directory."""
    if plugins_dir is None:
        from .config import get_plugins_dir

        plugins_dir = get_plugins_dir()
    return scan_plugins_dir(plugins_dir)


def all_plugins(plugins_dir: str | None = None) -> Discovery:
    """Downloaded and builtin plugins together; a downloaded plugin shadows a builtin one."""
    downloaded = downloaded_plugins(plugins_dir)
    builtins = builtin_plugins()
    if not builtins.plugins:
        return downloaded
    names = {p.name: p for p in downloaded.plugins}
    plugins = list(downloaded.plugins)
    for plugin in builtins.plugins:
        winner = names.get(plugin.name)
        if winner is None:
            plugins.append(plugin)
        elif plugin.directory not in winner.shadow_paths:
            winner.shadow_paths.append(plugin.directory)
    plugins.sort(key=lambda p: p.name)
    return Discovery(plugins, downloaded.errors + builtins.errors)


_generation = 0


def generation() -> int:
    """A counter bumped by :func:`invalidate`; caches built on discovery compare it."""
    return _generation


def invalidate() -> None:
    """Forgets every cached walk; called by every API that changes plugins or their state."""
    global _generation
    with _lock:
        for cached in _cache.values():
            cached.close()
        _cache.clear()
        _generation += 1


clear_cache = invalidate
