"""The embedded default store: one SQLite file, safe for several processes at once.

Each record is one row: the full record as JSON in ``data`` plus copies of the fields that are
filtered and sorted on, as indexed columns. The ``BEGIN IMMEDIATE`` transactions of
:class:`~.sqlite_file.SQLiteFile` (which owns the connection, its locking and its errors) are
what make :meth:`SQLiteStore.claim_next` and the preconditions of :meth:`SQLiteStore.update`
atomic. A row whose JSON cannot be read raises a
:class:`~fiftyone_plugins.errors.CorruptRecordError` naming it, except in claims and lease
resolution, which mark it failed. A result reaches the row as the JSON text it was encoded to
once (:func:`~.records.encode_result`), never serialized again.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import CorruptRecordError, StoreError
from .base import STORE_SETTING, DelegatedOperationStore, OperationQuery
from .kv_sqlite import KV_SCHEMA, SQLiteKV, migrate_to_v3
from .records import (
    DelegatedOperationDoc,
    EncodedResult,
    ExecutionRunState,
    apply_changes,
    as_returned,
    claim_changes,
    format_datetime,
    load_record,
    new_id,
    preconditions_hold,
    salvage_record,
    stamped_changes,
    utcnow,
)
from .schedules_sqlite import SCHEDULES_SCHEMA, SQLiteSchedules, migrate_to_v2
from .sqlite_file import SQLiteFile, run_migration

__all__ = ["SQLiteStore", "path_from_uri"]

logger = logging.getLogger(__name__)

#: 2: schedules and the schedule/parent indexes of operations (:mod:`.schedules_sqlite`);
#: 3: execution-store policies, creation times and the registry of stores (:mod:`.kv_sqlite`);
#: 4: fewer B-trees written per queued operation (:func:`migrate_to_v4`)
SCHEMA_VERSION = 4

#: ``seq`` orders operations queued in the same millisecond. It has no ``AUTOINCREMENT``:
#: that keyword makes every insert also write the ``sqlite_sequence`` table, one more page
#: per queued operation, only to avoid reusing the number of a deleted newest row (harmless
#: for a tie-breaker).
_OPERATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS delegated_operations (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    operator TEXT NOT NULL,
    label TEXT,
    delegation_target TEXT,
    dataset_id TEXT,
    dataset_name TEXT,
    run_state TEXT NOT NULL,
    queued_at TEXT,
    scheduled_at TEXT,
    started_at TEXT,
    completed_at TEXT,
    failed_at TEXT,
    updated_at TEXT,
    lease_expires_at TEXT,
    worker_id TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    schedule_id TEXT,
    parent_id TEXT
)"""

#: The lease index is partial (only operations holding a lease are in it), so queueing never
#: writes it; :meth:`SQLiteStore.find_expired_leases` names its condition. The schedule and
#: parent indexes (:data:`~.schedules_sqlite.SCHEDULES_SCHEMA`) are partial in the same way.
_SCHEMA = (
    _OPERATIONS_TABLE
    + """;
CREATE INDEX IF NOT EXISTS delegated_operations_claim
    ON delegated_operations (run_state, queued_at, seq);
CREATE INDEX IF NOT EXISTS delegated_operations_queued
    ON delegated_operations (queued_at, seq);
CREATE INDEX IF NOT EXISTS delegated_operations_leased
    ON delegated_operations (run_state, lease_expires_at) WHERE lease_expires_at IS NOT NULL;
"""
)

#: the full-table indexes of versions 1-3 that version 4 replaces by partial ones
_V3_INDEXES = (
    "delegated_operations_lease",
    "delegated_operations_schedule",
    "delegated_operations_parent",
)

#: record fields copied into columns (besides ``id`` and ``data``)
_COLUMNS = (
    "operator",
    "label",
    "delegation_target",
    "dataset_id",
    "dataset_name",
    "run_state",
    "queued_at",
    "scheduled_at",
    "started_at",
    "completed_at",
    "failed_at",
    "updated_at",
    "lease_expires_at",
    "worker_id",
    "pinned",
    "schedule_id",
    "parent_id",
)

