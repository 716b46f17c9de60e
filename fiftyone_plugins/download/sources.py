"""Turning what the user typed into a source: a GitHub repository, an archive URL or a path.

GitHub URLs are recognised on the *configured* web host (``FIFTYONE_GITHUB_URL``), so GitHub
Enterprise URLs parse like github.com ones. Refs may contain ``/`` (``release/v1``), which
makes ``/tree/release/v1/plugins`` ambiguous; a :class:`GitHubSource` therefore keeps the
unsplit segments and offers every ``(ref, path)`` split, longest ref first, for the fetcher
to try against the API.
"""

from __future__ import annotations

import dataclasses
import os
import re
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import DownloadError, SourceNotFoundError

__all__ = ["GitHubSource", "LocalSource", "Source", "UrlSource", "parse_source", "redact_url"]

_SLUG = re.compile(r"^[A-Za-z0-9_.\-]+$")
_SHORT_FORM = re.compile(r"^([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)(?:/(.+))?$")
#: ``git@host:user/repo.git``, the SSH clone address GitHub shows
_SCP_FORM = re.compile(r"^[A-Za-z0-9_.\-]+@([A-Za-z0-9_.\-]+):(?!//)([^/].*)$")
#: archive suffixes that mark a plain URL on the GitHub web host as a direct download
_DIRECT_KINDS = ("archive", "raw", "releases/download")


@dataclasses.dataclass(frozen=True)
class GitHubSource:
    """A repository on the configured GitHub host, possibly pinned to a ref and a folder.

    ``kind`` says how ``parts`` (the URL segments after ``tree``/``blob``/...) split:
    ``"ref"``: all of them are the ref; ``"tree"``: a ref then an optional folder;
    ``"blob"``: a ref then the path of a file whose folder holds the plugin.
    """

    user: str
    repo: str
    parts: tuple[str, ...] = ()
    kind: str = "ref"

    @property
    def slug(self) -> str:
        return f"{self.user}/{self.repo}"

    def candidates(self) -> list[tuple[str | None, str]]:
        """Every ``(ref, folder)`` reading of the URL, longest ref first."""
        parts = self.parts
        if not parts:
            return [(None, "")]
        if self.kind == "ref":
            return [("/".join(parts), "")]
        if self.kind == "tree":
            return [("/".join(parts[:i]), "/".join(parts[i:])) for i in range(len(parts), 0, -1)]
        # blob: the last segment is the file; its folder is where the plugin lives
        return [("/".join(parts[:i]), "/".join(parts[i:-1])) for i in range(len(parts) - 1, 0, -1)]

    def describe(self, ref: str | None = None) -> str:
        return self.slug + (f"@{ref}" if ref else "")


@dataclasses.dataclass(frozen=True)
class UrlSource:
    """Any http(s) URL expected to serve a zip or tar archive."""

    url: str

    def describe(self) -> str:
        return redact_url(self.url)


@dataclasses.dataclass(frozen=True)
class LocalSource:
    """A plugin folder or an archive on the local file system."""

    path: str

    def describe(self) -> str:
        return self.path


Source = GitHubSource | UrlSource | LocalSource


