"""PipelineOperator: immediate and delegated runs, failures, always_run stages, resuming a
rerun at the failed stage, and the rules for child operations."""

from __future__ import annotations

import json
import pathlib

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.errors import ExecutionError, InvalidStateTransitionError
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.pipeline import PipelineError, child_operation_id
from fiftyone_plugins.operators.stores.records import ExecutionRunState

PLUGIN = """
import json, pathlib
import fiftyone_plugins.operators as foo


def _log(ctx, name):
    path = pathlib.Path(ctx.params["log"])
    entries = json.loads(path.read_text()) if path.exists() else []
    entries.append({"stage": name, "index": ctx.pipeline.stage_index,
                    "total": ctx.pipeline.total_stages, "error": ctx.pipeline.error,
                    "active": ctx.pipeline.active, "params": ctx.params})
    path.write_text(json.dumps(entries))


class Step(foo.Operator):
    config = foo.OperatorConfig(name="step", allow_delegated_execution=True)

    def execute(self, ctx):
        _log(ctx, ctx.params.get("tag", "step"))
        ctx.set_progress(0.5)
        return {"tag": ctx.params.get("tag")}


class Boom(foo.Operator):
    config = foo.OperatorConfig(name="boom", allow_delegated_execution=True)

    def execute(self, ctx):
        _log(ctx, "boom")
        flag = pathlib.Path(ctx.params["log"] + ".fixed")
        if not flag.exists():
            raise RuntimeError("boom went off")
        return {"fixed": True}


class Pipe(foo.PipelineOperator):
    config = foo.OperatorConfig(name="pipe", allow_delegated_execution=True)

    def resolve_pipeline(self, ctx):
        pipeline = foo.Pipeline()
        for stage in ctx.params["stages"]:
            pipeline.stage(**stage)
        return pipeline


def register(p):
    p.register(Step)
    p.register(Boom)
    p.register(Pipe)
"""

PIPE = "@test/pipes/pipe"
STEP = "@test/pipes/step"
BOOM = "@test/pipes/boom"


@pytest.fixture
def log(env, tmp_path) -> pathlib.Path:
    env.write_plugin(
        "pipes",
        "name: '@test/pipes'\noperators: [step, boom, pipe]\n",
        {"__init__.py": PLUGIN},
    )
    return tmp_path / "log.json"


def entries(log: pathlib.Path) -> list[dict]:
    return json.loads(log.read_text()) if log.exists() else []


def stages(*specs: dict) -> list[dict]:
    return list(specs)


def test_pipeline_names_are_importable_like_fiftyone():
    from fiftyone_plugins.operators import Pipeline, PipelineOperator, PipelineStage

    pipeline = Pipeline()
    stage = pipeline.stage(STEP, name="a", params={"x": 1}, always_run=True, future_key=3)
    assert isinstance(stage, PipelineStage) and stage.always_run and stage.rerunnable
    assert Pipeline.from_json(pipeline.to_json()) == pipeline
    assert Pipeline.from_json([{"operator_uri": STEP, "unknown": 1}]).stages[0].name is None
    assert issubclass(PipelineOperator, foo.Operator)
    with pytest.raises(ValueError):
        PipelineStage("")


def test_immediate_stages_run_in_order_with_ctx_pipeline(log):
    result = foo.execute_operator(
        PIPE,
        params={
            "log": str(log),
            "tag": "base",
            "stages": stages(
                {"operator_uri": STEP, "name": "one", "params": {"tag": "one"}},
                {"operator_uri": STEP, "name": "two"},
            ),
        },
    )
    outcomes = result.result["stages"]
    assert [(o["name"], o["state"]) for o in outcomes] == [
        ("one", "completed"),
        ("two", "completed"),
    ]
    assert outcomes[0]["result"] == {"tag": "one"} and outcomes[1]["result"] == {"tag": "base"}
    seen = entries(log)
    assert [(e["stage"], e["index"], e["total"], e["active"]) for e in seen] == [
        ("one", 0, 2, True),
        ("base", 1, 2, True),
    ]


def test_immediate_failure_stops_the_rest_except_always_run(log):
    with pytest.raises(ExecutionError, match="stage 'b' failed: .*boom went off") as caught:
        foo.execute_operator(
            PIPE,
            params={
                "log": str(log),
                "stages": stages(
                    {"operator_uri": STEP, "name": "a"},
                    {"operator_uri": BOOM, "name": "b"},
                    {"operator_uri": STEP, "name": "c"},
                    {"operator_uri": STEP, "name": "cleanup", "always_run": True,
                     "params": {"tag": "cleanup"}},
                ),
            },
        )  # fmt: skip
    assert [o["state"] for o in caught.value.outcomes] == [
        "completed",
        "failed",
        "skipped",
        "completed",
    ]
    seen = entries(log)
    assert [e["stage"] for e in seen] == ["step", "boom", "cleanup"]
    assert "boom went off" in seen[-1]["error"]  # the always_run stage knows why