#: what every query reading whole records selects: ``id``, ``data``, then the columns, so a
#: corrupt ``data`` can be named and salvaged from the columns
_RECORD = f"id, data, {', '.join(_COLUMNS)}"

_INSERT = (
    f"INSERT INTO delegated_operations (id, {', '.join(_COLUMNS)}, data) "
    f"VALUES (:id, {', '.join(':' + name for name in _COLUMNS)}, :data)"
)

#: the longest busy timeout SQLite takes (milliseconds in a C int)
_MAX_TIMEOUT = (2**31 - 1) / 1000


def _row_values(doc: DelegatedOperationDoc, result: EncodedResult | None = None) -> dict[str, Any]:
    """The row of a record; ``result``, the record's result already encoded, is spliced into
    ``data`` as it is rather than serialized again."""
    data = doc.to_dict()
    values = {name: data[name] for name in _COLUMNS}
    values["pinned"] = int(bool(doc.pinned))
    values["id"] = doc.id
    if result is not None:
        del data["result"]
    try:
        text = json.dumps(data)
    except (TypeError, ValueError) as e:
        raise TypeError(f"The operation record must be JSON-serializable: {e}") from None
    if result is not None:
        text = f'{text[:-1]}, "result": {result.text}}}'
    values["data"] = text
    return values


def migrate_to_v4(conn: sqlite3.Connection) -> None:
    """Brings an older file's operations table to version 4: rebuilt without
    ``AUTOINCREMENT`` (``seq`` values kept) and without the full indexes of
    :data:`_V3_INDEXES` (the idempotent schema that runs next creates the partial ones)."""
    run_migration(conn, 4, _rebuild_operations_table)


def _rebuild_operations_table(conn: sqlite3.Connection) -> None:
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'delegated_operations'"
    ).fetchone()
    if row is not None and "AUTOINCREMENT" in str(row[0]).upper():
        new = _OPERATIONS_TABLE.replace(
            "IF NOT EXISTS delegated_operations", "delegated_operations_v4", 1
        )
        conn.execute(new)
        columns = ", ".join(("seq", "id", *_COLUMNS, "data"))
        conn.execute(
            f"INSERT INTO delegated_operations_v4 ({columns}) "
            f"SELECT {columns} FROM delegated_operations"
        )
        conn.execute("DROP TABLE delegated_operations")  # and its indexes
        conn.execute("ALTER TABLE delegated_operations_v4 RENAME TO delegated_operations")
    for name in _V3_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


def path_from_uri(uri: str) -> str:
    """``sqlite:///rel.db`` → ``rel.db`` (from the cwd); ``sqlite:////abs.db`` → ``/abs.db``."""
    rest = uri[len("sqlite://") :] if uri.startswith("sqlite://") else uri
    rest = rest.split("?", 1)[0]
    if rest.startswith("/"):
        rest = rest[1:]
    if not rest:
        raise StoreError(
            f"Invalid SQLite store URL {uri!r} in {STORE_SETTING}: "
            "expected sqlite:///path/to/file.db"
        )
    return rest if rest == ":memory:" else os.path.abspath(os.path.expanduser(rest))


