"""download_plugin against a real HTTP server on 127.0.0.1 (no mocking of requests)."""

from __future__ import annotations

import io
import os
import pathlib
import socket
import tarfile
import time
import zipfile

import pytest
from _download_server import (
    FakeGitHub,
    Route,
    TestServer,
    make_tar,
    make_zip,
    manifest,
    plugin_files,
    serve_github,
    snapshot,
)

import fiftyone_plugins as fop
from fiftyone_plugins import management
from fiftyone_plugins.download import DownloadResult, download_plugin
from fiftyone_plugins.download import http as dl_http
from fiftyone_plugins.download.http import RetryPolicy
from fiftyone_plugins.download.sources import GitHubSource, LocalSource, UrlSource, parse_source
from fiftyone_plugins.errors import (
    DownloadError,
    NetworkError,
    NoPluginsFoundError,
    NotAnArchiveError,
    PluginDefinitionError,
    RateLimitError,
    SourceNotFoundError,
    UnsafeArchiveError,
)

TOKEN = "ghp_s3cretTOKENvalue"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(retries=2, backoff=0.01, max_retry_after=0.5)
    monkeypatch.setattr(dl_http, "RETRY_POLICY", policy)


@pytest.fixture
def github(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    return serve_github(server, monkeypatch, TOKEN)


@pytest.fixture
def unchanged(env):
    """Asserts, at teardown, that the plugins dir is byte-for-byte what it was at setup."""
    env.write_plugin("@pre/existing", manifest("@pre/existing"), {"data.txt": "keep me"})
    before = snapshot(env.plugins_dir)
    yield
    assert snapshot(env.plugins_dir) == before


MULTI = {
    **plugin_files("@org/alpha", "plugins/alpha"),
    **plugin_files("@org/beta", "plugins/beta"),
    **plugin_files("@org/dataset", "plugins/dataset", type="dataset"),
    **plugin_files("@org/deep", "a/b/c/deep"),
    "README.md": "# plugins\n",
}


# -- parsing sources ----------------------------------------------------------------------------

GH = "https://github.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://github.com/voxel51/fiftyone-plugins",
            GitHubSource("voxel51", "fiftyone-plugins"),
        ),
        (
            "https://github.com/voxel51/fiftyone-plugins/",
            GitHubSource("voxel51", "fiftyone-plugins"),
        ),
        ("https://github.com/a_b/my.repo-x.git", GitHubSource("a_b", "my.repo-x")),
        ("http://www.github.com/u/r", GitHubSource("u", "r")),
        ("github.com/u/r", GitHubSource("u", "r")),
        (
            "https://github.com/u/r/tree/release/v1",
            GitHubSource("u", "r", ("release", "v1"), "tree"),
        ),
        ("https://github.com/u/r/tree/main/", GitHubSource("u", "r", ("main",), "tree")),
        ("https://github.com/u/r/commit/0123abc", GitHubSource("u", "r", ("0123abc",), "ref")),
        ("https://github.com/u/r/releases/tag/v2", GitHubSource("u", "r", ("v2",), "ref")),
        (
            "https://github.com/u/r/blob/main/plugins/x/fiftyone.yml",
            GitHubSource("u", "r", ("main", "plugins", "x", "fiftyone.yml"), "blob"),
        ),
        ("voxel51/fiftyone-plugins", GitHubSource("voxel51", "fiftyone-plugins")),
        ("u/r/release/v1", GitHubSource("u", "r", ("release", "v1"), "ref")),
        ("u/r.git", GitHubSource("u", "r")),
        (
            "https://github.com/u/r/archive/refs/heads/main.zip",
            UrlSource("https://github.com/u/r/archive/refs/heads/main.zip"),
        ),
        ("https://example.com/p.zip?x=1", UrlSource("https://example.com/p.zip?x=1")),
    ],
)
def test_parse_source(text: str, expected: object) -> None:
    assert parse_source(text, GH) == expected


