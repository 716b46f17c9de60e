"""Executing operators: the one place where an operator's code runs and its outcome is kept.

:func:`execute_operator` takes the operator (its URI, or the instance itself) and a request
(``ctx`` dict and/or keyword arguments: ``dataset``, ``view``, ``params``, ``selected``,
``selected_labels``, ``current_sample``, ``user``, ``request_delegation``,
``delegation_target``, ...), shaped once into an :class:`~.request.ExecutionRequest`. Then:

1. the operator is looked up (:mod:`.registry`; unknown URIs suggest close matches), unless
   the caller holds the instance;
2. a request naming a dataset the resolver does not know fails before anything runs or is
   queued; ``resolve_input(ctx)`` gives the input schema, and the parameters are validated
   against it (only the operator's own ``invalid`` marks with ``disable_schema_validation``);
   an invalid request fails here, so it is never queued;
3. delegation is decided once (:func:`~.request.decide_delegation`);
4. a delegated request is queued with the delegated-operations service; otherwise
   ``execute(ctx)`` runs through a driver (:mod:`.drivers`), limited by the
   ``operator_timeout`` config (env ``FIFTYONE_OPERATOR_TIMEOUT``, seconds).

Every outcome becomes an :class:`~.result.ExecutionResult`, failures included: the only broad
``except`` around an operator's code is :class:`_Capture`, shared by the synchronous and
the asynchronous path. Outside an event loop :func:`execute_operator` raises on failure
(:meth:`~.result.ExecutionResult.raise_exceptions`). Inside a running loop (a notebook cell)
it returns an ``asyncio.Task`` resolving to the result, which has ``error`` set instead of
raising; a task that fails while nobody awaits it logs the error on the ``fiftyone_plugins``
logger. :func:`execute_operator_async` is the explicit awaitable form.

:func:`run_delegated_operation` is what a delegated-operations worker calls to run a queued
operation in its own process.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from typing import Any

from ..errors import (
    DatasetNotFoundError,
    OperatorError,
    OperatorNotFoundError,
    PluginLoadError,
    ValidationError,
)
from . import drivers
from . import registry as _registry
from .context import ExecutionContext
from .invocation import Executor, InvocationRequest
from .operator import ExecutionOptions, Operator
from .request import ExecutionRequest, ProgressCallback, decide_delegation
from .result import ExecutionResult

logger = logging.getLogger("fiftyone_plugins.operators")

__all__ = [
    "ExecutionContext",
    "ExecutionOptions",
    "ExecutionRequest",
    "ExecutionResult",
    "ExecutionProgress",  # noqa: F822 - imported on first access
    "ExecutionRunState",  # noqa: F822 - imported on first access
    "Executor",
    "InvocationRequest",
    "execute_operator",
    "execute_operator_async",
    "execute_or_delegate_operator",
    "resolve_execution_options",
    "resolve_placement",
    "resolve_type",
    "run_delegated_operation",
]


def __getattr__(name: str) -> Any:
    if name in ("ExecutionRunState", "ExecutionProgress"):  # defined with the stores;
        from .stores import records  # imported only when asked

        value = globals()[name] = getattr(records, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Run:
    """One execution of a request, from lookup to its :class:`ExecutionResult`."""

    __slots__ = ("request", "delegated_run", "set_progress", "operation_id", "executor", "ctx")

    def __init__(
        self,
        request: ExecutionRequest,
        *,
        delegated_run: bool = False,
        set_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> None:
        self.request = request
        self.delegated_run = delegated_run
        self.set_progress = set_progress
        self.operation_id = operation_id
        self.executor = Executor()
        self.ctx: ExecutionContext | None = None

    def prepare(self) -> tuple[Operator, ExecutionContext, ExecutionResult | None]:
        """Steps 1-4 of the module docstring up to running: the operator, its context, and
        the result when the run ends here (it was queued)."""
        request = self.request
        operator = (
            request.operator
            or _registry.find_operator(request.uri)
            or _registry.get_operator(request.uri)  # the errors: not found, failed to load
        )
        ctx = self.ctx = request.context(
            operator, self.executor, self.set_progress, self.operation_id
        )
        ctx.check_dataset()
        config = operator.config  # read once: plugins build a new one on every read
        inputs = _validate(operator, ctx, config)
        if not self.delegated_run and decide_delegation(operator, ctx, config):
            return operator, ctx, self._queue(operator, ctx, inputs, config)
        return operator, ctx, None

    @property
    def timeout(self) -> float | None:
        return None if self.delegated_run else _registry.operator_timeout()

    def failure(self, exc: BaseException) -> ExecutionResult:
        ctx = self.ctx
        return ExecutionResult.from_exception(
            exc,
            uri=self.request.uri,
            executor=self.executor,
            secrets=ctx.secrets if ctx is not None else None,
        )

    def success(self, outcome: drivers.Outcome) -> ExecutionResult:
        value, yielded = outcome
        return ExecutionResult(
            result=value,
            executor=self.executor,
            yielded=yielded,
            operator_uri=self.request.uri,
            secrets=self._secrets(),
        )

    def _secrets(self) -> Any:
        """The run's secrets, for masking its result; ``None`` (no cost) when none are
        declared."""
        ctx = self.ctx
        return ctx.secrets if ctx is not None and ctx.has_secrets else None

    def _queue(
        self, operator: Operator, ctx: ExecutionContext, inputs: Any, config: Any
    ) -> ExecutionResult:
        from .service import OperationService

        uri = operator.uri
        if operator.plugin_name is None:  # a worker finds operators by URI, in their plugin
            raise OperatorError(
                f"Operator {uri!r} cannot be delegated: it was never registered by "
                "a plugin, so no worker could load it; run it immediately, or register it",
                uri=uri,
            )
        metadata: dict[str, Any] = {"inputs_schema": None, "outputs_schema": None}
        if inputs is not None:
            try:
                metadata["inputs_schema"] = ctx.secrets.mask_data(inputs.to_json())
            except Exception as e:  # a schema that cannot be serialized must not block queueing
                logger.warning("Cannot serialize the input schema of %s: %s", uri, e)
        resources = config.kwargs.get("resources")  # what it asks of an engine (a mapping)
        if isinstance(resources, Mapping):
            metadata["resources"] = dict(resources)
        doc = OperationService().queue_operation(
            operator=uri,
            label=config.label or config.name,
            delegation_target=ctx.delegation_target or config.delegation_target,
            context=ExecutionRequest.stored_context(ctx, ctx.secrets),
            metadata=metadata,
        )
        return ExecutionResult(
            result=doc.to_dict(),
            executor=self.executor,
            delegated=True,
            operator_uri=uri,
            secrets=self._secrets(),
        )


class _Capture:
    """``with _Capture(run, box):`` turns any ``Exception`` (and ``SystemExit``: an operator
    must not end the host's, or a worker's, process) into the run's failure result. A class
    rather than a generator-based context manager: this is on every execution's path."""

    __slots__ = ("run", "box")

    def __init__(self, run: _Run, box: list[ExecutionResult]) -> None:
        self.run = run
        self.box = box

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, (Exception, SystemExit)):
            return False  # KeyboardInterrupt and the like go on
        self.box.append(self.run.failure(exc))
        return True


