"""Authoring operators and panels: configs, the Operator base class, __call__, panels."""

from __future__ import annotations

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.operators.operator import CONFIG_FIELDS, JSON_ONLY_FIELDS


@pytest.fixture
def kinds(env):
    env.add_fixture_plugin("kinds")
    env.add_fixture_plugin("fo_style")
    return env


def test_public_api_is_pinned():
    assert sorted(foo.__all__) == sorted(
        [
            "Categories",
            "DelegatedOperationService",
            "EvaluationMetric",
            "EvaluationMetricConfig",
            "ExecutionContext",
            "ExecutionOptions",
            "ExecutionResult",
            "ExecutionRunState",
            "ExecutionStore",
            "FanOut",
            "FanOutOperator",
            "Operator",
            "OperatorConfig",
            "OperatorRegistry",
            "Panel",
            "PanelConfig",
            "Pipeline",
            "PipelineOperator",
            "PipelineStage",
            "ProgressHandler",
            "ViewTarget",
            "execute_operator",
            "execute_operator_async",
            "execution_cache",
            "get_operator",
            "is_new",
            "list_operators",
            "operator_exists",
            "types",
        ]
    )
    for name in foo.__all__:
        assert getattr(foo, name) is not None, name


def test_config_defaults_follow_the_reference():
    config = foo.OperatorConfig(name="x", dynamic=True)
    assert config.label == "x"
    assert config.resolve_execution_options_on_change is True
    assert config.allow_immediate_execution is True
    assert config.allow_delegated_execution is False
    assert (
        foo.OperatorConfig(
            "y", resolve_execution_options_on_change=False
        ).resolve_execution_options_on_change
        is False
    )
    assert list(config.to_json()) == [*CONFIG_FIELDS, *JSON_ONLY_FIELDS]


def test_config_keeps_unknown_keywords_and_stays_mutable():
    config = foo.OperatorConfig(name="x", brand_new_option=42, another="a")
    assert config.kwargs == {"brand_new_option": 42, "another": "a"}
    assert config.brand_new_option == 42
    with pytest.raises(AttributeError):
        config.missing_option  # noqa: B018
    config.unlisted = True
    config.label = "Changed"
    assert config.to_json()["unlisted"] is True
    assert config.to_json()["label"] == "Changed"


def test_operator_constructs_without_arguments_and_builds_its_uri():
    class Op(foo.Operator):
        @property
        def config(self):
            return foo.OperatorConfig(name="op")

    op = Op()
    assert op.plugin_name is None and op.builtin is False
    op.plugin_name = "@me/plugin"
    assert op.uri == "@me/plugin/op"
    assert op.method_to_uri("on_load") == "@me/plugin/op#on_load"
    assert op.to_json()["config"]["name"] == "op"
    assert op.resolve_input(None) is None and op.resolve_placement(None) is None
    with pytest.raises(NotImplementedError):
        op.execute(None)
    with pytest.raises(NotImplementedError):
        foo.Operator().config  # noqa: B018


def test_subclass_whose_init_skips_super_still_registers(env):
    env.write_plugin(
        "no-super",
        "name: '@t/no-super'\noperators: [lazy]\n",
        {
            "__init__.py": (
                "import fiftyone.operators as foo\n"
                "class Lazy(foo.Operator):\n"
                "    def __init__(self):\n"
                "        self.greeting = 'hi'\n"
                "    @property\n"
                "    def config(self):\n"
                "        return foo.OperatorConfig(name='lazy')\n"
                "    def execute(self, ctx):\n"
                "        return self.greeting\n"
                "def register(p):\n"
                "    p.register(Lazy)\n"
            )
        },
    )
    assert foo.execute_operator("@t/no-super/lazy").result == "hi"


def test_execution_options_never_allow_nothing():
    options = foo.ExecutionOptions(
        allow_immediate_execution=False, allow_delegated_execution=False
    )
    assert options.allow_immediate_execution is True
    assert options.to_dict()["allow_delegated_execution"] is False


def test_resolve_execution_options_follow_config_and_forced_delegation(kinds):
    delegatable = foo.get_operator("@test/kinds/delegatable")
    options = delegatable.resolve_execution_options(foo.ExecutionContext())
    assert options.allow_immediate_execution and options.allow_delegated_execution
    forced = foo.get_operator("@test/kinds/forced")
    options = forced.resolve_execution_options(foo.ExecutionContext())
    assert not options.allow_immediate_execution and options.allow_delegated_execution


def test_default_call_passes_keywords_as_params(kinds):
    op = foo.get_operator("@test/kinds/no_call")
    result = op(a=1, b="two")
    assert result.result == {"params": {"a": 1, "b": "two"}, "has_view": False}


