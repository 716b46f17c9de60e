"""Looking at a repository's plugins without installing them (``fiftyone.plugins.utils``),
against a fake GitHub on 127.0.0.1."""

from __future__ import annotations

import pytest
from _download_server import plugin_files, serve_github

from fiftyone_plugins.download.info import find_plugins, get_plugin_info, list_zoo_plugins
from fiftyone_plugins.errors import SourceNotFoundError

README = """# FiftyOne Plugins
<table>
    <tr><th>Name</th><th>Description</th></tr>
    <tr>
        <td><b><a href="https://github.com/voxel51/fiftyone-plugins/blob/main/plugins/io/README.md">@voxel51/io</a></b></td>
        <td>A collection of import/export utilities</td>
    </tr>
    <tr>
        <td><b><a href="https://github.com/voxel51/fiftyone-plugins/tree/main/plugins/zoo">@voxel51/zoo</a></b></td>
        <td>Download datasets and run inference with models
        from the FiftyOne Zoo</td>
    </tr>
</table>
"""


@pytest.fixture
def github(env, server, monkeypatch):
    gh = serve_github(server, monkeypatch, "t0ken")
    gh.add_repo(
        "org/many",
        {
            **plugin_files("@org/alpha", "plugins/alpha", version="1.0"),
            **plugin_files("@org/beta", "plugins/deep/beta"),
            "README.md": "no plugin here",
        },
    )
    gh.add_repo(
        "voxel51/fiftyone-plugins",
        {
            "README.md": README,
            **plugin_files("@voxel51/io", "plugins/io", description="I/O"),
            **plugin_files("@voxel51/zoo", "plugins/zoo", description="Zoo"),
        },
    )
    return gh


def test_find_plugins_lists_manifests_or_their_contents(github, env):
    paths = find_plugins("org/many")
    assert paths == ["plugins/alpha/fiftyone.yml", "plugins/deep/beta/fiftyone.yml"]
    assert find_plugins(f"{github.web_url}/org/many/tree/main/plugins/deep") == [
        "plugins/deep/beta/fiftyone.yml"
    ]
    assert find_plugins("org/many", path="plugins/alpha") == ["plugins/alpha/fiftyone.yml"]
    infos = find_plugins("org/many", info=True)
    assert [i["name"] for i in infos] == ["@org/alpha", "@org/beta"]
    assert list(env.plugins_dir.iterdir()) == []  # nothing was installed


def test_get_plugin_info_by_path_tree_and_blob_urls(github):
    assert get_plugin_info("org/many", path="plugins/alpha")["version"] == "1.0"
    assert get_plugin_info("org/many", path="plugins/alpha/fiftyone.yml")["name"] == "@org/alpha"
    tree = f"{github.web_url}/org/many/tree/main/plugins/deep/beta"
    assert get_plugin_info(tree)["name"] == "@org/beta"
    blob = f"{github.web_url}/org/many/blob/main/plugins/alpha/fiftyone.yml"
    assert get_plugin_info(blob)["name"] == "@org/alpha"
    with pytest.raises(SourceNotFoundError, match="No fiftyone.yml"):
        get_plugin_info("org/many")


def test_list_zoo_plugins_reads_the_readme_table(github):
    plugins = list_zoo_plugins()
    assert [p["name"] for p in plugins] == ["@voxel51/io", "@voxel51/zoo"]
    assert plugins[1]["description"] == (
        "Download datasets and run inference with models from the FiftyOne Zoo"
    )
    assert plugins[0]["url"].endswith("/plugins/io/README.md")


def test_fiftyone_plugins_utils_resolves_here(env, monkeypatch):
    from fiftyone_plugins import compat

    monkeypatch.setattr(compat, "fiftyone_installed", lambda: False)
    compat.install()
    import multiprocessing

    import fiftyone.plugins.utils as fopu

    assert fopu.find_plugins is find_plugins
    assert hasattr(multiprocessing, "dummy")  # FiftyOne's module imports it; plugins use it
