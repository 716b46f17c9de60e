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
import time
from collections.abc import Iterable
from typing import Any, Literal

from .. import discovery
from .._dotted import import_object
from ..errors import (
    FiftyOnePluginsError,
    OperatorNotFoundError,
    PluginLoadError,
)

__all__ = [
    "RECHECK_INTERVAL",
    "DeclaredOperator",
    "OperatorEntry",
    "OperatorRegistry",
    "filter_entries",
    "find_operator",
    "get_operator",
    "invalidate",
    "known_uris",
    "list_entries",
    "list_errors",
    "list_operators",
    "lookup_operator",
    "operator_exists",
    "operator_timeout",
]
from .entries import DeclaredOperator, OperatorEntry, is_panel
from .operator import Operator
from .snapshot import Snapshot, env_key, forget_gone, forget_loaded, lock

logger = logging.getLogger("fiftyone_plugins.operators")

#: seconds a registry snapshot is trusted before the disk is looked at again
RECHECK_INTERVAL = 1.0

Filter = bool | Literal["all"]

_current: Snapshot | None = None


def _fresh(snap: Snapshot) -> bool:
    """Whether ``snap`` can be used without looking at the disk again."""
    return (
        snap.generation == discovery.generation()
        and time.monotonic() - snap.checked_at < RECHECK_INTERVAL
        and snap.env_key == env_key()
    )


def _snapshot() -> Snapshot:
    snap = _current
    if snap is not None and _fresh(snap):
        return snap
    return _refresh()


def _refresh() -> Snapshot:
    global _current
    from ..config import load_app_config, load_config

    with lock:
        generation = discovery.generation()
        key = env_key()
        downloaded = discovery.downloaded_plugins()
        builtins = discovery.builtin_plugins()
        app_config = load_app_config()
        snap = _current
        stamps = None
        if (
            snap is not None
            and snap.generation == generation
            and snap.env_key == key
            and snap.downloaded is downloaded
            and snap.builtins is builtins
            and snap.app_config is app_config
        ):
            stamps = snap.recheck()
            if stamps is None:
                snap.timeout = load_config().operator_timeout  # cached on the file's stat
                snap.checked_at = time.monotonic()
                return snap
        snap = Snapshot(key, generation, downloaded, builtins, app_config)
        snap.stamps = stamps or {}
        forget_gone(snap)
        _current = snap
        return snap


def invalidate() -> None:
    """Forgets the registry and every imported plugin: the next call re-imports them."""
    global _current
    with lock:
        _current = None
        forget_loaded()
    discovery.invalidate()


# -- queries ----------------------------------------------------------------------------------


def _keep(value: bool, wanted: Filter | None) -> bool:
    return wanted is None or wanted == "all" or bool(wanted) == value


def list_entries(
    enabled: Filter = "all",
    builtin: Filter = "all",
    type: str | None = None,
    *,
    remembered: bool = False,
) -> list[OperatorEntry]:
    """Every operator and panel as an :class:`OperatorEntry`, sorted by plugin then name
    (registration order within a plugin). Enabled plugins are imported; disabled ones are
    listed from their manifests.

    The answer is kept with the registry's snapshot, so a repeated call with nothing changed
    builds nothing (and any change, which makes a new snapshot, is seen at once). With
    ``remembered``, enabled plugins whose registrations are remembered across processes
    (:mod:`.registrations`) are not imported either: their entries have no ``operator``."""
    snap = _snapshot()
    key = ("entries", enabled, builtin, type, remembered)
    cached = snap.listings.get(key)
    if cached is not None:
        return list(cached)
    entries: list[OperatorEntry] = []
    for name in sorted(snap.sources):
        for position, plugin in enumerate(snap.sources[name]):
            is_enabled = snap.is_enabled(plugin)
            if not _keep(is_enabled, enabled) or not _keep(plugin.builtin, builtin):
                continue
            if is_enabled and remembered:
                for op_name, unlisted, panel in snap.remembered_visible(plugin, position):
                    entries.append(OperatorEntry(plugin, op_name, True, panel, unlisted, None))
            elif is_enabled:
                for op_name, unlisted, op in snap.named_operators(plugin, position):
                    panel = is_panel(op)
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
    snap.listings[key] = entries
    if remembered and snap.registrations is not None:
        snap.registrations.save()
    return list(entries)


def list_errors(enabled: Filter = True, *, remembered: bool = False) -> list[FiftyOnePluginsError]:
    """Manifest errors, plus import and registration errors of the (enabled) plugins
    (``remembered``: as :func:`list_entries` says)."""
    snap = _snapshot()
    errors: list[FiftyOnePluginsError] = list(snap.errors)
    for name in sorted(snap.sources):
        for plugin in snap.sources[name]:
            if snap.is_enabled(plugin) and _keep(True, enabled):
                if remembered:
                    errors.extend(snap.remembered(plugin).errors)
                else:
                    errors.extend(snap.load(plugin).errors)
    if remembered and snap.registrations is not None:
        snap.registrations.save()
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
    snap = _snapshot()
    key = ("operators", enabled, builtin, kind)
    operators = snap.listings.get(key)
    if operators is None:
        operators = [_stand_in(e) for e in list_entries(enabled, builtin, kind)]
        snap.listings[key] = operators
    if type is not None and kind is None:
        cls = type
        if isinstance(cls, str):
            cls = import_object(cls, "operator type", ImportError)
        return [op for op in operators if isinstance(op, cls)]
    return list(operators)


def known_uris() -> list[str]:
    """Every URI known without importing anything: the manifests' declared names."""
    snap = _snapshot()
    uris = set(snap.by_uri)
    for name, plugins in snap.sources.items():
        for plugin in plugins:
            uris.update(f"{name}/{op}" for op in (*plugin.operators, *plugin.panels))
    return sorted(uris)


def operator_timeout() -> float | None:
    """The ``operator_timeout`` config (seconds) that immediate runs are limited by, as of
    the current snapshot."""
    return _snapshot().timeout


def lookup_operator(operator_uri: str) -> Operator:
    """The enabled operator with this URI, as fast as the registry can answer: the hot path
    of every execution (:func:`get_operator` for the errors)."""
    operator = find_operator(operator_uri)
    return operator if operator is not None else get_operator(operator_uri)


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
        """The operator of :meth:`list_operators` with that URI, or ``None`` (FiftyOne's
        lookup, so a ``list_operators`` patched by a test or a host is what is searched)."""
        for operator in self.list_operators():
            if operator.uri == operator_uri:
                return operator
        return None
