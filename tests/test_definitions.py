"""The manifest data model: every field, every validation rule, clear errors."""

from __future__ import annotations

import pathlib

import pytest

from fiftyone_plugins.definitions import PluginDefinition, parse_version_spec, validate_plugin_name
from fiftyone_plugins.errors import PluginDefinitionError

MIXED = pathlib.Path(__file__).parent / "fixtures" / "plugin_dirs" / "mixed"


def write(tmp_path: pathlib.Path, text: str, name: str = "fiftyone.yml") -> pathlib.Path:
    folder = tmp_path / "plugin"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def test_every_info_field_is_exposed():
    plugin = PluginDefinition.from_dir(str(MIXED / "@acme" / "good"), plugins_dir=str(MIXED))
    d = plugin.to_dict()
    assert d["name"] == "@acme/good"
    assert d["author"] == "Acme"
    assert d["version"] == "1.2.0"
    assert d["license"] == "Apache 2.0"
    assert d["description"] == "A well-formed plugin"
    assert d["fiftyone_compatibility"] == ">=0.22"
    assert d["operators"] == ["greet", "count_things"]
    assert d["panels"] == ["good_panel"]
    assert d["secrets"] == ["ACME_API_KEY"]
    assert d["js_bundle"] == "dist/index.umd.js"
    assert d["py_entry"] == "__init__.py"
    assert d["js_bundle_exists"] is False
    assert d["js_bundle_server_path"] is None
    assert d["has_py"] is True and d["has_js"] is False
    assert d["server_path"] == "/plugins/@acme/good"
    assert d["directory"] == str(MIXED / "@acme" / "good")
    # unknown keys are kept, not rejected
    assert plugin.manifest["repository"].endswith("good.git")
    assert plugin.manifest["type"] == "plugin"
    # FiftyOne's extra attributes, used by real plugins such as @voxel51/plugins
    assert plugin.fiftyone_requirement == "fiftyone>=0.22"
    assert plugin.can_register_operator("good_panel") and not plugin.can_register_operator("x")
    assert plugin.has_package_json is False


def test_fiftyone_requirement_is_none_for_any_version(tmp_path):
    plugin = PluginDefinition.from_dir(
        str(write(tmp_path, "name: p\nfiftyone:\n  version: '*'\n"))
    )
    assert plugin.fiftyone_requirement is None


def test_js_bundle_falls_back_to_package_json_script():
    plugin = PluginDefinition.from_dir(str(MIXED / "js-plugin"), plugins_dir=str(MIXED))
    assert plugin.js_bundle == "dist/bundle.js" and plugin.has_package_json
    assert plugin.js_bundle_exists and plugin.has_js and not plugin.has_py
    assert plugin.js_bundle_server_path == "/plugins/js-plugin/dist/bundle.js"


def test_fiftyone_yml_is_preferred_over_yaml():
    assert PluginDefinition.from_dir(str(MIXED / "both-ext")).name == "@acme/both-yml"


@pytest.mark.parametrize(
    "folder, reason",
    [
        ("broken-yaml", "malformed YAML at line"),
        ("no-name", "'name' must be a non-empty string"),
        ("bad-types", "'operators' must be a list"),
        ("dotdot", "must not contain"),
        ("escape-entry", "'py_entry'"),
    ],
)
def test_invalid_manifests_raise_an_error_naming_file_and_fault(folder, reason):
    with pytest.raises(PluginDefinitionError) as info:
        PluginDefinition.from_dir(str(MIXED / folder))
    assert info.value.path.startswith(str(MIXED / folder))
    assert reason in info.value.reason
    assert str(MIXED / folder) in str(info.value)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("- a\n- b\n", "mapping"),
        ("name: x\nsecrets: [1, 2]\n", "'secrets'"),
        ("name: x\ntags: [ok, '']\n", "'tags'"),
        ("name: x\nversion: [1]\n", "'version'"),
        ("name: x\nfiftyone: '>=1'\n", "'fiftyone'"),
        ("name: x\npy_entry: /etc/passwd\n", "'py_entry'"),
        ("name: x\njs_bundle: ../../x.js\n", "'js_bundle'"),
        ("name: x\ndescription: {a: 1}\n", "'description'"),
    ],
)
def test_field_type_errors(tmp_path, text, reason):
    with pytest.raises(PluginDefinitionError, match=reason):
        PluginDefinition.from_dir(str(write(tmp_path, text)))


def test_missing_manifest_is_an_error(tmp_path):
    with pytest.raises(PluginDefinitionError, match="no fiftyone.yml"):
        PluginDefinition.from_dir(str(tmp_path))


def test_non_pep440_version_and_bad_spec_warn_but_load():
    plugin = PluginDefinition.from_dir(str(MIXED / "yaml-ext"))
    assert plugin.version == "not-pep440"
    assert plugin.fiftyone_compatibility == "banana"
    assert plugin.warnings == [
        "version 'not-pep440' is not a PEP 440 version",
        "fiftyone.version 'banana' is not a valid version specifier",
    ]


def test_numeric_versions_become_strings(tmp_path):
    plugin = PluginDefinition.from_dir(str(write(tmp_path, "name: x\nversion: 1.5\n")))
    assert plugin.version == "1.5"


@pytest.mark.parametrize(
    "name", ["@voxel51/annotation", "plain", "hello-world", "@jane.doe/my_plugin.v2"]
)
def test_valid_names(name):
    assert validate_plugin_name(name) is None


@pytest.mark.parametrize(
    "name",
    ["", "  ", None, 3, "@org", "@org/a/b", "a/b", "..", "@org/..", "a\\b", ".hidden", " x"],
)
def test_invalid_names(name):
    assert validate_plugin_name(name)


@pytest.mark.parametrize(
    "text, ok, version",
    [
        (">=0.22", True, "1.0"),
        (">=0.21 <1", True, "0.25"),
        (">=0.21 <1", False, "1.2"),
        (">= 0.22", True, "1.0"),
        ("*", True, "0.1"),
        ("", True, "0.1"),
        ("~0.21.0", True, "0.21.5"),  # npm ranges, as some real manifests write them
        ("~0.21.0", False, "0.22.0"),
        ("~0.21", True, "0.21.9"),
        ("^1.2.3", True, "1.9"),
        ("^1.2.3", False, "2.0"),
        ("^1.2.3", False, "1.2.2"),
        ("^0.21.1", True, "0.21.4"),
        ("^0.21.1", False, "0.22"),
        ("^0.0.3", False, "0.0.4"),
    ],
)
def test_version_specs(text, ok, version):
    spec = parse_version_spec(text)
    assert spec is not None
    assert spec.contains(version, prereleases=True) is ok


def test_unparseable_spec_is_none():
    assert parse_version_spec("banana") is None
