"""The delegated-operation service: queueing, listing, cleanup, running, and store resolution.

The state machine itself is covered on every backend in ``stores/test_state_machine.py``.
"""

from __future__ import annotations

import logging
import sys

import pytest

from fiftyone_plugins.errors import (
    DelegatedOperationError,
    InvalidStateTransitionError,
    OperationNotFoundError,
    StoreError,
)
from fiftyone_plugins.operators import delegated as delegated_module
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.stores import clear_cache, resolve_store
from fiftyone_plugins.operators.stores.memory import MemoryStore
from fiftyone_plugins.operators.stores.records import (
    CorruptRecordError,
    DelegatedOperationDoc,
    ExecutionRunState,
)
from fiftyone_plugins.operators.stores.sqlite import SQLiteStore


@pytest.fixture(autouse=True)
def fresh_stores():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(params=["memory", "sqlite"])
def service(request, tmp_path):
    store = MemoryStore() if request.param == "memory" else SQLiteStore(str(tmp_path / "s.db"))
    yield DelegatedOperationService(store, lease_seconds=30)
    store.close()


class Request:
    """Stands in for the operators layer's request object."""

    def __init__(self, data):
        self.data = data

    def to_dict(self):
        return dict(self.data)


# -- queueing ------------------------------------------------------------------------------------


def test_queue_operation_stores_the_request_without_secrets(service):
    doc = service.queue_operation(
        "@org/plugin/op",
        label="My op",
        delegation_target="gpu",
        context={
            "params": {"n": 3},
            "dataset_name": "quickstart",
            "dataset_id": "65a0c0ffee0000000000beef",
            "secrets": {"API_KEY": "hunter2"},
            "request_params": {"secrets": {"TOKEN": "s3cret"}, "view": []},
        },
        metadata={"max_attempts": 2},
    )
    stored = service.get(doc.id)
    assert stored == doc
    assert stored.run_state is ExecutionRunState.QUEUED and stored.queued_at is not None
    assert stored.dataset_name == "quickstart"
    assert stored.dataset_id == "65a0c0ffee0000000000beef"
    assert stored.delegation_target == "gpu" and stored.label == "My op"
    assert stored.context == {
        "params": {"n": 3},
        "dataset_name": "quickstart",
        "dataset_id": "65a0c0ffee0000000000beef",
        "request_params": {"view": []},
    }
    text = repr(stored) + str(stored.to_dict())
    assert "hunter2" not in text and "s3cret" not in text


def test_queue_operation_accepts_request_objects_and_explicit_datasets(service):
    doc = service.queue_operation(
        "@org/plugin/op",
        context=Request({"params": {"a": 1}, "secrets": {"K": "v"}}),
        dataset_name="explicit",
    )
    assert doc.context == {"params": {"a": 1}} and doc.dataset_name == "explicit"
    nested = service.queue_operation(
        "@org/plugin/op", context={"request_params": {"dataset_name": "inner"}}
    )
    assert nested.dataset_name == "inner"


def test_queue_operation_rejects_what_json_cannot_hold(service):
    with pytest.raises(TypeError, match="context must be JSON-serializable"):
        service.queue_operation("@o/p/x", context={"params": {"f": object()}})
    with pytest.raises(TypeError, match="dict or have to_dict"):
        service.queue_operation("@o/p/x", context=42)
    with pytest.raises(ValueError, match="URI"):
        service.queue_operation("")
    assert service.count() == 0


@pytest.mark.parametrize("bad", ["nope", "123", "g" * 24, "", None, "6b04" * 7])
def test_malformed_ids_are_not_found_errors(service, bad):
    with pytest.raises(OperationNotFoundError, match="Invalid operation id"):
        service.get(bad)


def test_unknown_ids_are_not_found_errors(service):
    missing = "0123456789abcdef01234567"
    for call in (
        lambda: service.get(missing),
        lambda: service.set_progress(missing, 0.5),
        lambda: service.fail_operation(missing),
        lambda: service.delete_operation(missing),
        lambda: service.rerun_operation(missing),
    ):
        with pytest.raises(OperationNotFoundError, match=f"{missing} not found") as info:
            call()
        assert info.value.op_id == missing


