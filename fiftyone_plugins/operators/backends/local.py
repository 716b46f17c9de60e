"""The ``local`` backend: operations run in the worker's own process, as they always did.

A submission does nothing until it is waited on; :meth:`LocalSubmission.wait` then calls the
runner (by default the executor) in the waiting thread. The worker waits in the main thread
when it runs one operation at a time and in one thread per operation otherwise, so signals,
logs and output behave exactly as before backends existed.
"""

from __future__ import annotations

from typing import Any

from ..runner import ProgressCallback, Runner, default_runner
from .base import ExecutionBackend, Job, Submission

__all__ = ["LocalBackend", "LocalSubmission"]


class LocalSubmission(Submission):
    """A job that runs in the thread that waits on it."""

    def __init__(self, runner: Runner, job: Job, progress: ProgressCallback) -> None:
        self._runner = runner
        self._job = job
        self._progress = progress

    def wait(self) -> Any:
        return self._runner(self._job.doc, self._progress)

    def cancel(self) -> bool:
        # a Python thread cannot be stopped from outside: the run goes on, and the store
        # refuses its outcome (the operation is no longer held by this worker)
        return False


class LocalBackend(ExecutionBackend):
    """Runs each operation in this process with ``runner`` (default: the executor)."""

    name = "local"

    def __init__(self, runner: Runner | None = None) -> None:
        self.runner: Runner = runner or default_runner

    def submit(self, job: Job, progress: ProgressCallback) -> Submission:
        return LocalSubmission(self.runner, job, progress)
