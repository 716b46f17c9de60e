"""Operators and panels: authoring, the registry and execution.

Used like FiftyOne's ``fiftyone.operators``::

    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators import types

    class Greet(foo.Operator):
        @property
        def config(self):
            return foo.OperatorConfig(name="greet")

        def execute(self, ctx):
            return {"message": f"Hello {ctx.params['name']}"}

    result = foo.execute_operator("@me/hello/greet", params={"name": "Ada"})

``Operator``/``OperatorConfig`` are imported with the package (every plugin needs them);
everything else is imported on first use, so plugin imports stay cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .operator import ExecutionOptions, Operator, OperatorConfig

if TYPE_CHECKING:
    from ..compat.cache import execution_cache
    from . import types
    from .constants import ViewTarget
    from .context import ExecutionContext
    from .delegated import DelegatedOperationService
    from .evaluation_metric import EvaluationMetric, EvaluationMetricConfig
    from .executor import (
        ExecutionResult,
        execute_operator,
        execute_operator_async,
    )
    from .fanout import FanOut, FanOutOperator
    from .panel import Categories, Panel, PanelConfig
    from .pipeline import Pipeline, PipelineOperator, PipelineStage
    from .progress import ProgressHandler, is_new
    from .registry import (
        OperatorRegistry,
        get_operator,
        list_operators,
        operator_exists,
    )
    from .store import ExecutionStore

_EXPORTS = {
    "ExecutionContext": "context",
    "DelegatedOperationService": "delegated",
    "EvaluationMetric": "evaluation_metric",
    "EvaluationMetricConfig": "evaluation_metric",
    "execution_cache": ".compat.cache",
    "ExecutionResult": "executor",
    "ExecutionRunState": "executor",
    "execute_operator": "executor",
    "execute_operator_async": "executor",
    "Panel": "panel",
    "PanelConfig": "panel",
    "Categories": "panel",
    "OperatorRegistry": "registry",
    "get_operator": "registry",
    "list_operators": "registry",
    "operator_exists": "registry",
    "ExecutionStore": "store",
    "ProgressHandler": "progress",
    "is_new": "progress",
    "FanOut": "fanout",
    "FanOutOperator": "fanout",
    "Pipeline": "pipeline",
    "PipelineOperator": "pipeline",
    "PipelineStage": "pipeline",
    "ViewTarget": "constants",
}

__all__ = [
    "Categories",
    "DelegatedOperationService",
    "EvaluationMetric",
    "EvaluationMetricConfig",
    "ExecutionContext",
    "ExecutionOptions",
    "ExecutionResult",
    "ExecutionRunState",
    "ExecutionStore",
    "FanOut",
    "FanOutOperator",
    "Operator",
    "OperatorConfig",
    "OperatorRegistry",
    "Panel",
    "PanelConfig",
    "Pipeline",
    "PipelineOperator",
    "PipelineStage",
    "ProgressHandler",
    "ViewTarget",
    "execute_operator",
    "execute_operator_async",
    "execution_cache",
    "get_operator",
    "is_new",
    "list_operators",
    "operator_exists",
    "types",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        if name == "types":
            return importlib.import_module(".types", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
