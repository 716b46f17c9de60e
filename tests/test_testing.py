"""The testing helper isolates plugins, config and store, and restores everything after."""

from __future__ import annotations

import os

import fiftyone_plugins as fop
from fiftyone_plugins.testing import isolated_plugins


def test_isolated_plugins_is_isolated_and_restores_the_environment(env, tmp_path):
    env.write_plugin("outside", "name: outside\n")
    source = tmp_path / "src"
    source.mkdir()
    (source / "fiftyone.yml").write_text("name: copied\n")
    with isolated_plugins() as iso:
        assert fop.list_plugins() == []
        iso.add_plugin(str(source))
        iso.write_plugin("written", "name: written\n", {"pkg/util.py": "X = 1\n"})
        assert [p.name for p in fop.list_plugins()] == ["copied", "written"]
        fop.disable_plugin("copied")
        assert os.path.exists(iso.app_config_path)
        assert os.environ["FIFTYONE_DELEGATED_OPERATION_STORE"] == "memory://"
        root = iso.root
    assert not os.path.exists(root)
    assert os.environ["FIFTYONE_PLUGINS_DIR"] == str(env.plugins_dir)
    assert [p.name for p in fop.list_plugins()] == ["outside"]
    assert not env.app_config_path.exists()
