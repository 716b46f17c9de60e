"""Recurring schedules: create, inspect, pause, resume, delete, and fire the due ones.

:class:`ScheduleService` keeps schedules in the operation store's
:class:`~.stores.schedule_base.ScheduleStore` half and turns each due fire time into one queued
delegated operation, which any worker then runs like any other.

**At most one operation per fire time, without locks or a leader.** The operation's id is
derived from the schedule id and the fire time (:func:`~.triggers.fire_operation_id`), so every
firer (threads, ``delegated scheduler`` processes, machines) that sees the same due time tries
to insert the *same* id, and the store's unique id lets exactly one insert succeed. The
schedule is then advanced with a compare-and-set on ``next_fire_at``; whoever loses that race
has nothing to undo. A firer that crashes after inserting but before advancing leaves the
schedule due: the next pass derives the same id, its insert is refused, and the schedule
advances, so the run is neither lost nor duplicated.

**One pass over one schedule** (:meth:`ScheduleService.fire_schedule`), ``now`` being the
clock's time and ``t`` the latest fire time due (at or before ``now``):

1. ``t`` is on time if ``now - t <= misfire_grace_seconds``; older due times are missed.
2. It fires for ``t`` when on time, or when missed and the catch-up policy is ``latest``
   (a scheduler down for three periods runs once, not three times); with ``none`` a missed
   ``t`` is dropped.
3. With the overlap policy ``skip`` (the default), a fire is skipped while the schedule's
   previous operation is still queued, scheduled or running.
4. ``next_fire_at`` moves to the first fire time after ``t`` (None past ``end_at``).

Pausing stops firing; resuming recomputes ``next_fire_at`` from now, so the time spent paused
is never backfilled. The clock is injectable (``clock=``) so tests walk through time.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import OperationNotFoundError, ScheduleError, ScheduleNotFoundError
from .queries import context_value, serialize_context
from .service import OperationService
from .stores import DelegatedOperationStore
from .stores.records import (
    TERMINAL_STATES,
    DelegatedOperationDoc,
    ExecutionRunState,
    json_copy,
    to_datetime,
    utcnow,
    validate_id,
)
from .stores.schedule_base import ScheduleStore, schedule_store_of
from .stores.schedule_records import CatchUp, Overlap, ScheduleDoc
from .triggers import (
    check_cron,
    fire_operation_id,
    fire_times,
    latest_fire_time,
    next_fire_time,
    parse_duration,
    time_zone,
)

__all__ = ["FireOutcome", "FireReport", "ScheduleService"]

#: the scheduler's logger, so `delegated scheduler` shows what each pass fired
logger = logging.getLogger("fiftyone_plugins.scheduler")


@dataclasses.dataclass(frozen=True)
class FireOutcome:
    """What one pass did with one due schedule.

    ``action`` is ``created`` (this firer queued the operation), ``exists`` (another firer
    had, or a crashed pass did), ``skipped-overlap``, ``skipped-missed`` (catch-up ``none``) or
    ``lost-race`` (another firer advanced the schedule first).
    """

    schedule_id: str
    action: str
    fire_time: _dt.datetime | None
    operation_id: str | None
    next_fire_at: _dt.datetime | None


@dataclasses.dataclass
class FireReport:
    """Every outcome of one :meth:`ScheduleService.fire_due` pass."""

    outcomes: list[FireOutcome] = dataclasses.field(default_factory=list)

    @property
    def created(self) -> list[FireOutcome]:
        return [o for o in self.outcomes if o.action == "created"]


def _schedule_id(schedule_id: str) -> str:
    try:
        return validate_id(schedule_id)
    except OperationNotFoundError:
        raise ScheduleNotFoundError(
            f"Invalid schedule id {schedule_id!r}: expected 24 hexadecimal characters",
            schedule_id=None if schedule_id is None else str(schedule_id),
        ) from None


class ScheduleService:
    """Recurring schedules in one store, and the firing of due ones.

    ``operations`` is the :class:`~.service.OperationService` whose store keeps the schedules
    and receives the operations (or a store, a store URL, None for the configured one).
    ``clock() -> aware datetime`` is "now" (default: the UTC clock).
    """

    def __init__(
        self,
        operations: OperationService | DelegatedOperationStore | str | None = None,
        *,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        self.operations = (
            operations
            if isinstance(operations, OperationService)
            else OperationService(operations)
        )
        self.clock = clock or utcnow

    @property
    def store(self) -> ScheduleStore:
        return schedule_store_of(self.operations.store)

    def now(self) -> _dt.datetime:
        """The clock's time as an aware UTC datetime in milliseconds."""
        now = to_datetime(self.clock())
        assert now is not None
        return now

    # -- creating and reading --------------------------------------------------------------------

    def add_schedule(
        self,
        operator: str,
        *,
        cron: str | None = None,
        every: float | str | None = None,
        timezone: str = "UTC",
        params: Mapping[str, Any] | None = None,
        context: Any = None,
        dataset_name: str | None = None,
        label: str | None = None,
        delegation_target: str | None = None,
        catchup: CatchUp | str = CatchUp.LATEST,
        misfire_grace: float | str | None = None,
        overlap: Overlap | str = Overlap.SKIP,
        start_at: _dt.datetime | str | None = None,
        end_at: _dt.datetime | str | None = None,
        enabled: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> ScheduleDoc:
        """Creates a schedule of ``operator`` (a URI) and returns it with its id and first
        fire time.

        Exactly one of ``cron`` (an expression in ``timezone``) and ``every`` (seconds or a
        duration such as ``5m``) is needed. ``context`` is the request each run is queued with
        (a dict or an execution request); ``params`` and ``dataset_name`` fill it in. Secrets
        are removed from it: operations resolve them when they run.
        """
        if not operator or not isinstance(operator, str):
            raise ScheduleError("A schedule needs the operator's URI")
        if (cron is None) == (every is None):
            raise ScheduleError("A schedule needs exactly one of a cron expression or an interval")
        time_zone(timezone)
        try:
            data = serialize_context(context)
            if params is not None:
                data["params"] = json_copy(dict(params), "schedule params")
        except TypeError as e:
            raise ScheduleError(str(e)) from None
        if dataset_name is not None:
            data["dataset_name"] = dataset_name
        now = self.now()
        try:
            doc = ScheduleDoc(
                operator=operator,
                label=label,
                delegation_target=delegation_target,
                dataset_name=context_value(data, "dataset_name"),
                context=data,
                cron=None if cron is None else check_cron(cron),
                every_seconds=None if every is None else parse_duration(every),
                timezone=str(timezone),
                start_at=to_datetime(start_at),
                end_at=to_datetime(end_at),
                enabled=bool(enabled),
                catchup=CatchUp.parse(catchup),
                misfire_grace_seconds=(
                    60.0 if misfire_grace is None else parse_duration(misfire_grace)
                ),
                overlap=Overlap.parse(overlap),
                created_at=now,
                updated_at=now,
                metadata=json_copy(dict(metadata or {}), "schedule metadata"),
            )
        except (ValueError, TypeError) as e:
            raise ScheduleError(str(e)) from None
        if doc.start_at and doc.end_at and doc.end_at < doc.start_at:
            raise ScheduleError("A schedule's end_at is before its start_at")
        # a cron time or start_at equal to now is due now
        doc.next_fire_at = next_fire_time(doc, now - _dt.timedelta(milliseconds=1))
        return self.store.insert_schedule(doc)

    def get_schedule(self, schedule_id: str) -> ScheduleDoc:
        """The schedule with this id; unknown or malformed ids raise ScheduleNotFoundError."""
        key = _schedule_id(schedule_id)
        try:
            doc = self.store.get_schedule(key)
        except (TypeError, ValueError, KeyError) as e:
            raise ScheduleError(
                f"The stored schedule {key} cannot be read ({e}); delete it with "
                f"`fiftyone-plugins delegated schedule delete {key}`",
                schedule_id=key,
            ) from e
        if doc is None:
            raise ScheduleNotFoundError(f"Schedule {schedule_id} not found", schedule_id=key)
        return doc

    def list_schedules(self, *, enabled: bool | None = None) -> list[ScheduleDoc]:
        """Every schedule (or only enabled or paused ones), oldest first."""
        return self.store.list_schedules(enabled=enabled)

    def next_fire_times(self, schedule: ScheduleDoc | str, count: int = 5) -> list[_dt.datetime]:
        """The next ``count`` fire times of a schedule, from its ``next_fire_at`` on."""
        doc = schedule if isinstance(schedule, ScheduleDoc) else self.get_schedule(schedule)
        if doc.next_fire_at is None or count <= 0:
            return []
        return [doc.next_fire_at, *fire_times(doc, doc.next_fire_at, count - 1)]

    def list_operations(self, schedule_id: str, **kwargs: Any) -> list[DelegatedOperationDoc]:
        """The operations the schedule created (the other filters of ``list_operations``
        apply too)."""
        key = _schedule_id(schedule_id)
        return self.operations.list_operations(schedule_id=key, **kwargs)

    # -- changing --------------------------------------------------------------------------------

    def pause(self, schedule_id: str) -> ScheduleDoc:
        """Stops firing (a no-op when already paused)."""
        doc = self.get_schedule(schedule_id)
        done = self.store.update_schedule(doc.id or "", {"enabled": False})
        if done is None:
            raise ScheduleNotFoundError(f"Schedule {schedule_id} not found", schedule_id=doc.id)
        return done

    def resume(self, schedule_id: str) -> ScheduleDoc:
        """Fires again from the next fire time after now: the paused time is not backfilled."""
        doc = self.get_schedule(schedule_id)
        if doc.enabled:
            return doc
        changes = {"enabled": True, "next_fire_at": next_fire_time(doc, self.now())}
        done = self.store.update_schedule(doc.id or "", changes, expected_enabled=False)
        return done if done is not None else self.get_schedule(schedule_id)

    def delete_schedule(self, schedule_id: str) -> ScheduleDoc | None:
        """Deletes a schedule and returns its last record (None if it could not be read);
        the operations it created stay."""
        key = _schedule_id(schedule_id)
        try:
            doc: ScheduleDoc | None = self.get_schedule(key)
        except ScheduleNotFoundError:
            raise
        except ScheduleError:  # unreadable: deleting it is the way out
            doc = None
        if not self.store.delete_schedule(key):
            raise ScheduleNotFoundError(f"Schedule {schedule_id} not found", schedule_id=key)
        return doc

    # -- firing ----------------------------------------------------------------------------------

    def fire_due(self, now: _dt.datetime | None = None, limit: int = 1000) -> FireReport:
        """One pass: fires every schedule due at ``now`` (default: the clock), up to ``limit``
        schedules. Safe to run in any number of threads and processes at once."""
        now = to_datetime(now) if now is not None else self.now()
        assert now is not None
        report = FireReport()
        for doc in self.store.due_schedules(now, limit):
            try:
                report.outcomes.append(self.fire_schedule(doc, now))
            except ScheduleError as e:  # one broken schedule never blocks the others
                logger.warning("Schedule %s cannot fire: %s", doc.id, e)
        return report

    def fire_schedule(self, doc: ScheduleDoc, now: _dt.datetime) -> FireOutcome:
        """One pass over one due schedule (see the module's docstring for the steps)."""
        assert doc.id is not None and doc.next_fire_at is not None
        due = latest_fire_time(doc, doc.next_fire_at, now)
        on_time = (now - due).total_seconds() <= doc.misfire_grace_seconds
        changes: dict[str, Any] = {"next_fire_at": next_fire_time(doc, due)}
        op_id: str | None = fire_operation_id(doc.id, due)
        if not on_time and doc.catchup is CatchUp.NONE:
            action, op_id = "skipped-missed", None
        else:
            assert op_id is not None
            action = self._queue(doc, due, op_id, now)
            if action == "skipped-overlap":
                op_id = None
            else:
                changes.update(last_fire_at=due, last_operation_id=op_id)
        done = self.store.update_schedule(
            doc.id, changes, expected_next_fire_at=doc.next_fire_at, expected_enabled=True
        )
        if done is None:
            action = "lost-race" if action != "created" else action
        elif action == "created":
            logger.info("Schedule %s fired for %s: operation %s", doc.id, due, op_id)
        return FireOutcome(doc.id, action, due, op_id, changes["next_fire_at"])

    def _queue(self, doc: ScheduleDoc, due: _dt.datetime, op_id: str, now: _dt.datetime) -> str:
        """Inserts the operation of fire time ``due``: ``created``, ``exists`` (refused: it
        is already there) or ``skipped-overlap``."""
        store = self.operations.store
        if doc.overlap is Overlap.SKIP and doc.last_operation_id:
            previous = store.get(doc.last_operation_id)
            if previous is not None and previous.run_state not in TERMINAL_STATES:
                return "exists" if store.get(op_id) is not None else "skipped-overlap"
        record = DelegatedOperationDoc(
            operator=doc.operator,
            id=op_id,
            label=doc.label,
            delegation_target=doc.delegation_target,
            dataset_id=_optional_str(context_value(doc.context, "dataset_id")),
            dataset_name=_optional_str(context_value(doc.context, "dataset_name")),
            context=doc.context,
            run_state=ExecutionRunState.QUEUED,
            queued_at=now,
            updated_at=now,
            schedule_id=doc.id,
            fire_time=due,
        )
        try:
            store.insert(record)
        except ValueError:  # another firer (or a crashed pass) inserted this fire time
            if store.get(op_id) is None:
                raise
            return "exists"
        return "created"


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