class SQLiteStore(SQLiteFile, SQLiteKV, SQLiteSchedules, DelegatedOperationStore):
    """Operations and execution-store entries in one SQLite file (see :class:`SQLiteFile`
    for the connection, its timeout and its errors)."""

    SCHEMA_VERSION = SCHEMA_VERSION
    SCHEMA = _SCHEMA + SCHEDULES_SCHEMA + KV_SCHEMA
    accepts_encoded_results = True  # a result is written as the text it was encoded to

    def _prepare(self, conn: sqlite3.Connection) -> None:
        migrate_to_v2(conn)  # columns of versions 2 and 3 on an older file, then the schema
        migrate_to_v3(conn)
        migrate_to_v4(conn)
        super()._prepare(conn)

    @classmethod
    def from_uri(cls, uri: str) -> SQLiteStore:
        """Builds a store from ``sqlite:///path[?timeout=seconds]``."""
        from urllib.parse import parse_qs

        query = parse_qs(uri.split("?", 1)[1]) if "?" in uri else {}
        kwargs: dict[str, Any] = {}
        if "timeout" in query:
            raw = query["timeout"][0]
            try:
                timeout = float(raw)
            except ValueError:
                timeout = math.nan
            if not 0 <= timeout <= _MAX_TIMEOUT:  # also refuses nan
                raise StoreError(
                    f"Invalid SQLite store URL {uri!r} in {STORE_SETTING}: timeout must be a "
                    f"number of seconds between 0 and {_MAX_TIMEOUT:.0f}, not {raw!r}"
                )
            kwargs["timeout"] = timeout
        return cls(path_from_uri(uri), **kwargs)

    # -- operations ------------------------------------------------------------------------------

    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        doc: DelegatedOperationDoc,
        result: EncodedResult | None = None,
    ) -> None:
        values = _row_values(doc, result)
        sets = ", ".join(f"{name} = :{name}" for name in (*_COLUMNS, "data"))
        conn.execute(f"UPDATE delegated_operations SET {sets} WHERE id = :id", values)

    def insert(self, doc: DelegatedOperationDoc) -> DelegatedOperationDoc:
        new = as_returned(doc, id=doc.id or new_id())  # normalized as it will read back
        try:
            self._write_one(_INSERT, _row_values(new))
        except sqlite3.IntegrityError as e:
            raise ValueError(f"An operation with id {new.id} already exists") from e
        return new

    def _decode(self, row: Sequence[Any]) -> DelegatedOperationDoc:
        """The record of a row selected as :data:`_RECORD` (CorruptRecordError if unreadable)."""
        return load_record(str(row[0]), self.description, lambda: json.loads(row[1]))

    def _salvage(
        self, conn: sqlite3.Connection, row: Sequence[Any], error: CorruptRecordError
    ) -> DelegatedOperationDoc:
        """Rewrites a corrupt row as a failed record (inside the caller's transaction)."""
        raw: dict[str, Any] = dict(zip(_COLUMNS, row[2:], strict=True))
        try:
            parsed = json.loads(row[1])
        except (TypeError, ValueError):
            parsed = None
        if isinstance(parsed, dict):
            raw.update(parsed)
        doc = salvage_record(str(row[0]), raw, error.reason, str(row[1]))
        self._write(conn, doc)
        logger.warning("%s in %s: %s; marked failed", doc.id, self.path, doc.error)
        return doc

    def _fetch(self, conn: sqlite3.Connection, op_id: str) -> DelegatedOperationDoc | None:
        row = conn.execute(f"SELECT {_RECORD} FROM delegated_operations WHERE id = ?", (op_id,))
        found = row.fetchone()
        return None if found is None else self._decode(found)

    def get(self, op_id: str) -> DelegatedOperationDoc | None:
        rows = self._read(f"SELECT {_RECORD} FROM delegated_operations WHERE id = ?", (op_id,))
        return self._decode(rows[0]) if rows else None

    @staticmethod
    def _where(q: OperationQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Sequence[Any] | None) -> None:
            if values is None:
                return
            present = [v for v in values if v is not None]
            parts = []
            if present:
                parts.append(f"{column} IN ({', '.join('?' for _ in present)})")
                params.extend(present)
            if len(present) != len(values):
                parts.append(f"{column} IS NULL")
            clauses.append("(" + " OR ".join(parts) + ")" if parts else "0")

        any_of("id", q.ids)
        any_of("run_state", None if q.run_states is None else [s.value for s in q.run_states])
        any_of("operator", q.operators)
        any_of("dataset_name", q.dataset_names)
        any_of("dataset_id", q.dataset_ids)
        any_of("delegation_target", q.delegation_targets)
        any_of("schedule_id", q.schedule_ids)
        any_of("parent_id", q.parent_ids)
        if q.pinned is not None:
            clauses.append("pinned = ?")
            params.append(int(q.pinned))
        if q.match:
            columns = {"operator": "operator", "label": "coalesce(label, '')"}
            tests = [f"instr(lower({columns[f]}), ?) > 0" for f in q.match_fields]
            clauses.append("(" + " OR ".join(tests or ["0"]) + ")")
            params.extend([q.match.lower()] * len(tests))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def find(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        where, params = self._where(query)
        direction = "DESC" if query.reverse else "ASC"
        sql = (
            f"SELECT {_RECORD} FROM delegated_operations{where} "
            f"ORDER BY {query.sort_by.value} {direction}, seq {direction} LIMIT ? OFFSET ?"
        )
        params += [-1 if query.limit is None else query.limit, query.skip]
        return [self._decode(row) for row in self._read(sql, params)]

    def count(self, query: OperationQuery) -> int:
        where, params = self._where(query)
        return int(self._read(f"SELECT count(*) FROM delegated_operations{where}", params)[0][0])

    def update(
        self,
        op_id: str,
        changes: Mapping[str, Any],
        *,
        expected_states: Sequence[ExecutionRunState] | None = None,
        expected_worker: str | None = None,
        expected_lease: _dt.datetime | None = None,
    ) -> DelegatedOperationDoc | None:
        values = stamped_changes(changes)
        with self._tx() as conn:
            doc = self._fetch(conn, op_id)
            if doc is None:
                return None
            if not preconditions_hold(doc, expected_states, expected_worker, expected_lease):
                return None
            new = apply_changes(doc, values)
            encoded = values.get("result")
            self._write(conn, new, encoded if isinstance(encoded, EncodedResult) else None)
            return new

    def claim_next(
        self,
        worker_id: str,
        lease_seconds: float,
        *,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
    ) -> DelegatedOperationDoc | None:
        where, params = self._where(
            OperationQuery(
                run_states=(ExecutionRunState.QUEUED,),
                delegation_targets=None if delegation_target is None else (delegation_target,),
                operators=None if operators is None else tuple(operators),
            )
        )
        sql = f"SELECT {_RECORD} FROM delegated_operations{where} ORDER BY queued_at, seq LIMIT 1"
        with self._tx() as conn:
            while True:  # each corrupt candidate is failed, so the loop ends
                row = conn.execute(sql, params).fetchone()
                if row is None:
                    return None
                try:
                    doc = self._decode(row)
                    break
                except CorruptRecordError as e:
                    self._salvage(conn, row, e)
            changes = claim_changes(worker_id, lease_seconds, utcnow())
            new = apply_changes(doc, {**changes, "attempts": doc.attempts + 1})
            self._write(conn, new)
            return new

    def find_expired_leases(
        self, now: _dt.datetime, limit: int = 100
    ) -> list[DelegatedOperationDoc]:
        running = ExecutionRunState.RUNNING.value
        rows = self._read(  # "lease_expires_at IS NOT NULL": the partial index's condition
            f"SELECT {_RECORD} FROM delegated_operations WHERE run_state = ? "
            "AND lease_expires_at IS NOT NULL AND lease_expires_at < ? "
            "ORDER BY lease_expires_at LIMIT ?",
            (running, format_datetime(now), limit),
        )
        docs = []
        lease_column = 2 + _COLUMNS.index("lease_expires_at")
        for row in rows:
            try:
                docs.append(self._decode(row))
            except CorruptRecordError as e:
                with self._tx() as conn:  # unless it changed since the read
                    again = conn.execute(
                        f"SELECT {_RECORD} FROM delegated_operations WHERE id = ? "
                        "AND run_state = ? AND lease_expires_at = ? AND data = ?",
                        (row[0], running, row[lease_column], row[1]),
                    ).fetchone()
                    if again is not None:
                        self._salvage(conn, again, e)
        return docs

    def delete(
        self, op_id: str, *, expected_states: Sequence[ExecutionRunState] | None = None
    ) -> bool:
        sql, params = "DELETE FROM delegated_operations WHERE id = ?", [op_id]
        if expected_states is not None:
            sql += f" AND run_state IN ({', '.join('?' for _ in expected_states)})"
            params.extend(s.value for s in expected_states)
        with self._tx() as conn:
            return conn.execute(sql, params).rowcount > 0
