"""The ``delegated scheduler`` loop: passes, backlogs in batches, stopping, store errors."""

from __future__ import annotations

import datetime as dt
import threading

from fiftyone_plugins.errors import StoreError
from fiftyone_plugins.operators.scheduler import Scheduler
from fiftyone_plugins.operators.schedules import ScheduleService
from fiftyone_plugins.operators.stores.memory import MemoryStore

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.timezone.utc)


def _service(now: list[dt.datetime]) -> ScheduleService:
    return ScheduleService(MemoryStore(), clock=lambda: now[0])


def test_once_fires_every_due_schedule_in_batches():
    now = [T0]
    service = _service(now)
    ids = [service.add_schedule("@o/p/op", every="1m").id for _ in range(7)]
    now[0] = T0 + dt.timedelta(minutes=1)
    scheduler = Scheduler(service, once=True, batch_size=3)
    scheduler.run()
    assert scheduler.passes == 1 and scheduler.fired == 7
    assert sorted(op.schedule_id for op in service.operations.list_operations()) == sorted(ids)


def test_stop_ends_the_loop_from_another_thread():
    now = [T0]
    service = _service(now)
    scheduler = Scheduler(service, poll_interval=0.01)
    thread = threading.Thread(target=scheduler.run)
    thread.start()
    scheduler.stop()
    thread.join(10)
    assert not thread.is_alive() and scheduler.stopping


def test_a_store_error_is_logged_and_the_next_pass_retries(caplog):
    now = [T0]
    service = _service(now)
    service.add_schedule("@o/p/op", every="1m")
    now[0] = T0 + dt.timedelta(minutes=1)
    real = service.fire_due
    calls: list[int] = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("the store is locked")
        scheduler.stop()
        return real(*args, **kwargs)

    service.fire_due = flaky  # type: ignore[method-assign]
    scheduler = Scheduler(service, poll_interval=0.01)
    scheduler.run()
    assert "retrying: the store is locked" in caplog.text
    assert scheduler.fired == 1 and len(service.operations.list_operations()) == 1
