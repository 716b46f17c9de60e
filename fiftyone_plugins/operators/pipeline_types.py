"""The data of a pipeline: its stages, and what a stage sees of it (``ctx.pipeline``).

Names follow FiftyOne's (``Pipeline``, ``PipelineStage`` with ``operator_uri``, ``name``,
``num_distributed_tasks``, ``params``; ``Pipeline.stage()``, ``to_json``/``from_json``), so
pipeline plugins written for FiftyOne build the same objects here. Beyond them a stage has
``always_run`` (runs even after an earlier stage failed: cleanup, notification),
``rerunnable`` (whether a rerun of a failed pipeline may run this stage again) and
``delegation_target`` (a per-stage override of where its child operation runs); ``to_json``
writes these two only when they differ from their defaults, so a FiftyOne pipeline
serializes as FiftyOne serializes it. Unknown keys are accepted and ignored, for pipelines
written by newer versions. As in FiftyOne, a ``num_distributed_tasks`` below 1 means "not
distributed" (``None``), ``from_json(None)`` is ``None``, and :class:`PipelineRunInfo` is the
record of a pipeline's progress FiftyOne keeps on its operation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ["Pipeline", "PipelineContext", "PipelineRunInfo", "PipelineStage"]

#: stage fields beyond FiftyOne's, with their defaults (left out of ``to_json`` when unchanged)
_EXTENSIONS = {"rerunnable": True, "delegation_target": None}


@dataclasses.dataclass
class PipelineStage:
    """One stage: an operator run with the pipeline's request and these ``params`` on top."""

    operator_uri: str
    name: str | None = None
    num_distributed_tasks: int | None = None
    params: Mapping[str, Any] | None = None
    always_run: bool = False
    rerunnable: bool = True
    delegation_target: str | None = None

    def __post_init__(self) -> None:
        if not self.operator_uri or not isinstance(self.operator_uri, str):
            raise ValueError("A pipeline stage needs an operator_uri")
        if self.num_distributed_tasks is not None:
            tasks = int(self.num_distributed_tasks)
            self.num_distributed_tasks = tasks if tasks >= 1 else None  # as in FiftyOne

    @property
    def display_name(self) -> str:
        return self.name or self.operator_uri

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["params"] = None if self.params is None else dict(self.params)
        for key, default in _EXTENSIONS.items():
            if data[key] == default:
                del data[key]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PipelineStage:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclasses.dataclass
class Pipeline:
    """An ordered list of stages."""

    stages: list[PipelineStage] = dataclasses.field(default_factory=list)

    def stage(
        self,
        operator_uri: str,
        name: str | None = None,
        num_distributed_tasks: int | None = None,
        params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> PipelineStage:
        """Appends a stage and returns it (``always_run``, ``rerunnable`` and
        ``delegation_target`` are keywords; other keywords are ignored)."""
        known = {f.name for f in dataclasses.fields(PipelineStage)}
        extra = {k: v for k, v in kwargs.items() if k in known}
        stage = PipelineStage(operator_uri, name, num_distributed_tasks, params, **extra)
        self.stages.append(stage)
        return stage

    def to_json(self) -> dict[str, Any]:
        return {"stages": [s.to_json() for s in self.stages]}

    @classmethod
    def from_json(cls, data: Any) -> Pipeline | None:
        """From ``{"stages": [...]}`` (FiftyOne's current form) or a list of stages;
        ``None`` stays ``None``."""
        if data is None:
            return None
        items = data.get("stages") or [] if isinstance(data, Mapping) else data
        return cls(stages=[PipelineStage.from_json(s) for s in items])

    @classmethod
    def coerce(cls, value: Any) -> Pipeline:
        """What ``resolve_pipeline`` may return: a Pipeline, a list of stages (objects or
        dicts) or the JSON form."""
        if isinstance(value, Pipeline):
            return value
        if isinstance(value, Mapping):
            return cls.from_json(value) or cls()
        stages = [s if isinstance(s, PipelineStage) else PipelineStage.from_json(s) for s in value]
        return cls(stages=stages)


@dataclasses.dataclass
class PipelineRunInfo:
    """FiftyOne's record of a delegated pipeline's progress: whether it is ``active``, the
    stage it is at, how many child operations each stage expects, and the children's errors
    by operation id."""

    active: bool = True
    stage_index: int = 0
    expected_children: list[Any] | None = None
    child_errors: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PipelineRunInfo | None:
        if data is None:
            return None
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclasses.dataclass
class PipelineContext:
    """``ctx.pipeline``: where a stage is in its pipeline (``active`` is False outside one).

    ``error`` is the first failure of an earlier stage, so an ``always_run`` stage can tell
    whether it is cleaning up after a failure; ``parent_id`` is the pipeline's operation when
    the pipeline is delegated.
    """

    active: bool = False
    stage_index: int = 0
    total_stages: int = 0
    stage_name: str | None = None
    operator_uri: str | None = None
    parent_id: str | None = None
    error: str | None = None

    @property
    def curr_stage_index(self) -> int:
        return self.stage_index

    @property
    def num_stages(self) -> int:
        return self.total_stages

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> PipelineContext:
        if not isinstance(data, Mapping):
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
