"""ExecutionRequest: one shape for every way a run is asked for, and one delegation decision."""

from __future__ import annotations

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.errors import OperatorError
from fiftyone_plugins.operators import types
from fiftyone_plugins.operators.context import ExecutionContext
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.request import ExecutionRequest, without_secrets


class Counting(foo.Operator):
    """Counts how often the executor asks it whether to delegate."""

    def __init__(self) -> None:
        super().__init__()
        self.plugin_name = "@unregistered/plugin"
        self.asked = 0

    @property
    def config(self) -> foo.OperatorConfig:
        return foo.OperatorConfig(name="counting", allow_delegated_execution=True)

    def resolve_input(self, ctx):
        inputs = types.Object()
        inputs.int("n", default=1)
        return types.Property(inputs)

    def resolve_delegation(self, ctx):
        self.asked += 1
        return None

    def execute(self, ctx):
        return {"n": ctx.params["n"], "delegated": ctx.delegated}


def test_an_instance_runs_without_ever_being_registered():
    op = Counting()
    result = op(n=3)  # Operator.__call__ passes the instance itself
    assert result.result == {"n": 3, "delegated": False}
    assert foo.execute_operator(op, params={"n": 4}).result["n"] == 4


def test_delegation_is_decided_with_one_question_per_run():
    op = Counting()
    foo.execute_operator(op, params={"n": 1})
    assert op.asked == 1
    queued = foo.execute_operator(op, params={"n": 2}, request_delegation=True)
    assert queued.delegated and op.asked == 2


def test_what_is_stored_has_no_secrets_nor_the_delegation_request():
    op = Counting()
    queued = foo.execute_operator(
        op, {"secrets": {"K": "v"}, "selected": ["a"]}, params={"n": 2}, request_delegation=True
    )
    context = DelegatedOperationService().get(queued.result["id"]).context
    assert "secrets" not in context and "request_delegation" not in context
    assert context["selected"] == ["a"] and context["params"] == {"n": 2}


def test_a_request_from_a_record_is_delegated_and_never_shares_the_record():
    stored = {"request_params": {"params": {"x": [1]}, "secrets": {"K": "v"}}}
    request = ExecutionRequest.from_record("@a/b/c", stored)
    assert request.request_params["delegated"] is True
    assert "secrets" not in request.request_params
    request.request_params["params"]["x"].append(2)
    assert stored["request_params"]["params"]["x"] == [1]


def test_a_context_passed_as_ctx_keeps_its_host_objects():
    dataset = object()
    ctx = ExecutionContext({"params": {"a": 1}}, dataset=dataset)
    request = ExecutionRequest.from_call("@a/b/c", ctx, {"params": {"a": 2}})
    assert request.dataset is dataset and request.request_params["params"] == {"a": 2}


def test_secrets_are_removed_at_both_levels():
    data = {"secrets": 1, "a": 2, "request_params": {"secrets": 3, "b": 4}}
    assert without_secrets(data) == {"a": 2, "request_params": {"b": 4}}


def test_malformed_requests_are_clear_errors():
    with pytest.raises(TypeError, match="operator_uri must be a string"):
        ExecutionRequest.from_call(42, None, {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ctx must be a dict"):
        ExecutionRequest.from_call("@a/b/c", 3, {})


def test_an_instance_no_plugin_registered_is_not_queued_for_no_worker():
    class Solo(Counting):
        def __init__(self) -> None:
            super().__init__()
            self.plugin_name = None

    with pytest.raises(OperatorError, match="never registered"):
        Solo()(n=1, delegate=True)
    assert DelegatedOperationService().count() == 0
