"""The ``ray`` backend: each claimed operation runs as one Ray task.

Ray is imported by this module only (the ``[ray]`` extra). With an ``address`` the backend
connects to that cluster (``ray.init(address=...)``); without one it starts a local cluster on
loopback for the worker's life and shuts it down when the worker stops. If the host process
already initialized Ray, that connection is used and left open.

- Tasks run with ``max_retries=0`` (only the store's attempt policy retries) and are named
  :func:`~.base.task_name` (operation id and attempt), as Ray's dashboard and state API show.
- Progress travels back through a small actor of the worker's process (the *inbox*): the
  task posts ``(task, fraction, label)`` to it without waiting, and a thread of the worker
  drains its own tasks' reports and calls each operation's progress callback, which writes
  to the store.
- Cancelling stops the task for real: ``ray.cancel(force=True)`` kills the process running it.
- Per-operation :class:`~.base.Resources` become ``num_cpus``/``num_gpus``/``memory``.
- Ray's ownership model ties a task to the process that submitted it: when a worker dies,
  Ray kills its tasks, so orphans cannot outlive their dispatcher on this engine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import ray
import ray.exceptions

from ...errors import BackendUnavailableError, EngineTaskError
from ..runner import ProgressCallback
from .base import ExecutionBackend, Job, Submission, check_reachable
from .remote import outcome_from_wire, run_on_engine

__all__ = ["RayBackend"]

logger = logging.getLogger("fiftyone_plugins.operators.worker")

#: seconds to wait for a cluster's port to answer before saying it is unreachable
CONNECT_TIMEOUT = 5.0

#: seconds between two drains of the progress inbox
RELAY_INTERVAL = 0.2


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class _Inbox:
    """Collects progress reports of running tasks until their worker drains them.

    One per driver process (started once: an actor costs a worker process), shared by the
    backends of that process; each drains the reports of its own tasks only. Ray restarts it
    if its process dies (an engine worker killed, a node lost): the reports it held are lost,
    which progress may afford, but every handle to it keeps working.
    """

    def __init__(self) -> None:
        self._reports: dict[str, list[tuple[Any, Any]]] = {}

    def post(self, name: str, progress: Any, label: Any) -> None:
        self._reports.setdefault(name, []).append((progress, label))

    def drain(self, names: list[str]) -> list[tuple[str, Any, Any]]:
        found = []
        for name in names:
            for progress, label in self._reports.pop(name, ()):
                found.append((name, progress, label))
        return found


#: this process's inbox handle per Ray job: held here for the connection's life, because Ray
#: ends an actor once no handle to it is left (closing one backend must not end it for the
#: others of the process)
_inboxes: dict[str, Any] = {}
_inboxes_lock = threading.Lock()


def _inbox(renew: bool = False) -> Any:
    """This driver's inbox, started on first use (named after the driver's Ray job);
    ``renew`` drops a handle to an inbox that died and starts another."""
    job = str(ray.get_runtime_context().get_job_id())
    with _inboxes_lock:
        handle = None if renew else _inboxes.get(job)
        if handle is None:
            options = {"name": f"fiftyone-progress-{job}", "get_if_exists": True}
            handle = _inboxes[job] = _Inbox.options(**options).remote()  # type: ignore[attr-defined]
        return handle


@ray.remote(max_retries=0)
def _run(
    name: str, operator: str, context: dict[str, Any], op_id: str, inbox: Any
) -> dict[str, Any]:
    def report(progress: Any = None, label: Any = None) -> None:
        inbox.post.remote(name, progress, label)  # fire and forget: never slows the run

    return run_on_engine(operator, context, op_id, report)


class RaySubmission(Submission):
    """One operation's Ray task."""

    def __init__(self, backend: RayBackend, job: Job, ref: Any) -> None:
        self._backend = backend
        self._job = job
        self._ref = ref

    def wait(self) -> Any:
        name = self._job.name
        try:
            data = ray.get(self._ref)
        except ray.exceptions.TaskCancelledError:
            raise EngineTaskError(
                f"The Ray task {name} was cancelled", backend="ray", task=name
            ) from None
        except ray.exceptions.RayError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise EngineTaskError(
                f"The Ray task {name} was lost ({type(e).__name__}: {first})",
                backend="ray",
                task=name,
            ) from None
        finally:
            self._backend._finished(name)
        return outcome_from_wire(data)

    def cancel(self) -> bool:
        try:
            ray.cancel(self._ref, force=True)
        except Exception as e:  # already finished, or the cluster is gone
            logger.debug("%s: cancel: %s", self._job.name, e)
        return True


