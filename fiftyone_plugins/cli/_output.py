"""Plain-text tables and small printing helpers shared by the command groups."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CHECK",
    "check",
    "format_table",
    "print_json",
    "print_key_values",
    "print_table",
    "warn",
]

CHECK = "\u2713"


def check(value: Any) -> str:
    """A check mark for true values, blank otherwise (as the reference's tables show)."""
    return CHECK if value else ""


def _cell_lines(value: Any) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, bool):
        return [str(value)]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value] or [""]
    return str(value).splitlines() or [""]


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Formats rows under headers with a dashed rule; list cells span several lines."""
    expanded: list[list[str]] = []
    for row in rows:
        if all(type(v) is str and "\n" not in v for v in row):  # the usual row: one line
            expanded.append(list(row))
            continue
        cells = [_cell_lines(v) for v in row]
        height = max(len(c) for c in cells) if cells else 1
        for i in range(height):
            expanded.append([c[i] if i < len(c) else "" for c in cells])
    widths = [len(h) for h in headers]
    for line in expanded:
        for i, cell in enumerate(line):
            widths[i] = max(widths[i], len(cell))
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out.extend(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in expanded
    )
    return "\n".join(out)


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    print(format_table(headers, rows))


def print_key_values(items: Iterable[tuple[str, Any]]) -> None:
    """Prints the ``key  value`` table used by the ``info`` commands."""
    print_table(["key", "value"], items)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=4, default=str))


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