def _validate(operator: Operator, ctx: ExecutionContext, config: Any) -> Any:
    inputs = operator.resolve_input(ctx)
    if inputs is None:
        return None
    from .validation import validate

    custom_only = bool(getattr(config, "disable_schema_validation", False))
    issues = validate(inputs, ctx.params, custom_only=custom_only)
    if issues:
        raise ValidationError(issues, uri=operator.uri)
    return inputs


def _execute(run: _Run) -> ExecutionResult:
    """The synchronous path (no event loop is involved unless the operator is ``async``)."""
    box: list[ExecutionResult] = []
    with _Capture(run, box):
        operator, ctx, done = run.prepare()
        if done is not None:
            return done
        timeout = run.timeout
        if timeout:
            box.append(run.success(drivers.run_sync_with_timeout(operator, ctx, timeout)))
        else:
            box.append(run.success(drivers.run_sync(operator, ctx)))
    return box[0]


async def _execute_async(run: _Run) -> ExecutionResult:
    """The asynchronous path, for callers inside a running event loop."""
    box: list[ExecutionResult] = []
    with _Capture(run, box):
        operator, ctx, done = run.prepare()
        if done is not None:
            return done
        box.append(run.success(await drivers.run_async(operator, ctx, run.timeout)))
    return box[0]


# -- public API -----------------------------------------------------------------------------


