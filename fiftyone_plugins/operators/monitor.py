"""Running each delegated operation in a child process that the worker watches
(``delegated launch --monitor``, FiftyOne's flag).

In a plain worker an operation that crashes the interpreter (a segfault in a native library),
calls ``os._exit()`` or exhausts memory takes the worker down with it, and its lease then fails
it as "worker lost" a minute later. With :class:`MonitoredRunner` each operation runs in a
fresh ``python -m fiftyone_plugins.operators.monitor`` process: the worker relays its progress
and records its outcome, and when the child dies without one, the operation fails at once with
the reason (its exit code, or the signal that killed it) while the worker goes on with the
next operation. ``max_memory`` caps the child's address space (``RLIMIT_AS``), so a memory
blow-up is a ``MemoryError`` of that operation rather than the machine swapping.

The child reads the operation (operator URI, stored context, id, runner) as JSON on stdin,
writes JSON lines to the file descriptor it is given (``{"progress": ..., "label": ...}``,
then ``{"outcome": {...}}``), and inherits the worker's stdout and stderr, so what an operation
prints reaches the worker's output as it runs. It loads its own registry and reads its own
secrets (from the same environment); nothing it sends back holds a secret value.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from .result import ExecutionResult
from .stores.records import DelegatedOperationDoc

__all__ = ["MonitoredRunner", "parse_memory", "main"]

_CHILD = "fiftyone_plugins.operators.monitor"


def parse_memory(text: str) -> int:
    """Bytes from ``512M``, ``2G``, ``1.5g``, ``1048576`` (``ValueError`` otherwise)."""
    value = text.strip().lower().removesuffix("b")
    scale = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}.get(value[-1:], 1)
    if scale != 1:
        value = value[:-1]
    number = float(value)
    if number <= 0:
        raise ValueError(f"expected a positive size, got {text!r}")
    return int(number * scale)


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


class MonitoredRunner:
    """A worker's runner that executes each operation in a watched child process.

    ``runner``: the ``module:function`` the child runs operations with (default: the
    operators layer), checked here so a typo stops the worker before it claims anything;
    ``max_memory``: bytes of address space the child may use.

    Children run in their own session: a terminal's Ctrl-C or a signal to the worker's
    process group reaches the worker alone, which finishes or releases its operations as
    it does without ``--monitor``. They die with the worker (``PR_SET_PDEATHSIG`` on Linux),
    and :meth:`kill_all` (called when the worker stops) kills any still running, so an
    operation put back in the queue never goes on running here.
    """

    #: seconds a child may take to exit once it has sent its outcome
    EXIT_GRACE = 5.0

    def __init__(self, runner: str | None = None, max_memory: int | None = None) -> None:
        if runner is not None and not isinstance(runner, str):
            raise TypeError("a monitored runner names its runner by 'module:function'")
        if runner is not None:
            from .runner import resolve_runner

            resolve_runner(runner)  # an unimportable runner fails now, not each operation
        self.runner = runner
        self.max_memory = max_memory
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def kill_all(self) -> None:
        """Kills the children still running (the worker is stopping at once)."""
        with self._lock:
            children = list(self._children)
        for child in children:
            with contextlib.suppress(OSError):
                child.kill()

    def __call__(
        self, doc: DelegatedOperationDoc, progress_callback: Callable[..., None]
    ) -> ExecutionResult:
        read_fd, write_fd = os.pipe()
        request = {
            "operator": doc.operator,
            "context": doc.context,
            "id": doc.id,
            "runner": self.runner,
            "max_memory": self.max_memory,
            "fd": write_fd,
            "parent": os.getpid(),
        }
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", _CHILD],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                close_fds=True,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        with self._lock:
            self._children.add(child)
        try:
            outcome = self._watch(child, read_fd, request, progress_callback)
            try:
                code = child.wait(self.EXIT_GRACE if outcome is not None else None)
            except subprocess.TimeoutExpired:  # a thread or handler keeps it alive: done
                child.kill()
                code = child.wait()
        except BaseException:  # the worker is stopping at once: so is the operation
            child.kill()
            child.wait()
            raise
        finally:
            with self._lock:
                self._children.discard(child)
        if outcome is not None:  # what it reported stands, however it exited afterwards
            return ExecutionResult(
                result=outcome.get("result"),
                error=outcome.get("error"),
                error_trace=outcome.get("error_trace"),
                operator_uri=doc.operator,
            )
        reason = f"The operation's process {_exit_reason(code)} before it finished"
        return ExecutionResult(error=reason, operator_uri=doc.operator)

    @staticmethod
    def _watch(
        child: subprocess.Popen[bytes],
        read_fd: int,
        request: dict[str, Any],
        progress_callback: Callable[..., None],
    ) -> dict[str, Any] | None:
        """Relays progress until the outcome arrives (or the child's end of the pipe
        closes without one); returns the outcome."""
        with os.fdopen(read_fd, encoding="utf-8") as messages:
            feeder = threading.Thread(target=_feed, args=(child, request), daemon=True)
            feeder.start()
            for line in messages:
                try:
                    message = json.loads(line)
                except ValueError:  # a line cut short by the child's death
                    continue
                if "outcome" in message:
                    return message["outcome"]  # type: ignore[no-any-return]
                progress_callback(message.get("progress"), message.get("label"))
        return None


def _die_with_parent(parent: int) -> None:
    """In the child, first thing: die with the worker (Linux ``prctl``), so a worker
    killed outright leaves no operation running behind it. (Done here rather than in a
    ``preexec_fn``, which is unsafe in a worker's threads; a worker that died before the
    call is noticed by the parent check.)"""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker's kill_all() remains
        pass
    if os.getppid() != parent:
        os._exit(1)


def _feed(child: subprocess.Popen[bytes], request: dict[str, Any]) -> None:
    assert child.stdin is not None
    try:
        child.stdin.write(json.dumps(request).encode())
        child.stdin.close()
    except OSError:  # the child died before reading: its exit says why
        pass


def main() -> None:
    """The child: run one operation, report progress and its outcome on the given fd."""
    request = json.loads(sys.stdin.read())
    _die_with_parent(request["parent"])
    os.set_inheritable(request["fd"], False)  # what the operation starts must not hold it
    out = os.fdopen(request["fd"], "w", encoding="utf-8", buffering=1)
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(message, default=str) + "\n")

    if request.get("max_memory"):
        import resource

        limit = int(request["max_memory"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from .runner import resolve_runner

    doc = DelegatedOperationDoc(
        operator=request["operator"], id=request.get("id"), context=request.get("context") or {}
    )
    try:
        runner = resolve_runner(request.get("runner"))
        outcome = ExecutionResult.from_outcome(
            runner(
                doc, lambda progress=None, label=None: send({"progress": progress, "label": label})
            )
        )
    except Exception as e:  # what the runner raised fails the operation, as in a worker
        outcome = ExecutionResult.from_exception(e, uri=doc.operator)
    try:
        result = outcome.stored_result()
        json.dumps(result)
    except (TypeError, ValueError) as e:
        result, outcome = (
            None,
            ExecutionResult(
                error=f"The operation finished but its result is not JSON-serializable: {e}"
            ),
        )
    error, trace = outcome.error, outcome.error_trace
    send({"outcome": {"result": result, "error": error, "error_trace": trace}})
    out.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # done: threads or exit handlers the operation left behind must not hold the worker
    os._exit(0)


if __name__ == "__main__":
    main()  # never returns: it ends the process
