"""What a worker has in flight on its backend: cancelling it, and retrying what an engine lost.

The worker (:mod:`.worker`) keeps one :class:`InFlight` per run. Its heartbeat cancels an
operation here when the lease cannot be renewed (the operation was failed by a user or taken
after an expiry); an interrupted worker cancels everything on its engine. When an engine loses
a task (its engine worker died, the cluster went away), :func:`requeue_if_allowed` applies the
operation's attempt policy, the store's own, so the engine never retries on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from ..errors import DelegatedOperationError
from .backends import ExecutionBackend, Submission, parse_task_name
from .service import OperationService
from .stores.records import DelegatedOperationDoc, ExecutionRunState
from .stores.states import MAX_ATTEMPTS_KEY, requeue_changes

__all__ = ["ORPHAN_SCAN_SECONDS", "InFlight", "OrphanSweeper", "requeue_if_allowed"]

#: longest time between two looks for orphaned engine tasks
ORPHAN_SCAN_SECONDS = 60.0

logger = logging.getLogger("fiftyone_plugins.operators.worker")


class InFlight:
    """The submissions of one worker, by operation id (thread-safe)."""

    def __init__(self, backend_name: str) -> None:
        self.backend_name = backend_name
        self._submissions: dict[str, Submission] = {}
        self._lock = threading.Lock()

    def add(self, op_id: str, submission: Submission) -> None:
        with self._lock:
            self._submissions[op_id] = submission

    def discard(self, op_id: str) -> None:
        with self._lock:
            self._submissions.pop(op_id, None)

    def cancel(self, op_id: str) -> None:
        """Asks the engine to stop one operation; logs when it cannot."""
        with self._lock:
            submission = self._submissions.get(op_id)
        if submission is None:
            return
        try:
            stopped = submission.cancel()
        except Exception as e:
            logger.warning("%s: could not cancel its %s task: %s", op_id, self.backend_name, e)
            return
        if not stopped:
            logger.info(
                "%s: the %s backend cannot stop a running operation; its outcome will be "
                "discarded",
                op_id,
                self.backend_name,
            )

    def cancel_all(self, why: str) -> None:
        """Cancels every engine task (an interrupted worker); local runs need nothing: they
        ran in the interrupted process."""
        if self.backend_name == "local":
            return
        with self._lock:
            ids = list(self._submissions)
        for op_id in ids:
            logger.info("%s: cancelling its engine task (%s)", op_id, why)
            self.cancel(op_id)


def requeue_if_allowed(
    service: OperationService, doc: DelegatedOperationDoc, worker_id: str, error: Exception
) -> bool:
    """Puts an operation whose engine task was lost back in the queue when its attempt
    policy (``metadata["max_attempts"]``, default 1) allows another attempt; True if the
    operation is no longer this worker's to record (requeued, or taken meanwhile)."""
    assert doc.id is not None
    try:
        max_attempts = int(doc.metadata.get(MAX_ATTEMPTS_KEY) or 1)
    except (TypeError, ValueError):
        max_attempts = 1
    if doc.attempts >= max_attempts:
        return False
    reason = f"{error}; requeued (attempt {doc.attempts} of {max_attempts})"
    try:  # a release that keeps why: the same compare-and-set as the service's release
        done = service.store.update(
            doc.id,
            requeue_changes(reason),
            expected_states=(ExecutionRunState.RUNNING,),
            expected_worker=worker_id,
        )
    except DelegatedOperationError as e:
        logger.warning("%s: could not requeue after the engine lost it: %s", doc.id, e)
        return True
    if done is None:
        logger.warning("%s: taken from this worker before it could be requeued", doc.id)
        return True
    logger.warning("%s %s: %s", doc.id, doc.operator, reason)
    return True


class OrphanSweeper:
    """Finds the engine tasks the store no longer lets run and has the backend cancel them.

    A task named ``fiftyone-op-<id>-<n>`` may run only while operation ``<id>`` is
    ``running`` at attempt ``<n>``; any other task of that name is an orphan: left by a
    dispatcher that died, whose operation was since failed, requeued or run again. The worker
    sweeps when it starts, after resolving expired leases, and at least every
    :data:`ORPHAN_SCAN_SECONDS`.
    """

    def __init__(self, service: OperationService, backend: ExecutionBackend) -> None:
        self.service = service
        self.backend = backend
        self._last = float("-inf")

    def may_run(self, names: Iterable[str]) -> set[str]:
        """The task names whose operation is running at that attempt."""
        allowed = set()
        for name in names:
            parsed = parse_task_name(name)
            if parsed is None:
                continue
            op_id, attempt = parsed
            doc = self.service.store.get(op_id)
            if doc and doc.run_state is ExecutionRunState.RUNNING and doc.attempts == attempt:
                allowed.add(name)
        return allowed

    def sweep(self, force: bool = False) -> list[str]:
        """Cancels orphans when forced or due; never raises (a sweep is housekeeping)."""
        now = time.monotonic()
        if not force and now - self._last < ORPHAN_SCAN_SECONDS:
            return []
        self._last = now
        try:
            cancelled = self.backend.cancel_orphans(self.may_run)
        except Exception as e:
            logger.warning("could not look for orphaned %s tasks: %s", self.backend.name, e)
            return []
        for name in cancelled:
            logger.warning("cancelled the orphaned %s task %s", self.backend.name, name)
        return cancelled
