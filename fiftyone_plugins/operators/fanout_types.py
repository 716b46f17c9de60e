"""How a fan-out splits a run, and what each slice sees of it (``ctx.fanout``).

A :class:`FanOut` is what ``resolve_fanout(ctx)`` returns: either a list of parameter sets
(one slice each, merged over the request's params) or the target view's samples in batches
(``batch_size`` samples per slice, or ``num_slices`` slices of near-equal size). The samples
are listed through the host's dataset resolver (``sample_ids``), so the same operator splits
the host's own datasets and FiftyOne's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FanOut", "FanOutContext"]


@dataclasses.dataclass
class FanOut:
    """The slices of a run: ``param_sets``, or the view's samples by ``batch_size`` or
    ``num_slices`` (``view_param`` names the ``view_target``-style parameter choosing the
    view, as :meth:`~.context.ExecutionContext.target_view` reads it)."""

    param_sets: list[dict[str, Any]] | None = None
    batch_size: int | None = None
    num_slices: int | None = None
    view_param: str = "view_target"

    def __post_init__(self) -> None:
        chosen = [self.param_sets is not None, self.batch_size is not None]
        chosen.append(self.num_slices is not None)
        if sum(chosen) != 1:
            raise ValueError("A fan-out needs exactly one of param_sets, batch_size, num_slices")
        for name in ("batch_size", "num_slices"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be >= 1")

    @classmethod
    def over_params(cls, param_sets: Sequence[Mapping[str, Any]]) -> FanOut:
        return cls(param_sets=[dict(p) for p in param_sets])

    @classmethod
    def over_view(cls, *, batch_size: int | None = None, num_slices: int | None = None) -> FanOut:
        return cls(batch_size=batch_size, num_slices=num_slices)

    def slices(self, ctx: Any) -> list[dict[str, Any]]:
        """One ``{"params": {...}, "sample_ids": [...] | None}`` per slice, in order."""
        if self.param_sets is not None:
            return [{"params": dict(p), "sample_ids": None} for p in self.param_sets]
        view = ctx.target_view(self.view_param)
        ids = [] if view is None else ctx.resolver.sample_ids(view)
        if not ids:
            return []
        if self.batch_size is not None:
            size = int(self.batch_size)
        else:
            size = math.ceil(len(ids) / int(self.num_slices or 1))
        return [{"params": {}, "sample_ids": ids[i : i + size]} for i in range(0, len(ids), size)]


@dataclasses.dataclass
class FanOutContext:
    """``ctx.fanout``: which slice this run is (``active`` False when it is not one)."""

    active: bool = False
    index: int = 0
    count: int = 0
    sample_ids: list[str] | None = None
    parent_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> FanOutContext:
        if not isinstance(data, Mapping):
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
