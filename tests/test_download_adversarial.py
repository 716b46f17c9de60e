"""Adversarial checks of download_plugin: real-world repo layouts and manifests, URL forms,
archive quirks, atomicity and token safety, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import logging
import os
import pathlib
import tarfile
import zipfile

import pytest
from _download_server import (
    FakeGitHub,
    Route,
    TestServer,
    make_zip,
    serve_github,
    snapshot,
)

from fiftyone_plugins import discovery, management
from fiftyone_plugins.download import download_plugin
from fiftyone_plugins.download import http as dl_http
from fiftyone_plugins.download.http import RetryPolicy
from fiftyone_plugins.download.sources import GitHubSource, UrlSource, parse_source
from fiftyone_plugins.errors import (
    DownloadError,
    NoPluginsFoundError,
    NotAnArchiveError,
)

TOKEN = "ghp_adversarialTOKEN123"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        dl_http, "RETRY_POLICY", RetryPolicy(retries=1, backoff=0.01, max_retry_after=0.5)
    )


@pytest.fixture
def github(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    return serve_github(server, monkeypatch, TOKEN)


# -- manifests shaped like real ones (voxel51/fiftyone-plugins and community repos) ---------

REAL_MANIFESTS = {
    # plugins/utils: unquoted version, url, license
    "utils": (
        'name: "@voxel51/utils"\ndescription: A collection of utility operators\n'
        'version: 1.2.1\nfiftyone:\n  version: ">=0.22"\n'
        "url: https://github.com/voxel51/fiftyone-plugins/tree/main/plugins/utils\n"
        "license: Apache 2.0\noperators:\n  - create_dataset\n  - delegate\n"
    ),
    # packages/examples: manifest starts with 'fiftyone', 4-space indents, no trailing newline
    "examples": (
        "fiftyone:\n    version: '~0.21.0'\nname: \"@voxel51/examples\"\n"
        "operators:\n    - example_plot\n    - example_table"
    ),
    # plugins/zoo: tags and secrets
    "zoo": (
        'name: "@voxel51/zoo"\ntags:\n  - model\n  - dataset\nversion: 1.3.2\n'
        'fiftyone:\n  version: ">=0.22"\noperators:\n  - load_zoo_dataset\n'
        "secrets:\n  - FIFTYONE_ZOO_ALLOWED_MODEL_NAMES\n"
    ),
    # plugins/vlmrun: comments between list items
    "vlmrun": (
        'name: "@voxel51/vlmrun"\nversion: 1.0.0\noperators:\n  # Video\n'
        "  - vlmrun_transcribe_video\n  # Images\n  - vlmrun_classify_images\n"
    ),
    # community: type plugin, author, empty operator list, inline comment on a secret
    "glitch": (
        'name: "@Burhan-Q/fo-glitch"\ntype: plugin\nauthor: "Burhan Q"\nversion: 0.1.0\n'
        'fiftyone:\n  version: ">=1.14.1"\noperators: []\n'
        "secrets:\n  - FO_GLITCH_THRESHOLD  # optional; default 100\n"
    ),
    # panels only, a float version, BOM and CRLF line endings (Windows editors)
    "panels": (
        '\ufeffname: "@voxel51/panel-examples"\r\nversion: 1.0\r\nfiftyone:\r\n'
        '  version: ">=0.25"\r\npanels:\r\n  - example_counter\r\n'
    ),
    # YAML anchors and a merge key, unknown keys, js_bundle/py_entry/label/url
    "anchors": (
        "x-common: &common\n  author: Voxel51\n  license: Apache 2.0\n"
        'name: "@org/anchored"\n<<: *common\nlabel: Anchored\n'
        "js_bundle: dist/index.umd.js\npy_entry: __init__.py\n"
        "url: https://example.com\nunknown_key: {nested: [1, 2]}\n"
    ),
    # skeleton-like: plain (un-scoped) name, version as an int, fiftyone version '*'
    "plain": "fiftyone:\n  version: '*'\nname: my_plain_plugin\nversion: 2\n",
}


@pytest.mark.parametrize("key", sorted(REAL_MANIFESTS))
def test_real_manifests_validate_and_are_discovered(env, key: str) -> None:
    folder = env.plugins_dir / key
    folder.mkdir()
    (folder / "fiftyone.yml").write_bytes(REAL_MANIFESTS[key].encode("utf-8"))
    (folder / "__init__.py").write_text("")
    found = discovery.downloaded_plugins()
    assert not found.errors, found.errors
    assert len(found.plugins) == 1


def _voxel51_layout() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "README.md": "# FiftyOne Plugins\n",
        "package.json": '{"private": true}\n',
        ".github/workflows/ci.yml": "name: ci\n",
    }
    for key, text in REAL_MANIFESTS.items():
        files[f"plugins/{key}/fiftyone.yml"] = text.encode("utf-8")
        files[f"plugins/{key}/__init__.py"] = "def register(p):\n    pass\n"
        files[f"plugins/{key}/README.md"] = f"# {key}\n"
    return files


def test_voxel51_like_repo_installs_every_plugin(env, github: FakeGitHub) -> None:
    github.add_repo("voxel51/fiftyone-plugins", _voxel51_layout())
    result = download_plugin("voxel51/fiftyone-plugins")
    assert not result.errors
    assert sorted(result) == sorted(
        [
            "@voxel51/utils",
            "@voxel51/examples",
            "@voxel51/zoo",
            "@voxel51/vlmrun",
            "@Burhan-Q/fo-glitch",
            "@voxel51/panel-examples",
            "@org/anchored",
            "my_plain_plugin",
        ]
    )
    assert result["@voxel51/zoo"] == str(env.plugins_dir / "@voxel51" / "zoo")
    assert (env.plugins_dir / "@voxel51" / "zoo" / "README.md").is_file()
    assert sorted(management.list_downloaded_plugins()) == sorted(result)


def test_voxel51_like_repo_select_by_full_name(env, github: FakeGitHub) -> None:
    github.add_repo("voxel51/fiftyone-plugins", _voxel51_layout())
    result = download_plugin(
        "https://github.com/voxel51/fiftyone-plugins".replace(
            "https://github.com", github.web_url
        ),
        plugin_names=["@voxel51/zoo", "@voxel51/utils"],
    )
    assert sorted(result) == ["@voxel51/utils", "@voxel51/zoo"]


def test_name_not_found_lists_found_names(env, github: FakeGitHub) -> None:
    github.add_repo("voxel51/fiftyone-plugins", _voxel51_layout())
    with pytest.raises(NoPluginsFoundError) as info:
        download_plugin("voxel51/fiftyone-plugins", plugin_names=["@voxel51/nope"])
    message = str(info.value)
    assert "'@voxel51/nope'" in message and "'@voxel51/zoo'" in message
    assert not list(env.plugins_dir.iterdir())


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(0, []), (1, []), (2, ["@voxel51/zoo"]), (3, ["@voxel51/zoo", "@deep/one"])],
)
def test_max_depth_levels(env, github: FakeGitHub, depth: int, expected: list[str]) -> None:
    github.add_repo(
        "u/r",
        {
            "plugins/zoo/fiftyone.yml": REAL_MANIFESTS["zoo"],
            "a/b/deep/fiftyone.yml": 'name: "@deep/one"\n',
            "a/b/c/deeper/fiftyone.yml": 'name: "@deep/two"\n',
        },
    )
    if not expected:
        with pytest.raises(NoPluginsFoundError):
            download_plugin("u/r", max_depth=depth)
        return
    assert sorted(download_plugin("u/r", max_depth=depth)) == sorted(expected)


# -- URL forms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("git@github.com:u/r.git", GitHubSource("u", "r")),
        ("git@github.com:u/my.repo", GitHubSource("u", "my.repo")),
        ("ssh://git@github.com/u/r.git", GitHubSource("u", "r")),
        ("u/r/tree/main/plugins/x", GitHubSource("u", "r", ("main", "plugins", "x"), "tree")),
        ("u/r/commit/abc1234", GitHubSource("u", "r", ("abc1234",), "ref")),
        ("https://github.com:443/u/r", GitHubSource("u", "r")),
        ("https://GitHub.com/u/r/", GitHubSource("u", "r")),
        ("https://github.com/u/r?tab=readme-ov-file#install", GitHubSource("u", "r")),
        ("https://example.com/dl?id=3", UrlSource("https://example.com/dl?id=3")),
    ],
)
def test_more_url_forms(text: str, expected: object) -> None:
    assert parse_source(text, "https://github.com") == expected


def _tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


PLUGIN = {"top/fiftyone.yml": b'name: "@x/p"\n', "top/__init__.py": b""}


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/a.tar.bz2", lambda: _tar_bytes(PLUGIN, "w:bz2"), {}),
        ("/a.tar.xz", lambda: _tar_bytes(PLUGIN, "w:xz"), {}),
        ("/a.tar", lambda: _tar_bytes(PLUGIN, "w"), {}),
        ("/a.tgz?sig=1", lambda: _tar_bytes(PLUGIN, "w:gz"), {}),
        (
            "/download",
            lambda: make_zip({"fiftyone.yml": 'name: "@x/p"\n'}, top="top"),
            {"Content-Type": "application/octet-stream"},
        ),
        (
            "/a.zip",
            lambda: make_zip({"fiftyone.yml": 'name: "@x/p"\n'}, top="top"),
            {"Content-Type": "text/html"},
        ),
    ],
)
def test_archive_kinds(env, server: TestServer, path, body, headers) -> None:
    server.routes[path.split("?")[0]] = Route(body=body(), headers=headers)
    assert list(download_plugin(server.url(path))) == ["@x/p"]


def test_html_page_is_not_an_archive(env, server: TestServer) -> None:
    server.serve("/page", b"<html>login</html>", headers={"Content-Type": "text/html"})
    with pytest.raises(NotAnArchiveError, match="not a zip or tar archive"):
        download_plugin(server.url("/page"))


# -- archive quirks ---------------------------------------------------------------------------


def _raw_zip(entries: list[tuple[str, bytes, int | None, int]]) -> bytes:
    """(name, data, unix mode or None, create_system) entries, no folder entries."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, mode, system in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = system
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return buf.getvalue()


