"""Delegated operations under FiftyOne's names (``fiftyone.operators.delegated``).

:class:`DelegatedOperationService` is the queue (:class:`~.service.OperationService`: queue,
list, change, claim) plus what FiftyOne's service also does, run queued operations in this
process (:meth:`~DelegatedOperationService.execute_queued_operations`), through the worker of
:mod:`.worker`. It is a facade at the top of the layers (see ``docs/architecture.md``): the
queue below it knows nothing of workers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidStateTransitionError
from .queries import Filter, as_tuple, serialize_context
from .request import SECRET_KEYS
from .result import ExecutionResult
from .runner import ProgressWriter, default_worker_id, resolve_runner
from .service import MAX_ATTEMPTS_KEY, DelegatedOperation, OperationService
from .stores.records import ExecutionProgress, ExecutionRunState, SortField
from .worker import Runner, Worker

logger = logging.getLogger("fiftyone_plugins.operators")

#: the keys of FiftyOne's ``count(filters=...)`` dict that name a filter of this service
_FILTER_KEYS = ("operator", "dataset_name", "dataset_id", "run_state", "delegation_target")

#: methods whose first argument FiftyOne calls ``doc_id`` (this library: ``op_id``)
_DOC_ID_METHODS = (
    "get",
    "set_running",
    "set_scheduled",
    "set_completed",
    "set_failed",
    "set_progress",
    "set_pinned",
    "set_label",
    "rerun_operation",
    "delete_operation",
)


def _plain_id(value: Any) -> Any:
    """A bson ``ObjectId`` (or anything else that is not a string) as its string."""
    if value is None or isinstance(value, (str, list, tuple, set, frozenset)):
        if isinstance(value, (list, tuple, set, frozenset)):
            return [_plain_id(v) for v in value]
        return value
    return str(value)


def _plain_ids(data: Any) -> Any:
    """``data`` with ``ObjectId`` values (dataset ids, as FiftyOne passes them) as strings."""
    if isinstance(data, Mapping):
        return {k: _plain_ids(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain_ids(v) for v in data]
    if type(data).__name__ == "ObjectId":
        return str(data)
    return data


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

    FiftyOne's spellings work too: ``doc_id=`` for the id keyword of ``get``,
    ``set_running``, ``set_completed``, ``set_failed``, ``set_progress``, ``delete_operation``
    and the other state changes; bson ``ObjectId`` dataset ids; ``count(filters={...})``;
    ``execute_operation(operation)``; an operation queued without a label is labelled with
    its operator's URI.
    """

    def queue_operation(  # type: ignore[override]
        self,
        operator: str,
        label: str | None = None,
        delegation_target: str | None = None,
        context: Any = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> DelegatedOperation:
        """Queues a run of ``operator``; ``label`` defaults to the operator's URI, as in
        FiftyOne. See :meth:`OperationService.queue_operation`."""
        return super().queue_operation(
            operator,
            label or operator,
            delegation_target,
            _plain_ids(context) if isinstance(context, Mapping) else context,
            metadata,
            **{k: _plain_id(v) for k, v in kwargs.items()},
        )

    def list_operations(self, *args: Any, **kwargs: Any) -> list[DelegatedOperation]:
        """See :meth:`OperationService.list_operations`; ``ObjectId`` dataset ids work."""
        if "dataset_id" in kwargs:
            kwargs["dataset_id"] = _plain_id(kwargs["dataset_id"])
        return super().list_operations(*args, **kwargs)

    def count(  # type: ignore[override]
        self, *args: Any, filters: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> int:
        """See :meth:`OperationService.count`; FiftyOne's ``filters`` dict (``operator``,
        ``dataset_name``, ``dataset_id``, ``run_state``, ``delegation_target``, ``pinned``)
        is honoured, any other key is refused."""
        for key, value in dict(filters or {}).items():
            if key not in (*_FILTER_KEYS, "pinned"):
                raise ValueError(f"count() cannot filter on {key!r}")
            kwargs[key] = value
        if "dataset_id" in kwargs:
            kwargs["dataset_id"] = _plain_id(kwargs["dataset_id"])
        return super().count(*args, **kwargs)

    def execute_operation(
        self,
        operation: Any,
        log: bool = False,
        run_link: str | None = None,
        monitor: bool = False,
        check_interval_seconds: float = 60,
        *,
        runner: Runner | str | None = None,
        **kwargs: Any,
    ) -> DelegatedOperation | None:
        """Runs one queued (or scheduled) operation, a record or its id, in this process, as
        FiftyOne's service does; returns its final record.

        The operation is taken with a compare-and-set from ``queued``/``scheduled`` to
        ``running``, so another worker cannot take it meanwhile. One that cannot be taken
        (already running elsewhere, or finished) is not run and its record is left as it
        is: the answer is ``None``, as FiftyOne's, with a warning logged. Its progress is
        written as it runs; the outcome is recorded the way workers record it. ``log``,
        ``run_link``, ``monitor`` and ``check_interval_seconds`` are accepted for FiftyOne's
        callers; ``delegated launch --monitor`` is this library's watched mode.
        """
        op_id = str(getattr(operation, "id", operation))
        worker_id = default_worker_id()
        try:
            doc = self.set_running(op_id, worker_id=worker_id)
        except InvalidStateTransitionError as e:
            logger.warning("Not running delegated operation %s: %s", op_id, e)
            return None
        progress = ProgressWriter(self, op_id, worker_id)
        try:
            outcome = ExecutionResult.from_outcome(resolve_runner(runner)(doc, progress))
        except Exception as e:  # a runner's failure fails the operation, as in a worker
            outcome = ExecutionResult.from_exception(e, uri=doc.operator)
        progress.flush()
        return self.record_outcome(op_id, outcome, worker_id=worker_id)

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


def _accepting_doc_id(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` that also takes its id as FiftyOne's ``doc_id=`` keyword."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, doc_id: Any = None, **kwargs: Any) -> Any:
        if doc_id is not None:
            args = (str(doc_id), *args)
        return method(self, *args, **kwargs)

    return wrapper


for _name in _DOC_ID_METHODS:
    setattr(
        DelegatedOperationService,
        _name,
        _accepting_doc_id(getattr(DelegatedOperationService, _name)),
    )
del _name
