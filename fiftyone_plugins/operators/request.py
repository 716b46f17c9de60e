"""The request to run an operator: its one shape, built once, and the decisions about it.

Callers describe a run in several ways: ``execute_operator(uri, ctx_dict, **kwargs)``, an
:class:`~.context.ExecutionContext` passed as ``ctx``, ``Operator.__call__`` holding the
instance itself, or a delegated operation's stored context read back by a worker.
:class:`ExecutionRequest` turns each of them into the same thing: the operator (its URI, and
the instance when the caller holds one), ``request_params`` (the plain dict the context
wraps), the host's dataset and view objects, and explicit secret values. Everything that
reshapes a request lives here:

- secrets are removed from anything that will be stored in one place, :func:`without_secrets`
  (the delegated-operations service uses it too, for contexts queued directly);
- what is stored when a run is delegated is :meth:`ExecutionRequest.stored_context` (the
  request without objects, secrets, nor the ``request_delegation`` flag it has served);
- a request rebuilt from a record (:meth:`ExecutionRequest.from_record`) is the only place
  that sets ``delegated``;
- whether to delegate is decided once, by :func:`decide_delegation`.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import OperatorNotFoundError
from .context import ExecutionContext
from .hosted import (
    declared_secrets,
    default_execution_options,
    has_default_execution_options,
    is_operator,
)
from .invocation import Executor
from .operator import Operator

if TYPE_CHECKING:
    from ..secrets import SecretsDict

__all__ = [
    "SECRET_KEYS",
    "ExecutionRequest",
    "decide_delegation",
    "without_secrets",
]

logger = logging.getLogger("fiftyone_plugins.operators")

#: request keys never stored: secrets are resolved from the worker's environment when it runs
SECRET_KEYS = frozenset({"secrets"})

#: ``callback(progress, label)`` given to ``ctx.set_progress``
ProgressCallback = Callable[[Any, Any], Any]


def without_secrets(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without its secret keys, at the top and in a nested ``request_params``."""
    clean = {k: v for k, v in data.items() if k not in SECRET_KEYS}
    nested = clean.get("request_params")
    if isinstance(nested, Mapping):
        clean["request_params"] = {k: v for k, v in nested.items() if k not in SECRET_KEYS}
    return clean


def _copy_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy deep enough that changes never reach the caller (flat dicts stay cheap)."""
    copied = dict(params)
    for key, value in copied.items():
        if isinstance(value, (dict, list, set)):
            copied[key] = copy.deepcopy(value)
    return copied


class ExecutionRequest:
    """One request to run an operator.

    Attributes:
        uri: the operator's URI
        operator: the instance to run when the caller holds one (else it is looked up)
        request_params: the request as the context's plain dict (``params`` is a copy)
        dataset, view: the host's objects, when given as objects
        secrets: explicit secret values (a host that resolved them itself), never stored
    """

    __slots__ = ("uri", "operator", "request_params", "dataset", "view", "secrets")

    def __init__(
        self,
        operator: str | Operator,
        request_params: dict[str, Any],
        *,
        dataset: Any = None,
        view: Any = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(operator, str):  # the usual case: a URI, looked up when run
            if not operator.strip():
                raise OperatorNotFoundError(operator, reason="the URI is empty")
            self.operator: Operator | None = None
            self.uri = operator
        elif is_operator(operator):  # this library's, or the real FiftyOne's (see .hosted)
            self.operator = operator  # type: ignore[assignment]
            self.uri = operator.uri  # type: ignore[union-attr]
        else:
            raise TypeError(f"operator_uri must be a string, not {type(operator).__name__}")
        params = request_params.get("params")
        # a copy: the operator may change ctx.params without touching the caller's dict
        request_params["params"] = {} if params is None else _copy_params(params)
        if isinstance(dataset, str):
            request_params["dataset_name"] = dataset
            dataset = None
        if view is not None and isinstance(view, (list, str)):
            request_params["view"] = view  # already serialized (e.g. view stages)
            view = None
        request_params["operator_uri"] = self.uri
        self.request_params = request_params
        self.dataset = dataset
        self.view = view
        self.secrets = secrets

    @classmethod
    def from_call(
        cls, operator: str | Operator, ctx: Any, kwargs: Mapping[str, Any]
    ) -> ExecutionRequest:
        """The request of ``execute_operator(operator, ctx, **kwargs)``: ``ctx`` is a dict,
        an :class:`ExecutionContext` or ``None``; ``kwargs`` are merged over it."""
        dataset = view = None
        if isinstance(ctx, ExecutionContext):
            dataset, view = ctx.held_objects
            merged = {**ctx.request_params, **kwargs}
        elif ctx is None:
            merged = dict(kwargs)
        elif isinstance(ctx, Mapping):
            merged = {**ctx, **kwargs}
        else:
            raise TypeError(f"ctx must be a dict or an ExecutionContext, not {type(ctx).__name__}")
        dataset = merged.pop("dataset", dataset)
        view = merged.pop("view", view)
        secrets = merged.pop("secrets", None)
        return cls(operator, merged, dataset=dataset, view=view, secrets=secrets)

    @classmethod
    def from_record(cls, operator_uri: str, context: Mapping[str, Any] | None) -> ExecutionRequest:
        """The request a worker runs for a delegated operation's stored ``context``.

        The context is copied through JSON (the run never shares the stored objects); a
        FiftyOne-style ``request_params`` nesting is flattened; the run is ``delegated``.
        """
        data = json.loads(json.dumps(dict(context or {}), default=str))
        nested = data.pop("request_params", None)
        if isinstance(nested, dict):
            data = {**nested, **data} if "params" not in nested else {**data, **nested}
        data = without_secrets(data)
        data.pop("request_delegation", None)
        data["delegated"] = True
        return cls(operator_uri, data, view=data.pop("view", None))

    def context(
        self,
        operator: Operator,
        executor: Executor,
        set_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ExecutionContext:
        """The :class:`ExecutionContext` the operator runs with."""
        return ExecutionContext(
            self.request_params,
            executor,
            set_progress,
            operation_id,
            self.uri,
            declared_secrets(operator),
            secrets=self.secrets,
            dataset=self.dataset,
            view=self.view,
            plugin_name=operator.plugin_name,
        )

    @staticmethod
    def stored_context(ctx: ExecutionContext, secrets: SecretsDict) -> dict[str, Any]:
        """What a delegated operation stores of the request ``ctx`` ran with: JSON-ready,
        without host objects (the dataset becomes its name and id, the view is serialized),
        secrets, nor ``request_delegation``; any secret value masked, even as a parameter."""
        data = without_secrets(ctx.request_data())
        data.pop("request_delegation", None)
        return secrets.mask_data(data)  # type: ignore[no-any-return]


def decide_delegation(operator: Operator, ctx: ExecutionContext, config: Any = None) -> bool:
    """Whether to queue the run instead of executing it, as the reference decides.

    ``resolve_delegation(ctx)`` (asked once) or the request's ``request_delegation``, corrected
    by the execution options with a warning: an operator that cannot be delegated runs
    immediately, and one that cannot run immediately is delegated. ``config`` is the
    operator's config when the caller has read it already.
    """
    forced = operator.resolve_delegation(ctx)
    if has_default_execution_options(operator):
        options = default_execution_options(operator, forced, config)
    else:  # an override decides (it may ask resolve_delegation itself)
        options = operator.resolve_execution_options(ctx)
    delegate = bool(forced or ctx.requesting_delegated_execution)
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
