"""Discovery: one result per plugin folder, duplicates, depth, skips, loops and the cache."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

from fiftyone_plugins import discovery
from fiftyone_plugins.definitions import PluginDefinition

MIXED = pathlib.Path(__file__).parent / "fixtures" / "plugin_dirs" / "mixed"


@pytest.fixture
def mixed(env):
    shutil.copytree(MIXED, env.plugins_dir, dirs_exist_ok=True)
    return env.plugins_dir


def test_broken_manifests_are_reported_and_hide_nothing(mixed):
    found = discovery.downloaded_plugins()
    names = [p.name for p in found.plugins]
    assert names == sorted(names)
    assert set(names) == {
        "@acme/good",
        "@acme/nested",
        "@acme/dup",
        "@acme/yaml-ext",
        "@acme/both-yml",
        "plain-js",
    }
    failed = sorted(os.path.relpath(e.path, mixed) for e in found.errors)
    assert failed == [
        "bad-types/fiftyone.yml",
        "broken-yaml/fiftyone.yml",
        "dotdot/fiftyone.yml",
        "escape-entry/fiftyone.yml",
        "no-name/fiftyone.yml",
    ]
    assert all(e.reason for e in found.errors)


def test_hidden_node_modules_and_too_deep_folders_are_skipped(mixed):
    names = {p.name for p in discovery.downloaded_plugins().plugins}
    assert "@acme/in-node-modules" not in names
    assert "@acme/hidden" not in names
    assert "@acme/too-deep" not in names
    # three levels deep is found
    assert "@acme/nested" in names


def test_duplicate_names_resolve_to_the_shallowest_and_report_the_loser(mixed):
    dup = discovery.downloaded_plugins().get("@acme/dup")
    assert dup.directory == str(mixed / "dup-one")
    assert dup.version == "1.0"
    assert dup.shadow_paths == [str(mixed / "zz" / "dup-two")]


def test_search_stops_at_the_first_manifest(env):
    env.write_plugin("outer", "name: outer\n")
    env.write_plugin("outer/inner", "name: inner\n")
    assert [p.name for p in discovery.downloaded_plugins().plugins] == ["outer"]


def test_symlink_loops_are_visited_once(env):
    env.write_plugin("a/real", "name: real\n")
    os.symlink(env.plugins_dir / "a", env.plugins_dir / "a" / "loop")
    os.symlink(env.plugins_dir, env.plugins_dir / "root-loop")
    found = discovery.downloaded_plugins()
    assert [p.name for p in found.plugins] == ["real"]
    assert found.errors == []


def test_missing_plugins_dir_is_empty_not_an_error(env, monkeypatch, tmp_path):
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", str(tmp_path / "does-not-exist"))
    found = discovery.downloaded_plugins()
    assert found.plugins == [] and found.errors == []


@pytest.fixture(params=["inotify", "stamps"])
def change_detection(request, monkeypatch):
    """Runs a test with inotify watches and with the modification-stamp fallback."""
    if request.param == "stamps":

        def unavailable(*args, **kwargs):
            raise OSError("no inotify here")

        monkeypatch.setattr(discovery, "FolderWatcher", unavailable)
    discovery.invalidate()
    return request.param


def _age_everything(root: pathlib.Path) -> None:
    past = os.stat(root).st_mtime - 5
    for path in root.rglob("*"):  # make nothing look freshly modified
        os.utime(path, (past, past))
    os.utime(root, (past, past))


def test_unchanged_disk_means_no_manifest_is_reread(env, monkeypatch, change_detection):
    for i in range(5):
        env.write_plugin(f"p{i}", f"name: p{i}\n")
    discovery.downloaded_plugins()
    _age_everything(env.plugins_dir)
    first = discovery.downloaded_plugins()
    for _ in range(discovery._ARM_AFTER):  # repeated looks arm the watcher
        assert discovery.downloaded_plugins() is first
    cached = discovery._cache[(str(env.plugins_dir), discovery.MAX_DEPTH, False)]
    assert (cached.watcher is not None) == (change_detection == "inotify")

    reads = []
    original = PluginDefinition.from_file.__func__

    def counting(cls, path, **kw):
        reads.append(path)
        return original(cls, path, **kw)

    monkeypatch.setattr(PluginDefinition, "from_file", classmethod(counting))
    again = discovery.downloaded_plugins()
    assert again is first
    assert reads == []

    # any change on disk is seen
    (env.plugins_dir / "p3" / "fiftyone.yml").write_text("name: p3-renamed\n")
    names = [p.name for p in discovery.downloaded_plugins().plugins]
    assert "p3-renamed" in names and "p3" not in names
    shutil.rmtree(env.plugins_dir / "p4")
    assert "p4" not in [p.name for p in discovery.downloaded_plugins().plugins]
    env.write_plugin("new/deeper", "name: brand-new\n")
    assert "brand-new" in [p.name for p in discovery.downloaded_plugins().plugins]


def test_in_place_edits_and_symlinked_plugins_are_seen(env, tmp_path, change_detection):
    env.write_plugin("p", "name: aaaa\n")
    discovery.downloaded_plugins()
    _age_everything(env.plugins_dir)
    assert [p.name for p in discovery.downloaded_plugins().plugins] == ["aaaa"]
    with open(env.plugins_dir / "p" / "fiftyone.yml", "r+") as f:  # same size, same inode
        f.write("name: bbbb\n")
    assert [p.name for p in discovery.downloaded_plugins().plugins] == ["bbbb"]
    _age_everything(env.plugins_dir)
    discovery.downloaded_plugins()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "fiftyone.yml").write_text("name: linked\n")
    os.symlink(elsewhere, env.plugins_dir / "linked")
    assert [p.name for p in discovery.downloaded_plugins().plugins] == ["bbbb", "linked"]


def test_unrelated_files_in_plugin_folders_keep_the_cache(env, change_detection):
    env.write_plugin("p", "name: p\n")
    discovery.downloaded_plugins()
    _age_everything(env.plugins_dir)
    first = discovery.downloaded_plugins()
    for _ in range(discovery._ARM_AFTER):
        assert discovery.downloaded_plugins() is first
    if change_detection == "inotify":  # stamps cannot tell; inotify can
        (env.plugins_dir / "p" / "notes.txt").write_text("runtime output")
        (env.plugins_dir / "p" / "__pycache__").mkdir()
        assert discovery.downloaded_plugins() is first


def test_builtins_are_found_through_the_package(monkeypatch, tmp_path):
    builtin_root = tmp_path / "builtins"
    (builtin_root / "ops").mkdir(parents=True)
    (builtin_root / "ops" / "fiftyone.yml").write_text("name: '@voxel51/ops'\n")
    monkeypatch.setattr(discovery, "BUILTIN_PLUGINS_DIR", str(builtin_root))
    found = discovery.builtin_plugins()
    assert [p.name for p in found.plugins] == ["@voxel51/ops"]
    assert found.plugins[0].builtin is True


def test_real_builtin_dir_is_inside_the_package():
    import fiftyone_plugins

    assert discovery.BUILTIN_PLUGINS_DIR.startswith(os.path.dirname(fiftyone_plugins.__file__))


def test_downloaded_plugin_shadows_builtin_of_same_name(env, monkeypatch, tmp_path):
    builtin_root = tmp_path / "builtins"
    (builtin_root / "ops").mkdir(parents=True)
    (builtin_root / "ops" / "fiftyone.yml").write_text("name: '@voxel51/ops'\nversion: '1'\n")
    monkeypatch.setattr(discovery, "BUILTIN_PLUGINS_DIR", str(builtin_root))
    env.write_plugin("@voxel51/ops", "name: '@voxel51/ops'\nversion: '2'\n")
    merged = discovery.all_plugins().get("@voxel51/ops")
    assert merged.version == "2" and not merged.builtin
    assert merged.shadow_paths == [str(builtin_root / "ops")]


_LIST_SCRIPT = (
    "import json, fiftyone_plugins as fop\n"
    "print(json.dumps({'names': [p.name for p in fop.list_plugins(enabled='all')],"
    " 'errors': [str(e) for e in fop.list_plugin_errors()]}))\n"
)


def test_unreadable_folder_is_reported_and_hides_nothing(env):
    import json
    import subprocess
    import sys

    env.write_plugin("ok", "name: ok\n")
    locked = env.write_plugin("locked/inner", "name: locked\n").parent
    command = [sys.executable, "-c", _LIST_SCRIPT]
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    os.chmod(locked, 0)
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    finally:
        os.chmod(locked, 0o755)
    result = json.loads(out.stdout)
    assert result["names"] == ["ok"]
    assert len(result["errors"]) == 1
    assert str(locked) in result["errors"][0] and "ermission denied" in result["errors"][0]
