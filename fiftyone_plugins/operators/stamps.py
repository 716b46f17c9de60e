"""What changes when a plugin's files change: the stamps the registry compares.

:func:`file_stamp` covers the manifest and every ``.py`` file of the plugin (a bounded walk
that skips ``__pycache__``, hidden folders and ``node_modules``), so an edit of any module,
not only of the entry file, makes the registry import the plugin again.
"""

from __future__ import annotations

import os
from typing import Any

from ..definitions import PluginDefinition

__all__ = [
    "MAX_STAMPED_ENTRIES",
    "SKIPPED_FOLDERS",
    "file_stamp",
    "folder_stamp",
    "has_links",
    "source_stamps",
]

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


def source_stamps(
    directory: str, folders: list[str] | None = None, every_file: bool = False
) -> tuple[tuple[str, int, int, int], ...]:
    """``(path, mtime_ns, size, inode)`` of the ``.py`` files in a plugin folder, subfolders
    included (not ``__pycache__``, ``node_modules``, hidden or symlinked folders), looking at
    :data:`MAX_STAMPED_ENTRIES` folder entries at most. The folders walked are appended to
    ``folders`` when given (what a watcher of the sources must watch). With ``every_file``,
    every file counts, not only ``.py`` ones (data files a plugin may read at import)."""
    stamps: list[tuple[str, int, int, int]] = []
    budget = MAX_STAMPED_ENTRIES
    pending = [directory]
    while pending and budget > 0:
        folder = pending.pop()
        if folders is not None:
            folders.append(folder)
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
                    elif every_file or name.endswith(".py"):
                        st = entry.stat()
                        stamps.append((entry.path, st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:  # a folder or file that vanished or cannot be read
            continue
    stamps.sort()
    return tuple(stamps)


def file_stamp(definition: PluginDefinition, folders: list[str] | None = None) -> tuple[Any, ...]:
    """What changes when the plugin's manifest or any of its Python files is edited, added
    or removed (``folders``: see :func:`source_stamps`)."""
    stamps: list[Any] = [definition.manifest_path, _stat(definition.manifest_path)]
    entry = _stat(definition.py_entry_path)
    stamps.append(entry)
    if entry is not None:  # a JS-only plugin has no Python files to watch
        stamps.append(source_stamps(definition.directory, folders))
    return tuple(stamps)


def folder_stamp(definition: PluginDefinition) -> tuple[Any, ...]:
    """What changes when any file of the plugin is edited, added or removed (its manifest,
    its Python files and every other file it may read when imported)."""
    return (
        definition.manifest_path,
        _stat(definition.manifest_path),
        source_stamps(definition.directory, every_file=True),
    )


def has_links(stamp: tuple[Any, ...]) -> bool:
    """Whether a :func:`file_stamp` covers a symbolic link: an edit of its target raises no
    event in the plugin's folders, so only comparing stamps sees it."""
    paths = [stamp[0]] + [entry[0] for entry in (stamp[3] if len(stamp) > 3 else ())]
    return any(os.path.islink(path) for path in paths)
