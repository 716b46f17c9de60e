"""Workers announce themselves in the store: the same on memory, SQLite and MongoDB."""

from __future__ import annotations

import datetime as dt
import threading
import time

from fiftyone_plugins.cli import main
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.presence import (
    WorkerInfo,
    announce,
    list_workers,
    unrunnable,
    withdraw,
)
from fiftyone_plugins.operators.stores.records import utcnow


def test_announce_list_and_withdraw(store):
    service = DelegatedOperationService(store)
    announce(service, WorkerInfo(id="w1", backend="ray (local cluster)", lease_seconds=30))
    announce(service, WorkerInfo(id="w2", delegation_target="gpu", operators=["@a/b/c"]))
    found = {w.id: w for w in list_workers(service)}
    assert set(found) == {"w1", "w2"}
    assert found["w1"].backend == "ray (local cluster)" and found["w1"].alive()
    assert found["w2"].delegation_target == "gpu" and found["w2"].operators == ["@a/b/c"]
    assert abs((utcnow() - found["w2"].last_seen).total_seconds()) < 5
    withdraw(service, "w1")
    assert [w.id for w in list_workers(service)] == ["w2"]


def test_queued_operations_no_live_worker_can_run_are_named(store):
    service = DelegatedOperationService(store)
    gpu = service.queue_operation("@a/b/train", delegation_target="gpu")
    other = service.queue_operation("@a/b/export")
    cpu = service.queue_operation("@a/b/train")
    announce(service, WorkerInfo(id="cpu", operators=["@a/b/train"], lease_seconds=10))
    gone = WorkerInfo(id="old-gpu", delegation_target="gpu", lease_seconds=10)
    announce(service, gone)
    workers = list_workers(service)
    assert [d.id for d in unrunnable(service, workers)] == [other.id]  # cpu runs gpu's too
    for w in workers:  # both seen long ago: neither is alive any more
        w.last_seen = utcnow() - dt.timedelta(minutes=5)
    assert [d.id for d in unrunnable(service, workers)] == [gpu.id, other.id, cpu.id]


def test_a_running_worker_is_listed_and_leaves_when_it_stops(store, capsys):
    service = DelegatedOperationService(store, lease_seconds=0.3)
    service.queue_operation("@a/b/slow")
    release = threading.Event()
    worker = Worker(
        service,
        runner=lambda doc, progress: release.wait(10),
        worker_id="lister",
        once=True,
        operators=["@a/b/slow"],
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not any(w.in_flight == 1 for w in list_workers(service)):
        assert time.monotonic() < deadline, "the worker never showed its operation"
        time.sleep(0.05)
    (info,) = list_workers(service)
    assert (info.id, info.backend, info.operators) == ("lister", "local", ["@a/b/slow"])
    release.set()
    thread.join(10)
    assert list_workers(service) == []


def test_the_workers_command(capsys, monkeypatch, tmp_path):
    uri = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    service = DelegatedOperationService()
    announce(
        service,
        WorkerInfo(
            id="host:1:abc", backend="dask (tcp://127.0.0.1:8786)", delegation_target="gpu"
        ),
    )
    doc = service.queue_operation("@a/b/c", delegation_target="nowhere")
    assert main(["delegated", "workers"]) == 0
    out = capsys.readouterr().out
    assert "host:1:abc" in out and "dask (tcp://127.0.0.1:8786)" in out
    assert "1 queued operation(s) no live worker can run:" in out
    assert f"{doc.id} @a/b/c, target nowhere" in out
