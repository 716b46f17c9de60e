"""MongoDB store specifics that need no server: where the database name comes from."""

from __future__ import annotations

import pytest

from fiftyone_plugins.errors import StoreError
from fiftyone_plugins.operators.stores.mongo import DEFAULT_DATABASE, database_from_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mongodb://127.0.0.1:27017", DEFAULT_DATABASE),
        ("mongodb://127.0.0.1:27017/", DEFAULT_DATABASE),
        ("mongodb://u:p@db.example/team_ops?authSource=admin", "team_ops"),
        ("mongodb+srv://cluster.example/ops", "ops"),
    ],
)
def test_database_comes_from_the_uri_path(uri, expected):
    assert database_from_uri(uri) == expected


@pytest.mark.parametrize(
    "uri", ["mongodb://h//ops", "mongodb://h/a/b", "mongodb://h/my.db", "mongodb://h/" + "x" * 64]
)
def test_invalid_database_names_are_refused_naming_the_name(uri):
    with pytest.raises(StoreError, match="Invalid MongoDB database name"):
        database_from_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "mongodb://user:pa55word@h:99999/x",
        "mongodb://[bad/x",
        "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=abc",
        "mongodb://h:port/x",
    ],
)
def test_malformed_uris_are_store_errors_naming_the_setting(uri):
    from fiftyone_plugins.operators.stores import resolve_store
    from fiftyone_plugins.operators.stores.base import OperationQuery

    with pytest.raises(StoreError, match="Invalid MongoDB store URL") as info:
        resolve_store(uri, cached=False).count(OperationQuery())  # no server is contacted
    assert "FIFTYONE_DELEGATED_OPERATION_STORE" in str(info.value)
    assert "pa55word" not in str(info.value) and "\n" not in str(info.value)
