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
    operators layer); ``max_memory``: bytes of address space the child may use.
    """

    def __init__(self, runner: str | None = None, max_memory: int | None = None) -> None:
        if runner is not None and not isinstance(runner, str):
            raise TypeError("a monitored runner names its runner by 'module:function'")
        self.runner = runner
        self.max_memory = max_memory

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
        }
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", _CHILD],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                close_fds=True,
            )
        finally:
            os.close(write_fd)
        outcome: dict[str, Any] | None = None
        with os.fdopen(read_fd, encoding="utf-8") as messages:
            feeder = threading.Thread(target=_feed, args=(child, request), daemon=True)
            feeder.start()
            try:
                for line in messages:
                    message = json.loads(line)
                    if "outcome" in message:
                        outcome = message["outcome"]
                    else:
                        progress_callback(message.get("progress"), message.get("label"))
                code = child.wait()
            except BaseException:  # the worker is stopping at once: so is the operation
                child.kill()
                child.wait()
                raise
        if outcome is not None and code == 0:
            return ExecutionResult(
                result=outcome.get("result"),
                error=outcome.get("error"),
                error_trace=outcome.get("error_trace"),
                operator_uri=doc.operator,
            )
        reason = f"The operation's process {_exit_reason(code)} before it finished"
        return ExecutionResult(error=reason, operator_uri=doc.operator)


def _feed(child: subprocess.Popen[bytes], request: dict[str, Any]) -> None:
    assert child.stdin is not None
    try:
        child.stdin.write(json.dumps(request).encode())
        child.stdin.close()
    except OSError:  # the child died before reading: its exit says why
        pass


def main() -> int:
    """The child: run one operation, report progress and its outcome on the given fd."""
    request = json.loads(sys.stdin.read())
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
    send(
        {"outcome": {"result": result, "error": outcome.error, "error_trace": outcome.error_trace}}
    )
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
