"""Claiming one operation by its id: what ``delegated run ID`` (an external scheduler's job)
asks of the queue.

The claim is the service's compare-and-set ``queued``/``scheduled`` → ``running``, so it is
atomic like :meth:`~.service.OperationService.claim_next`; what it adds is the verdict a
scheduler reads: :class:`~fiftyone_plugins.errors.OperationNotClaimableError` (exit code 3)
says the operation is unknown or no longer queued. A store that cannot be reached raises its
own error instead: that is no verdict on the operation.
"""

from __future__ import annotations

from ..errors import (
    InvalidStateTransitionError,
    OperationNotClaimableError,
    OperationNotFoundError,
)
from .service import DelegatedOperation, OperationService

__all__ = ["claim_operation"]


def claim_operation(
    service: OperationService, op_id: str, worker_id: str, lease_seconds: float | None = None
) -> DelegatedOperation:
    """Takes exactly ``op_id`` for ``worker_id`` while it is queued or scheduled."""
    try:
        return service.set_running(op_id, worker_id=worker_id, lease_seconds=lease_seconds)
    except OperationNotFoundError:
        why = "no operation has this id"
    except InvalidStateTransitionError:
        why = f"it is {service.get(op_id).run_state.value}, not queued"
    raise OperationNotClaimableError(f"Operation {op_id} is not claimable: {why}", op_id=op_id)
