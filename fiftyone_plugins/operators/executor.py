"""Executing operators: the one place where an operator's code runs and its outcome is kept.

:func:`execute_operator` takes the operator's URI and a request (``ctx`` dict and/or keyword
arguments: ``dataset``, ``view``, ``params``, ``selected``, ``selected_labels``,
``current_sample``, ``user``, ``request_delegation``, ``delegation_target``, ...). Then:

1. the operator is looked up (:mod:`.registry`; unknown URIs suggest close matches);
2. ``resolve_input(ctx)`` gives the input schema, and the parameters are validated against it
   (only the operator's own ``invalid`` marks with ``disable_schema_validation``); an invalid
   request fails here, so it is never queued;
3. delegation is decided as in the reference: ``resolve_delegation(ctx)`` or the request's
   ``request_delegation``, corrected by ``resolve_execution_options(ctx)`` with a warning
   (an operator that cannot be delegated runs immediately, and vice versa);
4. a delegated request is queued with the delegated-operations service; otherwise
   ``execute(ctx)`` runs, whether it is a function, ``async``, a generator or an async
   generator (generators are exhausted; what they yield is kept in
   :attr:`ExecutionResult.yielded` and ``result`` is ``None``). Immediate runs are limited by
   the ``operator_timeout`` config (env ``FIFTYONE_OPERATOR_TIMEOUT``, seconds).

Every outcome becomes an :class:`ExecutionResult`. Outside an event loop
:func:`execute_operator` raises on failure (:meth:`ExecutionResult.raise_exceptions`): the
library's own errors as they are (``OperatorNotFoundError``, ``ValidationError``,
``PluginLoadError``, ``ExecutionTimeoutError``), an exception raised by the operator as
:class:`~fiftyone_plugins.errors.ExecutionError` chained to it. Inside a running loop (a
notebook cell) it returns an ``asyncio.Task`` resolving to the result, which has ``error``
set instead of raising; a task that fails while nobody awaits it logs the error on the
``fiftyone_plugins`` logger. :func:`execute_operator_async` is the explicit awaitable form.

Note: here ``result.error`` is the error *message* (FiftyOne puts the traceback there);
the traceback is in ``result.error_trace``. Secret values are masked in both.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
import time
import traceback
import types as _pytypes
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import (
    ExecutionError,
    ExecutionTimeoutError,
    FiftyOnePluginsError,
    OperatorNotFoundError,
    ValidationError,
)
from ..secrets import SecretsDict, redact, redact_data
from . import registry as _registry
from .context import ExecutionContext
from .operations import Executor, InvocationRequest
from .operator import ExecutionOptions, Operator

logger = logging.getLogger("fiftyone_plugins.operators")

__all__ = [
    "ExecutionContext",
    "ExecutionOptions",
    "ExecutionResult",
    "ExecutionRunState",  # noqa: F822 - imported on first access
    "Executor",
    "InvocationRequest",
    "execute_operator",
    "execute_operator_async",
    "resolve_execution_options",
    "resolve_placement",
    "resolve_type",
    "run_delegated_operation",
]

ProgressCallback = Callable[[Any, Any], Any]


def __getattr__(name: str) -> Any:
    if name == "ExecutionRunState":  # defined with the stores; imported only when asked
        from .stores.records import ExecutionRunState

        globals()[name] = ExecutionRunState
        return ExecutionRunState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ExecutionResult:
    """The outcome of one execution.

    Attributes:
        result: what ``execute()`` returned (``None`` for generators); for a delegated
            request, the queued operation's record as a dict (with its ``id``)
        yielded: what a generator ``execute()`` yielded, in order (``None`` otherwise)
        executor: the :class:`Executor` holding ``requests`` recorded by ``ctx.trigger``/
            ``ctx.ops`` and ``logs``
        error: the error message, or ``None`` on success (``error_message`` is the same)
        error_trace: the formatted traceback of a failure
        delegated: whether the request was queued as a delegated operation
        validation_errors: ``(path, reason)`` pairs when the parameters were invalid
    """

    def __init__(
        self,
        result: Any = None,
        executor: Executor | None = None,
        error: str | None = None,
        error_message: str | None = None,
        validation_ctx: Any = None,
        delegated: bool = False,
        outputs_schema: Any = None,
        *,
        error_trace: str | None = None,
        yielded: list[Any] | None = None,
        operator_uri: str | None = None,
        exception: BaseException | None = None,
        secrets: SecretsDict | None = None,
    ) -> None:
        self.result = result
        self.executor = executor
        self.error = error
        self.error_message = error_message if error_message is not None else error
        self.error_trace = error_trace
        self.validation_ctx = validation_ctx
        self.delegated = delegated
        self.outputs_schema = outputs_schema
        self.yielded = yielded
        self.operator_uri = operator_uri
        self._exception = exception
        self._secrets = secrets  # the run's secrets: their values are masked in to_json()

    @property
    def is_generator(self) -> bool:
        """FiftyOne's flag; always ``False`` here: generators are exhausted (see ``yielded``)."""
        return inspect.isgenerator(self.result) or inspect.isasyncgen(self.result)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def validation_errors(self) -> list[tuple[str, str]]:
        exc = self._exception
        if isinstance(exc, ValidationError):
            return [tuple(e) for e in exc.errors]  # type: ignore[misc]
        return []

    @property
    def requests(self) -> list[InvocationRequest]:
        """Shortcut for ``executor.requests``."""
        return self.executor.requests if self.executor is not None else []

    def to_exception(self) -> BaseException | None:
        """The exception describing a failure, or ``None`` on success."""
        if self.error is None:
            return None
        exc = self._exception
        if isinstance(exc, FiftyOnePluginsError):
            return exc
        uri = self.operator_uri
        error = ExecutionError(f"Operator {uri!r} failed: {self.error}", uri=uri)
        if exc is not None and self.error_trace is not None and "***" not in self.error_trace:
            error.__cause__ = exc
        return error

    def raise_exceptions(self) -> None:
        """Raises the failure (see the module docstring for which exception), if any."""
        exc = self.to_exception()
        if exc is None:
            return
        if exc is self._exception:
            raise exc
        raise exc from exc.__cause__

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; never holds secret values."""
        from .types.base import to_jsonable

        errors = self.validation_errors
        validation = self.validation_ctx
        if validation is None and errors:
            validation = {
                "invalid": True,
                "errors": [{"path": p, "reason": r} for p, r in errors],
            }
        data = {
            "result": to_jsonable(self.result),
            "yielded": None if self.yielded is None else to_jsonable(self.yielded),
            "executor": self.executor.to_json() if self.executor is not None else None,
            "error": self.error,
            "error_message": self.error_message,
            "error_trace": self.error_trace,
            "delegated": self.delegated,
            "validation_ctx": validation,
            "outputs_schema": self.outputs_schema,
        }
        return redact_data(data, self._secret_values())  # type: ignore[no-any-return]

    def _secret_values(self) -> list[str]:
        return self._secrets._all_values() if self._secrets is not None else []

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_secrets"] = None  # secrets cannot be pickled (nor should they travel)
        return state

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<ExecutionResult {self.operator_uri} error={self.error!r}>"
        if self.delegated:
            return f"<ExecutionResult {self.operator_uri} delegated id={_op_id(self.result)!r}>"
        return redact(
            f"<ExecutionResult {self.operator_uri} result={self.result!r}>", self._secret_values()
        )


def _op_id(result: Any) -> Any:
    return result.get("id") if isinstance(result, Mapping) else None


# -- building the request ------------------------------------------------------------------------


class _Request:
    __slots__ = ("uri", "params", "dataset", "view", "secrets")

    def __init__(self, uri: str, ctx: Any, kwargs: dict[str, Any]) -> None:
        if not isinstance(uri, str):
            raise TypeError(f"operator_uri must be a string, not {type(uri).__name__}")
        if not uri.strip():
            raise OperatorNotFoundError(uri, reason="the URI is empty")
        dataset = view = secrets = None
        if isinstance(ctx, ExecutionContext):
            dataset, view = ctx._dataset, ctx._view
            merged = {**ctx.request_params, **kwargs}
        elif ctx is None:
            merged = kwargs
        elif isinstance(ctx, Mapping):
            merged = {**ctx, **kwargs} if kwargs else dict(ctx)
        else:
            raise TypeError(f"ctx must be a dict or an ExecutionContext, not {type(ctx).__name__}")
        dataset = merged.pop("dataset", dataset)
        view = merged.pop("view", view)
        secrets = merged.pop("secrets", None)
        params = merged.get("params")
        # a copy: the operator may change ctx.params without touching the caller's dict
        merged["params"] = {} if params is None else _copy_params(params)
        if isinstance(dataset, str):
            merged["dataset_name"] = dataset
            dataset = None
        if view is not None and isinstance(view, (list, str)):
            merged["view"] = view  # already serialized (e.g. view stages)
            view = None
        merged["operator_uri"] = uri
        self.uri = uri
        self.params = merged
        self.dataset = dataset
        self.view = view
        self.secrets = secrets


def _copy_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy deep enough that changes never reach the caller (flat dicts stay cheap)."""
    copied = dict(params)
    for key, value in copied.items():
        if isinstance(value, (dict, list, set)):
            import copy

            copied[key] = copy.deepcopy(value)
    return copied


