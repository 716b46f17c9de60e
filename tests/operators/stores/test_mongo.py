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


@pytest.mark.mongo
def test_a_new_operation_enters_no_lease_or_lineage_index_and_leases_use_theirs(mongod_uri):
    """A new document stores no ``None`` field (so the sparse lineage indexes and the partial
    lease index skip it), reads back whole, and the expired-lease query is served by the
    partial index; a collection holding the full lease index of earlier releases loses it."""
    import datetime

    import pymongo
    from _mongod import unique_db_uri

    from fiftyone_plugins.operators.stores.base import OperationQuery
    from fiftyone_plugins.operators.stores.mongo import MongoStore
    from fiftyone_plugins.operators.stores.records import DelegatedOperationDoc, utcnow

    uri = unique_db_uri(mongod_uri)
    client = pymongo.MongoClient(uri)
    ops = client.get_default_database()["delegated_operations"]
    ops.create_index([("run_state", 1), ("lease_expires_at", 1)])  # as earlier releases did
    commands: list = []
    recording = [True]  # the listener stays registered: it records during this test only

    class Listener(pymongo.monitoring.CommandListener):
        def started(self, event):
            if recording:
                commands.append(event.command)

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    pymongo.monitoring.register(Listener())  # seen by clients made from here on
    store = MongoStore(uri)
    try:
        new = store.insert(DelegatedOperationDoc(operator="@o/p/x"))
        raw = ops.find_one({"_id": pymongo.collection.ObjectId(new.id)})
        assert None not in raw.values() and "schedule_id" not in raw
        assert store.get(new.id) == new
        assert [d.id for d in store.find(OperationQuery(schedule_ids=(None,)))] == [new.id]
        commands.clear()
        indexes = ops.index_information()
        assert "run_state_1_lease_expires_at_1" not in indexes
        assert "partialFilterExpression" in indexes["leased"]
        store.claim_next("w", 60)
        later = utcnow() + datetime.timedelta(minutes=2)
        assert [d.id for d in store.find_expired_leases(later)] == [new.id]
        (query,) = [c["filter"] for c in commands if c.get("find") == "delegated_operations"]
        plan = ops.find(query).explain()["queryPlanner"]  # the store's own query
        assert "'leased'" in str(plan)  # a candidate plan (the winner depends on the data)
    finally:
        recording.clear()
        store.drop()
        store.close()
        client.close()
