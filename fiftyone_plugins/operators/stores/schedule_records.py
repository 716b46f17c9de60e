"""The recurring-schedule record: plain data every schedule store keeps.

A schedule says what to queue (operator URI, context, label, delegation target), when (a cron
expression in an IANA time zone, or a fixed interval; optional start and end), and what to do
about fire times that were missed (:class:`CatchUp`, the misfire grace) or that come while the
previous run is unfinished (:class:`Overlap`). ``next_fire_at`` is the one moving part: firers
advance it with a compare-and-set, so it is also the schedule's version.

Like operation records, :meth:`ScheduleDoc.from_dict` ignores unknown keys and fills missing
ones with defaults, so schedules written by another version of the library still load. Times
are stored in UTC; the zone is only used to compute cron fire times and to show them.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .records import format_datetime, json_copy, to_datetime

__all__ = [
    "DEFAULT_MISFIRE_GRACE_SECONDS",
    "SCHEDULE_DATETIME_FIELDS",
    "SCHEDULE_UPDATABLE_FIELDS",
    "CatchUp",
    "Overlap",
    "ScheduleDoc",
    "encode_schedule_fields",
    "readable_schedules",
    "normalize_schedule_changes",
]

logger = logging.getLogger(__name__)

#: how late a fire may still run as on time when the policy is ``none`` (seconds)
DEFAULT_MISFIRE_GRACE_SECONDS = 60.0


class CatchUp(str, enum.Enum):
    """What a firer does with fire times missed by more than the misfire grace (a scheduler
    that was down, a machine asleep)."""

    #: run once, for the latest missed time; the older ones are dropped
    LATEST = "latest"
    #: run none of them; the next run is the next fire time still ahead
    NONE = "none"

    @classmethod
    def parse(cls, value: Any) -> CatchUp:
        try:
            return value if isinstance(value, cls) else cls(str(value).lower())
        except ValueError:
            raise ValueError(
                f"Invalid catch-up policy {value!r}: expected one of "
                f"{', '.join(c.value for c in cls)}"
            ) from None


class Overlap(str, enum.Enum):
    """What a fire does while the schedule's previous operation is still queued or running."""

    #: skip this fire time (the default: a slow run never piles up a queue behind it)
    SKIP = "skip"
    #: queue another operation anyway
    ALLOW = "allow"

    @classmethod
    def parse(cls, value: Any) -> Overlap:
        try:
            return value if isinstance(value, cls) else cls(str(value).lower())
        except ValueError:
            raise ValueError(
                f"Invalid overlap policy {value!r}: expected one of "
                f"{', '.join(c.value for c in cls)}"
            ) from None


SCHEDULE_DATETIME_FIELDS = (
    "start_at",
    "end_at",
    "next_fire_at",
    "last_fire_at",
    "created_at",
    "updated_at",
)


@dataclasses.dataclass
class ScheduleDoc:
    """One recurring schedule as stored.

    Exactly one of ``cron`` and ``every_seconds`` is set. ``context`` is the request each
    operation is queued with (params, dataset, view), never holding secrets. ``next_fire_at``
    is None once the schedule has ended (past ``end_at``).
    """

    operator: str
    id: str | None = None
    label: str | None = None
    delegation_target: str | None = None
    dataset_name: str | None = None
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    cron: str | None = None
    every_seconds: float | None = None
    timezone: str = "UTC"
    start_at: _dt.datetime | None = None
    end_at: _dt.datetime | None = None
    enabled: bool = True
    catchup: CatchUp = CatchUp.LATEST
    misfire_grace_seconds: float = DEFAULT_MISFIRE_GRACE_SECONDS
    overlap: Overlap = Overlap.SKIP
    next_fire_at: _dt.datetime | None = None
    last_fire_at: _dt.datetime | None = None
    last_operation_id: str | None = None
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def trigger_text(self) -> str:
        """``cron 30 1 * * *`` or ``every 300s``: how the schedule fires, in one phrase."""
        if self.cron is not None:
            return f"cron {self.cron}"
        return f"every {self.every_seconds:g}s"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO strings, policies as their values."""
        return encode_schedule_fields(
            {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleDoc:
        """Rebuilds a schedule; unknown keys are ignored and missing ones get defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if values.get("id") is None and data.get("_id") is not None:
            values["id"] = str(data["_id"])
        values.setdefault("operator", "")
        values.update(normalize_schedule_changes(values))
        values["context"] = dict(values.get("context") or {})
        values["metadata"] = dict(values.get("metadata") or {})
        if values.get("timezone") is None:
            values["timezone"] = "UTC"
        if values.get("misfire_grace_seconds") is None:
            values["misfire_grace_seconds"] = DEFAULT_MISFIRE_GRACE_SECONDS
        if values.get("id") is not None:
            values["id"] = str(values["id"])
        return cls(**values)

    def copy(self) -> ScheduleDoc:
        return ScheduleDoc.from_dict(json_copy(self.to_dict(), "schedule"))


#: the fields an update may change (``id`` never changes)
SCHEDULE_UPDATABLE_FIELDS = frozenset(f.name for f in dataclasses.fields(ScheduleDoc)) - {"id"}


def encode_schedule_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalized field values as JSON-ready values (what :meth:`ScheduleDoc.to_dict` and a
    store writing single fields store): datetimes as ISO strings, policies as their values."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in SCHEDULE_DATETIME_FIELDS:
            value = format_datetime(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        out[name] = value
    return out


def normalize_schedule_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with each value coerced to the record's type (datetimes to aware UTC,
    policies to their enums); unknown field names are a ``ValueError``."""
    unknown = set(changes) - SCHEDULE_UPDATABLE_FIELDS - {"id"}
    if unknown:
        raise ValueError(f"Unknown schedule field(s): {', '.join(sorted(unknown))}")
    out = dict(changes)
    for name in SCHEDULE_DATETIME_FIELDS:
        if name in out:
            out[name] = to_datetime(out[name])
    if "catchup" in out:
        out["catchup"] = CatchUp.parse(out["catchup"] or CatchUp.LATEST)
    if "overlap" in out:
        out["overlap"] = Overlap.parse(out["overlap"] or Overlap.SKIP)
    if "enabled" in out:
        out["enabled"] = bool(out["enabled"])
    if out.get("every_seconds") is not None:
        out["every_seconds"] = float(out["every_seconds"])
    if out.get("misfire_grace_seconds") is not None:
        out["misfire_grace_seconds"] = float(out["misfire_grace_seconds"])
    return out


def readable_schedules(
    rows: Iterable[Any], decode: Callable[[Any], ScheduleDoc], where: str
) -> list[ScheduleDoc]:
    """The schedules of ``rows`` that can be read (in order); one that cannot (a record
    damaged or written by an incompatible version) is logged and left out of lists and due
    passes, so it never stops the firing of the others. Reading it by id still raises, and
    :meth:`~fiftyone_plugins.operators.schedules.ScheduleService.delete_schedule` removes it."""
    docs: list[ScheduleDoc] = []
    for row in rows:
        try:
            docs.append(decode(row))
        except (TypeError, ValueError, KeyError) as e:
            logger.warning("A stored schedule in %s cannot be read and is skipped: %s", where, e)
    return docs
