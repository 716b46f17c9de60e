"""The worker under the names it had (``fiftyone_plugins.operators.orchestrator``), and
FiftyOne's word for it: an *orchestrator* runs delegated operations.

The worker itself lives in :mod:`.worker`, the runners in :mod:`.runner`.
"""

from __future__ import annotations

from .runner import (
    ProgressCallback,
    ProgressWriter,
    Runner,
    default_runner,
    default_worker_id,
    resolve_runner,
)
from .worker import RECORD_RETRY_SECONDS, Worker, WorkerStats

#: FiftyOne's word for the thing that runs delegated operations
Orchestrator = Worker

__all__ = [
    "RECORD_RETRY_SECONDS",
    "Orchestrator",
    "ProgressCallback",
    "ProgressWriter",
    "Runner",
    "Worker",
    "WorkerStats",
    "default_runner",
    "default_worker_id",
    "resolve_runner",
]
