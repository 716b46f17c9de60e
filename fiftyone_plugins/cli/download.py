"""The ``plugins download`` command: a progress bar on a terminal, then a table of outcomes.

Every plugin the source holds gets a row: installed, overwritten, skipped (already
installed; ``--overwrite`` replaces it), invalid (its manifest's fault) or ignored (a manifest
that is not a plugin). The exit status is non-zero only when a plugin that was asked for
could not be installed; errors that stop the whole download are raised to the CLI's one
error handler.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from ._output import print_table

if TYPE_CHECKING:  # pragma: no cover
    from ..download import DownloadResult

__all__ = ["ProgressBar", "rows", "run"]

_BAR_WIDTH = 30
_REFRESH_SECONDS = 0.1


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


class ProgressBar:
    """Draws ``label [####    ]  42%  1.2 MB / 2.9 MB`` in place, at most ten times a second."""

    def __init__(self, stream: TextIO, label: str = "Downloading") -> None:
        self.stream = stream
        self.label = label
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if self._drawn and not final and now - self._last < _REFRESH_SECONDS:
            return
        self._last = now
        if total:
            fraction = min(1.0, done / total)
            bar = "#" * int(fraction * _BAR_WIDTH)
            line = (
                f"{self.label} [{bar:<{_BAR_WIDTH}}] {fraction:4.0%}  "
                f"{_size(done)} / {_size(total)}"
            )
        else:
            line = f"{self.label}  {_size(done)}"
        self.stream.write("\r" + line.ljust(72))
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _short(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def rows(result: DownloadResult) -> list[tuple[str, str, str, str]]:
    """One ``(plugin, status, directory, note)`` row per plugin the source held."""
    out: list[tuple[str, str, str, str]] = []
    for name, directory in result.items():
        status = "overwritten" if name in result.overwritten else "installed"
        out.append((name, status, _short(directory), ""))
    for name, directory in result.skipped.items():
        out.append(
            (name, "skipped", _short(directory), "already installed; --overwrite replaces it")
        )
    for error in result.errors:
        out.append((getattr(error, "name", None) or "-", "invalid", error.path, error.reason))
    for path, why in result.ignored.items():
        out.append(("-", "ignored", path, why))
    return out


def run(args: argparse.Namespace) -> int:
    from ..download import download_plugin

    stream: Any = sys.stderr
    bar = ProgressBar(stream) if stream.isatty() else None
    try:
        result = download_plugin(
            args.url_or_gh_repo,
            plugin_names=args.plugin_names or None,
            max_depth=args.max_depth,
            overwrite=args.overwrite,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.finish()
    print_table(["plugin", "status", "directory", "note"], rows(result))
    summary = f"Installed {len(result)} plugin(s) from {result.source}"
    if result.overwritten:
        summary += f" ({len(result.overwritten)} replacing an installed copy)"
    print(summary)
    if result.skipped:
        print(
            f"Skipped {len(result.skipped)} plugin(s) already installed; "
            "pass --overwrite to replace them"
        )
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if result.errors else 0
