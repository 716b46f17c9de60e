"""The operator registry: which operators exist, loaded on demand and cached.

How caching works (what "the registry is cached" means):

- A *snapshot* records the discovered plugins (downloaded and builtin), which are disabled,
  and the operators imported so far. Plugin code is imported once, on first need: looking
  up ``@org/plugin/op`` imports only ``@org/plugin``; listing imports every enabled plugin.
  Disabled plugins are never imported; their operators are listed from their manifest.
- The snapshot is reused without touching the disk for up to :data:`RECHECK_INTERVAL`
  seconds (1 s). After that, the next call asks discovery (one inotify read or a few
  ``stat`` calls), re-reads the App config and the config file if they changed (a new
  ``operator_timeout`` applies from then on), and compares the stamps of the manifests and
  Python files (every ``.py`` file of the plugin folder, see
  :func:`~fiftyone_plugins.operators.loader.file_stamp`) of imported plugins. A plugin whose
  files changed is imported again; the others are not.
- A plugin whose import failed is not trusted beyond one snapshot: it is imported again at
  its next use after the recheck interval, or at once after a change through the API
  (below; installing its requirements with
  :func:`~fiftyone_plugins.install_plugin_requirements` is one).
- Anything this process does through the API (``enable_plugin``, ``disable_plugin``,
  ``download_plugin``, ``delete_plugin``, ``create_plugin``, :func:`invalidate`) bumps
  :func:`fiftyone_plugins.discovery.generation`, which the registry checks on every call,
  so such changes are seen immediately; so are changes of ``FIFTYONE_PLUGINS_DIR``,
  ``FIFTYONE_CONFIG_PATH`` and ``FIFTYONE_APP_CONFIG_PATH``. Changes made on disk by
  another process are seen within :data:`RECHECK_INTERVAL`.

A downloaded plugin named like a builtin one takes precedence for the operators it declares;
the builtin's other operators stay available.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any, Literal

from .. import discovery
from ..definitions import PluginDefinition
from ..errors import (
    FiftyOnePluginsError,
    OperatorError,
    OperatorNotFoundError,
    PluginLoadError,
)
from .loader import LoadedPlugin, file_stamp, load_plugin
from .operator import Operator, OperatorConfig

logger = logging.getLogger("fiftyone_plugins.operators")

#: seconds a registry snapshot is trusted before the disk is looked at again
RECHECK_INTERVAL = 1.0

_ENV_NAMES = (
    "FIFTYONE_PLUGINS_DIR",
    "FIFTYONE_CONFIG_PATH",
    "FIFTYONE_APP_CONFIG_PATH",
    "FIFTYONE_OPERATOR_TIMEOUT",
    "FIFTYONE_DATASET_RESOLVER",
)

Filter = bool | Literal["all"]


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


def _is_panel(op: Operator) -> bool:
    return bool(getattr(op, "is_panel", False))


_broken_configs: set[str] = set()  # operator classes already warned about


def _broken_config(op: Operator, e: Exception) -> None:
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


def _config_name(op: Operator) -> str | None:
    """An operator's config name, or ``None`` when its config broke after registration
    (the operator is then left out, and no other operator is affected)."""
    try:
        name = op.config.name
    except Exception as e:  # a plugin's config property is arbitrary code
        _broken_config(op, e)
        return None
    return name if isinstance(name, str) else None


# imported plugins, by folder; reused across snapshots while their files are unchanged
_loaded: dict[str, LoadedPlugin] = {}
_lock = threading.RLock()


class _Snapshot:
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
                name = _config_name(op)
                if name is not None:
                    taken.add(name)
        return {n for n in set(plugin.operators) | set(plugin.panels) if n not in taken}

    def load(self, plugin: PluginDefinition) -> LoadedPlugin:
        loaded = self.plugins.get(plugin.directory)
        if loaded is not None:
            return loaded
        with _lock:
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

    def operators_of(self, plugin: PluginDefinition, position: int) -> list[Operator]:
        loaded = self.load(plugin)
        visible = self.visible_names(plugin, position)
        operators = []
        for op in loaded.operators:
            name = _config_name(op)
            if name is not None and (visible is None or name in visible):
                operators.append(op)
                self.by_uri.setdefault(f"{op.plugin_name}/{name}", op)
        return operators

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
        can be kept: no file changed and no plugin failed to import (it is tried again)."""
        stamps: dict[str, tuple[Any, ...]] = {}
        keep = True
        for directory, loaded in list(self.plugins.items()):
            stamp = stamps[directory] = file_stamp(loaded.definition)
            if stamp != loaded.stamp or loaded.load_error is not None:
                keep = False
        return None if keep else stamps


_current: _Snapshot | None = None


