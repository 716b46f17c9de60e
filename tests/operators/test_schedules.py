"""Firing schedules: at most one operation per fire time whatever races, catch-up, grace,
overlap, pause/resume, crash repair; on memory, SQLite and a real MongoDB."""

from __future__ import annotations

import datetime as dt
import pathlib
import subprocess
import sys

import pytest

from fiftyone_plugins.errors import ScheduleError, ScheduleNotFoundError
from fiftyone_plugins.operators.schedules import ScheduleService
from fiftyone_plugins.operators.stores import resolve_store
from fiftyone_plugins.operators.stores.memory import MemoryStore
from fiftyone_plugins.operators.stores.records import ExecutionRunState
from fiftyone_plugins.operators.triggers import fire_operation_id

HERE = pathlib.Path(__file__).parent
T0 = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.timezone.utc)
URI = "@voxel51/operators/print_stdout"


class Clock:
    """A settable clock for the service."""

    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> ScheduleService:
    return ScheduleService(MemoryStore(), clock=clock)


def _finish(service: ScheduleService, op_id: str) -> None:
    service.operations.set_running(op_id, worker_id="w")
    service.operations.set_completed(op_id, worker_id="w")


def test_add_computes_the_first_fire_time_and_keeps_no_secrets(service):
    doc = service.add_schedule(
        URI,
        cron="0 * * * *",
        params={"msg": "hi"},
        context={"dataset_name": "ds", "secrets": {"TOKEN": "s3cret"}},
        label="hourly",
    )
    assert doc.next_fire_at == T0  # 12:00 matches, so it is due now
    assert doc.dataset_name == "ds" and doc.context["params"] == {"msg": "hi"}
    assert "s3cret" not in str(service.get_schedule(doc.id).to_dict())
    assert service.next_fire_times(doc, 3) == [T0 + dt.timedelta(hours=h) for h in range(3)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"cron": "* * * * *", "every": 5}, "exactly one"),
        ({"cron": "nope"}, "Invalid cron"),
        ({"every": "soon"}, "Invalid duration"),
        ({"every": 5, "timezone": "Nowhere/City"}, "Unknown time zone"),
        ({"every": 5, "catchup": "all"}, "catch-up policy"),
        ({"every": 5, "overlap": "queue"}, "overlap policy"),
        ({"every": 5, "start_at": T0, "end_at": T0 - dt.timedelta(1)}, "before its start"),
    ],
)
def test_invalid_schedules_are_refused(service, kwargs, message):
    with pytest.raises(ScheduleError, match=message):
        service.add_schedule(URI, **kwargs)
    assert service.list_schedules() == []


def test_each_fire_queues_one_operation_recording_its_schedule(service, clock):
    doc = service.add_schedule(URI, every="1m", params={"n": 1}, dataset_name="ds")
    assert service.fire_due().outcomes == []  # not due yet
    clock.advance(minutes=1)
    report = service.fire_due()
    assert [o.action for o in report.outcomes] == ["created"]
    [op] = service.list_operations(doc.id)
    assert op.id == fire_operation_id(doc.id, T0 + dt.timedelta(minutes=1))
    assert op.schedule_id == doc.id and op.fire_time == T0 + dt.timedelta(minutes=1)
    assert op.run_state is ExecutionRunState.QUEUED and op.dataset_name == "ds"
    assert op.context["params"] == {"n": 1}
    assert service.fire_due().outcomes == []  # the same time never fires twice
    again = service.get_schedule(doc.id)
    assert again.last_operation_id == op.id and again.next_fire_at == clock.now + dt.timedelta(
        minutes=1
    )


def test_a_scheduler_down_for_three_periods_runs_once_with_latest(service, clock):
    doc = service.add_schedule(URI, every="1h", catchup="latest")
    clock.advance(hours=3, minutes=30)  # missed 13:00, 14:00 and 15:00 (grace 60 s)
    outcomes = service.fire_due().outcomes
    assert [(o.action, o.fire_time) for o in outcomes] == [("created", T0 + dt.timedelta(hours=3))]
    assert len(service.list_operations(doc.id)) == 1
    assert service.get_schedule(doc.id).next_fire_at == T0 + dt.timedelta(hours=4)


def test_a_scheduler_down_for_three_periods_runs_none_with_none(service, clock):
    doc = service.add_schedule(URI, every="1h", catchup="none")
    clock.advance(hours=3, minutes=30)
    assert [o.action for o in service.fire_due().outcomes] == ["skipped-missed"]
    assert service.list_operations(doc.id) == []
    clock.advance(minutes=30)  # 16:00 is on time
    assert [o.action for o in service.fire_due().outcomes] == ["created"]


def test_a_late_fire_within_the_grace_runs_even_with_none(service, clock):
    doc = service.add_schedule(URI, every="1h", catchup="none", misfire_grace="5m")
    clock.advance(hours=1, minutes=4)
    assert [o.action for o in service.fire_due().outcomes] == ["created"]
    assert len(service.list_operations(doc.id)) == 1


def test_overlap_skip_waits_for_the_previous_run_and_allow_does_not(service, clock):
    skip = service.add_schedule(URI, every="1m")
    allow = service.add_schedule(URI, every="1m", overlap="allow")
    clock.advance(minutes=1)
    service.fire_due()
    clock.advance(minutes=1)
    actions = {o.schedule_id: o.action for o in service.fire_due().outcomes}
    assert actions == {skip.id: "skipped-overlap", allow.id: "created"}
    _finish(service, service.list_operations(skip.id)[0].id)
    clock.advance(minutes=1)
    actions = {o.schedule_id: o.action for o in service.fire_due().outcomes}
    assert actions[skip.id] == "created"
    assert len(service.list_operations(skip.id)) == 2
    assert len(service.list_operations(allow.id)) == 3


