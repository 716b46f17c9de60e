"""Finding the plugins of a staged source, choosing which to install, and moving them in.

Everything before :func:`install` only reads the staging folder. :func:`install` then renames
each chosen plugin folder into the plugins directory (same file system, so each move is
atomic), keeping a journal; if any step fails the journal is undone in reverse, leaving the
plugins directory as it was. Replaced copies are moved aside first and deleted only after
every new copy is in place.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque

from ..definitions import MANIFEST_NAMES, PluginDefinition, _short_repr, find_manifest
from ..errors import (
    DownloadError,
    NoPluginsFoundError,
    PluginDefinitionError,
    UnsafeArchiveError,
)

__all__ = [
    "SKIPPED_FOLDERS",
    "Installed",
    "Scan",
    "check_links",
    "deeper_manifest",
    "install",
    "make_dirs",
    "manifest_folders",
    "plugin_target",
    "scan",
    "select",
]

logger = logging.getLogger(__name__)

#: folders never searched for manifests (besides hidden ones)
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages"})
#: how deep to look, after a search found nothing, to suggest a larger ``max_depth``
_HINT_DEPTH = 8


@dataclasses.dataclass
class Scan:
    """What the manifests of a staged source say."""

    #: valid plugins (``type`` absent or ``plugin``), first of each name, shallowest first
    plugins: list[PluginDefinition]
    #: invalid manifests (paths relative to the source root; ``.name`` when one is declared)
    errors: list[PluginDefinitionError]
    #: manifests left alone on purpose: relative path -> why
    ignored: dict[str, str]


def manifest_folders(start: str, max_depth: int) -> list[tuple[int, str]]:
    """Folders below ``start`` holding a manifest, breadth-first, as ``(depth, path)``.

    A plugin folder is not searched further; symlinked folders are never followed.
    """
    found: list[tuple[int, str]] = []
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    while queue:
        folder, depth = queue.popleft()
        if find_manifest(folder):
            found.append((depth, folder))
            continue
        if depth >= max_depth:
            continue
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS:
                continue
            if entry.is_dir(follow_symlinks=False):
                queue.append((entry.path, depth + 1))
    return found


def _raw_name(manifest_path: str) -> str | None:
    """The ``name`` an invalid manifest declares, so a request for it gets a precise error."""
    import yaml

    try:
        with open(manifest_path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def scan(root: str, start: str, max_depth: int) -> Scan:
    """Validates every manifest within ``max_depth`` levels of ``start`` (inside ``root``)."""
    result = Scan([], [], {})
    seen: dict[str, str] = {}
    for _, folder in manifest_folders(start, max_depth):
        manifest = find_manifest(folder) or os.path.join(folder, MANIFEST_NAMES[0])
        rel = os.path.relpath(manifest, root)
        try:
            plugin = PluginDefinition.from_dir(folder)
        except PluginDefinitionError as e:
            result.errors.append(PluginDefinitionError(rel, e.reason, name=_raw_name(manifest)))
            continue
        kind = plugin.manifest.get("type")
        if kind is not None and kind != "plugin":
            result.ignored[rel] = f"type {_short_repr(kind)} is not a plugin"
            continue
        if plugin.name in seen:
            result.ignored[rel] = f"duplicate of {plugin.name!r} in {seen[plugin.name]}"
            continue
        seen[plugin.name] = rel
        result.plugins.append(plugin)
    return result


def deeper_manifest(start: str, max_depth: int) -> tuple[int, str] | None:
    """The shallowest manifest beyond ``max_depth``, to suggest a larger depth."""
    for depth, folder in manifest_folders(start, max(max_depth, _HINT_DEPTH)):
        if depth > max_depth:
            return depth, folder
    return None


def select(found: Scan, plugin_names: list[str] | None, where: str) -> list[PluginDefinition]:
    """The plugins to install: all valid ones, or those named (by full or short name)."""
    if plugin_names is None:
        return list(found.plugins)
    by_name = {p.name: p for p in found.plugins}
    chosen: list[PluginDefinition] = []
    missing: list[str] = []
    for wanted in dict.fromkeys(plugin_names):
        plugin = by_name.get(wanted)
        if plugin is None and "/" not in wanted:  # "annotation" for "@voxel51/annotation"
            matches = [p for p in found.plugins if p.name.rsplit("/", 1)[-1] == wanted]
            plugin = matches[0] if len(matches) == 1 else None
        if plugin is None:
            for error in found.errors:
                name = error.name
                if name is not None and wanted in (name, name.rsplit("/", 1)[-1]):
                    raise error
            missing.append(wanted)
        elif plugin not in chosen:
            chosen.append(plugin)
    if missing:
        names = ", ".join(repr(n) for n in missing)
        available = ", ".join(repr(p.name) for p in found.plugins) or "none"
        raise NoPluginsFoundError(
            f"Plugin(s) {names} not found in {where}; plugins found: {available}"
        )
    return chosen


def check_links(plugin: PluginDefinition, root: str) -> None:
    """Refuses a plugin whose symlinks would point outside its own folder once installed."""
    base = os.path.realpath(plugin.directory)
    for folder, dirs, files in os.walk(plugin.directory):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                continue
            real = os.path.realpath(path)
            if real != base and not real.startswith(base + os.sep):
                rel = os.path.relpath(path, root)
                raise UnsafeArchiveError(
                    f"Refused archive entry {rel!r}: symbolic link to {os.readlink(path)!r} "
                    f"points outside plugin {plugin.name!r}",
                    entry=rel,
                )


def plugin_target(plugins_dir: str, name: str) -> str:
    """``<plugins dir>/<@org>/<name>``; names are validated, but check once more anyway."""
    parts = name.split("/")
    if any(p in ("", ".", "..") or os.sep in p for p in parts):  # pragma: no cover
        raise DownloadError(f"Unsafe plugin name {name!r}")
    return os.path.join(plugins_dir, *parts)


def _foreign(path: str, name: str, folders: dict[str, str]) -> bool:
    """Whether ``path`` is or holds the folder of a plugin not called ``name``."""
    return any(
        owner != name and (folder == path or folder.startswith(path + os.sep))
        for folder, owner in folders.items()
    )


def _free_target(plugins_dir: str, name: str, folders: dict[str, str]) -> str:
    """:func:`plugin_target`, or ``<target>-2``, ``-3``... while that holds another plugin.

    A target inside another plugin's folder would be hidden by it: that is an error.
    """
    target = plugin_target(plugins_dir, name)
    inside = os.path.join(plugins_dir, "")
    folders = {f: n for f, n in folders.items() if f.startswith(inside) and f != inside}
    for folder, owner in folders.items():
        if owner != name and target.startswith(folder + os.sep):
            raise DownloadError(
                f"Cannot install {name!r} into {target}: it lies inside the folder of "
                f"plugin {owner!r}"
            )
    candidate, number = target, 1
    while _foreign(candidate, name, folders) or (
        candidate != target and os.path.lexists(candidate) and folders.get(candidate) != name
    ):
        number += 1
        candidate = f"{target}-{number}"
    if candidate != target:
        logger.warning(
            "%s holds another plugin; installing %r into %s instead", target, name, candidate
        )
    return candidate


def make_dirs(path: str) -> list[str]:
    """``os.makedirs`` that returns the folders it created, outermost first."""
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    missing.reverse()
    for folder in missing:
        os.mkdir(folder)
    return missing


class _Journal:
    """Renames and folder creations, undone in reverse order if the install fails."""

    def __init__(self) -> None:
        self._undo: list[tuple[str, str, str]] = []

    def makedirs(self, path: str) -> None:
        for folder in make_dirs(path):
            self._undo.append(("rmdir", folder, ""))

    def move(self, src: str, dst: str) -> None:
        os.rename(src, dst)
        self._undo.append(("move", dst, src))

    def rollback(self) -> None:
        for op, a, b in reversed(self._undo):
            try:
                if op == "move":
                    os.rename(a, b)
                else:
                    os.rmdir(a)
            except OSError as e:  # pragma: no cover - best effort; keep undoing the rest
                logger.error("could not undo %s of %s: %s", op, a, e)
        self._undo.clear()


@dataclasses.dataclass
class Installed:
    installed: dict[str, str]
    skipped: dict[str, str]
    overwritten: list[str]


def install(
    plugins: list[PluginDefinition],
    plugins_dir: str,
    staging: str,
    *,
    overwrite: bool,
    existing: dict[str, str],
    folders: dict[str, str] | None = None,
) -> Installed:
    """Moves the staged ``plugins`` into ``plugins_dir``, all or nothing.

    ``existing`` maps installed plugin names to their folders. Without ``overwrite`` such
    plugins (and occupied target folders) are skipped; with it, the old folder is moved aside
    into ``staging`` and is deleted with it, after every new copy is in place.
    ``folders`` maps every installed plugin folder to its plugin's name: a target folder that
    holds, or lies inside, *another* plugin is never replaced; a free sibling is used instead.
    """
    outcome = Installed({}, {}, [])
    retired = os.path.join(staging, "replaced")
    journal = _Journal()
    try:
        for plugin in plugins:
            target = _free_target(plugins_dir, plugin.name, folders or {})
            old = existing.get(plugin.name)
            occupied = [p for p in (old, target) if p and os.path.lexists(p)]
            if occupied and not overwrite:
                outcome.skipped[plugin.name] = occupied[0]
                continue
            for path in sorted(set(occupied), key=len):  # an ancestor first: it takes the rest
                if os.path.lexists(path):
                    os.makedirs(retired, exist_ok=True)
                    journal.move(path, os.path.join(retired, str(len(os.listdir(retired)))))
            journal.makedirs(os.path.dirname(target))
            journal.move(plugin.directory, target)
            outcome.installed[plugin.name] = target
            if occupied:
                outcome.overwritten.append(plugin.name)
    except OSError as e:
        journal.rollback()
        raise DownloadError(
            f"Cannot install plugins into {plugins_dir}: {e.strerror or e}; nothing was changed"
        ) from e
    except BaseException:
        journal.rollback()
        raise
    return outcome