def test_windows_zip_with_backslashes(env, server: TestServer) -> None:
    body = _raw_zip(
        [
            ("proj\\plugins\\p\\fiftyone.yml", b'name: "@win/p"\r\n', None, 0),
            ("proj\\plugins\\p\\__init__.py", b"", None, 0),
        ]
    )
    server.serve("/win.zip", body)
    result = download_plugin(server.url("/win.zip"))
    assert list(result) == ["@win/p"]
    assert (pathlib.Path(result["@win/p"]) / "__init__.py").is_file()


def test_zip_with_symlink_inside_plugin(env, server: TestServer) -> None:
    body = _raw_zip(
        [
            ("r/p/fiftyone.yml", b'name: "@l/p"\n', 0o100644, 3),
            ("r/p/real.py", b"x=1\n", 0o100755, 3),
            ("r/p/alias.py", b"real.py", 0o120777, 3),
        ]
    )
    server.serve("/l.zip", body)
    target = pathlib.Path(download_plugin(server.url("/l.zip"))["@l/p"])
    assert os.readlink(target / "alias.py") == "real.py"
    assert os.access(target / "real.py", os.X_OK)


def test_tar_with_pax_headers_and_long_names(env, server: TestServer) -> None:
    long = "d" * 120
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        tf.pax_headers = {"comment": "abc1234"}  # like GitHub's pax_global_header
        for name, data in {
            f"u-r-abc/{long}/p/fiftyone.yml": b'name: "@pax/p"\n',
            f"u-r-abc/{long}/p/{'f' * 150}.py": b"",
            "u-r-abc/ünïcödé.txt": b"x",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = {"mtime": "1.5"}
            tf.addfile(info, io.BytesIO(data))
    server.serve("/pax.tar.gz", buf.getvalue())
    assert list(download_plugin(server.url("/pax.tar.gz"))) == ["@pax/p"]


def test_several_top_folders(env, server: TestServer) -> None:
    body = make_zip({"a/fiftyone.yml": 'name: "@t/a"\n', "b/fiftyone.yml": 'name: "@t/b"\n'})
    server.serve("/two.zip", body)
    assert sorted(download_plugin(server.url("/two.zip"), max_depth=1)) == ["@t/a", "@t/b"]


def test_macos_zip_single_folder_with_junk(env, server: TestServer) -> None:
    """Finder's zips add __MACOSX/ beside the single top folder: still stripped."""
    body = make_zip(
        {
            "plugin/fiftyone.yml": 'name: "@mac/p"\n',
            "plugin/__init__.py": "",
            "__MACOSX/plugin/._fiftyone.yml": b"\x00\x05\x16\x07",
            ".DS_Store": b"\x00",
        }
    )
    server.serve("/mac.zip", body)
    assert list(download_plugin(server.url("/mac.zip"), max_depth=0)) == ["@mac/p"]


@pytest.mark.parametrize("kind", ["zip", "tar", "tgz"])
def test_empty_archive(env, server: TestServer, kind: str) -> None:
    body = {
        "zip": lambda: make_zip({}),
        "tar": lambda: _tar_bytes({}, "w"),
        "tgz": lambda: _tar_bytes({}, "w:gz"),
    }[kind]()
    server.serve("/empty", body)
    with pytest.raises((NoPluginsFoundError, NotAnArchiveError)):
        download_plugin(server.url("/empty"))
    assert not list(env.plugins_dir.iterdir())


def test_truncated_tgz(env, server: TestServer) -> None:
    body = _tar_bytes({"t/fiftyone.yml": b'name: "@t/p"\n', "t/big": os.urandom(200_000)}, "w:gz")
    server.serve(
        "/cut.tgz", body[: len(body) // 2], headers={"Content-Length": str(len(body) // 2)}
    )
    with pytest.raises(NotAnArchiveError):
        download_plugin(server.url("/cut.tgz"))
    assert not list(env.plugins_dir.iterdir())


def test_manifest_at_archive_root(env, server: TestServer) -> None:
    server.serve("/root.zip", make_zip({"fiftyone.yml": 'name: "@r/p"\n', "sub/x.py": ""}))
    result = download_plugin(server.url("/root.zip"), max_depth=0)
    assert (pathlib.Path(result["@r/p"]) / "sub" / "x.py").is_file()


def test_nested_archive_is_not_unpacked(env, server: TestServer) -> None:
    inner = make_zip({"fiftyone.yml": 'name: "@n/p"\n'}, top="p")
    server.serve("/outer.zip", make_zip({"inner.zip": inner}, top="top"))
    with pytest.raises(NoPluginsFoundError):
        download_plugin(server.url("/outer.zip"))


# -- atomicity and idempotence --------------------------------------------------------------


def test_redownload_is_idempotent(env, github: FakeGitHub) -> None:
    github.add_repo("voxel51/fiftyone-plugins", _voxel51_layout())
    first = download_plugin("voxel51/fiftyone-plugins")
    before = snapshot(env.plugins_dir)
    again = download_plugin("voxel51/fiftyone-plugins")
    assert not again and sorted(again.skipped) == sorted(first)
    assert snapshot(env.plugins_dir) == before
    over = download_plugin("voxel51/fiftyone-plugins", overwrite=True)
    assert sorted(over.overwritten) == sorted(first)
    assert snapshot(env.plugins_dir) == before
    assert not [p for p in env.plugins_dir.iterdir() if p.name.startswith(".")]


def test_duplicate_names_in_one_archive(env, server: TestServer) -> None:
    body = make_zip(
        {"a/fiftyone.yml": 'name: "@d/p"\n', "b/fiftyone.yml": 'name: "@d/p"\nversion: 2\n'},
        top="top",
    )
    server.serve("/dup.zip", body)
    result = download_plugin(server.url("/dup.zip"))
    assert list(result) == ["@d/p"]
    assert "b/fiftyone.yml" in " ".join(result.ignored)


def test_created_then_downloaded(env, server: TestServer) -> None:
    management.create_plugin("@c/p")
    server.serve("/c.zip", make_zip({"fiftyone.yml": 'name: "@c/p"\n'}, top="t"))
    result = download_plugin(server.url("/c.zip"))
    assert "@c/p" in result.skipped
    result = download_plugin(server.url("/c.zip"), overwrite=True)
    assert result.overwritten == ["@c/p"]
    assert not (env.plugins_dir / "@c" / "p" / "README.md").exists()


def test_overwrite_does_not_delete_an_unrelated_plugin(env, server: TestServer) -> None:
    """A folder at the target path that holds *other* plugins is not this plugin's copy."""
    env.write_plugin("myplugin/inner", 'name: "@other/inner"\n')
    server.serve("/m.zip", make_zip({"fiftyone.yml": "name: myplugin\n"}, top="t"))
    result = download_plugin(server.url("/m.zip"))
    assert result == {"myplugin": str(env.plugins_dir / "myplugin-2")} and not result.skipped
    result = download_plugin(server.url("/m.zip"), overwrite=True)
    assert result == {"myplugin": str(env.plugins_dir / "myplugin-2")}
    assert "@other/inner" in management.list_downloaded_plugins()
    assert "myplugin" in management.list_downloaded_plugins()


def test_plugins_dir_not_existing_yet(env, server: TestServer, monkeypatch) -> None:
    target = env.root / "new" / "deeper" / "plugins"
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", str(target))
    server.serve("/p.zip", make_zip({"fiftyone.yml": 'name: "@n/p"\n'}, top="t"))
    result = download_plugin(server.url("/p.zip"))
    assert result["@n/p"] == str(target / "@n" / "p")
    assert sorted(os.listdir(target)) == ["@n"]


# -- token safety -----------------------------------------------------------------------------


def test_token_not_in_output_or_logs(env, github: FakeGitHub, monkeypatch, caplog, capsys) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.add_repo("u/private", {"fiftyone.yml": 'name: "@u/p"\n'}, private=True)
    caplog.set_level(logging.DEBUG)
    download_plugin("u/private")
    with pytest.raises(DownloadError) as info:
        download_plugin("u/missing")
    for text in (caplog.text, str(info.value), repr(info.value), str(capsys.readouterr())):
        assert TOKEN not in text


def test_target_inside_another_plugin_is_refused(env, server: TestServer) -> None:
    env.write_plugin("@org", 'name: "odd-org-plugin"\n')  # a plugin whose folder is '@org'
    before = snapshot(env.plugins_dir)
    server.serve("/o.zip", make_zip({"fiftyone.yml": 'name: "@org/p"\n'}, top="t"))
    with pytest.raises(DownloadError, match="inside the folder of plugin 'odd-org-plugin'"):
        download_plugin(server.url("/o.zip"), overwrite=True)
    assert snapshot(env.plugins_dir) == before


def test_plugins_dir_that_is_itself_a_plugin(env, server: TestServer) -> None:
    (env.plugins_dir / "fiftyone.yml").write_text('name: "@root/self"\n')
    server.serve("/o.zip", make_zip({"fiftyone.yml": 'name: "@x/p"\n'}, top="t"))
    result = download_plugin(server.url("/o.zip"))
    assert "@x/p" in result
    with pytest.raises(Exception, match="Refusing"):
        management.delete_plugin("@root/self")
    assert (env.plugins_dir / "fiftyone.yml").is_file()


def _alias_bomb(key: str) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 20):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    return "\n".join(lines) + f"\n{key}: *a19\n"


@pytest.mark.parametrize("key", ["type", "operators", "version", "label"])
def test_yaml_alias_bomb_in_a_downloaded_manifest(env, server: TestServer, key: str) -> None:
    body = make_zip(
        {
            "bomb/fiftyone.yml": 'name: "@bomb/p"\n' + _alias_bomb(key),
            "ok/fiftyone.yml": 'name: "@ok/p"\n',
        },
        top="top",
    )
    server.serve("/bomb.zip", body)
    result = download_plugin(server.url("/bomb.zip"))
    assert list(result) == ["@ok/p"]
    assert len(str(result.errors) + str(result.ignored)) < 2000


def test_bad_content_encoding_is_a_clear_error(env, server: TestServer) -> None:
    body = make_zip({"fiftyone.yml": 'name: "@x/p"\n'}, top="t")
    server.serve("/enc.zip", body, headers={"Content-Encoding": "gzip"})
    with pytest.raises(DownloadError, match="Cannot decode the gzip response from .*enc.zip"):
        download_plugin(server.url("/enc.zip"))
    assert not list(env.plugins_dir.iterdir())


def test_gzip_content_encoding_is_decoded(env, server: TestServer) -> None:
    import gzip

    body = make_zip({"fiftyone.yml": 'name: "@x/p"\n'}, top="t")
    server.serve("/gz.zip", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert list(download_plugin(server.url("/gz.zip"))) == ["@x/p"]


def test_empty_200_body(env, server: TestServer) -> None:
    server.serve("/empty.zip", b"")
    with pytest.raises(NotAnArchiveError):
        download_plugin(server.url("/empty.zip"))


def test_token_with_trailing_newline(env, github: FakeGitHub, monkeypatch, caplog) -> None:
    """`export GITHUB_TOKEN=$(cat file)` style values keep their newline on some shells."""
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "\n")
    github.add_repo("u/private", {"fiftyone.yml": 'name: "@u/p"\n'}, private=True)
    caplog.set_level(logging.DEBUG)
    assert list(download_plugin("u/private")) == ["@u/p"]
    assert TOKEN not in caplog.text


def test_token_never_in_error_chain(env, server: TestServer, monkeypatch) -> None:
    """Even a header the HTTP library refuses must not carry the token into the error."""
    monkeypatch.setenv("GITHUB_TOKEN", "bad\ntoken" + TOKEN)
    monkeypatch.setenv("FIFTYONE_GITHUB_API_URL", server.url(""))
    monkeypatch.setenv("FIFTYONE_GITHUB_URL", server.url(""))
    with pytest.raises(DownloadError) as info:
        download_plugin("u/r")
    chain, error = [], info.value
    while error is not None:
        chain.append(f"{error!s} {error!r}")
        error = error.__cause__ or error.__context__
    assert TOKEN not in " ".join(chain)


def test_local_folder_is_the_plugins_dir(env) -> None:
    env.write_plugin("@a/p", 'name: "@a/p"\n')
    before = snapshot(env.plugins_dir)
    result = download_plugin(str(env.plugins_dir))
    assert result.skipped == {"@a/p": str(env.plugins_dir / "@a" / "p")}
    assert snapshot(env.plugins_dir) == before


def test_local_plugin_folder_inside_the_plugins_dir_overwritten(env) -> None:
    folder = env.write_plugin("@a/p", 'name: "@a/p"\n', {"x.py": "1"})
    before = snapshot(env.plugins_dir)
    result = download_plugin(str(folder), overwrite=True)
    assert result.overwritten == ["@a/p"]
    assert snapshot(env.plugins_dir) == before


def test_empty_repository(env, github: FakeGitHub) -> None:
    github.add_repo("u/empty", refs={}, default="main")
    with pytest.raises(DownloadError, match="default branch of u/empty") as info:
        download_plugin("u/empty")
    assert "None" not in str(info.value)


def test_ssh_address_on_another_host_is_a_clear_error() -> None:
    with pytest.raises(DownloadError, match="SSH address"):
        parse_source("git@gitlab.com:u/r.git", "https://github.com")


def test_cli_debug_output_never_shows_the_token(env, github: FakeGitHub, monkeypatch, capsys):
    from fiftyone_plugins.cli import main

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.add_repo("u/private", {"fiftyone.yml": 'name: "@u/p"\n'}, private=True)
    assert main(["--debug", "plugins", "download", "u/private"]) == 0
    assert main(["plugins", "download", "u/private"]) == 0  # skipped, still a success
    assert main(["plugins", "download", "u/missing"]) != 0
    out, err = capsys.readouterr()
    assert "skipped" in out and TOKEN not in out + err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
