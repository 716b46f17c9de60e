"""The outcome of a run: :class:`ExecutionResult`, and the one way to build it.

Whatever happened to a run becomes an :class:`ExecutionResult` through this module only:

- :meth:`ExecutionResult.from_exception` for a failure (the message and traceback masked
  when the plugin declares secrets, an operator's ``sys.exit()`` named as such);
- :meth:`ExecutionResult.from_outcome` for anything a delegated-operation runner returned
  (an execution result of this library or of FiftyOne, or a plain value), so the worker and the
  service read an outcome the same way the executor writes it;
- :meth:`ExecutionResult.stored_result` for what a delegated operation records as its result
  (secret values masked).

Note: here ``result.error`` is the error *message* (FiftyOne puts the traceback there);
the traceback is in ``result.error_trace``.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Mapping
from typing import Any

from ..errors import ExecutionError, ExecutionTimeoutError, FiftyOnePluginsError, ValidationError
from ..secrets import REDACTED, SecretsDict
from .invocation import Executor, InvocationRequest

__all__ = ["ExecutionResult", "exit_error", "timeout_error"]


class ExecutionResult:
    """The outcome of one execution.

    Attributes:
        result: what ``execute()`` returned (``None`` for generators); for a delegated
            request, the queued operation's record as a dict (with its ``id``)
        yielded: what a generator ``execute()`` yielded, in order (``None`` otherwise)
        executor: the :class:`Executor` holding ``requests`` recorded by ``ctx.trigger``/
            ``ctx.ops`` and ``logs``
        error: the error message, or ``None`` on success: ``Type: message`` for an exception
            the operator raised, the message itself for the library's own errors
        error_message: ``str(exception)``, as FiftyOne sets it (the type stays in ``error``
            and in ``error_trace``)
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

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        uri: str | None = None,
        executor: Executor | None = None,
        secrets: SecretsDict | None = None,
    ) -> ExecutionResult:
        """The result of a run that raised ``exc``.

        The library's own errors keep their message; anything else reads ``Type: message``.
        When the message shows a secret value, it is masked and the exception is not kept
        (re-raising it would show the secret again).
        """
        if isinstance(exc, SystemExit):
            exc = exit_error(uri, exc)
        text = str(exc)
        if isinstance(exc, FiftyOnePluginsError):
            message = text
        else:
            message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        kept: BaseException | None = exc
        if secrets is not None and secrets.has_values():
            masked, trace = secrets.mask(message), secrets.mask(trace)
            text = secrets.mask(text)
            if masked != message:
                message, kept = masked, None
        return cls(
            executor=executor,
            error=message,
            error_message=text or message,
            error_trace=trace,
            operator_uri=uri,
            exception=kept,
            secrets=secrets,
        )

    @classmethod
    def from_outcome(cls, outcome: Any) -> ExecutionResult:
        """``outcome`` as a result: an :class:`ExecutionResult` as it is; any object with
        ``result`` and ``error`` (FiftyOne's execution result) read through those; anything
        else is the value a successful run returned."""
        if isinstance(outcome, ExecutionResult):
            return outcome
        if hasattr(outcome, "error") and hasattr(outcome, "result"):
            error = outcome.error
            return cls(
                result=outcome.result,
                error=None if error is None else str(error),
                error_trace=getattr(outcome, "error_trace", None),
            )
        return cls(result=outcome)

    # -- reading ------------------------------------------------------------------------------

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

    def stored_result(self) -> Any:
        """The result as a delegated operation records it: no secret value in it."""
        return self.result if self._secrets is None else self._secrets.mask_data(self.result)

    def to_exception(self) -> BaseException | None:
        """The exception describing a failure, or ``None`` on success."""
        if self.error is None:
            return None
        exc = self._exception
        if isinstance(exc, FiftyOnePluginsError):
            return exc
        uri = self.operator_uri
        error = ExecutionError(f"Operator {uri!r} failed: {self.error}", uri=uri)
        if exc is not None and self.error_trace is not None and REDACTED not in self.error_trace:
            error.__cause__ = exc
        return error

    def raise_exceptions(self) -> None:
        """Raises the failure, if any: the library's own errors as they are, an exception
        raised by the operator as :class:`~fiftyone_plugins.errors.ExecutionError` chained
        to it."""
        exc = self.to_exception()
        if exc is None:
            return
        if exc is self._exception:
            raise exc
        raise exc from exc.__cause__

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; never holds secret values."""
        from .types.base import to_jsonable  # the types package is imported on first use

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
        return data if self._secrets is None else self._secrets.mask_data(data)  # type: ignore[no-any-return]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_secrets"] = None  # secrets cannot be pickled (nor should they travel)
        return state

    def __repr__(self) -> str:
        if self.error is not None:
            return f"<ExecutionResult {self.operator_uri} error={self.error!r}>"
        if self.delegated:
            return f"<ExecutionResult {self.operator_uri} delegated id={_op_id(self.result)!r}>"
        text = f"<ExecutionResult {self.operator_uri} result={self.result!r}>"
        return text if self._secrets is None else self._secrets.mask(text)


def _op_id(result: Any) -> Any:
    return result.get("id") if isinstance(result, Mapping) else None


def exit_error(uri: str | None, exc: SystemExit) -> ExecutionError:
    """The failure of an operator that called ``sys.exit()``: operators must not end the
    host's (or a worker's) process."""
    error = ExecutionError(
        f"Operator {uri!r} failed: it called sys.exit({exc.code!r}), which operators must "
        "not do; raise an exception instead",
        uri=uri,
    )
    error.__cause__ = exc
    return error


def timeout_error(uri: str, timeout: float) -> ExecutionTimeoutError:
    """The failure of an immediate run that did not finish within ``timeout`` seconds."""
    return ExecutionTimeoutError(
        f"Operator {uri!r} did not finish within {timeout:g} seconds "
        "(the operator_timeout config, env FIFTYONE_OPERATOR_TIMEOUT)",
        uri=uri,
    )
