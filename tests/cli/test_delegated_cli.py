"""The ``delegated`` command group, through ``cli.main`` and as a real subprocess."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from fiftyone_plugins.cli import delegated as delegated_cli
from fiftyone_plugins.cli import main
from fiftyone_plugins.operators.delegated import DelegatedOperationService
from fiftyone_plugins.operators.stores import clear_cache
from fiftyone_plugins.operators.stores.records import ExecutionRunState, SortField

ROOT = pathlib.Path(__file__).parent.parent.parent
MISSING = "0123456789abcdef01234567"


def echo(doc, progress):
    """A runner for ``launch --runner``: returns the params it was given."""
    progress(1.0, "done")
    if doc.context.get("params", {}).get("fail"):
        raise ValueError("asked to fail")
    return {"echo": doc.context.get("params")}


@pytest.fixture(autouse=True)
def sqlite_store(tmp_path, monkeypatch):
    """A file store, so subprocesses and this process see the same operations."""
    uri = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    clear_cache()
    yield uri
    clear_cache()


@pytest.fixture
def service():
    return DelegatedOperationService()


def run(capsys, *argv):
    code = main(["delegated", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_the_reference_columns_and_progress(service, capsys):
    a = service.queue_operation(
        "@voxel51/io/export_samples", context={"dataset_name": "quickstart"}
    )
    b = service.queue_operation("@voxel51/brain/embed", context={"dataset_name": "other"})
    service.set_running(b.id, worker_id="w")
    service.set_progress(b.id, 0.42)
    code, out, err = run(capsys, "list")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["id", "operator", "dataset", "queued_at", "state", "completed"]
    assert a.id in lines[2] and "quickstart" in lines[2] and "queued" in lines[2]
    assert b.id in lines[3] and "running (42%)" in lines[3]


def test_list_filters_sort_and_limit(service, capsys):
    a = service.queue_operation(
        "@voxel51/io/export_samples", context={"dataset_name": "quickstart"}
    )
    b = service.queue_operation(
        "@voxel51/io/export_samples", context={"dataset_name": "quickstart"}
    )
    c = service.queue_operation("@voxel51/brain/embed", context={"dataset_name": "quickstart"})
    for doc in (a, b):
        service.set_running(doc.id, worker_id="w")
        service.set_completed(doc.id, result=None)
    code, out, _ = run(
        capsys, "list", "--dataset", "quickstart", "--operator", "@voxel51/io/export_samples",
        "--state", "COMPLETED", "--sort-by", "COMPLETED_AT", "--reverse", "--limit", "10",
    )  # fmt: skip
    assert code == 0
    rows = out.splitlines()[2:]
    assert [r.split()[0] for r in rows] == [b.id, a.id]
    assert all("\u2713" in r for r in rows)
    _, out, _ = run(capsys, "list", "--match", "EMBED")
    assert [r.split()[0] for r in out.splitlines()[2:]] == [c.id]


def test_list_rejects_unknown_states_and_sort_keys(capsys):
    with pytest.raises(SystemExit) as info:
        main(["delegated", "list", "--state", "DONE"])
    assert info.value.code == 2
    assert "invalid state 'DONE'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["delegated", "list", "--sort-by", "SIZE"])
    assert "invalid sort key" in capsys.readouterr().err


def test_sort_by_takes_every_sort_key(service, capsys):
    assert delegated_cli._SORT_KEYS == tuple(f.name for f in SortField)
    a = service.queue_operation("@o/p/b")
    b = service.queue_operation("@o/p/a")
    service.set_scheduled(b.id)
    for key in SortField:
        code, out, err = run(capsys, "list", "--sort-by", key.name)
        assert code == 0 and err == "", key
    _, out, _ = run(capsys, "list", "--sort-by", "SCHEDULED_AT", "--reverse")
    assert [r.split()[0] for r in out.splitlines()[2:]] == [b.id, a.id]


@pytest.mark.parametrize("value", ["99999999999999999999", str(2**31), "0", "-3", "x"])
@pytest.mark.parametrize("command", [("list",), ("launch", "--once")])
def test_limits_beyond_what_stores_handle_are_usage_errors(capsys, command, value):
    with pytest.raises(SystemExit) as info:
        main(["delegated", *command, "--limit", value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "expected a positive integer up to 2147483647" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["1e308", "inf", "nan", "0", "-1"])
@pytest.mark.parametrize("option", ["--lease-seconds", "--poll-interval"])
def test_launch_durations_beyond_what_times_hold_are_usage_errors(capsys, option, value):
    with pytest.raises(SystemExit) as info:
        main(["delegated", "launch", "--once", option, value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "expected a positive number up to 1000000000" in err


def test_list_takes_the_largest_limit(service, capsys):
    doc = service.queue_operation("@o/p/x")
    code, out, _ = run(capsys, "list", "--limit", str(2**31 - 1))
    assert code == 0 and doc.id in out


def test_info_and_output(service, capsys):
    doc = service.queue_operation(
        "@o/p/x", label="Nice", context={"params": {"n": 5}, "secrets": {"K": "hidden"}}
    )
    service.set_running(doc.id, worker_id="host:1:abc")
    service.set_failed(doc.id, error="ValueError: bad n", traceback="Traceback (most recent)\n  x")
    code, out, err = run(capsys, "info", doc.id)
    assert code == 0
    keys = {line.split()[0] for line in out.splitlines()[2:] if line and not line[0].isspace()}
    for key in ("id", "operator", "run_state", "inputs", "queued_at", "started_at", "failed_at",
                "progress", "error", "traceback", "worker_id"):  # fmt: skip
        assert key in keys
    assert '"n": 5' in out and "ValueError: bad n" in out and "Traceback (most recent)" in out
    assert "hidden" not in out
    done = service.queue_operation("@o/p/x")
    service.set_running(done.id, worker_id="w")
    service.set_completed(done.id, result={"rows": [1, 2]})
    code, out, _ = run(capsys, "output", done.id)
    assert code == 0 and json.loads(out) == {"rows": [1, 2]}
    code, out, err = run(capsys, "output", doc.id)
    assert (
        code == 1 and out == "" and err == f"error: Operation {doc.id} failed: ValueError: bad n\n"
    )
    waiting = service.queue_operation("@o/p/x")
    code, out, err = run(capsys, "output", waiting.id)
    assert code == 1 and out == "" and "has no output yet: it is queued" in err


@pytest.mark.parametrize("command", ["info", "output", "rerun", "fail", "delete"])
@pytest.mark.parametrize("bad_id", ["not-an-id", MISSING])
def test_unknown_or_malformed_ids_are_one_clear_line(capsys, command, bad_id):
    code, out, err = run(capsys, command, bad_id)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    assert ("Invalid operation id" in err) if bad_id != MISSING else ("not found" in err)


def test_fail_delete_and_rerun(service, capsys):
    queued = service.queue_operation("@o/p/x", context={"params": {"n": 1}})
    running = service.queue_operation("@o/p/x")
    service.set_running(running.id, worker_id="w")
    # nothing changes when one id is unknown
    code, _, err = run(capsys, "fail", queued.id, MISSING)
    assert code == 2 and service.get(queued.id).run_state is ExecutionRunState.QUEUED
    code, out, _ = run(capsys, "fail", queued.id, running.id)
    assert code == 0 and out.count("failed") == 2
    code, _, err = run(capsys, "fail", queued.id)
    assert code == 1 and "it is failed" in err
    code, out, _ = run(capsys, "rerun", queued.id)
    new_id = out.strip()
    assert code == 0 and service.get(new_id).context == {"params": {"n": 1}}
    code, _, err = run(capsys, "rerun", new_id)
    assert code == 1 and "only completed or failed" in err
    code, out, _ = run(capsys, "delete", queued.id, new_id)
    assert code == 0 and f"Deleted {new_id}" in out
    assert service.count() == 1


def test_fail_checks_every_state_before_changing_anything(service, capsys):
    queued = service.queue_operation("@o/p/x")
    completed = service.queue_operation("@o/p/x")
    service.set_running(completed.id, worker_id="w")
    service.set_completed(completed.id)
    code, out, err = run(capsys, "fail", queued.id, completed.id)
    assert code == 1 and out == ""
    assert err == (
        f"error: Cannot fail delegated operation {completed.id}: it is completed; "
        "nothing was changed\n"
    )
    assert service.get(queued.id).run_state is ExecutionRunState.QUEUED
    code, out, err = run(capsys, "fail", queued.id, queued.id)
    assert code == 0 and out == f"Marked {queued.id} failed\n" and err == ""


def test_delete_with_a_repeated_id_deletes_and_reports_it_once(service, capsys):
    a = service.queue_operation("@o/p/x")
    b = service.queue_operation("@o/p/x")
    code, out, err = run(capsys, "delete", a.id, a.id)
    assert code == 0 and out == f"Deleted {a.id}\n" and err == ""
    assert [d.id for d in service.list_operations()] == [b.id]


def test_delete_refuses_every_id_when_one_is_running(service, capsys):
    a = service.queue_operation("@o/p/x")
    running = service.queue_operation("@o/p/x")
    service.set_running(running.id, worker_id="w")
    code, out, err = run(capsys, "delete", a.id, running.id)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"{running.id}: it is running" in err and "nothing was changed" in err
    assert service.count() == 2


def test_a_corrupt_record_is_one_line_and_does_not_block_the_queue(service, capsys):
    import sqlite3

    bad = service.queue_operation("@o/p/x", context={"params": {"n": 1}})
    good = service.queue_operation("@o/p/x", context={"params": {"n": 2}})
    conn = sqlite3.connect(service.store.path)
    with conn:
        conn.execute("UPDATE delegated_operations SET data = '{not json' WHERE id = ?", (bad.id,))
    conn.close()
    for argv in (("list",), ("info", bad.id)):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and err.count("\n") == 1, argv
        assert err.startswith("error: ") and f"{bad.id}" in err and "corrupt" in err
        assert "Traceback" not in err
    code, _, err = run(capsys, "launch", "--once", "--runner", f"{__name__}:echo")
    assert code == 0 and "Traceback" not in err
    assert service.get(good.id).result == {"echo": {"n": 2}}
    code, out, err = run(capsys, "info", bad.id)
    assert code == 0 and "failed" in out and "stored record is corrupt" in out
    code, out, _ = run(capsys, "list")
    assert code == 0 and bad.id in out and good.id in out


def test_delete_refuses_running_operations(service, capsys):
    doc = service.queue_operation("@o/p/x")
    service.set_running(doc.id, worker_id="w")
    code, _, err = run(capsys, "delete", doc.id)
    assert code == 1 and "running" in err and err.count("\n") == 1
    assert service.get(doc.id).run_state is ExecutionRunState.RUNNING


def test_cleanup(service, capsys):
    failed = service.queue_operation("@o/p/x", context={"dataset_name": "quickstart"})
    service.fail_operation(failed.id)
    kept = service.queue_operation("@o/p/x", context={"dataset_name": "quickstart"})
    code, _, err = run(capsys, "cleanup")
    assert code == 1 and "at least one criterion" in err
    code, out, _ = run(capsys, "cleanup", "--dataset", "quickstart", "--state", "FAILED",
                       "--dry-run")  # fmt: skip
    assert code == 0 and failed.id in out and "Would delete 1 operation" in out
    assert service.count() == 2
    code, out, _ = run(capsys, "cleanup", "--dataset", "quickstart", "--state", "FAILED")
    assert code == 0 and "Deleted 1 operation" in out
    assert [d.id for d in service.list_operations()] == [kept.id]
    code, out, _ = run(capsys, "cleanup", "--orphan")
    assert code == 0 and "Deleted 0 operations" in out


def test_launch_once_in_process(service, capsys):
    ok = service.queue_operation("@o/p/x", context={"params": {"n": 1}})
    bad = service.queue_operation("@o/p/x", context={"params": {"fail": True}})
    code, _, _ = run(capsys, "launch", "--once", "--runner", f"{__name__}:echo")
    assert code == 0
    assert service.get(ok.id).result == {"echo": {"n": 1}}
    assert service.get(bad.id).error == "ValueError: asked to fail"


def test_launch_takes_fiftyones_type_flag_and_filters_targets_by_name(service, capsys):
    gpu = service.queue_operation("@o/p/x", delegation_target="gpu")
    plain = service.queue_operation("@o/p/x")
    args = ("launch", "-t", "local", "--once", "--runner", f"{__name__}:echo")
    assert run(capsys, *args, "--target", "gpu")[0] == 0
    assert service.get(gpu.id).run_state == "completed"
    assert service.get(plain.id).run_state == "queued"
    assert run(capsys, *args)[0] == 0
    assert service.get(plain.id).run_state == "completed"
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "launch", "--type", "remote", "--once")
    assert exit_info.value.code == 2 and "invalid choice: 'remote'" in capsys.readouterr().err


def test_launch_with_an_unimportable_runner_is_a_clear_error(capsys):
    code, _, err = run(capsys, "launch", "--once", "--runner", "no_such_mod_q:run")
    assert code == 1 and "Cannot import the runner" in err


def test_corrupt_store_is_one_clear_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", f"sqlite:///{bad}")
    code, _, err = run(capsys, "list")
    assert code == 1 and str(bad) in err and err.count("\n") == 1


def _cli(*argv, env=None):
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(pathlib.Path(__file__).parent), str(ROOT), full_env.get("PYTHONPATH", "")]
    )
    full_env.update(env or {})
    exe = pathlib.Path(sys.executable).with_name("fiftyone-plugins")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "fiftyone_plugins"]
    return subprocess.run(
        [*cmd, "delegated", *argv], env=full_env, capture_output=True, text=True, timeout=60
    )


def test_real_processes_queue_launch_list_and_output(service):
    doc = service.queue_operation("@o/p/x", context={"params": {"n": 7}, "dataset_name": "ds"})
    result = _cli("launch", "--once", "--runner", "test_delegated_cli:echo")
    assert result.returncode == 0, result.stderr
    assert doc.id in result.stderr and "completed in" in result.stderr
    listed = _cli("list", "--state", "completed")
    assert listed.returncode == 0 and doc.id in listed.stdout and "completed" in listed.stdout
    output = _cli("output", doc.id)
    assert json.loads(output.stdout) == {"echo": {"n": 7}}


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:////tmp/x.db?timeout=abc",
        "mongodb://h:99999/x",
        "mongodb://[bad/x",
        "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=abc",
    ],
)
def test_real_process_malformed_store_url_is_one_line_naming_the_setting(uri):
    if uri.startswith("mongodb"):
        pytest.importorskip("mongoengine", reason="the [mongo] extra is not installed")
    result = _cli("list", env={"FIFTYONE_DELEGATED_OPERATION_STORE": uri})
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "FIFTYONE_DELEGATED_OPERATION_STORE" in result.stderr
    assert "Traceback" not in result.stderr


def test_real_process_unknown_id_exits_2_without_traceback():
    result = _cli("info", MISSING)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: Delegated operation {MISSING} not found"
