"""FiftyOne's names where its own tests and scripts touch them (docs/fiftyone.md, "FiftyOne's
API where scripts and tests touch it"), without FiftyOne."""

from __future__ import annotations

import asyncio
import json
import pathlib
from unittest import mock

import pytest

from fiftyone_plugins import compat


@pytest.fixture
def installed():
    assert compat.install() is True
    return compat


def test_patching_fo_config_sets_reads_back_and_restores(installed, env, tmp_path):
    import fiftyone as fo

    from fiftyone_plugins.config import load_config

    other = tmp_path / "elsewhere"
    other.mkdir()
    with mock.patch("fiftyone.config.plugins_dir", other):
        assert fo.config.plugins_dir == other  # the object assigned, a Path here
        assert load_config().plugins_dir == str(other)  # the library reads a str
    assert fo.config.plugins_dir == str(env.plugins_dir)  # restored
    fo.config.plugins_dir = str(other)
    del fo.config.plugins_dir
    assert load_config().plugins_dir == str(env.plugins_dir)


def test_fiftyone_internal_secrets_is_an_attribute_of_its_package(installed):
    import fiftyone.internal
    from fiftyone.internal import secrets as fois

    import fiftyone_plugins.secrets

    assert fois is fiftyone_plugins.secrets is fiftyone.internal.secrets
    with pytest.raises(AttributeError):
        fiftyone.internal.no_such_module  # noqa: B018


def test_a_secret_equals_its_value_as_in_fiftyone():
    from fiftyone_plugins.secrets import UnencryptedSecret

    secret = UnencryptedSecret("K", "v4lue")
    assert secret == "v4lue" and "v4lue" == secret
    assert secret == UnencryptedSecret("OTHER", "v4lue")
    assert secret != "other" and secret != 3
    assert UnencryptedSecret("K", "") != ""  # an empty secret equals nothing
    assert hash(secret) == hash("v4lue")
    assert "v4lue" not in repr(secret) and "v4lue" not in str(secret)


def test_the_resolver_asks_its_client_and_keeps_fiftyones_attribute(monkeypatch):
    from fiftyone_plugins.secrets import EnvSecretProvider, PluginSecretsResolver

    resolver = PluginSecretsResolver()
    monkeypatch.setattr(resolver, "_registered_secrets", {"@me/p/op": ["TOKEN"]})
    client = mock.MagicMock(spec=EnvSecretProvider)
    client.get = mock.AsyncMock(return_value="from-client")
    monkeypatch.setattr(resolver, "client", client)

    assert asyncio.run(resolver.get_secret("TOKEN", "@me/p/op")) == "from-client"
    client.get.assert_awaited_once_with("TOKEN")
    assert asyncio.run(resolver.get_secret("OTHER", "@me/p/op")) is None
    resolver.register_operator("@me/p/two", ["A"])
    assert resolver._registered_secrets["@me/p/two"] == ["A"]


def test_operator_config_risk_level_is_read_only_and_distribution_off():
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators import types

    config = foo.OperatorConfig("op", risk_level="Medium", allow_distributed_execution=True)
    assert config.risk_level is types.RiskLevel.MEDIUM
    with pytest.raises(AttributeError):
        config.risk_level = types.RiskLevel.LOW  # type: ignore[misc]
    assert config.allow_distributed_execution is False
    assert config.to_json()["allow_distributed_execution"] is False
    config.label = "still changeable"  # the other fields are plain attributes
    with pytest.raises(ValueError):
        foo.OperatorConfig("op", risk_level=123)


def test_not_found_errors_are_value_errors_as_fiftyone_raises(env):
    import fiftyone_plugins as fop
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.errors import OperatorNotFoundError, PluginNotFoundError

    with pytest.raises(ValueError) as info:
        fop.find_plugin("@nobody/nothing")
    assert isinstance(info.value, PluginNotFoundError)
    with pytest.raises(ValueError) as info2:
        foo.get_operator("@nobody/nothing/op")
    assert isinstance(info2.value, OperatorNotFoundError)


def test_enabling_leaves_fiftyones_plugins_object_in_the_app_config(env):
    import fiftyone_plugins as fop

    fop.disable_plugin("my-plugin", _allow_missing=True)
    fop.enable_plugin("my-plugin", _allow_missing=True)
    data = json.loads(pathlib.Path(env.app_config_path).read_text())
    assert data["plugins"] == {}


def test_pipeline_types_are_in_fiftyone_operators_types(installed):
    import fiftyone.operators.types as fotypes

    from fiftyone_plugins.operators import pipeline_types

    assert fotypes.Pipeline is pipeline_types.Pipeline
    assert fotypes.PipelineStage is pipeline_types.PipelineStage
    pipeline = fotypes.Pipeline()
    pipeline.stage("@me/p/a", always_run=True, num_distributed_tasks=0)
    pipeline.stage("@me/p/b", name="b", params={"x": 1}, rerunnable=False)
    first, second = pipeline.to_json()["stages"]
    # FiftyOne's keys; this library's extensions only when they are not their defaults
    assert first == {
        "operator_uri": "@me/p/a",
        "name": None,
        "num_distributed_tasks": None,  # below 1: not distributed, as in FiftyOne
        "params": None,
        "always_run": True,
    }
    assert second["rerunnable"] is False and "delegation_target" not in second
    assert fotypes.Pipeline.from_json(pipeline.to_json()) == pipeline
    assert fotypes.Pipeline.from_json(None) is None
    with pytest.raises(ValueError):
        fotypes.PipelineStage(operator_uri=None)  # type: ignore[arg-type]