def _queue(log: pathlib.Path, specs: list[dict]) -> str:
    result = foo.execute_operator(
        PIPE, params={"log": str(log), "stages": specs}, request_delegation=True
    )
    assert result.delegated
    return result.result["id"]


def test_delegated_stages_are_child_operations_drained_by_one_worker(log):
    service = DelegatedOperationService()
    parent_id = _queue(
        log,
        stages(
            {"operator_uri": STEP, "name": "one", "params": {"tag": "one"}},
            {"operator_uri": STEP, "name": "two", "params": {"tag": "two"}},
            {"operator_uri": STEP, "name": "three", "params": {"tag": "three"}},
        ),
    )
    stats = Worker(service, once=True).run()
    parent = service.get(parent_id)
    assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
    children = service.list_operations(parent_id=parent_id)
    assert [c.metadata["stage_name"] for c in children] == ["one", "two", "three"]
    assert all(c.run_state is ExecutionRunState.COMPLETED for c in children)
    assert [c.id for c in children] == [child_operation_id(parent_id, i, 0) for i in range(3)]
    assert [o["result"] for o in parent.result["stages"]] == [
        {"tag": t} for t in ("one", "two", "three")
    ]
    assert parent.progress.progress == 1.0  # the mean of its children
    assert children[1].progress.progress == 0.5
    assert [e["stage"] for e in entries(log)] == ["one", "two", "three"]
    assert all(e["params"].get("stages") for e in entries(log))  # the pipeline's params too
    assert stats.completed == 1  # the worker claimed the parent only; it ran the children


def test_a_failed_pipeline_rerun_resumes_at_the_failed_stage(log):
    service = DelegatedOperationService()
    parent_id = _queue(
        log,
        stages(
            {"operator_uri": STEP, "name": "first", "params": {"tag": "first"}},
            {"operator_uri": BOOM, "name": "flaky"},
            {"operator_uri": STEP, "name": "last", "params": {"tag": "last"}},
        ),
    )
    Worker(service, once=True).run()
    parent = service.get(parent_id)
    assert parent.run_state is ExecutionRunState.FAILED and "flaky" in parent.error
    states = [c.run_state for c in service.list_operations(parent_id=parent_id)]
    assert states == [ExecutionRunState.COMPLETED, ExecutionRunState.FAILED]  # last never ran

    pathlib.Path(str(log) + ".fixed").write_text("")
    rerun = service.rerun_operation(parent_id)
    Worker(service, once=True).run()
    again = service.get(rerun.id)
    assert again.run_state is ExecutionRunState.COMPLETED, again.error
    assert [e["stage"] for e in entries(log)] == ["first", "boom", "boom", "last"]
    outcomes = again.result["stages"]
    assert outcomes[0]["reused"] is True and "reused" not in outcomes[1]
    assert len(service.list_operations(parent_id=rerun.id)) == 2  # flaky and last only


def test_a_stage_that_is_not_rerunnable_fails_the_rerun_at_once(log):
    service = DelegatedOperationService()
    parent_id = _queue(
        log,
        stages({"operator_uri": BOOM, "name": "once", "rerunnable": False}),
    )
    Worker(service, once=True).run()
    pathlib.Path(str(log) + ".fixed").write_text("")
    rerun = service.rerun_operation(parent_id)
    Worker(service, once=True).run()
    failed = service.get(rerun.id)
    assert failed.run_state is ExecutionRunState.FAILED and "not rerunnable" in failed.error
    assert [e["stage"] for e in entries(log)] == ["boom"]


def test_children_are_failed_but_not_rerun_or_deleted_alone(log):
    service = DelegatedOperationService()
    parent_id = _queue(log, stages({"operator_uri": BOOM, "name": "b"}))
    Worker(service, once=True).run()
    [child] = service.list_operations(parent_id=parent_id)
    with pytest.raises(InvalidStateTransitionError, match="alone: it is a child of"):
        service.rerun_operation(child.id)
    with pytest.raises(InvalidStateTransitionError, match="alone: it is a child of"):
        service.delete_operations([child.id])
    deleted = {d.id for d in service.delete_operations([parent_id])}
    assert deleted == {parent_id, child.id}  # the parent takes its children with it
    queued = service.queue_operation(STEP)
    service.store.update(queued.id, {"parent_id": parent_id})
    assert service.fail_operation(queued.id).run_state is ExecutionRunState.FAILED


