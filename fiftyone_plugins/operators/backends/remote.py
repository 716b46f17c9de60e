"""What an engine runs for one operation, and the plain outcome it sends back.

:func:`run_on_engine` executes in the engine's worker process (a Ray worker, a Dask worker):
the operator is looked up in *that* process's plugin registry and its secrets come from
*that* process's environment (:func:`~..executor.run_delegated_operation`). It never touches
the store. Its outcome crosses the wire as a small dict of strings, the result already
encoded as JSON text (:func:`~..stores.records.encode_result`), so nothing but JSON travels
back and the worker stores the result exactly as the engine produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import UnstorableRecordError
from ..result import ExecutionResult
from ..runner import ProgressCallback
from ..stores.records import EncodedResult, encode_result

__all__ = ["UNSTORED_RESULT", "outcome_from_wire", "run_on_engine"]

#: the error of a run whose result JSON cannot hold (the same words the service uses)
UNSTORED_RESULT = "The operation finished but its result could not be stored: {reason}"


def run_on_engine(
    operator: str,
    context: Mapping[str, Any] | None,
    op_id: str,
    report: ProgressCallback,
) -> dict[str, Any]:
    """Runs one operation here and returns ``{"result_json": text}`` or ``{"error": ...,
    "error_trace": ...}``; never raises for the operator's own failures."""
    from ..executor import run_delegated_operation  # the engine side needs the executor

    result = run_delegated_operation(
        operator, dict(context or {}), operation_id=op_id, progress_callback=report
    )
    if result.error is not None:
        return {"error": result.error, "error_trace": result.error_trace}
    try:
        encoded = encode_result(result.stored_result())
    except UnstorableRecordError as e:
        return {"error": UNSTORED_RESULT.format(reason=e), "error_trace": None}
    return {"result_json": encoded.text}


def outcome_from_wire(data: Mapping[str, Any]) -> ExecutionResult:
    """The execution result a worker records from what :func:`run_on_engine` returned."""
    if data.get("error") is not None:
        return ExecutionResult(error=str(data["error"]), error_trace=data.get("error_trace"))
    text = data.get("result_json")
    return ExecutionResult(result=EncodedResult(text if isinstance(text, str) else "null"))
