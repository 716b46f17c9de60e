"""``delegated run ID``: one operation, claimed and run here, for any external scheduler.

Exit codes are the contract a scheduler reads: 0 completed, 1 failed, 3 not claimable.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fiftyone_plugins.cli import main
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.stores import clear_cache

OPS = "@test/engine_ops"
MISSING = "0123456789abcdef01234567"


@pytest.fixture(autouse=True)
def sqlite_store(tmp_path, monkeypatch, env):
    """A file store (a subprocess sees it too) and the operators the runs execute."""
    env.add_fixture_plugin("engine_ops")
    uri = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    clear_cache()
    yield uri
    clear_cache()


@pytest.fixture
def service():
    return DelegatedOperationService()


def run(capsys, *argv):
    code = main(["delegated", "run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_completed_operation_exits_0_and_only_that_one_is_claimed(service, capsys):
    first = service.queue_operation(f"{OPS}/echo", context={"params": {"payload": 1}})
    chosen = service.queue_operation(f"{OPS}/echo", context={"params": {"payload": 2}})
    code, out, _err = run(capsys, chosen.id, "--worker-id", "airflow-task-42")
    assert code == 0
    assert out.splitlines() == [f"Operation {chosen.id} completed"]
    done = service.get(chosen.id)
    assert done.result == {"params": 2, "delegated": True}
    assert done.worker_id == "airflow-task-42" and done.attempts == 1
    assert service.get(first.id).run_state.value == "queued"


def test_a_failed_operation_exits_1_with_its_error(service, capsys):
    doc = service.queue_operation(f"{OPS}/boom", context={"params": {"payload": 3}})
    code, out, _err = run(capsys, doc.id)
    assert code == 1
    assert out.splitlines() == [f"Operation {doc.id} failed: ValueError: boom 3"]
    assert service.get(doc.id).run_state.value == "failed"


@pytest.mark.parametrize("case", ["unknown", "malformed", "completed", "running"])
def test_an_operation_that_is_not_claimable_exits_3_and_changes_nothing(service, capsys, case):
    if case in ("unknown", "malformed"):
        op_id, why = (MISSING if case == "unknown" else "not-an-id"), "no operation has this id"
    else:
        doc = service.queue_operation(f"{OPS}/echo")
        service.set_running(doc.id, worker_id="someone-else")
        if case == "completed":
            service.set_completed(doc.id, {"x": 1}, worker_id="someone-else")
        op_id, why = doc.id, f"it is {case}, not queued"
    code, out, err = run(capsys, op_id)
    assert code == 3 and out == ""
    assert err.splitlines() == [f"error: Operation {op_id} is not claimable: {why}"]
    if case == "running":
        assert service.get(op_id).worker_id == "someone-else"


def test_the_heartbeat_keeps_a_run_longer_than_its_lease(service, capsys, tmp_path):
    doc = service.queue_operation(
        f"{OPS}/nap",
        context={"params": {"tag": "h", "trace": str(tmp_path / "t"), "seconds": 1.2}},
    )
    code, out, _err = run(capsys, doc.id, "--lease-seconds", "0.3")
    assert code == 0, out
    final = service.get(doc.id)
    assert final.run_state.value == "completed" and final.progress.label == "half way"


def test_a_scheduler_runs_it_as_a_command(service, sqlite_store):
    doc = service.queue_operation(f"{OPS}/echo", context={"params": {"payload": "k8s"}})
    result = subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", "run", doc.id, "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FIFTYONE_DELEGATED_OPERATION_STORE": sqlite_store},
    )
    assert (result.returncode, result.stdout) == (0, f"Operation {doc.id} completed\n")
    again = subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", "delegated", "run", doc.id],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FIFTYONE_DELEGATED_OPERATION_STORE": sqlite_store},
    )
    assert again.returncode == 3 and "is not claimable: it is completed" in again.stderr
    assert service.get(doc.id).result == {"params": "k8s", "delegated": True}
