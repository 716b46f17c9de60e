"""The operator browser's two actions: resolve an operator's form, and execute (or schedule) it.

Both go through the library's public API (``get_operator``, ``resolve_type``,
``resolve_execution_options``, ``execute_operator_async``), so the web app runs an operator
exactly as the CLI and Python callers do: same validation, same delegation rules, same
masking of secret values in results and errors. What comes back is plain JSON for the page:
the form's field descriptions (see :mod:`.forms`), and for a run its result, what it yielded,
its recorded triggers and logs, validation errors by field path, or its error and traceback.

Plugin code runs in ``resolve_input``/``resolve_output`` too; an exception there becomes an
``error`` in the answer (secret values masked), never a server error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import fiftyone_plugins.operators as foo
from fiftyone_plugins.operators.executor import resolve_execution_options, resolve_type

from ..secrets import redact, redact_data
from .forms import describe_form

__all__ = ["execute", "resolve"]


def _secret_values(op: Any) -> list[str]:
    """The values of the operator's plugin's declared secrets that are set (for masking)."""
    import fiftyone_plugins as fop

    from ..secrets import resolve_secret

    name = getattr(op, "plugin_name", None)
    if not name:
        return []
    try:
        keys = fop.get_plugin(name).secrets
    except Exception:  # a builtin or vanished plugin: nothing declared
        return []
    return [v for v in (resolve_secret(k) for k in keys) if v]


def _error_text(op: Any, exc: BaseException) -> str:
    from ..errors import FiftyOnePluginsError

    if isinstance(exc, FiftyOnePluginsError):
        message = str(exc)
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redact(message, _secret_values(op))


def _options(op: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    options = resolve_execution_options(op, request)
    return {
        "immediate": bool(options.allow_immediate_execution),
        "delegated": bool(options.allow_delegated_execution),
        "default_delegated": bool(getattr(options, "default_choice_to_delegated", False)),
    }


def resolve(uri: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The operator's form for these parameters, and how it may be run.

    Raises :class:`~fiftyone_plugins.errors.OperatorNotFoundError` for an unknown URI; an
    exception raised by the operator's own hooks is returned as ``error``.
    """
    op = foo.get_operator(uri)
    request = {"params": dict(params or {})}
    config = op.config
    answer: dict[str, Any] = {
        "uri": op.uri,
        "label": config.label or config.name,
        "description": config.description,
        "dynamic": bool(config.dynamic),
        "error": None,
    }
    try:
        answer["options"] = _options(op, request)
        inputs = resolve_type(op, request, "inputs")
        form = describe_form(inputs)
    except Exception as e:  # the operator's code failed: show it, do not crash the page
        answer["options"] = answer.get("options") or {"immediate": True, "delegated": False}
        answer["form"] = describe_form(None)
        answer["error"] = _error_text(op, e)
        return answer
    answer["form"] = redact_data(form, _secret_values(op))
    return answer


def _outputs(op: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        outputs = resolve_type(op, {"params": dict(params)}, "outputs")
    except Exception:  # no output schema to show: the result is shown as JSON instead
        return None
    if outputs is None:
        return None
    return describe_form(outputs)


async def execute(
    uri: str,
    params: Mapping[str, Any] | None = None,
    delegate: bool = False,
    progress: Callable[[Any, Any], None] | None = None,
) -> dict[str, Any]:
    """Executes the operator now, or queues it (``delegate=True``), and describes the outcome.

    ``progress(progress, label)`` hears the run's progress as it happens (labels masked).
    Raises :class:`~fiftyone_plugins.errors.OperatorNotFoundError` for an unknown URI; every
    other failure is in the answer (``error``, ``trace``, ``validation``).
    """
    op = foo.get_operator(uri)
    params = dict(params or {})
    result = await foo.execute_operator_async(
        uri, params=params, request_delegation=delegate, progress_callback=progress
    )
    data = result.to_json()  # secret values are masked in it
    executor = data.get("executor") or {}
    answer: dict[str, Any] = {
        "uri": op.uri,
        "ok": result.error is None,
        "delegated": bool(result.delegated),
        "result": data.get("result"),
        "yielded": data.get("yielded"),
        "error": data.get("error"),
        "trace": data.get("error_trace"),
        "validation": [{"path": p, "reason": r} for p, r in result.validation_errors],
        "requests": executor.get("requests") or [],
        "logs": executor.get("logs") or [],
        "outputs": None,
        "operation_id": None,
    }
    if result.delegated and isinstance(data.get("result"), Mapping):
        answer["operation_id"] = data["result"].get("id")
    elif result.error is None:
        outputs = _outputs(op, params)
        if outputs is not None:
            answer["outputs"] = redact_data(outputs, _secret_values(op))
    return answer
