"""Schedules in the SQLite file of :class:`~.sqlite.SQLiteStore`, and the schema they add.

A schedule is one row of ``delegated_schedules``: the record as JSON in ``data`` plus indexed
copies of ``enabled`` and ``next_fire_at`` (the due-schedules query). Every change is a
``BEGIN IMMEDIATE`` transaction of the store's :class:`~.sqlite_file.SQLiteFile`, which is what
makes the compare-and-set of :meth:`SQLiteSchedules.update_schedule` atomic across processes.

Schema version 2 also gives operations two indexed columns, ``schedule_id`` (the schedule
that fired it) and ``parent_id`` (the pipeline or fan-out it is a child of). A version-1 file
is migrated in place by :func:`migrate_to_v2`: ``ALTER TABLE ... ADD COLUMN`` in a ``BEGIN
IMMEDIATE`` transaction that first checks which columns exist, so processes opening an old
file at once are safe; old rows get NULL, which is what their records mean. Both indexes are
partial (non-NULL values only, since version 4), so an operation without lineage is written
to neither; a query by value (``IN (...)``) uses them. (Indexes on
``json_extract(data, ...)`` would need no column but make SQLite refuse every statement that
meets one corrupt row, which the store must survive.)
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from .records import format_datetime, new_id, utcnow
from .schedule_base import ANY, ScheduleStore
from .schedule_records import (
    ScheduleDoc,
    encode_schedule_fields,
    normalize_schedule_changes,
    readable_schedules,
)
from .sqlite_file import run_migration

__all__ = ["LINEAGE_COLUMNS", "SCHEDULES_SCHEMA", "SQLiteSchedules", "migrate_to_v2"]

#: the operation columns version 2 adds
LINEAGE_COLUMNS = ("schedule_id", "parent_id")

SCHEDULES_SCHEMA = """
CREATE TABLE IF NOT EXISTS delegated_schedules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1,
    next_fire_at TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS delegated_schedules_due
    ON delegated_schedules (enabled, next_fire_at);
CREATE INDEX IF NOT EXISTS delegated_operations_by_schedule
    ON delegated_operations (schedule_id) WHERE schedule_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS delegated_operations_by_parent
    ON delegated_operations (parent_id) WHERE parent_id IS NOT NULL;
"""


def migrate_to_v2(conn: sqlite3.Connection) -> None:
    """Adds the :data:`LINEAGE_COLUMNS` to a version-1 file's operations table (the rest of
    version 2 is created by the idempotent schema that runs next)."""
    run_migration(conn, 2, _add_lineage_columns)


def _add_lineage_columns(conn: sqlite3.Connection) -> None:
    present = {row[1] for row in conn.execute("PRAGMA table_info(delegated_operations)")}
    for column in LINEAGE_COLUMNS:
        if column not in present:
            conn.execute(f"ALTER TABLE delegated_operations ADD COLUMN {column} TEXT")


def _row(doc: ScheduleDoc) -> dict[str, Any]:
    return {
        "id": doc.id,
        "enabled": int(doc.enabled),
        "next_fire_at": format_datetime(doc.next_fire_at),
        "data": json.dumps(doc.to_dict()),
    }


def _decode(row: tuple[Any, ...]) -> ScheduleDoc:
    return ScheduleDoc.from_dict(json.loads(row[0]))


class SQLiteSchedules(ScheduleStore):
    """The :class:`ScheduleStore` half of :class:`~.sqlite.SQLiteStore` (which provides the
    ``_tx`` and ``_read`` of its file)."""

    # provided by SQLiteFile
    _tx: Any
    _read: Any

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._tx()  # type: ignore[no-any-return]

    def insert_schedule(self, doc: ScheduleDoc) -> ScheduleDoc:
        new = doc.copy()
        new.id = new.id or new_id()
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO delegated_schedules (id, enabled, next_fire_at, data) "
                    "VALUES (:id, :enabled, :next_fire_at, :data)",
                    _row(new),
                )
            except sqlite3.IntegrityError as e:
                raise ValueError(f"A schedule with id {new.id} already exists") from e
        return new.copy()

    def get_schedule(self, schedule_id: str) -> ScheduleDoc | None:
        rows = self._read("SELECT data FROM delegated_schedules WHERE id = ?", (schedule_id,))
        return ScheduleDoc.from_dict(json.loads(rows[0][0])) if rows else None

    def _readable(self, rows: list[tuple[Any, ...]]) -> list[ScheduleDoc]:
        where = str(getattr(self, "description", "the SQLite store"))
        return readable_schedules(
            rows, lambda row: ScheduleDoc.from_dict(json.loads(row[0])), where
        )

    def list_schedules(self, *, enabled: bool | None = None) -> list[ScheduleDoc]:
        if enabled is None:
            rows = self._read("SELECT data FROM delegated_schedules ORDER BY seq")
        else:
            rows = self._read(
                "SELECT data FROM delegated_schedules WHERE enabled = ? ORDER BY seq",
                (int(enabled),),
            )
        return self._readable(rows)

    def due_schedules(self, now: _dt.datetime, limit: int = 1000) -> list[ScheduleDoc]:
        rows = self._read(
            "SELECT data FROM delegated_schedules WHERE enabled = 1 "
            "AND next_fire_at IS NOT NULL AND next_fire_at <= ? "
            "ORDER BY next_fire_at, seq LIMIT ?",
            (format_datetime(now), limit),
        )
        return self._readable(rows)

    def update_schedule(
        self,
        schedule_id: str,
        changes: Mapping[str, Any],
        *,
        expected_next_fire_at: _dt.datetime | None = ANY,
        expected_enabled: bool | None = None,
    ) -> ScheduleDoc | None:
        values = normalize_schedule_changes(changes)
        values.setdefault("updated_at", utcnow())
        encoded = encode_schedule_fields(values)
        # one statement: the fields set inside the JSON record (json_set, each value parsed
        # as JSON so it keeps its type), the indexed copies beside it, the expectations in
        # the WHERE clause; RETURNING gives the new record or nothing
        paths = ", ".join(f"'$.{name}', json(?)" for name in encoded)
        sets = [f"data = json_set(data, {paths})"]
        params: list[Any] = [json.dumps(v) for v in encoded.values()]
        if "enabled" in encoded:
            sets.append("enabled = ?")
            params.append(int(bool(encoded["enabled"])))
        if "next_fire_at" in encoded:
            sets.append("next_fire_at = ?")
            params.append(encoded["next_fire_at"])
        where = "id = ?"
        params.append(schedule_id)
        if expected_next_fire_at is not ANY:
            where += " AND next_fire_at IS ?"
            params.append(format_datetime(expected_next_fire_at))
        if expected_enabled is not None:
            where += " AND enabled = ?"
            params.append(int(expected_enabled))
        sql = f"UPDATE delegated_schedules SET {', '.join(sets)} WHERE {where} RETURNING data"
        with self._transaction() as conn:
            row = conn.execute(sql, params).fetchone()
        return None if row is None else _decode(row)

    def delete_schedule(self, schedule_id: str) -> bool:
        with self._transaction() as conn:
            cur = conn.execute("DELETE FROM delegated_schedules WHERE id = ?", (schedule_id,))
            return cur.rowcount > 0
