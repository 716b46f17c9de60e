"""Requirements and compatibility checks against the real environment and real pip."""

from __future__ import annotations

import logging

import pytest

import fiftyone_plugins as fop
from fiftyone_plugins.errors import RequirementsError


@pytest.fixture
def plugin(env):
    def make(requirements: str, manifest_extra: str = ""):
        env.write_plugin("req", "name: req\n" + manifest_extra, {"requirements.txt": requirements})
        return "req"

    return make


def test_load_drops_comments_and_blank_lines(plugin):
    plugin("pyyaml>=5  # the parser\n\n# comment\npackaging\n")
    assert fop.load_plugin_requirements("req") == ["pyyaml>=5", "packaging"]


def test_no_requirements_file_means_no_requirements(env):
    env.write_plugin("bare", "name: bare\n")
    assert fop.load_plugin_requirements("bare") == []
    assert fop.ensure_plugin_requirements("bare") == []


def test_ensure_reports_each_requirement(plugin):
    plugin("pyyaml>=5\npackaging<1\nnot-a-real-package-xyz\nbad req ===\n")
    checks = fop.ensure_plugin_requirements("req", error_level=2)
    assert [c.satisfied for c in checks] == [True, False, False, False]
    assert checks[0].installed
    assert "does not match" in checks[1].reason
    assert checks[2].reason == "not installed"
    assert "cannot parse" in checks[3].reason


def test_ensure_error_levels(plugin, caplog):
    plugin("not-a-real-package-xyz\n")
    with pytest.raises(RequirementsError, match="--install"):
        fop.ensure_plugin_requirements("req")
    with caplog.at_level(logging.WARNING):
        fop.ensure_plugin_requirements("req", error_level=1)
    assert "not-a-real-package-xyz" in caplog.text
    fop.ensure_plugin_requirements("req", error_level=2)


def test_markers_for_other_platforms_are_not_required(plugin):
    plugin('not-a-real-package-xyz; sys_platform == "nonexistent-os"\n')
    assert fop.ensure_plugin_requirements("req")[0].satisfied


def test_install_uses_this_interpreters_pip(plugin):
    plugin("--no-index\npyyaml\n")
    assert fop.install_plugin_requirements("req") is True


def test_install_failure_is_a_clear_error(plugin):
    plugin("--no-index\nnot-a-real-package-xyz==1.0\n")
    with pytest.raises(RequirementsError, match="pip failed"):
        fop.install_plugin_requirements("req")
    assert fop.install_plugin_requirements("req", error_level=2) is False


def test_compatibility_against_the_implemented_api_version(plugin, monkeypatch):
    plugin("", "fiftyone:\n  version: '>=0.22'\n")
    assert fop.ensure_plugin_compatibility("req") is True
    monkeypatch.setenv("FIFTYONE_PLUGIN_API_VERSION", "0.20.0")
    with pytest.raises(RequirementsError, match="requires fiftyone >=0.22"):
        fop.ensure_plugin_compatibility("req")
    assert fop.ensure_plugin_compatibility("req", error_level=2) is False


def test_unparseable_compatibility_warns_never_crashes(plugin, caplog):
    plugin("", "fiftyone:\n  version: banana\n")
    with caplog.at_level(logging.WARNING):
        assert fop.ensure_plugin_compatibility("req") is True
    assert "banana" in caplog.text
