"""Changing many delegated operations at once, all or nothing: ``delegated fail``,
``delegated delete`` and ``delegated cleanup``.

A bulk change checks every id first (well-formed, existing, in an allowed state) and changes
nothing when one is refused, naming every refused id; an operation changed concurrently after
the check stops the change, saying which operations were already changed. Running
operations are never deleted. Each function takes the service it works through.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import (
    CorruptRecordError,
    DelegatedOperationError,
    InvalidStateTransitionError,
    OperationNotFoundError,
    StoreError,
)
from . import datasets
from .queries import Filter
from .stores import DelegatedOperationStore, OperationQuery
from .stores.records import DelegatedOperationDoc, ExecutionRunState, sources_of, validate_id

if TYPE_CHECKING:
    from .service import OperationService

__all__ = [
    "check_all",
    "cleanup",
    "delete_operations",
    "fail_operations",
    "refuse_lone_children",
]

logger = logging.getLogger("fiftyone_plugins.operators.service")

DelegatedOperation = DelegatedOperationDoc

#: every state but running: what may be deleted
_DELETABLE = tuple(s for s in ExecutionRunState if s is not ExecutionRunState.RUNNING)


def check_all(
    service: OperationService,
    ids: Iterable[str],
    action: str,
    allowed: Iterable[ExecutionRunState],
    hint: str = "",
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
            doc = service.store.get(key)
        except CorruptRecordError:
            if action != "delete":  # nothing but deleting can be done with it
                raise
            running = OperationQuery(ids=(key,), run_states=(ExecutionRunState.RUNNING,))
            if service.store.count(running):
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
    service: OperationService, ids: Iterable[str], reason: str = "Marked as failed by the user"
) -> list[DelegatedOperation]:
    """Marks several operations failed after checking them all (the ``delegated fail``
    CLI): nothing changes if any id is malformed, unknown, or completed/failed already.
    Repeated ids count once. Returns the failed records.
    """
    checked = check_all(service, ids, "fail", sources_of(ExecutionRunState.FAILED))
    done: list[DelegatedOperation] = []
    for key, _ in checked:
        try:
            done.append(service.fail_operation(key, reason))
        except DelegatedOperationError as e:  # changed by someone else since the check
            if not done:
                raise
            raise _partly(e, "failed", done) from e
    return done


def delete_operations(service: OperationService, ids: Iterable[str]) -> list[DelegatedOperation]:
    """Deletes several operations after checking them all: nothing is deleted if any id is
    malformed, unknown or running. Repeated ids count once. Returns the deleted records (a
    record too corrupt to read comes back with only its id and operator ``"?"``).
    """
    allowed = [s for s in ExecutionRunState if s is not ExecutionRunState.RUNNING]
    hint = "; fail it first (`fiftyone-plugins delegated fail ID`)"
    checked = check_all(service, _with_children(service, ids), "delete", allowed, hint)
    refuse_lone_children(checked, "delete")
    done: list[DelegatedOperation] = []
    for key, doc in checked:
        if not service.store.delete(key, expected_states=allowed):  # changed since the check
            current: DelegatedOperation | None = None
            with contextlib.suppress(CorruptRecordError):
                current = service.store.get(key)
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


def _with_children(service: OperationService, ids: Iterable[str]) -> list[str]:
    """``ids`` with the children of pipelines and fan-outs among them first: deleting a
    parent deletes its children."""
    keys = list(dict.fromkeys(validate_id(i) for i in ids))
    children = service.store.find(OperationQuery(parent_ids=tuple(keys))) if keys else []
    return [c.id for c in children if c.id is not None and c.id not in keys] + keys


def refuse_lone_children(
    checked: Sequence[tuple[str, DelegatedOperation | None]], action: str
) -> None:
    """A child operation (a pipeline stage, a fan-out slice) is only changed with its parent
    (FiftyOne Enterprise's rule); it may still be failed alone."""
    keys = {key for key, _ in checked}
    for key, doc in checked:
        if doc is not None and doc.parent_id and doc.parent_id not in keys:
            raise InvalidStateTransitionError(
                f"Cannot {action} delegated operation {key} alone: it is a child of "
                f"{doc.parent_id}; {action} that operation instead",
                op_id=key,
            )


def cleanup(
    service: OperationService,
    operator: Filter = None,
    dataset_name: Filter = None,
    state: Any = None,
    orphan: bool = False,
    dry_run: bool = False,
    *,
    dataset_id: Filter = None,
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
    docs = service.list_operations(
        operator=operator, dataset_name=dataset_name, dataset_id=dataset_id, run_state=state
    )
    docs = [d for d in docs if d.run_state is not ExecutionRunState.RUNNING]
    if orphan:
        exists = dataset_exists or service.dataset_exists or host_dataset_exists(service.store)
        docs = [d for d in docs if _is_orphan(d, exists)]
    if dry_run:
        return docs
    return [d for d in docs if service.store.delete(d.id or "", expected_states=_DELETABLE)]


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


def host_dataset_exists(store: DelegatedOperationStore) -> Callable[[str], bool]:
    """The host resolver's notion of "this dataset exists", or "all exist" without one.

    The in-memory fallback resolver only knows this process's datasets, so it is trusted only
    with the ``memory://`` store; for a persistent store it would call every dataset missing.
    """
    try:
        resolver = datasets.get_resolver()
    except Exception as e:  # no operators layer, or a broken resolver setting
        logger.warning("no dataset resolver (%s): treating every dataset as existing", e)
        return lambda _name: True
    if resolver is None or (
        isinstance(resolver, datasets.InMemoryDatasetResolver)
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
