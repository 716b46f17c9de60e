"""FanOutOperator: slices over parameter sets or the target view's samples, immediate and
delegated (children run by the parent's worker and others), failure and progress."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.errors import ExecutionError, InvalidStateTransitionError
from fiftyone_plugins.operators.datasets import default_resolver
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.fanout import SIBLING_FAILED, slice_operation_id
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.stores.records import ExecutionRunState

PLUGIN = """
import fiftyone_plugins.operators as foo


class Split(foo.FanOutOperator):
    config = foo.OperatorConfig(name="split", allow_delegated_execution=True)

    def resolve_fanout(self, ctx):
        if "sets" in ctx.params:
            return foo.FanOut.over_params(ctx.params["sets"])
        return foo.FanOut.over_view(batch_size=ctx.params["batch"])

    def execute_slice(self, ctx):
        if ctx.params.get("fail_at") == ctx.fanout.index:
            raise RuntimeError("slice broke")
        ctx.set_progress(1.0)
        return {"index": ctx.fanout.index, "count": ctx.fanout.count,
                "ids": ctx.fanout.sample_ids, "n": ctx.params.get("n")}


def register(p):
    p.register(Split)
"""

SPLIT = "@test/fan/split"


class Samples(list):
    """A host dataset: a named list of samples with ids."""

    def __init__(self, name: str, count: int) -> None:
        super().__init__(SimpleNamespace(id=f"s{i:02d}") for i in range(count))
        self.name = name


@pytest.fixture(autouse=True)
def plugin(env):
    env.write_plugin("fan", "name: '@test/fan'\noperators: [split]\n", {"__init__.py": PLUGIN})


def test_immediate_fan_out_over_parameter_sets():
    result = foo.execute_operator(SPLIT, params={"sets": [{"n": 1}, {"n": 2}, {"n": 3}]})
    assert result.result["slices"] == 3
    assert [r["n"] for r in result.result["results"]] == [1, 2, 3]
    assert [r["index"] for r in result.result["results"]] == [0, 1, 2]


def test_immediate_fan_out_stops_at_the_first_failing_slice():
    with pytest.raises(ExecutionError, match="slice 2/3 failed"):
        foo.execute_operator(SPLIT, params={"sets": [{}, {}, {}], "fail_at": 1})


def test_delegated_slices_are_child_operations_and_the_parent_waits_for_all():
    service = DelegatedOperationService()
    queued = foo.execute_operator(
        SPLIT, params={"sets": [{"n": i} for i in range(5)]}, request_delegation=True
    )
    parent_id = queued.result["id"]
    Worker(service, once=True).run()
    parent = service.get(parent_id)
    assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
    assert [r["n"] for r in parent.result["results"]] == list(range(5))
    children = service.list_operations(parent_id=parent_id)
    assert sorted(c.id for c in children) == sorted(
        slice_operation_id(parent_id, i) for i in range(5)
    )
    assert all(c.run_state is ExecutionRunState.COMPLETED for c in children)
    assert parent.progress.progress == 1.0


def test_delegated_fan_out_over_the_target_view_in_batches():
    default_resolver().add(Samples("ten", 10), "ten")
    service = DelegatedOperationService()
    queued = foo.execute_operator(
        SPLIT, dataset="ten", params={"batch": 4}, request_delegation=True
    )
    Worker(service, once=True).run()
    parent = service.get(queued.result["id"])
    assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
    ids = [r["ids"] for r in parent.result["results"]]
    assert ids == [[f"s{i:02d}" for i in range(a, b)] for a, b in ((0, 4), (4, 8), (8, 10))]
    assert all(c.dataset_name == "ten" for c in service.list_operations(parent_id=parent.id))


def test_one_failed_slice_fails_the_parent_and_the_queued_siblings():
    service = DelegatedOperationService()
    queued = foo.execute_operator(
        SPLIT, params={"sets": [{}, {}, {}, {}], "fail_at": 1}, request_delegation=True
    )
    parent_id = queued.result["id"]
    Worker(service, once=True).run()
    parent = service.get(parent_id)
    assert parent.run_state is ExecutionRunState.FAILED and "slice 2/4" in parent.error
    by_index = {c.metadata["slice_index"]: c for c in service.list_operations(parent_id=parent_id)}
    assert by_index[0].run_state is ExecutionRunState.COMPLETED
    assert "slice broke" in by_index[1].error
    assert [by_index[i].error for i in (2, 3)] == [SIBLING_FAILED, SIBLING_FAILED]
    with pytest.raises(InvalidStateTransitionError, match="child of"):
        service.rerun_operation(by_index[1].id)


def test_slices_are_run_by_several_workers_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", f"sqlite:///{tmp_path}/ops.db")
    from fiftyone_plugins.operators.stores import clear_cache

    clear_cache()
    service = DelegatedOperationService()
    queued = foo.execute_operator(
        SPLIT, params={"sets": [{"n": i} for i in range(20)]}, request_delegation=True
    )
    workers = [threading.Thread(target=Worker(service, once=True, poll_interval=0.01).run)]
    workers[0].start()
    deadline = time.monotonic() + 30
    while not service.list_operations(parent_id=queued.result["id"]):
        assert time.monotonic() < deadline, "the parent never queued its slices"
        time.sleep(0.005)  # polls the store for the parent's slices, then starts the helpers
    workers += [
        threading.Thread(target=Worker(service, once=True, poll_interval=0.01).run)
        for _ in range(3)
    ]
    for w in workers[1:]:
        w.start()
    for w in workers:
        w.join(60)
    parent = service.get(queued.result["id"])
    assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
    assert [r["n"] for r in parent.result["results"]] == list(range(20))
    children = service.list_operations(parent_id=parent.id)
    assert len(children) == 20 and all(c.attempts == 1 for c in children)  # each ran once
    clear_cache()


@pytest.mark.mongo
def test_delegated_fan_out_on_mongodb(mongod_uri, monkeypatch):
    from _mongod import unique_db_uri

    from fiftyone_plugins.operators.stores import clear_cache
    from fiftyone_plugins.operators.stores.mongo import MongoStore

    uri = unique_db_uri(mongod_uri, "fanout")
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    clear_cache()
    try:
        service = DelegatedOperationService()
        queued = foo.execute_operator(
            SPLIT, params={"sets": [{"n": i} for i in range(4)]}, request_delegation=True
        )
        Worker(service, once=True).run()
        parent = service.get(queued.result["id"])
        assert parent.run_state is ExecutionRunState.COMPLETED, parent.error
        assert [r["n"] for r in parent.result["results"]] == [0, 1, 2, 3]
        assert len(service.list_operations(parent_id=parent.id)) == 4
    finally:
        clear_cache()
        MongoStore(uri).drop()


def test_immediate_fan_out_over_a_host_dataset_object():
    result = foo.execute_operator(SPLIT, dataset=Samples("adhoc", 5), params={"batch": 2})
    ids = [r["ids"] for r in result.result["results"]]
    assert ids == [["s00", "s01"], ["s02", "s03"], ["s04"]]
    assert [r["count"] for r in result.result["results"]] == [3, 3, 3]


def test_the_resolver_splits_fiftyone_like_views_through_values_and_select():
    from fiftyone_plugins.operators.datasets import DatasetResolver

    class View:  # FiftyOne's view API as the resolver uses it
        def __init__(self, ids):
            self.ids = ids

        def values(self, field):
            assert field == "id"
            return list(self.ids)

        def select(self, ids):
            return View([i for i in self.ids if i in ids])

        def __iter__(self):  # never used: values() answers first
            raise AssertionError("iterated")

    resolver = DatasetResolver()
    view = View(["a", "b", "c"])
    assert resolver.sample_ids(view) == ["a", "b", "c"]
    assert resolver.select(view, ["c", "a"]).ids == ["a", "c"]
    samples = Samples("plain", 3)
    assert [s.id for s in resolver.select(samples, ["s01"])] == ["s01"]
