"""Secrets: only declared ones, from pluggable providers (env first), never leaked."""

from __future__ import annotations

import json
import pickle

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins import secrets as fos
from fiftyone_plugins.errors import ExecutionError
from fiftyone_plugins.operators import executor
from fiftyone_plugins.operators.delegated import DelegatedOperationService

TOKEN = "s3cr3t-token-value"


@pytest.fixture
def secret_plugin(env, monkeypatch):
    env.add_fixture_plugin("secrets")
    monkeypatch.setenv("FOP_TEST_TOKEN", TOKEN)
    monkeypatch.setenv("FOP_TEST_UNDECLARED", "visible-in-env-only")
    monkeypatch.delenv("FOP_TEST_UNSET", raising=False)
    return env


def plugin_module():
    import sys

    [name] = [n for n in sys.modules if n.startswith("_fiftyone_plugins_.test_secrets_")]
    return sys.modules[name]


EXPECTED = {
    "token": TOKEN,
    "unset": None,
    "unset_get": "default",
    "undeclared": None,
    "undeclared_get": "default",
    "secret_method": TOKEN,
    "in_token": True,
    "in_unset": False,
    "keys": ["FOP_TEST_TOKEN"],
    "items": ["FOP_TEST_TOKEN"],
}


def test_the_same_rule_in_every_hook(secret_plugin):
    result = foo.execute_operator("@test/secrets/show_secrets")
    assert result.result == EXPECTED
    executor.resolve_placement("@test/secrets/show_secrets")
    seen = plugin_module().SEEN
    assert seen["resolve_input"] == EXPECTED
    assert seen["resolve_placement"] == EXPECTED
    assert seen["execute"] == EXPECTED


def test_empty_values_count_as_unset(secret_plugin, monkeypatch):
    monkeypatch.setenv("FOP_TEST_UNSET", "")
    assert foo.execute_operator("@test/secrets/show_secrets").result["unset"] is None


def test_secret_values_never_show(secret_plugin, caplog):
    with pytest.raises(ExecutionError) as info:
        foo.execute_operator("@test/secrets/leak_secret")
    assert TOKEN not in str(info.value)
    assert "***" in str(info.value)
    assert info.value.__cause__ is None  # the original exception holds the value
    import asyncio

    result = asyncio.run(foo.execute_operator_async("@test/secrets/leak_secret"))
    assert TOKEN not in result.error and TOKEN not in result.error_trace
    assert TOKEN not in json.dumps(result.to_json())
    assert TOKEN not in caplog.text
    ctx = foo.ExecutionContext(required_secrets=["FOP_TEST_TOKEN"])
    assert ctx.secrets["FOP_TEST_TOKEN"] == TOKEN
    assert TOKEN not in repr(ctx.secrets) and TOKEN not in str(ctx.secrets)
    assert "FOP_TEST_TOKEN" in repr(ctx.secrets)
    with pytest.raises(TypeError):
        json.dumps(ctx.secrets)
    with pytest.raises(TypeError):
        pickle.dumps(ctx.secrets)


def test_delegated_requests_store_no_secrets_and_workers_read_their_own(
    secret_plugin, monkeypatch
):
    queued = foo.execute_operator("@test/secrets/show_secrets", request_delegation=True)
    service = DelegatedOperationService()
    assert TOKEN not in json.dumps(service.get(queued.result["id"]).to_dict())
    monkeypatch.setenv("FOP_TEST_TOKEN", "worker-token")
    [done] = service.execute_queued_operations(operator="@test/secrets/show_secrets")
    assert done.result["token"] == "worker-token"


def test_providers_are_asked_after_the_environment(monkeypatch):
    class Vault:
        def get(self, key):
            return {"A": "from-vault", "B": "vault-b"}.get(key)

    vault = Vault()
    monkeypatch.setenv("B", "from-env")
    fos.register_provider(vault)
    try:
        assert fos.get_providers()[0].__class__ is fos.EnvironmentProvider
        secrets = fos.SecretsDict(["A", "B", "C"])
        assert secrets["A"] == "from-vault" and secrets["B"] == "from-env"
        assert secrets["C"] is None and sorted(secrets) == ["A", "B"] and len(secrets) == 2
    finally:
        fos.unregister_provider(vault)
    assert fos.SecretsDict(["A"])["A"] is None
    with pytest.raises(TypeError):
        fos.register_provider(object())


def test_explicit_values_win_and_redact():
    secrets = fos.SecretsDict(["K"], {"K": "given"})
    assert secrets["K"] == "given" and dict(secrets.items()) == {"K": "given"}
    assert fos.redact("x given y", ["given"]) == "x *** y"
