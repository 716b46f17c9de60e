"""Fire-time arithmetic: cron in a zone across daylight-saving changes, intervals, bounds."""

from __future__ import annotations

import datetime as dt

import pytest

from fiftyone_plugins.errors import ScheduleError
from fiftyone_plugins.operators.stores.schedule_records import ScheduleDoc
from fiftyone_plugins.operators.triggers import (
    check_cron,
    fire_operation_id,
    fire_times,
    latest_fire_time,
    next_fire_time,
    parse_duration,
    time_zone,
)

UTC = dt.timezone.utc


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def cron(expr: str, tz: str = "UTC", **kwargs) -> ScheduleDoc:
    return ScheduleDoc(operator="@o/p/op", cron=expr, timezone=tz, **kwargs)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("90", 90), ("1.5", 1.5), (7, 7)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "-1", "0", "1w", "nan", "2e10"])
def test_bad_durations_are_schedule_errors(text):
    with pytest.raises(ScheduleError, match="Invalid duration"):
        parse_duration(text)


def test_bad_cron_and_zone_are_schedule_errors():
    with pytest.raises(ScheduleError, match="Invalid cron expression"):
        check_cron("61 * * * *")
    with pytest.raises(ScheduleError, match="Unknown time zone"):
        time_zone("Mars/Olympus")
    assert check_cron("  30   1 * * * ") == "30 1 * * *"
    assert check_cron("@daily") == "0 0 * * *" and check_cron("@HOURLY") == "0 * * * *"


def test_a_daily_0130_job_runs_once_on_the_day_the_clocks_go_back():
    # America/New_York: 2026-11-01 02:00 EDT -> 01:00 EST, so 01:30 happens twice
    doc = cron("30 1 * * *", "America/New_York")
    times = fire_times(doc, utc(2026, 10, 31, 0, 0), 3)
    assert times == [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_a_daily_job_in_the_skipped_hour_runs_once_when_the_clocks_go_forward():
    # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist; cron runs it at 03:00 EDT
    doc = cron("30 2 * * *", "America/New_York")
    times = fire_times(doc, utc(2026, 3, 7, 0, 0), 3)
    assert times == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]


def test_a_daily_job_keeps_its_wall_clock_time_across_the_change():
    doc = cron("0 9 * * *", "Europe/Berlin")
    before, after = fire_times(doc, utc(2026, 3, 27, 12, 0), 2)
    assert (before.hour, after.hour) == (8, 7)  # 09:00 CET, then 09:00 CEST


def test_sub_daily_cron_runs_through_both_copies_of_the_repeated_hour():
    doc = cron("0,30 * * * *", "America/New_York")
    times = fire_times(doc, utc(2026, 11, 1, 4, 59), 5)  # 00:59 EDT
    assert times == [utc(2026, 11, 1, 5, 0) + dt.timedelta(minutes=30 * i) for i in range(5)]


def test_intervals_are_elapsed_time_from_the_anchor():
    created = utc(2026, 1, 1, 0, 0, 0)
    doc = ScheduleDoc(operator="x", every_seconds=90, created_at=created)
    assert next_fire_time(doc, created) == created + dt.timedelta(seconds=90)
    assert next_fire_time(doc, created + dt.timedelta(seconds=90)) == created + dt.timedelta(
        seconds=180
    )
    started = ScheduleDoc(operator="x", every_seconds=60, start_at=utc(2026, 1, 2))
    assert next_fire_time(started, utc(2026, 1, 1)) == utc(2026, 1, 2)  # start_at itself fires


def test_start_and_end_bound_the_fire_times():
    doc = cron("0 * * * *", start_at=utc(2026, 1, 1, 5, 0), end_at=utc(2026, 1, 1, 7, 0))
    assert fire_times(doc, utc(2026, 1, 1), 10) == [
        utc(2026, 1, 1, 5),
        utc(2026, 1, 1, 6),
        utc(2026, 1, 1, 7),
    ]
    assert next_fire_time(doc, utc(2026, 1, 1, 7)) is None


def test_latest_fire_time_walks_or_jumps_back():
    doc = cron("* * * * *")
    first = utc(2026, 1, 1, 0, 0)
    assert latest_fire_time(doc, first, utc(2026, 1, 1, 0, 3, 30)) == utc(2026, 1, 1, 0, 3)
    far = utc(2026, 2, 1, 10, 20, 5)  # far more minutes than the walk takes
    assert latest_fire_time(doc, first, far) == utc(2026, 2, 1, 10, 20)
    every = ScheduleDoc(operator="x", every_seconds=10, created_at=first)
    assert latest_fire_time(every, first + dt.timedelta(seconds=10), far) == utc(
        2026, 2, 1, 10, 20, 0
    )


def test_fire_operation_ids_are_stable_and_distinct():
    a = fire_operation_id("a" * 24, utc(2026, 1, 1))
    assert a == fire_operation_id("a" * 24, utc(2026, 1, 1))
    assert len(a) == 24 and int(a, 16) >= 0
    assert a != fire_operation_id("a" * 24, utc(2026, 1, 1, 0, 1))
    assert a != fire_operation_id("b" * 24, utc(2026, 1, 1))
