"""Run as a script by the schedule tests: fire the schedules of one store through a sequence
of fake times, in several threads, as one of several competing processes would.

Usage: python _fire_steps.py STORE_URI START_ISO STEP_SECONDS STEPS THREADS
"""

from __future__ import annotations

import datetime as dt
import sys
import threading


def fire_steps(uri: str, start: dt.datetime, step: float, steps: int, threads: int) -> None:
    from fiftyone_plugins.operators.schedules import ScheduleService
    from fiftyone_plugins.operators.stores import resolve_store

    store = resolve_store(uri, cached=False)
    errors: list[BaseException] = []

    def walk() -> None:
        service = ScheduleService(store)
        try:
            for k in range(steps):
                service.fire_due(start + dt.timedelta(seconds=step * k + 1))
        except BaseException as e:  # reported by the caller
            errors.append(e)

    workers = [threading.Thread(target=walk) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    store.close()
    if errors:
        raise errors[0]


if __name__ == "__main__":
    uri, start, step, steps, threads = sys.argv[1:6]
    fire_steps(uri, dt.datetime.fromisoformat(start), float(step), int(steps), int(threads))
