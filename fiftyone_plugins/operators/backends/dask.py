"""The ``dask`` backend: each claimed operation runs as one Dask distributed task.

Dask is imported by this module only (the ``[dask]`` extra: ``dask`` and ``distributed``).
With an ``address`` the backend connects a :class:`distributed.Client` to that scheduler;
without one it starts a :class:`distributed.LocalCluster` on loopback (worker processes, one
thread each) for the worker's life and closes it when the worker stops.

- Tasks are submitted with ``retries=0`` and ``pure=False`` under the key
  :func:`~.base.task_name` (operation id and attempt). The scheduler's
  ``distributed.scheduler.allowed-failures`` decides whether a task whose Dask worker died is
  run again elsewhere: the local cluster is started with 0, and on a cluster of yours the
  setting is read at start-up and a warning is logged when it is not 0, since such a rerun
  happens outside the store's attempt policy.
- Progress travels back as structured events: the task calls ``log_event`` on its Dask worker
  under a topic of this backend, the scheduler forwards them to the worker's client, and a
  thread hands them to each operation's progress callback, which writes to the store.
- Dask cannot interrupt a running task: cancelling releases it (the slot is free at once) but
  the engine lets the Python call run to its end, and the store refuses its outcome.
- Orphans (tasks of a dead dispatcher whose operation was since failed or run again) are
  found by name on the Dask workers; a Dask worker running nothing but orphans is restarted
  by its nanny, which stops them (:meth:`DaskBackend.cancel_orphans`).
- Per-operation resources are not passed on (Dask needs them declared on its workers first):
  an operation asking for some logs a warning saying so.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import dask
import distributed

from ...errors import BackendUnavailableError, EngineTaskError
from ..runner import ProgressCallback
from .base import (
    TASK_PREFIX,
    ExecutionBackend,
    Job,
    Submission,
    check_reachable,
    parse_task_name,
)
from .remote import outcome_from_wire, run_on_engine

__all__ = ["DaskBackend"]

logger = logging.getLogger("fiftyone_plugins.operators.worker")

#: seconds to wait for a scheduler before saying it is unreachable
CONNECT_TIMEOUT = 10.0


def _executing_keys(dask_worker: Any) -> list[str]:
    """On each Dask worker: the keys of the calls running there, released ones included."""
    return [str(ts.key) for ts in dask_worker.state.executing]


def _run(name: str, topic: str, operator: str, context: dict[str, Any], op_id: str) -> Any:
    """The task: runs one operation on this Dask worker, posting progress as events."""
    worker = distributed.get_worker()

    def report(progress: Any = None, label: Any = None) -> None:
        worker.log_event(topic, {"task": name, "progress": progress, "label": label})

    return run_on_engine(operator, context, op_id, report)


class DaskSubmission(Submission):
    """One operation's Dask future."""

    def __init__(self, backend: DaskBackend, job: Job, future: Any) -> None:
        self._backend = backend
        self._job = job
        self._future = future

    def wait(self) -> Any:
        name = self._job.name
        try:
            data = self._future.result()
        except distributed.KilledWorker as e:
            raise EngineTaskError(
                f"The Dask task {name} was lost: its Dask worker died ({e})",
                backend="dask",
                task=name,
            ) from None
        except (concurrent.futures.CancelledError, distributed.client.FutureCancelledError):
            raise EngineTaskError(
                f"The Dask task {name} was cancelled, or the cluster went away",
                backend="dask",
                task=name,
            ) from None
        except Exception as e:  # the task could not even start there (e.g. an import)
            raise EngineTaskError(
                f"The Dask task {name} failed on the engine ({type(e).__name__}: {e})",
                backend="dask",
                task=name,
            ) from None
        finally:
            self._backend._finished(name)
        return outcome_from_wire(data)

    def cancel(self) -> bool:
        try:
            self._future.cancel()
        except Exception as e:  # the cluster is already gone
            logger.debug("%s: cancel: %s", self._job.name, e)
        return False  # released, but a running Python call cannot be stopped


