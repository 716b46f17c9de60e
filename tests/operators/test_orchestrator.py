"""Workers: claiming, running, progress, leases, signals, and several processes at once.

The module-level runners are also imported by worker *subprocesses*
(``--runner test_orchestrator:record``), so keep them importable without pytest fixtures.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from fiftyone_plugins.errors import StoreError, UnstorableRecordError
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.orchestrator import ProgressWriter, Worker, resolve_runner
from fiftyone_plugins.operators.stores import clear_cache
from fiftyone_plugins.operators.stores.memory import MemoryStore
from fiftyone_plugins.operators.stores.records import ExecutionRunState, utcnow
from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent
RECORD_ENV = "FOP_TEST_RECORD_FILE"
MARKER_ENV = "FOP_TEST_MARKER_DIR"


# -- runners (also used by worker subprocesses) ---------------------------------------------------


def record(doc, progress):
    """Appends the operation id to a file: one atomic O_APPEND write per execution."""
    fd = os.open(os.environ[RECORD_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{doc.id}\n".encode())
    finally:
        os.close(fd)
    return {"pid": os.getpid()}


def slow(doc, progress):
    """Signals it started (a marker file), then sleeps ``params.sleep`` seconds on the first
    attempt; later attempts return at once."""
    pathlib.Path(os.environ[MARKER_ENV], f"{doc.id}.{doc.attempts}").touch()
    if doc.attempts == 1:
        progress(0.1, "sleeping")
        time.sleep(doc.context["params"]["sleep"])
    return {"attempt": doc.attempts}


# -- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_stores():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def service():
    return DelegatedOperationService(MemoryStore(), lease_seconds=30)


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def launch(store_uri, *args, extra_env=None, **popen):
    env = dict(os.environ)
    env["FIFTYONE_DELEGATED_OPERATION_STORE"] = store_uri
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra_env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", "launch", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


# -- in-process workers ---------------------------------------------------------------------------


def test_runs_queued_operations_oldest_first_and_logs_each(service, caplog):
    docs = [service.queue_operation("@o/p/x", context={"params": {"i": i}}) for i in range(3)]
    seen = []
    caplog.set_level(logging.INFO, logger="fiftyone_plugins.operators.worker")
    stats = Worker(service, runner=lambda d, cb: seen.append(d.id), once=True).run()
    assert seen == [d.id for d in docs]
    assert stats.completed == 3 and stats.failed == 0
    lines = [r.getMessage() for r in caplog.records]
    for doc in docs:
        assert any(doc.id in line and "started" in line for line in lines)
        assert any(doc.id in line and "completed in" in line for line in lines)


def test_filters_and_limit(service):
    gpu = service.queue_operation("@o/p/x", delegation_target="gpu")
    other = service.queue_operation("@o/p/y")
    mine = [service.queue_operation("@o/p/x") for _ in range(3)]
    ran = []
    Worker(
        service, runner=lambda d, cb: ran.append(d.id), delegation_target="gpu", once=True
    ).run()
    assert ran == [gpu.id]
    Worker(service, runner=lambda d, cb: ran.append(d.id), operators=["@o/p/y"], once=True).run()
    assert ran[-1] == other.id
    stats = Worker(service, runner=lambda d, cb: ran.append(d.id), limit=2).run()
    assert stats.completed == 2 and ran[-2:] == [mine[0].id, mine[1].id]
    assert service.count(run_state="queued") == 1


def test_runner_by_dotted_path():
    assert resolve_runner("test_orchestrator:record") is record
    assert resolve_runner(f"{__name__}.slow") is slow
    with pytest.raises(Exception, match="Cannot import the runner"):
        resolve_runner("no_such_module_abc:run")


def test_concurrency_runs_operations_at_the_same_time(service):
    for _ in range(3):
        service.queue_operation("@o/p/x")
    barrier = threading.Barrier(3, timeout=10)

    def together(doc, progress):
        barrier.wait()  # raises (failing the op) unless three run at once
        return "met"

    stats = Worker(service, runner=together, concurrency=3, once=True).run()
    assert stats.completed == 3
    assert {d.result for d in service.list_operations()} == {"met"}


def test_stop_finishes_the_current_operation(service):
    first = service.queue_operation("@o/p/x")
    second = service.queue_operation("@o/p/x")
    worker = Worker(service, runner=lambda d, cb: worker.stop() or "done", poll_interval=0.05)
    stats = worker.run()  # without once/limit it would poll forever
    assert stats.completed == 1
    assert service.get(first.id).run_state is ExecutionRunState.COMPLETED
    assert service.get(second.id).run_state is ExecutionRunState.QUEUED


def test_heartbeat_renews_the_lease_while_running(service):
    doc = service.queue_operation("@o/p/x")

    def wait_for_renewal(d, progress):
        wait_for(lambda: service.get(d.id).lease_expires_at > d.lease_expires_at, what="a renewal")
        # a worker polling now finds nothing expired to take away
        assert service.resolve_expired_leases(now=d.lease_expires_at) == []
        return "renewed"

    Worker(service, runner=wait_for_renewal, lease_seconds=0.3, once=True).run()
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.COMPLETED and final.result == "renewed"


def test_after_a_stop_request_the_running_operation_keeps_its_lease(service):
    doc = service.queue_operation("@o/p/x")
    worker = None

    def stopped_meanwhile(d, progress):
        worker.stop()  # what a first SIGTERM does
        wait_for(lambda: service.get(d.id).lease_expires_at > d.lease_expires_at, what="a renewal")
        time.sleep(0.5)  # longer than the lease: only renewals keep it
        assert service.resolve_expired_leases() == []
        return "finished after the stop"

    worker = Worker(service, runner=stopped_meanwhile, lease_seconds=0.3, poll_interval=0.05)
    worker.run()
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.COMPLETED
    assert final.result == "finished after the stop"


def test_a_result_the_store_refuses_is_recorded_as_a_failure(service, monkeypatch):
    doc = service.queue_operation("@o/p/x")
    real = service.set_completed

    def refuse(op_id, result=None, **kwargs):
        if result is not None:
            raise UnstorableRecordError("failed: DocumentTooLarge: document too large")
        return real(op_id, result, **kwargs)

    monkeypatch.setattr(service, "set_completed", refuse)
    stats = Worker(service, runner=lambda d, cb: "x" * 100, once=True).run()
    final = service.get(doc.id)
    assert stats.failed == 1 and final.run_state is ExecutionRunState.FAILED
    assert "result could not be stored" in final.error and "too large" in final.error


def test_a_store_outage_while_recording_is_retried(service, monkeypatch, caplog):
    doc = service.queue_operation("@o/p/x")
    real, calls = service.set_completed, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise StoreError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "set_completed", flaky)
    with caplog.at_level(logging.WARNING, logger="fiftyone_plugins"):
        Worker(service, runner=lambda d, cb: "kept", once=True).run()
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.COMPLETED and final.result == "kept"
    assert len(calls) == 3 and "retrying" in caplog.text


def test_a_worker_rides_out_a_store_outage_but_a_drain_reports_it(service, monkeypatch):
    doc = service.queue_operation("@o/p/x")
    real, calls = service.claim_next, []

    def down_twice(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise StoreError("Connection refused")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "claim_next", down_twice)
    worker = Worker(service, runner=lambda d, cb: worker.stop() or "ran", poll_interval=0.01)
    worker.run()
    assert service.get(doc.id).result == "ran" and len(calls) == 3
    calls.clear()
    with pytest.raises(StoreError, match="Connection refused"):
        Worker(service, runner=lambda d, cb: None, once=True).run()


def test_polling_workers_resolve_expired_leases(service):
    doc = service.queue_operation("@o/p/x")
    service.claim_next("dead-worker", lease_seconds=0.001)
    wait_for(lambda: utcnow() > service.get(doc.id).lease_expires_at, what="lease expiry")
    Worker(service, runner=lambda d, cb: None, once=True).run()
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.FAILED and "Worker lost" in final.error


def test_an_operation_taken_away_keeps_its_new_state(service):
    doc = service.queue_operation("@o/p/x")

    def user_fails_it(d, progress):
        service.fail_operation(d.id, reason="cancelled by user")
        progress(0.9)  # refused, logged, harmless
        return "late result"

    stats = Worker(service, runner=user_fails_it, once=True).run()
    assert stats.lost == 1 and stats.completed == 0
    final = service.get(doc.id)
    assert final.run_state is ExecutionRunState.FAILED and final.error == "cancelled by user"


class FlakyService:
    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def set_progress(self, op_id, progress, label=None, worker_id=None):
        self.calls.append((progress, label))
        if self.fail:
            raise StoreError("store is down")


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_progress_writes_are_throttled_with_the_last_value_kept():
    svc, clock = FlakyService(), FakeClock()
    writer = ProgressWriter(svc, "id", "w", interval=0.5, clock=clock)  # type: ignore[arg-type]
    for i in range(100):
        writer(i / 100)
        clock.t += 0.001
    assert svc.calls == [(0.0, None)]
    clock.t += 0.5
    writer(0.995, "almost")
    assert svc.calls[-1] == (0.995, "almost")
    writer(0.999)
    writer.flush()
    writer.flush()
    assert svc.calls == [(0.0, None), (0.995, "almost"), (0.999, None)]


def test_a_failing_progress_write_never_fails_the_operation(service, caplog):
    writer = ProgressWriter(FlakyService(fail=True), "id", "w")  # type: ignore[arg-type]
    writer(0.5)
    writer.flush()
    assert "could not record progress" in caplog.text


# -- several processes ----------------------------------------------------------------------------


def _drain_with_processes(store_uri, tmp_path, count=1000, workers=4):
    service = DelegatedOperationService(store_uri)
    queued = {service.queue_operation("@test/fault/op").id for _ in range(count)}
    record_file = tmp_path / "executions.txt"
    procs = [
        launch(
            store_uri,
            "--once",
            "--quiet",
            "--runner",
            "test_orchestrator:record",
            extra_env={RECORD_ENV: str(record_file)},
        )
        for _ in range(workers)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    executed = record_file.read_text().split()
    assert len(executed) == count, "some operation ran twice or never"
    assert set(executed) == queued
    assert service.count(run_state="completed") == count
    pids = {d.result["pid"] for d in service.list_operations()}
    return pids


@pytest.mark.slow
def test_four_worker_processes_run_each_operation_exactly_once_sqlite(tmp_path):
    pids = _drain_with_processes(f"sqlite:///{tmp_path}/ops.db", tmp_path)
    assert len(pids) >= 2  # the work really was shared


@pytest.mark.slow
@pytest.mark.mongo
def test_four_worker_processes_run_each_operation_exactly_once_mongo(tmp_path, mongod_uri):
    from _mongod import unique_db_uri

    _drain_with_processes(unique_db_uri(mongod_uri, "drain"), tmp_path)


@pytest.fixture
def sqlite_uri(tmp_path):
    return f"sqlite:///{tmp_path}/ops.db"


@pytest.fixture
def markers(tmp_path):
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


def _slow_worker(uri, markers, *args, lease="1"):
    return launch(
        uri,
        "--runner",
        "test_orchestrator:slow",
        "--poll-interval",
        "0.1",
        *args,
        extra_env={MARKER_ENV: str(markers), "FIFTYONE_DELEGATED_OPERATION_LEASE_SECONDS": lease},
    )


@pytest.mark.slow
@pytest.mark.parametrize("max_attempts", [1, 2])
def test_a_killed_worker_is_detected_after_its_lease(sqlite_uri, markers, max_attempts):
    service = DelegatedOperationService(sqlite_uri)
    doc = service.queue_operation(
        "@test/fault/slow",
        context={"params": {"sleep": 60}},
        metadata={"max_attempts": max_attempts},
    )
    victim = _slow_worker(sqlite_uri, markers)
    try:
        wait_for(lambda: (markers / f"{doc.id}.1").exists(), what="the operation to start")
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=10)
    finally:
        victim.kill()
    running = service.get(doc.id)
    assert running.run_state is ExecutionRunState.RUNNING
    wait_for(lambda: utcnow() > running.lease_expires_at, what="the lease to expire")
    # any polling worker resolves it; this one then runs whatever became claimable
    rescuer = _slow_worker(sqlite_uri, markers, "--once")
    out, err = rescuer.communicate(timeout=60)
    assert rescuer.returncode == 0, err
    final = service.get(doc.id)
    if max_attempts == 1:
        assert final.run_state is ExecutionRunState.FAILED
        assert "Worker lost" in final.error and final.attempts == 1
    else:
        assert final.run_state is ExecutionRunState.COMPLETED
        assert final.result == {"attempt": 2} and final.attempts == 2


@pytest.mark.slow
def test_sigterm_finishes_the_current_operation_then_exits(sqlite_uri, markers):
    service = DelegatedOperationService(sqlite_uri)
    doc = service.queue_operation("@test/fault/slow", context={"params": {"sleep": 1.0}})
    waiting = service.queue_operation("@test/fault/slow", context={"params": {"sleep": 1.0}})
    worker = _slow_worker(sqlite_uri, markers, lease="30")
    try:
        wait_for(lambda: (markers / f"{doc.id}.1").exists(), what="the operation to start")
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    assert "SIGTERM received" in err
    assert service.get(doc.id).run_state is ExecutionRunState.COMPLETED
    assert service.get(waiting.id).run_state is ExecutionRunState.QUEUED


@pytest.mark.slow
def test_a_second_sigterm_releases_the_operation(sqlite_uri, markers):
    service = DelegatedOperationService(sqlite_uri)
    doc = service.queue_operation("@test/fault/slow", context={"params": {"sleep": 60}})
    worker = _slow_worker(sqlite_uri, markers, lease="30")
    try:
        wait_for(lambda: (markers / f"{doc.id}.1").exists(), what="the operation to start")
        worker.send_signal(signal.SIGTERM)
        wait_for(lambda: service.get(doc.id).progress is not None, what="progress")
        time.sleep(0.2)  # let the first handler run before the second signal arrives
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    released = service.get(doc.id)
    assert released.run_state is ExecutionRunState.QUEUED
    assert released.worker_id is None and released.lease_expires_at is None
    assert "released back to the queue" in err


# -- a damaged or busy store ----------------------------------------------------------------------


def test_a_corrupt_sqlite_file_is_a_clear_store_error(tmp_path):
    path = tmp_path / "ops.db"
    path.write_bytes(b"this is not a database at all" * 200)
    service = DelegatedOperationService(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="corrupt or not a SQLite database") as info:
        service.list_operations()
    assert str(path) in str(info.value)


def test_a_locked_sqlite_file_is_a_clear_store_error(tmp_path):
    import sqlite3

    path = tmp_path / "ops.db"
    store = SQLiteStore(str(path), timeout=0.2)
    service = DelegatedOperationService(store)
    doc = service.queue_operation("@o/p/x")
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE delegated_operations SET label = 'held'")
    try:
        with pytest.raises(StoreError, match="is locked by another process") as info:
            service.queue_operation("@o/p/x")
        assert str(path) in str(info.value)
        assert service.get(doc.id).label == "@o/p/x"  # readers are not blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    service.queue_operation("@o/p/x")
    assert service.count() == 2


def test_timestamps_are_timezone_aware(service):
    doc = service.queue_operation("@o/p/x")
    assert doc.queued_at.tzinfo is not None
    assert doc.queued_at.utcoffset() == dt.timedelta(0)
