"""The plugin-management API: list, inspect, enable, disable, delete and create plugins.

These are the functions of the reference's ``fiftyone.plugins`` namespace; they are
re-exported from :mod:`fiftyone_plugins`. Enablement is stored in the App config as
``{"plugins": {"<name>": {"enabled": false}}}``; enabling removes that entry.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from . import config as _config
from . import discovery
from .definitions import PluginDefinition, validate_plugin_name
from .errors import (
    BuiltinPluginError,
    PluginDefinitionError,
    PluginError,
    PluginExistsError,
    PluginNotFoundError,
)

__all__ = [
    "BuiltinFilter",
    "EnabledFilter",
    "create_plugin",
    "delete_plugin",
    "disable_plugin",
    "enable_plugin",
    "find_plugin",
    "get_plugin",
    "is_plugin_enabled",
    "list_disabled_plugins",
    "list_downloaded_plugins",
    "list_enabled_plugins",
    "list_plugin_errors",
    "list_plugins",
    "suggest_names",
]

logger = logging.getLogger(__name__)

EnabledFilter = bool | Literal["all"]
BuiltinFilter = bool | Literal["all"]


def _disabled_names() -> set[str]:
    plugins = _config.load_app_config().get("plugins", {})
    return {
        name
        for name, settings in plugins.items()
        if isinstance(settings, dict) and settings.get("enabled") is False
    }


def is_plugin_enabled(plugin: PluginDefinition | str) -> bool:
    """Whether a plugin is enabled: builtins always are; others unless disabled in config."""
    if isinstance(plugin, PluginDefinition):
        if plugin.builtin:
            return True
        name = plugin.name
    else:
        name = plugin
    settings = _config.load_app_config().get("plugins", {}).get(name)
    return not (isinstance(settings, dict) and settings.get("enabled") is False)


def _keep(value: bool, wanted: EnabledFilter | BuiltinFilter) -> bool:
    return wanted == "all" or bool(wanted) == value


def list_plugins(
    enabled: EnabledFilter = True, builtin: BuiltinFilter = False
) -> list[PluginDefinition]:
    """Returns plugin definitions, sorted by name.

    ``enabled``: ``True`` (default), ``False`` or ``"all"``. ``builtin``: ``False``
    (default, downloaded plugins only), ``True`` (builtins only) or ``"all"``.
    Plugins whose manifest is invalid are left out; see :func:`list_plugin_errors`.
    """
    found = discovery.all_plugins() if builtin is not False else discovery.downloaded_plugins()
    disabled = _disabled_names() if enabled != "all" else set()
    return [
        p
        for p in found.plugins
        if _keep(p.builtin, builtin) and _keep(p.builtin or p.name not in disabled, enabled)
    ]


def list_plugin_errors() -> list[PluginError]:
    """Returns one error per plugin folder whose manifest could not be read or validated."""
    return discovery.all_plugins().errors


def list_downloaded_plugins() -> list[str]:
    """Returns the names of all downloaded (non-builtin) plugins, enabled or not."""
    return [p.name for p in discovery.downloaded_plugins().plugins]


def list_enabled_plugins() -> list[str]:
    """Returns the names of the enabled downloaded plugins."""
    return [p.name for p in list_plugins(enabled=True)]


def list_disabled_plugins() -> list[str]:
    """Returns the names of the disabled downloaded plugins."""
    return [p.name for p in list_plugins(enabled=False)]


def suggest_names(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """Close matches for a mistyped name; ``x`` also matches ``@org/x``.

    Names are compared on their last segment, so a shared ``@org/`` prefix does not make
    unrelated plugins look alike.
    """
    tail = name.rsplit("/", 1)[-1].lower()
    scored = []
    for candidate in candidates:
        candidate_tail = candidate.rsplit("/", 1)[-1].lower()
        score = max(
            difflib.SequenceMatcher(None, tail, candidate_tail).ratio(),
            difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio() - 0.1,
        )
        if score >= 0.7:
            scored.append((-score, candidate))
    return [candidate for _, candidate in sorted(scored)[:limit]]


def get_plugin(name: str | None = None, plugin_dir: str | None = None) -> PluginDefinition:
    """Returns the definition of the plugin called ``name`` (or in folder ``plugin_dir``).

    Raises :class:`PluginNotFoundError` (with close matches) when there is none, and
    :class:`PluginDefinitionError` when the folder's manifest is invalid.
    """
    if plugin_dir is not None:
        return PluginDefinition.from_dir(
            os.path.abspath(plugin_dir), plugins_dir=_config.get_plugins_dir()
        )
    if name is None:
        raise ValueError("give a plugin name or a plugin_dir")
    found = discovery.all_plugins()
    plugin = found.get(name)
    if plugin is None:
        raise PluginNotFoundError(name, suggest_names(name, [p.name for p in found.plugins]))
    return plugin


def find_plugin(name: str) -> str:
    """Returns the directory of the plugin called ``name``."""
    return get_plugin(name).directory


def _set_enabled(name: str, enabled: bool, allow_missing: bool) -> None:
    if not allow_missing:
        plugin = get_plugin(name)
        if plugin.builtin:
            if enabled:
                return
            raise BuiltinPluginError(f"Builtin plugin {name!r} cannot be disabled", name=name)

    def change(data: dict[str, Any]) -> None:
        plugins = data.setdefault("plugins", {})
        settings = plugins.get(name)
        if enabled:
            if isinstance(settings, dict):
                settings.pop("enabled", None)
                if not settings:
                    plugins.pop(name, None)
        else:
            if not isinstance(settings, dict):
                settings = plugins[name] = {}
            settings["enabled"] = False
        # an emptied "plugins" object stays, as FiftyOne leaves it

    _config.update_app_config(change)
    discovery.invalidate()


def enable_plugin(name: str, _allow_missing: bool = False) -> None:
    """Enables a plugin by removing its ``enabled: false`` entry from the App config."""
    _set_enabled(name, True, _allow_missing)


def disable_plugin(name: str, _allow_missing: bool = False) -> None:
    """Disables a plugin by writing ``enabled: false`` for it in the App config."""
    _set_enabled(name, False, _allow_missing)


def _remove_folder(path: str, plugins_dir: str) -> None:
    """Removes a plugin folder, refusing anything that is not strictly inside plugins_dir."""
    root = os.path.realpath(plugins_dir)
    parent = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if not (parent == root or parent.startswith(root + os.sep)):
        raise PluginError(f"Refusing to delete {path}: it is not inside {plugins_dir}")
    if os.path.islink(path):
        os.unlink(path)  # a linked plugin: remove the link, never its target
        return
    real = os.path.realpath(path)
    if real == root or not real.startswith(root + os.sep):
        raise PluginError(f"Refusing to delete {path}: it is not inside {plugins_dir}")
    shutil.rmtree(real)
    with contextlib.suppress(OSError):  # tidy an emptied '@org' folder
        if parent != root and not os.listdir(parent):
            os.rmdir(parent)


def delete_plugin(name: str) -> list[str]:
    """Deletes every folder holding plugin ``name`` (shadowed copies too) and returns them.

    Only folders inside the plugins directory are removed; builtins cannot be deleted.
    """
    plugin = get_plugin(name)
    if plugin.builtin:
        raise BuiltinPluginError(f"Builtin plugin {name!r} cannot be deleted", name=name)
    plugins_dir = _config.get_plugins_dir()
    folders = [plugin.directory] + [
        p for p in plugin.shadow_paths if not p.startswith(discovery.BUILTIN_PLUGINS_DIR)
    ]
    try:
        for folder in folders:
            _remove_folder(folder, plugins_dir)
    finally:
        discovery.invalidate()
    return folders


# -- creating plugins ----------------------------------------------------------------------------

_SCAFFOLD_PY = '''"""{name}: {description}"""

import fiftyone_plugins.operators as foo
import fiftyone_plugins.operators.types as types


class SayHello(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="say_hello",
            label="Say hello",
            description="Returns a greeting for the given name",
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        inputs.str("name", label="Name", default="world")
        return types.Property(inputs)

    def execute(self, ctx):
        return {{"message": "Hello, " + ctx.params.get("name", "world") + "!"}}

    def __call__(self, name="world", **kwargs):
        return foo.execute_operator(self.uri, params=dict(name=name), **kwargs)


def register(p):
    p.register(SayHello)
'''


def _copy_into(sources: Sequence[str] | str, target: str) -> None:
    if isinstance(sources, str):
        sources = [sources]
    if len(sources) == 1 and os.path.isdir(sources[0]):
        shutil.copytree(sources[0], target, dirs_exist_ok=True, symlinks=True)
        return
    for source in sources:
        dest = os.path.join(target, os.path.basename(os.path.normpath(source)))
        if os.path.isdir(source):
            shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(source, dest)


def create_plugin(
    plugin_name: str,
    from_files: Sequence[str] | str | None = None,
    outdir: str | None = None,
    description: str | None = None,
    version: str | None = None,
    overwrite: bool = False,
    label: str | None = None,
    plugin_version: str | None = None,
    **kwargs: Any,
) -> str:
    """Creates a plugin folder and returns its path.

    Without ``from_files`` a working plugin is scaffolded (one ``say_hello`` operator);
    with it, the given folder (or list of files and folders) is copied in and its manifest,
    if any, is updated. ``version`` is the FiftyOne version requirement written to
    ``fiftyone.version`` (as in the reference); ``plugin_version`` is the plugin's own
    version. Extra keyword arguments become manifest keys. The folder is
    ``<outdir or plugins dir>/<@org>/<name>``; an existing one is replaced only with
    ``overwrite=True``, and only once the new copy is complete.
    """
    import yaml

    reason = validate_plugin_name(plugin_name)
    if reason:
        raise PluginError(f"Cannot create plugin: {reason}", name=plugin_name)
    base = _config.expand_path(outdir) if outdir else _config.get_plugins_dir()
    target = os.path.join(base, *plugin_name.split("/"))
    if os.path.lexists(target) and not overwrite:
        raise PluginExistsError(
            f"{target} already exists; pass overwrite=True (--overwrite) to replace it",
            name=plugin_name,
        )
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".creating-", dir=os.path.dirname(target))
    try:
        manifest: dict[str, Any] = {}
        if from_files:
            _copy_into(from_files, staging)
            for manifest_name in ("fiftyone.yml", "fiftyone.yaml"):
                existing = os.path.join(staging, manifest_name)
                if os.path.isfile(existing):
                    with open(existing, encoding="utf-8") as f:
                        loaded = yaml.safe_load(f)
                    manifest = dict(loaded) if isinstance(loaded, dict) else {}
                    os.remove(existing)
                    break
        manifest["name"] = plugin_name
        if label is not None or "label" not in manifest:
            manifest["label"] = label or plugin_name.rsplit("/", 1)[-1]
        if description is not None or "description" not in manifest:
            manifest["description"] = description or f"The {plugin_name} plugin"
        if plugin_version is not None or "version" not in manifest:
            manifest["version"] = plugin_version or "0.1.0"
        if version is not None:
            manifest["fiftyone"] = {"version": version}
        manifest.update(kwargs)
        if not from_files:
            manifest.setdefault("operators", ["say_hello"])
            with open(os.path.join(staging, "__init__.py"), "w", encoding="utf-8") as f:
                f.write(_SCAFFOLD_PY.format(name=plugin_name, description=manifest["description"]))
            with open(os.path.join(staging, "README.md"), "w", encoding="utf-8") as f:
                f.write(f"# {plugin_name}\n\n{manifest['description']}\n")
        with open(os.path.join(staging, "fiftyone.yml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(manifest, f, sort_keys=False)
        PluginDefinition.from_dir(staging)  # what we wrote must be valid
        if os.path.lexists(target):
            retired = tempfile.mkdtemp(prefix=".replaced-", dir=os.path.dirname(target))
            os.rename(target, os.path.join(retired, "old"))
            os.rename(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, target)
        discovery.invalidate()
    except PluginDefinitionError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise PluginError(f"Cannot create plugin: {e.reason}", name=plugin_name) from e
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
