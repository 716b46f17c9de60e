"""The management API: list, get, enable/disable, delete and create plugins."""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import pytest

import fiftyone_plugins as fop
from fiftyone_plugins import discovery
from fiftyone_plugins.errors import (
    BuiltinPluginError,
    PluginDefinitionError,
    PluginError,
    PluginExistsError,
    PluginNotFoundError,
)

MIXED = pathlib.Path(__file__).parent / "fixtures" / "plugin_dirs" / "mixed"


@pytest.fixture
def builtins(monkeypatch, tmp_path):
    root = tmp_path / "builtins"
    (root / "ops").mkdir(parents=True)
    (root / "ops" / "fiftyone.yml").write_text("name: '@voxel51/ops'\noperators: [noop]\n")
    monkeypatch.setattr(discovery, "BUILTIN_PLUGINS_DIR", str(root))
    return root


@pytest.fixture
def three(env):
    for name in ("@a/one", "@a/two", "three"):
        env.write_plugin(name, f"name: '{name}'\nversion: '1.0'\n")
    return env


def app_plugins(env) -> dict:
    if not env.app_config_path.exists():
        return {}
    return json.loads(env.app_config_path.read_text()).get("plugins", {})


def test_list_filters_by_enabled_and_builtin(three, builtins):
    fop.disable_plugin("@a/two")
    assert [p.name for p in fop.list_plugins()] == ["@a/one", "three"]
    assert [p.name for p in fop.list_plugins(enabled=False)] == ["@a/two"]
    assert [p.name for p in fop.list_plugins(enabled="all")] == ["@a/one", "@a/two", "three"]
    assert [p.name for p in fop.list_plugins(builtin=True)] == ["@voxel51/ops"]
    assert [p.name for p in fop.list_plugins(enabled="all", builtin="all")] == [
        "@a/one",
        "@a/two",
        "@voxel51/ops",
        "three",
    ]
    assert fop.list_downloaded_plugins() == ["@a/one", "@a/two", "three"]
    assert fop.list_enabled_plugins() == ["@a/one", "three"]
    assert fop.list_disabled_plugins() == ["@a/two"]


def test_disable_writes_enabled_false_and_keeps_other_keys(three):
    three.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    three.app_config_path.write_text(
        json.dumps({"colorscale": "viridis", "plugins": {"map": {"token": "x"}}})
    )
    fop.disable_plugin("@a/one")
    data = json.loads(three.app_config_path.read_text())
    assert data["colorscale"] == "viridis"
    assert data["plugins"] == {"map": {"token": "x"}, "@a/one": {"enabled": False}}
    assert not fop.is_plugin_enabled("@a/one")


def test_enable_removes_the_entry_instead_of_writing_true(three):
    three.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    three.app_config_path.write_text(
        json.dumps(
            {
                "plugins": {
                    "@a/one": {"enabled": False, "color": "red"},
                    "three": {"enabled": False},
                }
            }
        )
    )
    fop.enable_plugin("@a/one")
    fop.enable_plugin("three")
    assert app_plugins(three) == {"@a/one": {"color": "red"}}
    assert fop.is_plugin_enabled("three")


def test_builtins_cannot_be_disabled_or_deleted(builtins):
    with pytest.raises(BuiltinPluginError):
        fop.disable_plugin("@voxel51/ops")
    with pytest.raises(BuiltinPluginError):
        fop.delete_plugin("@voxel51/ops")
    fop.enable_plugin("@voxel51/ops")  # a no-op, not an error
    assert (builtins / "ops" / "fiftyone.yml").exists()


def test_unknown_names_suggest_close_matches(three):
    with pytest.raises(PluginNotFoundError) as info:
        fop.get_plugin("@a/onr")
    assert "@a/one" in info.value.suggestions
    with pytest.raises(PluginNotFoundError) as info:
        fop.enable_plugin("one")
    assert info.value.suggestions[0] == "@a/one"


def test_unknown_name_with_nothing_close_says_how_to_download(env):
    with pytest.raises(PluginNotFoundError, match="plugins download"):
        fop.get_plugin("@nobody/nothing")


def test_get_and_find_plugin(three):
    plugin = fop.get_plugin("@a/one")
    assert plugin.version == "1.0"
    assert fop.find_plugin("three") == str(three.plugins_dir / "three")
    assert fop.get_plugin(plugin_dir=str(three.plugins_dir / "three")).name == "three"


def test_a_disabled_plugin_can_still_be_inspected(three):
    fop.disable_plugin("three")
    assert fop.get_plugin("three").name == "three"


def test_delete_removes_the_folder_and_its_empty_org_folder(three):
    removed = fop.delete_plugin("@a/one")
    assert removed == [str(three.plugins_dir / "@a" / "one")]
    assert not (three.plugins_dir / "@a" / "one").exists()
    assert (three.plugins_dir / "@a" / "two").exists()
    fop.delete_plugin("@a/two")
    assert not (three.plugins_dir / "@a").exists()
    assert fop.list_downloaded_plugins() == ["three"]


