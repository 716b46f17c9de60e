"""Look at plugins in a repository without installing them (FiftyOne's ``fiftyone.plugins.utils``).

Plugin managers (such as the ``@voxel51/plugins`` plugin) ask what a repository offers before
downloading: :func:`find_plugins` lists its manifests, :func:`get_plugin_info` reads one, and
:func:`list_zoo_plugins` reads the table of plugins in the README of the FiftyOne plugins
repository. Sources are the ones :func:`~fiftyone_plugins.download_plugin` accepts (GitHub
repos, refs, tree and blob URLs, archive URLs, local paths), fetched the same way (retries,
``GITHUB_TOKEN`` kept on GitHub) into a temporary folder that is removed afterwards; nothing
is installed.
"""

from __future__ import annotations

import contextlib
import html.parser
import multiprocessing.dummy  # noqa: F401 - FiftyOne's module imports it; plugins rely on it
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from ..config import load_config
from ..definitions import MANIFEST_NAMES, find_manifest
from ..errors import SourceNotFoundError
from .install import manifest_folders
from .sources import parse_source

__all__ = ["ZOO_REPOSITORY", "find_plugins", "get_plugin_info", "list_zoo_plugins"]

#: the repository whose README lists the plugins of FiftyOne's plugin zoo
ZOO_REPOSITORY = "voxel51/fiftyone-plugins"

#: how deep :func:`find_plugins` searches a repository for manifests
SEARCH_DEPTH = 12


@contextlib.contextmanager
def _fetched(url_or_gh_repo: str) -> Iterator[tuple[str, str, str]]:
    """The source, staged in a temporary folder: ``(root, start folder, label)``."""
    from . import _fetch

    config = load_config()
    source = parse_source(url_or_gh_repo, config.github_url)
    staging = tempfile.mkdtemp(prefix="fiftyone-plugins-info-")
    try:
        root, start, label, _depth = _fetch(source, config, staging, None)
        yield root, start, label
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _manifest_dict(path: str) -> dict[str, Any]:
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return data if isinstance(data, dict) else {}


def find_plugins(
    url_or_gh_repo: str, path: str | None = None, info: bool = False
) -> list[str] | list[dict[str, Any]]:
    """The manifests of every plugin in a repository (or below ``path`` in it).

    Returns their paths relative to the repository root (``plugins/x/fiftyone.yml``), or,
    with ``info=True``, the manifests' contents.
    """
    with _fetched(url_or_gh_repo) as (root, start, _label):
        if path:
            start = os.path.join(start, *path.strip("/").split("/"))
        found = []
        for _depth, folder in manifest_folders(start, SEARCH_DEPTH):
            manifest = find_manifest(folder)
            if manifest is not None:
                found.append(manifest)
        if info:
            return [_manifest_dict(m) for m in found]
        return [os.path.relpath(m, root).replace(os.sep, "/") for m in found]


def get_plugin_info(url_or_gh_repo: str, path: str | None = None) -> dict[str, Any]:
    """The manifest of the plugin at a repository's root, at ``path`` (a folder or a
    manifest file in it), or at a tree/blob URL."""
    for name in MANIFEST_NAMES:  # a blob URL of the manifest itself
        if url_or_gh_repo.endswith("/" + name) and path is None:
            url_or_gh_repo, path = url_or_gh_repo.rsplit("/", 1)
            if "/blob/" in url_or_gh_repo:
                url_or_gh_repo = url_or_gh_repo.replace("/blob/", "/tree/", 1)
    with _fetched(url_or_gh_repo) as (_root, start, label):
        target = os.path.join(start, *path.strip("/").split("/")) if path else start
        manifest = target if os.path.isfile(target) else find_manifest(target)
        if manifest is None:
            where = f"{path!r} of {label}" if path else label
            raise SourceNotFoundError(f"No fiftyone.yml in {where}")
        return _manifest_dict(manifest)


class _ReadmeTable(html.parser.HTMLParser):
    """Collects ``(name, link, description)`` from two-cell ``<tr>`` rows."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str | None, str]] = []
        self._cells: list[list[str]] | None = None
        self._link: str | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._cells, self._link = [], None
        elif tag == "td" and self._cells is not None:
            self._cells.append([])
            self._in_cell = True
        elif tag == "a" and self._in_cell and self._cells and len(self._cells) == 1:
            self._link = self._link or dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "tr" and self._cells is not None:
            if len(self._cells) == 2:
                name, description = (" ".join("".join(c).split()) for c in self._cells)
                if name:
                    self.rows.append((name, self._link, description))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._in_cell and self._cells:
            self._cells[-1].append(data)


def list_zoo_plugins(info: bool = False) -> list[dict[str, Any]]:
    """The plugins listed in the README of :data:`ZOO_REPOSITORY`, as ``name``/``url``/
    ``description`` dicts, or (``info=True``) the manifests of those that can be read."""
    with _fetched(ZOO_REPOSITORY) as (root, _start, _label):
        readme = os.path.join(root, "README.md")
        try:
            with open(readme, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise SourceNotFoundError(f"{ZOO_REPOSITORY} has no readable README.md") from e
    parser = _ReadmeTable()
    parser.feed(text)
    plugins = [
        {"name": name, "url": url, "description": description}
        for name, url, description in parser.rows
        if url
    ]
    if not info:
        return plugins
    details = []
    for plugin in plugins:
        try:
            details.append(get_plugin_info(plugin["url"]))
        except Exception:  # one unreadable entry must not hide the others
            continue
    return details