# -- listing ----------------------------------------------------------------------------------


@pytest.fixture
def listed(service):
    a = service.queue_operation(
        "@org/io/export_samples", label="Export", dataset_name="quickstart"
    )
    b = service.queue_operation("@org/brain/embed", dataset_name="other", delegation_target="gpu")
    c = service.queue_operation("@org/io/export_samples", dataset_name="quickstart")
    service.set_running(b.id, worker_id="w")
    service.set_completed(b.id, {"n": 1})
    return service, a, b, c


def test_list_operations_filters_sorts_and_pages(listed):
    service, a, b, c = listed
    names = lambda docs: [d.id for d in docs]  # noqa: E731
    assert names(service.list_operations()) == [a.id, b.id, c.id]
    assert names(service.list_operations(dataset_name="quickstart")) == [a.id, c.id]
    assert names(service.list_operations(operator=["@org/brain/embed"])) == [b.id]
    assert names(service.list_operations(run_state="COMPLETED")) == [b.id]
    assert names(service.list_operations(run_state=["queued", "completed"])) == [a.id, b.id, c.id]
    assert names(service.list_operations(delegation_target="gpu")) == [b.id]
    assert names(service.list_operations(match="EXPORT")) == [a.id, c.id]
    assert names(service.list_operations(search={"embed": ["operator"]})) == [b.id]
    assert names(service.list_operations(sort_by="QUEUED_AT", reverse=True)) == [c.id, b.id, a.id]
    assert names(service.list_operations(sort_by="completed_at", reverse=True))[0] == b.id
    assert names(service.list_operations(limit=1, skip=1)) == [b.id]
    assert service.count(dataset_name="quickstart") == 2
    assert service.count(run_state=ExecutionRunState.COMPLETED) == 1
    with pytest.raises(ValueError, match="Unknown run state"):
        service.list_operations(run_state="done")
    with pytest.raises(ValueError, match="Unknown sort field"):
        service.list_operations(sort_by="size")


@pytest.mark.parametrize("name", ["limit", "skip"])
@pytest.mark.parametrize("value", [2**31, 10**20, -1])
def test_limit_and_skip_beyond_what_stores_handle_are_value_errors(service, name, value):
    service.queue_operation("@o/p/x")
    with pytest.raises(ValueError, match=f"{name} must be between 0 and 2147483647"):
        service.list_operations(**{name: value})
    assert len(service.list_operations(**{name: 2**31 - 1})) == (1 if name == "limit" else 0)


def test_listing_needs_no_installed_operator(service):
    doc = service.queue_operation("@nobody/not-installed/anywhere")
    assert [d.operator for d in service.list_operations()] == [doc.operator]


def test_progress_is_clamped_and_labelled(service):
    doc = service.queue_operation("@o/p/x")
    service.set_running(doc.id, worker_id="w")
    assert service.set_progress(doc.id, 1.7).progress.progress == 1.0
    p = service.set_progress(doc.id, {"progress": 0.42, "label": "step 2"}).progress
    assert (p.progress, p.label, p.percent) == (0.42, "step 2", 42)
    assert (
        service.set_progress(doc.id, None, label="only a label").progress.label == "only a label"
    )


# -- delete and cleanup ------------------------------------------------------------------------


def test_delete_operations_checks_every_id_first(listed):
    service, a, b, c = listed
    service.set_running(c.id, worker_id="w")
    with pytest.raises(InvalidStateTransitionError):
        service.delete_operations([a.id, c.id])
    with pytest.raises(OperationNotFoundError):
        service.delete_operations([a.id, "0" * 24])
    assert service.count() == 3
    assert [d.id for d in service.delete_operations([a.id, b.id])] == [a.id, b.id]
    assert service.count() == 1


def test_delete_operations_checks_states_and_counts_repeated_ids_once(listed):
    service, a, b, c = listed
    assert [d.id for d in service.delete_operations([a.id, a.id.upper(), f" {a.id} "])] == [a.id]
    assert service.count() == 2
    service.set_running(c.id, worker_id="w")
    with pytest.raises(InvalidStateTransitionError, match=f"{c.id}: it is running") as info:
        service.delete_operations([b.id, c.id, b.id])
    assert "nothing was changed" in str(info.value) and "\n" not in str(info.value)
    assert service.count() == 2


