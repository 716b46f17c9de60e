"""The execution-backend contract, passed by every backend: local, a real local Ray cluster and
a real Dask ``LocalCluster`` (both started once per session, see ``tests/_engines.py``).

Operations are real operators of the ``engine_ops`` fixture plugin; the engines run them with
their own plugin registry and never touch the store, which here is a SQLite file, as a remote
cluster would need: everything they report travels back to the dispatching worker.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest
from _engines import make_backend, require

from fiftyone_plugins.errors import BackendUnavailableError
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

BACKENDS = ["local", "ray", "dask"]
ENGINES = ["ray", "dask"]
OPS = "@test/engine_ops"


@pytest.fixture
def service(tmp_path, env):
    env.add_fixture_plugin("engine_ops")  # what the local backend runs
    store = SQLiteStore(str(tmp_path / "ops.sqlite"))
    yield DelegatedOperationService(store, lease_seconds=1.5)
    store.close()


@pytest.fixture
def trace(tmp_path) -> pathlib.Path:
    return tmp_path / "trace.log"


def lines(trace: pathlib.Path) -> list[list[str]]:
    return [line.split() for line in trace.read_text().splitlines()] if trace.exists() else []


def wait_for(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def in_thread(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


# -- outcomes -------------------------------------------------------------------------------------


def test_results_and_errors_come_back_as_json(service, backend, request):
    ok = service.queue_operation(f"{OPS}/echo", context={"params": {"payload": [1, "two"]}})
    bad = service.queue_operation(f"{OPS}/boom", context={"params": {"payload": 7}})
    odd = service.queue_operation(f"{OPS}/unstorable")
    stats = Worker(service, backend=make_backend(backend, request), once=True).run()
    assert (stats.completed, stats.failed) == (1, 2)
    done = service.get(ok.id)
    assert done.run_state.value == "completed"
    assert done.result == {"params": [1, "two"], "delegated": True}
    failed = service.get(bad.id)
    assert failed.run_state.value == "failed" and failed.error == "ValueError: boom 7"
    assert "ValueError: boom 7" in failed.error_trace
    assert "could not be stored" in service.get(odd.id).error


def test_each_operation_runs_exactly_once_with_several_workers(service, backend, request, trace):
    docs = [
        service.queue_operation(
            f"{OPS}/echo", context={"params": {"tag": i, "trace": str(trace), "payload": i}}
        )
        for i in range(12)
    ]
    workers = [
        Worker(service, backend=make_backend(backend, request), once=True, concurrency=2)
        for _ in range(3)
    ]
    threads = [in_thread(w) for w in workers]
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    ran = sorted(int(tag) for tag, what, _pid in lines(trace) if what == "ran")
    assert ran == list(range(12))
    assert sum(w.stats.completed for w in workers) == 12
    for doc in docs:
        final = service.get(doc.id)
        assert final.run_state.value == "completed" and final.attempts == 1


def test_progress_is_relayed_into_the_store(service, backend, request, trace):
    doc = service.queue_operation(
        f"{OPS}/nap", context={"params": {"tag": "p", "trace": str(trace), "seconds": 3}}
    )
    worker = Worker(
        service, backend=make_backend(backend, request), once=True, progress_interval=0
    )
    thread = in_thread(worker)

    def half_way_while_running() -> bool:
        current = service.get(doc.id)
        progress = current.progress
        running = current.run_state.value == "running"
        return running and progress is not None and progress.label == "half way"

    wait_for(half_way_while_running, what="the progress relayed while the operation runs")
    assert service.get(doc.id).progress.progress == 0.5
    thread.join(60)
    assert service.get(doc.id).run_state.value == "completed"


# -- cancellation -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["failed by the user", "lease lost"])
def test_an_operation_taken_away_is_cancelled_and_its_outcome_discarded(
    service, backend, request, trace, how
):
    seconds = 1 if backend == "local" else 3  # the local run cannot be stopped: keep it short
    doc = service.queue_operation(
        f"{OPS}/nap", context={"params": {"tag": "c", "trace": str(trace), "seconds": seconds}}
    )
    worker = Worker(service, backend=make_backend(backend, request), once=True)
    thread = in_thread(worker)
    wait_for(lambda: any(what == "started" for _t, what, _p in lines(trace)), what="start")
    started = time.monotonic()
    if how == "failed by the user":
        service.fail_operation(doc.id)
        expected = "Marked as failed by the user"
    else:  # another worker resolved the lease as expired: this worker no longer holds it
        import datetime as dt

        from fiftyone_plugins.operators.stores.records import utcnow

        service.resolve_expired_leases(now=utcnow() + dt.timedelta(seconds=60))
        expected = "Worker lost"
    thread.join(60)
    final = service.get(doc.id)
    assert final.run_state.value == "failed" and final.error.startswith(expected)
    assert worker.stats.lost == 1 and worker.stats.completed == 0
    if backend == "ray":  # Ray stops the task for real: it never finishes its nap
        assert time.monotonic() - started < 2.5
        assert not any(what == "finished" for _t, what, _p in lines(trace))


# -- faults on real clusters --------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 2])
def test_a_killed_engine_worker_fails_or_requeues_the_operation_once(
    service, engine, request, trace, max_attempts
):
    doc = service.queue_operation(
        f"{OPS}/nap",
        context={"params": {"tag": "k", "trace": str(trace), "seconds": 30}},
        metadata={"max_attempts": max_attempts},
    )
    worker = Worker(service, backend=make_backend(engine, request), once=True, concurrency=1)
    thread = in_thread(worker)
    wait_for(lambda: any(what == "started" for _t, what, _p in lines(trace)), what="start")
    pid = int(next(p for _t, what, p in lines(trace) if what == "started"))
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # the engine's worker process dies mid-operation
    thread.join(90)
    assert not thread.is_alive()
    final = service.get(doc.id)
    if max_attempts == 1:
        assert final.run_state.value == "failed"
        assert "lost" in final.error and final.attempts == 1
    else:  # requeued by the store's policy, then run again (quickly) by the same worker
        assert final.run_state.value == "completed" and final.attempts == 2
        assert final.result == {"retried": True}
    starts = [p for _t, what, p in lines(trace) if what == "started"]
    assert len(starts) == max_attempts  # never run by the engine on its own again


def test_an_unreachable_cluster_fails_the_start_and_leaves_the_queue_untouched(
    service, engine, tmp_path
):
    doc = service.queue_operation(f"{OPS}/echo")
    if engine == "dask":
        from fiftyone_plugins.operators.backends.dask import DaskBackend

        backend = DaskBackend(address="tcp://127.0.0.1:9")  # the discard port: nobody there
        with pytest.raises(BackendUnavailableError, match="Cannot reach the Dask cluster"):
            Worker(service, backend=backend, once=True).run()
    else:  # Ray is one connection per process: try it in a fresh one, through the CLI
        store = {"FIFTYONE_DELEGATED_OPERATION_STORE": f"sqlite:///{tmp_path}/ops.sqlite"}
        result = _cli(
            "launch", "--backend", "ray", "--address", "127.0.0.1:9", "--once", env=store
        )
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Cannot reach the Ray cluster at 127.0.0.1:9" in errors[0]
    current = service.get(doc.id)
    assert current.run_state.value == "queued" and current.attempts == 0


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_missing_extra_is_one_line_naming_the_install(engine_name):
    package = "ray" if engine_name == "ray" else "distributed"
    code = (
        f"import sys; sys.modules[{package!r}] = None\n"
        "from fiftyone_plugins.cli import main\n"
        f"sys.exit(main(['delegated', 'launch', '--backend', {engine_name!r}, '--once']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: The {engine_name} backend needs {engine_name} ({package}): "
        f"pip install 'fiftyone-plugins[{engine_name}]'"
    ]


def test_the_engine_packages_stay_unimported_until_chosen():
    code = (
        "import sys, fiftyone_plugins, fiftyone_plugins.operators.orchestrator\n"
        "from fiftyone_plugins.operators.orchestrator import Worker\n"
        "Worker(backend='local')\n"
        "print(sorted(m for m in ('ray', 'dask', 'distributed') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_backend_comes_from_the_environment(monkeypatch):
    require("distributed")
    monkeypatch.setenv("FIFTYONE_DELEGATED_BACKEND", "dask")
    monkeypatch.setenv("FIFTYONE_DELEGATED_BACKEND_ADDRESS", "tcp://127.0.0.1:9")
    from fiftyone_plugins.operators.backends import resolve_backend

    chosen = resolve_backend()
    assert chosen.name == "dask" and chosen.address == "tcp://127.0.0.1:9"
    monkeypatch.setenv("FIFTYONE_DELEGATED_BACKEND", "spark")
    with pytest.raises(BackendUnavailableError, match="choose from local, ray, dask"):
        resolve_backend()


# -- resources --------------------------------------------------------------------------------


def test_resources_come_from_the_operation_or_its_delegation_target(monkeypatch):
    from fiftyone_plugins.operators.backends import Job, Resources
    from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc, new_id

    monkeypatch.setenv("FIFTYONE_DELEGATED_TARGET_RESOURCES", '{"gpu": {"gpus": 1, "cpus": 4}}')
    by_target = DelegatedOperationDoc(operator="@a/b/c", id=new_id(), delegation_target="gpu")
    own = DelegatedOperationDoc(
        operator="@a/b/c",
        id=new_id(),
        delegation_target="gpu",
        metadata={"resources": {"cpus": 1, "memory": 2e9}},
    )
    plain = DelegatedOperationDoc(operator="@a/b/c", id=new_id())
    assert Job(by_target).resources == Resources(cpus=4, gpus=1)
    assert Job(own).resources == Resources(cpus=1, memory=2_000_000_000)
    assert Job(plain).resources is None


def test_ray_passes_resources_and_dask_says_it_cannot(service, engine, request, caplog):
    doc = service.queue_operation(
        f"{OPS}/echo", context={"params": {"payload": "r"}}, metadata={"resources": {"cpus": 2}}
    )
    caplog.set_level("WARNING", logger="fiftyone_plugins.operators.worker")
    Worker(service, backend=make_backend(engine, request), once=True).run()
    assert service.get(doc.id).run_state.value == "completed"
    refused = [r for r in caplog.records if "does not pass per-operation resources" in r.message]
    assert len(refused) == (1 if engine == "dask" else 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_dispatcher_is_recovered_and_its_engine_task_stopped(
    service, engine, request, trace, tmp_path
):
    doc = service.queue_operation(
        f"{OPS}/nap",
        context={"params": {"tag": "d", "trace": str(trace), "seconds": 60}},
        metadata={"max_attempts": 2},
    )
    launch = ["delegated", "launch", "--backend", engine, "--once", "--lease-seconds", "1"]
    if engine == "dask":
        launch += ["--address", request.getfixturevalue("dask_cluster").scheduler_address]
        code = f"import sys; from fiftyone_plugins.cli import main; sys.exit(main({launch!r}))"
    else:  # a second driver on the session's cluster, with the engine side's environment
        from _engines import engine_env

        ray = request.getfixturevalue("ray_cluster")
        gcs = ray.get_runtime_context().gcs_address
        runtime_env = {"env_vars": engine_env(request.getfixturevalue("engine_home"))}
        code = (
            "import sys, ray\n"
            f"ray.init(address={gcs!r}, runtime_env={runtime_env!r}, log_to_driver=False)\n"
            f"from fiftyone_plugins.cli import main\nsys.exit(main({launch!r}))"
        )
    store = {"FIFTYONE_DELEGATED_OPERATION_STORE": f"sqlite:///{tmp_path}/ops.sqlite"}
    with open(tmp_path / "dispatcher.log", "w") as log:
        dispatcher = subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, **store},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_for(
                lambda: any(what == "started" for _t, what, _p in lines(trace)),
                timeout=60,
                what=f"the first attempt ({(tmp_path / 'dispatcher.log').read_text()[-500:]})",
            )
        finally:
            dispatcher.kill()  # the dispatching worker dies mid-operation
            dispatcher.wait(30)
    orphan = int(next(p for _t, what, p in lines(trace) if what == "started"))
    time.sleep(1.2)  # its lease runs out
    worker = Worker(service, backend=make_backend(engine, request), once=True, concurrency=1)
    in_thread(worker).join(90)
    final = service.get(doc.id)
    assert final.run_state.value == "completed" and final.attempts == 2
    assert final.result == {"retried": True}
    # the first attempt's engine task was stopped, not left to finish its 60 s nap
    wait_for(lambda: not _alive(orphan), timeout=20, what="the orphaned task to stop")
    assert [t for t, what, _p in lines(trace) if what == "finished"] == ["d"]


def test_a_cluster_lost_mid_run_fails_the_operations_in_flight(service, trace):
    from _engines import require

    require("distributed")
    from fiftyone_plugins.operators.backends.dask import DaskBackend

    doc = service.queue_operation(
        f"{OPS}/nap", context={"params": {"tag": "m", "trace": str(trace), "seconds": 60}}
    )
    backend = DaskBackend(n_workers=1)  # a cluster of its own, started by the backend
    worker = Worker(service, backend=backend, once=True)
    thread = in_thread(worker)
    wait_for(lambda: any(what == "started" for _t, what, _p in lines(trace)), what="start")
    backend._cluster.close()  # the whole cluster goes away under the worker
    thread.join(90)
    assert not thread.is_alive()
    final = service.get(doc.id)
    assert final.run_state.value == "failed"
    assert "Dask task" in final.error and final.attempts == 1


@pytest.mark.parametrize("engine_name", ENGINES)
def test_without_an_address_a_local_cluster_lives_as_long_as_the_worker(
    engine_name, tmp_path, env
):
    from _engines import require

    require("ray" if engine_name == "ray" else "distributed")
    env.add_fixture_plugin("engine_ops")  # the local cluster's processes inherit this setting
    uri = f"sqlite:///{tmp_path}/ops.sqlite"
    service = DelegatedOperationService(uri)
    doc = service.queue_operation(f"{OPS}/echo", context={"params": {"payload": engine_name}})
    result = _cli(
        "launch",
        "--backend",
        engine_name,
        "--once",
        "--max-in-flight",
        "1",
        env={"FIFTYONE_DELEGATED_OPERATION_STORE": uri, "RAY_ADDRESS": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert service.get(doc.id).result == {"params": engine_name, "delegated": True}
    assert f"backend {engine_name} (local cluster)" in result.stderr
    # and nothing it started outlives it: no process left with this test's store in its env
    wait_for(lambda: not _processes_with(uri), timeout=20, what="the local cluster to stop")


def _processes_with(text: str) -> list[int]:
    """Pids of processes whose environment holds ``text`` (Linux: /proc/<pid>/environ)."""
    found = []
    needle = text.encode()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_an_operator_asks_for_resources_in_its_config(service, engine, request):
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators.backends import Job, Resources

    queued = foo.execute_operator(f"{OPS}/heavy", request_delegation=True)
    configured = foo.DelegatedOperationService()  # the configured store: where it was queued
    stored = configured.get(queued.result["id"])
    assert stored.metadata["resources"] == {"cpus": 2}
    assert Job(stored).resources == Resources(cpus=2)
    Worker(configured, backend=make_backend(engine, request), once=True).run()
    assert configured.get(stored.id).result == {"heavy": True}
