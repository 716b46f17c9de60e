"""Files that let one-shot processes skip work that nothing has changed since the last one.

A CLI command is a fresh process: without remembering anything, ``plugins list`` parses every
manifest and ``operators list`` imports every plugin, each time. Two JSON files in the
plugins cache folder remember what those steps produced, each entry keyed by everything that
can change it, so a stale entry is never used:

- ``manifests.json`` (:class:`ManifestCache`): each manifest's parsed YAML, keyed by the
  file's modification time, size and inode;
- ``registrations.json`` (:mod:`fiftyone_plugins.operators.registrations`): what each plugin
  registered, keyed by its files' stamps and the Python environment.

The folder is the config field ``plugins_cache_dir`` (env ``FIFTYONE_PLUGINS_CACHE_DIR``), by
default ``cache/`` beside the config file; ``off`` turns both files off. Unreadable or corrupt
files are ignored and rewritten; writes are atomic (a temporary file, then a rename), and a
failed write is only logged: remembering is an optimization, never a source of truth.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from typing import Any

__all__ = ["ManifestCache", "cache_file", "read_cache", "write_cache"]

logger = logging.getLogger("fiftyone_plugins")

#: files modified this recently may change again within the same clock tick: not remembered
_RACY_NS = 100_000_000


def cache_file(name: str) -> str | None:
    """The path of the cache file ``name``, or ``None`` when caching is turned off."""
    from .config import load_config, locate_config

    setting = (load_config().plugins_cache_dir or "").strip()
    if setting.lower() in ("off", "0", "false", "no", "none"):
        return None
    folder = (
        os.path.abspath(os.path.expanduser(setting))
        if setting
        else os.path.join(os.path.dirname(locate_config()), "cache")
    )
    return os.path.join(folder, name)


def read_cache(path: str, fmt: int, environment: Any = None) -> dict[str, Any]:
    """The entries of a cache file written with format ``fmt`` for ``environment`` (``{}``
    when it is missing, unreadable, corrupt, or written for something else)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        logger.debug("ignoring the cache file %s: %s", path, e)
        return {}
    if (
        isinstance(data, dict)
        and data.get("format") == fmt
        and data.get("environment") == environment
        and isinstance(data.get("entries"), dict)
    ):
        return data["entries"]  # type: ignore[no-any-return]
    return {}


def write_cache(path: str, fmt: int, entries: dict[str, Any], environment: Any = None) -> None:
    """Writes a cache file atomically; a failure is logged, never raised."""
    folder = os.path.dirname(path) or "."
    data = {"format": fmt, "environment": environment, "entries": entries}
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cache-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        logger.debug("could not write the cache file %s: %s", path, e)


class ManifestCache:
    """Parsed manifests by path, valid while the file's stamp is unchanged."""

    FORMAT = 1

    def __init__(self, path: str, entries: dict[str, Any]) -> None:
        self.path = path
        self._entries = entries
        self._dirty = False

    @classmethod
    def open(cls) -> ManifestCache | None:
        path = cache_file("manifests.json")
        return None if path is None else cls(path, read_cache(path, cls.FORMAT))

    def get(self, manifest: str, st: os.stat_result) -> Any:
        """The parsed YAML of ``manifest`` if it is unchanged since remembered, else None."""
        entry = self._entries.get(manifest)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == _stamp(st):
            return entry[1]
        return None

    def put(self, manifest: str, st: os.stat_result, data: Any) -> None:
        """Remembers ``data`` (JSON-ready) parsed from ``manifest`` as ``st`` describes it."""
        if time.time_ns() - st.st_mtime_ns < _RACY_NS:
            return
        try:
            json.dumps(data)
        except (TypeError, ValueError):  # YAML can hold dates, sets...: parse it each time
            return
        self._entries[manifest] = [_stamp(st), data]
        self._dirty = True

    def save(self) -> None:
        if self._dirty:
            write_cache(self.path, self.FORMAT, self._entries)
            self._dirty = False


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_mtime_ns, st.st_size, st.st_ino]
