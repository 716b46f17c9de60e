"""Adversarial checks of discovery and management: odd manifests and odd folders."""

from __future__ import annotations

import os
import pathlib

import pytest

from fiftyone_plugins import discovery, management
from fiftyone_plugins.errors import PluginError


def _names() -> list[str]:
    return [p.name for p in discovery.downloaded_plugins().plugins]


def _errors() -> list[str]:
    return [str(e) for e in discovery.downloaded_plugins().errors]


def test_crlf_and_bom_manifest(env) -> None:
    folder = env.plugins_dir / "win"
    folder.mkdir()
    (folder / "fiftyone.yml").write_bytes(
        b'\xef\xbb\xbfname: "@win/p"\r\nversion: 1.0.0\r\noperators:\r\n  - op\r\n'
    )
    plugin = management.get_plugin("@win/p")
    assert plugin.operators == ["op"] and plugin.version == "1.0.0"


def test_manifest_that_is_a_directory(env) -> None:
    (env.plugins_dir / "odd" / "fiftyone.yml").mkdir(parents=True)
    env.write_plugin("odd/inner", 'name: "@odd/inner"\n')
    assert _names() == ["@odd/inner"]


def test_manifest_symlink_outside(env, tmp_path: pathlib.Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text('name: "@link/p"\n')
    (env.plugins_dir / "linked").mkdir()
    os.symlink(outside, env.plugins_dir / "linked" / "fiftyone.yml")
    assert _names() == ["@link/p"]


def test_dangling_manifest_symlink(env, tmp_path: pathlib.Path) -> None:
    (env.plugins_dir / "dangling").mkdir()
    os.symlink(tmp_path / "missing.yml", env.plugins_dir / "dangling" / "fiftyone.yml")
    env.write_plugin("ok", 'name: "@ok/p"\n')
    assert _names() == ["@ok/p"]


def test_non_utf8_manifest_is_one_error(env) -> None:
    folder = env.plugins_dir / "latin"
    folder.mkdir()
    (folder / "fiftyone.yml").write_bytes('name: "@l/caf\xe9"\n'.encode("latin-1"))
    env.write_plugin("ok", 'name: "@ok/p"\n')
    assert _names() == ["@ok/p"]
    assert len(_errors()) == 1 and "UTF-8" in _errors()[0]


def test_huge_manifest(env) -> None:
    ops = "".join(f"  - op_{i}\n" for i in range(50_000))
    env.write_plugin("huge", 'name: "@h/p"\noperators:\n' + ops)
    assert len(management.get_plugin("@h/p").operators) == 50_000


def test_yaml_alias_bomb_is_cheap(env) -> None:
    lines = ['name: "@bomb/p"', 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 20):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    lines.append("operators: *a19")
    env.write_plugin("bomb", "\n".join(lines) + "\n")
    assert "@bomb/p" not in _names() and len(_errors()) == 1


@pytest.mark.parametrize(
    "name",
    ["@my-org/my_plugin.v2", "@Org_1/Plugin-X", "plain.name", "@org/with space", "@o/p+x~1"],
)
def test_unusual_but_valid_names(env, name: str) -> None:
    env.write_plugin("x", f"name: {name!r}\n")
    assert _names() == [name]
    management.disable_plugin(name)
    assert management.list_disabled_plugins() == [name]
    assert management.delete_plugin(name) == [str(env.plugins_dir / "x")]
    assert _names() == []


def test_delete_plugin_whose_folder_is_the_plugins_dir(env) -> None:
    (env.plugins_dir / "fiftyone.yml").write_text('name: "@root/p"\n')
    with pytest.raises(PluginError, match="Refusing"):
        management.delete_plugin("@root/p")
    assert (env.plugins_dir / "fiftyone.yml").is_file()


def test_delete_symlinked_plugin_keeps_target(env, tmp_path: pathlib.Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "fiftyone.yml").write_text('name: "@sym/p"\n')
    os.symlink(real, env.plugins_dir / "sym")
    management.delete_plugin("@sym/p")
    assert (real / "fiftyone.yml").is_file() and not (env.plugins_dir / "sym").exists()


def test_create_then_discover_then_delete(env) -> None:
    path = management.create_plugin("@c/p", version=">=0.22")
    assert _names() == ["@c/p"]
    assert management.get_plugin("@c/p").fiftyone_compatibility == ">=0.22"
    assert management.delete_plugin("@c/p") == [path]
    assert not (env.plugins_dir / "@c").exists()


def test_hidden_staging_folders_are_not_listed(env) -> None:
    env.write_plugin(".download-abc/source/p", 'name: "@staged/p"\n')
    env.write_plugin("_private/p", 'name: "@under/p"\n')
    assert _names() == ["@under/p"]