def redact_url(url: str) -> str:
    """The URL without credentials, query or fragment, safe to print (they may hold tokens)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _host_key(netloc: str, scheme: str = "https") -> str:
    """``host[:port]`` for comparing hosts: no credentials or ``www.``, default port dropped."""
    host = netloc.lower().rsplit("@", 1)[-1]
    default = {"http": "80", "https": "443"}.get(scheme.lower())
    if default and host.endswith(":" + default):
        host = host[: -len(default) - 1]
    return host[4:] if host.startswith("www.") else host


def _segments(path: str) -> list[str]:
    segments = [unquote(s) for s in path.split("/") if s]
    for segment in segments:
        if segment in (".", "..") or "\x00" in segment:
            raise DownloadError(f"Invalid path segment {segment!r} in URL")
    return segments


def _repo_name(name: str) -> str:
    if name.endswith(".git"):
        name = name[:-4]
    return name


def _check_slug(user: str, repo: str, text: str) -> None:
    for value in (user, repo):
        if not _SLUG.match(value) or value in (".", ".."):
            raise DownloadError(f"{text!r} does not name a GitHub repository (<user>/<repo>)")


def _parse_github_url(url: str) -> Source:
    parts = urlsplit(url)
    segments = _segments(parts.path)
    if len(segments) < 2:
        raise DownloadError(
            f"{redact_url(url)} does not name a repository; expected {parts.scheme}://"
            f"{parts.netloc}/<user>/<repo>[/tree/<ref>]"
        )
    user, repo, rest = segments[0], _repo_name(segments[1]), segments[2:]
    _check_slug(user, repo, url)
    if not rest:
        return GitHubSource(user, repo)
    head = rest[0]
    if head in _DIRECT_KINDS or "/".join(rest[:2]) in _DIRECT_KINDS:
        return UrlSource(url)
    if head in ("tree", "blob") and len(rest) >= (2 if head == "tree" else 3):
        return GitHubSource(user, repo, tuple(rest[1:]), head)
    if head == "commit" and len(rest) == 2:
        return GitHubSource(user, repo, (rest[1],), "ref")
    if rest[:2] == ["releases", "tag"] and len(rest) >= 3:
        return GitHubSource(user, repo, tuple(rest[2:]), "ref")
    raise DownloadError(
        f"Unsupported GitHub URL {redact_url(url)}: use the repository URL, optionally with "
        "/tree/<ref>[/<folder>], /blob/<ref>/<path>/fiftyone.yml or /commit/<sha>"
    )


def parse_source(text: str, github_url: str) -> Source:
    """Classifies ``text``: an existing local path wins, then URLs, then ``<user>/<repo>``."""
    text = text.strip()
    if not text:
        raise DownloadError("Give a GitHub repository, URL, or local folder/archive")
    if text.startswith("file://"):
        text = unquote(urlsplit(text).path)
    local = os.path.abspath(os.path.expanduser(text))
    if os.path.exists(local):
        return LocalSource(local)
    web = urlsplit(github_url)
    scp = _SCP_FORM.match(text)  # git@github.com:user/repo.git, as copied from "Code > SSH"
    if scp:
        if _host_key(scp.group(1)) != _host_key(web.hostname or ""):
            raise DownloadError(
                f"{text!r} is an SSH address, which cannot be downloaded; use the "
                "repository's https:// URL"
            )
        text = f"{web.scheme or 'https'}://{web.netloc}{web.path.rstrip('/')}/{scp.group(2)}"
    parts = urlsplit(text)
    if not parts.scheme and _host_key(text.split("/", 1)[0]) == _host_key(web.netloc, web.scheme):
        text = f"{web.scheme or 'https'}://{text}"
        parts = urlsplit(text)
    if parts.scheme in ("http", "https"):
        if not parts.netloc:
            raise DownloadError(f"{text!r} is not a valid URL")
        prefix = web.path.rstrip("/")  # GitHub Enterprise may live under a path prefix
        path = parts.path or "/"
        if _host_key(parts.netloc, parts.scheme) == _host_key(web.netloc, web.scheme) and (
            not prefix or path == prefix or path.startswith(prefix + "/")
        ):
            if prefix:
                text = urlunsplit(parts._replace(path=path[len(prefix) :]))
            return _parse_github_url(text)
        return UrlSource(text)
    if parts.scheme in ("ssh", "git", "git+ssh") and _host_key(parts.hostname or "") == _host_key(
        web.hostname or ""
    ):  # ssh://git@github.com/user/repo.git: the same repository, fetched over https
        return _parse_github_url(urlunsplit(("https", web.netloc, parts.path, "", "")))
    if parts.scheme and len(parts.scheme) > 1:  # not a Windows drive letter
        raise DownloadError(f"Unsupported URL scheme {parts.scheme!r} in {redact_url(text)}")
    match = _SHORT_FORM.match(text)
    looks_like_path = text.startswith(("/", ".", "~")) or text.lower().endswith(
        (".zip", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz")
    )
    if match and not looks_like_path:
        user, repo, ref = match.group(1), _repo_name(match.group(2)), match.group(3)
        _check_slug(user, repo, text)
        if ref and ref.split("/", 1)[0] in ("tree", "blob", "commit"):  # a URL minus its host
            return _parse_github_url(f"{web.scheme or 'https'}://{web.netloc}/{text}")
        ref_parts = tuple(_segments(ref)) if ref else ()
        return GitHubSource(user, repo, ref_parts, "ref")
    if looks_like_path or os.sep in text:
        raise SourceNotFoundError(f"No such file or folder: {local}", url=text)
    raise DownloadError(
        f"{text!r} is not a GitHub repository (<user>/<repo>[/<ref>]), an http(s) URL, "
        "or an existing local folder or archive"
    )
