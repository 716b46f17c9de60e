"""A worker's announcements in the store (:mod:`.presence`), written without ever failing it.

The worker makes one :class:`Announcer` when it starts; :meth:`Announcer.announce` is called
then and on every lease heartbeat, :meth:`Announcer.withdraw` when it stops. A store that
cannot take the entry costs a warning, never an operation: presence is for people reading
``delegated workers``, claims do not depend on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .presence import WorkerInfo, announce, withdraw
from .service import OperationService
from .stores.records import utcnow

__all__ = ["Announcer", "runnable_operators"]

logger = logging.getLogger("fiftyone_plugins.operators.worker")


def runnable_operators(
    operators: Sequence[str] | None, uses_local_registry: bool
) -> list[str] | None:
    """The operator URIs a worker can run: its ``--operator`` filter, else, when it runs
    operators from this process's registry, the enabled ones there; None: any (an engine
    looks operators up in its own registry, a custom runner runs whatever it is given)."""
    if operators is not None:
        return sorted(operators)
    if not uses_local_registry:
        return None
    try:
        from .registry import list_operators

        return sorted(op.uri for op in list_operators())
    except Exception as e:  # a broken plugin folder must not stop the worker
        logger.warning("could not list the operators this worker can run: %s", e)
        return None


class Announcer:
    """Keeps one worker's entry fresh."""

    def __init__(self, service: OperationService, info: WorkerInfo) -> None:
        self.service = service
        self.info = info
        self.info.started_at = utcnow()
        self._warned = False

    def announce(self, in_flight: int) -> None:
        self.info.in_flight = in_flight
        try:
            announce(self.service, self.info)
        except Exception as e:
            if not self._warned:  # once: a store outage already logs on every claim
                logger.warning("could not announce worker %s: %s", self.info.id, e)
                self._warned = True
            return
        self._warned = False

    def withdraw(self) -> None:
        try:
            withdraw(self.service, self.info.id)
        except Exception as e:
            logger.warning("could not withdraw worker %s: %s", self.info.id, e)
