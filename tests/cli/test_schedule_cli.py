"""``delegated schedule ...``, ``delegated scheduler`` and ``delegated list --schedule``."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from fiftyone_plugins.cli import main
from fiftyone_plugins.operators.schedules import ScheduleService
from fiftyone_plugins.operators.stores import clear_cache


@pytest.fixture(autouse=True)
def sqlite_store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", uri)
    clear_cache()
    yield uri
    clear_cache()


def run(capsys, *argv):
    code = main(["delegated", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_the_id_last_and_info_shows_times_in_the_zone(capsys):
    code, out, err = run(
        capsys,
        "schedule",
        "add",
        "@voxel51/operators/print_stdout",
        "--cron",
        "30 1 * * *",
        "--tz",
        "Europe/Paris",
        "--params",
        '{"msg": "hi"}',
        "--label",
        "nightly",
    )
    assert code == 0 and err == ""
    schedule_id = out.strip().splitlines()[-1]
    doc = ScheduleService().get_schedule(schedule_id)
    assert doc.timezone == "Europe/Paris" and doc.context["params"] == {"msg": "hi"}
    code, out, err = run(capsys, "schedule", "info", schedule_id, "-n", "3")
    assert code == 0
    assert out.count(" 01:30:00 CET") == 3  # three next fire times, in the zone
    assert "nightly" in out and "latest" in out
    code, out, _ = run(capsys, "schedule", "list")
    assert schedule_id in out and "cron 30 1 * * *" in out and "active" in out


def test_pause_resume_delete_and_unknown_ids(capsys):
    _, out, _ = run(capsys, "schedule", "add", "@o/p/op", "--every", "5m")
    schedule_id = out.strip().splitlines()[-1]
    assert run(capsys, "schedule", "pause", schedule_id)[1] == f"Paused {schedule_id}\n"
    assert "paused" in run(capsys, "schedule", "list")[1]
    assert run(capsys, "schedule", "resume", schedule_id)[1].startswith(f"Resumed {schedule_id}")
    assert run(capsys, "schedule", "delete", schedule_id)[1] == f"Deleted {schedule_id}\n"
    code, out, err = run(capsys, "schedule", "info", schedule_id)
    assert code == 2 and out == "" and "not found" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cron", "99 * * * *"], "Invalid cron"),
        (["--every", "3 weeks"], "Invalid duration"),
        (["--every", "5m", "--tz", "Atlantis/Main"], "Unknown time zone"),
    ],
)
def test_bad_schedules_are_one_line_errors(capsys, argv, message):
    code, out, err = run(capsys, "schedule", "add", "@o/p/op", *argv)
    assert code == 1 and out == "" and message in err and err.count("\n") == 1


def test_the_scheduler_fires_and_list_filters_on_the_schedule(capsys):
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    service = ScheduleService(clock=lambda: start)  # created a second ago, due at once
    fired = service.add_schedule("@o/p/op", every="1h", start_at=start)
    other = service.add_schedule("@o/p/op", every="1h", start_at=start)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "fiftyone_plugins", "delegated", "scheduler", "--once", "-q"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    code, out, _ = run(capsys, "list", "--schedule", fired.id)
    assert code == 0
    [op] = service.list_operations(fired.id)
    assert op.id in out and len(out.strip().splitlines()) == 3  # header, rule, one row
    assert len(service.list_operations(other.id)) == 1


def test_an_unreadable_schedule_is_one_line_and_can_be_deleted(capsys):
    service = ScheduleService()
    doc = service.add_schedule("@o/p/op", every="5m")
    store = service.store
    with store._tx() as conn:  # type: ignore[attr-defined]
        conn.execute('UPDATE delegated_schedules SET data = \'{"catchup": "x"}\'')
    code, out, err = run(capsys, "schedule", "info", doc.id)
    assert code == 1 and "cannot be read" in err and err.count("\n") == 1
    assert run(capsys, "schedule", "list")[0] == 0
    assert run(capsys, "schedule", "delete", doc.id)[1] == f"Deleted {doc.id}\n"
    assert service.list_schedules() == []
