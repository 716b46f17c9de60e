"""``FanOutOperator``: an operator that splits its run into slices run in parallel.

A subclass implements ``resolve_fanout(ctx)`` returning a :class:`~.fanout_types.FanOut`
(parameter sets, or the target view's samples in batches) and ``execute_slice(ctx)``, which
runs one slice: ``ctx.params`` are the request's params with the slice's on top and
``ctx.fanout`` says which slice it is (``index``, ``count``, ``sample_ids``; the slice's view
is ``ctx.resolver.select(ctx.target_view(), ctx.fanout.sample_ids)``).

**Delegated** (the operator queued, then run by a worker), each slice is a *child operation*
of the operator's operation (``parent_id``), queued at once so **every worker** can claim one;
the parent's worker runs slices too, so one worker is enough. The parent:

- completes when every slice completed; its result is ``{"slices": N, "results": [...]}``,
  the slices' results in order;
- fails as soon as one slice failed, failing the slices still queued (running ones end on
  their own) with "a sibling slice failed";
- reports the mean of its slices' progress.

Slices are child operations: they may be failed, but rerun or deleted only with their parent.
**Immediate** runs execute the slices one after the other in this process (stopping at the
first failure) and return the same result.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import ExecutionError, FanOutError, InvalidStateTransitionError
from .children import Children, child_id
from .context import ExecutionContext
from .executor import execute_operator
from .fanout_types import FanOut, FanOutContext
from .operator import Operator
from .pipeline import held_objects
from .stores.records import DelegatedOperationDoc, ExecutionRunState, json_copy

__all__ = ["FanOut", "FanOutContext", "FanOutError", "FanOutOperator", "slice_operation_id"]

#: request keys a slice does not inherit from its parent's request
_NOT_INHERITED = ("delegated", "request_delegation", "delegation_target", "results", "fanout")
#: the reason recorded on queued slices when a sibling failed
SIBLING_FAILED = "Not run: a sibling slice of this fan-out failed"


def slice_operation_id(parent_id: str, index: int) -> str:
    """The id of a fan-out's slice: derived, so a restarted parent finds its slices."""
    return child_id(parent_id, f"slice|{index}")


class FanOutOperator(Operator):
    """An operator run as slices (see the module docstring). Subclasses implement
    :meth:`resolve_fanout` and :meth:`execute_slice`; ``execute`` is provided."""

    def resolve_fanout(self, ctx: ExecutionContext) -> FanOut:
        """How to split this request."""
        raise NotImplementedError("subclass must implement resolve_fanout()")

    def execute_slice(self, ctx: ExecutionContext) -> Any:
        """Runs one slice (``ctx.fanout`` says which); returns its JSON-ready result."""
        raise NotImplementedError("subclass must implement execute_slice()")

    def execute(self, ctx: ExecutionContext) -> Any:
        if ctx.fanout.active:
            return self.execute_slice(ctx)
        slices = self.resolve_fanout(ctx).slices(ctx)
        if ctx.delegated and ctx.delegated_operation_id:
            return _DelegatedFanOut(ctx, slices).run()
        return _run_immediately(ctx, slices)


def _slice_request(
    ctx: ExecutionContext, index: int, piece: dict[str, Any], count: int, parent_id: str | None
) -> dict[str, Any]:
    request = {k: v for k, v in ctx.request_params.items() if k not in _NOT_INHERITED}
    request["params"] = {**(ctx.params or {}), **piece["params"]}
    request["fanout"] = FanOutContext(
        active=True, index=index, count=count, sample_ids=piece["sample_ids"], parent_id=parent_id
    ).to_dict()
    return json_copy(request, "fan-out slice request")  # type: ignore[no-any-return]


def _run_immediately(ctx: ExecutionContext, slices: list[dict[str, Any]]) -> dict[str, Any]:
    results = []
    for index, piece in enumerate(slices):
        request = _slice_request(ctx, index, piece, len(slices), None)
        try:
            held = held_objects(ctx)
            results.append(execute_operator(str(ctx.operator_uri), request, **held).result)
        except ExecutionError as e:
            raise FanOutError(f"Fan-out slice {index + 1}/{len(slices)} failed: {e}") from e
        ctx.set_progress((index + 1) / len(slices))
    return {"slices": len(slices), "results": results}


class _DelegatedFanOut:
    """Queues every slice as a child operation, runs some here, waits for the rest."""

    def __init__(self, ctx: ExecutionContext, slices: list[dict[str, Any]]) -> None:
        self.ctx = ctx
        self.slices = slices
        self.children = Children(ctx)

    def _queue_all(self) -> None:
        existing = {c.metadata.get("slice_index") for c in self.children.list()}
        parent = self.children.parent
        count = len(self.slices)
        for index, piece in enumerate(self.slices):
            if index in existing:  # a restarted parent keeps the slices it had queued
                continue
            self.children.queue(
                f"slice|{index}",
                parent.operator,
                _slice_request(self.ctx, index, piece, count, self.children.parent_id),
                label=f"{parent.label or parent.operator} [{index + 1}/{count}]",
                metadata={
                    "slice_index": index,
                    "slice_count": count,
                    "stage_name": f"slice {index + 1}/{count}",
                },
            )

    def _progress(self, docs: list[DelegatedOperationDoc]) -> None:
        total = 0.0
        for doc in docs:
            if doc.is_terminal:
                total += 1.0
            elif doc.progress is not None and doc.progress.progress is not None:
                total += doc.progress.progress
        self.ctx.set_progress(total / (len(self.slices) or 1))

    def _fail_queued(self, docs: list[DelegatedOperationDoc]) -> None:
        for doc in docs:
            if doc.run_state is ExecutionRunState.QUEUED and doc.id is not None:
                try:
                    self.children.service.fail_operation(doc.id, SIBLING_FAILED)
                except InvalidStateTransitionError:  # taken by a worker meanwhile
                    pass

    def _run_here(self, queued: list[DelegatedOperationDoc], docs: list[Any]) -> None:
        """Takes and runs queued slices one after the other (those another worker took
        first are skipped) until one fails here or elsewhere (a cheap count, not a re-read
        of every slice); the progress counts each one finished here."""
        ended = sum(1 for d in docs if d.is_terminal)
        service, parent_id = self.children.service, self.children.parent_id
        for doc in queued:
            done = self.children.take_and_run(doc)
            if done is None:
                continue
            ended += 1
            self.ctx.set_progress(ended / (len(self.slices) or 1))
            if service.count(run_state=ExecutionRunState.FAILED, parent_id=parent_id):
                return

    def run(self) -> dict[str, Any]:
        self._queue_all()
        delay = 0.01
        while True:
            docs = sorted(self.children.list(), key=lambda d: d.metadata.get("slice_index", 0))
            failed = [d for d in docs if d.run_state is ExecutionRunState.FAILED]
            if failed:
                self._fail_queued(docs)
                index = int(failed[0].metadata.get("slice_index", 0))
                raise FanOutError(
                    f"Fan-out slice {index + 1}/{len(self.slices)} ({failed[0].id}) failed: "
                    f"{failed[0].error}"
                )
            self._progress(docs)
            if all(d.run_state is ExecutionRunState.COMPLETED for d in docs):
                return {"slices": len(docs), "results": [d.result for d in docs]}
            queued = [d for d in docs if d.run_state is ExecutionRunState.QUEUED]
            if queued:  # run what is still queued here, re-reading the store only after
                self._run_here(queued, docs)
                delay = 0.01
                continue
            time.sleep(delay)  # the other workers hold the rest: poll the store
            delay = min(0.5, delay * 2)
