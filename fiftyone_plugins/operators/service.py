"""The delegated-operations service: queue an operator run now, execute it later.

:class:`OperationService` is the queue: it queues, lists and changes operations in one store,
and hands them to workers (claims, leases). It knows nothing of workers or of running
operators: a worker is handed a service, never the other way round (``execute_queued_
operations`` lives on the facade, :mod:`.delegated`). Method names are FiftyOne's, so code
written against FiftyOne reads the same.

Every state change goes through one state machine
(:data:`~fiftyone_plugins.operators.stores.records.TRANSITIONS`), enforced atomically by the
store's compare-and-set update:

- ``queued``/``scheduled`` → ``running`` only by a claim (or :meth:`set_running`);
- ``running`` → ``completed``/``failed`` by the worker holding it (:meth:`record_outcome`),
  or back to ``queued`` when the worker releases it or its lease expired and the operation may
  be retried;
- ``queued``/``scheduled``/``running`` → ``failed`` by :meth:`fail_operation`;
- ``completed`` and ``failed`` are terminal; :meth:`rerun_operation` queues a *new* operation.

Records never hold secrets (:func:`~.queries.serialize_context`). Listing reads records only,
so it works whether or not the operator is still installed. Bulk changes are in :mod:`.bulk`.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..errors import InvalidStateTransitionError, OperationNotFoundError, UnstorableRecordError
from . import bulk
from .queries import Filter, build_query, context_value, paging_keywords, serialize_context
from .result import ExecutionResult
from .stores import DelegatedOperationStore, resolve_store
from .stores.records import (
    TERMINAL_STATES,
    DelegatedOperationDoc,
    ExecutionProgress,
    ExecutionRunState,
    SortField,
    claim_changes,
    encode_result,
    json_copy,
    requeue_changes,
    sources_of,
    utcnow,
    validate_id,
)
from .stores.states import MAX_ATTEMPTS_KEY, lost_lease_changes

__all__ = [
    "MAX_ATTEMPTS_KEY",
    "DelegatedOperation",
    "OperationService",
]

logger = logging.getLogger(__name__)

#: The record users see; the same class the stores keep.
DelegatedOperation = DelegatedOperationDoc

#: The error recorded when a run finished but the store refused its result.
UNSTORED_RESULT = "The operation finished but its result could not be stored: {reason}"


class OperationService:
    """Queues, lists, changes and runs delegated operations in one store.

    ``store`` is a store instance, a store URL, or None for the configured one.
    ``dataset_exists(name_or_id) -> bool`` tells :meth:`cleanup` which datasets still exist
    (default: the host's dataset resolver when the operators layer provides one).
    """

    def __init__(
        self,
        store: DelegatedOperationStore | str | None = None,
        *,
        dataset_exists: Callable[[str], bool] | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self._store_arg = store
        self._store: DelegatedOperationStore | None = (
            store if isinstance(store, DelegatedOperationStore) else None
        )
        #: ``exists(name_or_id) -> bool`` for :meth:`cleanup` (else the host's resolver)
        self.dataset_exists = dataset_exists
        self._lease_seconds = lease_seconds

    @property
    def store(self) -> DelegatedOperationStore:
        """The store, resolved on first use (so creating a service is cheap)."""
        if self._store is None:
            arg = self._store_arg if isinstance(self._store_arg, str) else None
            self._store = resolve_store(arg)
        return self._store

    @property
    def lease_seconds(self) -> float:
        if self._lease_seconds is not None:
            return self._lease_seconds
        from ..config import load_config

        return load_config().delegated_operation_lease_seconds

    # -- queueing and reading --------------------------------------------------------------------

    def queue_operation(
        self,
        operator: str,
        label: str | None = None,
        delegation_target: str | None = None,
        context: Any = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        dataset_id: str | None = None,
        dataset_name: str | None = None,
        pinned: bool = False,
        **kwargs: Any,
    ) -> DelegatedOperation:
        """Queues a run of ``operator`` (a URI) and returns its record, with its new ``id``.

        ``context`` holds the request (params, dataset, view, ...); the dataset's name and
        stable id are read from it unless given.
        """
        if not operator or not isinstance(operator, str):
            raise ValueError("queue_operation() needs the operator's URI")
        if kwargs:
            logger.debug("queue_operation() ignores %s", ", ".join(sorted(kwargs)))
        data = serialize_context(context)
        dataset_id = dataset_id or context_value(data, "dataset_id")
        dataset_name = dataset_name or context_value(data, "dataset_name")
        now = utcnow()
        doc = DelegatedOperationDoc(
            operator=operator,
            label=label,
            delegation_target=delegation_target,
            dataset_id=None if dataset_id is None else str(dataset_id),
            dataset_name=None if dataset_name is None else str(dataset_name),
            context=data,
            run_state=ExecutionRunState.QUEUED,
            queued_at=now,
            updated_at=now,
            pinned=bool(pinned),
            metadata=json_copy(dict(metadata or {}), "operation metadata"),
        )
        return self.store.insert(doc)

    def get(self, op_id: str) -> DelegatedOperation:
        """The operation with this id; unknown or malformed ids raise OperationNotFoundError."""
        key = validate_id(op_id)
        doc = self.store.get(key)
        if doc is None:
            raise OperationNotFoundError(f"Delegated operation {op_id} not found", op_id=key)
        return doc

    def list_operations(
        self,
        operator: Filter = None,
        dataset_name: Filter = None,
        dataset_id: Filter = None,
        run_state: Any = None,
        delegation_target: Filter = None,
        search: str | Mapping[str, Any] | None = None,
        *,
        match: str | None = None,
        pinned: bool | None = None,
        ids: Iterable[str] | None = None,
        sort_by: SortField | str = SortField.QUEUED_AT,
        reverse: bool = False,
        limit: int | None = None,
        skip: int = 0,
        **kwargs: Any,
    ) -> list[DelegatedOperation]:
        """Operations matching every given filter, sorted (oldest queued first by default).

        Each filter takes one value or several; ``match``/``search`` is a case-insensitive
        substring of the operator URI or label. ``paging=`` (FiftyOne's
        ``DelegatedOperationPagingParams`` or a dict with ``sort_by``, ``sort_direction``,
        ``skip``, ``limit``) overrides the sort and paging keywords.
        """
        paged = paging_keywords(kwargs.pop("paging", None))
        sort_by = paged.get("sort_by", sort_by)
        reverse = paged.get("reverse", reverse)
        limit = paged.get("limit", limit)
        skip = paged.get("skip", skip)
        query = build_query(
            operator, dataset_name, dataset_id, run_state, delegation_target, search,
            match, pinned, ids, sort_by, reverse, limit, skip,
        )  # fmt: skip
        return self.store.find(query)

    def count(
        self,
        operator: Filter = None,
        dataset_name: Filter = None,
        dataset_id: Filter = None,
        run_state: Any = None,
        delegation_target: Filter = None,
        search: str | Mapping[str, Any] | None = None,
        *,
        match: str | None = None,
        pinned: bool | None = None,
        **kwargs: Any,
    ) -> int:
        """How many operations match the filters (same meaning as in list_operations)."""
        query = build_query(
            operator, dataset_name, dataset_id, run_state, delegation_target, search,
            match, pinned,
        )  # fmt: skip
        return self.store.count(query)

    def get_queued_operations(self, operator: Filter = None, dataset_name: Filter = None):
        """Queued operations, oldest first."""
        return self.list_operations(operator, dataset_name, run_state=ExecutionRunState.QUEUED)

    def get_running_operations(self, operator: Filter = None, dataset_name: Filter = None):
        """Running operations, oldest first."""
        return self.list_operations(operator, dataset_name, run_state=ExecutionRunState.RUNNING)

    # -- state changes ---------------------------------------------------------------------------

    def _change(
        self,
        op_id: str,
        changes: Mapping[str, Any],
        action: str,
        allowed: Iterable[ExecutionRunState],
        worker_id: str | None = None,
    ) -> DelegatedOperation:
        key = validate_id(op_id)
        allowed = tuple(allowed)
        done = self.store.update(key, changes, expected_states=allowed, expected_worker=worker_id)
        if done is not None:
            return done
        current = self.store.get(key)
        if current is None:
            raise OperationNotFoundError(f"Delegated operation {op_id} not found", op_id=key)
        if worker_id is not None and current.worker_id != worker_id:
            reason = f"it is {current.run_state.value} and held by {current.worker_id or 'nobody'}"
        else:
            reason = f"it is {current.run_state.value}"
        raise InvalidStateTransitionError(
            f"Cannot {action} delegated operation {key}: {reason}", op_id=key
        )

    def set_scheduled(self, op_id: str) -> DelegatedOperation:
        """``queued`` → ``scheduled``: picked by a scheduler, not yet running."""
        target = ExecutionRunState.SCHEDULED
        return self._change(
            op_id,
            {"run_state": target, "scheduled_at": utcnow()},
            "schedule",
            sources_of(target),
        )

    def set_running(
        self,
        op_id: str,
        worker_id: str | None = None,
        lease_seconds: float | None = None,
        **kwargs: Any,
    ) -> DelegatedOperation:
        """``queued``/``scheduled`` → ``running`` (workers use :meth:`claim_next` instead)."""
        current = self.get(op_id)
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        changes = {
            **claim_changes(worker_id or "", lease, utcnow()),
            "worker_id": worker_id,
            "attempts": current.attempts + 1,
        }
        return self._change(op_id, changes, "start", sources_of(ExecutionRunState.RUNNING))

    def set_completed(
        self, op_id: str, result: Any = None, worker_id: str | None = None, **kwargs: Any
    ) -> DelegatedOperation:
        """``running`` → ``completed`` with the operator's JSON-ready ``result``.

        With ``worker_id``, only the worker holding the operation may complete it. An error
        left by an earlier attempt (e.g. "Worker lost ...; requeued") is cleared.
        """
        changes = {
            "run_state": ExecutionRunState.COMPLETED,
            "completed_at": utcnow(),
            "result": self._result_for_store(result),
            "lease_expires_at": None,
            "error": None,
            "error_trace": None,
        }
        return self._change(
            op_id, changes, "complete", sources_of(ExecutionRunState.COMPLETED), worker_id
        )

    def _result_for_store(self, result: Any) -> Any:
        """The result as the store takes it: encoded to JSON once (the text written as it
        is), or its plain JSON copy for a store that does not take encoded results."""
        encoded = encode_result(result)  # an UnstorableRecordError if JSON cannot hold it
        return encoded if self.store.accepts_encoded_results else encoded.value

    def set_failed(
        self,
        op_id: str,
        error: str | BaseException | None = None,
        traceback: str | None = None,
        result: Any = None,
        worker_id: str | None = None,
        **kwargs: Any,
    ) -> DelegatedOperation:
        """Any non-terminal state → ``failed``, keeping the error message and traceback.

        ``result`` may be an execution result carrying ``error``/``error_trace`` (as FiftyOne
        passes it).
        """
        if error is None and result is not None and hasattr(result, "error"):
            outcome = ExecutionResult.from_outcome(result)
            error, result = outcome.error, outcome.result
            traceback = traceback or outcome.error_trace
        message = str(error) if error is not None else "Operation failed"
        try:
            stored_result = json_copy(result, "operation result")
        except TypeError:
            stored_result = None
        changes = {
            "run_state": ExecutionRunState.FAILED,
            "failed_at": utcnow(),
            "error": message,
            "error_trace": traceback,
            "result": stored_result,
            "lease_expires_at": None,
        }
        return self._change(
            op_id, changes, "fail", sources_of(ExecutionRunState.FAILED), worker_id
        )

    def fail_operation(
        self, op_id: str, reason: str = "Marked as failed by the user"
    ) -> DelegatedOperation:
        """Marks a queued, scheduled or running operation failed (the ``delegated fail`` CLI).

        A worker still running it will find its final update refused.
        """
        return self.set_failed(op_id, error=reason)

    fail = fail_operation

    def set_progress(
        self,
        op_id: str,
        progress: float | ExecutionProgress | Mapping[str, Any] | None,
        label: str | None = None,
        worker_id: str | None = None,
    ) -> DelegatedOperation:
        """Records how far a running operation got (a fraction in [0, 1] and/or a label)."""
        value = ExecutionProgress.from_dict(progress) or ExecutionProgress()
        if label is not None:
            value.label = label
        if value.progress is not None:
            value.progress = min(1.0, max(0.0, value.progress))
        return self._change(
            op_id,
            {"progress": value},
            "set progress of",
            (ExecutionRunState.RUNNING,),
            worker_id,
        )

    def set_pinned(self, op_id: str, pinned: bool = True) -> DelegatedOperation:
        """Pins (or unpins) an operation; allowed in any state."""
        return self._change(op_id, {"pinned": bool(pinned)}, "pin", ExecutionRunState)

    def set_label(self, op_id: str, label: str | None) -> DelegatedOperation:
        """Renames an operation; allowed in any state."""
        return self._change(op_id, {"label": label}, "relabel", ExecutionRunState)

    def release_operation(self, op_id: str, worker_id: str) -> DelegatedOperation:
        """``running`` → ``queued``: the worker gives the operation back (e.g. on shutdown)."""
        return self._change(
            op_id, requeue_changes(), "release", (ExecutionRunState.RUNNING,), worker_id
        )

    def rerun_operation(self, op_id: str) -> DelegatedOperation:
        """Queues a new operation with the same operator, context and target.

        Only completed or failed operations can be rerun; the original is kept.
        """
        doc = self.get(op_id)
        if doc.run_state not in TERMINAL_STATES:
            raise InvalidStateTransitionError(
                f"Cannot rerun delegated operation {doc.id}: it is {doc.run_state.value}; "
                "only completed or failed operations can be rerun",
                op_id=doc.id,
            )
        metadata = dict(doc.metadata)
        metadata["rerun_of"] = doc.id
        return self.queue_operation(
            doc.operator,
            label=doc.label,
            delegation_target=doc.delegation_target,
            context=doc.context,
            metadata=metadata,
            dataset_id=doc.dataset_id,
            dataset_name=doc.dataset_name,
        )

    def fail_operations(
        self, ids: Iterable[str], reason: str = "Marked as failed by the user"
    ) -> list[DelegatedOperation]:
        """Fails several operations, all or nothing (:func:`.bulk.fail_operations`)."""
        return bulk.fail_operations(self, ids, reason)

    def delete_operation(self, op_id: str) -> DelegatedOperation:
        """Deletes an operation that is not running and returns its last record."""
        return self.delete_operations([op_id])[0]

    def delete_operations(self, ids: Iterable[str]) -> list[DelegatedOperation]:
        """Deletes several operations, all or nothing (:func:`.bulk.delete_operations`)."""
        return bulk.delete_operations(self, ids)

    def delete_for_dataset(self, dataset_id: str) -> list[DelegatedOperation]:
        """Deletes every non-running operation of a dataset (by its stable id)."""
        return self.cleanup(dataset_id=dataset_id)

    def cleanup(self, *args: Any, **kwargs: Any) -> list[DelegatedOperation]:
        """Deletes the operations matching every criterion (:func:`.bulk.cleanup`: operator,
        dataset_name, state, orphan, dry_run, dataset_id, dataset_exists)."""
        return bulk.cleanup(self, *args, **kwargs)

    # -- workers ---------------------------------------------------------------------------------

    def claim_next(
        self,
        worker_id: str,
        lease_seconds: float | None = None,
        *,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
    ) -> DelegatedOperation | None:
        """Atomically takes the oldest queued operation for ``worker_id`` (None if none)."""
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        return self.store.claim_next(
            worker_id,
            lease,
            delegation_target=delegation_target,
            operators=None if operators is None else list(operators),
        )

    def renew_lease(self, op_id: str, worker_id: str, lease_seconds: float | None = None) -> bool:
        """Extends ``worker_id``'s lease on a running operation; False if it no longer holds it."""
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        return self.store.renew_lease(validate_id(op_id), worker_id, lease)

    def resolve_expired_leases(self, now: _dt.datetime | None = None) -> list[DelegatedOperation]:
        """Fails (or requeues) running operations whose worker stopped renewing its lease.

        An operation is requeued while ``attempts < metadata["max_attempts"]`` (default 1: no
        retry), else failed with a "worker lost" error. Returns the records changed.
        """
        now = now or utcnow()
        changed: list[DelegatedOperation] = []
        for doc in self.store.find_expired_leases(now):
            assert doc.id is not None
            changes = lost_lease_changes(
                doc.worker_id, doc.lease_expires_at, doc.attempts, doc.metadata, now
            )
            done = self.store.update(
                doc.id,
                changes,
                expected_states=(ExecutionRunState.RUNNING,),
                expected_worker=doc.worker_id,
                expected_lease=doc.lease_expires_at,
            )
            if done is not None:
                logger.warning("%s %s: %s", doc.id, doc.operator, done.error)
                changed.append(done)
        return changed

    def record_outcome(
        self, op_id: str, outcome: Any, worker_id: str | None = None
    ) -> DelegatedOperation:
        """Records how a run ended: ``completed`` with its result, or ``failed`` with its
        error, whatever form ``outcome`` has (see
        :meth:`~.result.ExecutionResult.from_outcome`).

        A result the store refuses for its data (too large, not JSON, a full disk: an
        :class:`~fiftyone_plugins.errors.UnstorableRecordError`) is recorded as a failure
        saying so. Other store errors (unreachable, locked) propagate, for the caller to
        retry; :class:`~fiftyone_plugins.errors.InvalidStateTransitionError` means the
        operation was taken from ``worker_id``.
        """
        result = ExecutionResult.from_outcome(outcome)
        error, trace = result.error, result.error_trace
        if error is None:
            try:
                return self.set_completed(op_id, result.stored_result(), worker_id=worker_id)
            except UnstorableRecordError as e:
                error, trace = UNSTORED_RESULT.format(reason=e), None
        return self.set_failed(op_id, error=error, traceback=trace, worker_id=worker_id)
