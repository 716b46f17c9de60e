"""Child operations: what pipelines and fan-outs share to run their parts as operations.

A child is an ordinary delegated operation whose ``parent_id`` names the operation that
created it (a pipeline stage, a fan-out slice), so any worker or backend may run it and
``delegated info`` shows it. :class:`Children` is handed the parent's context while the
parent runs in a worker, and:

- inserts a child under an id derived from (parent id, key), so a parent restarted after
  losing its worker finds its children instead of adding new ones (:func:`child_id`);
- takes a queued child itself (the compare-and-set ``queued -> running`` of
  ``set_running``) and runs it in this process, renewing its lease from a heartbeat thread
  and writing its progress; when another worker took it first, it waits for it to end.

Children are rerun and deleted only with their parent (:func:`~.bulk.refuse_lone_children`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidStateTransitionError
from .context import ExecutionContext
from .executor import run_delegated_operation
from .runner import ProgressWriter
from .service import OperationService
from .stores.records import (
    TERMINAL_STATES,
    DelegatedOperationDoc,
    json_copy,
    utcnow,
)

__all__ = ["Children", "child_id"]

logger = logging.getLogger("fiftyone_plugins.operators.children")


def child_id(parent_id: str, key: str) -> str:
    """24 hex characters of a hash of the parent id and the child's key (``stage|2|0``)."""
    return hashlib.sha256(f"{parent_id}|{key}".encode()).hexdigest()[:24]


class Children:
    """The children of the delegated operation ``ctx`` is running (see the module)."""

    def __init__(self, ctx: ExecutionContext, service: OperationService | None = None) -> None:
        self.ctx = ctx
        self.service = service or OperationService()
        self.parent_id = str(ctx.delegated_operation_id)
        self.worker_id = f"child-of:{self.parent_id}"
        self.parent = self.service.get(self.parent_id)

    def list(self, parent_id: str | None = None) -> list[DelegatedOperationDoc]:
        """The children of this parent (or of ``parent_id``), oldest first."""
        return self.service.list_operations(parent_id=parent_id or self.parent_id)

    def queue(
        self,
        key: str,
        operator: str,
        context: Mapping[str, Any],
        *,
        label: str,
        metadata: Mapping[str, Any],
        delegation_target: str | None = None,
    ) -> DelegatedOperationDoc:
        """Inserts the child of ``key`` (or returns it when a restarted parent had)."""
        op_id = child_id(self.parent_id, key)
        now = utcnow()
        doc = DelegatedOperationDoc(
            operator=operator,
            id=op_id,
            label=label,
            delegation_target=delegation_target or self.parent.delegation_target,
            dataset_id=self.parent.dataset_id,
            dataset_name=self.parent.dataset_name,
            context=json_copy(dict(context), "child operation context"),
            queued_at=now,
            updated_at=now,
            parent_id=self.parent_id,
            metadata=json_copy(dict(metadata), "child operation metadata"),
        )
        try:
            return self.service.store.insert(doc)
        except ValueError:  # already queued by an earlier run of this parent
            return self.service.get(op_id)

    def take_and_run(
        self, child: DelegatedOperationDoc, on_progress: Callable[[float], None] | None = None
    ) -> DelegatedOperationDoc | None:
        """Runs ``child`` here if it is still queued and returns its final record; None when
        another worker holds it (or it already ended)."""
        assert child.id is not None
        try:
            self.service.set_running(child.id, worker_id=self.worker_id)
        except InvalidStateTransitionError:
            return None
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(child.id, stop), daemon=True)
        beat.start()
        writer = ProgressWriter(self.service, child.id, self.worker_id)

        def progress(value: Any = None, label: str | None = None) -> None:
            writer(value, label)
            if on_progress is not None and isinstance(value, (int, float)):
                on_progress(min(1.0, max(0.0, float(value))))

        try:
            result = run_delegated_operation(
                child.operator, child.context, operation_id=child.id, progress_callback=progress
            )
            writer.flush()
        finally:
            stop.set()
            beat.join()
        try:
            return self.service.record_outcome(child.id, result, worker_id=self.worker_id)
        except InvalidStateTransitionError:  # failed by the user (or lost) meanwhile
            return self.service.get(child.id)

    def run_or_wait(
        self, child: DelegatedOperationDoc, on_progress: Callable[[float], None] | None = None
    ) -> DelegatedOperationDoc:
        """Runs ``child`` here, or waits for the worker that took it; its final record."""
        done = self.take_and_run(child, on_progress)
        if done is not None:
            return done
        assert child.id is not None
        delay = 0.01
        while True:
            doc = self.service.get(child.id)
            if doc.run_state in TERMINAL_STATES:
                return doc
            if on_progress and doc.progress is not None and doc.progress.progress is not None:
                on_progress(doc.progress.progress)
            time.sleep(delay)  # polling the store: another worker runs the child
            delay = min(0.5, delay * 2)

    def _heartbeat(self, op_id: str, stop: threading.Event) -> None:
        interval = max(0.05, self.service.lease_seconds / 3)
        while not stop.wait(interval):
            try:
                if not self.service.renew_lease(op_id, self.worker_id):
                    return
            except Exception as e:  # the next beat retries; the lease is long enough
                logger.warning("%s: could not renew the child's lease: %s", op_id, e)