def test_a_stage_left_by_a_lost_worker_is_requeued_once_when_rerunnable(log):
    import datetime as dt

    service = DelegatedOperationService()
    parent = service.queue_operation(PIPE)
    child = service.queue_operation(STEP, metadata={"stage_index": 0, "max_attempts": 2})
    service.store.update(child.id, {"parent_id": parent.id})
    service.set_running(child.id, worker_id="pipeline:x", lease_seconds=0.001)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    [changed] = service.resolve_expired_leases(later)
    assert changed.id == child.id and changed.run_state is ExecutionRunState.QUEUED


def test_pipeline_error_is_an_execution_error():
    assert issubclass(PipelineError, ExecutionError)


def test_delegated_info_shows_the_children_and_their_states(log, capsys):
    from fiftyone_plugins.cli import main

    service = DelegatedOperationService()
    parent_id = _queue(
        log, stages({"operator_uri": STEP, "name": "one"}, {"operator_uri": BOOM, "name": "two"})
    )
    Worker(service, once=True).run()
    capsys.readouterr()
    assert main(["delegated", "info", parent_id]) == 0
    out = capsys.readouterr().out
    one, two = (child_operation_id(parent_id, i, 0) for i in range(2))
    assert f"{one}  one  completed" in out and f"{two}  two  failed" in out
    assert main(["delegated", "info", one]) == 0
    assert f"parent_id          {parent_id}" in capsys.readouterr().out


def test_a_pipeline_whose_worker_died_mid_stage_resumes_without_rerunning_completed_stages(log):
    import datetime as dt

    from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc

    service = DelegatedOperationService()
    parent_id = _queue(
        log,
        stages(
            {"operator_uri": STEP, "name": "done", "params": {"tag": "done"}},
            {"operator_uri": STEP, "name": "cut", "params": {"tag": "cut"}},
            {"operator_uri": STEP, "name": "after", "params": {"tag": "after"}},
        ),
    )
    service.store.update(parent_id, {"metadata": {"max_attempts": 2}})
    # the state a killed worker leaves: stage 0 completed, stage 1 running, both leases dying
    service.set_running(parent_id, worker_id="dead", lease_seconds=0.001)
    done = service.store.insert(
        DelegatedOperationDoc(
            operator=STEP,
            id=child_operation_id(parent_id, 0, 0),
            parent_id=parent_id,
            run_state=ExecutionRunState.COMPLETED,
            result={"tag": "done"},
            metadata={"stage_index": 0, "stage_attempt": 0},
        )
    )
    cut = service.store.insert(
        DelegatedOperationDoc(
            operator=STEP,
            id=child_operation_id(parent_id, 1, 0),
            parent_id=parent_id,
            context={"params": {"log": str(log), "tag": "cut"}},
            metadata={"stage_index": 1, "stage_attempt": 0, "max_attempts": 2},
        )
    )
    service.set_running(cut.id, worker_id="child-of:dead", lease_seconds=0.001)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    requeued = {d.id: d.run_state for d in service.resolve_expired_leases(later)}
    assert requeued == {parent_id: ExecutionRunState.QUEUED, cut.id: ExecutionRunState.QUEUED}

    Worker(service, once=True).run()
    parent = service.get(parent_id)
    assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
    assert [e["stage"] for e in entries(log)] == ["cut", "after"]  # "done" never ran again
    assert parent.result["stages"][0]["op_id"] == done.id
    assert len(service.list_operations(parent_id=parent_id)) == 3


@pytest.mark.mongo
def test_delegated_pipeline_on_mongodb(log, mongod_uri, monkeypatch):
    from _mongod import unique_db_uri

    from fiftyone_plugins.operators.stores import clear_cache
    from fiftyone_plugins.operators.stores.mongo import MongoStore

    uri = unique_db_uri(mongod_uri, "pipeline")
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    clear_cache()
    try:
        service = DelegatedOperationService()
        parent_id = _queue(
            log, stages({"operator_uri": STEP, "name": "a"}, {"operator_uri": STEP, "name": "b"})
        )
        Worker(service, once=True).run()
        parent = service.get(parent_id)
        assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
        children = service.list_operations(parent_id=parent_id)
        assert [c.metadata["stage_name"] for c in children] == ["a", "b"]
    finally:
        clear_cache()
        MongoStore(uri).drop()
