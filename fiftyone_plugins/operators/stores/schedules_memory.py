"""Schedules of the in-process store (``memory://``): dicts under the store's lock.

Schedules are kept as JSON-ready dicts and copied on the way in and out, so the memory store
refuses and isolates exactly what the persistent ones would.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Mapping
from typing import Any

from .records import json_copy, new_id, utcnow
from .schedule_base import ANY, ScheduleStore
from .schedule_records import ScheduleDoc, normalize_schedule_changes, readable_schedules

__all__ = ["MemorySchedules"]


class MemorySchedules(ScheduleStore):
    """The :class:`ScheduleStore` half of :class:`~.memory.MemoryStore` (whose lock, which
    also guards its operations, it shares)."""

    #: provided by MemoryStore
    _lock: threading.RLock

    def _schedule_dicts(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] | None = self.__dict__.get("_schedules")
        if found is None:
            found = self.__dict__.setdefault("_schedules", {})
        return found

    def insert_schedule(self, doc: ScheduleDoc) -> ScheduleDoc:
        new = doc.copy()
        new.id = new.id or new_id()
        with self._lock:
            schedules = self._schedule_dicts()
            if new.id in schedules:
                raise ValueError(f"A schedule with id {new.id} already exists")
            schedules[new.id] = json_copy(new.to_dict(), "schedule")
        return new.copy()

    def get_schedule(self, schedule_id: str) -> ScheduleDoc | None:
        with self._lock:
            data = self._schedule_dicts().get(schedule_id)
            return None if data is None else ScheduleDoc.from_dict(json_copy(data))

    def list_schedules(self, *, enabled: bool | None = None) -> list[ScheduleDoc]:
        with self._lock:
            rows = [json_copy(d) for d in self._schedule_dicts().values()]
        docs = readable_schedules(rows, ScheduleDoc.from_dict, "memory://")
        return [d for d in docs if enabled is None or d.enabled == enabled]

    def due_schedules(self, now: _dt.datetime, limit: int = 1000) -> list[ScheduleDoc]:
        with self._lock:
            rows = [json_copy(d) for d in self._schedule_dicts().values()]
        decoded = readable_schedules(rows, ScheduleDoc.from_dict, "memory://")
        due = [
            d
            for d in decoded
            if d.enabled and d.next_fire_at is not None and d.next_fire_at <= now
        ]
        due.sort(key=lambda d: d.next_fire_at or now)
        return due[:limit]

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
        with self._lock:
            data = self._schedule_dicts().get(schedule_id)
            if data is None:
                return None
            doc = ScheduleDoc.from_dict(json_copy(data))
            if expected_next_fire_at is not ANY and doc.next_fire_at != expected_next_fire_at:
                return None
            if expected_enabled is not None and doc.enabled != expected_enabled:
                return None
            for name, value in values.items():
                setattr(doc, name, value)
            self._schedule_dicts()[schedule_id] = json_copy(doc.to_dict(), "schedule")
            return doc.copy()

    def delete_schedule(self, schedule_id: str) -> bool:
        with self._lock:
            return self._schedule_dicts().pop(schedule_id, None) is not None
