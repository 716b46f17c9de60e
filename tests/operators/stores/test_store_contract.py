"""One contract every store backend must meet; it runs unchanged on memory, SQLite and MongoDB."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from fiftyone_plugins.errors import StoreError
from fiftyone_plugins.operators.stores.base import KVScope, OperationQuery
from fiftyone_plugins.operators.stores.records import (
    CorruptRecordError,
    DelegatedOperationDoc,
    ExecutionProgress,
    ExecutionRunState,
    SortField,
    new_id,
    utcnow,
)

Q = ExecutionRunState.QUEUED
R = ExecutionRunState.RUNNING
C = ExecutionRunState.COMPLETED
F = ExecutionRunState.FAILED
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def make(store, operator="@org/plugin/op", queued=0.0, **fields):
    doc = DelegatedOperationDoc(operator=operator, queued_at=at(queued), updated_at=at(queued))
    for name, value in fields.items():
        setattr(doc, name, value)
    return store.insert(doc)


# -- records --------------------------------------------------------------------------------------


def test_insert_assigns_an_id_and_get_round_trips_every_field(store):
    doc = DelegatedOperationDoc(
        operator="@org/plugin/op",
        label="Export",
        delegation_target="overnight",
        dataset_id="65a0c0ffee0000000000beef",
        dataset_name="quickstart",
        context={"params": {"n": 1, "nested": {"a.b": [1, 2.5, None]}}, "view": []},
        run_state=R,
        queued_at=at(0),
        started_at=at(1),
        updated_at=at(1),
        worker_id="w1",
        lease_expires_at=at(61),
        attempts=2,
        progress=ExecutionProgress(0.25, "a quarter"),
        result={"$weird": 1, "big": 2**62},
        error=None,
        pinned=True,
        metadata={"max_attempts": 3},
    )
    stored = store.insert(doc)
    assert stored.id is not None and len(stored.id) == 24
    int(stored.id, 16)
    assert doc.id is None  # the caller's object is not changed
    loaded = store.get(stored.id)
    assert loaded == stored
    assert loaded.to_dict() == {**doc.to_dict(), "id": stored.id}
    assert loaded.queued_at.tzinfo is not None
    assert store.get(new_id()) is None


def test_insert_keeps_a_given_id_and_refuses_a_duplicate(store):
    op_id = new_id()
    doc = DelegatedOperationDoc(operator="@o/p/x", id=op_id, queued_at=at(0))
    assert store.insert(doc).id == op_id
    with pytest.raises(ValueError, match="already exists"):
        store.insert(doc)


def test_records_are_copies(store):
    doc = make(store, context={"params": {"n": 1}})
    doc.context["params"]["n"] = 2
    assert store.get(doc.id).context == {"params": {"n": 1}}
    loaded = store.get(doc.id)
    loaded.metadata["x"] = 1
    loaded.context["params"]["n"] = 3  # nested values too
    assert store.get(doc.id).metadata == {}
    assert store.get(doc.id).context == {"params": {"n": 1}}
    [found] = store.find(OperationQuery())
    found.context["params"]["n"] = 4
    assert store.get(doc.id).context == {"params": {"n": 1}}


def test_older_records_with_missing_and_unknown_fields_still_load(store, raw_insert):
    op_id = new_id()
    raw_insert(
        store,
        {
            "id": op_id,
            "operator": "@old/plugin/op",
            "run_state": "completed",
            "queued_at": "2023-05-01T10:00:00+00:00",
            "some_field_from_the_future": {"x": 1},
        },
    )
    doc = store.get(op_id)
    assert doc.operator == "@old/plugin/op"
    assert doc.run_state is C
    assert doc.queued_at == dt.datetime(2023, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert doc.context == {} and doc.metadata == {} and doc.attempts == 0
    assert doc.progress is None and doc.pinned is False
    assert [d.id for d in store.find(OperationQuery(operators=("@old/plugin/op",)))] == [op_id]


# -- find, count, sort, paging --------------------------------------------------------------------


@pytest.fixture
def population(store):
    docs = {
        "a": make(store, "@org/one/export", 0, dataset_name="ds1", dataset_id="id1",
                  label="Nightly"),
        "b": make(store, "@org/one/import", 1, dataset_name="ds2", delegation_target="gpu",
                  run_state=R, started_at=at(5)),
        "c": make(store, "@org/two/EXPORT_all", 2, dataset_name="ds1", dataset_id="id1",
                  run_state=C, started_at=at(3), completed_at=at(9), pinned=True),
        "d": make(store, "@org/two/train", 3, run_state=F, started_at=at(4), failed_at=at(6)),
    }  # fmt: skip
    return store, docs


def ids(docs):
    return [d.id for d in docs]


@pytest.mark.parametrize(
    "query, expected",
    [
        (OperationQuery(), "abcd"),
        (OperationQuery(run_states=(Q,)), "a"),
        (OperationQuery(run_states=(C, F)), "cd"),
        (OperationQuery(operators=("@org/one/import", "@org/two/train")), "bd"),
        (OperationQuery(dataset_names=("ds1",)), "ac"),
        (OperationQuery(dataset_ids=("id1",)), "ac"),
        (OperationQuery(delegation_targets=("gpu",)), "b"),
        (OperationQuery(delegation_targets=(None,)), "acd"),
        (OperationQuery(pinned=True), "c"),
        (OperationQuery(pinned=False), "abd"),
        (OperationQuery(match="export"), "ac"),
        (OperationQuery(match="NIGHT"), "a"),
        (OperationQuery(match="nothing like it"), ""),
        (OperationQuery(match="night", match_fields=("label",)), "a"),
        (OperationQuery(match="night", match_fields=("operator",)), ""),
        (OperationQuery(match="export", match_fields=("operator",)), "ac"),
        (OperationQuery(match="export", match_fields=("label",)), ""),
        (OperationQuery(dataset_names=("ds1",), run_states=(C,)), "c"),
    ],
)
def test_find_and_count_filter(population, query, expected):
    store, docs = population
    assert ids(store.find(query)) == [docs[k].id for k in expected]
    assert store.count(query) == len(expected)


def test_find_by_ids(population):
    store, docs = population
    wanted = (docs["d"].id, docs["a"].id)
    assert ids(store.find(OperationQuery(ids=wanted))) == [docs["a"].id, docs["d"].id]


@pytest.mark.parametrize(
    "sort_by, ascending",
    [
        (SortField.QUEUED_AT, "abcd"),
        (SortField.STARTED_AT, "acdb"),  # None (never started) first
        (SortField.COMPLETED_AT, "abdc"),
        (SortField.FAILED_AT, "abcd"),
        (SortField.OPERATOR, "cdab"),  # by code point: "@org/o" < "@org/t"... see below
    ],
)
def test_sort_and_reverse(population, sort_by, ascending):
    store, docs = population
    if sort_by is SortField.OPERATOR:
        ascending = "".join(sorted("abcd", key=lambda k: docs[k].operator))
    expected = [docs[k].id for k in ascending]
    assert ids(store.find(OperationQuery(sort_by=sort_by))) == expected
    assert ids(store.find(OperationQuery(sort_by=sort_by, reverse=True))) == expected[::-1]


def test_ties_keep_insertion_order(store):
    docs = [make(store, queued=0) for _ in range(5)]
    assert ids(store.find(OperationQuery())) == ids(docs)
    assert ids(store.find(OperationQuery(reverse=True))) == ids(docs)[::-1]


def test_paging(population):
    store, docs = population
    every = ids(store.find(OperationQuery()))
    assert ids(store.find(OperationQuery(limit=2))) == every[:2]
    assert ids(store.find(OperationQuery(skip=1, limit=2))) == every[1:3]
    assert ids(store.find(OperationQuery(skip=3))) == every[3:]
    assert ids(store.find(OperationQuery(skip=10))) == []
    assert store.find(OperationQuery(limit=0)) == []  # not "no limit", as MongoDB reads 0
    assert store.count(OperationQuery(skip=1, limit=1)) == 4


# -- update with preconditions --------------------------------------------------------------------


def test_update_applies_changes_and_stamps_updated_at(store):
    doc = make(store)
    before = utcnow()
    new = store.update(doc.id, {"label": "renamed", "progress": {"progress": 0.5, "label": "x"}})
    assert new.label == "renamed" and new.progress == ExecutionProgress(0.5, "x")
    assert new.updated_at >= before
    assert store.get(doc.id) == new
    stamped = store.update(doc.id, {"updated_at": at(100)})
    assert stamped.updated_at == at(100)


def test_update_preconditions_are_compare_and_set(store):
    doc = make(store, run_state=R, worker_id="w1", lease_expires_at=at(60))
    assert store.update(doc.id, {"label": "x"}, expected_states=(Q,)) is None
    assert store.update(doc.id, {"label": "x"}, expected_worker="w2") is None
    assert store.update(doc.id, {"label": "x"}, expected_lease=at(61)) is None
    assert store.get(doc.id).label is None
    done = store.update(
        doc.id,
        {"run_state": C, "completed_at": at(70), "result": {"n": 1}},
        expected_states=(R,),
        expected_worker="w1",
        expected_lease=at(60),
    )
    assert done.run_state is C and done.result == {"n": 1}
    assert store.update(new_id(), {"label": "x"}) is None


def test_update_rejects_unknown_fields_and_non_json(store):
    doc = make(store)
    with pytest.raises(ValueError, match="Unknown operation field"):
        store.update(doc.id, {"not_a_field": 1})
    with pytest.raises(TypeError, match="JSON"):
        store.update(doc.id, {"result": {"x": object()}})
    assert store.get(doc.id).result is None


# -- claims and leases ----------------------------------------------------------------------------


def test_claim_next_takes_the_oldest_queued_operation(store):
    later = make(store, queued=10)
    older = make(store, queued=5)
    make(store, queued=1, run_state=C)
    claimed = store.claim_next("w1", 30)
    assert claimed.id == older.id
    assert claimed.run_state is R and claimed.worker_id == "w1" and claimed.attempts == 1
    assert claimed.started_at is not None
    assert (claimed.lease_expires_at - claimed.started_at).total_seconds() == pytest.approx(30)
    assert store.get(older.id) == claimed
    assert store.claim_next("w2", 30).id == later.id
    assert store.claim_next("w3", 30) is None


def test_claim_next_filters(store):
    a = make(store, "@o/p/a", 0, delegation_target="gpu")
    b = make(store, "@o/p/b", 1)
    c = make(store, "@o/p/c", 2, delegation_target="gpu")
    assert store.claim_next("w", 5, operators=["@o/p/b", "@o/p/c"]).id == b.id
    assert store.claim_next("w", 5, delegation_target="cpu") is None
    assert store.claim_next("w", 5, delegation_target="gpu", operators=["@o/p/c"]).id == c.id
    assert store.claim_next("w", 5, delegation_target="gpu").id == a.id


def test_concurrent_claims_never_hand_out_an_operation_twice(store):
    docs = [make(store, queued=i) for i in range(40)]
    got: list[str] = []
    lock = threading.Lock()

    def work(worker: str) -> None:
        while (doc := store.claim_next(worker, 30)) is not None:
            with lock:
                got.append(doc.id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(ids(docs))


def test_renew_lease_only_for_the_holder_of_a_running_operation(store):
    make(store)
    doc = store.claim_next("w1", 1)
    assert store.renew_lease(doc.id, "w1", 100)
    renewed = store.get(doc.id)
    assert renewed.lease_expires_at > doc.lease_expires_at
    assert not store.renew_lease(doc.id, "w2", 100)
    store.update(doc.id, {"run_state": C})
    assert not store.renew_lease(doc.id, "w1", 100)


def test_find_expired_leases(store):
    make(store, run_state=R, worker_id="w1", lease_expires_at=at(20))
    early = make(store, run_state=R, worker_id="w2", lease_expires_at=at(10))
    make(store, run_state=C, worker_id="w3", lease_expires_at=at(5))
    make(store, run_state=R, worker_id="w4", lease_expires_at=None)
    assert ids(store.find_expired_leases(at(15))) == [early.id]
    assert [d.worker_id for d in store.find_expired_leases(at(30))] == ["w2", "w1"]
    assert len(store.find_expired_leases(at(30), limit=1)) == 1


def test_delete(store):
    doc = make(store, run_state=R)
    assert not store.delete(doc.id, expected_states=(Q, C, F))
    assert store.get(doc.id) is not None
    assert store.delete(doc.id)
    assert store.get(doc.id) is None
    assert not store.delete(doc.id)


# -- corrupt records ------------------------------------------------------------------------------


def test_a_corrupt_record_is_a_store_error_naming_it(store, corrupt):
    good = make(store, queued=1)
    bad = make(store, queued=0)
    corrupt(store, bad.id)
    for call in (
        lambda: store.get(bad.id),
        lambda: store.find(OperationQuery()),
        lambda: store.update(bad.id, {"label": "x"}),
    ):
        with pytest.raises(CorruptRecordError, match=f"{bad.id} .* is corrupt") as info:
            call()
        assert isinstance(info.value, StoreError) and info.value.op_id == bad.id
        assert f"delegated delete {bad.id}" in str(info.value)
    # the other records, and counting, are unaffected
    assert store.get(good.id) == good
    assert ids(store.find(OperationQuery(ids=(good.id,)))) == [good.id]
    assert store.count(OperationQuery()) == 2
    assert store.count(OperationQuery(run_states=(Q,))) == 2


def test_claim_next_fails_a_corrupt_record_and_claims_the_next(store, corrupt, caplog):
    bad = make(store, "@o/p/bad", queued=0, label="Bad one", dataset_name="ds")
    good = make(store, "@o/p/good", queued=1)
    corrupt(store, bad.id)
    claimed = store.claim_next("w1", 30)
    assert claimed.id == good.id and claimed.run_state is R and claimed.worker_id == "w1"
    failed = store.get(bad.id)  # readable again, and visible as failed
    assert failed.run_state is F and failed.failed_at is not None
    assert failed.error.startswith("stored record is corrupt: ")
    assert failed.lease_expires_at is None
    assert (failed.operator, failed.label, failed.dataset_name) == ("@o/p/bad", "Bad one", "ds")
    assert "As stored" in failed.error_trace
    assert f"{bad.id}" in caplog.text and "marked failed" in caplog.text
    assert store.claim_next("w1", 30) is None
    assert ids(store.find(OperationQuery())) == [bad.id, good.id]


def test_claim_next_with_only_corrupt_records_returns_none(store, corrupt):
    bad = make(store)
    corrupt(store, bad.id)
    assert store.claim_next("w1", 30) is None
    assert store.get(bad.id).run_state is F


def test_find_expired_leases_fails_corrupt_records(store, corrupt):
    bad = make(store, run_state=R, worker_id="w1", lease_expires_at=at(10))
    good = make(store, queued=1, run_state=R, worker_id="w2", lease_expires_at=at(20))
    fresh = make(store, queued=2, run_state=R, worker_id="w3", lease_expires_at=at(500))
    corrupt(store, bad.id)
    corrupt(store, fresh.id)
    assert ids(store.find_expired_leases(at(100))) == [good.id]
    assert store.get(bad.id).run_state is F
    assert store.count(OperationQuery(ids=(fresh.id,), run_states=(R,))) == 1  # not expired


def test_a_corrupt_record_can_still_be_deleted(store, corrupt):
    bad = make(store)
    corrupt(store, bad.id)
    assert not store.delete(bad.id, expected_states=(R,))
    assert store.count(OperationQuery()) == 1
    assert store.delete(bad.id, expected_states=(Q, C, F))
    assert store.count(OperationQuery()) == 0


# -- key-value entries ----------------------------------------------------------------------------

S1 = KVScope("cache", "@org/plugin")


def test_kv_set_get_has_delete(store):
    now = utcnow()
    assert store.kv_get(S1, "k", now) == (False, None)
    store.kv_set(S1, "k", {"a": [1, 2, {"b": None}]}, None)
    assert store.kv_get(S1, "k", now) == (True, {"a": [1, 2, {"b": None}]})
    store.kv_set(S1, "k", "replaced", None)
    assert store.kv_get(S1, "k", now) == (True, "replaced")
    store.kv_set(S1, "none", None, None)
    assert store.kv_get(S1, "none", now) == (True, None)
    assert store.kv_delete(S1, "k")
    assert not store.kv_delete(S1, "k")
    assert store.kv_get(S1, "k", now) == (False, None)


def test_kv_scopes_are_isolated(store):
    now = utcnow()
    scopes = [
        S1,
        KVScope("other", "@org/plugin"),
        KVScope("cache", "@org/another"),
        KVScope("cache", "@org/plugin", "dataset1"),
    ]
    for i, scope in enumerate(scopes):
        store.kv_set(scope, "k", i, None)
    for i, scope in enumerate(scopes):
        assert store.kv_get(scope, "k", now) == (True, i)
        assert store.kv_keys(scope, now) == ["k"]
    assert store.kv_clear(S1) == 1
    assert store.kv_keys(S1, now) == []
    assert store.kv_get(scopes[3], "k", now) == (True, 3)


def test_kv_ttl(store):
    now = utcnow()
    store.kv_set(S1, "short", 1, now + dt.timedelta(seconds=30))
    store.kv_set(S1, "forever", 2, None)
    store.kv_set(S1, "gone", 3, now - dt.timedelta(seconds=1))
    assert store.kv_keys(S1, now) == ["forever", "short"]
    assert store.kv_get(S1, "gone", now) == (False, None)
    later = now + dt.timedelta(seconds=31)
    assert store.kv_get(S1, "short", later) == (False, None)
    assert store.kv_keys(S1, later) == ["forever"]
    store.kv_set(S1, "short", 4, None)  # re-setting without a ttl makes it permanent
    assert store.kv_get(S1, "short", later) == (True, 4)


def test_kv_values_must_be_json(store):
    with pytest.raises(TypeError):
        store.kv_set(S1, "k", {1, 2}, None)
    assert store.kv_keys(S1, utcnow()) == []


def test_a_naive_time_reads_back_as_the_store_returned_it(store):
    naive = dt.datetime(2026, 1, 1, 12, 0, 0)  # naive times are UTC to every store
    stored = store.insert(DelegatedOperationDoc(operator="@o/p/x", queued_at=naive))
    assert stored.queued_at == store.get(stored.id).queued_at
    assert stored.queued_at == naive.replace(tzinfo=dt.timezone.utc)