def test_pause_and_resume_do_not_backfill(service, clock):
    doc = service.add_schedule(URI, every="1m", overlap="allow")
    service.pause(doc.id)
    clock.advance(minutes=10)
    assert service.fire_due().outcomes == []
    resumed = service.resume(doc.id)
    assert resumed.enabled and resumed.next_fire_at == clock.now + dt.timedelta(minutes=1)
    assert service.fire_due().outcomes == []
    clock.advance(minutes=1)
    assert len(service.fire_due().created) == 1
    assert len(service.list_operations(doc.id)) == 1


def test_a_crash_between_creating_and_advancing_neither_loses_nor_duplicates(service, clock):
    doc = service.add_schedule(URI, every="1m")
    clock.advance(minutes=1)
    store = service.store
    real_update = store.update_schedule

    def crash(*args, **kwargs):
        raise RuntimeError("killed after the insert")

    store.update_schedule = crash  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        service.fire_due()
    store.update_schedule = real_update  # type: ignore[method-assign]
    assert len(service.list_operations(doc.id)) == 1  # created, schedule not advanced
    assert service.get_schedule(doc.id).next_fire_at == clock.now
    assert [o.action for o in service.fire_due().outcomes] == ["exists"]
    assert len(service.list_operations(doc.id)) == 1
    repaired = service.get_schedule(doc.id)
    assert repaired.next_fire_at == clock.now + dt.timedelta(minutes=1)
    assert repaired.last_operation_id == service.list_operations(doc.id)[0].id


def test_the_schedule_ends_after_end_at(service, clock):
    doc = service.add_schedule(URI, every="1m", end_at=T0 + dt.timedelta(minutes=2))
    clock.advance(minutes=1)
    service.fire_due()
    clock.advance(minutes=1)
    _finish(service, service.list_operations(doc.id)[0].id)
    service.fire_due()
    assert service.get_schedule(doc.id).next_fire_at is None
    clock.advance(hours=1)
    assert service.fire_due().outcomes == []
    assert len(service.list_operations(doc.id)) == 2


def test_unknown_ids_and_delete(service):
    with pytest.raises(ScheduleNotFoundError):
        service.get_schedule("0123456789abcdef01234567")
    with pytest.raises(ScheduleNotFoundError, match="Invalid schedule id"):
        service.pause("nope")
    doc = service.add_schedule(URI, every=5)
    assert service.delete_schedule(doc.id).id == doc.id
    with pytest.raises(ScheduleNotFoundError):
        service.resume(doc.id)


def test_dst_daily_job_fires_once_on_the_day_the_clocks_go_back(clock):
    clock.now = dt.datetime(2026, 10, 31, 12, tzinfo=dt.timezone.utc)
    service = ScheduleService(MemoryStore(), clock=clock)
    doc = service.add_schedule(URI, cron="30 1 * * *", timezone="America/New_York")
    for _ in range(48):  # every hour across 2026-11-01 (clocks back at 02:00 EDT)
        clock.advance(hours=1)
        for op in service.list_operations(doc.id):
            if op.run_state is ExecutionRunState.QUEUED:
                _finish(service, op.id)
        service.fire_due()
    fires = sorted(op.fire_time for op in service.list_operations(doc.id))
    assert fires == [
        dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.timezone.utc),  # 01:30 EDT, once
        dt.datetime(2026, 11, 2, 6, 30, tzinfo=dt.timezone.utc),  # 01:30 EST
    ]


# -- many firers on one store ----------------------------------------------------------------


SCHEDULES = 10
STEPS = 12
THREADS = 4


def _competing_firers(uri: str) -> None:
    """Two processes of four threads each fire the same schedules through STEPS periods."""
    store = resolve_store(uri, cached=False)
    service = ScheduleService(store, clock=Clock(T0 - dt.timedelta(minutes=1)))
    ids = [
        service.add_schedule(URI, every="1m", start_at=T0, overlap="allow", misfire_grace="1h").id
        for _ in range(SCHEDULES)
    ]
    args = [sys.executable, str(HERE / "_fire_steps.py"), uri, T0.isoformat(), "60", str(STEPS)]
    procs = [subprocess.Popen([*args, str(THREADS)]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    ops = service.operations.list_operations(schedule_id=ids)
    expected = {
        (sid, T0 + dt.timedelta(minutes=k)) for sid in ids for k in range(STEPS)
    }  # every fire time of every schedule ...
    assert {(op.schedule_id, op.fire_time) for op in ops} == expected
    assert len(ops) == len(expected)  # ... exactly once
    assert all(op.id == fire_operation_id(op.schedule_id, op.fire_time) for op in ops)
    store.close()


def test_two_processes_and_threads_on_one_sqlite_file(tmp_path):
    _competing_firers(f"sqlite:///{tmp_path}/ops.db")


@pytest.mark.mongo
def test_two_processes_and_threads_on_one_mongodb(mongod_uri):
    from _mongod import unique_db_uri

    from fiftyone_plugins.operators.stores.mongo import MongoStore

    uri = unique_db_uri(mongod_uri, "schedules")
    try:
        _competing_firers(uri)
    finally:
        MongoStore(uri).drop()


def test_threads_racing_on_one_memory_store(clock):
    import threading

    service = ScheduleService(MemoryStore(), clock=clock)
    ids = [service.add_schedule(URI, every="1m", overlap="allow").id for _ in range(20)]
    barrier = threading.Barrier(8)

    def fire() -> None:
        barrier.wait()
        service.fire_due(T0 + dt.timedelta(minutes=1, seconds=1))

    threads = [threading.Thread(target=fire) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ops = service.operations.list_operations(schedule_id=ids)
    assert sorted(op.schedule_id for op in ops) == sorted(ids)
