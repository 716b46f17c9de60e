"""Delegated operations under FiftyOne's names (``fiftyone.operators.delegated``).

:class:`DelegatedOperationService` is the queue (:class:`~.service.OperationService`: queue,
list, change, claim) plus what FiftyOne's service also does, run queued operations in this
process (:meth:`~DelegatedOperationService.execute_queued_operations`), through the worker of
:mod:`.worker`. It is a facade at the top of the layers (see ``docs/architecture.md``): the
queue below it knows nothing of workers.
"""

from __future__ import annotations

from typing import Any

from .queries import Filter, as_tuple, serialize_context
from .request import SECRET_KEYS
from .service import MAX_ATTEMPTS_KEY, DelegatedOperation, OperationService
from .stores.records import ExecutionProgress, ExecutionRunState, SortField
from .worker import Runner, Worker

__all__ = [
    "MAX_ATTEMPTS_KEY",
    "SECRET_KEYS",
    "DelegatedOperation",
    "DelegatedOperationService",
    "ExecutionProgress",
    "ExecutionRunState",
    "SortField",
    "serialize_context",
]


class DelegatedOperationService(OperationService):
    """Queues, lists, changes and runs delegated operations in one store.

    ``store`` is a store instance, a store URL, or None for the configured one.
    ``dataset_exists(name_or_id) -> bool`` tells :meth:`cleanup` which datasets still exist
    (default: the host's dataset resolver).
    """

    def execute_queued_operations(
        self,
        limit: int | None = None,
        operator: Filter = None,
        delegation_target: str | None = None,
        *,
        runner: Runner | str | None = None,
        worker_id: str | None = None,
        **kwargs: Any,
    ) -> list[DelegatedOperation]:
        """Runs queued operations in this process, oldest first, until none is left (or
        ``limit`` ran); returns their final records."""
        finished: list[DelegatedOperation] = []
        worker = Worker(
            self,
            runner=runner,
            worker_id=worker_id,
            delegation_target=delegation_target,
            operators=as_tuple(operator),
            once=True,
            limit=limit,
            on_finished=finished.append,
            backend="local",  # in this process, whatever backend the workers are given
        )
        worker.run()
        return finished