# os.environ.get() re-encodes its key on every call (~0.5 us); the hot path reads the
# underlying dict with pre-encoded keys instead (CPython's os._Environ keeps it in ``_data``)
_ENV_DATA: Any = getattr(os.environ, "_data", None)
if isinstance(_ENV_DATA, dict):
    _ENV_KEYS = tuple(os.environ.encodekey(name) for name in _ENV_NAMES)  # type: ignore[attr-defined]

    def _env_key() -> tuple[Any, ...]:
        get = _ENV_DATA.get
        return tuple([get(k) for k in _ENV_KEYS])

else:  # pragma: no cover - other platforms

    def _env_key() -> tuple[Any, ...]:
        get = os.environ.get
        return tuple([get(name) for name in _ENV_NAMES])


def _fresh(snap: _Snapshot) -> bool:
    """Whether ``snap`` can be used without looking at the disk again."""
    return (
        snap.generation == discovery.generation()
        and time.monotonic() - snap.checked_at < RECHECK_INTERVAL
        and snap.env_key == _env_key()
    )


def _snapshot() -> _Snapshot:
    snap = _current
    if snap is not None and _fresh(snap):
        return snap
    return _refresh()


def _refresh() -> _Snapshot:
    global _current
    from ..config import load_app_config, load_config

    with _lock:
        generation = discovery.generation()
        env_key = _env_key()
        downloaded = discovery.downloaded_plugins()
        builtins = discovery.builtin_plugins()
        app_config = load_app_config()
        snap = _current
        stamps = None
        if (
            snap is not None
            and snap.generation == generation
            and snap.env_key == env_key
            and snap.downloaded is downloaded
            and snap.builtins is builtins
            and snap.app_config is app_config
        ):
            stamps = snap.recheck()
            if stamps is None:
                snap.timeout = load_config().operator_timeout  # cached on the file's stat
                snap.checked_at = time.monotonic()
                return snap
        snap = _Snapshot(env_key, generation, downloaded, builtins, app_config)
        snap.stamps = stamps or {}
        live = {p.directory for plugins in snap.sources.values() for p in plugins}
        for directory in [d for d in _loaded if d not in live]:
            del _loaded[directory]  # plugins that are gone (or in another plugins dir)
        _current = snap
        return snap


def invalidate() -> None:
    """Forgets the registry and every imported plugin: the next call re-imports them."""
    global _current
    with _lock:
        _current = None
        _loaded.clear()
    discovery.invalidate()


# -- queries ----------------------------------------------------------------------------------


def _keep(value: bool, wanted: Filter | None) -> bool:
    return wanted is None or wanted == "all" or bool(wanted) == value


def list_entries(
    enabled: Filter = "all", builtin: Filter = "all", type: str | None = None
) -> list[OperatorEntry]:
    """Every operator and panel as an :class:`OperatorEntry`, sorted by plugin then name
    (registration order within a plugin). Enabled plugins are imported; disabled ones are
    listed from their manifests."""
    snap = _snapshot()
    entries: list[OperatorEntry] = []
    for name in sorted(snap.sources):
        for position, plugin in enumerate(snap.sources[name]):
            is_enabled = snap.is_enabled(plugin)
            if not _keep(is_enabled, enabled) or not _keep(plugin.builtin, builtin):
                continue
            if is_enabled:
                for op in snap.operators_of(plugin, position):
                    try:
                        config = op.config
                        op_name, unlisted = config.name, bool(config.unlisted)
                    except Exception as e:  # broke after registration: leave it out
                        _broken_config(op, e)
                        continue
                    panel = _is_panel(op)
                    entries.append(OperatorEntry(plugin, op_name, True, panel, unlisted, op))
            else:
                visible = snap.visible_names(plugin, position)
                for names, panel in ((plugin.operators, False), (plugin.panels, True)):
                    for op_name in names:
                        if visible is None or op_name in visible:
                            entries.append(
                                OperatorEntry(plugin, op_name, False, panel, None, None)
                            )
    if type == "panel":
        entries = [e for e in entries if e.panel]
    elif type == "operator":
        entries = [e for e in entries if not e.panel]
    return entries


def list_errors(enabled: Filter = True) -> list[FiftyOnePluginsError]:
    """Manifest errors, plus import and registration errors of the (enabled) plugins."""
    snap = _snapshot()
    errors: list[FiftyOnePluginsError] = list(snap.errors)
    for name in sorted(snap.sources):
        for plugin in snap.sources[name]:
            if snap.is_enabled(plugin) and _keep(True, enabled):
                errors.extend(snap.load(plugin).errors)
    return errors


def _stand_in(entry: OperatorEntry) -> Operator:
    return entry.operator or DeclaredOperator(entry.plugin, entry.name, entry.panel)