def test_fail_operations_checks_every_id_and_state_before_changing_any(listed):
    service, a, b, c = listed  # a, c queued; b completed
    with pytest.raises(InvalidStateTransitionError, match=f"fail delegated operation {b.id}"):
        service.fail_operations([a.id, b.id])
    assert service.get(a.id).run_state is ExecutionRunState.QUEUED
    service.fail_operation(c.id)
    with pytest.raises(InvalidStateTransitionError) as info:
        service.fail_operations([a.id, b.id, c.id])
    message = str(info.value)
    assert f"{b.id} (it is completed)" in message and f"{c.id} (it is failed)" in message
    assert message.endswith("nothing was changed") and "\n" not in message
    with pytest.raises(OperationNotFoundError, match="0{24} not found; nothing was changed"):
        service.fail_operations([a.id, "0" * 24])
    with pytest.raises(OperationNotFoundError, match="Invalid operation id"):
        service.fail_operations([a.id, "nope"])
    assert service.get(a.id).run_state is ExecutionRunState.QUEUED
    done = service.fail_operations([a.id, a.id], reason="no longer needed")
    assert [d.id for d in done] == [a.id] and done[0].error == "no longer needed"
    assert service.get(a.id).run_state is ExecutionRunState.FAILED


def test_a_bulk_change_raced_after_its_check_says_what_was_changed(listed, monkeypatch):
    service, a, b, c = listed  # a and c queued
    real = service.fail_operation

    def racing(op_id, reason="x"):
        if op_id == c.id:  # a worker takes and completes c between the check and the change
            service.set_running(c.id, worker_id="w")
            service.set_completed(c.id)
        return real(op_id, reason)

    monkeypatch.setattr(service, "fail_operation", racing)
    with pytest.raises(InvalidStateTransitionError) as info:
        service.fail_operations([a.id, c.id])
    assert f"{c.id}: it is completed" in str(info.value)
    assert f"already failed: {a.id}" in str(info.value)


def _corrupt(service, op_id):
    store = service.store
    if isinstance(store, MemoryStore):
        store._ops[op_id]["queued_at"] = "not a date"
    else:
        store._conn().execute(
            "UPDATE delegated_operations SET data = '{not json' WHERE id = ?", (op_id,)
        )


def test_a_corrupt_record_is_named_and_can_be_deleted(service):
    good = service.queue_operation("@o/p/x")
    bad = service.queue_operation("@o/p/x")
    _corrupt(service, bad.id)
    for call in (service.list_operations, lambda: service.get(bad.id)):
        with pytest.raises(StoreError, match=f"{bad.id} .*is corrupt"):
            call()
    with pytest.raises(CorruptRecordError):  # nothing to fail: it cannot be read
        service.fail_operations([good.id, bad.id])
    assert service.get(good.id).run_state is ExecutionRunState.QUEUED
    assert [d.id for d in service.delete_operations([bad.id])] == [bad.id]
    assert [d.id for d in service.list_operations()] == [good.id]


def test_a_worker_fails_a_corrupt_record_and_runs_the_next(service):
    bad = service.queue_operation("@o/p/x", context={"params": {"n": 1}})
    good = service.queue_operation("@o/p/x", context={"params": {"n": 2}})
    _corrupt(service, bad.id)
    done = service.execute_queued_operations(runner=runner)
    assert [d.id for d in done] == [good.id] and done[0].result == {"double": 4}
    failed = service.get(bad.id)
    assert failed.run_state is ExecutionRunState.FAILED
    assert failed.error.startswith("stored record is corrupt: ")


def test_cleanup_by_criteria_with_dry_run(listed):
    service, a, b, c = listed
    with pytest.raises(DelegatedOperationError, match="at least one criterion"):
        service.cleanup()
    would = service.cleanup(dataset_name="quickstart", dry_run=True)
    assert [d.id for d in would] == [a.id, c.id]
    assert service.count() == 3
    assert [d.id for d in service.cleanup(state="COMPLETED")] == [b.id]
    assert [d.id for d in service.cleanup(operator="@org/io/export_samples")] == [a.id, c.id]
    assert service.count() == 0


