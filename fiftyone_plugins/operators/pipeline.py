"""``PipelineOperator``: an operator whose run is a sequence of other operators' runs.

A subclass implements ``resolve_pipeline(ctx)`` returning a
:class:`~.pipeline_types.Pipeline` (or a list of stages); executing it runs the stages in
order, each with the pipeline's request (dataset, view, ...) and the pipeline's params with
the stage's ``params`` on top, and ``ctx.pipeline`` saying where it is
(:class:`~.pipeline_types.PipelineContext`). The first failure stops the stages after it,
except ``always_run`` ones; the result lists each stage's outcome (``completed``, ``failed``,
``skipped``, with its result or error), and a failed pipeline raises
:class:`PipelineError` naming the stage.

**Immediate** runs execute each stage in this process through
:func:`~.executor.execute_operator`.

**Delegated** runs (the pipeline queued, then run by a worker) make each stage a *child
operation* of the pipeline's operation in the store (``parent_id``), so it is a record like
any other, visible in ``delegated info`` and runnable by any worker or backend:

1. the child is inserted under an id derived from (pipeline id, stage index, attempt), so a
   pipeline restarted after losing its worker finds its children again instead of adding
   new ones;
2. the pipeline's worker takes the child itself (a compare-and-set ``queued -> running``) and
   runs it in-process, renewing the child's lease; if another worker claimed it first, the
   pipeline waits for it to end;
3. the pipeline's progress is the mean of its children's; its state comes from theirs: it
   completes when the last stage does and fails when a stage failed.

A worker killed mid-stage leaves the stage's lease to expire: the stage is then failed, or
requeued once when it is ``rerunnable`` (its ``max_attempts`` is 2), by whichever worker sees
the lease expired. Completed stages are never run again: rerunning a failed pipeline
(``delegated rerun``) queues a new pipeline operation that reuses the results of the stages
its predecessors completed and resumes at the failed stage, unless that stage is not
``rerunnable``, which fails the rerun at once.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from ..errors import OperationNotFoundError, PipelineError
from .children import Children, child_id
from .context import ExecutionContext
from .executor import execute_operator
from .operator import Operator
from .pipeline_types import Pipeline, PipelineContext, PipelineStage
from .stores.records import TERMINAL_STATES, DelegatedOperationDoc, ExecutionRunState, json_copy

__all__ = [
    "Pipeline",
    "PipelineContext",
    "PipelineError",
    "PipelineOperator",
    "PipelineStage",
    "child_operation_id",
    "held_objects",
]

#: request keys a stage does not inherit from its pipeline's request
_NOT_INHERITED = ("delegated", "request_delegation", "delegation_target", "results", "pipeline")
#: how many rerun generations a pipeline looks back through for completed stages
_MAX_GENERATIONS = 50


class PipelineOperator(Operator):
    """An operator made of stages (see the module docstring). Subclasses implement
    :meth:`resolve_pipeline`; ``execute`` is provided."""

    def resolve_pipeline(self, ctx: ExecutionContext) -> Pipeline | list[PipelineStage]:
        """The stages to run for this request."""
        raise NotImplementedError("subclass must implement resolve_pipeline()")

    def execute(self, ctx: ExecutionContext) -> dict[str, Any]:
        pipeline = Pipeline.coerce(self.resolve_pipeline(ctx))
        if ctx.delegated and ctx.delegated_operation_id:
            runner: _Stages = _DelegatedStages(ctx, pipeline)
        else:
            runner = _ImmediateStages(ctx, pipeline)
        return runner.run()


def child_operation_id(parent_id: str, stage_index: int, attempt: int) -> str:
    """The id of a pipeline's child operation: derived, so a restarted pipeline finds it."""
    return child_id(parent_id, f"stage|{stage_index}|{attempt}")


class _Stages:
    """Runs a pipeline's stages in order; subclasses say how one stage runs."""

    def __init__(self, ctx: ExecutionContext, pipeline: Pipeline) -> None:
        self.ctx = ctx
        self.stages = pipeline.stages
        self.outcomes: list[dict[str, Any]] = []
        self.error: str | None = None

    def stage_request(self, index: int, stage: PipelineStage, parent_id: str | None) -> dict:
        base = {k: v for k, v in self.ctx.request_params.items() if k not in _NOT_INHERITED}
        params = dict(self.ctx.params or {})
        params.update(stage.params or {})
        base["params"] = params
        base["pipeline"] = PipelineContext(
            active=True,
            stage_index=index,
            total_stages=len(self.stages),
            stage_name=stage.display_name,
            operator_uri=self.ctx.operator_uri,
            parent_id=parent_id,
            error=self.error,
        ).to_dict()
        return json_copy(base, "pipeline stage request")  # type: ignore[no-any-return]

    def outcome(self, index: int, stage: PipelineStage, state: str, **extra: Any) -> None:
        entry = {"index": index, "name": stage.display_name, "operator_uri": stage.operator_uri}
        entry.update(state=state, **extra)
        self.outcomes.append(entry)
        if state == "failed" and self.error is None:
            self.error = f"stage {stage.display_name!r} failed: {extra.get('error')}"

    def run_stage(self, index: int, stage: PipelineStage) -> None:
        raise NotImplementedError

    def run(self) -> dict[str, Any]:
        for index, stage in enumerate(self.stages):
            if self.error is not None and not stage.always_run:
                self.outcome(index, stage, "skipped")
                continue
            self.run_stage(index, stage)
        result = {"stages": self.outcomes}
        if self.error is not None:
            raise PipelineError(f"Pipeline {self.ctx.operator_uri}: {self.error}", self.outcomes)
        return result


