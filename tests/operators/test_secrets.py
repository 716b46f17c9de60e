"""Secrets: only declared ones, from pluggable providers (env first), never leaked."""

from __future__ import annotations

import asyncio
import json
import pickle
import traceback

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins import secrets as fos
from fiftyone_plugins.errors import ExecutionError, FiftyOnePluginsError
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
    """The module of the fixture plugin currently registered (one per plugins dir)."""
    import sys

    return sys.modules[type(foo.get_operator("@test/secrets/show_secrets")).__module__]


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
    assert plugin_module().SEEN["execute"]["token"] == "worker-token"  # the worker's own
    # and what the operator returned is stored with the value masked
    assert done.result["token"] == "***" and "worker-token" not in json.dumps(done.to_dict())


def test_secrets_in_a_form_default_or_params_never_reach_the_store(secret_plugin):
    queued = foo.execute_operator(
        "@test/secrets/prefill", params={"note": f"call with {TOKEN}"}, request_delegation=True
    )
    assert TOKEN not in json.dumps(queued.to_json())
    stored = DelegatedOperationService().get(queued.result["id"]).to_dict()
    assert TOKEN not in json.dumps(stored) and "***" in json.dumps(stored["metadata"])
    assert stored["context"]["params"]["note"] == "call with ***"


def test_a_library_error_holding_a_secret_is_masked_when_raised(secret_plugin):
    with pytest.raises(FiftyOnePluginsError) as info:
        foo.execute_operator("@test/secrets/lib_error")
    assert TOKEN not in str(info.value) and "***" in str(info.value)
    assert TOKEN not in "".join(traceback.format_exception(info.value))
    result = asyncio.run(foo.execute_operator_async("@test/secrets/log_secret"))
    assert result.error is None and TOKEN not in json.dumps(result.to_json())
    assert TOKEN not in repr(result)
    assert result.result == {"echo": TOKEN}  # the Python API gives the operator's value


def test_a_pickled_context_holds_no_secret_values():
    ctx = foo.ExecutionContext(secrets={"K": "hunter2"}, required_secrets=["K"])
    assert ctx.secrets["K"] == "hunter2"
    assert b"hunter2" not in pickle.dumps(ctx)


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


def test_a_progress_label_holding_a_secret_is_stored_masked(secret_plugin):
    queued = foo.execute_operator("@test/secrets/progress_secret", request_delegation=True)
    service = DelegatedOperationService()
    [done] = service.execute_queued_operations(operator="@test/secrets/progress_secret")
    stored = service.get(queued.result["id"])
    assert done.result == "done" and stored.progress.label == "using ***"
    assert TOKEN not in json.dumps(stored.to_dict())
