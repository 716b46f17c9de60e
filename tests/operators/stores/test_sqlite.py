"""SQLite store specifics: a file deleted or replaced under an open store, locations it cannot
write, and malformed URLs."""

from __future__ import annotations

import logging
import os

import pytest

from fiftyone_plugins.errors import StoreError
from fiftyone_plugins.operators.stores import resolve_store
from fiftyone_plugins.operators.stores.base import OperationQuery
from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc, ExecutionRunState
from fiftyone_plugins.operators.stores.sqlite import SQLiteStore


def queue(store, operator="@o/p/x"):
    return store.insert(DelegatedOperationDoc(operator=operator))


def remove_database(path, suffixes=("", "-wal", "-shm")):
    for suffix in suffixes:
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "ops.db")


@pytest.mark.parametrize(
    "suffixes, worker_first",
    [(("", "-wal", "-shm"), False), (("",), True)],
    ids=["rm-all-then-queue", "rm-main-only-then-poll"],
)
def test_a_deleted_file_is_noticed_and_a_fresh_one_opened(path, caplog, suffixes, worker_first):
    worker = SQLiteStore(path)
    old = queue(worker)
    assert worker.claim_next("w", 30).id == old.id  # the worker has the file open
    remove_database(path, suffixes)  # main-only: the worker's -wal is left at the path
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        if worker_first:  # a polling worker notices before anyone writes again
            assert worker.claim_next("w", 30) is None
        # another process queues after the deletion: it finds no file and creates one
        queuer = SQLiteStore(path)
        new = queue(queuer, "@o/p/after")
        claimed = worker.claim_next("w", 30)
        assert claimed is not None and claimed.id == new.id  # not the ghost file's queue
        assert worker.get(old.id) is None
        assert [d.id for d in worker.find(OperationQuery())] == [new.id]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and path in warnings[0] and "deleted" in warnings[0]
    assert queuer.get(new.id).worker_id == "w"  # both work on the same file now
    worker.close()
    queuer.close()


def test_a_deleted_file_nobody_recreated_is_created_again(path, caplog):
    store = SQLiteStore(path)
    queue(store)
    remove_database(path)
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        assert store.find(OperationQuery()) == []
        doc = queue(store)
    assert os.path.exists(path)
    assert SQLiteStore(path).get(doc.id) == doc  # written to the file at the path
    assert sum("deleted" in r.getMessage() for r in caplog.records) == 1
    store.close()


def test_a_replaced_file_is_noticed(path, tmp_path, caplog):
    worker = SQLiteStore(path)
    queue(worker)
    other = SQLiteStore(str(tmp_path / "other.db"))
    replacement = queue(other, "@o/p/replacement")
    other.close()  # checkpoints the WAL into other.db
    os.replace(tmp_path / "other.db", path)
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        assert [d.id for d in worker.find(OperationQuery())] == [replacement.id]
        assert worker.insert(DelegatedOperationDoc(operator="@o/p/y")).id
        assert worker.count(OperationQuery()) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "replaced" in warnings[0]
    worker.close()


def test_an_unchanged_file_is_not_reopened(path, caplog):
    store = SQLiteStore(path)
    queue(store)
    conn = store._conn()
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        for _ in range(3):
            store.find(OperationQuery())
            store.claim_next("w", 30)
    assert store._conn() is conn and caplog.records == []
    store.close()


# -- locations it cannot write -------------------------------------------------------------------


def test_a_path_that_cannot_be_opened_hints_at_permissions(tmp_path):
    (tmp_path / "dir.db").mkdir()  # not a file: "unable to open database file"
    with pytest.raises(StoreError, match="unable to open database file") as info:
        SQLiteStore(str(tmp_path / "dir.db")).find(OperationQuery())
    assert "read-only" in str(info.value) and "permissions" in str(info.value)
    assert "FIFTYONE_DELEGATED_OPERATION_STORE" in str(info.value)


def test_a_readonly_database_hints_at_permissions(path):
    store = SQLiteStore(path)
    queue(store)
    store._conn().execute("PRAGMA query_only = 1")  # SQLite's own "readonly database" error
    with pytest.raises(StoreError, match="attempt to write a readonly database") as info:
        queue(store)
    assert "read-only" in str(info.value) and "permissions" in str(info.value)
    store.close()


@pytest.mark.parametrize("timeout", ["abc", "-1", "nan", "inf", "1e300"])
def test_a_malformed_timeout_names_the_setting(tmp_path, timeout):
    with pytest.raises(StoreError, match="FIFTYONE_DELEGATED_OPERATION_STORE") as info:
        resolve_store(f"sqlite:///{tmp_path}/x.db?timeout={timeout}")
    assert "timeout" in str(info.value) and repr(timeout) in str(info.value)