def _make_context(
    request: _Request,
    operator: Operator,
    executor: Executor,
    set_progress: ProgressCallback | None = None,
    operation_id: str | None = None,
) -> ExecutionContext:
    return ExecutionContext(
        request.params,
        executor,
        set_progress,
        operation_id,
        request.uri,
        operator._plugin_secrets,
        secrets=request.secrets,
        dataset=request.dataset,
        view=request.view,
        plugin_name=operator.plugin_name,
    )


def _lookup(uri: str) -> Operator:
    operator = _registry.find_operator(uri)
    return operator if operator is not None else _registry.get_operator(uri)


def _validate(operator: Operator, ctx: ExecutionContext) -> Any:
    inputs = operator.resolve_input(ctx)
    if inputs is None:
        return None
    from .validation import validate

    custom_only = bool(getattr(operator.config, "disable_schema_validation", False))
    issues = validate(inputs, ctx.params, custom_only=custom_only)
    if issues:
        raise ValidationError(issues, uri=operator.uri)
    return inputs


def _should_delegate(operator: Operator, ctx: ExecutionContext) -> bool:
    options = operator.resolve_execution_options(ctx)
    delegate = bool(operator.resolve_delegation(ctx) or ctx.requesting_delegated_execution)
    if delegate and not options.allow_delegated_execution:
        logger.warning(
            "Operator %s does not support delegated execution; it will be executed immediately",
            operator.uri,
        )
        return False
    if not delegate and not options.allow_immediate_execution:
        logger.warning(
            "Operator %s does not support immediate execution; it will be delegated",
            operator.uri,
        )
        return True
    return delegate


