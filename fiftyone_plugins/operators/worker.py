"""The worker behind ``fiftyone-plugins delegated launch``: claim, run, record, repeat.

A :class:`Worker` is handed a service (:class:`~.service.OperationService`), polls its store,
atomically claims the oldest queued operation it may run and submits it to an execution
backend (:mod:`.backends`): ``local`` hands it to a runner (:mod:`.runner`; by default the
executor, in this process), ``ray`` and ``dask`` to a cluster. The store stays the only
authority on claims, leases, attempts and retries; the engine side never writes to it: this
worker renews the lease of every operation in flight, relays its progress and records its
outcome through :meth:`~.service.OperationService.record_outcome`. It is the one place a
runner's or an engine's failure is caught and turned into a failed (or, when the attempt
policy allows, requeued) operation. A lease that cannot be renewed (the operation was failed
with ``delegated fail``, or taken after an expiry) cancels the operation's engine task.

While an operation runs, a heartbeat thread renews its lease every third of the lease; a worker
that dies stops renewing, and any other worker, while polling, resolves the expired lease
(failed with "worker lost", or requeued when the operation allows retries). SIGINT/SIGTERM make
the worker finish its current operations and exit; a second signal releases them back to the
queue and exits at once. Idle workers back off to one poll per ``poll_interval``.

Each operation gets one log line when it starts and one when it ends, on the
``fiftyone_plugins.operators.worker`` logger.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import (
    DelegatedOperationError,
    EngineTaskError,
    InvalidStateTransitionError,
    OperationNotClaimableError,
)
from .announcer import Announcer, runnable_operators
from .backends import ExecutionBackend, Job, resolve_backend
from .claims import claim_operation
from .inflight import InFlight, OrphanSweeper, requeue_if_allowed
from .presence import WorkerInfo
from .result import ExecutionResult
from .runner import (
    ProgressCallback,
    ProgressWriter,
    Runner,
    default_runner,
    default_worker_id,
    resolve_runner,
)
from .service import OperationService
from .stores.records import DelegatedOperationDoc, ExecutionRunState

__all__ = [
    "RECORD_RETRY_SECONDS",
    "ProgressCallback",
    "ProgressWriter",
    "Runner",
    "Worker",
    "WorkerStats",
    "default_runner",
    "resolve_runner",
]

logger = logging.getLogger(__name__)

#: seconds a worker keeps trying to record an outcome while the store is unreachable
RECORD_RETRY_SECONDS = 60.0

#: longest wait between attempts to reach an unreachable store
STORE_RETRY_MAX_DELAY = 30.0


@dataclasses.dataclass
class WorkerStats:
    """What a worker did: operations completed, failed, released, and results discarded
    because the worker had lost the operation."""

    completed: int = 0
    failed: int = 0
    released: int = 0
    lost: int = 0

    @property
    def total(self) -> int:
        return self.completed + self.failed + self.released + self.lost


class Worker:
    """Runs queued delegated operations until stopped, drained (``once``) or ``limit`` ran.

    ``delegation_target`` and ``operators`` restrict what it claims; ``concurrency`` (or its
    engine-flavoured name ``max_in_flight``) bounds the operations running at once (default:
    1 for the local backend, the engine's free CPU slots for Ray and Dask); ``backend`` is an
    :class:`~.backends.ExecutionBackend`, ``"local"``, ``"ray"`` or ``"dask"`` (default: the
    ``delegated_backend`` config), ``address`` the engine's cluster (default: a local one for
    the worker's life). ``operation_id`` makes it run exactly that operation, once, or raise
    :class:`~fiftyone_plugins.errors.OperationNotClaimableError` (``delegated run ID``).
    ``handle_signals`` installs SIGINT/SIGTERM handlers (only possible from the main thread).
    """

    def __init__(
        self,
        service: OperationService | None = None,
        *,
        runner: Runner | str | None = None,
        worker_id: str | None = None,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
        once: bool = False,
        limit: int | None = None,
        poll_interval: float = 1.0,
        concurrency: int | None = None,
        lease_seconds: float | None = None,
        progress_interval: float = 0.5,
        handle_signals: bool = False,
        on_finished: Callable[[DelegatedOperationDoc], None] | None = None,
        backend: ExecutionBackend | str | None = None,
        address: str | None = None,
        max_in_flight: int | None = None,
        operation_id: str | None = None,
    ) -> None:
        if max_in_flight is not None:
            concurrency = max_in_flight
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, not {concurrency}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, not {limit}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0, not {poll_interval}")
        self.service = service or OperationService()
        self.runner = resolve_runner(runner)
        self.backend = resolve_backend(
            backend, address=address, runner=None if runner is None else self.runner
        )
        self.operation_id = operation_id  # checked by the claim: unknown = not claimable
        if self.operation_id is not None:
            once, limit = True, 1
        self.worker_id = worker_id or default_worker_id()
        self.delegation_target = delegation_target
        self.operators = None if operators is None else list(operators)
        self.once = once
        self.limit = limit
        self.poll_interval = poll_interval
        #: operations at once; when not given, run() asks the backend (local: 1)
        self.concurrency: int = concurrency or 1
        self._concurrency_given = concurrency is not None
        self.lease_seconds = (
            self.service.lease_seconds if lease_seconds is None else float(lease_seconds)
        )
        self.progress_interval = progress_interval
        self.handle_signals = handle_signals
        self.on_finished = on_finished
        self.stats = WorkerStats()
        self._claimed = 0
        self._active: dict[str, threading.Thread | None] = {}
        self._in_flight = InFlight(self.backend.name)
        self._active_lock = threading.Lock()
        self._stopping = threading.Event()
        self._finished = threading.Event()  # set when run() returns: the heartbeat stops
        self._wake = threading.Event()
        self._signals = 0

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Asks the worker to exit after its current operations (thread-safe)."""
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            logger.info(
                "%s received: finishing the current operation(s), then exiting "
                "(send it again to release them to the queue and exit now)",
                name,
            )
            self.stop()
        else:
            raise KeyboardInterrupt(name)

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> WorkerStats:
        """Polls and runs operations; returns what it did."""
        previous: dict[int, Any] = {}
        if self.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._on_signal)
        try:
            self._open_backend()
        except BaseException:
            self._close_backend()  # a cluster started before the failure must not linger
            for number, handler in previous.items():
                signal.signal(number, handler)
            raise
        heartbeat = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        heartbeat.start()
        logger.info(
            "worker %s started (store %s, backend %s, %d at once, lease %gs%s)",
            self.worker_id,
            self.service.store.description,
            self.backend.describe(),
            self.concurrency,
            self.lease_seconds,
            f", target {self.delegation_target}" if self.delegation_target else "",
        )
        try:
            self._loop()
            self._wait_for_active()
        except KeyboardInterrupt:
            self._in_flight.cancel_all("the worker was interrupted")
            self._release_active()
        finally:
            kill_all = getattr(self.runner, "kill_all", None)
            if callable(kill_all):  # a runner with processes of its own (--monitor)
                kill_all()
            self._stopping.set()
            self._finished.set()
            self._wake.set()
            for number, handler in previous.items():
                signal.signal(number, handler)
            self._announcer.withdraw()
            self._close_backend()
        done = (self.stats.completed, self.stats.failed, self.stats.released)
        logger.info(
            "worker %s stopped: %d completed, %d failed, %d released", self.worker_id, *done
        )
        return self.stats

    def _open_backend(self) -> None:
        """Starts the engine before any claim: an unreachable one leaves the queue as is."""
        self.backend.open()
        if not self._concurrency_given:
            self.concurrency = self.backend.default_slots()
        local = self.backend.name == "local" and self.runner is default_runner
        self._announcer = Announcer(
            self.service,
            WorkerInfo(
                id=self.worker_id,
                backend=self.backend.describe(),
                delegation_target=self.delegation_target,
                operators=runnable_operators(self.operators, local),
                max_in_flight=self.concurrency,
                lease_seconds=self.lease_seconds,
            ),
        )
        self._announcer.announce(0)
        self._orphans = OrphanSweeper(self.service, self.backend)
        self._orphans.sweep(force=True)

    def _close_backend(self) -> None:
        try:
            self.backend.close()
        except Exception as e:  # stopping must not fail because the engine is gone
            logger.warning("could not close the %s backend: %s", self.backend.name, e)

    def _limit_reached(self) -> bool:
        return self.limit is not None and self._claimed >= self.limit

    def _loop(self) -> None:
        idle_wait = min(0.05, self.poll_interval)
        last_reap = float("-inf")
        outage = 0  # consecutive failed claims: the store is unreachable
        while not self.stopping and not self._limit_reached():
            now = time.monotonic()
            if now - last_reap >= min(self.poll_interval, self.lease_seconds / 2):
                last_reap = now
                self._reap()
            claimed = False
            while not self.stopping and not self._limit_reached() and self._free_slots() > 0:
                try:
                    doc = self._claim()
                except OperationNotClaimableError:
                    raise
                except DelegatedOperationError as e:
                    if self.once:  # a drain-and-exit run reports the outage and stops
                        raise
                    # a long-running worker rides out restarts, failovers and blips
                    outage += 1
                    delay = min(STORE_RETRY_MAX_DELAY, self.poll_interval * 2**outage)
                    logger.warning("cannot reach the store (%s); retrying in %.0fs", e, delay)
                    self._wake.wait(delay)
                    self._wake.clear()
                    doc = None
                    break
                if outage:
                    logger.info("the store is reachable again")
                    outage = 0
                if doc is None:
                    break
                claimed = True
                self._claimed += 1
                self._start(doc)
            if claimed:
                idle_wait = min(0.05, self.poll_interval)
                continue
            if self.once and not self._active:
                return
            self._wake.wait(idle_wait)
            self._wake.clear()
            idle_wait = min(idle_wait * 2, self.poll_interval)

    def _claim(self) -> DelegatedOperationDoc | None:
        """The oldest claimable operation, or exactly ``operation_id`` if still queued."""
        if self.operation_id is None:
            return self.service.claim_next(
                self.worker_id,
                self.lease_seconds,
                delegation_target=self.delegation_target,
                operators=self.operators,
            )
        return claim_operation(self.service, self.operation_id, self.worker_id, self.lease_seconds)

    def _free_slots(self) -> int:
        with self._active_lock:
            return self.concurrency - len(self._active)

    def _reap(self) -> None:
        try:
            resolved = self.service.resolve_expired_leases()
        except DelegatedOperationError as e:
            logger.warning("could not resolve expired leases: %s", e)
            return
        self._orphans.sweep(force=bool(resolved))  # a resolved lease may leave an orphan

    def _start(self, doc: DelegatedOperationDoc) -> None:
        assert doc.id is not None
        if self.concurrency == 1:
            with self._active_lock:
                self._active[doc.id] = None
            self._execute(doc)
            return
        thread = threading.Thread(
            target=self._execute, args=(doc,), name=f"op-{doc.id}", daemon=True
        )
        with self._active_lock:
            self._active[doc.id] = thread
        thread.start()

    def _wait_for_active(self) -> None:
        while True:
            with self._active_lock:
                threads = [t for t in self._active.values() if t is not None]
            if not threads:
                return
            for t in threads:
                t.join(0.2)

    def _release_active(self) -> None:
        with self._active_lock:
            ids = list(self._active)
        for op_id in ids:
            self._release(op_id)

    def _release(self, op_id: str) -> None:
        try:
            self.service.release_operation(op_id, self.worker_id)
        except DelegatedOperationError as e:
            logger.warning("%s: could not release: %s", op_id, e)
            return
        self.stats.released += 1
        logger.info("%s released back to the queue", op_id)

    def _heartbeat(self) -> None:
        # renews until run() returns, not merely until a stop is asked: after a first
        # SIGTERM the current operations still run, and must keep their leases
        interval = max(self.lease_seconds / 3, 0.05)
        while not self._finished.wait(interval):
            with self._active_lock:
                ids = list(self._active)
            self._announcer.announce(len(ids))
            for op_id in ids:
                try:
                    held = self.service.renew_lease(op_id, self.worker_id, self.lease_seconds)
                except Exception as e:
                    logger.warning("%s: could not renew the lease: %s", op_id, e)
                    continue
                if not held:
                    with self._active_lock:
                        still_running_here = op_id in self._active
                    if still_running_here:
                        logger.warning(
                            "%s: this worker no longer holds the operation (failed by a "
                            "user, or taken after its lease expired): cancelling it",
                            op_id,
                        )
                        self._in_flight.cancel(op_id)

    # -- one operation ---------------------------------------------------------------------------

    def _execute(self, doc: DelegatedOperationDoc) -> None:
        """Runs one claimed operation and records its outcome: the one place failures are
        caught."""
        assert doc.id is not None
        op_id = doc.id
        started = time.monotonic()
        logger.info("%s %s started (attempt %d)", op_id, doc.operator, doc.attempts)
        progress = ProgressWriter(
            self.service, op_id, self.worker_id, interval=self.progress_interval
        )
        final: DelegatedOperationDoc | None = None
        try:
            try:
                submission = self.backend.submit(Job(doc), progress)
                self._in_flight.add(op_id, submission)
                outcome = ExecutionResult.from_outcome(submission.wait())
            except (KeyboardInterrupt, SystemExit):
                self._release(op_id)
                raise
            except EngineTaskError as e:
                progress.flush()
                if requeue_if_allowed(self.service, doc, self.worker_id, e):
                    self.stats.released += 1
                    return
                outcome = ExecutionResult.from_exception(e, uri=doc.operator)
            except BaseException as e:  # a runner's failure fails the operation, nothing more
                outcome = ExecutionResult.from_exception(e, uri=doc.operator)
            progress.flush()
            try:
                final = self._record(op_id, outcome)
            except _Unrecorded as e:
                self.stats.lost += 1
                logger.error(
                    "%s %s finished, but its outcome could not be recorded (%s); the "
                    "operation will be failed as lost when its lease expires",
                    op_id,
                    doc.operator,
                    e,
                )
                return
        finally:
            with self._active_lock:
                self._active.pop(op_id, None)
            self._in_flight.discard(op_id)
            self._wake.set()
        duration = time.monotonic() - started
        if final is None:
            self.stats.lost += 1
            logger.warning(
                "%s %s finished in %.2fs but its outcome was discarded: "
                "the operation was taken from this worker",
                op_id,
                doc.operator,
                duration,
            )
            return
        if final.run_state is ExecutionRunState.COMPLETED:
            self.stats.completed += 1
            logger.info("%s %s completed in %.2fs", op_id, doc.operator, duration)
        else:
            self.stats.failed += 1
            logger.info("%s %s failed in %.2fs: %s", op_id, doc.operator, duration, final.error)
        if self.on_finished is not None:
            self.on_finished(final)

    def _record(self, op_id: str, outcome: ExecutionResult) -> DelegatedOperationDoc | None:
        """Stores the outcome; ``None`` if the operation was taken from this worker.

        A store that is unreachable or locked is retried with backoff (the heartbeat keeps
        the lease meanwhile) for up to :data:`RECORD_RETRY_SECONDS`, then
        :class:`_Unrecorded` is raised. (A result the store refuses is recorded as a failure
        by :meth:`~.service.OperationService.record_outcome`.)
        """
        deadline = time.monotonic() + max(RECORD_RETRY_SECONDS, self.lease_seconds)
        delay = 0.25
        while True:
            try:
                return self.service.record_outcome(op_id, outcome, worker_id=self.worker_id)
            except InvalidStateTransitionError:
                return None
            except Exception as e:
                if time.monotonic() + delay > deadline:
                    raise _Unrecorded(str(e)) from e
                logger.warning(
                    "%s: could not record the outcome (%s); retrying in %.1fs", op_id, e, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_DELAY)


class _Unrecorded(Exception):
    """The outcome of an operation could not be written to the store in time."""
