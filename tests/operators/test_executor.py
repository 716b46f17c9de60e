"""execute_operator: every kind of execute(), results, errors, validation, delegation, timeouts."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.errors import (
    DatasetNotFoundError,
    ExecutionError,
    ExecutionTimeoutError,
    OperatorNotFoundError,
    ValidationError,
)
from fiftyone_plugins.operators import executor
from fiftyone_plugins.operators.datasets import default_resolver
from fiftyone_plugins.operators.delegated import DelegatedOperationService


@pytest.fixture(autouse=True)
def kinds(env):
    env.add_fixture_plugin("kinds")
    return env


def queued_count(uri: str) -> int:
    return DelegatedOperationService().count(operator=uri)


def test_sync_async_and_generators():
    assert foo.execute_operator("@test/kinds/sync_op", params={"x": 1}).result == {
        "x": 1,
        "delegated": False,
    }
    assert foo.execute_operator("@test/kinds/async_op", params={"x": 2}).result["async"] is True
    gen = foo.execute_operator("@test/kinds/gen_op", params={"n": 2})
    assert gen.result is None
    assert gen.yielded[:2] == [0, 1]
    assert gen.yielded[2].operator_uri == "reload_dataset"
    assert [r.operator_uri for r in gen.executor.requests] == ["reload_dataset"]
    agen = foo.execute_operator("@test/kinds/agen_op")
    assert agen.result is None and agen.yielded == [{"step": 0}, {"step": 1}, {"step": 2}]
    assert json.loads(json.dumps(gen.to_json()))["yielded"][2]["operator_uri"] == "reload_dataset"


def test_trigger_and_ops_are_recorded():
    result = foo.execute_operator("@test/kinds/trigger_op")
    requests = [(r.operator_uri, r.params) for r in result.executor.requests]
    assert requests == [
        ("@test/kinds/sync_op", {"x": 1}),
        ("reload_dataset", {}),
        ("notify", {"message": "done", "variant": "success"}),
        ("console_log", {"message": "a log line"}),
    ]
    assert result.requests == result.executor.requests
    assert result.executor.logs == ["a log line"]
    data = result.to_json()
    assert data["executor"]["requests"][0] == {
        "operator_uri": "@test/kinds/sync_op",
        "params": {"x": 1},
    }
    json.dumps(data)


def test_kwargs_merge_over_ctx_without_mutating_it():
    ctx = {"params": {"x": 1}, "selected": ["a"]}
    result = foo.execute_operator(
        "@test/kinds/context_op", ctx, params={"x": 2}, current_sample="s"
    )
    assert result.result["selected"] == ["a"] and result.result["current_sample"] == "s"
    assert ctx == {"params": {"x": 1}, "selected": ["a"]}
    params = {"keep": True}
    out = foo.execute_operator("@test/kinds/mutate_params", params=params).result
    assert out["added"] == 1 and params == {"keep": True}


def test_failure_raises_execution_error_chained_to_the_cause():
    with pytest.raises(ExecutionError, match="boom detail") as info:
        foo.execute_operator("@test/kinds/fail_op", params={"detail": "detail"})
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.uri == "@test/kinds/fail_op"


def test_async_api_returns_errors_instead_of_raising():
    result = asyncio.run(foo.execute_operator_async("@test/kinds/fail_op"))
    assert result.error == "RuntimeError: boom "
    assert result.error_message == "boom "  # str(error), as FiftyOne sets it
    assert "Traceback" in result.error_trace and "boom" in result.error_trace
    with pytest.raises(ExecutionError):
        result.raise_exceptions()
    missing = asyncio.run(foo.execute_operator_async("@test/kinds/missing"))
    assert isinstance(missing.to_exception(), OperatorNotFoundError)


def test_unknown_operator_raises_not_found():
    with pytest.raises(OperatorNotFoundError):
        foo.execute_operator("@test/kinds/nope")


def test_validation_lists_every_bad_parameter_in_the_reference_form():
    with pytest.raises(ValidationError) as info:
        foo.execute_operator("@test/kinds/schema_op", params={"count": 9, "color": "blue"})
    lines = str(info.value).splitlines()
    assert lines == [
        "Validation error. Path: name. Reason: Required property",
        "Validation error. Path: count. Reason: Must be at most 5",
        "Validation error. Path: color. Reason: Invalid enum value",
    ]
    ok = foo.execute_operator("@test/kinds/schema_op", params={"name": "n", "count": 2})
    assert ok.result == {"name": "n", "count": 2}


def test_disable_schema_validation_keeps_custom_invalid_marks():
    assert foo.execute_operator("@test/kinds/lenient_op", params={"count": 99}).result == {
        "count": 99
    }
    result = asyncio.run(foo.execute_operator_async("@test/kinds/lenient_op", params={"bad": 1}))
    assert result.validation_errors == [("bad", "bad is bad")]
    assert result.to_json()["validation_ctx"]["errors"] == [
        {"path": "bad", "reason": "bad is bad"}
    ]


def test_invalid_requests_are_never_queued():
    before = queued_count("@test/kinds/delegatable")
    with pytest.raises(ValidationError):
        foo.execute_operator("@test/kinds/delegatable", request_delegation=True)
    assert queued_count("@test/kinds/delegatable") == before


def test_request_delegation_queues_the_operation():
    result = foo.execute_operator(
        "@test/kinds/delegatable",
        params={"x": 7},
        request_delegation=True,
        delegation_target="overnight",
    )
    assert result.delegated is True
    doc = DelegatedOperationService().get(result.result["id"])
    assert doc.operator == "@test/kinds/delegatable"
    assert doc.delegation_target == "overnight"
    assert doc.context["params"] == {"x": 7}
    assert doc.metadata["inputs_schema"] is not None
    assert "secrets" not in doc.context
    assert result.result["run_state"] == "queued"


def test_operator_without_delegation_runs_immediately_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        result = foo.execute_operator("@test/kinds/immediate_only", request_delegation=True)
    assert result.delegated is False and result.result == "immediate"
    assert "does not support delegated execution" in caplog.text


def test_forced_delegation_and_worker_run():
    result = foo.execute_operator("@test/kinds/forced")
    assert result.delegated is True
    [done] = DelegatedOperationService().execute_queued_operations(operator="@test/kinds/forced")
    assert done.id == result.result["id"]
    assert done.result == "ran"


def test_params_changed_while_running_never_leak_into_the_stored_request():
    queued = foo.execute_operator("@test/kinds/mutate_params", params={"delegate": True})
    service = DelegatedOperationService()
    stored = service.get(queued.result["id"]).context["params"]
    assert stored == {"delegate": True, "touched_in_resolve": True}
    [done] = service.execute_queued_operations(operator="@test/kinds/mutate_params")
    assert done.result["added"] == 1
    assert service.get(queued.result["id"]).context["params"] == stored


def test_run_delegated_operation_reports_progress_and_errors():
    calls = []
    result = executor.run_delegated_operation(
        "@test/kinds/progress_op",
        {"params": {}},
        operation_id="op1",
        progress_callback=lambda progress, label: calls.append((progress, label)),
    )
    assert result.result == {"delegated": True, "operation": "op1"}
    assert calls == [(0.25, "quarter"), (1.0, "done")]
    failed = executor.run_delegated_operation("@test/kinds/fail_op", {"params": {}})
    assert failed.error == "RuntimeError: boom " and "Traceback" in failed.error_trace
    missing = executor.run_delegated_operation("@test/kinds/gone", {})
    assert "not found" in missing.error


def test_set_progress_is_harmless_in_immediate_runs():
    assert foo.execute_operator("@test/kinds/progress_op").result["delegated"] is False


def test_timeout_applies_to_immediate_runs(monkeypatch):
    monkeypatch.setenv("FIFTYONE_OPERATOR_TIMEOUT", "0.2")
    with pytest.raises(ExecutionTimeoutError, match="0.2 seconds"):
        foo.execute_operator("@test/kinds/slow_op", params={"seconds": 1.0})
    with pytest.raises(ExecutionTimeoutError):
        foo.execute_operator("@test/kinds/slow_op", params={"generator": True})
    result = asyncio.run(
        foo.execute_operator_async("@test/kinds/slow_op", params={"seconds": 1.0})
    )
    assert isinstance(result.to_exception(), ExecutionTimeoutError)
    assert foo.execute_operator("@test/kinds/sync_op").result["x"] is None
    # delegated runs have no timeout
    assert executor.run_delegated_operation(
        "@test/kinds/slow_op", {"params": {"seconds": 0.3}}
    ).result == ("finished")


def test_inside_a_running_loop_a_task_is_returned():
    async def main():
        task = foo.execute_operator("@test/kinds/sync_op", params={"x": 3})
        assert isinstance(task, asyncio.Task)
        result = await task
        failing = await foo.execute_operator("@test/kinds/fail_op")
        gen = await foo.get_operator("@test/kinds/gen_op")(n=1)
        agen = await foo.execute_operator("@test/kinds/agen_op")
        return result, failing, gen, agen

    result, failing, gen, agen = asyncio.run(main())
    assert result.result == {"x": 3, "delegated": False}
    assert failing.error == "RuntimeError: boom "
    assert gen.yielded[0] == 0 and len(agen.yielded) == 3


def test_a_failing_task_nobody_awaits_logs_its_error(caplog):
    async def main():
        foo.execute_operator("@test/kinds/fail_op", params={"detail": "unobserved"})
        awaited = foo.execute_operator("@test/kinds/fail_op", params={"detail": "observed"})
        await awaited
        for _ in range(20):
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.ERROR, logger="fiftyone_plugins"):
        asyncio.run(main())
    assert "boom unobserved" in caplog.text
    assert "boom observed" not in caplog.text


def test_dataset_and_view_are_none_without_a_dataset():
    assert foo.execute_operator("@test/kinds/context_op").result["dataset"] is None
    assert foo.execute_operator("@test/kinds/context_op").result["view_is_none"] is True


def test_an_unknown_dataset_is_an_error_before_anything_runs_or_is_queued():
    before = queued_count("@test/kinds/no_call")
    with pytest.raises(DatasetNotFoundError, match="Dataset 'quickstart-typo' not found") as e:
        foo.execute_operator("@test/kinds/context_op", dataset="quickstart-typo")
    assert "FIFTYONE_DATASET_RESOLVER" in str(e.value) and e.value.exit_code == 2
    with pytest.raises(DatasetNotFoundError):
        foo.execute_operator("@test/kinds/no_call", dataset="nope", request_delegation=True)
    assert queued_count("@test/kinds/no_call") == before


def test_a_worker_that_cannot_load_the_dataset_fails_the_operation():
    class Dataset:
        name = "only-in-the-host"

    resolver = default_resolver()
    dataset_id = resolver.add(Dataset())
    queued = foo.execute_operator(
        "@test/kinds/no_call", dataset="only-in-the-host", request_delegation=True
    )
    assert queued.delegated is True
    resolver.remove(dataset_id)  # what a worker in another process sees: no such dataset
    [done] = DelegatedOperationService().execute_queued_operations(operator="@test/kinds/no_call")
    assert done.id == queued.result["id"] and done.run_state == "failed"
    assert "Dataset" in done.error and "not found" in done.error


def test_datasets_by_name_and_delegated_context():
    class Dataset:
        name = "quickstart"

    resolver = default_resolver()
    dataset = Dataset()
    dataset_id = resolver.add(dataset)
    try:
        assert (
            foo.execute_operator("@test/kinds/context_op", dataset="quickstart").result["dataset"]
            == "quickstart"
        )
        assert (
            foo.execute_operator("@test/kinds/context_op", dataset=dataset).result["view_is_none"]
            is False
        )
        queued = foo.execute_operator(
            "@test/kinds/no_call", dataset=dataset, params={"a": 1}, request_delegation=True
        )
        context = queued.result["context"]
        assert context["dataset_name"] == "quickstart" and context["dataset_id"] == dataset_id
        assert queued.result["dataset_id"] == dataset_id
        [done] = DelegatedOperationService().execute_queued_operations(
            operator="@test/kinds/no_call"
        )
        assert done.result == {"params": {"a": 1}, "has_view": True}
    finally:
        resolver.remove(dataset_id)


def test_execution_run_state_is_reexported():
    from fiftyone_plugins.operators.stores.records import ExecutionRunState

    assert executor.ExecutionRunState is ExecutionRunState
    assert foo.ExecutionRunState.COMPLETED == "completed"


def test_result_to_json_and_repr():
    result = foo.execute_operator("@test/kinds/sync_op", params={"x": 1})
    data = result.to_json()
    assert data["result"] == {"x": 1, "delegated": False} and data["error"] is None
    assert "sync_op" in repr(result)
    assert result.is_generator is False and result.failed is False


def test_resolve_helpers_build_a_context():
    schema = executor.resolve_type("@test/kinds/schema_op", {"params": {}})
    assert "name" in schema.type.properties
    assert executor.resolve_placement("@test/kinds/sync_op") is None
    options = executor.resolve_execution_options("@test/kinds/delegatable")
    assert options.allow_delegated_execution is True


def test_an_async_operator_leaves_the_hosts_event_loop_in_place():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        assert foo.execute_operator("@test/kinds/async_op").error is None
        assert asyncio.get_event_loop() is loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_sys_exit_in_an_operator_is_a_failure_not_an_exit():
    with pytest.raises(ExecutionError, match=r"called sys.exit\(3\)"):
        foo.execute_operator("@test/kinds/exits")
    result = executor.run_delegated_operation("@test/kinds/exits", {"params": {}})
    assert "sys.exit(3)" in result.error
    queued = foo.execute_operator("@test/kinds/exits", request_delegation=True)
    [done] = DelegatedOperationService().execute_queued_operations(operator="@test/kinds/exits")
    assert done.id == queued.result["id"] and done.run_state == "failed"


def test_an_empty_uri_is_an_operator_not_found_error():
    with pytest.raises(OperatorNotFoundError, match="the URI is empty"):
        foo.execute_operator("")
    with pytest.raises(TypeError):
        foo.execute_operator(None)


def test_nested_params_changed_by_the_operator_never_reach_the_caller():
    params = {"opts": {"a": 1}, "items": ["x"]}
    result = foo.execute_operator("@test/kinds/nested_params", params=params)
    assert result.result == {"opts": {"a": 1, "touched": True}, "items": ["x", "added"]}
    assert params == {"opts": {"a": 1}, "items": ["x"]}


class _CountingConfig(foo.Operator):
    """An operator building a new config on every read, as the usual plugin idiom does."""

    reads = 0

    @property
    def config(self):
        type(self).reads += 1
        return foo.OperatorConfig(name="counting", allow_delegated_execution=True)

    def execute(self, ctx):
        return "ran"


@pytest.mark.parametrize("delegate", [False, True])
def test_a_request_reads_the_operators_config_a_fixed_number_of_times(delegate):
    op = _CountingConfig()
    op.plugin_name = "@test/counting"  # as registration sets it (a worker needs a plugin)
    _CountingConfig.reads = 0
    result = foo.execute_operator(op, request_delegation=delegate)
    assert result.delegated is delegate
    # the request's URI, the run's one read of the config, and the queued record's URI
    assert _CountingConfig.reads == (3 if delegate else 2)
