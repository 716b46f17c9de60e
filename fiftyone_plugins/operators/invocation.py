"""What an operator asks its host to do, recorded: :class:`InvocationRequest` and the run's
:class:`Executor`.

A host UI (FiftyOne's App) would act on these requests; here they are recorded, in order,
on the run's :class:`Executor` and returned in ``result.executor.requests``, each an
:class:`InvocationRequest` with ``operator_uri`` and ``params``. (FiftyOne defines both in
``fiftyone.operators.executor``, which re-exports them from here.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Executor", "InvocationRequest", "prompt_request"]


class InvocationRequest:
    """A request to invoke an operator: its URI (or bare name) and parameters."""

    __slots__ = ("operator_uri", "params")

    def __init__(self, operator_uri: str, params: dict[str, Any] | None = None) -> None:
        self.operator_uri = operator_uri
        self.params = params or {}

    def to_json(self) -> dict[str, Any]:
        from .types.base import to_jsonable  # the types package is imported on first use

        return {"operator_uri": self.operator_uri, "params": to_jsonable(self.params)}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, InvocationRequest)
            and other.operator_uri == self.operator_uri
            and other.params == self.params
        )

    def __repr__(self) -> str:
        return f"InvocationRequest({self.operator_uri!r}, {self.params!r})"


class Executor:
    """Collects the requests and log messages of one run."""

    __slots__ = ("requests", "logs")

    def __init__(
        self, requests: list[InvocationRequest] | None = None, logs: list[str] | None = None
    ) -> None:
        self.requests: list[InvocationRequest] = requests if requests is not None else []
        self.logs: list[str] = logs if logs is not None else []

    def trigger(
        self, operator_name: str, params: dict[str, Any] | None = None
    ) -> InvocationRequest:
        request = InvocationRequest(operator_name, params)
        self.requests.append(request)
        return request

    def log(self, message: str) -> None:
        self.logs.append(message)

    def to_json(self) -> dict[str, Any]:
        return {"requests": [r.to_json() for r in self.requests], "logs": list(self.logs)}

    def __repr__(self) -> str:
        return f"Executor({len(self.requests)} requests, {len(self.logs)} logs)"


def prompt_request(
    operator_uri: str,
    panel_id: str | None,
    params: dict[str, Any] | None,
    on_success: Any = None,
    on_error: Any = None,
) -> dict[str, Any]:
    """The parameters of a ``prompt_user_for_operation`` request (``ctx.prompt``)."""
    from .types.base import to_jsonable  # the types package is imported on first use

    return {
        "operator_uri": operator_uri,
        "panel_id": panel_id,
        "params": params,
        "on_success": to_jsonable(on_success) if on_success else None,
        "on_error": to_jsonable(on_error) if on_error else None,
    }
