"""When a schedule fires: cron expressions in a time zone, fixed intervals, durations.

Pure time arithmetic on a :class:`~.stores.schedule_records.ScheduleDoc`, with no store and no
clock of its own (every function is handed the times it needs), so tests can walk through
daylight-saving changes without waiting.

- Cron expressions are parsed and iterated by ``cronsim`` (the ``[schedules]`` extra, imported
  only here, on first use). Fire times are computed as wall-clock times of the schedule's IANA
  zone, so they follow it: when the clocks go back, a daily ``30 1 * * *`` job fires once (the
  first 01:30); when they go forward past a time that does not exist that day, it fires at
  the first minute that does (cron's own rule). Sub-daily expressions (``*/15 * * * *``)
  fire through both copies of a repeated hour, as elapsed time would have them.
- Intervals (``every_seconds``) are elapsed time, unaffected by the zone: fire times are
  ``anchor + k * every`` where the anchor is ``start_at`` (first fire at ``start_at``) or,
  without one, the creation time (first fire one interval later).

Every time returned is an aware UTC datetime truncated to milliseconds, what every store keeps.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import re
import zoneinfo
from typing import Any

from ..errors import ScheduleError
from .stores.records import format_datetime, to_datetime
from .stores.schedule_records import ScheduleDoc

__all__ = [
    "CRON_ALIASES",
    "MAX_INTERVAL_SECONDS",
    "check_cron",
    "fire_operation_id",
    "fire_times",
    "latest_fire_time",
    "next_fire_time",
    "parse_duration",
    "time_zone",
]

#: the longest interval or duration accepted (about 31 years, like the CLI's other durations)
MAX_INTERVAL_SECONDS = 1e9

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ONE_MS = _dt.timedelta(milliseconds=1)
#: cron's nicknames, which cronsim does not read, as the expressions they stand for
CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
#: how many cron steps :func:`latest_fire_time` walks before jumping back from ``now``
_WALK_LIMIT = 512


def parse_duration(value: Any) -> float:
    """``30s``, ``5m``, ``2h``, ``1d`` or plain seconds (``90``, ``1.5``) as seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise ScheduleError(
                f"Invalid duration {value!r}: expected e.g. 30s, 5m, 2h, 1d or seconds"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not 0 < seconds <= MAX_INTERVAL_SECONDS or math.isnan(seconds):
        raise ScheduleError(
            f"Invalid duration {value!r}: must be positive and at most "
            f"{MAX_INTERVAL_SECONDS:.0f} seconds"
        )
    return seconds


def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone of that name (``Europe/Paris``, ``UTC``); unknown names are a
    :class:`ScheduleError`."""
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ScheduleError(
            f"Unknown time zone {name!r}: expected an IANA name such as UTC or Europe/Paris "
            "(install the `tzdata` package if the system has no zone database)"
        ) from None


def _cronsim() -> Any:
    try:
        import cronsim
    except ImportError:
        raise ScheduleError(
            "Cron schedules need the cronsim package: pip install 'fiftyone-plugins[schedules]'"
        ) from None
    return cronsim


def check_cron(expr: str) -> str:
    """``expr`` normalized (spaces collapsed, a nickname such as ``@daily`` expanded), or a
    :class:`ScheduleError` saying why it is not a cron expression."""
    cronsim = _cronsim()
    text = " ".join(str(expr).split())
    text = CRON_ALIASES.get(text.lower(), text)
    try:
        cronsim.CronSim(text, _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc))
    except cronsim.CronSimError as e:
        raise ScheduleError(f"Invalid cron expression {expr!r}: {e}") from None
    return text


def _utc(value: _dt.datetime) -> _dt.datetime:
    converted = to_datetime(value)
    assert converted is not None
    return converted


def _cron_after(doc: ScheduleDoc, after: _dt.datetime, *, reverse: bool = False) -> Any:
    cronsim = _cronsim()
    start = after.astimezone(time_zone(doc.timezone))
    return cronsim.CronSim(doc.cron, start, reverse=reverse)


def _interval_after(doc: ScheduleDoc, after: _dt.datetime) -> _dt.datetime:
    assert doc.every_seconds is not None
    every = _dt.timedelta(seconds=doc.every_seconds)
    anchor = doc.start_at or doc.created_at
    if anchor is None:
        raise ScheduleError("An interval schedule needs start_at or created_at", doc.id)
    first = 0 if doc.start_at is not None else 1
    steps = math.floor((after - anchor) / every) + 1
    return _utc(anchor + every * max(first, steps))


def _unbounded_next(doc: ScheduleDoc, after: _dt.datetime) -> _dt.datetime:
    """The first fire time strictly after ``after``, ignoring ``end_at``."""
    if doc.start_at is not None and after < doc.start_at:
        after = doc.start_at - _ONE_MS
    if doc.cron is None:
        return _interval_after(doc, after)
    while True:
        found = _utc(next(_cron_after(doc, after)))
        if found > after:  # never the same instant again, whatever the truncation
            return found
        after = after + _ONE_MS


def next_fire_time(doc: ScheduleDoc, after: _dt.datetime) -> _dt.datetime | None:
    """The schedule's first fire time strictly after ``after``; None once past ``end_at``."""
    found = _unbounded_next(doc, _utc(after))
    if doc.end_at is not None and found > doc.end_at:
        return None
    return found


def fire_times(doc: ScheduleDoc, after: _dt.datetime, count: int) -> list[_dt.datetime]:
    """The next ``count`` fire times after ``after`` (fewer if the schedule ends first)."""
    out: list[_dt.datetime] = []
    current: _dt.datetime | None = _utc(after)
    while len(out) < count and current is not None:
        current = next_fire_time(doc, current)
        if current is not None:
            out.append(current)
    return out


def latest_fire_time(doc: ScheduleDoc, first: _dt.datetime, now: _dt.datetime) -> _dt.datetime:
    """The latest fire time in ``[first, now]``, ``first`` being a fire time already due.

    Walks forward from ``first`` (a scheduler that was down briefly) and, after
    :data:`_WALK_LIMIT` steps, jumps back from ``now`` instead (one down for a year of
    minutes).
    """
    latest = _utc(first)
    now = _utc(now)
    for _ in range(_WALK_LIMIT):
        candidate = next_fire_time(doc, latest)
        if candidate is None or candidate > now:
            return latest
        latest = candidate
    if doc.cron is None:
        assert doc.every_seconds is not None
        every = _dt.timedelta(seconds=doc.every_seconds)
        anchor = doc.start_at or doc.created_at
        assert anchor is not None
        bound = min(now, doc.end_at) if doc.end_at is not None else now
        return _utc(anchor + every * math.floor((bound - anchor) / every))
    for candidate in _cron_after(doc, now + _ONE_MS, reverse=True):
        found = _utc(candidate)
        if found <= now and (doc.end_at is None or found <= doc.end_at):
            return max(found, latest)
    return latest  # pragma: no cover - cron iteration never ends


def fire_operation_id(schedule_id: str, fire_time: _dt.datetime) -> str:
    """The id of the operation a schedule creates for one fire time: 24 hex characters of a
    hash of both, so every firer derives the same id and the store's unique ids let only one
    insert succeed."""
    key = f"{schedule_id}|{format_datetime(_utc(fire_time))}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]
