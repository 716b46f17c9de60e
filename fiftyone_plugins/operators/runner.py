"""What runs one delegated operation for a worker: the runner, and the progress it reports.

A *runner* is ``runner(doc, progress_callback) -> outcome``: the outcome is an execution
result or the value itself (read by :meth:`~.result.ExecutionResult.from_outcome`); raising
fails the operation. The default runner executes the operator through the executor, in this
process, so secrets come from the worker's environment; tests and embedders may pass any
callable or a ``module:function`` path (:func:`resolve_runner`). :class:`ProgressWriter` is the
callback a runner is given: it writes progress to the store, throttled.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._dotted import import_object
from ..errors import DelegatedOperationError
from .stores.records import DelegatedOperationDoc

if TYPE_CHECKING:
    from .service import OperationService

__all__ = [
    "ProgressCallback",
    "ProgressWriter",
    "Runner",
    "default_runner",
    "default_worker_id",
    "resolve_runner",
]

logger = logging.getLogger("fiftyone_plugins.operators.worker")

#: ``callback(progress, label=None)``: progress a fraction in [0, 1] (or None)
ProgressCallback = Callable[..., None]
#: ``runner(doc, progress_callback) -> outcome``: an object with ``result``/``error``/
#: ``error_trace`` (an execution result) or the result itself; raising fails the operation
Runner = Callable[[DelegatedOperationDoc, ProgressCallback], Any]


def default_runner(doc: DelegatedOperationDoc, progress_callback: ProgressCallback) -> Any:
    """Runs the operator through the executor, in this process."""
    try:  # deferred: only workers that run operators need the executor
        from .executor import run_delegated_operation
    except ImportError as e:
        raise DelegatedOperationError(
            f"Cannot run delegated operations: the operators layer is unavailable ({e})",
            op_id=doc.id,
        ) from e

    return run_delegated_operation(
        doc.operator, doc.context, operation_id=doc.id, progress_callback=progress_callback
    )


def resolve_runner(runner: Runner | str | None) -> Runner:
    """A runner from a callable, a ``module:function``/``module.function`` path, or None."""
    if runner is None:
        return default_runner
    if callable(runner):
        return runner
    found = import_object(runner, "runner", DelegatedOperationError)
    if not callable(found):
        raise DelegatedOperationError(f"The runner {runner!r} is not callable")
    return found  # type: ignore[no-any-return]


def default_worker_id() -> str:
    """``host:pid:random``: unique per worker, readable in ``delegated info``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ProgressWriter:
    """The progress callback given to a runner: writes to the store at most every
    ``interval`` seconds (plus the last value on :meth:`flush`), and never raises."""

    def __init__(
        self,
        service: OperationService,
        op_id: str,
        worker_id: str,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._op_id = op_id
        self._worker_id = worker_id
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: tuple[Any, str | None] | None = None
        self._last_write: float | None = None
        self.writes = 0

    def __call__(self, progress: Any = None, label: str | None = None) -> None:
        with self._lock:
            self._pending = (progress, label)
            now = self._clock()
            if self._last_write is not None and now - self._last_write < self._interval:
                return
            self._last_write = now
            self._write_locked()

    def flush(self) -> None:
        """Writes the last value if it was throttled."""
        with self._lock:
            self._write_locked()

    def _write_locked(self) -> None:
        if self._pending is None:
            return
        progress, label = self._pending
        self._pending = None
        try:
            self._service.set_progress(self._op_id, progress, label, worker_id=self._worker_id)
            self.writes += 1
        except Exception as e:  # a progress write must never fail the operation
            logger.warning("%s: could not record progress: %s", self._op_id, e)
