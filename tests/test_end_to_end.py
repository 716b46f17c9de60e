"""The whole journey across real processes: install a plugin, queue one of its operators
from Python, run it with a `delegated launch` worker process, read the outcome back.

Uses the example plugin shipped in ``examples/plugins/hello`` (written against FiftyOne's
API) and the stores users get: the embedded SQLite default, and MongoDB.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

import fiftyone_plugins as fop
import fiftyone_plugins.operators as foo
from fiftyone_plugins.operators import DelegatedOperationService
from fiftyone_plugins.operators.stores import clear_cache

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "plugins" / "hello"
SUM = "@examples/hello/sum_slowly"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fiftyone_plugins", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


@pytest.fixture(params=["sqlite-default", "mongo"])
def store(request, monkeypatch):
    if request.param == "mongo":
        uri = request.getfixturevalue("mongod_uri")
        monkeypatch.setenv(
            "FIFTYONE_DELEGATED_OPERATION_STORE", f"{uri.rstrip('/')}/e2e_{os.getpid()}"
        )
    else:
        monkeypatch.delenv("FIFTYONE_DELEGATED_OPERATION_STORE")
    clear_cache()
    yield request.param
    clear_cache()


def test_queue_from_python_run_in_a_worker_process(env, store):
    installed = fop.download_plugin(str(EXAMPLE))
    assert list(installed) == ["@examples/hello"]

    immediate = foo.execute_operator("@examples/hello/say_hello", params={"name": "e2e"})
    assert immediate.result == {"message": "Hello, e2e!"}

    queued = foo.get_operator(SUM)([1, 2, 3.5], delay=0, delegate=True)
    assert queued.delegated is True
    op_id = queued.result["id"]
    listed = cli("delegated", "list", "--state", "QUEUED")
    assert listed.returncode == 0 and op_id in listed.stdout, listed.stderr

    worker = cli("delegated", "launch", "--once")
    assert worker.returncode == 0, worker.stderr
    assert f"{op_id} {SUM} completed" in worker.stderr

    doc = DelegatedOperationService().get(op_id)
    assert doc.run_state == "completed"
    assert doc.result == {"total": 6.5, "count": 3}
    assert doc.progress is not None and doc.progress.progress == 1.0
    assert doc.worker_id and doc.started_at <= doc.completed_at

    output = cli("delegated", "output", op_id)
    assert json.loads(output.stdout) == {"total": 6.5, "count": 3}
    if store == "sqlite-default":
        assert (env.config_path.parent / "delegated_operations.sqlite").exists()


def test_cli_only_journey_and_a_failure_recorded_by_the_worker(env, store):
    assert cli("plugins", "download", str(EXAMPLE)).returncode == 0
    listed = cli("operators", "list", "--names-only")
    assert SUM in listed.stdout.split()

    ok = cli("operators", "execute", SUM, "--params", '{"numbers": [2, 3]}', "--delegate")
    assert ok.returncode == 0, ok.stderr
    ok_id = json.loads(ok.stdout)["id"]
    # invalid parameters are refused before anything is queued
    bad = cli("operators", "execute", SUM, "--params", '{"numbers": "nope"}', "--delegate")
    assert bad.returncode == 1 and "Validation error. Path: numbers" in bad.stderr

    # the plugin is disabled after queueing: the worker must record a failure, not hang
    broken = cli("operators", "execute", SUM, "--params", '{"numbers": [1]}', "--delegate")
    broken_id = json.loads(broken.stdout)["id"]
    assert cli("delegated", "launch", "--once", "--limit", "1").returncode == 0
    assert cli("plugins", "disable", "@examples/hello").returncode == 0
    worker = cli("delegated", "launch", "--once")
    assert worker.returncode == 0, worker.stderr

    service = DelegatedOperationService()
    assert service.get(ok_id).result == {"total": 5, "count": 2}
    failed = service.get(broken_id)
    assert failed.run_state == "failed"
    assert "@examples/hello" in failed.error
    info = cli("delegated", "info", broken_id)
    assert info.returncode == 0 and "failed" in info.stdout
