"""An in-process store for tests and notebooks: dicts guarded by one lock.

``memory://`` resolves to one instance per process, shared by every service in it. Records
are kept as JSON-ready dicts and copied on the way in and out, so the memory store rejects and
isolates exactly what the persistent stores would.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from .base import DelegatedOperationStore, KVScope, OperationQuery
from .records import (
    DelegatedOperationDoc,
    ExecutionRunState,
    apply_changes,
    json_copy,
    matches_text,
    new_id,
    normalize_changes,
    utcnow,
)


def _matches(doc: DelegatedOperationDoc, q: OperationQuery) -> bool:
    checks: list[tuple[Any, Any]] = [
        (q.ids, doc.id),
        (q.run_states, doc.run_state),
        (q.operators, doc.operator),
        (q.dataset_names, doc.dataset_name),
        (q.dataset_ids, doc.dataset_id),
        (q.delegation_targets, doc.delegation_target),
    ]
    for allowed, value in checks:
        if allowed is not None and value not in allowed:
            return False
    if q.pinned is not None and doc.pinned != q.pinned:
        return False
    return not (q.match and not matches_text(doc, q.match))


class MemoryStore(DelegatedOperationStore):
    """Keeps everything in this process's memory; lost when the process exits."""

    def __init__(self) -> None:
        self.description = "memory://"
        self._lock = threading.RLock()
        self._ops: dict[str, dict[str, Any]] = {}  # insertion-ordered: the tie-breaker
        self._kv: dict[tuple[str, str, str, str], tuple[str, _dt.datetime | None]] = {}

    def _load(self, op_id: str) -> DelegatedOperationDoc | None:
        data = self._ops.get(op_id)
        return None if data is None else DelegatedOperationDoc.from_dict(copy.deepcopy(data))

    def _save(self, doc: DelegatedOperationDoc) -> None:
        assert doc.id is not None
        self._ops[doc.id] = json_copy(doc.to_dict(), "operation record")

    # -- operations ------------------------------------------------------------------------------

    def insert(self, doc: DelegatedOperationDoc) -> DelegatedOperationDoc:
        new = doc.copy()
        new.id = new.id or new_id()
        with self._lock:
            if new.id in self._ops:
                raise ValueError(f"An operation with id {new.id} already exists")
            self._save(new)
        return new.copy()

    def get(self, op_id: str) -> DelegatedOperationDoc | None:
        with self._lock:
            return self._load(op_id)

    def _select(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        with self._lock:
            docs = [DelegatedOperationDoc.from_dict(copy.deepcopy(d)) for d in self._ops.values()]
        return [d for d in docs if _matches(d, query)]

    def find(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        docs = self._select(query)
        field = query.sort_by.value
        indexed = list(enumerate(docs))

        def key(item: tuple[int, DelegatedOperationDoc]) -> tuple[Any, ...]:
            value = getattr(item[1], field)
            return (value is not None, value if value is not None else 0, item[0])

        indexed.sort(key=key, reverse=query.reverse)
        ordered = [d for _, d in indexed][query.skip :]
        return ordered if query.limit is None else ordered[: query.limit]

    def count(self, query: OperationQuery) -> int:
        return len(self._select(query))

    def update(
        self,
        op_id: str,
        changes: Mapping[str, Any],
        *,
        expected_states: Sequence[ExecutionRunState] | None = None,
        expected_worker: str | None = None,
        expected_lease: _dt.datetime | None = None,
    ) -> DelegatedOperationDoc | None:
        values = normalize_changes(changes)
        values.setdefault("updated_at", utcnow())
        with self._lock:
            doc = self._load(op_id)
            if doc is None:
                return None
            if expected_states is not None and doc.run_state not in expected_states:
                return None
            if expected_worker is not None and doc.worker_id != expected_worker:
                return None
            if expected_lease is not None and doc.lease_expires_at != expected_lease:
                return None
            new = apply_changes(doc, values)
            self._save(new)
            return new.copy()

    def claim_next(
        self,
        worker_id: str,
        lease_seconds: float,
        *,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
    ) -> DelegatedOperationDoc | None:
        query = OperationQuery(
            run_states=(ExecutionRunState.QUEUED,),
            delegation_targets=None if delegation_target is None else (delegation_target,),
            operators=None if operators is None else tuple(operators),
            limit=1,
        )
        with self._lock:
            found = self.find(query)
            if not found:
                return None
            doc = found[0]
            now = utcnow()
            new = apply_changes(
                doc,
                {
                    "run_state": ExecutionRunState.RUNNING,
                    "worker_id": worker_id,
                    "started_at": now,
                    "updated_at": now,
                    "lease_expires_at": now + _dt.timedelta(seconds=lease_seconds),
                    "attempts": doc.attempts + 1,
                },
            )
            self._save(new)
            return new.copy()

    def renew_lease(self, op_id: str, worker_id: str, lease_seconds: float) -> bool:
        lease = utcnow() + _dt.timedelta(seconds=lease_seconds)
        done = self.update(
            op_id,
            {"lease_expires_at": lease},
            expected_states=(ExecutionRunState.RUNNING,),
            expected_worker=worker_id,
        )
        return done is not None

    def find_expired_leases(
        self, now: _dt.datetime, limit: int = 100
    ) -> list[DelegatedOperationDoc]:
        running = self._select(OperationQuery(run_states=(ExecutionRunState.RUNNING,)))
        expired = [d for d in running if d.lease_expires_at and d.lease_expires_at < now]
        expired.sort(key=lambda d: d.lease_expires_at)  # type: ignore[arg-type, return-value]
        return expired[:limit]

    def delete(
        self, op_id: str, *, expected_states: Sequence[ExecutionRunState] | None = None
    ) -> bool:
        with self._lock:
            doc = self._load(op_id)
            if doc is None:
                return False
            if expected_states is not None and doc.run_state not in expected_states:
                return False
            del self._ops[op_id]
            return True

    # -- execution store -------------------------------------------------------------------------

    @staticmethod
    def _key(scope: KVScope, key: str) -> tuple[str, str, str, str]:
        return (scope.plugin_name, scope.store_name, scope.dataset_id or "", key)

    def kv_get(self, scope: KVScope, key: str, now: _dt.datetime) -> tuple[bool, Any]:
        with self._lock:
            entry = self._kv.get(self._key(scope, key))
            if entry is None:
                return False, None
            text, expires = entry
            if expires is not None and expires <= now:
                del self._kv[self._key(scope, key)]
                return False, None
            return True, json.loads(text)

    def kv_set(
        self, scope: KVScope, key: str, value: Any, expires_at: _dt.datetime | None
    ) -> None:
        text = json.dumps(value)
        with self._lock:
            self._kv[self._key(scope, key)] = (text, expires_at)

    def kv_delete(self, scope: KVScope, key: str) -> bool:
        now = utcnow()
        with self._lock:
            entry = self._kv.pop(self._key(scope, key), None)
        return entry is not None and (entry[1] is None or entry[1] > now)

    def kv_keys(self, scope: KVScope, now: _dt.datetime) -> list[str]:
        prefix = self._key(scope, "")[:3]
        with self._lock:
            return sorted(
                k[3]
                for k, (_, expires) in self._kv.items()
                if k[:3] == prefix and (expires is None or expires > now)
            )

    def kv_clear(self, scope: KVScope) -> int:
        prefix = self._key(scope, "")[:3]
        with self._lock:
            doomed = [k for k in self._kv if k[:3] == prefix]
            for k in doomed:
                del self._kv[k]
        return len(doomed)