def test_cleanup_never_deletes_running_operations(service):
    doc = service.queue_operation("@o/p/x", dataset_name="ds")
    service.set_running(doc.id, worker_id="w")
    assert service.cleanup(dataset_name="ds") == []
    assert service.get(doc.id).run_state is ExecutionRunState.RUNNING


def test_cleanup_orphans(service):
    kept = service.queue_operation("@o/p/x", dataset_name="alive")
    orphan = service.queue_operation("@o/p/x", dataset_name="deleted")
    renamed = service.queue_operation(
        "@o/p/x", dataset_name="old-name", dataset_id="65a0c0ffee0000000000beef"
    )
    no_dataset = service.queue_operation("@o/p/x")
    exists = {"alive", "65a0c0ffee0000000000beef"}.__contains__
    dry = service.cleanup(orphan=True, dry_run=True, dataset_exists=exists)
    assert [d.id for d in dry] == [orphan.id]
    assert [d.id for d in service.cleanup(orphan=True, dataset_exists=exists)] == [orphan.id]
    remaining = {d.id for d in service.list_operations()}
    assert remaining == {kept.id, renamed.id, no_dataset.id}


def test_cleanup_orphans_on_a_persistent_store_without_a_host_resolver_deletes_nothing(
    tmp_path, caplog
):
    # the fallback in-memory resolver knows no dataset of another process: never trusted here
    service = DelegatedOperationService(f"sqlite:///{tmp_path}/o.db")
    service.queue_operation("@o/p/x", dataset_name="whatever")
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        assert service.cleanup(orphan=True) == []
    assert service.count() == 1
    assert "no dataset resolver is configured" in caplog.text


# -- running -----------------------------------------------------------------------------------


class Outcome:
    def __init__(self, result=None, error=None, error_trace=None):
        self.result, self.error, self.error_trace = result, error, error_trace


def runner(doc, progress):
    params = doc.context["params"]
    progress(0.5, "half way")
    if params.get("raise"):
        raise RuntimeError("exploded")
    if params.get("error"):
        return Outcome(error="it went wrong", error_trace="Trace: line 1")
    if params.get("unjsonable"):
        return {"x": object()}
    return Outcome(result={"double": params["n"] * 2})


def test_execute_queued_operations_records_every_outcome(service):
    ok = service.queue_operation("@o/p/x", context={"params": {"n": 2}})
    err = service.queue_operation("@o/p/x", context={"params": {"error": True}})
    boom = service.queue_operation("@o/p/x", context={"params": {"raise": True}})
    bad = service.queue_operation("@o/p/x", context={"params": {"unjsonable": True}})
    done = service.execute_queued_operations(runner=runner)
    assert [d.id for d in done] == [ok.id, err.id, boom.id, bad.id]
    final = {d.id: d for d in service.list_operations()}
    assert final[ok.id].run_state is ExecutionRunState.COMPLETED
    assert final[ok.id].result == {"double": 4}
    assert final[ok.id].progress.label == "half way"
    assert (final[err.id].error, final[err.id].error_trace) == ("it went wrong", "Trace: line 1")
    assert final[boom.id].error == "RuntimeError: exploded"
    assert "Traceback" in final[boom.id].error_trace and "exploded" in final[boom.id].error_trace
    assert final[bad.id].run_state is ExecutionRunState.FAILED
    assert "JSON-serializable" in final[bad.id].error
    assert service.execute_queued_operations(runner=runner) == []


def test_execute_queued_operations_limit_and_operator_filter(service):
    for i in range(3):
        service.queue_operation("@o/p/x", context={"params": {"n": i}})
    other = service.queue_operation("@o/p/y", context={"params": {"n": 9}})
    assert [d.id for d in service.execute_queued_operations(operator="@o/p/y", runner=runner)] == [
        other.id
    ]
    assert len(service.execute_queued_operations(limit=2, runner=runner)) == 2
    assert service.count(run_state="queued") == 1