class RayBackend(ExecutionBackend):
    """Runs operations as Ray tasks; ``address`` None starts a local cluster of ``num_cpus``
    (default: this machine's) CPUs on loopback for the worker's life."""

    name = "ray"
    honours_resources = True

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.init_options = dict(init_options or {})
        self._initialized_here = False
        self._inbox: Any = None
        self._callbacks: dict[str, ProgressCallback] = {}
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()  # one drain at a time keeps reports in order
        self._relay: threading.Thread | None = None
        self._closing = threading.Event()

    # -- lifetime --------------------------------------------------------------------------------

    def open(self) -> None:
        if self._inbox is not None:
            return
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": True, **self.init_options}
            if self.address:
                options["address"] = self.address
            else:
                options.setdefault("num_cpus", self.num_cpus)
                options.setdefault("include_dashboard", False)
                options.setdefault("_node_ip_address", "127.0.0.1")
            try:
                if self.address and self.address != "auto":
                    check_reachable(self.address, CONNECT_TIMEOUT)
                ray.init(**options)
            except Exception as e:
                where = self.address or "a local cluster"
                raise BackendUnavailableError(
                    f"Cannot reach the Ray cluster at {where}: {_first_line(e)}", backend="ray"
                ) from None
            self._initialized_here = True
        self._inbox = _inbox()
        self._closing.clear()
        self._relay = threading.Thread(target=self._relay_loop, name="ray-progress", daemon=True)
        self._relay.start()

    def close(self) -> None:
        self._closing.set()
        if self._relay is not None:
            self._relay.join(5)
            self._relay = None
        self._inbox = None  # it lives as long as this process's Ray connection
        if self._initialized_here:
            with _inboxes_lock:
                _inboxes.clear()  # the connection ends: so do its actors
            ray.shutdown()
            self._initialized_here = False

    def default_slots(self) -> int:
        self.open()
        return max(1, int(ray.available_resources().get("CPU", 1)))

    def describe(self) -> str:
        return f"ray ({self.address or 'local cluster'})"

    # -- running ---------------------------------------------------------------------------------

    def submit(self, job: Job, progress: ProgressCallback) -> Submission:
        self.open()
        options: dict[str, Any] = {"name": job.name, "max_retries": 0}
        resources = job.resources
        if resources is not None:
            if resources.cpus is not None:
                options["num_cpus"] = resources.cpus
            if resources.gpus is not None:
                options["num_gpus"] = resources.gpus
            if resources.memory is not None:
                options["memory"] = resources.memory
        with self._lock:
            self._callbacks[job.name] = progress
        doc = job.doc
        ref = _run.options(**options).remote(
            job.name, doc.operator, dict(doc.context or {}), job.op_id, self._inbox
        )
        return RaySubmission(self, job, ref)

    def _finished(self, name: str) -> None:
        self._deliver()  # the last reports of this task reach the store before its outcome
        with self._lock:
            self._callbacks.pop(name, None)

    def _relay_loop(self) -> None:
        while not self._closing.wait(RELAY_INTERVAL):
            self._deliver()

    def _deliver(self) -> None:
        inbox = self._inbox
        with self._lock:
            names = list(self._callbacks)
        if inbox is None or not names:
            return
        with self._drain_lock:
            try:
                reports = ray.get(inbox.drain.remote(names), timeout=30)
            except Exception as e:  # progress is best effort; the outcome is not
                logger.warning("ray: could not read progress: %s", _first_line(e))
                if isinstance(e, ray.exceptions.RayActorError):
                    with contextlib.suppress(Exception):  # a new inbox for the next tasks
                        self._inbox = _inbox(renew=True)
                return
            for name, fraction, label in reports:
                with self._lock:
                    callback = self._callbacks.get(name)
                if callback is not None:
                    callback(fraction, label)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
