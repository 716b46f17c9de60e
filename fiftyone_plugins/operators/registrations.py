"""What each plugin registered, remembered across processes, so a listing imports no code.

``fiftyone-plugins operators list`` is a fresh process each time: without this it imports (and
compiles) every enabled plugin just to print their operators' names. :class:`Registrations`
keeps, in one JSON file, the operators each plugin registered (name, unlisted, panel) and its
registration errors, under a key made of what can change them:

- the plugin's files: its :func:`~.stamps.folder_stamp` (the manifest and every file of the
  folder, data files included);
- the environment: the interpreter (version and executable), this library's version,
  whether the real FiftyOne is installed, and the modification stamps of the folders on
  ``sys.path`` (installing or removing a distribution changes its ``site-packages``).

What it cannot see is a registration that depends on something else, such as an
environment variable read at import time: list such plugins with the cache turned off. A
plugin whose import failed is never remembered (it is imported again next time, as its
requirements may have been installed since). Enabling or disabling a plugin needs no new
entry: what a plugin registers does not depend on it, and the listing reads enablement from
the App config as always. Only listings use this (``list_entries(remembered=True)``);
running an operator always imports its plugin.

The file is ``registrations.json`` in the plugins cache folder
(:mod:`fiftyone_plugins.plugin_cache`: config ``plugins_cache_dir``, ``off`` turns it off).
A corrupt or unreadable file is ignored (and rewritten); writes are atomic.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from .._version import __version__
from ..errors import FiftyOnePluginsError, OperatorRegistrationError
from ..plugin_cache import cache_file, read_cache, write_cache

__all__ = ["FORMAT", "Registrations", "Remembered", "environment_key"]

logger = logging.getLogger("fiftyone_plugins.operators")

#: the file's format version; another value means "start afresh"
FORMAT = 1


class Remembered:
    """What one plugin registered: ``(name, unlisted, panel)`` per operator, and errors."""

    __slots__ = ("operators", "errors")

    def __init__(
        self, operators: list[tuple[str, bool, bool]], errors: list[FiftyOnePluginsError]
    ) -> None:
        self.operators = operators
        self.errors = errors


def environment_key() -> str:
    """Everything outside a plugin's folder that can change what its import registers."""
    from ..compat import fiftyone_installed

    cwd = os.getcwd()
    folders = []
    for entry in sys.path:
        if not entry or entry == cwd:  # the working folder changes all the time
            continue
        try:
            folders.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            continue
    return json.dumps(
        [sys.version, sys.executable, __version__, fiftyone_installed(), folders],
        separators=(",", ":"),
    )


class Registrations:
    """The remembered registrations of one file (see the module docstring)."""

    def __init__(self, path: str, environment: str, plugins: dict[str, Any]) -> None:
        self.path = path
        self.environment = environment
        self._plugins = plugins
        self._dirty = False

    @classmethod
    def open(cls) -> Registrations | None:
        """The configured file's registrations (``None`` when remembering is off)."""
        path = cache_file("registrations.json")
        if path is None:
            return None
        environment = environment_key()
        return cls(path, environment, read_cache(path, FORMAT, environment))

    def get(self, directory: str, stamp: tuple[Any, ...]) -> Remembered | None:
        """What the plugin in ``directory`` registered, if its files are as ``stamp`` says."""
        entry = self._plugins.get(directory)
        if not isinstance(entry, dict) or entry.get("stamp") != _stamp_text(stamp):
            return None
        try:
            operators = [(str(n), bool(u), bool(p)) for n, u, p in entry["operators"]]
            errors: list[FiftyOnePluginsError] = [
                OperatorRegistrationError(str(message), uri=uri, name=name)
                for message, uri, name in entry["errors"]
            ]
        except (KeyError, TypeError, ValueError):
            return None
        return Remembered(operators, errors)

    def put(self, directory: str, stamp: tuple[Any, ...], remembered: Remembered) -> None:
        """Remembers what the plugin in ``directory`` registered (registration errors only:
        a plugin that failed to import is never remembered)."""
        errors = [
            [str(e), getattr(e, "uri", None), getattr(e, "name", None)]
            for e in remembered.errors
            if isinstance(e, OperatorRegistrationError)
        ]
        self._plugins[directory] = {
            "stamp": _stamp_text(stamp),
            "operators": [list(op) for op in remembered.operators],
            "errors": errors,
        }
        self._dirty = True

    def save(self) -> None:
        """Writes the file if anything new was remembered."""
        if self._dirty:
            write_cache(self.path, FORMAT, self._plugins, self.environment)
            self._dirty = False


def _stamp_text(stamp: tuple[Any, ...]) -> str:
    # a stamp holds tuples of paths, integers and None: its repr is exact, and cheap
    return repr(stamp)