def test_a_valid_timeout_is_used(tmp_path):
    store = resolve_store(f"sqlite:///{tmp_path}/x.db?timeout=0", cached=False)
    assert isinstance(store, SQLiteStore) and store.timeout == 0
    assert store.count(OperationQuery(run_states=(ExecutionRunState.QUEUED,))) == 0


def test_a_version_2_file_keeps_its_execution_store_entries(path):
    """Schema 3 adds policies, creation times and the registry; version-2 rows still read."""
    import sqlite3

    from fiftyone_plugins.operators.stores.kv_records import KeyPolicy, KVScope, KVStoreQuery
    from fiftyone_plugins.operators.stores.records import utcnow

    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE execution_store (plugin_name TEXT NOT NULL, store_name TEXT NOT NULL,
            dataset_id TEXT NOT NULL DEFAULT '', key TEXT NOT NULL, value TEXT NOT NULL,
            expires_at TEXT, updated_at TEXT,
            PRIMARY KEY (plugin_name, store_name, dataset_id, key));
        INSERT INTO execution_store VALUES ('@o/p', 'cache', '', 'plain', '[1, 2]', NULL,
            '2026-01-01T00:00:00.000000+00:00');
        INSERT INTO execution_store VALUES ('@o/p', 'cache', 'ds', 'ttl', '"v"',
            '2999-01-01T00:00:00.000000+00:00', '2026-01-02T00:00:00.000000+00:00');
        PRAGMA user_version=2;
        """
    )
    conn.close()
    store = SQLiteStore(path)
    try:
        plain = store.kv_entry(KVScope("cache", "@o/p"), "plain", utcnow())
        assert plain.value == [1, 2] and plain.policy is KeyPolicy.PERSIST
        assert plain.created_at == plain.updated_at  # unknown: read as the last write
        ttl = store.kv_entry(KVScope("cache", "@o/p", "ds"), "ttl", utcnow())
        assert ttl.value == "v" and ttl.policy is KeyPolicy.EVICT  # it expires
        stores = store.kv_stores(KVStoreQuery(), utcnow())
        assert [(r.scope.dataset_id, r.registered) for r in stores] == [
            (None, False),
            ("ds", False),
        ]
        store.kv_register_store(KVScope("new", "@o/p"), {"m": 1}, "persist", utcnow())
        store.kv_set(KVScope("cache", "@o/p"), "plain", 3, None)
        again = store.kv_entry(KVScope("cache", "@o/p"), "plain", utcnow())
        assert again.value == 3 and again.created_at == plain.created_at
        assert store._read("PRAGMA user_version")[0][0] == 4
        columns = {row[1] for row in store._read("PRAGMA table_info(execution_store)")}
        assert {"created_at", "policy"} <= columns
    finally:
        store.close()


#: the operations table and indexes of a version-3 file, as earlier releases wrote them
_V3_OPERATIONS = """
CREATE TABLE delegated_operations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, operator TEXT NOT NULL,
    label TEXT, delegation_target TEXT, dataset_id TEXT, dataset_name TEXT,
    run_state TEXT NOT NULL, queued_at TEXT, scheduled_at TEXT, started_at TEXT,
    completed_at TEXT, failed_at TEXT, updated_at TEXT, lease_expires_at TEXT, worker_id TEXT,
    pinned INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL, schedule_id TEXT, parent_id TEXT);