def _require_dataset(ctx: ExecutionContext, uri: str) -> None:
    """Fails a request naming a dataset the resolver does not know, before anything runs or
    is queued: an operator given ``None`` would fail obscurely, or worse, succeed."""
    key = ctx.request_params.get("dataset_id") or ctx.request_params.get("dataset_name")
    if key and ctx._dataset is None and ctx._view is None and not ctx.resolver.exists(key):
        from .datasets import dataset_not_found

        raise dataset_not_found(key, ctx.resolver, uri)


def _queue(
    operator: Operator, ctx: ExecutionContext, inputs: Any, executor: Executor
) -> ExecutionResult:
    from .delegated import DelegatedOperationService

    context = ctx.serialize()
    context["delegated"] = True
    metadata: dict[str, Any] = {"inputs_schema": None, "outputs_schema": None}
    if inputs is not None:
        try:
            metadata["inputs_schema"] = inputs.to_json()
        except Exception as e:  # a schema that cannot be serialized must not block queueing
            logger.warning("Cannot serialize the input schema of %s: %s", operator.uri, e)
    # secrets never reach the store, even as a form default or a parameter value
    secret_values = ctx.secrets._all_values()
    context, metadata = redact_data(context, secret_values), redact_data(metadata, secret_values)
    config = operator.config
    doc = DelegatedOperationService().queue_operation(
        operator=operator.uri,
        label=config.label or config.name,
        delegation_target=ctx.delegation_target or config.delegation_target,
        context=context,
        metadata=metadata,
    )
    return ExecutionResult(
        result=doc.to_dict(),
        executor=executor,
        delegated=True,
        operator_uri=operator.uri,
        secrets=_secrets_of(ctx),
    )