def test_completing_after_a_lease_requeue_clears_the_stale_error(service):
    import datetime as dt

    doc = service.queue_operation("@o/p/x", metadata={"max_attempts": 2})
    first = service.claim_next("w1", lease_seconds=1)
    later = first.lease_expires_at + dt.timedelta(seconds=1)
    (requeued,) = service.resolve_expired_leases(now=later)
    assert requeued.run_state is ExecutionRunState.QUEUED and "Worker lost" in requeued.error
    second = service.claim_next("w2")
    assert second.id == doc.id and second.attempts == 2
    service.store.update(doc.id, {"error_trace": "stale trace"})
    done = service.set_completed(doc.id, {"ok": True}, worker_id="w2")
    assert done.run_state is ExecutionRunState.COMPLETED and done.result == {"ok": True}
    assert done.error is None and done.error_trace is None
    assert service.get(doc.id).error is None


def test_default_runner_without_operators_layer_fails_clearly(service, monkeypatch):
    monkeypatch.setitem(sys.modules, "fiftyone_plugins.operators.executor", None)
    doc = service.queue_operation("@o/p/x")
    (final,) = service.execute_queued_operations()
    assert final.id == doc.id and final.run_state is ExecutionRunState.FAILED
    assert "operators layer is unavailable" in final.error


# -- store resolution ----------------------------------------------------------------------------


def test_memory_store_is_shared_by_every_service_in_the_process():
    first = DelegatedOperationService()
    doc = first.queue_operation("@o/p/x")
    assert DelegatedOperationService("memory://").get(doc.id) == doc
    assert resolve_store("memory://") is resolve_store()


