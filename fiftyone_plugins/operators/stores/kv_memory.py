"""The execution store of the in-process store (``memory://``): dicts under the store's lock.

Values are kept as JSON text, so the memory store refuses and isolates exactly what the
persistent ones would; every compare-and-set holds the lock for its whole check and write.
An expired entry is dropped when it is next read.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from typing import Any

from .kv_records import (
    KEEP,
    KeyPolicy,
    KVEntry,
    KVScope,
    KVStoreQuery,
    KVStoreRecord,
    effective_policy,
    is_alive,
    is_evictable,
    restamped,
)
from .records import utcnow

__all__ = ["MemoryKV"]

_Scope = tuple[str, str, str]


def _scope_key(scope: KVScope) -> _Scope:
    return (scope.plugin_name, scope.store_name, scope.dataset_id or "")


def _scope_of(key: _Scope) -> KVScope:
    return KVScope(key[1], key[0], key[2] or None)


class MemoryKV:
    """The execution-store half of :class:`~.memory.MemoryStore` (whose lock it shares)."""

    #: provided by MemoryStore
    _lock: threading.RLock

    def _tables(self) -> tuple[dict[_Scope, dict[str, dict[str, Any]]], dict[_Scope, Any]]:
        """The entries (scope -> key -> entry) and the registry (scope -> record)."""
        entries = self.__dict__.setdefault("_kv", {})
        registry = self.__dict__.setdefault("_kv_stores", {})
        return entries, registry

    def _alive(self, scope: KVScope, key: str, now: _dt.datetime) -> dict[str, Any] | None:
        """The unexpired entry (the lock is held); an expired one is dropped."""
        entries = self._tables()[0]
        keys = entries.get(_scope_key(scope), {})
        entry = keys.get(key)
        if entry is not None and not is_alive(entry["expires_at"], now):
            del keys[key]
            return None
        return entry

    def kv_get(self, scope: KVScope, key: str, now: _dt.datetime) -> tuple[bool, Any]:
        with self._lock:
            entry = self._alive(scope, key, now)
            return (False, None) if entry is None else (True, json.loads(entry["value"]))

    def kv_entry(self, scope: KVScope, key: str, now: _dt.datetime) -> KVEntry | None:
        with self._lock:
            entry = self._alive(scope, key, now)
            if entry is None:
                return None
            return KVEntry(
                key=key,
                value=json.loads(entry["value"]),
                created_at=entry["created_at"],
                updated_at=entry["updated_at"],
                expires_at=entry["expires_at"],
                policy=entry["policy"],
            )

    def _write(
        self,
        scope: KVScope,
        key: str,
        text: str,
        expires_at: _dt.datetime | None,
        policy: KeyPolicy | str,
        now: _dt.datetime,
    ) -> None:
        keys = self._tables()[0].setdefault(_scope_key(scope), {})
        old = self._alive(scope, key, now)
        keys[key] = {
            "value": text,
            "created_at": now if old is None else old["created_at"],
            "updated_at": now,
            "expires_at": expires_at,
            "policy": effective_policy(policy, expires_at),
        }

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
        with self._lock:
            self._write(scope, key, text, expires_at, policy, utcnow())

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
        with self._lock:
            if self._alive(scope, key, now) is not None:
                return False
            self._write(scope, key, text, expires_at, policy, now)
            return True

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
        with self._lock:
            entry = self._alive(scope, key, now)
            if entry is None or json.loads(entry["value"]) != expected:
                return False
            entry["value"], entry["updated_at"] = text, now
            entry.update(restamped(expires_at, policy))
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
        with self._lock:
            entry = self._alive(scope, key, now)
            if entry is None:
                return False
            entry.update(restamped(expires_at, policy))
            return True

    def kv_delete(self, scope: KVScope, key: str) -> bool:
        now = utcnow()
        with self._lock:
            entry = self._tables()[0].get(_scope_key(scope), {}).pop(key, None)
        return entry is not None and is_alive(entry["expires_at"], now)

    def kv_keys(self, scope: KVScope, now: _dt.datetime) -> list[str]:
        with self._lock:
            keys = self._tables()[0].get(_scope_key(scope), {})
            return sorted(k for k, e in keys.items() if is_alive(e["expires_at"], now))

    def kv_clear(self, scope: KVScope) -> int:
        with self._lock:
            return len(self._tables()[0].pop(_scope_key(scope), {}))

    def kv_evict(self, query: KVStoreQuery, now: _dt.datetime) -> int:
        removed = 0
        with self._lock:
            entries, registry = self._tables()
            for scope_key, keys in entries.items():
                if query.matches(_scope_of(scope_key)):
                    doomed = [
                        k for k, e in keys.items() if is_evictable(e["policy"], e["expires_at"])
                    ]
                    for k in doomed:
                        del keys[k]
                    removed += len(doomed)
            for scope_key in [k for k in registry if query.matches(_scope_of(k))]:
                if registry[scope_key]["policy"] is KeyPolicy.EVICT:
                    del registry[scope_key]
                    removed += 1
        return removed

    def kv_register_store(
        self,
        scope: KVScope,
        metadata: dict[str, Any] | None,
        policy: KeyPolicy | str,
        now: _dt.datetime,
    ) -> KVStoreRecord:
        text = json.dumps(metadata)
        parsed = KeyPolicy.parse(policy)
        with self._lock:
            registry = self._tables()[1]
            if _scope_key(scope) in registry:
                raise ValueError(f"The execution store {scope.store_name!r} already exists")
            registry[_scope_key(scope)] = {"metadata": text, "policy": parsed, "created_at": now}
        return KVStoreRecord(scope, json.loads(text), parsed, now, now)

    def kv_stores(self, query: KVStoreQuery, now: _dt.datetime) -> list[KVStoreRecord]:
        found: dict[_Scope, KVStoreRecord] = {}
        with self._lock:
            entries, registry = self._tables()
            for scope_key, keys in entries.items():
                scope = _scope_of(scope_key)
                alive = any(is_alive(e["expires_at"], now) for e in keys.values())
                if alive and query.matches(scope):
                    found[scope_key] = KVStoreRecord(scope, registered=False)
            for scope_key, raw in registry.items():
                scope = _scope_of(scope_key)
                if query.matches(scope):
                    found[scope_key] = KVStoreRecord(
                        scope,
                        json.loads(raw["metadata"]),
                        raw["policy"],
                        raw["created_at"],
                        raw["created_at"],
                    )
        return [found[k] for k in sorted(found)]

    def kv_drop_stores(self, query: KVStoreQuery) -> int:
        removed = 0
        with self._lock:
            entries, registry = self._tables()
            for scope_key in [k for k in entries if query.matches(_scope_of(k))]:
                removed += len(entries.pop(scope_key))
            for scope_key in [k for k in registry if query.matches(_scope_of(k))]:
                del registry[scope_key]
                removed += 1
        return removed
