"""``download_plugin``: fetch plugins from GitHub, a URL or a local path and install them.

The flow is one-way: :mod:`.sources` classifies the input, :mod:`.http` fetches (retries,
token kept on GitHub origins), :mod:`.archives` extracts safely, and :mod:`.install` finds,
validates and moves the plugins in. Everything is staged in a hidden folder inside the
plugins directory (so the final moves are renames on one file system) that is removed on
the way out, whatever happens: a failure leaves the plugins directory as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from urllib.parse import quote

from .. import discovery
from ..config import Config, load_config
from ..definitions import find_manifest
from ..errors import (
    DownloadError,
    NoPluginsFoundError,
    NotAnArchiveError,
    PluginDefinitionError,
    SourceNotFoundError,
)
from . import install as _install
from .archives import archive_kind, copy_folder, extract_archive
from .http import Fetcher, ProgressCallback, RetryPolicy
from .sources import GitHubSource, LocalSource, Source, UrlSource, parse_source

__all__ = [
    "DownloadResult",
    "ProgressCallback",
    "RetryPolicy",
    "download_plugin",
    "parse_source",
]

_STAGING_PREFIX = ".download-"


class DownloadResult(dict[str, str]):
    """Installed plugin names mapped to their folders, plus what else happened.

    ``overwritten`` names are also keys (they were installed, replacing a copy);
    ``skipped`` maps names that were already installed to their existing folder (pass
    ``overwrite=True`` to replace them); ``errors`` holds one
    :class:`~fiftyone_plugins.errors.PluginDefinitionError` per invalid manifest (paths
    relative to the source); ``ignored`` maps manifests left alone on purpose (a ``type``
    other than ``plugin``, a duplicate name) to why.
    """

    def __init__(self, source: str) -> None:
        super().__init__()
        #: what was downloaded, e.g. ``user/repo@ref`` (URLs without query strings)
        self.source = source
        self.skipped: dict[str, str] = {}
        self.overwritten: list[str] = []
        self.errors: list[PluginDefinitionError] = []
        self.ignored: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"DownloadResult({dict(self)!r}, skipped={self.skipped!r}, "
            f"overwritten={self.overwritten!r}, errors={[str(e) for e in self.errors]!r})"
        )


def download_plugin(
    url_or_gh_repo: str,
    plugin_names: Sequence[str] | str | None = None,
    max_depth: int = 3,
    overwrite: bool = False,
    *,
    progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Downloads and installs the plugin(s) of a GitHub repo, archive URL or local path.

    ``url_or_gh_repo``: ``https://github.com/<user>/<repo>[/tree/<ref>[/<folder>]]``, a
    ``/blob/<ref>/<path>/fiftyone.yml`` or ``/commit/<sha>`` URL, ``<user>/<repo>[/<ref>]``,
    an http(s) URL of a zip/tar archive, or a local folder or archive. Every plugin whose
    manifest lies within ``max_depth`` folder levels of the source root (level 0, after the
    archive's single top folder) is installed, or only those in ``plugin_names``.
    ``progress(done, total)`` is called while the archive downloads.

    Returns a :class:`DownloadResult`; raises a
    :class:`~fiftyone_plugins.errors.DownloadError` subclass (or a
    :class:`~fiftyone_plugins.errors.PluginDefinitionError` for an invalid manifest of a
    plugin that was asked for) with the plugins directory left untouched.
    """
    if isinstance(plugin_names, str):
        plugin_names = [plugin_names]
    names = list(plugin_names) if plugin_names else None
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise DownloadError(f"max_depth must be a non-negative integer, got {max_depth!r}")
    config = load_config()
    source = parse_source(url_or_gh_repo, config.github_url)
    plugins_dir = config.plugins_dir
    try:
        with _staging(plugins_dir) as staging:
            root, start, label, depth = _fetch(source, config, staging, progress)
            depth = max_depth if depth is None else depth
            result = DownloadResult(label)
            found = _install.scan(root, start, depth)
            where = _where(label, root, start, depth)
            if not found.plugins:
                _nothing_found(found, start, depth, where, names)
            plugins = _install.select(found, names, where)
            if names is None:  # what was asked for by name is all that is reported
                result.errors.extend(found.errors)
                result.ignored.update(found.ignored)
            for plugin in plugins:
                _install.check_links(plugin, root)
            installed = discovery.downloaded_plugins().plugins
            existing = {p.name: p.directory for p in installed}
            folders = {d: p.name for p in installed for d in [p.directory, *p.shadow_paths]}
            outcome = _install.install(
                plugins,
                plugins_dir,
                staging,
                overwrite=overwrite,
                existing=existing,
                folders=folders,
            )
    finally:
        discovery.invalidate()
    result.update(outcome.installed)
    result.skipped.update(outcome.skipped)
    result.overwritten.extend(outcome.overwritten)
    return result


