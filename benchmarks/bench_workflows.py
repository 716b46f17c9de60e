"""Workflows: firing due schedules.

Usage::

    python benchmarks/bench_workflows.py                    # 1,000 schedules on SQLite
    python benchmarks/bench_workflows.py --schedules 5000 --backends sqlite memory

Creates ``--schedules`` interval schedules that are all due at one fake time, then times one
:meth:`ScheduleService.fire_due` pass over them (each fire: the overlap check, the insert of
the operation under its derived id, the compare-and-set advance of the schedule), and a second
pass at the same time (nothing due: the cost of an idle pass).

Target: firing 1,000 due schedules in under 1 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _store(kind: str, folder: str):
    if kind == "memory":
        from fiftyone_plugins.operators.stores.memory import MemoryStore

        return MemoryStore()
    from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

    return SQLiteStore(f"{folder}/bench.db")


def bench_fire(kind: str, count: int) -> dict[str, float]:
    from fiftyone_plugins.operators.schedules import ScheduleService

    with tempfile.TemporaryDirectory() as folder:
        store = _store(kind, folder)
        service = ScheduleService(store, clock=lambda: T0)
        for _ in range(count):
            service.add_schedule("@bench/op", every="1m")
        due = T0 + dt.timedelta(minutes=1, seconds=1)
        start = time.perf_counter()
        report = service.fire_due(due, limit=count)
        fired = time.perf_counter() - start
        assert len(report.created) == count, len(report.created)
        start = time.perf_counter()
        service.fire_due(due, limit=count)
        idle = time.perf_counter() - start
        store.close()
    return {"fire_s": fired, "per_schedule_ms": fired / count * 1000, "idle_pass_ms": idle * 1e3}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--backends", nargs="+", default=["sqlite"], choices=["sqlite", "memory"])
    args = parser.parse_args(argv)
    for kind in args.backends:
        r = bench_fire(kind, args.schedules)
        print(
            f"fire {args.schedules} due schedules [{kind}]: {r['fire_s']:.3f} s "
            f"({r['per_schedule_ms']:.3f} ms each); idle pass {r['idle_pass_ms']:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
