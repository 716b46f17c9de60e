"""``delegated launch --monitor``: each operation in a watched child process."""

from __future__ import annotations

import textwrap

import pytest

from fiftyone_plugins.cli import main
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.monitor import MonitoredRunner, parse_memory
from fiftyone_plugins.operators.orchestrator import Worker
from fiftyone_plugins.operators.stores import clear_cache
from fiftyone_plugins.operators.stores.records import ExecutionRunState

RUNNERS = """
import ctypes
import os


def ok(doc, progress):
    progress(0.5, "half way")
    print("printed by the operation", flush=True)
    return {"pid": os.getpid(), "params": doc.context.get("params")}


def hard_exit(doc, progress):
    os._exit(3)


def crash(doc, progress):
    ctypes.string_at(0)  # a segmentation fault


def blow_up(doc, progress):
    hog = []
    while True:
        hog.append(bytearray(64 * 1024 * 1024))


def raises(doc, progress):
    raise RuntimeError("an ordinary failure")


def leaves_things_behind(doc, progress):
    import atexit, subprocess, threading, time

    subprocess.Popen(["sleep", "30"], close_fds=False)  # inherits every descriptor
    threading.Thread(target=time.sleep, args=(30,)).start()  # not a daemon
    atexit.register(lambda: os._exit(1))  # a library crashing at exit
    return {"answer": 42}


def by_params(doc, progress):
    return globals()[doc.context["params"]["do"]](doc, progress)
"""


@pytest.fixture
def service(tmp_path, monkeypatch):
    (tmp_path / "monitor_runners.py").write_text(textwrap.dedent(RUNNERS))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # for the children
    monkeypatch.syspath_prepend(str(tmp_path))  # the worker checks the runner imports
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", f"sqlite:///{tmp_path}/ops.db")
    clear_cache()
    yield DelegatedOperationService()
    clear_cache()


def drain(service, runner, max_memory=None):
    finished = []
    Worker(
        service,
        runner=MonitoredRunner(f"monitor_runners:{runner}", max_memory=max_memory),
        once=True,
        progress_interval=0,
        on_finished=finished.append,
    ).run()
    return finished


def test_an_operation_runs_in_its_own_process_with_progress_and_output(service, capfd):
    import os

    doc = service.queue_operation("@o/p/x", context={"params": {"n": 1}})
    [final] = drain(service, "ok")
    assert final.run_state is ExecutionRunState.COMPLETED
    assert final.result["params"] == {"n": 1} and final.result["pid"] != os.getpid()
    assert service.get(doc.id).progress.label == "half way"
    assert "printed by the operation" in capfd.readouterr().out


@pytest.mark.parametrize(
    ("runner", "reason"),
    [("hard_exit", "exited with code 3"), ("crash", "killed by SIGSEGV")],
)
def test_a_dying_operation_fails_with_the_reason_and_the_worker_goes_on(service, runner, reason):
    dying = service.queue_operation("@o/p/x", context={"params": {"do": runner}})
    after = service.queue_operation("@o/p/x", context={"params": {"do": "ok"}})
    finished = {d.id: d for d in drain(service, "by_params")}  # one worker, both operations
    assert finished[dying.id].run_state is ExecutionRunState.FAILED
    assert reason in finished[dying.id].error
    assert finished[after.id].run_state is ExecutionRunState.COMPLETED


def test_a_memory_blow_up_fails_that_operation_only(service):
    doc = service.queue_operation("@o/p/x")
    [final] = drain(service, "blow_up", max_memory=parse_memory("600M"))
    assert final.id == doc.id and final.run_state is ExecutionRunState.FAILED
    assert "MemoryError" in final.error


def test_an_ordinary_failure_keeps_its_message_and_traceback(service):
    service.queue_operation("@o/p/x")
    [final] = drain(service, "raises")
    assert final.error == "RuntimeError: an ordinary failure"
    assert "Traceback" in final.error_trace


def test_the_cli_flag(service, capsys):
    doc = service.queue_operation("@o/p/x")
    code = main(["delegated", "launch", "--monitor", "--once", "--runner", "monitor_runners:ok"])
    assert code == 0 and service.get(doc.id).run_state is ExecutionRunState.COMPLETED
    with pytest.raises(SystemExit) as usage:
        main(["delegated", "launch", "--max-memory", "1G", "--once"])
    assert usage.value.code == 2 and "--monitor" in capsys.readouterr().err
    for bad in ("lots", "inf", "1e30"):
        with pytest.raises(SystemExit):
            main(["delegated", "launch", "--monitor", "--max-memory", bad])


def test_an_unimportable_runner_stops_the_worker_before_it_claims(service, capsys):
    doc = service.queue_operation("@o/p/x")
    code = main(["delegated", "launch", "--monitor", "--once", "--runner", "monitor_runners:nope"])
    assert code == 1 and "Cannot import the runner" in capsys.readouterr().err
    assert service.get(doc.id).run_state is ExecutionRunState.QUEUED


def test_an_outcome_stands_whatever_the_exit_and_leftovers_never_hold_the_worker(service):
    import time

    service.queue_operation("@o/p/x", context={"params": {"do": "leaves_things_behind"}})
    started = time.monotonic()
    [final] = drain(service, "by_params")
    assert final.run_state is ExecutionRunState.COMPLETED and final.result == {"answer": 42}
    assert time.monotonic() - started < 5  # not the 30 s the leftovers would keep it


def test_sizes():
    assert parse_memory("512M") == 512 * 1024**2 and parse_memory("2g") == 2 * 1024**3
    assert parse_memory("1024") == 1024
    with pytest.raises(ValueError):
        parse_memory("-1G")