def execute_operator(
    operator_uri: str | Operator,
    ctx: Any = None,
    *,
    progress_callback: ProgressCallback | None = None,
    **kwargs: Any,
) -> Any:
    """Executes (or queues) the operator ``operator_uri`` (a URI, or an operator instance).

    ``ctx`` is a dict (or an :class:`ExecutionContext`) with the request's keys;
    ``kwargs`` are merged over it (``params=...``, ``request_delegation=True``, ...).
    ``progress_callback(progress, label)`` hears every ``ctx.set_progress`` of an immediate
    run as it happens (a host showing a long or generator operator live).

    Returns an :class:`ExecutionResult`, raising on failure; inside a running event loop,
    an ``asyncio.Task`` resolving to the result (``error`` set instead of raising).
    """
    request = ExecutionRequest.from_call(operator_uri, ctx, kwargs)
    aio = sys.modules.get("asyncio")
    loop = aio._get_running_loop() if aio is not None else None
    if loop is None:
        result = _execute(_Run(request, set_progress=progress_callback))
        result.raise_exceptions()
        return result
    return _task_class()(_report_unobserved(request, progress_callback), loop=loop)


async def execute_operator_async(
    operator_uri: str | Operator,
    ctx: Any = None,
    *,
    progress_callback: ProgressCallback | None = None,
    **kwargs: Any,
) -> ExecutionResult:
    """Awaitable :func:`execute_operator`: returns the result, never raising for a failure
    (check ``result.error`` or call ``result.raise_exceptions()``)."""
    request = ExecutionRequest.from_call(operator_uri, ctx, kwargs)
    return await _execute_async(_Run(request, set_progress=progress_callback))


#: the errors of a request that cannot start (raised by execute_or_delegate_operator)
_CANNOT_START = (OperatorNotFoundError, ValidationError, DatasetNotFoundError, PluginLoadError)


async def execute_or_delegate_operator(
    operator_uri: str | Operator, request_params: Any = None, exhaust: bool = False
) -> ExecutionResult:
    """FiftyOne's entry point for a request that may be delegated: runs or queues the
    operator for ``request_params`` (the request as a dict) and returns the result.

    As in FiftyOne, a request that cannot even start (unknown operator, invalid parameters,
    unknown dataset) raises; a failure of the operator itself is in ``result.error``.
    Generators are always exhausted here (``exhaust`` is accepted for FiftyOne's callers);
    what they yielded is in ``result.yielded``. A URI the registry does not know is also
    looked for in ``OperatorRegistry().list_operators()``, where FiftyOne looks it up (so
    operators a host or a test supplies there run).
    """
    if isinstance(operator_uri, str) and not _registry.operator_exists(operator_uri):
        found = _registry.OperatorRegistry().get_operator(operator_uri)
        if found is not None:
            operator_uri = found
    result = await execute_operator_async(operator_uri, request_params)
    if isinstance(result.to_exception(), _CANNOT_START):
        result.raise_exceptions()
    return result


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


async def _report_unobserved(
    request: ExecutionRequest, progress_callback: ProgressCallback | None = None
) -> ExecutionResult:
    import asyncio

    result = await _execute_async(_Run(request, set_progress=progress_callback))
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
    operator: Operator | str, request_params: Mapping[str, Any] | None
) -> tuple[Operator, ExecutionContext]:
    op = _registry.lookup_operator(operator) if isinstance(operator, str) else operator
    request = ExecutionRequest.from_call(op, dict(request_params or {}), {})
    return op, request.context(op, Executor())


def resolve_type(
    operator: Operator | str,
    request_params: Mapping[str, Any] | None = None,
    target: str = "inputs",
) -> Any:
    """The operator's input (``target="inputs"``) or output schema for a request."""
    op, ctx = _hook_context(operator, request_params)
    return op.resolve_type(ctx, target)


def resolve_placement(
    operator: Operator | str, request_params: Mapping[str, Any] | None = None
) -> Any:
    """The operator's placement for a request (``None`` when it has none)."""
    op, ctx = _hook_context(operator, request_params)
    return op.resolve_placement(ctx)


def resolve_execution_options(
    operator: Operator | str, request_params: Mapping[str, Any] | None = None
) -> ExecutionOptions:
    """The operator's execution options for a request."""
    op, ctx = _hook_context(operator, request_params)
    return op.resolve_execution_options(ctx)


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
    run = _Run(
        ExecutionRequest.from_record(operator_uri, context),
        delegated_run=True,
        set_progress=progress_callback,
        operation_id=operation_id,
    )
    aio = sys.modules.get("asyncio")
    if aio is None or aio._get_running_loop() is None:
        return _execute(run)
    # inside a running loop (a notebook): run in a thread, where no loop is running
    box: list[ExecutionResult] = []
    thread = threading.Thread(
        target=lambda: box.append(_execute(run)), name=f"delegated {operator_uri}"
    )
    thread.start()
    thread.join()
    return box[0]