def test_default_call_accepts_a_collection_and_delegate(kinds):
    op = foo.get_operator("@test/kinds/no_call")
    view = object()
    assert op(view, a=1).result == {"params": {"a": 1}, "has_view": True}
    queued = op(a=2, delegate=True)
    assert queued.delegated is True and queued.result["context"]["params"] == {"a": 2}
    with pytest.raises(TypeError):
        op(1, 2)


def test_plugin_defined_call_convention(kinds):
    shout = foo.get_operator("@test/fo-style/shout")
    assert shout("hey").result == {"message": "HEY!", "suffix": "!"}


def test_panel_is_listed_as_panel_and_registers_on_startup(kinds):
    panels = foo.list_operators(type="panel")
    assert [p.uri for p in panels] == ["@test/fo-style/counter"]
    assert isinstance(panels[0], foo.Panel)
    result = foo.execute_operator("@test/fo-style/counter")
    [request] = result.executor.requests
    assert request.operator_uri == "register_panel"
    assert request.params["panel_name"] == "counter"
    assert request.params["on_load"] == "@test/fo-style/counter#on_load"


def test_panel_methods_are_executable_and_render(kinds):
    result = foo.execute_operator(
        "@test/fo-style/counter",
        params={"__method__": "increment", "panel_id": "p1", "state": {"count": 2}},
    )
    names = [r.operator_uri for r in result.executor.requests]
    assert names == ["patch_panel_state", "show_panel_output"]
    assert result.executor.requests[0].params == {"panel_id": "p1", "state": {"count": 3}}
    output = result.executor.requests[1].params["output"]
    assert "inc" in str(output)
    # what FiftyOne's App sends: the state under "panel_state"
    result = foo.execute_operator(
        "@test/fo-style/counter",
        params={"__method__": "increment", "panel_id": "p1", "panel_state": {"count": 4}},
    )
    assert result.executor.requests[0].params == {"panel_id": "p1", "state": {"count": 5}}
    with pytest.raises(Exception, match="no method"):
        foo.execute_operator("@test/fo-style/counter", params={"__method__": "_private"})


def test_panel_config_fields():
    config = foo.PanelConfig(name="p", label="P", category=foo.Categories.CURATE, surfaces="modal")
    data = config.to_json()
    assert data["unlisted"] is True and data["on_startup"] is True
    assert data["category"] == "curate" and data["surfaces"] == "modal"


def test_risk_level_distribution_and_rerunnable_are_fiftyone_config_fields():
    from fiftyone_plugins.operators import types

    config = foo.OperatorConfig("op")
    data = config.to_json()
    assert data["risk_level"] == "dangerous" and config.risk_level is types.RiskLevel.DANGEROUS
    assert data["rerunnable"] is True and data["allow_distributed_execution"] is False
    low = foo.OperatorConfig("op", risk_level="LOW", rerunnable=False)
    assert low.risk_level is types.RiskLevel.LOW and low.to_json()["rerunnable"] is False
    assert foo.OperatorConfig("op", risk_level=types.RiskLevel.HIGH).to_json()["risk_level"] == (
        "high"
    )
    with pytest.raises(ValueError, match="Invalid risk level"):
        foo.OperatorConfig("op", risk_level="extreme")

    class Risky(foo.Operator):
        @property
        def config(self):
            return foo.OperatorConfig("risky", risk_level="medium")

    assert Risky().risk_level is types.RiskLevel.MEDIUM


def test_panel_names_of_fiftyone():
    from fiftyone_plugins.errors import WriteOnlyError
    from fiftyone_plugins.operators.panel import PanelConfig, PanelOperatorConfig

    assert PanelOperatorConfig is PanelConfig
    ctx = foo.ExecutionContext({"params": {"panel_id": "p"}})
    ctx.panel.data.rows = [1]
    with pytest.raises(WriteOnlyError, match="write-only"):
        ctx.panel.data.get("rows")
    assert issubclass(WriteOnlyError, AttributeError)


def test_execute_or_delegate_operator(env):
    import asyncio

    from fiftyone_plugins.errors import OperatorNotFoundError
    from fiftyone_plugins.operators.executor import execute_or_delegate_operator

    env.add_fixture_plugin("kinds")
    result = asyncio.run(execute_or_delegate_operator("@test/kinds/fail_op", {"params": {}}))
    assert result.error is not None  # the operator's own failure is in the result
    with pytest.raises(OperatorNotFoundError):
        asyncio.run(execute_or_delegate_operator("@test/kinds/missing", {}))