@contextlib.contextmanager
def _staging(plugins_dir: str) -> Iterator[str]:
    """A hidden temporary folder inside the plugins dir (created if need be), always removed.

    Folders created here for it are removed again when nothing was installed into them.
    """
    try:
        created = _install.make_dirs(plugins_dir)
        staging = tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=plugins_dir)
    except OSError as e:
        raise DownloadError(
            f"Cannot write to the plugins directory {plugins_dir}: {e.strerror or e}"
        ) from e
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only succeeds while still empty


def _where(label: str, root: str, start: str, depth: int) -> str:
    folder = os.path.relpath(start, root)
    inside = "" if folder == "." else f" folder {folder.replace(os.sep, '/')!r} of"
    return f"{inside} {label} (searched {depth} folder level(s) deep)".lstrip()


def _nothing_found(
    found: _install.Scan, start: str, depth: int, where: str, names: list[str] | None
) -> None:
    """Raises the most useful error when no valid plugin was found."""
    if found.errors and names is None:
        first = found.errors[0]
        more = len(found.errors) - 1
        suffix = f" (and {more} more invalid manifest(s))" if more else ""
        raise PluginDefinitionError(first.path, first.reason + suffix)
    if found.errors or names:
        return  # select() reports the requested names against what was found
    message = f"No plugin (fiftyone.yml) found in {where}"
    if found.ignored:
        message += f"; {len(found.ignored)} manifest(s) are not plugins"
    deeper = _install.deeper_manifest(start, depth)
    if deeper is not None:
        rel = os.path.relpath(deeper[1], start).replace(os.sep, "/")
        message += f"; there is one in {rel!r} at depth {deeper[0]}: raise max_depth (--max-depth)"
    raise NoPluginsFoundError(message)


# -- fetching ----------------------------------------------------------------------------------


def _fetch(
    source: Source, config: Config, staging: str, progress: ProgressCallback | None
) -> tuple[str, str, str, int | None]:
    """Stages ``source``: (source root, folder to search, label, depth if not max_depth)."""
    extract_dir = os.path.join(staging, "source")
    limits = {"max_bytes": config.download_max_bytes, "max_files": config.download_max_files}
    label = source.describe()
    if isinstance(source, LocalSource):
        if os.path.isdir(source.path):
            root = os.path.join(
                extract_dir, os.path.basename(source.path.rstrip(os.sep)) or "root"
            )
            copy_folder(source.path, root, skip=staging, **limits)
            return root, root, source.describe(), None
        extract_archive(source.path, extract_dir, label=label, url=None, **limits)
        root = _archive_root(extract_dir)
        return root, root, source.describe(), None
    archive = os.path.join(staging, "download")
    with Fetcher(
        (config.github_url, config.github_api_url),
        os.environ.get("GITHUB_TOKEN"),
        timeout=config.download_timeout,
        max_bytes=config.download_max_bytes,
    ) as fetcher:
        if isinstance(source, UrlSource):
            download = fetcher.download(source.url, archive, what="Archive", progress=progress)
            if archive_kind(archive) is None:
                raise NotAnArchiveError(
                    f"{source.describe()} is not a zip or tar archive (the server sent "
                    f"{download.content_type or 'no content type'}"
                    + (f", file {download.filename!r}" if download.filename else "")
                    + ")",
                    url=source.url,
                )
            extract_archive(archive, extract_dir, label=label, url=source.url, **limits)
            root = _archive_root(extract_dir)
            return root, root, source.describe(), None
        return _fetch_github(source, fetcher, config, archive, extract_dir, progress)


