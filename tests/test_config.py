"""Config precedence, App config reads and atomic, concurrent-safe writes."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from fiftyone_plugins import config
from fiftyone_plugins.errors import ConfigError


def test_plugins_dir_precedence_env_then_file_then_default(env, monkeypatch, tmp_path):
    env.config_path.parent.mkdir(parents=True, exist_ok=True)
    env.config_path.write_text(json.dumps({"plugins_dir": str(tmp_path / "from-file")}))
    assert config.get_plugins_dir() == str(env.plugins_dir)

    monkeypatch.delenv("FIFTYONE_PLUGINS_DIR")
    assert config.get_plugins_dir() == str(tmp_path / "from-file")

    env.config_path.unlink()
    assert config.get_plugins_dir() == os.path.expanduser("~/fiftyone/__plugins__")


def test_paths_expand_user_and_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("MY_ROOT", str(tmp_path))
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", "$MY_ROOT/plugins")
    assert config.get_plugins_dir() == str(tmp_path / "plugins")
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", "~/somewhere")
    assert config.get_plugins_dir() == os.path.join(os.path.expanduser("~"), "somewhere")


def test_typed_fields_are_parsed_from_env_and_file(env, monkeypatch):
    env.config_path.parent.mkdir(parents=True, exist_ok=True)
    env.config_path.write_text(json.dumps({"operator_timeout": 2.5, "unknown_key": 1}))
    assert config.load_config().operator_timeout == 2.5
    monkeypatch.setenv("FIFTYONE_ALLOW_LEGACY_ORCHESTRATORS", "true")
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_LEASE_SECONDS", "7")
    cfg = config.load_config()
    assert cfg.allow_legacy_orchestrators is True
    assert cfg.delegated_operation_lease_seconds == 7.0


def test_invalid_value_names_its_source(monkeypatch):
    monkeypatch.setenv("FIFTYONE_OPERATOR_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="FIFTYONE_OPERATOR_TIMEOUT"):
        config.load_config()


def test_corrupt_config_file_is_an_error_naming_the_file(env):
    env.config_path.parent.mkdir(parents=True, exist_ok=True)
    env.config_path.write_text("{not json")
    with pytest.raises(ConfigError) as info:
        config.load_config()
    assert str(env.config_path) in str(info.value)


def test_default_store_lives_beside_the_config_file(env, monkeypatch):
    monkeypatch.delenv("FIFTYONE_DELEGATED_OPERATION_STORE")
    store = config.load_config().delegated_operation_store
    assert store == "sqlite:///" + str(env.config_path.parent / "delegated_operations.sqlite")


def test_config_changes_are_seen_without_restart(env):
    env.config_path.parent.mkdir(parents=True, exist_ok=True)
    env.config_path.write_text(json.dumps({"operator_timeout": 1}))
    assert config.load_config().operator_timeout == 1.0
    env.config_path.write_text(json.dumps({"operator_timeout": 30}))
    assert config.load_config().operator_timeout == 30.0


def test_corrupt_app_config_is_an_error_not_everything_enabled(env):
    env.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    env.app_config_path.write_text('{"plugins": {"@a/b": {"enabled": false}')
    with pytest.raises(ConfigError) as info:
        config.load_app_config()
    assert str(env.app_config_path) in str(info.value)


def test_app_config_plugins_key_must_be_an_object(env):
    env.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    env.app_config_path.write_text('{"plugins": []}')
    with pytest.raises(ConfigError, match="plugins"):
        config.load_app_config()


def test_update_app_config_keeps_other_keys_and_leaves_no_temp_files(env):
    env.app_config_path.parent.mkdir(parents=True, exist_ok=True)
    env.app_config_path.write_text(json.dumps({"theme": "dark", "plugins": {"map": {"k": 1}}}))

    def change(data):
        data["plugins"]["@a/b"] = {"enabled": False}

    config.update_app_config(change)
    data = json.loads(env.app_config_path.read_text())
    assert data == {"theme": "dark", "plugins": {"map": {"k": 1}, "@a/b": {"enabled": False}}}
    leftovers = [p.name for p in env.app_config_path.parent.iterdir() if p.name.startswith(".tmp")]
    assert leftovers == []


def _disable_many(app_config_path: str, worker: int, count: int) -> None:
    os.environ["FIFTYONE_APP_CONFIG_PATH"] = app_config_path
    for i in range(count):

        def change(data, key=f"@w{worker}/p{i}"):
            data.setdefault("plugins", {})[key] = {"enabled": False}

        config.update_app_config(change)


def test_concurrent_writers_never_lose_an_update(env):
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_disable_many, args=(str(env.app_config_path), w, 15)) for w in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    plugins = json.loads(env.app_config_path.read_text())["plugins"]
    assert len(plugins) == 60
    assert all(v == {"enabled": False} for v in plugins.values())


def test_download_retry_policy_comes_from_the_config(monkeypatch):
    from fiftyone_plugins.download.http import configured_policy

    assert (configured_policy().retries, configured_policy().backoff) == (2, 0.5)
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_RETRIES", "5")
    monkeypatch.setenv("FIFTYONE_DOWNLOAD_BACKOFF", "0.1")
    assert (configured_policy().retries, configured_policy().backoff) == (5, 0.1)
