"""The run states of a delegated operation, the moves between them, and what each move
changes.

The run states form one state machine (see :data:`TRANSITIONS`)::

    queued ──► scheduled ──► running ──► completed
      │  ▲         │           │  │
      │  └─────────┘           │  └────► failed
      │  ◄──── release/requeue ┘
      └────────────────────────────────► failed     (fail from queued or scheduled)

``completed`` and ``failed`` are terminal: no update may leave them; rerunning creates a new
operation. Stores enforce this atomically through the ``expected_states`` precondition of
:meth:`~fiftyone_plugins.operators.stores.base.DelegatedOperationStore.update`; the change
sets of the moves every store and the service make (a claim, a requeue, a lost lease) are
written once, here.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "MAX_ATTEMPTS_KEY",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "ExecutionRunState",
    "SortField",
    "claim_changes",
    "lost_lease_changes",
    "requeue_changes",
    "sources_of",
    "states_tuple",
]

#: Metadata key giving how many times an operation may be attempted (default 1: no retry).
MAX_ATTEMPTS_KEY = "max_attempts"


_Member = TypeVar("_Member", bound=enum.Enum)


def _parse_member(cls: type[_Member], value: Any, what: str) -> _Member:
    """A member of the str enum ``cls`` from itself or its value in any case (a ValueError
    naming ``what`` and the choices otherwise)."""
    if isinstance(value, cls):
        return value
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(str(m.value) for m in cls)
        raise ValueError(f"Unknown {what} {value!r}; expected one of {choices}") from None


class ExecutionRunState(str, enum.Enum):
    """The run state of a delegated operation."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str | ExecutionRunState) -> ExecutionRunState:
        """Accepts ``"COMPLETED"``, ``"completed"`` or a member; anything else is a ValueError."""
        return _parse_member(cls, value, "run state")


TERMINAL_STATES = frozenset({ExecutionRunState.COMPLETED, ExecutionRunState.FAILED})

#: The allowed moves of the state machine: ``state -> states it may move to``.
TRANSITIONS: Mapping[ExecutionRunState, frozenset[ExecutionRunState]] = {
    ExecutionRunState.QUEUED: frozenset(
        {ExecutionRunState.SCHEDULED, ExecutionRunState.RUNNING, ExecutionRunState.FAILED}
    ),
    ExecutionRunState.SCHEDULED: frozenset(
        {ExecutionRunState.QUEUED, ExecutionRunState.RUNNING, ExecutionRunState.FAILED}
    ),
    ExecutionRunState.RUNNING: frozenset(
        {ExecutionRunState.COMPLETED, ExecutionRunState.FAILED, ExecutionRunState.QUEUED}
    ),
    ExecutionRunState.COMPLETED: frozenset(),
    ExecutionRunState.FAILED: frozenset(),
}


def sources_of(target: ExecutionRunState) -> frozenset[ExecutionRunState]:
    """The states from which ``target`` may be reached."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


class SortField(str, enum.Enum):
    """The fields operations can be listed by."""

    QUEUED_AT = "queued_at"
    SCHEDULED_AT = "scheduled_at"
    STARTED_AT = "started_at"
    COMPLETED_AT = "completed_at"
    FAILED_AT = "failed_at"
    UPDATED_AT = "updated_at"
    OPERATOR = "operator"

    @classmethod
    def parse(cls, value: str | SortField) -> SortField:
        """Accepts ``"COMPLETED_AT"``, ``"completed_at"`` or a member."""
        return _parse_member(cls, value, "sort field")


def states_tuple(
    states: ExecutionRunState | str | Iterable[ExecutionRunState | str] | None,
) -> tuple[ExecutionRunState, ...] | None:
    """Normalizes one state, several states or None into a tuple (or None: any state)."""
    if states is None:
        return None
    if isinstance(states, (str, ExecutionRunState)):
        return (ExecutionRunState.parse(states),)
    return tuple(ExecutionRunState.parse(s) for s in states)


def claim_changes(
    worker_id: str, lease_seconds: float | None, now: _dt.datetime
) -> dict[str, Any]:
    """What claiming an operation changes, besides ``attempts`` (which each store increments
    its own way): running, held by ``worker_id`` under a lease (no lease without a worker)."""
    lease = (
        now + _dt.timedelta(seconds=lease_seconds)
        if worker_id and lease_seconds is not None
        else None
    )
    return {
        "run_state": ExecutionRunState.RUNNING,
        "worker_id": worker_id,
        "started_at": now,
        "updated_at": now,
        "lease_expires_at": lease,
    }


def requeue_changes(error: str | None = None) -> dict[str, Any]:
    """What putting a running operation back in the queue changes (a worker releasing it,
    or an expired lease that may be retried); ``error`` says why, when there is a reason."""
    changes: dict[str, Any] = {
        "run_state": ExecutionRunState.QUEUED,
        "worker_id": None,
        "lease_expires_at": None,
        "started_at": None,
        "progress": None,
    }
    if error is not None:
        changes["error"] = error
    return changes


def lost_lease_changes(
    worker_id: str | None,
    lease_expires_at: _dt.datetime | None,
    attempts: int,
    metadata: Mapping[str, Any],
    now: _dt.datetime,
) -> dict[str, Any]:
    """What resolving an expired lease changes: requeued while ``attempts`` is below the
    operation's ``metadata["max_attempts"]`` (default 1: no retry), else failed with a
    "worker lost" error."""
    try:
        max_attempts = int(metadata.get(MAX_ATTEMPTS_KEY) or 1)
    except (TypeError, ValueError):
        max_attempts = 1
    expired = f"{lease_expires_at:%Y-%m-%d %H:%M:%S}" if lease_expires_at else "?"
    lost = (
        f"Worker lost: {worker_id or 'a worker'} stopped renewing its lease "
        f"(expired at {expired} UTC)"
    )
    if attempts < max_attempts:
        return requeue_changes(f"{lost}; requeued (attempt {attempts} of {max_attempts})")
    return {
        "run_state": ExecutionRunState.FAILED,
        "failed_at": now,
        "lease_expires_at": None,
        "error": lost,
    }
