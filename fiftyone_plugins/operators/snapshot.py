"""The registry's snapshot: which plugins exist, which are disabled, and what was imported.

A :class:`Snapshot` is built from one discovery of the plugins dir (downloaded and builtin
plugins) and one read of the App config. Plugin code is imported once, on first need
(:meth:`Snapshot.load`), and kept across snapshots in a process-wide cache while the plugin's
files are unchanged (their stamps, :mod:`.stamps`). :mod:`.registry` decides when a snapshot
is still fresh; this module only holds what one snapshot knows.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .. import discovery
from .._watch import FolderWatcher
from ..config import env_reader
from ..definitions import MANIFEST_NAMES, PluginDefinition
from .entries import broken_config, config_name, is_panel
from .loader import LoadedPlugin, load_plugin
from .operator import Operator
from .registrations import Registrations, Remembered
from .stamps import SKIPPED_FOLDERS, file_stamp, folder_stamp, has_links

__all__ = ["ENV_NAMES", "Snapshot", "env_key", "forget_gone", "forget_loaded"]

#: environment variables whose change makes every snapshot stale
ENV_NAMES = (
    "FIFTYONE_PLUGINS_DIR",
    "FIFTYONE_CONFIG_PATH",
    "FIFTYONE_APP_CONFIG_PATH",
    "FIFTYONE_OPERATOR_TIMEOUT",
    "FIFTYONE_DATASET_RESOLVER",
)

# imported plugins, by folder; reused across snapshots while their files are unchanged
_loaded: dict[str, LoadedPlugin] = {}
#: guards imports and the cache of imported plugins
lock = threading.RLock()


class Snapshot:
    def __init__(
        self,
        env_key: tuple[Any, ...],
        generation: int,
        downloaded: discovery.Discovery,
        builtins: discovery.Discovery,
        app_config: dict[str, Any],
    ) -> None:
        from ..config import load_config

        self.env_key = env_key
        self.generation = generation
        self.checked_at = time.monotonic()
        self.downloaded = downloaded
        self.builtins = builtins
        self.app_config = app_config
        self.timeout = load_config().operator_timeout
        plugins_settings = app_config.get("plugins", {})
        self.disabled = frozenset(
            name
            for name, settings in plugins_settings.items()
            if isinstance(settings, dict) and settings.get("enabled") is False
        )
        # plugin name -> definitions providing it: the downloaded one first, then a builtin
        self.sources: dict[str, list[PluginDefinition]] = {}
        for plugin in downloaded.plugins:
            self.sources[plugin.name] = [plugin]
        for plugin in builtins.plugins:
            self.sources.setdefault(plugin.name, []).append(plugin)
        self.by_uri: dict[str, Operator] = {}
        self.plugins: dict[str, LoadedPlugin] = {}  # folder -> loaded, within this snapshot
        # (folder, position) -> (name, unlisted, operator) of each visible operator: an
        # operator's config is plugin code, read once per snapshot
        self._named: dict[tuple[str, int], list[tuple[str, bool, Operator]]] = {}
        #: answers of the registry's listings, by their arguments (nothing can change them
        #: within a snapshot: any change makes a new one)
        self.listings: dict[Any, Any] = {}
        self._registrations: Registrations | None | bool = False  # False: not opened yet
        self._remembered: dict[str, Remembered] = {}
        # folder -> file stamp taken by the recheck that built this snapshot (used once)
        self.stamps: dict[str, tuple[Any, ...]] = {}
        self.errors = list(downloaded.errors) + list(builtins.errors)

    # -- which definitions provide which names --------------------------------------------------

    def is_enabled(self, plugin: PluginDefinition) -> bool:
        return plugin.builtin or plugin.name not in self.disabled

    def visible_names(self, plugin: PluginDefinition, position: int) -> set[str] | None:
        """Names a shadowed builtin still provides (``None``: all of them): those the
        downloaded plugin of the same name does not provide in Python, so a downloaded copy
        that is disabled or cannot be imported (e.g. it needs FiftyOne) hides nothing."""
        if position == 0:
            return None
        first = self.sources[plugin.name][0]
        taken: set[str] = set()
        if self.is_enabled(first):
            for op in self.load(first).operators:
                name = config_name(op)
                if name is not None:
                    taken.add(name)
        return {n for n in set(plugin.operators) | set(plugin.panels) if n not in taken}

    def load(self, plugin: PluginDefinition) -> LoadedPlugin:
        loaded = self.plugins.get(plugin.directory)
        if loaded is not None:
            return loaded
        with lock:
            loaded = self.plugins.get(plugin.directory)  # another thread was first
            if loaded is not None:
                return loaded
            loaded = _loaded.get(plugin.directory)
            stamp = self.stamps.pop(plugin.directory, None)
            if (
                loaded is None
                or loaded.load_error is not None  # failed imports are retried once a snapshot
                or loaded.stamp != (stamp or file_stamp(plugin))
            ):
                loaded = load_plugin(plugin)
                _loaded[plugin.directory] = loaded
            self.plugins[plugin.directory] = loaded
            return loaded

    def named_operators(
        self, plugin: PluginDefinition, position: int
    ) -> list[tuple[str, bool, Operator]]:
        """``(name, unlisted, operator)`` of each operator ``plugin`` provides here (a
        shadowed builtin provides only what the downloaded copy does not), each config read
        once per snapshot; an operator whose config broke is left out."""
        key = (plugin.directory, position)
        named = self._named.get(key)
        if named is not None:
            return named
        loaded = self.load(plugin)
        visible = self.visible_names(plugin, position)
        named = []
        for op in loaded.operators:
            try:
                config = op.config
                name, unlisted = config.name, bool(config.unlisted)
            except Exception as e:  # a plugin's config property is arbitrary code
                broken_config(op, e)
                continue
            if isinstance(name, str) and (visible is None or name in visible):
                named.append((name, unlisted, op))
                self.by_uri.setdefault(f"{op.plugin_name}/{name}", op)
        self._named[key] = named
        return named

    @property
    def registrations(self) -> Registrations | None:
        """The registrations remembered across processes (``None`` when turned off)."""
        if self._registrations is False:
            self._registrations = Registrations.open()
        return self._registrations  # type: ignore[return-value]

    def remembered(self, plugin: PluginDefinition) -> Remembered:
        """What ``plugin`` registers, from the remembered registrations when its files and
        the environment are unchanged (nothing is imported), else by importing it."""
        found = self._remembered.get(plugin.directory)
        if found is not None:
            return found
        registrations = self.registrations
        stamp = None
        if registrations is not None and plugin.directory not in self.plugins:
            stamp = folder_stamp(plugin)  # taken before any import: a later edit mismatches
            found = registrations.get(plugin.directory, stamp)
        if found is None:
            loaded = self.load(plugin)
            operators = [
                (name, unlisted, is_panel(op))
                for name, unlisted, op in self.named_operators(plugin, 0)
            ]
            found = Remembered(operators, list(loaded.errors))
            if registrations is not None and stamp is not None and loaded.load_error is None:
                registrations.put(plugin.directory, stamp, found)
        self._remembered[plugin.directory] = found
        return found

    def remembered_visible(
        self, plugin: PluginDefinition, position: int
    ) -> list[tuple[str, bool, bool]]:
        """:meth:`remembered` operators that ``plugin`` provides here (a shadowed builtin
        only those the downloaded copy does not provide)."""
        operators = self.remembered(plugin).operators
        if position == 0:
            return operators
        first = self.sources[plugin.name][0]
        if not self.is_enabled(first):
            return operators
        taken = {name for name, _unlisted, _panel in self.remembered(first).operators}
        return [op for op in operators if op[0] not in taken]

    def operators_of(self, plugin: PluginDefinition, position: int) -> list[Operator]:
        return [op for _name, _unlisted, op in self.named_operators(plugin, position)]

    def lookup(self, uri: str) -> Operator | None:
        op = self.by_uri.get(uri)
        if op is not None:
            return op
        plugin_name, _, _ = uri.rpartition("/")
        for position, plugin in enumerate(self.sources.get(plugin_name, ())):
            if self.is_enabled(plugin):
                self.operators_of(plugin, position)
        return self.by_uri.get(uri)

    def recheck(self) -> dict[str, tuple[Any, ...]] | None:
        """The current stamps of the imported plugins' files, or ``None`` when this snapshot
        can be kept: no file changed and no plugin failed to import (it is tried again).

        Where inotify is available, the folders of the imported plugins' sources are watched
        from the first recheck on (a process that lives that long rechecks again): a later
        recheck with no event reads one file descriptor instead of stamping every file."""
        global _watch
        plugins = list(self.plugins.items())
        if any(loaded.load_error is not None for _, loaded in plugins):
            return {d: file_stamp(loaded.definition) for d, loaded in plugins}
        directories = frozenset(d for d, _ in plugins)
        watch = _watch
        if watch is not None and watch[0] == directories and not watch[1].changed():
            return None
        if watch is not None:
            watch[1].close()
        _watch = None
        folders: list[str] = []
        watcher = _watch_sources(plugins, folders) if plugins else None
        stamps: dict[str, tuple[Any, ...]] = {}
        keep = True
        folders.clear()
        for directory, loaded in plugins:
            stamp = stamps[directory] = file_stamp(loaded.definition)
            if stamp != loaded.stamp:
                keep = False
        if not keep:
            if watcher is not None:
                watcher.close()
            return stamps
        if watcher is not None:
            _watch = (directories, watcher)
        return None


#: the values of :data:`ENV_NAMES` now (read with pre-encoded keys: it is on every lookup)
env_key = env_reader(ENV_NAMES)


#: the imported plugins' folders being watched, and their watcher (see Snapshot.recheck)
_watch: tuple[frozenset[str], FolderWatcher] | None = None


def _watch_sources(
    plugins: list[tuple[str, LoadedPlugin]], folders: list[str]
) -> FolderWatcher | None:
    """A watcher of every folder holding the imported plugins' manifests and sources, armed
    before their stamps are taken (so no change can fall between); ``None`` where inotify
    is unavailable or its limits are reached (stamps are then compared every time)."""
    for directory, loaded in plugins:
        folders.append(directory)
        if has_links(file_stamp(loaded.definition, folders)):
            return None  # a link's target may live anywhere: compare stamps instead
    try:
        return FolderWatcher(
            ((folder, True) for folder in dict.fromkeys(folders)),
            frozenset(MANIFEST_NAMES),
            relevant_suffixes=(".py",),
            ignored_folders=SKIPPED_FOLDERS,
        )
    except OSError:
        return None


def forget_gone(snap: Snapshot) -> None:
    """Drops imported plugins that ``snap`` no longer has (gone, or in another plugins dir)."""
    live = {p.directory for plugins in snap.sources.values() for p in plugins}
    with lock:
        for directory in [d for d in _loaded if d not in live]:
            del _loaded[directory]


def forget_loaded() -> None:
    """Forgets every imported plugin: the next snapshot imports them again."""
    global _watch
    with lock:
        _loaded.clear()
        if _watch is not None:
            _watch[1].close()
            _watch = None
