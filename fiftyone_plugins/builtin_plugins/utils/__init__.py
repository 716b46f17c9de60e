"""``@voxel51/utils/delegate``: delegate an arbitrary function call to a worker.

``delegate(fcn, *args, dataset=None, view=None, **kwargs)`` queues a delegated operation
that, in the worker, runs one of:

- ``fcn(*args, **kwargs)`` when ``fcn`` is a dotted path (``"package.module.function"``,
  ``"package.Class.method"``) and no dataset/view is given;
- ``fcn(dataset_or_view, *args, **kwargs)`` when a dataset or view is given;
- ``dataset_or_view.fcn(*args, **kwargs)`` when ``fcn`` has no dot (a method name).

The call is stored as data (the function's name, JSON arguments, the dataset's name/id and
the serialized view) and resolved again in the worker; callables are never pickled. The
return value is the operation's result when it is JSON-serializable.
"""

from __future__ import annotations

import importlib
import json
import logging
from typing import Any

import fiftyone_plugins.operators as foo

logger = logging.getLogger("fiftyone_plugins.operators")


def resolve_function(path: str) -> Any:
    """Imports ``"a.b.c"`` as the longest importable module prefix plus attributes."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            target = getattr(target, attr)
        return target
    raise ImportError(f"Cannot import {path!r}")


class Delegate(foo.Operator):
    @property
    def config(self) -> foo.OperatorConfig:
        return foo.OperatorConfig(
            name="delegate",
            label="Delegate function call",
            unlisted=True,
            allow_immediate_execution=True,
            allow_delegated_execution=True,
            default_choice_to_delegated=True,
        )

    def resolve_delegation(self, ctx: Any) -> bool | None:
        return None

    def execute(self, ctx: Any) -> Any:
        fcn = ctx.params["fcn"]
        args = list(ctx.params.get("args") or [])
        kwargs = dict(ctx.params.get("kwargs") or {})
        has_target = ctx.params.get("has_view") or ctx.params.get("has_dataset")
        target = None
        if has_target:
            target = ctx.view if ctx.params.get("has_view") else ctx.dataset
            if target is None:
                raise ValueError(f"The dataset {ctx.dataset_name!r} of this call cannot be found")
        if "." not in fcn:
            if target is None:
                raise ValueError(f"{fcn!r} is a method name: pass dataset= or view=")
            result = getattr(target, fcn)(*args, **kwargs)
        else:
            function = resolve_function(fcn)
            result = (
                function(*args, **kwargs) if target is None else function(target, *args, **kwargs)
            )
        try:
            json.dumps(result)
        except (TypeError, ValueError):
            logger.debug("delegate(%s) returned a value JSON cannot hold; dropped", fcn)
            return None
        return result

    def __call__(
        self,
        fcn: Any,
        *args: Any,
        dataset: Any = None,
        view: Any = None,
        delegation_target: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if callable(fcn):
            fcn = f"{fcn.__module__}.{fcn.__qualname__}"
        if not isinstance(fcn, str) or not fcn:
            raise TypeError("fcn must be a function, a dotted path or a method name")
        params = {
            "fcn": fcn,
            "args": list(args),
            "kwargs": kwargs,
            "has_dataset": dataset is not None,
            "has_view": view is not None,
        }
        ctx: dict[str, Any] = {}
        if dataset is not None:
            ctx["dataset"] = dataset
        if view is not None:
            ctx["view"] = view
        return foo.execute_operator(
            self.uri,
            ctx,
            params=params,
            request_delegation=True,
            delegation_target=delegation_target,
        )


def register(p: Any) -> None:
    p.register(Delegate)
