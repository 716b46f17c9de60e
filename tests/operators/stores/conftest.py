"""The backends every contract test runs against: memory, SQLite (a temp file) and a real
MongoDB (see ``tests/_mongod.py``)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fiftyone_plugins.operators.stores.base import DelegatedOperationStore

BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mongo", id="mongo", marks=pytest.mark.mongo),
]


def make_store(kind: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest):
    """A fresh, empty store of the given kind and a finalizer."""
    if kind == "memory":
        from fiftyone_plugins.operators.stores.memory import MemoryStore

        return MemoryStore(), lambda: None
    if kind == "sqlite":
        from fiftyone_plugins.operators.stores.sqlite import SQLiteStore

        store = SQLiteStore(str(tmp_path / "store" / "ops.sqlite"))
        return store, store.close
    from _mongod import unique_db_uri

    from fiftyone_plugins.operators.stores.mongo import MongoStore

    uri = unique_db_uri(request.getfixturevalue("mongod_uri"))
    mongo = MongoStore(uri)

    def finish() -> None:
        mongo.drop()
        mongo.close()

    return mongo, finish


@pytest.fixture(params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> Iterator[DelegatedOperationStore]:
    backend, finish = make_store(request.param, tmp_path, request)
    try:
        yield backend
    finally:
        finish()


def _raw_insert(store: DelegatedOperationStore, data: dict[str, Any]) -> None:
    """Writes a record as an older version might have: straight into the backend."""
    kind = type(store).__name__
    if kind == "MemoryStore":
        store._ops[data["id"]] = dict(data)  # type: ignore[attr-defined]
    elif kind == "SQLiteStore":
        conn = store._conn()  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO delegated_operations (id, operator, run_state, queued_at, data) "
            "VALUES (?, ?, ?, ?, ?)",
            (data["id"], data["operator"], data["run_state"], data.get("queued_at"),
             json.dumps(data)),
        )  # fmt: skip
    else:
        from bson import ObjectId

        raw = {k: v for k, v in data.items() if k != "id"}
        raw["_id"] = ObjectId(data["id"])
        store._ops.insert_one(raw)  # type: ignore[attr-defined]


@pytest.fixture
def raw_insert() -> Callable[[DelegatedOperationStore, dict[str, Any]], None]:
    return _raw_insert


def _corrupt(store: DelegatedOperationStore, op_id: str) -> None:
    """Damages a stored record the way each backend can be damaged: SQLite's JSON ``data``
    column, MongoDB's JSON ``context`` text, a memory dict's value."""
    kind = type(store).__name__
    if kind == "MemoryStore":
        store._ops[op_id]["queued_at"] = "not a date"  # type: ignore[attr-defined]
    elif kind == "SQLiteStore":
        store._conn().execute(  # type: ignore[attr-defined]
            "UPDATE delegated_operations SET data = '{not json' WHERE id = ?", (op_id,)
        )
    else:
        from bson import ObjectId

        store._ops.update_one(  # type: ignore[attr-defined]
            {"_id": ObjectId(op_id)}, {"$set": {"context": "{not json"}}
        )


@pytest.fixture
def corrupt() -> Callable[[DelegatedOperationStore, str], None]:
    return _corrupt