def _fetch_github(
    source: GitHubSource,
    fetcher: Fetcher,
    config: Config,
    archive: str,
    extract_dir: str,
    progress: ProgressCallback | None,
) -> tuple[str, str, str, int | None]:
    base = f"{config.github_api_url}/repos/{quote(source.user)}/{quote(source.repo)}/zipball"
    candidates = source.candidates()
    for ref, folder in candidates:
        url = base + (f"/{quote(ref, safe='/')}" if ref else "")
        try:
            fetcher.download(url, archive, what="Repository or ref", progress=progress)
        except SourceNotFoundError as e:
            if getattr(e, "status", None) in (404, 410):
                continue
            raise
        label = source.describe(ref)
        extract_archive(
            archive,
            extract_dir,
            label=f"the archive of {label}",
            url=url,
            max_bytes=config.download_max_bytes,
            max_files=config.download_max_files,
        )
        root = _archive_root(extract_dir)
        start = os.path.join(root, *folder.split("/")) if folder else root
        if source.kind == "blob":
            path = "/".join(source.parts[len(ref.split("/")) if ref else 0 :])
            if not os.path.isfile(os.path.join(root, *path.split("/"))):
                raise SourceNotFoundError(f"File {path!r} not found in {label}", url=url)
            return root, start, label, 0
        if not os.path.isdir(start):
            raise SourceNotFoundError(f"Folder {folder!r} not found in {label}", url=url)
        return root, start, label, None
    _not_found(source, fetcher, config, [ref for ref, _ in candidates])
    raise AssertionError("unreachable")  # pragma: no cover


def _not_found(
    source: GitHubSource, fetcher: Fetcher, config: Config, refs: list[str | None]
) -> None:
    """Says whether the repository or the ref is missing (one more API call)."""
    repo_url = f"{config.github_api_url}/repos/{quote(source.user)}/{quote(source.repo)}"
    hint = (
        "check that GITHUB_TOKEN grants access to it"
        if fetcher.has_token
        else "if it is private, set GITHUB_TOKEN"
    )
    if fetcher.status(repo_url, accept="application/vnd.github+json") != 200:
        raise SourceNotFoundError(
            f"Repository {source.slug} not found at {config.github_url}; {hint}",
            url=repo_url,
        )
    if refs == [None]:
        raise SourceNotFoundError(
            f"The default branch of {source.slug} has nothing to download (is it empty?)",
            url=repo_url,
        )
    if len(refs) == 1:
        raise SourceNotFoundError(f"Ref {refs[0]!r} not found in {source.slug}", url=repo_url)
    tried = ", ".join(repr(r) for r in refs)
    raise SourceNotFoundError(
        f"No branch, tag or commit of {source.slug} matches the URL (tried {tried})",
        url=repo_url,
    )


def _archive_root(extract_dir: str) -> str:
    """The archive's single top folder (as GitHub archives have), else the archive itself.

    Junk that archivers add beside the folder (macOS's ``__MACOSX/``, ``.DS_Store``, other
    hidden entries) does not count.
    """
    try:
        entries = [e for e in os.listdir(extract_dir) if not e.startswith(".") and e != "__MACOSX"]
    except FileNotFoundError:
        os.makedirs(extract_dir)
        entries = []
    if len(entries) == 1 and not find_manifest(extract_dir):
        only = os.path.join(extract_dir, entries[0])
        if os.path.isdir(only) and not os.path.islink(only):
            return only
    return extract_dir