class _ImmediateStages(_Stages):
    """Each stage through ``execute_operator`` in this process."""

    def run_stage(self, index: int, stage: PipelineStage) -> None:
        request = self.stage_request(index, stage, None)
        try:
            result = _execute_now(stage.operator_uri, request, held_objects(self.ctx))
        except Exception as e:  # the stage's outcome; the pipeline goes on to always_run ones
            self.outcome(index, stage, "failed", error=str(e))
            return
        self.outcome(index, stage, "completed", result=_jsonable(result.result))
        self.ctx.set_progress((index + 1) / len(self.stages), stage.display_name)


def held_objects(ctx: ExecutionContext) -> dict[str, Any]:
    """The host's dataset and view objects ``ctx`` holds, as ``execute_operator`` keywords,
    so an immediate stage or slice works on the very objects its parent was given."""
    dataset, view = ctx.held_objects
    held = {"dataset": dataset, "view": view}
    return {k: v for k, v in held.items() if v is not None}


def _execute_now(uri: str, request: dict[str, Any], held: dict[str, Any]) -> Any:
    """``execute_operator`` synchronously, even when this thread runs an event loop."""
    aio = sys.modules.get("asyncio")
    if aio is None or aio._get_running_loop() is None:
        return execute_operator(uri, request, **held)
    box: list[Any] = []

    def call() -> None:
        try:
            box.append((execute_operator(uri, request, **held), None))
        except BaseException as e:  # re-raised in the caller's thread
            box.append((None, e))

    thread = threading.Thread(target=call, name=f"pipeline stage {uri}")
    thread.start()
    thread.join()
    result, error = box[0]
    if error is not None:
        raise error
    return result


def _jsonable(value: Any) -> Any:
    try:
        return json_copy(value)
    except TypeError:
        return repr(value)


class _DelegatedStages(_Stages):
    """Each stage as a child operation of the pipeline's operation (module docstring)."""

    def __init__(self, ctx: ExecutionContext, pipeline: Pipeline) -> None:
        super().__init__(ctx, pipeline)
        self.children = Children(ctx)
        self.parent_id = self.children.parent_id
        self.own = self._by_stage(self.children.list())
        self.earlier = self._earlier_children(self.children.parent)

    @staticmethod
    def _by_stage(children: list[DelegatedOperationDoc]) -> dict[int, list[DelegatedOperationDoc]]:
        by_stage: dict[int, list[DelegatedOperationDoc]] = {}
        for child in children:
            index = child.metadata.get("stage_index")
            if isinstance(index, int):
                by_stage.setdefault(index, []).append(child)
        for docs in by_stage.values():
            docs.sort(key=lambda d: int(d.metadata.get("stage_attempt", 0)))
        return by_stage

    def _earlier_children(self, parent: DelegatedOperationDoc) -> dict[int, list[Any]]:
        """The children of the pipelines this one reruns (``rerun_of``), newest first."""
        found: dict[int, list[DelegatedOperationDoc]] = {}
        current = parent
        for _ in range(_MAX_GENERATIONS):
            previous_id = current.metadata.get("rerun_of")
            if not previous_id:
                break
            try:
                current = self.children.service.get(previous_id)
            except OperationNotFoundError:  # the predecessor was deleted: nothing to reuse
                break
            for index, docs in self._by_stage(self.children.list(previous_id)).items():
                found.setdefault(index, []).extend(reversed(docs))
        return found

    def _progress(self, running: float = 0.0) -> None:
        """The pipeline's progress: the mean of its stages' (an ended stage counts 1)."""
        total = len(self.stages) or 1
        self.ctx.set_progress((len(self.outcomes) + running) / total)

    def run_stage(self, index: int, stage: PipelineStage) -> None:
        own = self.own.get(index, [])
        history = own[::-1] + self.earlier.get(index, [])
        completed = next((d for d in history if d.run_state is ExecutionRunState.COMPLETED), None)
        if completed is not None:  # never run a completed stage again
            self.outcome(index, stage, "completed", result=completed.result, op_id=completed.id)
            if completed.parent_id != self.parent_id:
                self.outcomes[-1]["reused"] = True
            self._progress()
            return
        failed_before = any(d.run_state is ExecutionRunState.FAILED for d in history)
        if failed_before and not stage.rerunnable:
            self.outcome(index, stage, "failed", error="it failed before and is not rerunnable")
            return
        child = next((d for d in own if d.run_state not in TERMINAL_STATES), None)
        if child is None:
            attempt = len(own)
            parent = self.children.parent
            child = self.children.queue(
                f"stage|{index}|{attempt}",
                stage.operator_uri,
                self.stage_request(index, stage, self.parent_id),
                label=f"{parent.label or parent.operator} / {stage.display_name}",
                delegation_target=stage.delegation_target,
                metadata={
                    "stage_index": index,
                    "stage_name": stage.display_name,
                    "stage_attempt": attempt,
                    "max_attempts": 2 if stage.rerunnable else 1,
                },
            )
        doc = self.children.run_or_wait(child, self._progress)
        if doc.run_state is ExecutionRunState.COMPLETED:
            self.outcome(index, stage, "completed", result=doc.result, op_id=doc.id)
        else:
            self.outcome(index, stage, "failed", error=doc.error, op_id=doc.id)
        self._progress()
