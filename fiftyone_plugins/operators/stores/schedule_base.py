"""The schedule-store interface: what a backend adds to keep recurring schedules.

Each built-in backend (memory, SQLite, MongoDB) mixes one peer implementation of
:class:`ScheduleStore` into its :class:`~.base.DelegatedOperationStore`, so schedules live in
the same place as the operations they create (the same file, the same database). A custom
store class that does not mix it in simply has no schedules (:func:`schedule_store_of`).

There is no lock and no leader: the only atomic primitive is the compare-and-set of
:meth:`ScheduleStore.update_schedule` on ``next_fire_at``; that "at most one operation per fire
time" holds comes from the operation store's unique id (see
:mod:`fiftyone_plugins.operators.schedules`).
"""

from __future__ import annotations

import abc
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ...errors import ScheduleError
from .schedule_records import ScheduleDoc

__all__ = ["ANY", "ScheduleStore", "schedule_store_of"]


class _Any:
    """The "no expectation" marker of :meth:`ScheduleStore.update_schedule` (None is a value
    ``next_fire_at`` can have)."""

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()


class ScheduleStore(abc.ABC):
    """Persists recurring schedules beside the delegated operations; safe across threads
    (and, for SQLite and MongoDB, across processes)."""

    @abc.abstractmethod
    def insert_schedule(self, doc: ScheduleDoc) -> ScheduleDoc:
        """Stores a new schedule (its ``id`` assigned if missing) and returns a copy."""

    @abc.abstractmethod
    def get_schedule(self, schedule_id: str) -> ScheduleDoc | None:
        """The schedule with this id, or None."""

    @abc.abstractmethod
    def list_schedules(self, *, enabled: bool | None = None) -> list[ScheduleDoc]:
        """Every schedule (or only the enabled or paused ones), oldest first."""

    @abc.abstractmethod
    def due_schedules(self, now: _dt.datetime, limit: int = 1000) -> list[ScheduleDoc]:
        """Enabled schedules whose ``next_fire_at`` is at or before ``now``, earliest first."""

    @abc.abstractmethod
    def update_schedule(
        self,
        schedule_id: str,
        changes: Mapping[str, Any],
        *,
        expected_next_fire_at: _dt.datetime | None = ANY,
        expected_enabled: bool | None = None,
    ) -> ScheduleDoc | None:
        """Applies ``changes`` atomically if the expectations hold; returns the new record.

        ``expected_next_fire_at`` (when given, None included) and ``expected_enabled`` (when
        not None) must match the stored values; None is returned when they do not or the
        schedule does not exist. ``updated_at`` is set to now unless ``changes`` sets it.
        """

    @abc.abstractmethod
    def delete_schedule(self, schedule_id: str) -> bool:
        """Removes a schedule (its operations are kept); True if it existed."""


def schedule_store_of(store: Any) -> ScheduleStore:
    """``store`` as a schedule store, or a :class:`ScheduleError` saying it keeps none."""
    if isinstance(store, ScheduleStore):
        return store
    raise ScheduleError(
        f"The delegated-operation store {store!r} does not keep schedules: use memory://, "
        "sqlite:///... or mongodb://..., or mix ScheduleStore into the custom store class"
    )
