"""A tiny, safe Markdown subset, rendered to data rather than to HTML.

Plugins write Markdown in ``MarkdownView`` properties. Rendering it to an HTML string would
mean trusting a sanitizer; instead this module turns the text into *blocks* of *spans*
(plain data), which the page's script builds with ``createElement`` and ``textContent``.
Whatever a plugin writes, no tag or attribute of its choosing can reach the page.

Supported: ``#``-headings, paragraphs, ``-``/``*``/``1.`` list items, fenced code blocks,
``**bold**``, ``*italic*``, `` `code` `` and ``[text](https://...)`` links (only ``http``,
``https`` and ``mailto`` targets become links; anything else stays text).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["render_inline", "render_markdown"]

_INLINE = re.compile(
    r"(?P<code>`[^`]+`)"
    r"|(?P<bold>\*\*[^*]+\*\*)"
    r"|(?P<italic>\*[^*\s][^*]*\*|_[^_\s][^_]*_)"
    r"|(?P<link>\[[^\]]+\]\([^)\s]+\))"
)
_SAFE_SCHEMES = ("https://", "http://", "mailto:")


def render_inline(text: str) -> list[dict[str, Any]]:
    """Spans of one line: ``{"t": "text"|"strong"|"em"|"code"|"a", "v": text, "href"?}``."""
    spans: list[dict[str, Any]] = []
    pos = 0
    for match in _INLINE.finditer(text):
        if match.start() > pos:
            spans.append({"t": "text", "v": text[pos : match.start()]})
        token = match.group(0)
        kind = match.lastgroup
        if kind == "code":
            spans.append({"t": "code", "v": token[1:-1]})
        elif kind == "bold":
            spans.append({"t": "strong", "v": token[2:-2]})
        elif kind == "italic":
            spans.append({"t": "em", "v": token[1:-1]})
        else:
            label, _, href = token[1:-1].partition("](")
            if href.lower().startswith(_SAFE_SCHEMES):
                spans.append({"t": "a", "v": label, "href": href})
            else:
                spans.append({"t": "text", "v": label})
        pos = match.end()
    if pos < len(text):
        spans.append({"t": "text", "v": text[pos:]})
    return spans


def render_markdown(source: str) -> list[dict[str, Any]]:
    """Blocks: ``{"t": "h", "level": n, "spans": [...]}``, ``{"t": "p", "spans"}``,
    ``{"t": "ul"|"ol", "items": [spans, ...]}`` and ``{"t": "pre", "v": text}``."""
    blocks: list[dict[str, Any]] = []
    paragraph: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            blocks.append({"t": "p", "spans": render_inline(" ".join(paragraph))})
            paragraph.clear()

    for raw in source.splitlines():
        line = raw.strip()
        if code is not None:
            if line.startswith("```"):
                blocks.append({"t": "pre", "v": "\n".join(code)})
                code = None
            else:
                code.append(raw)
            continue
        if line.startswith("```"):
            flush()
            code = []
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        item = re.match(r"([-*]|\d+\.)\s+(.*)", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            blocks.append({"t": "h", "level": level, "spans": render_inline(heading.group(2))})
        elif item:
            flush()
            kind = "ol" if item.group(1)[0].isdigit() else "ul"
            if not blocks or blocks[-1]["t"] != kind:
                blocks.append({"t": kind, "items": []})
            blocks[-1]["items"].append(render_inline(item.group(2)))
        else:
            paragraph.append(line)
    flush()
    if code is not None:
        blocks.append({"t": "pre", "v": "\n".join(code)})
    return blocks