def list_operators(
    enabled: Filter = True, builtin: Filter = "all", type: Any = None
) -> list[Operator]:
    """The operators (and panels) of the installed plugins.

    ``enabled``/``builtin``: ``True``, ``False`` or ``"all"``. ``type``: ``"operator"``,
    ``"panel"``, an :class:`Operator` subclass, or ``None``. Operators of disabled plugins are
    :class:`DeclaredOperator` stand-ins (their code is never imported).
    """
    kind = type if type in ("operator", "panel") else None
    operators = [_stand_in(e) for e in list_entries(enabled, builtin, kind)]
    if type is not None and kind is None:
        cls = type
        if isinstance(cls, str):
            module_name, _, attr = cls.rpartition(".")
            import importlib

            cls = getattr(importlib.import_module(module_name), attr)
        operators = [op for op in operators if isinstance(op, cls)]
    return operators


def known_uris() -> list[str]:
    """Every URI known without importing anything: the manifests' declared names."""
    snap = _snapshot()
    uris = set(snap.by_uri)
    for name, plugins in snap.sources.items():
        for plugin in plugins:
            uris.update(f"{name}/{op}" for op in (*plugin.operators, *plugin.panels))
    return sorted(uris)


def find_operator(operator_uri: str) -> Operator | None:
    """The enabled operator with this URI, or ``None`` (the hot path of every execution)."""
    snap = _current
    if snap is not None and _fresh(snap):
        op = snap.by_uri.get(operator_uri)
        if op is not None:
            return op
    else:
        snap = _refresh()
    return snap.lookup(operator_uri)


def get_operator(operator_uri: str, enabled: Filter = True) -> Operator:
    """The operator with this URI.

    Raises :class:`~fiftyone_plugins.errors.OperatorNotFoundError` (with close matches)
    when there is none, and :class:`~fiftyone_plugins.errors.PluginLoadError` when its plugin
    failed to import. With ``enabled=False`` or ``"all"``, an operator of a disabled plugin
    is returned as a :class:`DeclaredOperator` stand-in.
    """
    if enabled is True or enabled == "all":
        op = find_operator(operator_uri)
        if op is not None:
            return op
    snap = _snapshot()
    plugin_name, _, op_name = operator_uri.rpartition("/")
    for position, plugin in enumerate(snap.sources.get(plugin_name, ())):
        visible = snap.visible_names(plugin, position)
        declared = op_name in plugin.operators or op_name in plugin.panels
        if not declared or (visible is not None and op_name not in visible):
            continue
        if not snap.is_enabled(plugin):
            if enabled is not True:
                return DeclaredOperator(plugin, op_name, op_name in plugin.panels)
            raise OperatorNotFoundError(
                operator_uri,
                reason=f"plugin {plugin.name!r} is disabled; enable it with "
                f"`fiftyone-plugins plugins enable {plugin.name}`",
            )
        if enabled is False:
            break
        load_error = snap.load(plugin).load_error
        if load_error is not None:
            raise load_error
        if plugin.has_py:
            raise OperatorNotFoundError(
                operator_uri, reason=f"plugin {plugin.name!r} did not register it"
            )
        raise OperatorNotFoundError(
            operator_uri, reason="it is implemented in JavaScript and cannot run in Python"
        )
    from ..management import suggest_names

    raise OperatorNotFoundError(operator_uri, suggest_names(operator_uri, known_uris()))


def operator_exists(operator_uri: str, enabled: Filter = True) -> bool:
    """Whether an operator with this URI exists (among enabled plugins by default)."""
    try:
        get_operator(operator_uri, enabled=enabled)
    except (OperatorNotFoundError, PluginLoadError):
        return False
    return True


def filter_entries(entries: Iterable[OperatorEntry], glob: str | None) -> list[OperatorEntry]:
    if not glob:
        return list(entries)
    return [e for e in entries if fnmatch.fnmatchcase(e.uri, glob)]


class OperatorRegistry:
    """The reference's registry object: a view of the operators for one ``enabled`` filter."""

    def __init__(self, enabled: Filter = True) -> None:
        self.enabled = enabled

    def list_operators(self, builtin: bool | None = None, type: Any = None) -> list[Operator]:
        return list_operators(self.enabled, "all" if builtin is None else builtin, type)

    def list_errors(self) -> list[FiftyOnePluginsError]:
        return list_errors(self.enabled)

    def operator_exists(self, operator_uri: str) -> bool:
        return operator_exists(operator_uri, self.enabled)

    def can_execute(self, operator_uri: str) -> bool:
        return operator_exists(operator_uri, True)

    def get_operator(self, operator_uri: str) -> Operator | None:
        try:
            return get_operator(operator_uri, self.enabled)
        except (OperatorNotFoundError, PluginLoadError):
            return None