def test_candidates_try_the_longest_ref_first() -> None:
    tree = GitHubSource("u", "r", ("release", "v1", "plugins"), "tree")
    assert tree.candidates() == [
        ("release/v1/plugins", ""),
        ("release/v1", "plugins"),
        ("release", "v1/plugins"),
    ]
    blob = GitHubSource("u", "r", ("main", "p", "fiftyone.yml"), "blob")
    assert blob.candidates() == [("main/p", ""), ("main", "p")]
    assert GitHubSource("u", "r").candidates() == [(None, "")]


def test_enterprise_host_is_parsed_as_github() -> None:
    ghe = "https://git.corp.example"
    assert parse_source(f"{ghe}/team/tools/tree/dev", ghe) == GitHubSource(
        "team", "tools", ("dev",), "tree"
    )
    # with GitHub Enterprise configured, github.com is just another host
    assert isinstance(parse_source("https://github.com/u/r", ghe), UrlSource)
    prefixed = "https://corp.example/github"
    assert parse_source(f"{prefixed}/u/r", prefixed) == GitHubSource("u", "r")


def test_local_paths_win(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "u" / "r").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert parse_source("u/r", GH) == LocalSource(str(tmp_path / "u" / "r"))
    assert parse_source(f"file://{tmp_path}", GH) == LocalSource(str(tmp_path))


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("ftp://example.com/a.zip", DownloadError, "Unsupported URL scheme"),
        ("https://github.com/only-user", DownloadError, "does not name a repository"),
        ("https://github.com/u/r/pulls", DownloadError, "Unsupported GitHub URL"),
        ("./missing-folder", SourceNotFoundError, "No such file or folder"),
        ("/no/such/archive.zip", SourceNotFoundError, "No such file or folder"),
        ("just words", DownloadError, "is not a GitHub repository"),
        ("https://github.com/u/r/tree/main/../../x", DownloadError, "Invalid path segment"),
    ],
)
def test_parse_source_errors(text: str, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        parse_source(text, GH)


# -- GitHub repositories -------------------------------------------------------------------------


def test_repo_default_branch(env, github: FakeGitHub) -> None:
    github.add_repo("voxel51/hello", plugin_files("@voxel51/hello"))
    result = fop.download_plugin("voxel51/hello")
    target = env.plugins_dir / "@voxel51" / "hello"
    assert result == {"@voxel51/hello": str(target)}
    assert isinstance(result, DownloadResult)
    assert (target / "fiftyone.yml").is_file() and (target / "__init__.py").is_file()
    assert management.list_downloaded_plugins() == ["@voxel51/hello"]
    zipball = github.server.requests[0]
    assert zipball.path == "/repos/voxel51/hello/zipball"  # no ref: the default branch
    assert [p.name for p in env.plugins_dir.iterdir()] == ["@voxel51"]  # no staging left


@pytest.mark.parametrize(
    "form",
    [
        "{web}/my-org/my.repo_x",
        "{web}/my-org/my.repo_x/",
        "{web}/my-org/my.repo_x.git",
        "{web}/my-org/my.repo_x/tree/main",
        "my-org/my.repo_x",
        "my-org/my.repo_x/main",
    ],
)
def test_repo_url_forms(env, github: FakeGitHub, form: str) -> None:
    github.add_repo("my-org/my.repo_x", plugin_files("plain-name"))
    result = download_plugin(form.format(web=github.web_url))
    assert result == {"plain-name": str(env.plugins_dir / "plain-name")}


def test_ref_with_a_slash_and_a_subfolder(env, github: FakeGitHub) -> None:
    github.add_repo(
        "u/r",
        plugin_files("@org/main-only"),
        refs={"release/v1": MULTI},
    )
    result = download_plugin(f"{github.web_url}/u/r/tree/release/v1/plugins/beta")
    assert list(result) == ["@org/beta"]
    tried = [r.path for r in github.server.requests if r.path.startswith("/repos/")]
    assert tried == [
        "/repos/u/r/zipball/release/v1/plugins/beta",
        "/repos/u/r/zipball/release/v1/plugins",
        "/repos/u/r/zipball/release/v1",
    ]
    result = download_plugin("u/r/release/v1", overwrite=True)
    assert sorted(result) == ["@org/alpha", "@org/beta"]


def test_commit_url(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", refs={"0123abcd": plugin_files("@org/pinned")})
    result = download_plugin(f"{github.web_url}/u/r/commit/0123abcd")
    assert list(result) == ["@org/pinned"]


def test_blob_url_installs_that_folder(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", MULTI)
    result = download_plugin(f"{github.web_url}/u/r/blob/main/plugins/alpha/fiftyone.yml")
    assert list(result) == ["@org/alpha"]
    with pytest.raises(SourceNotFoundError, match="File 'plugins/nope/fiftyone.yml' not found"):
        download_plugin(f"{github.web_url}/u/r/blob/main/plugins/nope/fiftyone.yml")


def test_missing_subfolder(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", MULTI)
    with pytest.raises(SourceNotFoundError, match="Folder 'nope' not found in u/r@main"):
        download_plugin(f"{github.web_url}/u/r/tree/main/nope")


def test_multi_plugin_repo(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", MULTI)
    result = download_plugin("u/r")
    # depth 3 by default: plugins/<name> (level 2) yes, a/b/c/deep (level 4) no
    assert sorted(result) == ["@org/alpha", "@org/beta"]
    assert result.ignored == {"plugins/dataset/fiftyone.yml": "type 'dataset' is not a plugin"}
    assert not (env.plugins_dir / "@org" / "dataset").exists()
    result = download_plugin("u/r", max_depth=4)
    assert list(result) == ["@org/deep"]
    assert sorted(result.skipped) == ["@org/alpha", "@org/beta"]


def test_max_depth_zero_and_hint(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", MULTI)
    with pytest.raises(NoPluginsFoundError) as info:
        download_plugin("u/r", max_depth=1)
    message = str(info.value)
    assert "u/r@main" not in message and "u/r" in message
    assert "searched 1 folder level(s) deep" in message
    assert "'plugins/alpha' at depth 2" in message and "max_depth" in message


def test_no_manifest_at_all(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", {"README.md": "nothing here"})
    with pytest.raises(NoPluginsFoundError, match=r"No plugin \(fiftyone.yml\) found in u/r"):
        download_plugin("u/r")


def test_plugin_names_select(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", MULTI)
    result = download_plugin("u/r", plugin_names=["@org/beta"])
    assert list(result) == ["@org/beta"]
    # the short name works when it is unambiguous; a plain string is one name
    result = download_plugin("u/r", plugin_names="alpha")
    assert list(result) == ["@org/alpha"]


def test_wrong_plugin_name_lists_found(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", MULTI)
    with pytest.raises(NoPluginsFoundError) as info:
        download_plugin("u/r", plugin_names=["@org/beta", "@voxel51/gamma"])
    message = str(info.value)
    assert "'@voxel51/gamma' not found in u/r" in message
    assert "plugins found: '@org/alpha', '@org/beta'" in message


BROKEN = {
    **plugin_files("@org/good", "plugins/good"),
    "plugins/bad/fiftyone.yml": "name: '@org/bad'\noperators: 5\n",
    "plugins/worse/fiftyone.yml": "name: [unclosed\n",
}


def test_invalid_manifest_among_valid_ones(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", BROKEN)
    result = download_plugin("u/r")
    assert list(result) == ["@org/good"]
    assert [(e.path, e.name) for e in result.errors] == [
        ("plugins/bad/fiftyone.yml", "@org/bad"),
        ("plugins/worse/fiftyone.yml", None),
    ]
    assert "'operators'" in result.errors[0].reason


def test_requested_invalid_manifest_changes_nothing(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", BROKEN)
    with pytest.raises(PluginDefinitionError, match="plugins/bad/fiftyone.yml"):
        download_plugin("u/r", plugin_names=["@org/good", "@org/bad"])


def test_only_invalid_manifests(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", {"fiftyone.yml": "name: '../escape'\n"})
    with pytest.raises(PluginDefinitionError, match="must not contain"):
        download_plugin("u/r")


def test_redownload_skips_then_overwrites(env, github: FakeGitHub) -> None:
    github.add_repo("u/r", MULTI)
    download_plugin("u/r")
    local_edit = env.plugins_dir / "@org" / "alpha" / "__init__.py"
    local_edit.write_text("# edited locally\n")
    result = download_plugin("u/r")
    assert result == {}
    assert result.skipped == {
        "@org/alpha": str(env.plugins_dir / "@org" / "alpha"),
        "@org/beta": str(env.plugins_dir / "@org" / "beta"),
    }
    assert local_edit.read_text() == "# edited locally\n"
    result = download_plugin("u/r", plugin_names=["@org/alpha"], overwrite=True)
    assert list(result) == ["@org/alpha"] and result.overwritten == ["@org/alpha"]
    assert local_edit.read_text() == "# @org/alpha\n"
    assert sorted(os.listdir(env.plugins_dir)) == ["@org"]


def test_overwrite_replaces_a_copy_in_another_folder(env, github: FakeGitHub) -> None:
    old = env.write_plugin("hand-made/alpha", manifest("@org/alpha"), {"old.txt": "x"})
    github.add_repo("u/r", plugin_files("@org/alpha"))
    result = download_plugin("u/r")
    assert result.skipped == {"@org/alpha": str(old)}
    result = download_plugin("u/r", overwrite=True)
    assert result == {"@org/alpha": str(env.plugins_dir / "@org" / "alpha")}
    assert not old.exists()
    assert management.get_plugin("@org/alpha").directory == result["@org/alpha"]


def test_failed_install_is_rolled_back(env, github: FakeGitHub, unchanged) -> None:
    # the second plugin's '@blocked' folder cannot be created: the first must be undone
    (env.plugins_dir / "@blocked").write_text("a file where a folder would go")
    before = snapshot(env.plugins_dir)
    github.add_repo(
        "u/r", {**plugin_files("@aaa/first", "a"), **plugin_files("@blocked/second", "b")}
    )
    with pytest.raises(DownloadError, match="nothing was changed"):
        download_plugin("u/r")
    assert snapshot(env.plugins_dir) == before
    (env.plugins_dir / "@blocked").unlink()


def test_missing_plugins_dir_is_created_and_removed_on_failure(
    env, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins_dir = env.root / "new" / "plugins"
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", str(plugins_dir))
    github.add_repo("u/r", {"README.md": "no plugins"})
    with pytest.raises(NoPluginsFoundError):
        download_plugin("u/r")
    assert not (env.root / "new").exists()
    github.add_repo("u/r", plugin_files("ok"))
    assert download_plugin("u/r") == {"ok": str(plugins_dir / "ok")}


def test_bad_max_depth(env) -> None:
    with pytest.raises(DownloadError, match="max_depth"):
        download_plugin("u/r", max_depth=-1)


# -- not found, private repos and tokens --------------------------------------------------------


def test_repo_not_found_hints_at_token(env, github: FakeGitHub, unchanged) -> None:
    with pytest.raises(SourceNotFoundError) as info:
        download_plugin("nobody/nothing")
    assert str(info.value) == (
        f"Repository nobody/nothing not found at {github.web_url}; "
        "if it is private, set GITHUB_TOKEN"
    )


def test_ref_not_found(env, github: FakeGitHub, unchanged) -> None:
    github.add_repo("u/r", MULTI)
    with pytest.raises(SourceNotFoundError, match="Ref 'nope' not found in u/r"):
        download_plugin("u/r/nope")
    with pytest.raises(SourceNotFoundError, match=r"tried 'a/b', 'a'"):
        download_plugin(f"{github.web_url}/u/r/tree/a/b")


def test_private_repo_needs_the_token(
    env, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github.add_repo("me/secret", plugin_files("@me/secret"), private=True)
    with pytest.raises(SourceNotFoundError, match="set GITHUB_TOKEN"):
        download_plugin("me/secret")
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    with pytest.raises(SourceNotFoundError, match="check that GITHUB_TOKEN grants access"):
        download_plugin("me/secret")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.server.requests.clear()
    assert list(download_plugin("me/secret")) == ["@me/secret"]
    api, codeload = github.server.requests
    assert api.host == f"127.0.0.1:{github.server.port}"
    assert api.authorization == f"Bearer {TOKEN}"
    # GitHub redirects archives to another host (codeload): the token must not follow
    assert codeload.host == f"localhost:{github.server.port}"
    assert codeload.path.startswith("/codeload/") and codeload.authorization is None


def test_token_never_reaches_other_hosts(
    env, github: FakeGitHub, other: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    archive = make_zip(plugin_files("elsewhere"))
    other.serve("/p.zip", archive)
    # 1. a plain URL on another host
    download_plugin(other.url("/p.zip"))
    # 2. a redirect from the GitHub host (an archive URL on it) to another host
    github.server.redirect("/u/r/archive/p.zip", other.url("/p.zip"))
    download_plugin(github.server.url("/u/r/archive/p.zip"), overwrite=True)
    # 3. another host bouncing back to the GitHub host: the chain already left GitHub
    github.server.serve("/u/r/archive/direct.zip", archive)
    other.redirect("/bounce.zip", github.server.url("/u/r/archive/direct.zip"))
    download_plugin(other.url("/bounce.zip"), overwrite=True)
    # 4. an error on another host says nothing of the token
    with pytest.raises(SourceNotFoundError) as info:
        download_plugin(other.url("/missing.zip"))
    assert TOKEN not in str(info.value)

    assert len(other.requests) == 4
    assert all(r.authorization is None for r in other.requests)
    by_path = {r.path: r.authorization for r in github.server.requests}
    assert by_path == {"/u/r/archive/p.zip": f"Bearer {TOKEN}", "/u/r/archive/direct.zip": None}


def test_token_is_not_logged(
    env, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.add_repo("me/secret", plugin_files("@me/secret"), private=True)
    download_plugin("me/secret")
    assert TOKEN not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("fiftyone_plugins")]
    assert any("redirected" in m for m in ours)
    assert not any("TEMPORARY" in m for m in ours)  # signed redirect URLs are redacted


# -- rate limits, retries, network failures ----------------------------------------------------


def test_rate_limited(env, github: FakeGitHub, unchanged) -> None:
    reset = int(time.time()) + 1800
    github.rate_limit_reset = reset
    with pytest.raises(RateLimitError) as info:
        download_plugin("u/r")
    error = info.value
    assert error.reset_at.timestamp() == reset
    assert time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(reset)) in str(error)
    assert "set GITHUB_TOKEN for a higher limit" in str(error)
    assert len(github.server.requests) == 1  # not retried


def test_short_retry_after_is_waited_for(env, server: TestServer) -> None:
    archive = make_zip(plugin_files("retried"))
    server.routes["/p.zip"] = [
        Route(status=429, headers={"Retry-After": "0"}),
        Route(status=503),
        Route(body=archive),
    ]
    assert list(download_plugin(server.url("/p.zip"))) == ["retried"]
    assert len(server.requests) == 3


def test_long_retry_after_is_a_rate_limit(env, server: TestServer, unchanged) -> None:
    server.serve("/p.zip", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError, match="resets at") as info:
        download_plugin(server.url("/p.zip"))
    assert info.value.reset_at is not None
    assert len(server.requests) == 1


def test_server_errors_are_retried_then_reported(env, server: TestServer, unchanged) -> None:
    server.serve("/p.zip", status=502)
    with pytest.raises(NetworkError, match=r"Server error fetching .*/p.zip \(HTTP 502\)"):
        download_plugin(server.url("/p.zip"))
    assert len(server.requests) == 3


def test_unreachable_host(env, unchanged) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError, match="Cannot reach 127.0.0.1: connection refused"):
        download_plugin(f"http://127.0.0.1:{port}/p.zip")


def test_timeout(env, server: TestServer, monkeypatch: pytest.MonkeyPatch, unchanged) -> None:
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_TIMEOUT", "0.2")
    server.serve("/slow.zip", make_zip(plugin_files("slow")), delay=1.0)
    started = time.monotonic()
    with pytest.raises(NetworkError, match="Timed out after 0.2s"):
        download_plugin(server.url("/slow.zip"))
    assert time.monotonic() - started < 5
    assert len(server.requests) == 3


def test_slow_body_with_progress(env, server: TestServer) -> None:
    archive = make_zip({**plugin_files("slowpoke"), "blob.bin": os.urandom(400_000)})
    server.serve("/slow.zip", archive, chunks=5, chunk_delay=0.05)
    calls: list[tuple[int, int | None]] = []
    result = download_plugin(server.url("/slow.zip"), progress=lambda d, t: calls.append((d, t)))
    assert list(result) == ["slowpoke"]
    assert calls[0] == (0, len(archive)) and calls[-1] == (len(archive), len(archive))
    assert len(calls) >= 3


def test_truncated_body(env, server: TestServer, unchanged) -> None:
    archive = make_zip({**plugin_files("cut"), "blob.bin": os.urandom(20_000)})
    server.serve("/cut.zip", archive, truncate_at=5_000)
    with pytest.raises(NetworkError, match=f"cut off after 5000 of {len(archive)} bytes"):
        download_plugin(server.url("/cut.zip"))
    assert len(server.requests) == 3


def test_redirect_loop(env, server: TestServer, unchanged) -> None:
    server.redirect("/a.zip", "/b.zip")
    server.redirect("/b.zip", "/a.zip")
    with pytest.raises(NetworkError, match="Too many redirects"):
        download_plugin(server.url("/a.zip"))


def test_download_larger_than_the_limit(
    env, server: TestServer, monkeypatch: pytest.MonkeyPatch, unchanged
) -> None:
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_MAX_BYTES", "1000")
    server.serve("/big.zip", make_zip({**plugin_files("big"), "x": os.urandom(5000)}))
    with pytest.raises(UnsafeArchiveError, match="exceeds the 1000-byte limit"):
        download_plugin(server.url("/big.zip"))


# -- archive URLs and local sources ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "maker", "headers"),
    [
        ("/p.zip", make_zip, {}),
        ("/p.tar.gz", make_tar, {}),
        ("/p.tgz", make_tar, {}),
        ("/p.tar", lambda f, top=None: make_tar(f, top, "w"), {}),
        ("/download", make_zip, {"Content-Type": "application/octet-stream"}),
        ("/get", make_tar, {"Content-Disposition": "attachment; filename=p.tar.gz"}),
    ],
)
def test_archive_urls(env, server: TestServer, path, maker, headers) -> None:
    server.serve(path, maker(plugin_files("@org/arch"), top="arch-1.0"), headers=headers)
    result = download_plugin(server.url(path) + "?version=1&sig=abc")
    assert list(result) == ["@org/arch"]
    assert result.source == server.url(path)  # query strings are not shown
    assert server.requests[0].query == "version=1&sig=abc"


def test_not_an_archive(env, server: TestServer, unchanged) -> None:
    server.serve("/page", b"<html>hello</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(NotAnArchiveError, match=r"not a zip or tar archive \(.*text/html"):
        download_plugin(server.url("/page"))


def test_corrupt_archive(env, server: TestServer, unchanged) -> None:
    archive = make_tar({**plugin_files("x"), "big": os.urandom(30_000)})
    server.serve("/p.tgz", archive[: len(archive) // 2], headers={"Content-Length": ""})
    with pytest.raises(NotAnArchiveError):
        download_plugin(server.url("/p.tgz"))


def test_local_folder(env, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "src"
    for rel, text in MULTI.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref")
    result = download_plugin(str(src), plugin_names=["@org/alpha"])
    assert list(result) == ["@org/alpha"]
    assert (src / "plugins" / "alpha" / "fiftyone.yml").exists()  # copied, not moved


@pytest.mark.parametrize("maker", [make_zip, make_tar])
def test_local_archive(env, tmp_path: pathlib.Path, maker) -> None:
    archive = tmp_path / "plugin.bundle"
    archive.write_bytes(maker(plugin_files("@org/local")))  # no top folder
    assert list(download_plugin(str(archive))) == ["@org/local"]


# -- hostile archives ----------------------------------------------------------------------------


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = 0o644
    return info


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


OK_MANIFEST = manifest("@evil/plugin").encode()


HOSTILE = {
    "zip-slip": (
        lambda: _zip([("p/fiftyone.yml", OK_MANIFEST, 0o100644), ("p/../../evil.py", b"x", 0)]),
        "p/../../evil.py",
        "'..'",
    ),
    "zip-absolute": (
        lambda: _zip([("/tmp/evil.py", b"x", 0o100644)]),
        "/tmp/evil.py",
        "absolute path",
    ),
    "zip-symlink-escape": (
        lambda: _zip([("p/fiftyone.yml", OK_MANIFEST, 0o100644), ("p/up", b"../../..", 0o120777)]),
        "p/up",
        "points outside",
    ),
    "zip-fifo": (
        lambda: _zip([("p/fifo", b"", 0o010644)]),
        "p/fifo",
        "FIFOs",
    ),
    "tar-slip": (
        lambda: _tar([(_member("p/fiftyone.yml"), OK_MANIFEST), (_member("../evil.py"), b"x")]),
        "../evil.py",
        "'..'",
    ),
    "tar-absolute": (
        lambda: _tar([(_member("/tmp/evil.py"), b"x")]),
        "/tmp/evil.py",
        "absolute path",
    ),
    "tar-symlink-absolute": (
        lambda: _tar([(_member("p/etc", tarfile.SYMTYPE, "/etc"), b"")]),
        "p/etc",
        "absolute path",
    ),
    "tar-symlink-escape": (
        lambda: _tar([(_member("p/up", tarfile.SYMTYPE, "../.."), b"")]),
        "p/up",
        "outside",
    ),
    "tar-symlink-chain": (  # 'a' looks inside until 'd' is made to point at the root
        lambda: _tar(
            [
                (_member("a", tarfile.SYMTYPE, "d/../../outside"), b""),
                (_member("d", tarfile.SYMTYPE, "x/y"), b""),
            ]
        ),
        "a",
        "outside",
    ),
    "tar-symlink-relink": (  # 'a' -> 'd/../x' is inside, until 'd' -> '.' re-aims it
        lambda: _tar(
            [
                (_member("top/a", tarfile.SYMTYPE, "d/../../x"), b""),
                (_member("top/d", tarfile.SYMTYPE, "."), b""),
            ]
        ),
        "top/a",
        "outside",
    ),
    "tar-write-through-symlink": (
        lambda: _tar(
            [
                (_member("p/link", tarfile.SYMTYPE, "."), b""),
                (_member("p/link/../../evil.py"), b"x"),
            ]
        ),
        "p/link/../../evil.py",
        "'..'",
    ),
    "tar-hardlink-escape": (
        lambda: _tar([(_member("p/passwd", tarfile.LNKTYPE, "../../etc/passwd"), b"")]),
        "p/passwd",
        "hard link",
    ),
    "tar-hardlink-absolute": (
        lambda: _tar([(_member("p/passwd", tarfile.LNKTYPE, "/etc/passwd"), b"")]),
        "p/passwd",
        "hard link",
    ),
    "tar-device": (
        lambda: _tar([(_member("p/null", tarfile.CHRTYPE), b"")]),
        "p/null",
        "device files",
    ),
    "tar-fifo": (
        lambda: _tar([(_member("p/fifo", tarfile.FIFOTYPE), b"")]),
        "p/fifo",
        "FIFOs",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused(
    env, server: TestServer, tmp_path: pathlib.Path, unchanged, case: str
) -> None:
    build, entry, reason = HOSTILE[case]
    server.serve("/evil", build())
    with pytest.raises(UnsafeArchiveError) as info:
        download_plugin(server.url("/evil"))
    assert info.value.entry == entry
    assert f"Refused archive entry {entry!r}" in str(info.value)
    assert reason in str(info.value)
    assert not (tmp_path / "evil.py").exists() and not (env.root / "evil.py").exists()
    assert not list(tmp_path.rglob("evil.py"))


def test_zip_bomb(env, server: TestServer, monkeypatch: pytest.MonkeyPatch, unchanged) -> None:
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_MAX_BYTES", str(1024 * 1024))
    bomb = make_zip({**plugin_files("@evil/bomb"), "zeros.bin": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 100_000
    server.serve("/bomb.zip", bomb)
    with pytest.raises(UnsafeArchiveError, match="expands to more than 1048576 bytes") as info:
        download_plugin(server.url("/bomb.zip"))
    assert info.value.entry == "zeros.bin"


def test_zip_with_lying_sizes(env, tmp_path: pathlib.Path, monkeypatch, unchanged) -> None:
    """A header that under-states the size is caught by counting what is written."""
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_MAX_BYTES", str(300_000))
    archive = tmp_path / "liar.zip"
    archive.write_bytes(make_zip({**plugin_files("@evil/liar"), "zeros.bin": b"\0" * 400_000}))
    from fiftyone_plugins.download.archives import extract_archive

    # the real check: extraction with the real sizes refuses mid-way
    with pytest.raises(UnsafeArchiveError, match="zeros.bin"):
        extract_archive(str(archive), str(tmp_path / "out"), max_bytes=300_000, max_files=10)
    with pytest.raises(UnsafeArchiveError):
        download_plugin(str(archive))


def test_too_many_files(env, server: TestServer, monkeypatch, unchanged) -> None:
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_MAX_FILES", "5")
    files = {**plugin_files("many"), **{f"f{i}.txt": "x" for i in range(10)}}
    for maker, path in ((make_zip, "/many.zip"), (make_tar, "/many.tgz")):
        server.serve(path, maker(files))
        with pytest.raises(UnsafeArchiveError, match="more than 5 entries"):
            download_plugin(server.url(path))


def test_symlinks_inside_a_plugin_are_kept(env, server: TestServer) -> None:
    archive = _tar(
        [
            (_member("p/fiftyone.yml"), manifest("@ok/links").encode()),
            (_member("p/src/real.py"), b"x = 1\n"),
            (_member("p/alias.py", tarfile.SYMTYPE, "src/real.py"), b""),
            (_member("p/copy.py", tarfile.LNKTYPE, "p/src/real.py"), b""),
        ]
    )
    server.serve("/links.tgz", archive)
    target = pathlib.Path(download_plugin(server.url("/links.tgz"))["@ok/links"])
    assert os.readlink(target / "alias.py") == "src/real.py"
    assert (target / "alias.py").read_text() == "x = 1\n"
    assert (target / "copy.py").read_text() == "x = 1\n"


def test_symlink_out_of_the_plugin_is_refused(env, server: TestServer, unchanged) -> None:
    # inside the archive, but it would point out of the plugin once installed
    archive = _tar(
        [
            (_member("top/shared/util.py"), b"x = 1\n"),
            (_member("top/plugins/p/fiftyone.yml"), manifest("@ok/p").encode()),
            (_member("top/plugins/p/util.py", tarfile.SYMTYPE, "../../shared/util.py"), b""),
        ]
    )
    server.serve("/p.tgz", archive)
    with pytest.raises(UnsafeArchiveError, match="points outside plugin '@ok/p'") as info:
        download_plugin(server.url("/p.tgz"))
    assert info.value.entry == "plugins/p/util.py"
