"""Fixtures shared by the execution-store tests: a store backend of each kind, and a clock.

Registered by ``tests/conftest.py`` (``pytest_plugins``); a test module that defines its own
``backend`` or ``clock`` fixture keeps it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from fiftyone_plugins.operators import store_service


@pytest.fixture(params=["memory", "sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def backend(request, tmp_path):
    """A store URL: memory, a SQLite file, a fresh database of the test ``mongod``."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/kv.db"
    from _mongod import unique_db_uri

    return unique_db_uri(request.getfixturevalue("mongod_uri"), "kv")


class Clock:
    """A controllable ``utcnow`` so TTLs are tested without sleeping."""

    def __init__(self):
        # starts at the real time: backends may purge by the real clock, never ahead of it
        self.now = store_service.utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    """The execution-store service's clock, controlled by the test."""
    fake = Clock()
    monkeypatch.setattr(store_service, "utcnow", fake)
    return fake


__all__ = ["Clock", "backend", "clock"]