def test_sqlite_urls_follow_the_sqlalchemy_convention(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rel = resolve_store("sqlite:///sub/rel.db")
    assert isinstance(rel, SQLiteStore) and rel.path == str(tmp_path / "sub" / "rel.db")
    absolute = resolve_store(f"sqlite:///{tmp_path}/abs.db")  # i.e. sqlite:////tmp/...
    assert absolute.path == f"{tmp_path}/abs.db"
    slow = resolve_store(f"sqlite:///{tmp_path}/t.db?timeout=2.5")
    assert slow.timeout == 2.5
    DelegatedOperationService(rel).queue_operation("@o/p/x")
    assert (tmp_path / "sub" / "rel.db").exists()


def test_default_store_is_sqlite_beside_the_config(env, monkeypatch):
    monkeypatch.delenv("FIFTYONE_DELEGATED_OPERATION_STORE")
    store = resolve_store()
    assert isinstance(store, SQLiteStore)
    assert store.path == str(env.config_path.parent / "delegated_operations.sqlite")


class CustomStore(MemoryStore):
    """A custom store named by a dotted path."""


def test_custom_store_classes_by_dotted_path(monkeypatch):
    path = f"{__name__}:CustomStore"
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", path)
    assert type(resolve_store()) is CustomStore
    assert type(resolve_store(f"{__name__}.CustomStore")) is CustomStore
    with pytest.raises(StoreError, match="Cannot import"):
        resolve_store("no_such_module_xyz:Store")
    with pytest.raises(StoreError, match="not a DelegatedOperationStore"):
        resolve_store(f"{__name__}:Request")
    with pytest.raises(StoreError, match="Unsupported"):
        resolve_store("redis://localhost")


def test_stores_are_cached_per_url(tmp_path):
    uri = f"sqlite:///{tmp_path}/c.db"
    assert resolve_store(uri) is resolve_store(uri)
    assert resolve_store(uri, cached=False) is not resolve_store(uri)


def test_the_record_class_users_see():
    assert delegated_module.DelegatedOperation is DelegatedOperationDoc
    doc = DelegatedOperationDoc.from_dict({"operator": "@o/p/x", "run_state": "RUNNING"})
    assert doc.status is ExecutionRunState.RUNNING and not doc.is_terminal


# -- FiftyOne's calling conventions (as the @voxel51/delegated plugin uses them) ------------


def test_fiftyone_style_regex_search_paging_and_context(service, monkeypatch):
    from fiftyone_plugins import compat

    monkeypatch.setattr(compat, "fiftyone_installed", lambda: False)
    compat.install()
    from fiftyone.factory import DelegatedOperationPagingParams, SortDirection

    first = service.queue_operation("@o/p/export.samples", context={"params": {"n": 1}})
    second = service.queue_operation("@o/p/export_samples", label="Second")
    service.queue_operation("@o/p/other")
    found = service.list_operations(search={".*export\\.samples.*": ["operator", "label"]})
    assert [d.id for d in found] == [first.id]
    paging = DelegatedOperationPagingParams(sort_direction=SortDirection.DESCENDING, limit=2)
    newest = service.list_operations(paging=paging)
    assert len(newest) == 2 and newest[1].id == second.id
    paged = service.list_operations(paging={"skip": 1, "limit": 1, "sort_direction": 1})
    assert [d.id for d in paged] == [second.id]
    doc = service.get(first.id)
    assert doc.context.request_params["params"] == {"n": 1} and doc.context.params == {"n": 1}


# -- FiftyOne's spellings ------------------------------------------------------------------------


def test_fiftyone_doc_id_keywords_and_default_label(service):
    doc = service.queue_operation("@org/plugin/op", context={"params": {}})
    assert doc.label == "@org/plugin/op"  # FiftyOne labels it with the operator's URI
    assert service.get(doc_id=doc.id).id == doc.id
    service.set_running(doc_id=doc.id, worker_id="w1")
    service.set_progress(doc_id=doc.id, progress=0.5)
    assert service.get(doc.id).progress.progress == 0.5
    done = service.set_completed(doc_id=doc.id, result={"ok": 1})
    assert done.run_state is ExecutionRunState.COMPLETED and done.result == {"ok": 1}
    other = service.queue_operation("@org/plugin/op", label="mine")
    assert other.label == "mine"
    service.set_failed(doc_id=other.id, error=ValueError("boom"))
    assert service.get(other.id).error == "boom"
    service.delete_operation(doc_id=other.id)
    with pytest.raises(OperationNotFoundError):
        service.get(doc_id=other.id)


def test_object_id_dataset_ids_and_count_filters(service):
    from bson import ObjectId

    oid = ObjectId()
    doc = service.queue_operation(
        "@org/plugin/op", context={"params": {}, "dataset_id": oid, "dataset_name": "ds"}
    )
    assert doc.dataset_id == str(oid) and doc.context["dataset_id"] == str(oid)
    service.queue_operation("@org/plugin/other", context={"params": {}}, dataset_id=ObjectId())
    assert [d.id for d in service.list_operations(dataset_id=oid)] == [doc.id]
    assert service.count(filters={"dataset_id": oid}) == 1
    assert service.count(filters={"operator": "@org/plugin/other"}) == 1
    assert service.count(filters={"run_state": ExecutionRunState.QUEUED}) == 2
    assert service.count(filters={"run_state": "completed"}) == 0
    with pytest.raises(ValueError, match="cannot filter on 'run_by'"):
        service.count(filters={"run_by": "me"})


def test_execute_operation_runs_one_given_operation(service):
    first = service.queue_operation("@org/plugin/a", context={"params": {"x": 2}})
    second = service.queue_operation("@org/plugin/b", context={"params": {"x": 3}})

    def runner(doc, progress):
        progress(1.0, "done")
        return {"double": doc.context["params"]["x"] * 2}

    done = service.execute_operation(second, runner=runner)
    assert done.run_state is ExecutionRunState.COMPLETED and done.result == {"double": 6}
    assert service.get(first.id).run_state is ExecutionRunState.QUEUED  # only that one
    # no longer queued: not run, record unchanged, None (as FiftyOne's service answers)
    assert service.execute_operation(second.id, runner=runner) is None
    assert service.get(second.id).run_state is ExecutionRunState.COMPLETED
    taken = service.queue_operation("@org/plugin/c")
    service.set_running(taken.id)
    assert service.execute_operation(taken, runner=runner) is None
    assert service.get(taken.id).run_state is ExecutionRunState.RUNNING

    def failing(doc, progress):
        raise RuntimeError("nope")

    failed = service.execute_operation(first.id, runner=failing)
    assert failed.run_state is ExecutionRunState.FAILED and "nope" in failed.error