def test_delete_removes_shadowed_copies_too(env):
    shutil.copytree(MIXED, env.plugins_dir, dirs_exist_ok=True)
    removed = fop.delete_plugin("@acme/dup")
    assert sorted(removed) == [
        str(env.plugins_dir / "dup-one"),
        str(env.plugins_dir / "zz" / "dup-two"),
    ]
    assert "@acme/dup" not in fop.list_downloaded_plugins()
    assert "@acme/good" in fop.list_downloaded_plugins()


def test_deleting_a_symlinked_plugin_removes_the_link_not_its_target(env, tmp_path):
    target = tmp_path / "elsewhere" / "linked"
    target.mkdir(parents=True)
    (target / "fiftyone.yml").write_text("name: linked\n")
    os.symlink(target, env.plugins_dir / "linked")
    fop.delete_plugin("linked")
    assert not os.path.lexists(env.plugins_dir / "linked")
    assert (target / "fiftyone.yml").exists()


def test_delete_never_touches_anything_outside_the_plugins_dir(env, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "fiftyone.yml").write_text("name: outsider\n")
    with pytest.raises(PluginError, match="not inside"):
        from fiftyone_plugins.management import _remove_folder

        _remove_folder(str(outside), str(env.plugins_dir))
    assert (outside / "fiftyone.yml").exists()


def test_create_scaffolds_a_valid_plugin(env):
    path = fop.create_plugin("@me/hello", description="Says hi", version=">=1.0")
    assert path == str(env.plugins_dir / "@me" / "hello")
    plugin = fop.get_plugin("@me/hello")
    assert plugin.description == "Says hi"
    assert plugin.fiftyone_compatibility == ">=1.0"
    assert plugin.version == "0.1.0"
    assert plugin.operators == ["say_hello"]
    assert plugin.has_py
    compile((pathlib.Path(path) / "__init__.py").read_text(), "__init__.py", "exec")


def test_create_refuses_to_overwrite_unless_asked(env):
    fop.create_plugin("@me/hello")
    marker = env.plugins_dir / "@me" / "hello" / "marker.txt"
    marker.write_text("keep")
    with pytest.raises(PluginExistsError, match="overwrite"):
        fop.create_plugin("@me/hello")
    assert marker.exists()
    fop.create_plugin("@me/hello", overwrite=True, plugin_version="2.0.0")
    assert not marker.exists()
    assert fop.get_plugin("@me/hello").version == "2.0.0"


def test_create_from_files_updates_an_existing_manifest(env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "fiftyone.yml").write_text("name: old\noperators: [a]\nsecrets: [K]\n")
    (src / "__init__.py").write_text("def register(p):\n    pass\n")
    outdir = tmp_path / "out"
    path = fop.create_plugin(
        "@me/copied", from_files=str(src), outdir=str(outdir), label="Copied", license="MIT"
    )
    assert path == str(outdir / "@me" / "copied")
    from fiftyone_plugins.definitions import PluginDefinition

    plugin = PluginDefinition.from_dir(path)
    assert plugin.name == "@me/copied" and plugin.operators == ["a"] and plugin.secrets == ["K"]
    assert plugin.label == "Copied" and plugin.license == "MIT"


def test_create_from_explicit_files(env, tmp_path):
    a = tmp_path / "a.py"
    a.write_text("X = 1\n")
    path = fop.create_plugin("files-plugin", from_files=[str(a)])
    assert (pathlib.Path(path) / "a.py").read_text() == "X = 1\n"


def test_create_rejects_an_invalid_name(env):
    with pytest.raises(PluginError, match="name"):
        fop.create_plugin("../escape")
    assert list(env.plugins_dir.iterdir()) == []


def test_get_plugin_from_a_broken_folder_raises_the_definition_error(env):
    folder = env.write_plugin("broken", "name: [\n")
    with pytest.raises(PluginDefinitionError):
        fop.get_plugin(plugin_dir=str(folder))


def test_public_api_is_pinned():
    expected = {
        "PLUGIN_API_VERSION", "PluginDefinition", "PluginSecretsResolver", "__version__",
        "create_plugin",
        "delete_plugin", "disable_plugin", "download_plugin", "enable_plugin",
        "ensure_plugin_compatibility", "ensure_plugin_requirements", "errors", "find_plugin",
        "get_plugin", "get_plugins_dir", "install_plugin_requirements", "is_plugin_enabled",
        "list_disabled_plugins", "list_downloaded_plugins", "list_enabled_plugins",
        "list_plugin_errors", "list_plugins", "load_config", "load_plugin_requirements",
        "operators",
    }  # fmt: skip
    assert set(fop.__all__) == expected
    for name in expected - {"download_plugin"}:
        assert getattr(fop, name) is not None


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, fiftyone_plugins\n"
        "heavy = [m for m in ('yaml', 'requests', 'pymongo', 'mongoengine', 'sqlite3',"
        " 'packaging', 'fiftyone_plugins.operators') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
