"""A real HTTP server on 127.0.0.1 for the download tests, and a small fake of GitHub.

Each test configures routes (status, headers, body, delays, truncation) or a fake GitHub
that serves repositories as zipballs with GitHub's single top folder, redirecting archive
downloads to a "codeload" URL on a *different host name* (``localhost``) as GitHub does.
Every request is recorded with its headers, so tests can prove where a token went.
"""

from __future__ import annotations

import dataclasses
import http.server
import io
import json
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from urllib.parse import unquote, urlsplit

import pytest

Files = dict[str, "str | bytes"]


@dataclasses.dataclass
class Route:
    """One canned response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: seconds to wait before sending anything
    delay: float = 0.0
    #: send the body in this many pieces, sleeping ``chunk_delay`` between them
    chunks: int = 1
    chunk_delay: float = 0.0
    #: announce the full Content-Length but send only this many bytes, then hang up
    truncate_at: int | None = None


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


Handler = Callable[[Request], "Route | None"]


class TestServer:
    """A threaded HTTP server; ``routes`` map paths to a Route or a list used in turn."""

    __test__ = False

    def __init__(self) -> None:
        self.routes: dict[str, Route | list[Route] | Handler] = {}
        self.fallbacks: list[Handler] = []
        self.requests: list[Request] = []
        outer = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve(self, path: str, body: bytes = b"", **kwargs: object) -> None:
        self.routes[path] = Route(body=body, **kwargs)  # type: ignore[arg-type]

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Route(status=status, headers={"Location": location})

    def _route(self, request: Request) -> Route:
        route = self.routes.get(request.path)
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        if callable(route):
            found = route(request)
            if found is not None:
                return found
        elif route is not None:
            return route
        for fallback in self.fallbacks:
            found = fallback(request)
            if found is not None:
                return found
        return Route(status=404, body=b'{"message": "Not Found"}')

    def _handle(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        request = Request(
            "GET",
            unquote(parts.path),
            parts.query,
            {k.lower(): v for k, v in handler.headers.items()},
        )
        self.requests.append(request)
        route = self._route(request)
        if route.delay:
            time.sleep(route.delay)
        try:
            handler.send_response(route.status)
            headers = {"Content-Length": str(len(route.body)), **route.headers}
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            body = route.body
            if route.truncate_at is not None:
                body = body[: route.truncate_at]
            step = max(1, -(-len(body) // max(1, route.chunks)))
            for i in range(0, len(body), step):
                handler.wfile.write(body[i : i + step])
                handler.wfile.flush()
                if route.chunk_delay:
                    time.sleep(route.chunk_delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
        handler.close_connection = True


# -- archives ------------------------------------------------------------------------------------


def make_zip(files: Files, top: str | None = None) -> bytes:
    """A zip of ``files`` (relative path -> content), under ``top/`` when given."""
    buf = io.BytesIO()
    prefix = f"{top}/" if top else ""
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if top:
            zf.writestr(zipfile.ZipInfo(prefix), b"")
        for rel, content in files.items():
            zf.writestr(prefix + rel, content.encode() if isinstance(content, str) else content)
    return buf.getvalue()


def make_tar(files: Files, top: str | None = None, mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    prefix = f"{top}/" if top else ""
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for rel, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(prefix + rel)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def manifest(name: str, **extra: object) -> str:
    lines = [f"name: {json.dumps(name)}", "version: 1.0.0"]
    lines += [f"{k}: {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def plugin_files(name: str, folder: str = "", **extra: object) -> Files:
    base = f"{folder}/" if folder else ""
    return {
        f"{base}fiftyone.yml": manifest(name, **extra),
        f"{base}__init__.py": f"# {name}\n",
    }


# -- a fake GitHub -----------------------------------------------------------------------------


@dataclasses.dataclass
class Repo:
    refs: dict[str, Files]
    default: str
    private: bool


class FakeGitHub:
    """GitHub's API on ``server``: ``/repos/u/r`` and ``/repos/u/r/zipball[/ref]``.

    Archives are served from ``/codeload/...`` on host ``localhost`` (not 127.0.0.1), the
    way api.github.com redirects to codeload.github.com: a different host, no token needed.
    """

    def __init__(self, server: TestServer, token: str | None = None) -> None:
        self.server = server
        self.token = token
        self.repos: dict[str, Repo] = {}
        #: when set, every API call answers 403 with these rate-limit headers
        self.rate_limit_reset: int | None = None
        server.fallbacks.append(self._handle)

    @property
    def web_url(self) -> str:
        return self.server.url("")

    @property
    def api_url(self) -> str:
        return self.server.url("")

    def add_repo(
        self,
        slug: str,
        files: Files | None = None,
        *,
        refs: dict[str, Files] | None = None,
        default: str = "main",
        private: bool = False,
    ) -> None:
        all_refs = dict(refs or {})
        if files is not None:
            all_refs[default] = files
        self.repos[slug] = Repo(all_refs, default, private)

    def _visible(self, repo: Repo, request: Request) -> bool:
        return not repo.private or request.authorization in (
            f"Bearer {self.token}",
            f"token {self.token}",
        )

    def _handle(self, request: Request) -> Route | None:
        parts = request.path.strip("/").split("/")
        if parts[0] == "codeload" and len(parts) >= 5:
            slug, ref = f"{parts[1]}/{parts[2]}", "/".join(parts[4:])
            repo = self.repos.get(slug)
            if repo is None or ref not in repo.refs:
                return Route(status=404)
            top = f"{parts[1]}-{parts[2]}-abc1234"
            return Route(
                body=make_zip(repo.refs[ref], top=top),
                headers={
                    "Content-Type": "application/zip",
                    "Content-Disposition": f"attachment; filename={top}.zip",
                },
            )
        if parts[0] != "repos" or len(parts) < 3:
            return None
        if self.rate_limit_reset is not None:
            return Route(
                status=403,
                body=b'{"message": "API rate limit exceeded"}',
                headers={
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(self.rate_limit_reset),
                },
            )
        slug = f"{parts[1]}/{parts[2]}"
        repo = self.repos.get(slug)
        if repo is None or not self._visible(repo, request):
            return Route(status=404, body=b'{"message": "Not Found"}')
        if len(parts) == 3:
            body = json.dumps({"full_name": slug, "default_branch": repo.default})
            return Route(body=body.encode(), headers={"Content-Type": "application/json"})
        if parts[3] != "zipball":
            return None
        ref = "/".join(parts[4:]) or repo.default
        if ref not in repo.refs:
            return Route(status=404, body=b'{"message": "Not Found"}')
        location = self.server.url(f"/codeload/{slug}/zip/{ref}?token=TEMPORARY", "localhost")
        return Route(status=302, headers={"Location": location})


def iter_tree(root: object) -> Iterator[tuple[str, str, bytes]]:
    """(relative path, kind, content) of everything under ``root``, for snapshots."""
    import os

    base = str(root)
    for folder, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, base)
            if os.path.islink(path):
                yield rel, "link", os.readlink(path).encode()
            elif os.path.isdir(path):
                yield rel, "dir", b""
            else:
                with open(path, "rb") as f:
                    yield rel, "file", f.read()


def snapshot(path: object) -> list[tuple[str, str, bytes]]:
    """Everything under ``path`` (empty when it does not exist), to prove nothing changed."""
    import os

    return list(iter_tree(path)) if os.path.exists(str(path)) else []


# -- fixtures shared by the download test modules (imported there by name) ----------------------


@pytest.fixture
def server() -> Iterator[TestServer]:
    """A real HTTP server on 127.0.0.1 for one test."""
    s = TestServer()
    yield s
    s.close()


@pytest.fixture
def other() -> Iterator[TestServer]:
    """A second server: a host that is not GitHub."""
    s = TestServer()
    yield s
    s.close()


def serve_github(server: TestServer, monkeypatch: pytest.MonkeyPatch, token: str) -> FakeGitHub:
    """A fake GitHub on ``server``, with the GitHub base URLs of the config pointed at it."""
    gh = FakeGitHub(server, token=token)
    monkeypatch.setenv("FIFTYONE_GITHUB_URL", gh.web_url)
    monkeypatch.setenv("FIFTYONE_GITHUB_API_URL", gh.api_url)
    return gh