def _failure(
    uri: str, exc: BaseException, executor: Executor, ctx: ExecutionContext | None
) -> ExecutionResult:
    if isinstance(exc, FiftyOnePluginsError):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    secrets = ctx.secrets if ctx is not None else None
    values = secrets._all_values() if secrets is not None else []
    kept: BaseException | None = exc
    if values:
        masked, trace = redact(message, values), redact(trace, values)
        if masked != message:  # re-raising the original would show the secret again
            message, kept = masked, None
    return ExecutionResult(
        executor=executor,
        error=message,
        error_trace=trace,
        operator_uri=uri,
        exception=kept,
        secrets=secrets,
    )


# -- running execute() ------------------------------------------------------------------------


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


_PLAIN = frozenset({dict, list, str, int, float, bool, type(None), tuple})


def _run_sync(
    operator: Operator, ctx: ExecutionContext, cancelled: threading.Event | None = None
) -> tuple[Any, list[Any] | None]:
    """Calls ``execute`` and finishes whatever it returned, in this thread."""
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


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _run_sync_with_timeout(
    operator: Operator, ctx: ExecutionContext, timeout: float
) -> tuple[Any, list[Any] | None]:
    """Runs :func:`_run_sync` in a daemon thread and stops waiting after ``timeout``.

    Python cannot stop a running thread: after a timeout, a generator is closed at its next
    ``yield``; any other operator code runs on in the background, its outcome discarded.
    """
    box: dict[str, Any] = {}
    done = threading.Event()
    cancelled = threading.Event()

    def target() -> None:
        try:
            box["value"] = _run_sync(operator, ctx, cancelled)
        except BaseException as e:
            box["error"] = e
        finally:
            done.set()

    thread = threading.Thread(target=target, name=f"operator {operator.uri}", daemon=True)
    thread.start()
    if not done.wait(timeout):
        cancelled.set()
        raise _timeout_error(operator.uri, timeout)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _secrets_of(ctx: ExecutionContext) -> SecretsDict | None:
    """The run's secrets, for masking its result; ``None`` (no cost) when none are declared."""
    return ctx.secrets if ctx._required_secrets else None


def _exit_error(uri: str, exc: SystemExit) -> ExecutionError:
    error = ExecutionError(
        f"Operator {uri!r} failed: it called sys.exit({exc.code!r}), which operators must "
        "not do; raise an exception instead",
        uri=uri,
    )
    error.__cause__ = exc
    return error


def _timeout_error(uri: str, timeout: float) -> ExecutionTimeoutError:
    return ExecutionTimeoutError(
        f"Operator {uri!r} did not finish within {timeout:g} seconds "
        "(the operator_timeout config, env FIFTYONE_OPERATOR_TIMEOUT)",
        uri=uri,
    )


