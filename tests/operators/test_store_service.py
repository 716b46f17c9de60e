"""``ExecutionStoreService``: FiftyOne's calls on stores and keys, over every backend."""

from __future__ import annotations

import datetime as dt

import pytest

from fiftyone_plugins.operators import store_service as service_module
from fiftyone_plugins.operators.store import (
    ExecutionStore,
    ExecutionStoreService,
    KeyDocument,
    KeyPolicy,
    StoreDocument,
)
from fiftyone_plugins.operators.stores import clear_cache, resolve_store

DS = "64b7f0c2a1b2c3d4e5f60718"


@pytest.fixture(autouse=True)
def fresh_stores():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def svc(backend):
    return ExecutionStoreService(backend=backend)


def test_create_get_list_count_has_delete_stores(svc):
    assert svc.list_stores() == [] and svc.count_stores() == 0
    assert svc.get_store("made") is None and not svc.has_store("made")
    doc = svc.create_store("made", metadata={"owner": "me"})
    assert isinstance(doc, StoreDocument) and doc.metadata == {"owner": "me"}
    assert doc.key == "__store__" and doc.policy is KeyPolicy.PERSIST
    with pytest.raises(ValueError, match="already exists"):
        svc.create_store("made")
    svc.set_key("written", "k", 1)  # a store need not be created to exist
    assert svc.list_stores() == ["made", "written"] and svc.count_stores() == 2
    got = svc.get_store("made")
    assert got.metadata == {"owner": "me"} and got.created_at == doc.created_at
    written = svc.get_store("written")
    assert written.metadata == {} and written.created_at is None
    assert svc.has_store("written")
    assert svc.delete_store("made") == 1
    assert svc.delete_store("written") == 1  # its one key
    assert svc.list_stores() == [] and not svc.has_store("written")


def test_keys_round_trip_with_their_documents(svc):
    doc = svc.set_key("s", "k", {"rows": [1, 2]})
    assert isinstance(doc, KeyDocument)
    assert (doc.store_name, doc.key, doc.value) == ("s", "k", {"rows": [1, 2]})
    assert doc.policy is KeyPolicy.PERSIST and doc.expires_at is None
    assert doc.created_at is not None and doc.dataset_id is None and doc.plugin_name is None
    got = svc.get_key("s", "k")
    assert got.value == {"rows": [1, 2]} and got.created_at == doc.created_at
    assert svc.has_key("s", "k") and not svc.has_key("s", "other")
    assert svc.get_key("s", "other") is None
    svc.set_key("s", "a", None)
    assert svc.list_keys("s") == ["a", "k"] and svc.count_keys("s") == 2
    assert svc.delete_key("s", "k") and not svc.delete_key("s", "k")
    assert svc.list_keys("s") == ["a"]


def test_ttl_and_policies(svc, clock):
    assert svc.set_key("s", "ttl", 1, ttl=10, policy="persist").policy is KeyPolicy.EVICT
    assert svc.set_cache_key("s", "cache", 2).policy is KeyPolicy.EVICT
    assert svc.set_key("s", "keep", 3).policy is KeyPolicy.PERSIST
    expires = svc.get_key("s", "ttl").expires_at
    assert dt.timedelta(seconds=9) < expires - clock.now <= dt.timedelta(seconds=10)
    clock.advance(11)
    assert svc.get_key("s", "ttl") is None and not svc.has_key("s", "ttl")
    assert svc.list_keys("s") == ["cache", "keep"]


def test_update_ttl_and_policy(svc, clock):
    svc.set_key("s", "k", "v")
    assert svc.update_ttl("s", "k", 30)
    doc = svc.get_key("s", "k")
    assert doc.value == "v" and doc.expires_at is not None
    assert doc.policy is KeyPolicy.EVICT  # an expiring key is always evictable
    assert svc.update_ttl("s", "k", None) and svc.get_key("s", "k").expires_at is None
    assert svc.update_policy("s", "k", "persist")
    assert svc.get_key("s", "k").policy is KeyPolicy.PERSIST
    assert svc.get_key("s", "k").value == "v"
    assert not svc.update_ttl("s", "missing", 5) and not svc.update_policy("s", "missing", "evict")
    svc.update_ttl("s", "k", 5)
    clock.advance(6)
    assert not svc.has_key("s", "k")


def test_set_if_absent_and_compare_and_set(svc):
    assert svc.set_key_if_absent("s", "lock", "me")
    assert not svc.set_key_if_absent("s", "lock", "you")
    assert svc.get_key("s", "lock").value == "me"
    assert not svc.compare_and_set_key("s", "lock", "you", "them")
    assert svc.compare_and_set_key("s", "lock", "me", "them", ttl=60)
    doc = svc.get_key("s", "lock")
    assert doc.value == "them" and doc.expires_at is not None and doc.policy is KeyPolicy.EVICT
    assert svc.compare_and_set_key("s", "lock", "them", "again")
    assert svc.get_key("s", "lock").expires_at == doc.expires_at  # kept when not given
    assert not svc.compare_and_set_key("s", "absent", None, 1)


def test_clear_cache_removes_evictable_keys_and_stores_of_the_context(svc, backend):
    svc.set_key("a", "keep", 1)
    svc.set_key("a", "ttl", 2, ttl=60)
    svc.set_cache_key("b", "cache", 3)
    svc.create_store("tmp", policy="evict")
    other = ExecutionStoreService(backend=backend, dataset_id=DS)
    other.set_cache_key("a", "cache", 4)
    assert svc.clear_cache("b") == 1
    assert svc.list_keys("a") == ["keep", "ttl"]
    assert svc.clear_cache() == 2  # "ttl" and the store "tmp"
    assert svc.list_keys("a") == ["keep"] and svc.list_stores() == ["a"]
    assert other.list_keys("a") == ["cache"]  # another context


