"""An in-process store for tests and notebooks: dicts guarded by one lock.

``memory://`` resolves to one instance per process, shared by every service in it. Records
are kept as JSON-ready dicts and copied on the way in and out, so the memory store rejects and
isolates exactly what the persistent stores would. A dict that no longer reads as a record
(only possible by writing into ``_ops`` directly) behaves like a corrupt row of the other
stores: filters then look at its raw values, like the other stores' indexed fields.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import CorruptRecordError
from .base import DelegatedOperationStore, OperationQuery
from .kv_memory import MemoryKV
from .records import (
    DelegatedOperationDoc,
    ExecutionRunState,
    apply_changes,
    claim_changes,
    format_datetime,
    json_copy,
    load_record,
    matches_text,
    new_id,
    preconditions_hold,
    salvage_record,
    stamped_changes,
    utcnow,
)
from .schedules_memory import MemorySchedules

__all__ = ["MemoryStore"]

logger = logging.getLogger(__name__)


def _matches(doc: DelegatedOperationDoc, q: OperationQuery) -> bool:
    checks: list[tuple[Any, Any]] = [
        (q.ids, doc.id),
        (q.run_states, doc.run_state),
        (q.operators, doc.operator),
        (q.dataset_names, doc.dataset_name),
        (q.dataset_ids, doc.dataset_id),
        (q.delegation_targets, doc.delegation_target),
        (q.schedule_ids, doc.schedule_id),
        (q.parent_ids, doc.parent_id),
    ]
    for allowed, value in checks:
        if allowed is not None and value not in allowed:
            return False
    if q.pinned is not None and doc.pinned != q.pinned:
        return False
    return not (q.match and not matches_text(doc, q.match, q.match_fields))


def _matches_raw(op_id: str, data: Any, q: OperationQuery) -> bool:
    """:func:`_matches` on the raw values of a dict that does not read as a record."""
    raw = data if isinstance(data, dict) else {}
    state = raw.get("run_state")
    checks: list[tuple[Any, Any]] = [
        (q.ids, op_id),
        (None if q.run_states is None else [s.value for s in q.run_states], state),
        (q.operators, raw.get("operator")),
        (q.dataset_names, raw.get("dataset_name")),
        (q.dataset_ids, raw.get("dataset_id")),
        (q.delegation_targets, raw.get("delegation_target")),
        (q.schedule_ids, raw.get("schedule_id")),
        (q.parent_ids, raw.get("parent_id")),
    ]
    for allowed, value in checks:
        try:
            if allowed is not None and value not in allowed:
                return False
        except TypeError:  # an unhashable stored value
            return False
    if q.pinned is not None and raw.get("pinned") is not q.pinned:
        return False
    if q.match:
        needle = q.match.lower()
        texts = [raw.get(field) for field in q.match_fields]
        return any(isinstance(t, str) and needle in t.lower() for t in texts)
    return True


class MemoryStore(MemoryKV, MemorySchedules, DelegatedOperationStore):
    """Keeps everything in this process's memory; lost when the process exits."""

    accepts_encoded_results = True  # a result is written as the text it was encoded to

    def __init__(self) -> None:
        self.description = "memory://"
        self._lock = threading.RLock()
        self._ops: dict[str, dict[str, Any]] = {}  # insertion-ordered: the tie-breaker

    def _decode(self, op_id: str, data: Any) -> DelegatedOperationDoc:
        return load_record(op_id, self.description, lambda: copy.deepcopy(data))

    def _load(self, op_id: str) -> DelegatedOperationDoc | None:
        data = self._ops.get(op_id)
        return None if data is None else self._decode(op_id, data)

    def _salvage(self, op_id: str, error: CorruptRecordError) -> None:
        """Replaces a corrupt dict by a failed record (the lock is held)."""
        data = self._ops[op_id]
        raw = data if isinstance(data, dict) else None
        doc = salvage_record(op_id, raw, error.reason, json.dumps(data, default=str))
        self._save(doc)
        logger.warning("%s in %s: %s; marked failed", op_id, self.description, doc.error)

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

    def _select(
        self, query: OperationQuery
    ) -> tuple[list[DelegatedOperationDoc], list[CorruptRecordError]]:
        """The matching records, and the errors of the matching dicts that are corrupt."""
        docs: list[DelegatedOperationDoc] = []
        corrupt: list[CorruptRecordError] = []
        with self._lock:
            for op_id, data in self._ops.items():
                try:
                    doc = self._decode(op_id, data)
                except CorruptRecordError as e:
                    if _matches_raw(op_id, data, query):
                        corrupt.append(e)
                    continue
                if _matches(doc, query):
                    docs.append(doc)
        return docs, corrupt

    def find(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        docs, corrupt = self._select(query)
        if corrupt:
            raise corrupt[0]
        field = query.sort_by.value
        indexed = list(enumerate(docs))

        def key(item: tuple[int, DelegatedOperationDoc]) -> tuple[Any, ...]:
            value = getattr(item[1], field)
            return (value is not None, value if value is not None else 0, item[0])

        indexed.sort(key=key, reverse=query.reverse)
        ordered = [d for _, d in indexed][query.skip :]
        return ordered if query.limit is None else ordered[: query.limit]

    def count(self, query: OperationQuery) -> int:
        docs, corrupt = self._select(query)
        return len(docs) + len(corrupt)

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
        with self._lock:
            doc = self._load(op_id)
            if doc is None:
                return None
            if not preconditions_hold(doc, expected_states, expected_worker, expected_lease):
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
            _, corrupt = self._select(query)
            for error in corrupt:
                self._salvage(error.op_id or "", error)
            found = self.find(query)
            if not found:
                return None
            doc = found[0]
            changes = claim_changes(worker_id, lease_seconds, utcnow())
            new = apply_changes(doc, {**changes, "attempts": doc.attempts + 1})
            self._save(new)
            return new.copy()

    def find_expired_leases(
        self, now: _dt.datetime, limit: int = 100
    ) -> list[DelegatedOperationDoc]:
        with self._lock:
            running, corrupt = self._select(
                OperationQuery(run_states=(ExecutionRunState.RUNNING,))
            )
            for error in corrupt:
                raw = self._ops[error.op_id or ""]
                lease = raw.get("lease_expires_at") if isinstance(raw, dict) else None
                if isinstance(lease, str) and lease < (format_datetime(now) or ""):
                    self._salvage(error.op_id or "", error)
        expired = [d for d in running if d.lease_expires_at and d.lease_expires_at < now]
        expired.sort(key=lambda d: d.lease_expires_at)  # type: ignore[arg-type, return-value]
        return expired[:limit]

    def delete(
        self, op_id: str, *, expected_states: Sequence[ExecutionRunState] | None = None
    ) -> bool:
        with self._lock:
            if op_id not in self._ops:
                return False
            if expected_states is not None:
                query = OperationQuery(ids=(op_id,), run_states=tuple(expected_states))
                if not self.count(query):  # a corrupt record is judged by its raw state
                    return False
            del self._ops[op_id]
            return True