def _execute(
    request: _Request,
    *,
    delegated_run: bool = False,
    set_progress: ProgressCallback | None = None,
    operation_id: str | None = None,
) -> ExecutionResult:
    """The synchronous execution path (no event loop is involved unless the operator is
    ``async``)."""
    executor = Executor()
    ctx = None
    try:
        operator = _lookup(request.uri)
        ctx = _make_context(request, operator, executor, set_progress, operation_id)
        _require_dataset(ctx, operator.uri)
        inputs = _validate(operator, ctx)
        if not delegated_run and _should_delegate(operator, ctx):
            return _queue(operator, ctx, inputs, executor)
        timeout = None if delegated_run else _registry._snapshot().timeout
        if timeout:
            value, yielded = _run_sync_with_timeout(operator, ctx, timeout)
        else:
            value, yielded = _run_sync(operator, ctx)
    except Exception as e:  # the one place an operator's failure becomes a result
        return _failure(request.uri, e, executor, ctx)
    except SystemExit as e:  # an operator must not end the host's (or a worker's) process
        return _failure(request.uri, _exit_error(request.uri, e), executor, ctx)
    return ExecutionResult(
        result=value,
        executor=executor,
        yielded=yielded,
        operator_uri=request.uri,
        secrets=_secrets_of(ctx),
    )


async def _run_async(operator: Operator, ctx: ExecutionContext) -> tuple[Any, list[Any] | None]:
    """Runs ``execute`` within the current loop; plain functions run in a worker thread."""
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


class _Drained:
    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


def _call_and_drain(execute: Callable[[Any], Any], ctx: ExecutionContext) -> Any:
    raw = execute(ctx)
    if inspect.isgenerator(raw):
        return _Drained(list(raw))
    return raw


async def _execute_async(request: _Request) -> ExecutionResult:
    """The asynchronous execution path, for callers inside a running event loop."""
    import asyncio

    executor = Executor()
    ctx = None
    try:
        operator = _lookup(request.uri)
        ctx = _make_context(request, operator, executor)
        _require_dataset(ctx, operator.uri)
        inputs = _validate(operator, ctx)
        if _should_delegate(operator, ctx):
            return _queue(operator, ctx, inputs, executor)
        timeout = _registry._snapshot().timeout
        if timeout:
            started = time.monotonic()
            try:
                value, yielded = await asyncio.wait_for(_run_async(operator, ctx), timeout)
            except (TimeoutError, asyncio.TimeoutError):  # distinct classes before 3.11
                if time.monotonic() - started < timeout:
                    raise  # the operator's own TimeoutError
                raise _timeout_error(operator.uri, timeout) from None
        else:
            value, yielded = await _run_async(operator, ctx)
    except Exception as e:  # the async twin of the one place in _execute()
        return _failure(request.uri, e, executor, ctx)
    except SystemExit as e:
        return _failure(request.uri, _exit_error(request.uri, e), executor, ctx)
    return ExecutionResult(
        result=value,
        executor=executor,
        yielded=yielded,
        operator_uri=request.uri,
        secrets=_secrets_of(ctx),
    )


# -- public API -----------------------------------------------------------------------------


def execute_operator(operator_uri: str, ctx: Any = None, **kwargs: Any) -> Any:
    """Executes (or queues) the operator ``operator_uri``.

    ``ctx`` is a dict (or an :class:`ExecutionContext`) with the request's keys;
    ``kwargs`` are merged over it (``params=...``, ``request_delegation=True``, ...).

    Returns an :class:`ExecutionResult`, raising on failure; inside a running event loop,
    an ``asyncio.Task`` resolving to the result (``error`` set instead of raising).
    """
    request = _Request(operator_uri, ctx, kwargs)
    aio = sys.modules.get("asyncio")
    loop = aio._get_running_loop() if aio is not None else None
    if loop is None:
        result = _execute(request)
        result.raise_exceptions()
        return result
    return _start_task(loop, request)


async def execute_operator_async(
    operator_uri: str, ctx: Any = None, **kwargs: Any
) -> ExecutionResult:
    """Awaitable :func:`execute_operator`: returns the result, never raising for a failure
    (check ``result.error`` or call ``result.raise_exceptions()``)."""
    return await _execute_async(_Request(operator_uri, ctx, kwargs))


def _start_task(loop: Any, request: _Request) -> Any:
    task = _task_class()(_report_unobserved(request), loop=loop)
    return task


