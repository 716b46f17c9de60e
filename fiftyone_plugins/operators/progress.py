"""Small helpers plugins import from ``fiftyone.operators``: a progress log handler, ``is_new``."""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

__all__ = ["ProgressHandler", "is_new"]


class ProgressHandler(logging.Handler):
    """A logging handler that reports each record as progress of the current operation.

    Attach it to a logger while a long task runs so its messages show as
    ``ctx.set_progress(label=message)``; with ``max_len`` the label is the last ``max_len``
    characters of the message.
    """

    def __init__(
        self,
        ctx: Any,
        logger: logging.Logger | None = None,
        level: int = 0,
        max_len: int | None = None,
    ) -> None:
        super().__init__(level)
        self.ctx = ctx
        self.logger = logger
        self.max_len = max_len

    def emit(self, record: logging.LogRecord) -> None:
        message = self.format(record)
        if self.max_len:
            message = message[-self.max_len :]
        self.ctx.set_progress(label=message)

    def __enter__(self) -> ProgressHandler:
        if self.logger is not None:
            self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.logger is not None:
            self.logger.removeHandler(self)


def is_new(release_date: str | _dt.date | _dt.datetime, days: int = 30) -> bool:
    """Whether ``release_date`` (``"YYYY-MM-DD"`` or a date) is within the last ``days`` days."""
    if isinstance(release_date, str):
        release_date = _dt.datetime.strptime(release_date, "%Y-%m-%d")
    if isinstance(release_date, _dt.datetime):
        release_date = release_date.date()
    return (_dt.date.today() - release_date).days <= days
