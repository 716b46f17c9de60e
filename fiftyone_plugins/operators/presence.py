"""Which workers are out there: each worker announces itself in the store it claims from.

A worker writes one entry (its id, backend, delegation target, the operators it can run, how
many operations it has in flight, when it was last seen) when it starts and on every lease
heartbeat, and removes it when it stops. Entries live in the store's key-value space (the one
behind the execution store), so every store backend (memory, SQLite, MongoDB) keeps them
with no schema of its own, and an entry a dead worker left expires by itself after
:data:`FORGET_AFTER_SECONDS`. ``delegated workers`` lists them, and
:func:`unrunnable` names the queued operations no live worker would claim: "queued but no
worker can run it" becomes visible instead of silent.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

from .service import OperationService
from .stores.base import KVScope
from .stores.records import DelegatedOperationDoc, ExecutionRunState, utcnow

__all__ = [
    "FORGET_AFTER_SECONDS",
    "WORKERS_SCOPE",
    "WorkerInfo",
    "announce",
    "list_workers",
    "unrunnable",
    "withdraw",
]

#: where the entries live in the store's key-value space
WORKERS_SCOPE = KVScope(store_name="workers", plugin_name="@fiftyone_plugins/delegated")

#: an entry not refreshed for this long is dropped by the store
FORGET_AFTER_SECONDS = 24 * 3600.0


@dataclasses.dataclass
class WorkerInfo:
    """One worker as it last announced itself."""

    id: str
    backend: str = "local"
    delegation_target: str | None = None
    #: operator URIs it may run; None: any (a custom runner, or an engine's own registry)
    operators: list[str] | None = None
    in_flight: int = 0
    max_in_flight: int = 1
    lease_seconds: float = 60.0
    started_at: _dt.datetime | None = None
    last_seen: _dt.datetime | None = None

    def alive(self, now: _dt.datetime | None = None) -> bool:
        """Seen within two leases (a live worker heartbeats three times per lease)."""
        if self.last_seen is None:
            return False
        age = ((now or utcnow()) - self.last_seen).total_seconds()
        return age <= 2 * self.lease_seconds + 1

    def can_run(self, doc: DelegatedOperationDoc) -> bool:
        """Whether this worker would claim ``doc`` (the same filters as its claims)."""
        if self.delegation_target is not None and doc.delegation_target != self.delegation_target:
            return False
        return self.operators is None or doc.operator in self.operators

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("started_at", "last_seen"):
            value = getattr(self, key)
            data[key] = None if value is None else value.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkerInfo:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}  # newer fields are ignored
        for key in ("started_at", "last_seen"):
            if isinstance(values.get(key), str):
                values[key] = _dt.datetime.fromisoformat(values[key])
        return cls(**values)


def announce(service: OperationService, info: WorkerInfo) -> None:
    """Writes (or refreshes) a worker's entry, stamped now."""
    info.last_seen = utcnow()
    expires = info.last_seen + _dt.timedelta(seconds=FORGET_AFTER_SECONDS)
    service.store.kv_set(WORKERS_SCOPE, info.id, info.to_json(), expires)


def withdraw(service: OperationService, worker_id: str) -> None:
    """Removes a stopping worker's entry."""
    service.store.kv_delete(WORKERS_SCOPE, worker_id)


def list_workers(service: OperationService) -> list[WorkerInfo]:
    """Every worker entry the store holds, most recently seen first."""
    store, now = service.store, utcnow()
    found = []
    for key in store.kv_keys(WORKERS_SCOPE, now):
        present, data = store.kv_get(WORKERS_SCOPE, key, now)
        if present and isinstance(data, dict):
            try:
                found.append(WorkerInfo.from_json(data))
            except (TypeError, ValueError):
                continue  # an entry this version cannot read is no worker it can describe
    epoch = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    return sorted(found, key=lambda w: w.last_seen or epoch, reverse=True)


def unrunnable(
    service: OperationService, workers: Sequence[WorkerInfo] | None = None
) -> list[DelegatedOperationDoc]:
    """Queued operations that no live worker would claim, oldest first."""
    now = utcnow()
    live: Iterable[WorkerInfo] = [
        w for w in (list_workers(service) if workers is None else workers) if w.alive(now)
    ]
    live = list(live)
    queued = service.list_operations(run_state=ExecutionRunState.QUEUED)
    return [doc for doc in queued if not any(w.can_run(doc) for w in live)]
