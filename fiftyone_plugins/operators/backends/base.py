"""The execution-backend interface: what a worker asks of the engine that runs operations.

A worker (:mod:`..worker`) stays the dispatcher: it claims operations from the store, which
remains the only authority on claims, leases, attempts and retries. For each claimed
operation it builds a :class:`Job` and calls :meth:`ExecutionBackend.submit`; the
:class:`Submission` it gets back is waited on (in a thread of the worker) and may be
cancelled. While a job runs, the worker renews its lease, and the backend relays the
operation's progress to the callback it was given, *in the worker's process*: the engine side
never writes to the store, so a SQLite store works with a remote cluster too.

The methods, in the order a worker calls them:

- :meth:`~ExecutionBackend.open` once, before the first claim: start or connect to the engine;
  a missing extra or an unreachable cluster raises
  :class:`~fiftyone_plugins.errors.BackendUnavailableError` before the queue is touched;
- :meth:`~ExecutionBackend.default_slots`: how many operations to keep in flight when the user
  did not say (``--max-in-flight``);
- :meth:`~ExecutionBackend.submit` per claimed operation;
- :meth:`~ExecutionBackend.cancel_orphans` now and then: cancels engine tasks left by an
  earlier dispatcher that the store no longer lets run;
- :meth:`~ExecutionBackend.close` once, when the worker stops (a cluster the backend started
  is shut down).

Each engine task is named :func:`task_name` ``(operation id, attempt)``, so the store can tell
whether a task found on the engine still has the right to run.
"""

from __future__ import annotations

import abc
import dataclasses
import re
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from ..runner import ProgressCallback
from ..stores.records import DelegatedOperationDoc

__all__ = [
    "RESOURCES_KEY",
    "TASK_PREFIX",
    "ExecutionBackend",
    "Job",
    "Resources",
    "Submission",
    "check_reachable",
    "parse_task_name",
    "task_name",
]

#: every engine task this library submits starts with this
TASK_PREFIX = "fiftyone-op"

#: the operation metadata key holding the resources it asks for (see :class:`Resources`)
RESOURCES_KEY = "resources"

_TASK_NAME = re.compile(rf"^{TASK_PREFIX}-(?P<op_id>[0-9a-f]{{24}})-(?P<attempt>\d+)$")


def task_name(op_id: str, attempt: int) -> str:
    """The engine task name of one attempt of an operation: ``fiftyone-op-<id>-<attempt>``."""
    return f"{TASK_PREFIX}-{op_id}-{attempt}"


def parse_task_name(name: str) -> tuple[str, int] | None:
    """``(operation id, attempt)`` of a name made by :func:`task_name`; None for others."""
    found = _TASK_NAME.match(name)
    if found is None:
        return None
    return found["op_id"], int(found["attempt"])


def check_reachable(address: str, timeout: float) -> None:
    """Raises ConnectionError when nothing listens at ``[scheme://]host:port``: engines'
    own clients retry for a long while before giving up, and a worker should say at once."""
    host, _, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise ConnectionError(f"expected host:port or scheme://host:port, got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"{host}:{port} does not answer ({e.strerror or e})") from None


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one operation asks of the engine: CPUs, GPUs, memory in bytes (None: the
    engine's default). Read from a mapping with ``cpus``, ``gpus`` and ``memory``: the
    operation's ``metadata["resources"]`` or its delegation target's entry in the
    ``delegated_target_resources`` config. A backend that cannot honour a request says so in
    its log instead of ignoring it silently."""

    cpus: float | None = None
    gpus: float | None = None
    memory: int | None = None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Resources | None:
        raw = (metadata or {}).get(RESOURCES_KEY)
        if not isinstance(raw, Mapping):
            return None

        def number(key: str) -> float | None:
            value = raw.get(key)
            if value is None:
                return None
            try:
                number = float(value)
            except (TypeError, ValueError):
                return None
            return number if number >= 0 else None

        memory = number("memory")
        found = cls(number("cpus"), number("gpus"), None if memory is None else int(memory))
        return None if found == cls() else found


@dataclasses.dataclass(frozen=True)
class Job:
    """One claimed operation, as a backend sees it."""

    doc: DelegatedOperationDoc

    @property
    def op_id(self) -> str:
        assert self.doc.id is not None
        return self.doc.id

    @property
    def attempt(self) -> int:
        return self.doc.attempts

    @property
    def name(self) -> str:
        """The engine task's name (:func:`task_name`)."""
        return task_name(self.op_id, self.attempt)

    @property
    def resources(self) -> Resources | None:
        """What the operation asks for: its own ``metadata["resources"]``, else what the
        ``delegated_target_resources`` config gives its delegation target."""
        own = Resources.from_metadata(self.doc.metadata)
        if own is not None or self.doc.delegation_target is None:
            return own
        from ...config import load_config

        by_target = load_config().delegated_target_resources
        return Resources.from_metadata({RESOURCES_KEY: by_target.get(self.doc.delegation_target)})


class Submission(abc.ABC):
    """One job handed to a backend."""

    @abc.abstractmethod
    def wait(self) -> Any:
        """Blocks until the job ends and returns its outcome (an execution result, a value,
        or a mapping with ``result``/``error``/``error_trace``); raises
        :class:`~fiftyone_plugins.errors.EngineTaskError` when the engine lost the task."""

    @abc.abstractmethod
    def cancel(self) -> bool:
        """Asks the engine to stop the job; False when this backend cannot stop a running
        job (its outcome is then discarded by the store's compare-and-set)."""


class ExecutionBackend(abc.ABC):
    """Runs claimed operations somewhere: in the worker (``local``), on Ray or on Dask."""

    #: the name used by ``--backend`` and ``FIFTYONE_DELEGATED_BACKEND``
    name: ClassVar[str] = ""
    #: whether per-operation :class:`Resources` are passed to the engine
    honours_resources: ClassVar[bool] = False

    def open(self) -> None:  # noqa: B027 - a backend with nothing to start keeps it
        """Starts or connects to the engine (idempotent)."""

    def close(self) -> None:  # noqa: B027
        """Disconnects; shuts down a cluster this backend started (idempotent)."""

    def default_slots(self) -> int:
        """Operations kept in flight when the user did not say: the engine's free CPUs."""
        return 1

    @abc.abstractmethod
    def submit(self, job: Job, progress: ProgressCallback) -> Submission:
        """Starts ``job``; ``progress(fraction, label)`` is called in this process as the
        operation reports progress."""

    def cancel_orphans(self, may_run: Callable[[Iterable[str]], set[str]]) -> list[str]:
        """Cancels this engine's tasks (of any dispatcher) that must not run any more.

        ``may_run(names)`` returns the task names the store still lets run (the operation is
        running at that attempt). Returns the names cancelled; engines that cannot list
        tasks return ``[]``.
        """
        return []

    def describe(self) -> str:
        """A short description for the worker's start-up line."""
        return self.name
