"""Schedules in the database of :class:`~.mongo.MongoStore` (``<db>.delegated_schedules``).

A schedule is one document: the record as JSON text in ``data`` plus ``enabled`` and
``next_fire_at`` (a BSON date) as real fields for the due-schedules index. The compare-and-set
of :meth:`MongoSchedules.update_schedule` is one ``find_one_and_update`` whose filter holds the
expectations, atomic across processes and machines. The first schedule call also indexes the
``schedule_id`` and ``parent_id`` fields of operations (for ``delegated list --schedule``).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import pymongo
import pymongo.errors
from bson import ObjectId

from .records import new_id, utcnow
from .schedule_base import ANY, ScheduleStore
from .schedule_records import ScheduleDoc, normalize_schedule_changes, readable_schedules

__all__ = ["MongoSchedules"]


def _document(doc: ScheduleDoc) -> dict[str, Any]:
    return {
        "enabled": doc.enabled,
        "next_fire_at": doc.next_fire_at,
        "data": json.dumps(doc.to_dict()),
    }


def _load(raw: Mapping[str, Any]) -> ScheduleDoc:
    doc = ScheduleDoc.from_dict(json.loads(raw["data"]))
    doc.id = str(raw["_id"])
    return doc


class MongoSchedules(ScheduleStore):
    """The :class:`ScheduleStore` half of :class:`~.mongo.MongoStore` (which provides its
    ``_ops`` collection and its ``_errors`` translation)."""

    # provided by MongoStore
    _ops: Any
    _errors: Any
    _sibling: Any

    @property
    def _schedules(self) -> Any:
        return self._sibling("delegated_schedules", self._index_schedules)

    def _index_schedules(self, schedules: Any) -> None:
        schedules.create_index([("enabled", 1), ("next_fire_at", 1)])
        ops = self._ops  # the lineage of the operations a schedule (or a parent) queued
        ops.create_index("schedule_id", sparse=True)
        ops.create_index("parent_id", sparse=True)

    def insert_schedule(self, doc: ScheduleDoc) -> ScheduleDoc:
        new = doc.copy()
        new.id = new.id or new_id()
        with self._errors():
            try:
                self._schedules.insert_one({"_id": ObjectId(new.id), **_document(new)})
            except pymongo.errors.DuplicateKeyError as e:
                raise ValueError(f"A schedule with id {new.id} already exists") from e
        return new.copy()

    def get_schedule(self, schedule_id: str) -> ScheduleDoc | None:
        with self._errors():
            raw = self._schedules.find_one({"_id": ObjectId(schedule_id)})
        return None if raw is None else _load(raw)

    def list_schedules(self, *, enabled: bool | None = None) -> list[ScheduleDoc]:
        spec = {} if enabled is None else {"enabled": enabled}
        with self._errors():
            found = list(self._schedules.find(spec, sort=[("_id", 1)]))
        return readable_schedules(found, _load, str(getattr(self, "description", "MongoDB")))

    def due_schedules(self, now: _dt.datetime, limit: int = 1000) -> list[ScheduleDoc]:
        spec = {"enabled": True, "next_fire_at": {"$ne": None, "$lte": now}}
        with self._errors():
            found = list(
                self._schedules.find(spec, sort=[("next_fire_at", 1), ("_id", 1)], limit=limit)
            )
        return readable_schedules(found, _load, str(getattr(self, "description", "MongoDB")))

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
        oid = ObjectId(schedule_id)
        with self._errors():
            raw = self._schedules.find_one({"_id": oid})
        if raw is None:
            return None
        current = _load(raw)
        if expected_next_fire_at is not ANY and current.next_fire_at != expected_next_fire_at:
            return None
        if expected_enabled is not None and current.enabled != expected_enabled:
            return None
        for name, value in values.items():
            setattr(current, name, value)
        # written only if the stored document is still the one read (its JSON text is the
        # version): a concurrent change of any field makes this compare-and-set fail
        with self._errors():
            done = self._schedules.find_one_and_update(
                {"_id": oid, "data": raw["data"]},
                {"$set": _document(current)},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        return None if done is None else _load(done)

    def delete_schedule(self, schedule_id: str) -> bool:
        with self._errors():
            return bool(self._schedules.delete_one({"_id": ObjectId(schedule_id)}).deleted_count)
