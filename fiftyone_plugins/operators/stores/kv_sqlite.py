"""The execution store in the SQLite file of :class:`~.sqlite.SQLiteStore`, and its schema.

An entry is one row of ``execution_store`` (the value as JSON text); the registry of stores is
``execution_store_registry``, one row per plugin, store name and dataset (``''`` for none).
Every read-check-write (set-if-absent, compare-and-set) is one ``BEGIN IMMEDIATE``
transaction of the store's :class:`~.sqlite_file.SQLiteFile`, so it is atomic across
processes.

Schema version 3 adds ``created_at`` and ``policy`` to the entries and the registry table.
:func:`migrate_to_v3` adds the two columns to an older file in place (checking first which
exist, inside the transaction, so processes opening an old file at once are safe); old rows
get NULL, read as "created when last updated" and "``evict`` if it expires, else
``persist``" (:func:`~.kv_records.read_policy`).
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from .kv_records import (
    KEEP,
    KeyPolicy,
    KVEntry,
    KVScope,
    KVStoreQuery,
    KVStoreRecord,
    effective_policy,
    read_policy,
    restamped,
)
from .records import format_datetime, to_datetime, utcnow
from .sqlite_file import run_migration

__all__ = ["KV_COLUMNS", "KV_SCHEMA", "SQLiteKV", "migrate_to_v3"]

#: the entry columns version 3 adds
KV_COLUMNS = ("created_at", "policy")

KV_SCHEMA = """
CREATE TABLE IF NOT EXISTS execution_store (
    plugin_name TEXT NOT NULL,
    store_name TEXT NOT NULL,
    dataset_id TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at TEXT,
    updated_at TEXT,
    created_at TEXT,
    policy TEXT,
    PRIMARY KEY (plugin_name, store_name, dataset_id, key)
);
CREATE TABLE IF NOT EXISTS execution_store_registry (
    plugin_name TEXT NOT NULL,
    store_name TEXT NOT NULL,
    dataset_id TEXT NOT NULL DEFAULT '',
    metadata TEXT,
    policy TEXT NOT NULL DEFAULT 'persist',
    created_at TEXT,
    updated_at TEXT,
    PRIMARY KEY (plugin_name, store_name, dataset_id)
);
"""


def migrate_to_v3(conn: sqlite3.Connection) -> None:
    """Adds the :data:`KV_COLUMNS` to an older file's entries (the registry table is created
    by the idempotent schema that runs next)."""
    run_migration(conn, 3, _add_kv_columns)


def _add_kv_columns(conn: sqlite3.Connection) -> None:
    present = {row[1] for row in conn.execute("PRAGMA table_info(execution_store)")}
    if present:  # a file without the table gets it whole from the schema
        for column in KV_COLUMNS:
            if column not in present:
                conn.execute(f"ALTER TABLE execution_store ADD COLUMN {column} TEXT")


_SCOPE = "plugin_name = ? AND store_name = ? AND dataset_id = ?"
_ALIVE = "(expires_at IS NULL OR expires_at > ?)"
_EVICTABLE = "(expires_at IS NOT NULL OR policy = 'evict')"


def _scope(scope: KVScope) -> tuple[str, str, str]:
    return (scope.plugin_name, scope.store_name, scope.dataset_id or "")


def _where(query: KVStoreQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = ["1"]
    params: list[Any] = []
    datasets = None if query.dataset_ids is None else [d or "" for d in query.dataset_ids]
    for column, values in (
        ("plugin_name", query.plugin_names),
        ("store_name", query.store_names),
        ("dataset_id", datasets),
    ):
        if values is not None:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})" if values else "0")
            params.extend(values)
    return " AND ".join(clauses), params


def _scope_of(row: Sequence[Any]) -> KVScope:
    return KVScope(row[1], row[0], row[2] or None)


class SQLiteKV:
    """The execution-store half of :class:`~.sqlite.SQLiteStore` (which provides the ``_tx``
    and ``_read`` of its file)."""

    # provided by SQLiteFile
    _tx: Any
    _read: Any

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._tx()  # type: ignore[no-any-return]

    def kv_get(self, scope: KVScope, key: str, now: _dt.datetime) -> tuple[bool, Any]:
        rows = self._read(
            f"SELECT value FROM execution_store WHERE {_SCOPE} AND key = ? AND {_ALIVE}",
            (*_scope(scope), key, format_datetime(now)),
        )
        return (True, json.loads(rows[0][0])) if rows else (False, None)

    def kv_entry(self, scope: KVScope, key: str, now: _dt.datetime) -> KVEntry | None:
        rows = self._read(
            "SELECT value, created_at, updated_at, expires_at, policy FROM execution_store "
            f"WHERE {_SCOPE} AND key = ? AND {_ALIVE}",
            (*_scope(scope), key, format_datetime(now)),
        )
        if not rows:
            return None
        value, created, updated, expires, policy = rows[0]
        return KVEntry(
            key=key,
            value=json.loads(value),
            created_at=to_datetime(created or updated),
            updated_at=to_datetime(updated),
            expires_at=to_datetime(expires),
            policy=read_policy(policy, expires),
        )

    @staticmethod
    def _purge(conn: sqlite3.Connection, scope: KVScope, now: str | None) -> None:
        """Drops the expired entries of a scope (they would otherwise stay forever)."""
        conn.execute(
            f"DELETE FROM execution_store WHERE {_SCOPE} AND expires_at IS NOT NULL "
            "AND expires_at <= ?",
            (*_scope(scope), now),
        )

    def kv_set(
        self,
        scope: KVScope,
        key: str,
        value: Any,
        expires_at: _dt.datetime | None,
        *,
        policy: KeyPolicy | str = KeyPolicy.PERSIST,
    ) -> None:
        text = json.dumps(value)
        now = format_datetime(utcnow())
        stored = effective_policy(policy, expires_at).value
        with self._transaction() as conn:
            self._purge(conn, scope, now)
            conn.execute(
                "INSERT INTO execution_store (plugin_name, store_name, dataset_id, key, value, "
                "expires_at, updated_at, created_at, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (plugin_name, store_name, dataset_id, key) DO UPDATE SET "
                "value = excluded.value, expires_at = excluded.expires_at, "
                "policy = excluded.policy, updated_at = excluded.updated_at, "
                "created_at = coalesce(execution_store.created_at, execution_store.updated_at)",
                (*_scope(scope), key, text, format_datetime(expires_at), now, now, stored),
            )

    def kv_set_if_absent(
        self,
        scope: KVScope,
        key: str,
        value: Any,
        expires_at: _dt.datetime | None,
        now: _dt.datetime,
        *,
        policy: KeyPolicy | str = KeyPolicy.PERSIST,
    ) -> bool:
        text = json.dumps(value)
        at = format_datetime(now)
        stored = effective_policy(policy, expires_at).value
        with self._transaction() as conn:
            self._purge(conn, scope, at)
            cur = conn.execute(
                "INSERT OR IGNORE INTO execution_store (plugin_name, store_name, dataset_id, "
                "key, value, expires_at, updated_at, created_at, policy) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_scope(scope), key, text, format_datetime(expires_at), at, at, stored),
            )
            return cur.rowcount > 0

    def _restamp(
        self,
        conn: sqlite3.Connection,
        scope: KVScope,
        key: str,
        changes: dict[str, Any],
    ) -> None:
        columns: dict[str, Any] = {
            name: value.value if isinstance(value, KeyPolicy) else value
            for name, value in changes.items()
        }
        if "expires_at" in columns:
            columns["expires_at"] = format_datetime(columns["expires_at"])
        if columns:
            sets = ", ".join(f"{name} = ?" for name in columns)
            conn.execute(
                f"UPDATE execution_store SET {sets} WHERE {_SCOPE} AND key = ?",
                (*columns.values(), *_scope(scope), key),
            )

    def kv_compare_and_set(
        self,
        scope: KVScope,
        key: str,
        expected: Any,
        value: Any,
        now: _dt.datetime,
        *,
        expires_at: _dt.datetime | None = KEEP,
        policy: KeyPolicy | str | None = None,
    ) -> bool:
        text = json.dumps(value)
        at = format_datetime(now)
        changes = {"value": text, "updated_at": at, **restamped(expires_at, policy)}
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT value FROM execution_store WHERE {_SCOPE} AND key = ? AND {_ALIVE}",
                (*_scope(scope), key, at),
            ).fetchone()
            if row is None or json.loads(row[0]) != expected:
                return False
            self._restamp(conn, scope, key, changes)
            return True

    def kv_update(
        self,
        scope: KVScope,
        key: str,
        now: _dt.datetime,
        *,
        expires_at: _dt.datetime | None = KEEP,
        policy: KeyPolicy | str | None = None,
    ) -> bool:
        at = format_datetime(now)
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT 1 FROM execution_store WHERE {_SCOPE} AND key = ? AND {_ALIVE}",
                (*_scope(scope), key, at),
            ).fetchone()
            if row is None:
                return False
            self._restamp(conn, scope, key, restamped(expires_at, policy))
            return True

    def kv_delete(self, scope: KVScope, key: str) -> bool:
        now = format_datetime(utcnow()) or ""
        with self._transaction() as conn:
            cur = conn.execute(
                f"DELETE FROM execution_store WHERE {_SCOPE} AND key = ? RETURNING expires_at",
                (*_scope(scope), key),
            )
            rows = cur.fetchall()
        return any(r[0] is None or r[0] > now for r in rows)

    def kv_keys(self, scope: KVScope, now: _dt.datetime) -> list[str]:
        rows = self._read(
            f"SELECT key FROM execution_store WHERE {_SCOPE} AND {_ALIVE} ORDER BY key",
            (*_scope(scope), format_datetime(now)),
        )
        return [r[0] for r in rows]

    def kv_clear(self, scope: KVScope) -> int:
        with self._transaction() as conn:
            cur = conn.execute(f"DELETE FROM execution_store WHERE {_SCOPE}", _scope(scope))
            return int(cur.rowcount)

    def kv_evict(self, query: KVStoreQuery, now: _dt.datetime) -> int:
        where, params = _where(query)
        with self._transaction() as conn:
            entries = conn.execute(
                f"DELETE FROM execution_store WHERE {where} AND {_EVICTABLE}", params
            ).rowcount
            records = conn.execute(
                f"DELETE FROM execution_store_registry WHERE {where} AND policy = 'evict'",
                params,
            ).rowcount
        return int(entries) + int(records)

    def kv_register_store(
        self,
        scope: KVScope,
        metadata: dict[str, Any] | None,
        policy: KeyPolicy | str,
        now: _dt.datetime,
    ) -> KVStoreRecord:
        text = json.dumps(metadata)
        parsed = KeyPolicy.parse(policy)
        at = format_datetime(now)
        with self._transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO execution_store_registry (plugin_name, store_name, dataset_id, "
                    "metadata, policy, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*_scope(scope), text, parsed.value, at, at),
                )
            except sqlite3.IntegrityError as e:
                raise ValueError(f"The execution store {scope.store_name!r} already exists") from e
        return KVStoreRecord(scope, json.loads(text), parsed, to_datetime(at), to_datetime(at))

    def kv_stores(self, query: KVStoreQuery, now: _dt.datetime) -> list[KVStoreRecord]:
        where, params = _where(query)
        found: dict[tuple[str, str, str], KVStoreRecord] = {}
        for row in self._read(
            "SELECT DISTINCT plugin_name, store_name, dataset_id FROM execution_store "
            f"WHERE {where} AND {_ALIVE}",
            (*params, format_datetime(now)),
        ):
            found[tuple(row)] = KVStoreRecord(_scope_of(row), registered=False)  # type: ignore[index]
        for row in self._read(
            "SELECT plugin_name, store_name, dataset_id, metadata, policy, created_at, "
            f"updated_at FROM execution_store_registry WHERE {where}",
            params,
        ):
            found[tuple(row[:3])] = KVStoreRecord(  # type: ignore[index]
                _scope_of(row),
                json.loads(row[3]) if row[3] else None,
                read_policy(row[4], None),
                to_datetime(row[5]),
                to_datetime(row[6]),
            )
        return [found[k] for k in sorted(found)]

    def kv_drop_stores(self, query: KVStoreQuery) -> int:
        where, params = _where(query)
        with self._transaction() as conn:
            entries = conn.execute(f"DELETE FROM execution_store WHERE {where}", params).rowcount
            records = conn.execute(
                f"DELETE FROM execution_store_registry WHERE {where}", params
            ).rowcount
        return int(entries) + int(records)
