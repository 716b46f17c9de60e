"""The schedule half of every store backend (memory, SQLite, real MongoDB), one suite for all,
and the lineage fields (schedule, fire time, parent) of operation records."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from fiftyone_plugins.errors import ScheduleError
from fiftyone_plugins.operators.stores.base import OperationQuery
from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc, new_id
from fiftyone_plugins.operators.stores.schedule_base import schedule_store_of
from fiftyone_plugins.operators.stores.schedule_records import CatchUp, Overlap, ScheduleDoc
from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _schedule(**kwargs) -> ScheduleDoc:
    values = {"operator": "@o/p/op", "cron": "*/5 * * * *", "next_fire_at": T0}
    values.update(kwargs)
    return ScheduleDoc(**values)


def test_insert_get_round_trips_every_field(store):
    doc = _schedule(
        label="nightly",
        context={"params": {"n": 1}, "dataset_name": "ds"},
        timezone="Europe/Paris",
        catchup=CatchUp.NONE,
        overlap=Overlap.ALLOW,
        misfire_grace_seconds=5.5,
        end_at=T0 + dt.timedelta(days=1),
        metadata={"k": [1, 2]},
    )
    saved = store.insert_schedule(doc)
    assert saved.id is not None and doc.id is None  # the caller's object is not changed
    again = store.get_schedule(saved.id)
    assert again == saved
    assert again.catchup is CatchUp.NONE and again.overlap is Overlap.ALLOW
    assert again.next_fire_at == T0 and again.context["params"] == {"n": 1}
    with pytest.raises(ValueError, match="already exists"):
        store.insert_schedule(saved)


def test_due_schedules_are_enabled_and_due_earliest_first(store):
    late = store.insert_schedule(_schedule(next_fire_at=T0 + dt.timedelta(minutes=2)))
    early = store.insert_schedule(_schedule(next_fire_at=T0))
    store.insert_schedule(_schedule(next_fire_at=T0, enabled=False))
    store.insert_schedule(_schedule(next_fire_at=None))  # ended
    store.insert_schedule(_schedule(next_fire_at=T0 + dt.timedelta(hours=1)))
    due = store.due_schedules(T0 + dt.timedelta(minutes=2))
    assert [d.id for d in due] == [early.id, late.id]
    assert [d.id for d in store.due_schedules(T0 + dt.timedelta(minutes=2), limit=1)] == [early.id]
    assert len(store.list_schedules()) == 5
    assert len(store.list_schedules(enabled=False)) == 1


def test_update_is_a_compare_and_set_on_next_fire_at_and_enabled(store):
    doc = store.insert_schedule(_schedule())
    later = T0 + dt.timedelta(minutes=5)
    won = store.update_schedule(doc.id, {"next_fire_at": later}, expected_next_fire_at=T0)
    assert won is not None and won.next_fire_at == later and won.updated_at is not None
    # a second firer that read the old value loses
    assert store.update_schedule(doc.id, {"next_fire_at": later}, expected_next_fire_at=T0) is None
    assert store.update_schedule(doc.id, {"enabled": False}) is not None
    assert store.update_schedule(doc.id, {"label": "x"}, expected_enabled=True) is None
    assert store.get_schedule(doc.id).label is None
    # None is a value to expect (an ended schedule), not "anything"
    store.update_schedule(doc.id, {"next_fire_at": None})
    assert store.update_schedule(doc.id, {"label": "y"}, expected_next_fire_at=None) is not None
    assert store.update_schedule(new_id(), {"label": "z"}) is None
    with pytest.raises(ValueError, match="Unknown schedule field"):
        store.update_schedule(doc.id, {"colour": "red"})


def test_delete_removes_only_that_schedule(store):
    a = store.insert_schedule(_schedule())
    b = store.insert_schedule(_schedule())
    assert store.delete_schedule(a.id) is True
    assert store.delete_schedule(a.id) is False
    assert store.get_schedule(a.id) is None and store.get_schedule(b.id) is not None


def test_operations_filter_on_schedule_and_parent(store):
    fired = store.insert(
        DelegatedOperationDoc(operator="@o/p/op", schedule_id="a" * 24, fire_time=T0)
    )
    child = store.insert(DelegatedOperationDoc(operator="@o/p/op", parent_id=fired.id))
    plain = store.insert(DelegatedOperationDoc(operator="@o/p/op"))
    by_schedule = store.find(OperationQuery(schedule_ids=("a" * 24,)))
    assert [d.id for d in by_schedule] == [fired.id]
    assert by_schedule[0].fire_time == T0
    assert [d.id for d in store.find(OperationQuery(parent_ids=(fired.id,)))] == [child.id]
    top = store.find(OperationQuery(parent_ids=(None,)))
    assert {d.id for d in top} == {fired.id, plain.id}
    assert store.count(OperationQuery(schedule_ids=("b" * 24,))) == 0


def test_old_records_without_lineage_fields_still_load_and_filter(store, raw_insert):
    op_id = new_id()
    raw_insert(
        store,
        {"id": op_id, "operator": "@o/p/old", "run_state": "queued", "queued_at": None},
    )
    doc = store.get(op_id)
    assert doc.schedule_id is None and doc.fire_time is None and doc.parent_id is None
    assert [d.id for d in store.find(OperationQuery(parent_ids=(None,)))] == [op_id]


def test_a_store_without_schedules_says_so():
    with pytest.raises(ScheduleError, match="does not keep schedules"):
        schedule_store_of(object())


def test_a_version_1_sqlite_file_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE delegated_operations (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            operator TEXT NOT NULL, label TEXT, delegation_target TEXT, dataset_id TEXT,
            dataset_name TEXT, run_state TEXT NOT NULL, queued_at TEXT, scheduled_at TEXT,
            started_at TEXT, completed_at TEXT, failed_at TEXT, updated_at TEXT,
            lease_expires_at TEXT, worker_id TEXT, pinned INTEGER NOT NULL DEFAULT 0,
            data TEXT NOT NULL);
        CREATE TABLE execution_store (plugin_name TEXT NOT NULL, store_name TEXT NOT NULL,
            dataset_id TEXT NOT NULL DEFAULT '', key TEXT NOT NULL, value TEXT NOT NULL,
            expires_at TEXT, updated_at TEXT,
            PRIMARY KEY (plugin_name, store_name, dataset_id, key));
        PRAGMA user_version=1;
        """
    )
    old_id = new_id()
    record = {"id": old_id, "operator": "@o/p/old", "run_state": "queued"}
    conn.execute(
        "INSERT INTO delegated_operations (id, operator, run_state, data) VALUES (?, ?, ?, ?)",
        (old_id, "@o/p/old", "queued", json.dumps(record)),
    )
    conn.commit()
    conn.close()

    store = SQLiteStore(str(path))
    try:
        assert store.get(old_id).operator == "@o/p/old"
        fired = store.insert(DelegatedOperationDoc(operator="@o/p/new", schedule_id="c" * 24))
        assert [d.id for d in store.find(OperationQuery(schedule_ids=("c" * 24,)))] == [fired.id]
        assert store.insert_schedule(_schedule()).id is not None
        version = store._read("PRAGMA user_version")[0][0]
        assert version == SQLiteStore.SCHEMA_VERSION == 4
    finally:
        store.close()
    again = SQLiteStore(str(path))  # opening a migrated file changes nothing
    try:
        assert len(again.list_schedules()) == 1 and again.get(old_id) is not None
    finally:
        again.close()


def _damage(store, schedule_id: str) -> None:
    """Writes an unreadable policy into a stored schedule, as each backend stores it."""
    kind = type(store).__name__
    if kind == "MemoryStore":
        store._schedules[schedule_id]["catchup"] = "sometimes"
        return
    if kind == "SQLiteStore":
        data = json.loads(store._read("SELECT data FROM delegated_schedules")[0][0])
        data["catchup"] = "sometimes"
        with store._tx() as conn:
            conn.execute("UPDATE delegated_schedules SET data = ?", (json.dumps(data),))
        return
    from bson import ObjectId

    raw = store._schedules.find_one({"_id": ObjectId(schedule_id)})
    data = json.loads(raw["data"])
    data["catchup"] = "sometimes"
    store._schedules.update_one({"_id": raw["_id"]}, {"$set": {"data": json.dumps(data)}})


def test_an_unreadable_schedule_never_stops_the_due_ones(store, caplog):
    bad = store.insert_schedule(_schedule())
    _damage(store, bad.id)
    good = store.insert_schedule(_schedule())
    assert [d.id for d in store.due_schedules(T0)] == [good.id]
    assert "cannot be read" in caplog.text
    with pytest.raises(ValueError, match="catch-up policy"):
        store.get_schedule(bad.id)