class DaskBackend(ExecutionBackend):
    """Runs operations as Dask tasks; ``address`` None starts a local cluster of
    ``n_workers`` single-threaded worker processes (default: one per CPU) on loopback."""

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        cluster_options: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.n_workers = n_workers
        self.cluster_options = dict(cluster_options or {})
        self.client: Any = None
        self._cluster: Any = None
        self._topic = f"{TASK_PREFIX}-progress-{uuid.uuid4().hex[:12]}"
        self._callbacks: dict[str, ProgressCallback] = {}
        self._lock = threading.Lock()
        self._events: queue.Queue[tuple[Any, Any, Any] | None] = queue.Queue()
        self._relay: threading.Thread | None = None

    # -- lifetime --------------------------------------------------------------------------------

    def open(self) -> None:
        if self.client is not None:
            return
        try:
            if self.address:
                check_reachable(self.address, CONNECT_TIMEOUT)
                self.client = distributed.Client(
                    self.address, timeout=CONNECT_TIMEOUT, set_as_default=False
                )
                self._check_allowed_failures()
            else:
                options: dict[str, Any] = {
                    "host": "127.0.0.1",
                    "n_workers": self.n_workers,
                    "threads_per_worker": 1,
                    "processes": True,
                    "dashboard_address": "127.0.0.1:0",  # loopback, any free port
                    **self.cluster_options,
                }
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self._cluster = distributed.LocalCluster(**options)
                self.client = distributed.Client(self._cluster, set_as_default=False)
        except Exception as e:
            self._close_quietly()
            where = self.address or "a local cluster"
            raise BackendUnavailableError(
                f"Cannot reach the Dask cluster at {where}: {_first_line(e)}", backend="dask"
            ) from None
        self.client.subscribe_topic(self._topic, self._on_event)
        self._relay = threading.Thread(target=self._relay_loop, name="dask-progress", daemon=True)
        self._relay.start()

    def _check_allowed_failures(self) -> None:
        def allowed(dask_scheduler: Any = None) -> Any:
            found = getattr(dask_scheduler, "allowed_failures", None)
            if found is None:
                return dask.config.get("distributed.scheduler.allowed-failures")
            return found

        try:
            value = self.client.run_on_scheduler(allowed)
        except Exception as e:  # an older scheduler, or run_on_scheduler refused
            logger.warning("dask: could not read allowed-failures of the scheduler: %s", e)
            return
        if value not in (0, "0"):
            logger.warning(
                "dask: the scheduler's distributed.scheduler.allowed-failures is %s, not 0: "
                "a task whose Dask worker dies may run again outside the store's attempt "
                "policy",
                value,
            )

    def close(self) -> None:
        if self._relay is not None:
            self._events.put(None)
            self._relay.join(5)
            self._relay = None
        self._close_quietly()

    def _close_quietly(self) -> None:
        client, cluster = self.client, self._cluster
        self.client = self._cluster = None
        for thing in (client, cluster):
            if thing is None:
                continue
            try:
                thing.close()
            except Exception as e:  # the cluster is already gone
                logger.debug("dask: close: %s", e)

    def cancel_orphans(self, may_run: Callable[[Iterable[str]], set[str]]) -> list[str]:
        """Restarts each Dask worker whose running tasks are all orphans of this library.

        Dask cannot stop one running call, but its nanny can restart the worker process; a
        worker also running anything else (a live operation, another user's task) is left
        alone and the orphan runs to its end, its outcome never recorded.
        """
        self.open()
        running: dict[str, list[str]] = self.client.run(_executing_keys)
        ours = [name for names in running.values() for name in names if parse_task_name(name)]
        if not ours:
            return []
        allowed = may_run(ours)
        doomed: list[str] = []
        cancelled: list[str] = []
        for address, names in running.items():
            orphans = [n for n in names if parse_task_name(n) and n not in allowed]
            if not orphans:
                continue
            if len(orphans) == len(names):
                doomed.append(address)
                cancelled.extend(orphans)
            else:
                logger.warning(
                    "dask: the orphaned task(s) %s share the Dask worker %s with other tasks; "
                    "they run to their end",
                    ", ".join(orphans),
                    address,
                )
        if doomed:
            self.client.restart_workers(doomed)
        return cancelled

    def default_slots(self) -> int:
        self.open()
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        return f"dask ({self.address or 'local cluster'})"

    # -- running ---------------------------------------------------------------------------------

    def submit(self, job: Job, progress: ProgressCallback) -> Submission:
        self.open()
        if job.resources is not None:
            logger.warning(
                "%s: the dask backend does not pass per-operation resources (%s) to Dask; "
                "it runs on any free Dask worker",
                job.op_id,
                job.resources,
            )
        with self._lock:
            self._callbacks[job.name] = progress
        doc = job.doc
        future = self.client.submit(
            _run,
            job.name,
            self._topic,
            doc.operator,
            dict(doc.context or {}),
            job.op_id,
            key=job.name,
            pure=False,
            retries=0,
        )
        return DaskSubmission(self, job, future)

    def _finished(self, name: str) -> None:
        # events of this task sent before it returned were forwarded before its result
        # (one ordered stream from the scheduler); wait until the relay has handed them on
        done = threading.Event()
        self._events.put((_FLUSH, done, None))
        done.wait(5)
        with self._lock:
            self._callbacks.pop(name, None)

    def _on_event(self, event: Any) -> None:
        _timestamp, message = event
        if isinstance(message, dict):
            self._events.put((message.get("task"), message.get("progress"), message.get("label")))

    def _relay_loop(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            name, fraction, label = item
            if name is _FLUSH:
                fraction.set()
                continue
            with self._lock:
                callback = self._callbacks.get(name)
            if callback is not None:
                callback(fraction, label)


#: a marker in the relay queue: everything before it has been handed on
_FLUSH: Any = object()


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
