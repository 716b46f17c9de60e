"""The drivers of ``execute()``: finishing whatever an operator's ``execute`` returns.

``execute(ctx)`` may be a plain function, ``async``, a generator or an async generator. A
driver calls it and finishes the outcome: a coroutine is awaited, a generator exhausted (its
items returned as ``yielded``, the value then ``None``). Each driver returns
``(value, yielded)``; none catches the operator's failures (that is the executor's one place).

- :func:`run_sync` runs in the calling thread; coroutines get a private event loop that
  leaves the thread's current loop (the host's) as it was;
- :func:`run_sync_with_timeout` runs :func:`run_sync` in a daemon thread and stops waiting
  after the timeout (Python cannot stop a thread: a generator is closed at its next
  ``yield``, any other code runs on in the background, its outcome discarded);
- :func:`run_async` runs within the caller's event loop, plain functions in a worker thread.
"""

from __future__ import annotations

import inspect
import threading
import time
import types as _pytypes
from collections.abc import Callable
from typing import Any

from .context import ExecutionContext
from .operator import Operator
from .result import timeout_error

__all__ = ["Outcome", "run_async", "run_sync", "run_sync_with_timeout"]

#: ``(value, yielded)``: what ``execute`` returned, and what a generator yielded (or None)
Outcome = tuple[Any, "list[Any] | None"]

_PLAIN = frozenset({dict, list, str, int, float, bool, type(None), tuple})


def _run_coroutine(coro: Any) -> Any:
    """Runs ``coro`` on a private loop; unlike ``asyncio.run`` it leaves the thread's current
    event loop (the host's) as it was."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


async def _collect(agen: Any, cancelled: threading.Event | None = None) -> list[Any]:
    items = []
    async for item in agen:
        items.append(item)
        if cancelled is not None and cancelled.is_set():
            await agen.aclose()
            break
    return items


async def _await(awaitable: Any) -> Any:
    return await awaitable


def run_sync(
    operator: Operator, ctx: ExecutionContext, cancelled: threading.Event | None = None
) -> Outcome:
    """Calls ``execute`` and finishes whatever it returned, in this thread; a generator stops
    at its next ``yield`` once ``cancelled`` is set."""
    raw = operator.execute(ctx)
    kind = type(raw)
    if kind in _PLAIN:
        return raw, None
    if kind is _pytypes.GeneratorType:
        if cancelled is None:
            return None, list(raw)
        items = []
        for item in raw:
            items.append(item)
            if cancelled.is_set():
                raw.close()
                break
        return None, items
    if kind is _pytypes.CoroutineType:
        return _run_coroutine(raw), None
    if kind is _pytypes.AsyncGeneratorType:
        return None, _run_coroutine(_collect(raw, cancelled))
    if inspect.isawaitable(raw):
        return _run_coroutine(_await(raw)), None
    return raw, None


def run_sync_with_timeout(operator: Operator, ctx: ExecutionContext, timeout: float) -> Outcome:
    """:func:`run_sync` in a daemon thread, waited for at most ``timeout`` seconds."""
    box: dict[str, Any] = {}
    done = threading.Event()
    cancelled = threading.Event()

    def target() -> None:
        try:
            box["value"] = run_sync(operator, ctx, cancelled)
        except BaseException as e:
            box["error"] = e
        finally:
            done.set()

    thread = threading.Thread(target=target, name=f"operator {operator.uri}", daemon=True)
    thread.start()
    if not done.wait(timeout):
        cancelled.set()
        raise timeout_error(operator.uri, timeout)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


class _Drained:
    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


def _call_and_drain(execute: Callable[[Any], Any], ctx: ExecutionContext) -> Any:
    raw = execute(ctx)
    if inspect.isgenerator(raw):
        return _Drained(list(raw))
    return raw


async def _run_in_loop(operator: Operator, ctx: ExecutionContext) -> Outcome:
    import asyncio

    execute = operator.execute
    if inspect.iscoroutinefunction(execute):
        return await execute(ctx), None
    if inspect.isasyncgenfunction(execute):
        return None, await _collect(execute(ctx))
    raw = await asyncio.to_thread(_call_and_drain, execute, ctx)
    if isinstance(raw, _Drained):
        return None, raw.items
    if inspect.isasyncgen(raw):
        return None, await _collect(raw)
    if inspect.isawaitable(raw):
        return await raw, None
    return raw, None


async def run_async(
    operator: Operator, ctx: ExecutionContext, timeout: float | None = None
) -> Outcome:
    """Runs ``execute`` within the current loop, for at most ``timeout`` seconds (if set)."""
    import asyncio

    if not timeout:
        return await _run_in_loop(operator, ctx)
    started = time.monotonic()
    try:
        return await asyncio.wait_for(_run_in_loop(operator, ctx), timeout)
    except (TimeoutError, asyncio.TimeoutError):  # distinct classes before 3.11
        if time.monotonic() - started < timeout:
            raise  # the operator's own TimeoutError
        raise timeout_error(operator.uri, timeout) from None