_TASK_CLASS: Any = None


def _task_class() -> Any:
    """An ``asyncio.Task`` that knows whether anyone is waiting for it."""
    global _TASK_CLASS
    if _TASK_CLASS is None:
        import asyncio

        class ExecutionTask(asyncio.Task):  # type: ignore[type-arg]
            """Resolves to an :class:`ExecutionResult`."""

            _fop_observed = False

            def add_done_callback(self, fn: Any, *, context: Any = None) -> None:
                # awaiting, gather(), wait() and ensure_future() all register a callback
                self._fop_observed = True
                super().add_done_callback(fn, context=context)

        _TASK_CLASS = ExecutionTask
    return _TASK_CLASS


async def _report_unobserved(request: _Request) -> ExecutionResult:
    import asyncio

    result = await _execute_async(request)
    if result.error is not None:
        task = asyncio.current_task()
        if not getattr(task, "_fop_observed", True):
            logger.error(
                "Operator %s failed while nobody was awaiting its task: %s",
                request.uri,
                result.error,
            )
    return result


def _hook_context(
    operator: Operator, request_params: Mapping[str, Any] | None
) -> ExecutionContext:
    request = _Request(operator.uri, dict(request_params or {}), {})
    return _make_context(request, operator, Executor())


def _resolve_operator(operator: Operator | str) -> Operator:
    return _lookup(operator) if isinstance(operator, str) else operator


def resolve_type(
    operator: Operator | str,
    request_params: Mapping[str, Any] | None = None,
    target: str = "inputs",
) -> Any:
    """The operator's input (``target="inputs"``) or output schema for a request."""
    op = _resolve_operator(operator)
    return op.resolve_type(_hook_context(op, request_params), target)


def resolve_placement(
    operator: Operator | str, request_params: Mapping[str, Any] | None = None
) -> Any:
    """The operator's placement for a request (``None`` when it has none)."""
    op = _resolve_operator(operator)
    return op.resolve_placement(_hook_context(op, request_params))


def resolve_execution_options(
    operator: Operator | str, request_params: Mapping[str, Any] | None = None
) -> ExecutionOptions:
    """The operator's execution options for a request."""
    op = _resolve_operator(operator)
    return op.resolve_execution_options(_hook_context(op, request_params))


def run_delegated_operation(
    operator_uri: str,
    context: Mapping[str, Any] | None,
    *,
    operation_id: str | None = None,
    progress_callback: ProgressCallback | None = None,
) -> ExecutionResult:
    """Runs a queued operation in this process (what a delegated-operations worker calls).

    ``context`` is what was stored when the request was queued. The operator runs with
    ``ctx.delegated`` true, its secrets read from this process's providers, and
    ``ctx.set_progress(progress, label)`` forwarded to ``progress_callback``. No timeout
    applies. Never raises: failures are in ``result.error``/``result.error_trace``.
    """
    import json

    data = json.loads(json.dumps(dict(context or {}), default=str))  # never share stored objects
    nested = data.pop("request_params", None)
    if isinstance(nested, dict):
        data = {**nested, **data} if "params" not in nested else {**data, **nested}
    data.pop("secrets", None)
    data["delegated"] = True
    data.pop("request_delegation", None)
    request = _Request(operator_uri, data, {})
    aio = sys.modules.get("asyncio")
    if aio is not None and aio._get_running_loop() is not None:
        box: dict[str, ExecutionResult] = {}

        def target() -> None:
            box["result"] = _execute(
                request,
                delegated_run=True,
                set_progress=progress_callback,
                operation_id=operation_id,
            )

        thread = threading.Thread(target=target, name=f"delegated {operator_uri}")
        thread.start()
        thread.join()
        result = box["result"]
    else:
        result = _execute(
            request,
            delegated_run=True,
            set_progress=progress_callback,
            operation_id=operation_id,
        )
    # what the worker returns is stored: no secret value may be in it
    result.result = redact_data(result.result, result._secret_values())
    return result