def test_pipeline_run_info_round_trips(installed):
    import fiftyone.operators.types as fotypes

    info = fotypes.PipelineRunInfo(active=False, stage_index=1, expected_children=[2, 1])
    data = info.to_json()
    assert data == {
        "active": False,
        "stage_index": 1,
        "expected_children": [2, 1],
        "child_errors": None,
    }
    assert fotypes.PipelineRunInfo.from_json({**data, "newer_field": 1}) == info
    assert fotypes.PipelineRunInfo.from_json(None) is None


def test_fiftyone_plugins_exports_the_secrets_resolver(installed):
    import fiftyone.plugins as fop

    from fiftyone_plugins.secrets import PluginSecretsResolver

    assert fop.PluginSecretsResolver is PluginSecretsResolver


def test_execution_context_serializes_and_describes_itself_as_fiftyones(installed):
    from fiftyone.operators.executor import ExecutionContext

    request = {"dataset_name": "d", "params": {"a": 1}, "num_distributed_tasks": 4}
    ctx = ExecutionContext(operator_uri="@me/p/op", request_params=request)
    assert ctx.serialize() == {"request_params": request, "params": {"a": 1}}
    assert ctx.to_dict() == {
        "executor": None,  # none until something is requested of it
        "params": {"a": 1},
        "request_params": request,
        "user": None,
        "pipeline": None,
    }
    assert ctx.num_distributed_tasks is None  # not distributed, whatever the request says
    ctx.trigger("reload_dataset")
    assert [r.operator_uri for r in ctx.executor.requests] == ["reload_dataset"]


def test_a_context_in_fiftyones_form_queues_and_reads_back(installed, env):
    from fiftyone.operators.delegated import DelegatedOperationService
    from fiftyone.operators.executor import ExecutionContext

    ctx = ExecutionContext(request_params={"dataset_name": "d", "params": {"x": 2}})
    service = DelegatedOperationService()
    doc = service.queue_operation("@me/p/op", context=ctx.serialize())
    assert service.get(doc.id).dataset_name == "d"
    doc2 = service.queue_operation("@me/p/op", context=ctx)  # the object itself
    assert service.get(doc2.id).context["params"] == {"x": 2}


class _Echo:
    """Built lazily: an operator FiftyOne-style code supplies through the registry."""

    @staticmethod
    def make(builtin: bool = True):
        import fiftyone.operators as foo
        import fiftyone.operators.types as types

        class Echo(foo.Operator):
            @property
            def config(self):
                return foo.OperatorConfig("echo", allow_delegated_execution=True)

            def resolve_input(self, ctx):
                inputs = types.Object()
                inputs.str("message")
                return types.Property(inputs)

            def execute(self, ctx):
                return {"message": ctx.params.get("message")}

        return Echo(_builtin=builtin)


def test_registry_object_looks_up_in_its_own_listing(installed, env):
    from fiftyone.operators.registry import OperatorRegistry

    echo = _Echo.make()
    assert echo.uri == "@voxel51/operators/echo"  # a builtin's URI, as in FiftyOne
    with mock.patch.object(OperatorRegistry, "list_operators", return_value=[echo]):
        assert OperatorRegistry().get_operator("@voxel51/operators/echo") is echo
        assert OperatorRegistry().get_operator("@voxel51/operators/other") is None


def test_execute_or_delegate_runs_and_queues_an_operator_the_registry_lists(installed, env):
    from fiftyone.operators.delegated import DelegatedOperationService
    from fiftyone.operators.executor import execute_or_delegate_operator
    from fiftyone.operators.registry import OperatorRegistry

    from fiftyone_plugins.errors import OperatorNotFoundError

    uri = "@voxel51/operators/echo"
    request = {"params": {"message": "hi"}}
    with mock.patch.object(OperatorRegistry, "list_operators", return_value=[_Echo.make()]):
        result = asyncio.run(execute_or_delegate_operator(uri, request))
        assert result.to_json()["result"] == {"message": "hi"}
        queued = asyncio.run(
            execute_or_delegate_operator(uri, {**request, "request_delegation": True})
        )
    assert queued.delegated is True
    assert DelegatedOperationService().get(queued.result["id"]).operator == uri
    with pytest.raises(OperatorNotFoundError):
        asyncio.run(execute_or_delegate_operator(uri, request))  # no longer listed


def test_ctx_secret_of_an_undeclared_key_is_none(installed):
    from fiftyone.operators.executor import ExecutionContext

    ctx = ExecutionContext(operator_uri="@me/p/op", required_secrets=["K"], secrets={"K": "v"})
    assert ctx.secret("K") == "v" and ctx.secret("OTHER") is None


def test_search_looks_only_in_the_fields_it_names(installed, env):
    from fiftyone.operators.delegated import DelegatedOperationService

    service = DelegatedOperationService()
    service.queue_operation("@me/p/foo_baz", label="a label")
    service.queue_operation("@me/p/op", label="foo_baz")
    assert service.count(search={"foo_baz": {"operator", "label"}}) == 2
    assert [d.label for d in service.list_operations(search={"foo_baz": {"label"}})] == ["foo_baz"]
    assert service.count(search={".*foo_baz.*": ["operator"]}) == 1
    assert service.count(search="foo_baz") == 2
    with pytest.raises(ValueError, match="cannot search in 'context'"):
        service.count(search={"x": {"context"}})