def test_contexts_are_isolated_and_cleanup_empties_one(backend):
    shared = ExecutionStoreService(backend=backend)
    per_ds = ExecutionStoreService(backend=backend, dataset_id=DS)
    plugin = ExecutionStoreService(backend=backend, plugin_name="@org/plugin")
    for i, s in enumerate((shared, per_ds, plugin)):
        s.set_key("cache", "k", i)
    assert [s.get_key("cache", "k").value for s in (shared, per_ds, plugin)] == [0, 1, 2]
    assert per_ds.get_key("cache", "k").dataset_id == DS
    assert plugin.get_key("cache", "k").plugin_name == "@org/plugin"
    per_ds.set_key("second", "k", 1)
    assert per_ds.list_stores() == ["cache", "second"] and shared.list_stores() == ["cache"]
    assert per_ds.cleanup() == 2
    assert (
        per_ds.list_stores() == [] and shared.has_key("cache", "k") and plugin.has_store("cache")
    )


def test_global_calls_span_every_dataset_and_plugin(backend):
    shared = ExecutionStoreService(backend=backend)
    per_ds = ExecutionStoreService(backend=backend, dataset_id=DS)
    plugin = ExecutionStoreService(backend=backend, plugin_name="@org/plugin")
    shared.create_store("cache", metadata={"m": 1})
    per_ds.set_key("cache", "k", 1)
    plugin.set_key("cache", "k", 2)
    plugin.set_key("own", "k", 3)
    assert not per_ds.has_store("own") and per_ds.has_store_global("own")
    docs = shared.list_stores_global()
    assert [(d.plugin_name, d.store_name, d.dataset_id) for d in docs] == [
        (None, "cache", None),
        (None, "cache", DS),
        ("@org/plugin", "cache", None),
        ("@org/plugin", "own", None),
    ]
    assert docs[0].metadata == {"m": 1}
    assert shared.count_stores_global() == 4
    assert shared.delete_store_global("cache") == 3  # a record and two keys
    assert [d.store_name for d in shared.list_stores_global()] == ["own"]
    assert not shared.has_store_global("cache")


def test_ctx_store_and_a_service_for_the_plugin_see_the_same_keys(backend):
    s = ExecutionStore.create("cache", DS, plugin_name="@org/plugin", backend=backend)
    s.set("k", "v")
    svc = ExecutionStoreService(backend=backend, plugin_name="@org/plugin", dataset_id=DS)
    assert svc.get_key("cache", "k").value == "v"
    assert ExecutionStoreService(backend=backend, dataset_id=DS).get_key("cache", "k") is None


def test_invalid_arguments(svc):
    with pytest.raises(ValueError, match="collection_name"):
        ExecutionStoreService(collection_name="mine")
    assert ExecutionStoreService(collection_name="execution_store").backend is not None
    with pytest.raises(ValueError, match="change streams"):
        ExecutionStoreService(notification_service=object())
    with pytest.raises(TypeError, match="repositories are not provided"):
        ExecutionStoreService(repo=object())
    with pytest.raises(ValueError, match="not both"):
        ExecutionStoreService(repo="memory://", backend="memory://")
    with pytest.raises(ValueError, match="plugin_name"):
        ExecutionStoreService(plugin_name="")
    with pytest.raises(ValueError, match="name"):
        svc.set_key("", "k", 1)
    with pytest.raises(ValueError, match="keys"):
        svc.set_key("s", "", 1)
    with pytest.raises(TypeError, match="JSON-serializable"):
        svc.set_key("s", "k", object())
    with pytest.raises(TypeError, match="metadata"):
        svc.create_store("s", metadata={"x": object()})
    for bad in (0, -1, "10", True):
        with pytest.raises(ValueError, match="ttl"):
            svc.set_key("s", "k", 1, ttl=bad)
    with pytest.raises(ValueError, match="new_ttl"):
        svc.update_ttl("s", "k", 0)
    with pytest.raises(ValueError, match="policy"):
        svc.set_key("s", "k", 1, policy="sometimes")
    assert svc.list_stores() == []


def test_notifications_are_not_provided(svc):
    with pytest.raises(ValueError, match="not provided"):
        svc.subscribe("s", lambda message: None)
    with pytest.raises(ValueError, match="not provided"):
        svc.unsubscribe("id")


def test_the_configured_store_is_the_default():
    ExecutionStoreService().set_key("s", "k", 1)
    assert resolve_store("memory://").kv_keys(
        ExecutionStoreService().scope("s"), service_module.utcnow()
    ) == ["k"]


def test_key_document_helpers():
    doc = KeyDocument.from_dict(
        {"store_name": "s", "key": "k", "value": 1, "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert doc.policy is KeyPolicy.EVICT and doc.expires_at.tzinfo is not None
    assert KeyDocument.from_dict({"store_name": "s", "key": "k", "value": 1}).policy is (
        KeyPolicy.PERSIST
    )
    assert doc.to_dict()["policy"] == "evict" and "_id" not in doc.to_dict()
    assert KeyDocument.get_expiration(None) is None
    soon = KeyDocument.get_expiration(60)
    assert soon.microsecond % 1000 == 0 and soon > service_module.utcnow()
