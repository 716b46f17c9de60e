"""``fiftyone.factory``: the paging types FiftyOne's delegated-operations service takes.

Plugins that manage delegated operations (``@voxel51/delegated``) build a
``DelegatedOperationPagingParams`` and pass it as ``paging=`` to
``DelegatedOperationService.list_operations``, which reads its fields.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["DelegatedOperationPagingParams", "SortByField", "SortDirection"]


class SortByField(str, enum.Enum):
    """Fields delegated operations can be sorted by."""

    UPDATED_AT = "updated_at"
    QUEUED_AT = "queued_at"
    COMPLETED_AT = "completed_at"
    STARTED_AT = "started_at"
    FAILED_AT = "failed_at"
    SCHEDULED_AT = "scheduled_at"
    OPERATOR = "operator"


class SortDirection(enum.IntEnum):
    ASCENDING = 1
    DESCENDING = -1


class DelegatedOperationPagingParams:
    """Sort field and direction, and how many operations to skip and return."""

    def __init__(
        self,
        sort_by: SortByField | str = SortByField.QUEUED_AT,
        sort_direction: SortDirection | int = SortDirection.DESCENDING,
        skip: int = 0,
        limit: int = 10,
    ) -> None:
        self.sort_by = sort_by
        self.sort_direction = sort_direction
        self.skip = skip
        self.limit = limit

    def __repr__(self) -> str:
        fields: dict[str, Any] = vars(self)
        return f"DelegatedOperationPagingParams({fields})"