CREATE INDEX delegated_operations_claim ON delegated_operations (run_state, queued_at, seq);
CREATE INDEX delegated_operations_queued ON delegated_operations (queued_at, seq);
CREATE INDEX delegated_operations_lease ON delegated_operations (run_state, lease_expires_at);
CREATE INDEX delegated_operations_schedule ON delegated_operations (schedule_id);
CREATE INDEX delegated_operations_parent ON delegated_operations (parent_id);
PRAGMA user_version=3;
"""


def _schema(store):
    return dict(store._read("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def test_a_version_3_file_is_rebuilt_without_autoincrement_and_keeps_its_operations(path):
    """Version 4 writes fewer B-trees per queued operation; older rows, their order and their
    ``seq`` survive the rebuild, and a second opening changes nothing."""
    import json
    import sqlite3

    from fiftyone_plugins.operators.stores.records import new_id

    conn = sqlite3.connect(path)
    conn.executescript(_V3_OPERATIONS)
    old_ids = [new_id() for _ in range(3)]
    for seq, op_id in zip((5, 9, 12), old_ids, strict=True):
        record = {"id": op_id, "operator": "@o/p/old", "run_state": "queued"}
        conn.execute(
            "INSERT INTO delegated_operations (seq, id, operator, run_state, queued_at, data,"
            " schedule_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                seq,
                op_id,
                "@o/p/old",
                "queued",
                "2026-01-01T00:00:00.000+00:00",
                json.dumps(record),
                "s" * 24,
            ),
        )
    conn.commit()
    conn.close()

    store = SQLiteStore(path)
    try:
        schema = _schema(store)
        assert "AUTOINCREMENT" not in schema["delegated_operations"].upper()
        assert not {"delegated_operations_lease", "delegated_operations_schedule"} & set(schema)
        for name in ("leased", "by_schedule", "by_parent"):
            assert "WHERE" in schema[f"delegated_operations_{name}"].upper()
        assert store._read("SELECT seq FROM delegated_operations ORDER BY seq") == [
            (5,),
            (9,),
            (12,),
        ]
        assert [d.id for d in store.find(OperationQuery(schedule_ids=("s" * 24,)))] == old_ids
        new = queue(store)
        assert store._read("SELECT seq FROM delegated_operations WHERE id = ?", (new.id,)) == [
            (13,)
        ]
        first = store.claim_next("w", 60, operators=("@o/p/old",))
        assert first.id == old_ids[0]  # still first in, first out
        assert store._read("PRAGMA user_version")[0][0] == 4
    finally:
        store.close()
    again = SQLiteStore(path)
    try:
        assert _schema(again) == schema and again.get(old_ids[1]) is not None
    finally:
        again.close()


def test_the_lease_and_lineage_indexes_serve_their_queries(path):
    """They are partial (a queued operation is written to neither), which SQLite uses only
    when the query implies the index's condition: the store's own queries must keep doing so."""
    from fiftyone_plugins.operators.stores.records import utcnow

    store = SQLiteStore(path)
    try:
        queue(store)
        statements: list[str] = []
        store._conn().set_trace_callback(statements.append)  # the SQL with values filled in
        store.find_expired_leases(utcnow())
        store.find(OperationQuery(parent_ids=("p" * 24,)))
        store.find(OperationQuery(schedule_ids=("s" * 24, "t" * 24)))
        store._conn().set_trace_callback(None)
        for name, sql in zip(("leased", "by_parent", "by_schedule"), statements, strict=True):
            plan = store._read(f"EXPLAIN QUERY PLAN {sql}")
            assert f"delegated_operations_{name}" in " ".join(str(row[-1]) for row in plan)
        in_lease_index = (
            "SELECT COUNT(*) FROM delegated_operations INDEXED BY delegated_operations_leased "
            "WHERE lease_expires_at IS NOT NULL"
        )
        assert store._read(in_lease_index) == [(0,)]  # the queued operation is not in it
        store.claim_next("w", 60)
        assert store._read(in_lease_index) == [(1,)]
    finally:
        store.close()


def test_processes_opening_a_version_3_file_at_once_all_migrate_it_safely(path):
    """Each migration step is one ``BEGIN IMMEDIATE`` transaction that first looks at the
    table: the first process rebuilds it, the others find it rebuilt, and every insert lands."""
    import json
    import sqlite3
    import subprocess
    import sys

    conn = sqlite3.connect(path)
    conn.executescript(_V3_OPERATIONS)
    conn.execute(
        "INSERT INTO delegated_operations (id, operator, run_state, data) VALUES (?, ?, ?, ?)",
        ("a" * 24, "@o/p/old", "queued", json.dumps({"id": "a" * 24, "operator": "@o/p/old"})),
    )
    conn.commit()
    conn.close()
    child = (
        "import sys\n"
        "from fiftyone_plugins.operators.stores.sqlite import SQLiteStore\n"
        "from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc\n"
        "store = SQLiteStore(sys.argv[1])\n"
        "print(store.insert(DelegatedOperationDoc(operator='@o/p/new')).id)\n"
    )
    children = [
        subprocess.Popen([sys.executable, "-c", child, path], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    new_ids = {p.communicate(timeout=60)[0].strip() for p in children}
    assert [p.returncode for p in children] == [0, 0, 0, 0]
    store = SQLiteStore(path)
    try:
        assert "AUTOINCREMENT" not in _schema(store)["delegated_operations"].upper()
        stored = {d.id for d in store.find(OperationQuery())}
        assert stored == {"a" * 24} | new_ids and len(new_ids) == 4
    finally:
        store.close()
