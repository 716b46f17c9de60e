"""The ``delegated scheduler`` process: fire due schedules until stopped.

A :class:`Scheduler` is handed a :class:`~.schedules.ScheduleService` and repeats one
:meth:`~.schedules.ScheduleService.fire_due` pass, then waits until the earliest next fire
time (at most ``poll_interval``, so schedules added meanwhile by other processes are seen).
Any number of schedulers may run against one store, beside any number of workers: the service
makes each fire time produce at most one operation, so there is no leader to elect and no
lock to lose. Store errors (unreachable, locked) are logged and retried on the next pass.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading

from ..errors import StoreError
from .schedules import FireReport, ScheduleService

__all__ = ["Scheduler"]

logger = logging.getLogger("fiftyone_plugins.scheduler")


class Scheduler:
    """Fires due schedules in a loop.

    ``once`` makes :meth:`run` do one pass and return; ``poll_interval`` is the longest wait
    between passes (seconds). :meth:`stop` (from any thread, or a signal handler) ends the
    loop after the current pass.
    """

    def __init__(
        self,
        schedules: ScheduleService,
        *,
        poll_interval: float = 1.0,
        once: bool = False,
        batch_size: int = 1000,
    ) -> None:
        self.schedules = schedules
        self.poll_interval = float(poll_interval)
        self.once = once
        self.batch_size = batch_size
        self.passes = 0
        self.fired = 0
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run_pass(self) -> FireReport:
        """One pass; a full batch is followed by another at once, so a backlog drains."""
        report = FireReport()
        while True:
            batch = self.schedules.fire_due(limit=self.batch_size)
            report.outcomes.extend(batch.outcomes)
            if len(batch.outcomes) < self.batch_size or self._stop.is_set():
                break
        self.passes += 1
        self.fired += len(report.created)
        return report

    def _wait(self) -> None:
        """Sleeps until the earliest next fire time, at most ``poll_interval``."""
        timeout = self.poll_interval
        now = self.schedules.now()
        horizon = now + _dt.timedelta(seconds=timeout)
        try:  # the earliest schedule due within the poll interval, if any
            soon = self.schedules.store.due_schedules(horizon, limit=1)
        except StoreError:
            soon = []
        if soon and soon[0].next_fire_at is not None:
            timeout = max(0.0, min(timeout, (soon[0].next_fire_at - now).total_seconds()))
        self._stop.wait(timeout)

    def run(self) -> None:
        """Passes until :meth:`stop` (or after one with ``once``)."""
        logger.info("Scheduler started (poll interval %gs)", self.poll_interval)
        while not self._stop.is_set():
            try:
                self.run_pass()
            except StoreError as e:
                logger.warning("Scheduler pass failed, retrying: %s", e)
            if self.once:
                break
            self._wait()
        logger.info("Scheduler stopped after %d passes, %d operations", self.passes, self.fired)
