"""``fiftyone-plugins plugins download`` end to end, against a real local HTTP server."""

from __future__ import annotations

import io
import sys

import pytest
from _download_server import (
    FakeGitHub,
    TestServer,
    make_zip,
    plugin_files,
    serve_github,
)

from fiftyone_plugins.cli import main
from fiftyone_plugins.download import http as dl_http
from fiftyone_plugins.download.http import RetryPolicy

REPO = {
    **plugin_files("@org/alpha", "plugins/alpha"),
    **plugin_files("@org/beta", "plugins/beta"),
    **plugin_files("@org/dataset", "plugins/dataset", type="dataset"),
}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl_http, "RETRY_POLICY", RetryPolicy(retries=1, backoff=0.01))


@pytest.fixture
def github(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> FakeGitHub:
    gh = serve_github(server, monkeypatch, "t0ken")
    gh.add_repo("u/r", REPO)
    return gh


def table(out: str) -> list[list[str]]:
    """The table's rows as lists of cells (split on runs of two or more spaces)."""
    import re

    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("plugin"))
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        if line.startswith(("Installed ", "Skipped ")):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_download_prints_a_table(env, github, capsys) -> None:
    code = main(["plugins", "download", "u/r"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0].split() == ["plugin", "status", "directory", "note"]
    alpha = str(env.plugins_dir / "@org" / "alpha")
    assert table(out) == [
        ["@org/alpha", "installed", alpha],
        ["@org/beta", "installed", str(env.plugins_dir / "@org" / "beta")],
        ["-", "ignored", "plugins/dataset/fiftyone.yml", "type 'dataset' is not a plugin"],
    ]
    assert "Installed 2 plugin(s) from u/r" in out
    assert err == ""  # not a terminal: no progress bar


def test_redownload_skips_with_a_hint_then_overwrites(env, github, capsys) -> None:
    assert main(["plugins", "download", "u/r"]) == 0
    capsys.readouterr()
    assert main(["plugins", "download", "u/r", "-n", "@org/alpha"]) == 0
    out, _ = capsys.readouterr()
    assert table(out) == [
        [
            "@org/alpha",
            "skipped",
            str(env.plugins_dir / "@org" / "alpha"),
            "already installed; --overwrite replaces it",
        ]
    ]
    assert "pass --overwrite to replace them" in out
    assert main(["download", "u/r", "--plugin-names", "@org/alpha", "--overwrite"]) == 0
    out, _ = capsys.readouterr()
    assert table(out)[0][:2] == ["@org/alpha", "overwritten"]
    assert "1 replacing an installed copy" in out


def test_invalid_manifest_exits_non_zero(env, github, capsys) -> None:
    github.add_repo(
        "u/broken",
        {**plugin_files("@org/good", "good"), "bad/fiftyone.yml": "name: '@org/bad'\ntags: 1\n"},
    )
    code = main(["plugins", "download", "u/broken"])
    out, err = capsys.readouterr()
    assert code == 1
    rows = table(out)
    assert rows[0][:2] == ["@org/good", "installed"]
    assert rows[1][:3] == ["@org/bad", "invalid", "bad/fiftyone.yml"]
    assert "error: Invalid plugin manifest bad/fiftyone.yml: 'tags'" in err
    # asking only for the good one succeeds
    assert main(["plugins", "download", "u/broken", "-n", "@org/good", "-o"]) == 0


def test_wrong_plugin_name(env, github, capsys) -> None:
    code = main(["plugins", "download", "u/r", "--plugin-names", "gamma"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.strip() == (
        "error: Plugin(s) 'gamma' not found in u/r (searched 3 folder level(s) deep); "
        "plugins found: '@org/alpha', '@org/beta'"
    )
    assert list(env.plugins_dir.iterdir()) == []


def test_max_depth_option(env, github, capsys) -> None:
    code = main(["plugins", "download", "u/r", "--max-depth", "1"])
    _, err = capsys.readouterr()
    assert code != 0
    assert "error: No plugin (fiftyone.yml) found in u/r (searched 1 folder level(s) deep)" in err
    assert "raise max_depth (--max-depth)" in err


def test_not_found_is_one_error_line(env, github, capsys) -> None:
    code = main(["plugins", "download", "nobody/nothing"])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.splitlines() == [
        f"error: Repository nobody/nothing not found at {github.web_url}; "
        "if it is private, set GITHUB_TOKEN"
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(env, server, capsys, monkeypatch) -> None:
    server.serve("/p.zip", make_zip({**plugin_files("bar"), "x.bin": b"x" * 300_000}))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["plugins", "download", server.url("/p.zip")]) == 0
    drawn = terminal.getvalue()
    assert drawn.startswith("\rDownloading [")
    assert "100%" in drawn and drawn.endswith("\n")
    assert "#" * 30 in drawn
    out, _ = capsys.readouterr()
    assert table(out) == [["bar", "installed", str(env.plugins_dir / "bar")]]
