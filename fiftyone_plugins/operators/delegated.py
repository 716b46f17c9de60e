"""Delegated operations: queue an operator run now, execute it later in a worker.

:class:`DelegatedOperationService` keeps FiftyOne's method names (``queue_operation``, ``get``,
``list_operations``, ``count``, ``set_progress``, ``set_running``, ``set_completed``,
``set_failed``, ``rerun_operation``, ``delete_operation``, ``execute_queued_operations``) so
code written against FiftyOne reads the same. Every state change goes through one state machine
(:data:`~fiftyone_plugins.operators.stores.records.TRANSITIONS`), enforced atomically by the
store's compare-and-set update:

- ``queued``/``scheduled`` → ``running`` only by a claim (or :meth:`set_running`);
- ``running`` → ``completed``/``failed`` by the worker holding it, or back to ``queued`` when the
  worker releases it or its lease expired and the operation may be retried;
- ``queued``/``scheduled``/``running`` → ``failed`` by :meth:`fail_operation`;
- ``completed`` and ``failed`` are terminal; :meth:`rerun_operation` queues a *new* operation.

Records never hold secrets: a ``secrets`` key of the context (or of its ``request_params``) is
dropped before the record is stored. Listing reads records only, so it works whether or not the
operator is still installed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    DelegatedOperationError,
    InvalidStateTransitionError,
    OperationNotFoundError,
    StoreError,
)
from .stores import DelegatedOperationStore, OperationQuery, resolve_store
from .stores.base import MAX_QUERY_INT
from .stores.records import (
    TERMINAL_STATES,
    CorruptRecordError,
    DelegatedOperationDoc,
    ExecutionProgress,
    ExecutionRunState,
    SortField,
    json_copy,
    sources_of,
    states_tuple,
    utcnow,
    validate_id,
)

if TYPE_CHECKING:
    from .orchestrator import Runner

logger = logging.getLogger(__name__)

#: The record users see; the same class the stores keep.
DelegatedOperation = DelegatedOperationDoc

#: Keys never stored: secrets are resolved from the worker's environment when it runs.
SECRET_KEYS = frozenset({"secrets"})

#: Metadata key giving how many times an operation may be attempted (default 1: no retry).
MAX_ATTEMPTS_KEY = "max_attempts"

_Filter = str | Sequence[str] | None


def serialize_context(context: Any) -> dict[str, Any]:
    """The JSON-ready dict stored for ``context``, without any secrets.

    Accepts a dict or an object with ``to_dict()`` or ``serialize()`` (such as an execution
    request); a value JSON cannot hold is a ``TypeError`` naming the problem.
    """
    if context is None:
        data: Any = {}
    elif isinstance(context, Mapping):
        data = dict(context)
    elif callable(getattr(context, "to_dict", None)):
        data = context.to_dict()
    elif callable(getattr(context, "serialize", None)):
        data = context.serialize()
    else:
        raise TypeError(
            f"The operation context must be a dict or have to_dict(), not {type(context).__name__}"
        )
    if not isinstance(data, Mapping):
        raise TypeError("The operation context must serialize to a dict")
    data = {k: v for k, v in data.items() if k not in SECRET_KEYS}
    request_params = data.get("request_params")
    if isinstance(request_params, Mapping):
        data["request_params"] = {k: v for k, v in request_params.items() if k not in SECRET_KEYS}
    return json_copy(data, "operation context")


def _context_value(context: Mapping[str, Any], key: str) -> Any:
    if context.get(key) is not None:
        return context[key]
    nested = context.get("request_params")
    return nested.get(key) if isinstance(nested, Mapping) else None


def _as_tuple(value: _Filter) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _search_text(search: str | Mapping[str, Any] | None) -> str | None:
    """FiftyOne passes ``{"term": [fields]}`` where the term is a regular expression, in
    practice ``.*text.*``; that form becomes the substring ``text``. A plain string is the
    substring itself."""
    if search is None or isinstance(search, str):
        return search or None
    term = next(iter(search), None)
    if not isinstance(term, str):
        return None
    inner = term.removeprefix("^").removesuffix("$")
    while inner.startswith(".*"):
        inner = inner[2:]
    while inner.endswith(".*") and not inner.endswith("\\.*"):
        inner = inner[:-2]
    return re.sub(r"\\(.)", r"\1", inner) or None


def _paging(paging: Any) -> dict[str, Any]:
    """FiftyOne's ``DelegatedOperationPagingParams`` (or a dict of its fields) as keywords of
    :meth:`DelegatedOperationService.list_operations`."""
    if paging is None:
        return {}
    get: Callable[[str], Any] = (
        paging.get if isinstance(paging, Mapping) else lambda k: getattr(paging, k, None)
    )
    out: dict[str, Any] = {}
    if get("sort_by") is not None:
        sort_by = get("sort_by")
        out["sort_by"] = getattr(sort_by, "value", sort_by)
    direction = get("sort_direction")
    direction = getattr(direction, "value", direction)
    if direction is not None:
        out["reverse"] = int(direction) < 0
    if get("skip") is not None:
        out["skip"] = int(get("skip"))
    if get("limit") is not None:
        out["limit"] = int(get("limit"))
    return out


class DelegatedOperationService:
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
        self._dataset_exists = dataset_exists
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
        dataset_id = dataset_id or _context_value(data, "dataset_id")
        dataset_name = dataset_name or _context_value(data, "dataset_name")
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

    def _query(
        self,
        operator: _Filter = None,
        dataset_name: _Filter = None,
        dataset_id: _Filter = None,
        run_state: Any = None,
        delegation_target: _Filter = None,
        search: str | Mapping[str, Any] | None = None,
        match: str | None = None,
        pinned: bool | None = None,
        ids: Iterable[str] | None = None,
        sort_by: SortField | str = SortField.QUEUED_AT,
        reverse: bool = False,
        limit: int | None = None,
        skip: int = 0,
    ) -> OperationQuery:
        for name, value in (("limit", limit), ("skip", skip)):
            if value is not None and not 0 <= value <= MAX_QUERY_INT:
                raise ValueError(f"{name} must be between 0 and {MAX_QUERY_INT}, not {value}")
        return OperationQuery(
            ids=None if ids is None else tuple(validate_id(i) for i in ids),
            run_states=states_tuple(run_state),
            operators=_as_tuple(operator),
            dataset_names=_as_tuple(dataset_name),
            dataset_ids=_as_tuple(dataset_id),
            delegation_targets=_as_tuple(delegation_target),
            pinned=pinned,
            match=match or _search_text(search),
            sort_by=SortField.parse(sort_by),
            reverse=reverse,
            limit=limit,
            skip=skip,
        )

    def list_operations(
        self,
        operator: _Filter = None,
        dataset_name: _Filter = None,
        dataset_id: _Filter = None,
        run_state: Any = None,
        delegation_target: _Filter = None,
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
        paged = _paging(kwargs.pop("paging", None))
        sort_by = paged.get("sort_by", sort_by)
        reverse = paged.get("reverse", reverse)
        limit = paged.get("limit", limit)
        skip = paged.get("skip", skip)
        query = self._query(
            operator, dataset_name, dataset_id, run_state, delegation_target, search,
            match, pinned, ids, sort_by, reverse, limit, skip,
        )  # fmt: skip
        return self.store.find(query)

    def count(
        self,
        operator: _Filter = None,
        dataset_name: _Filter = None,
        dataset_id: _Filter = None,
        run_state: Any = None,
        delegation_target: _Filter = None,
        search: str | Mapping[str, Any] | None = None,
        *,
        match: str | None = None,
        pinned: bool | None = None,
        **kwargs: Any,
    ) -> int:
        """How many operations match the filters (same meaning as in list_operations)."""
        query = self._query(
            operator, dataset_name, dataset_id, run_state, delegation_target, search,
            match, pinned,
        )  # fmt: skip
        return self.store.count(query)

    def get_queued_operations(self, operator: _Filter = None, dataset_name: _Filter = None):
        """Queued operations, oldest first."""
        return self.list_operations(operator, dataset_name, run_state=ExecutionRunState.QUEUED)

    def get_running_operations(self, operator: _Filter = None, dataset_name: _Filter = None):
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
        now = utcnow()
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        changes = {
            "run_state": ExecutionRunState.RUNNING,
            "started_at": now,
            "worker_id": worker_id,
            "lease_expires_at": now + _dt.timedelta(seconds=lease) if worker_id else None,
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
        result = json_copy(result, "operation result")
        now = utcnow()
        changes = {
            "run_state": ExecutionRunState.COMPLETED,
            "completed_at": now,
            "result": result,
            "lease_expires_at": None,
            "error": None,
            "error_trace": None,
        }
        return self._change(
            op_id, changes, "complete", sources_of(ExecutionRunState.COMPLETED), worker_id
        )

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
            error = result.error
            traceback = traceback or getattr(result, "error_trace", None)
            result = getattr(result, "result", None)
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

    def _check_all(
        self, ids: Iterable[str], action: str, allowed: Iterable[ExecutionRunState], hint: str = ""
    ) -> list[tuple[str, DelegatedOperation | None]]:
        """Validates a bulk change before it starts: every id well-formed, existing and in an
        ``allowed`` state. Returns the distinct ids in order with their records (None for a
        corrupt record that may still be deleted); raises naming every refused id otherwise.
        """
        allowed = frozenset(allowed)
        keys = list(dict.fromkeys(validate_id(i) for i in ids))  # distinct, in order
        several = len(keys) > 1
        found: list[tuple[str, DelegatedOperation | None]] = []
        missing: list[str] = []
        refused: list[tuple[str, str]] = []
        for key in keys:
            try:
                doc = self.store.get(key)
            except CorruptRecordError:
                if action != "delete":  # nothing but deleting can be done with it
                    raise
                running = OperationQuery(ids=(key,), run_states=(ExecutionRunState.RUNNING,))
                if self.store.count(running):
                    state = "running (its record is corrupt: it is failed when its lease expires)"
                    refused.append((key, state))
                found.append((key, None))
                continue
            if doc is None:
                missing.append(key)
            elif doc.run_state not in allowed:
                refused.append((key, doc.run_state.value))
            else:
                found.append((key, doc))
        unchanged = "; nothing was changed" if several else ""
        if missing:
            names = ", ".join(missing)
            plural = "s" if len(missing) > 1 else ""
            raise OperationNotFoundError(
                f"Delegated operation{plural} {names} not found{unchanged}", op_id=missing[0]
            )
        if len(refused) == 1:
            key, state = refused[0]
            raise InvalidStateTransitionError(
                f"Cannot {action} delegated operation {key}: it is {state}{hint}{unchanged}",
                op_id=key,
            )
        if refused:
            names = ", ".join(f"{key} (it is {state})" for key, state in refused)
            raise InvalidStateTransitionError(
                f"Cannot {action} delegated operations {names}{hint}{unchanged}",
                op_id=refused[0][0],
            )
        return found

    def fail_operations(
        self, ids: Iterable[str], reason: str = "Marked as failed by the user"
    ) -> list[DelegatedOperation]:
        """Marks several operations failed after checking them all (the ``delegated fail``
        CLI): nothing changes if any id is malformed, unknown, or completed/failed already.
        Repeated ids count once. Returns the failed records.
        """
        checked = self._check_all(ids, "fail", sources_of(ExecutionRunState.FAILED))
        done: list[DelegatedOperation] = []
        for key, _ in checked:
            try:
                done.append(self.fail_operation(key, reason))
            except DelegatedOperationError as e:  # changed by someone else since the check
                if not done:
                    raise
                raise _partly(e, "failed", done) from e
        return done

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
            op_id,
            {
                "run_state": ExecutionRunState.QUEUED,
                "worker_id": None,
                "lease_expires_at": None,
                "started_at": None,
                "progress": None,
            },
            "release",
            (ExecutionRunState.RUNNING,),
            worker_id,
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

    def delete_operation(self, op_id: str) -> DelegatedOperation:
        """Deletes an operation that is not running and returns its last record."""
        return self.delete_operations([op_id])[0]

    def delete_operations(self, ids: Iterable[str]) -> list[DelegatedOperation]:
        """Deletes several operations after checking them all: nothing is deleted if any id is
        malformed, unknown or running. Repeated ids count once. Returns the deleted records (a
        record too corrupt to read comes back with only its id and operator ``"?"``).
        """
        allowed = [s for s in ExecutionRunState if s is not ExecutionRunState.RUNNING]
        hint = "; fail it first (`fiftyone-plugins delegated fail ID`)"
        checked = self._check_all(ids, "delete", allowed, hint)
        done: list[DelegatedOperation] = []
        for key, doc in checked:
            if not self.store.delete(key, expected_states=allowed):  # changed since the check
                current: DelegatedOperation | None = None
                with contextlib.suppress(CorruptRecordError):
                    current = self.store.get(key)
                error: DelegatedOperationError = (
                    OperationNotFoundError(f"Delegated operation {key} not found", op_id=key)
                    if current is None
                    else InvalidStateTransitionError(
                        f"Cannot delete delegated operation {key}: it is "
                        f"{current.run_state.value}{hint}",
                        op_id=key,
                    )
                )
                raise _partly(error, "deleted", done)
            done.append(doc or DelegatedOperationDoc(operator="?", id=key))
        return done

    def delete_for_dataset(self, dataset_id: str) -> list[DelegatedOperation]:
        """Deletes every non-running operation of a dataset (by its stable id)."""
        return self.cleanup(dataset_id=dataset_id)

    def cleanup(
        self,
        operator: _Filter = None,
        dataset_name: _Filter = None,
        state: Any = None,
        orphan: bool = False,
        dry_run: bool = False,
        *,
        dataset_id: _Filter = None,
        dataset_exists: Callable[[str], bool] | None = None,
    ) -> list[DelegatedOperation]:
        """Deletes the operations matching every criterion and returns them.

        ``orphan`` selects operations whose dataset no longer exists. Running operations are
        never deleted. ``dry_run`` returns what would be deleted without deleting. At least one
        criterion is required, so a bare call cannot wipe the store.
        """
        if not (operator or dataset_name or dataset_id or state or orphan):
            raise DelegatedOperationError(
                "cleanup needs at least one criterion: operator, dataset, state or orphan"
            )
        docs = self.list_operations(
            operator=operator, dataset_name=dataset_name, dataset_id=dataset_id, run_state=state
        )
        docs = [d for d in docs if d.run_state is not ExecutionRunState.RUNNING]
        if orphan:
            exists = dataset_exists or self._dataset_exists or _host_dataset_exists(self.store)
            docs = [d for d in docs if _is_orphan(d, exists)]
        if dry_run:
            return docs
        allowed = [s for s in ExecutionRunState if s is not ExecutionRunState.RUNNING]
        return [d for d in docs if self.store.delete(d.id or "", expected_states=allowed)]

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
            try:
                max_attempts = int(doc.metadata.get(MAX_ATTEMPTS_KEY) or 1)
            except (TypeError, ValueError):
                max_attempts = 1
            lost = (
                f"Worker lost: {doc.worker_id or 'a worker'} stopped renewing its lease "
                f"(expired at {doc.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC)"
            )
            if doc.attempts < max_attempts:
                changes: dict[str, Any] = {
                    "run_state": ExecutionRunState.QUEUED,
                    "worker_id": None,
                    "lease_expires_at": None,
                    "started_at": None,
                    "progress": None,
                    "error": f"{lost}; requeued (attempt {doc.attempts} of {max_attempts})",
                }
            else:
                changes = {
                    "run_state": ExecutionRunState.FAILED,
                    "failed_at": now,
                    "lease_expires_at": None,
                    "error": lost,
                }
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

    def execute_queued_operations(
        self,
        limit: int | None = None,
        operator: _Filter = None,
        delegation_target: str | None = None,
        *,
        runner: Runner | str | None = None,
        worker_id: str | None = None,
        **kwargs: Any,
    ) -> list[DelegatedOperation]:
        """Runs queued operations in this process, oldest first, until none is left (or
        ``limit`` ran); returns their final records."""
        from .orchestrator import Worker

        finished: list[DelegatedOperation] = []
        worker = Worker(
            self,
            runner=runner,
            worker_id=worker_id,
            delegation_target=delegation_target,
            operators=_as_tuple(operator),
            once=True,
            limit=limit,
            on_finished=finished.append,
        )
        worker.run()
        return finished


def _partly(
    error: DelegatedOperationError, verb: str, done: Sequence[DelegatedOperationDoc]
) -> DelegatedOperationError:
    """``error`` (a bulk change refused after its check, by a concurrent change), saying which
    operations were already changed if any."""
    if not done:
        return error
    names = ", ".join(d.id or "" for d in done)
    message = f"{error} (changed concurrently; already {verb}: {names})"
    if isinstance(error, (InvalidStateTransitionError, OperationNotFoundError)):
        return type(error)(message, op_id=error.op_id)
    return StoreError(message, op_id=error.op_id)


def _host_dataset_exists(store: DelegatedOperationStore) -> Callable[[str], bool]:
    """The host resolver's notion of "this dataset exists", or "all exist" without one.

    The in-memory fallback resolver only knows this process's datasets, so it is trusted only
    with the ``memory://`` store; for a persistent store it would call every dataset missing.
    """
    try:
        from . import datasets as host

        resolver = host.get_resolver()
    except Exception as e:  # no operators layer, or a broken resolver setting
        logger.warning("no dataset resolver (%s): treating every dataset as existing", e)
        return lambda _name: True
    fallback = getattr(host, "InMemoryDatasetResolver", None)
    if resolver is None or (
        fallback is not None
        and isinstance(resolver, fallback)
        and type(store).__name__ != "MemoryStore"
    ):
        logger.warning(
            "no dataset resolver is configured (FIFTYONE_DATASET_RESOLVER), so no dataset can "
            "be known to be gone: no operation counts as an orphan"
        )
        return lambda _name: True
    if callable(getattr(resolver, "exists", None)):
        return lambda name: bool(resolver.exists(name))
    return lambda name: resolver.load(name) is not None


def _is_orphan(doc: DelegatedOperationDoc, exists: Callable[[str], bool]) -> bool:
    if doc.dataset_id:
        return not exists(doc.dataset_id)
    if doc.dataset_name:
        return not exists(doc.dataset_name)
    return False


__all__ = [
    "DelegatedOperation",
    "DelegatedOperationService",
    "ExecutionProgress",
    "ExecutionRunState",
    "SortField",
    "serialize_context",
]
