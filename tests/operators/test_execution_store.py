"""``ExecutionStore``: the key-value store behind ``ctx.store(name)``."""

from __future__ import annotations

import pytest

from fiftyone_plugins.operators import store_service as store_module
from fiftyone_plugins.operators.store import ExecutionStore
from fiftyone_plugins.operators.stores import clear_cache, resolve_store


@pytest.fixture(autouse=True)
def fresh_stores():
    clear_cache()
    yield
    clear_cache()


def test_get_set_delete_has_list_clear(backend):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    assert s.get("missing") is None and s.get("missing", 7) == 7
    assert not s.has("k") and s.list_keys() == []
    s.set("k", {"rows": [1, 2, 3]})
    s.set("a", "text")
    assert s.get("k") == {"rows": [1, 2, 3]} and s.has("k")
    assert s.list_keys() == ["a", "k"]
    assert s.delete("k") and not s.delete("k")
    assert s.list_keys() == ["a"]
    s.clear()
    assert s.list_keys() == [] and s.get("a") is None


def test_ttl_hides_expired_keys(backend, clock):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    s.set("short", 1, ttl=10)
    s.set("long", 2, ttl=100)
    s.set("forever", 3)
    clock.advance(11)
    assert s.get("short") is None and not s.has("short")
    assert s.list_keys() == ["forever", "long"]
    clock.advance(100)
    assert s.list_keys() == ["forever"]
    s.set("short", 4, ttl=5)
    assert s.get("short") == 4


def test_scopes_plugin_store_and_dataset(backend):
    plain = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    other_name = ExecutionStore.create("other", plugin_name="@org/plugin", backend=backend)
    other_plugin = ExecutionStore.create("cache", plugin_name="@org/else", backend=backend)
    ds = ExecutionStore.create("cache", "ds1", plugin_name="@org/plugin", backend=backend)
    for i, s in enumerate((plain, other_name, other_plugin, ds)):
        s.set("k", i)
    assert [s.get("k") for s in (plain, other_name, other_plugin, ds)] == [0, 1, 2, 3]
    ds.clear()
    assert plain.get("k") == 0 and ds.get("k") is None


def test_persists_across_instances(tmp_path):
    uri = f"sqlite:///{tmp_path}/kv.db"
    ExecutionStore.create("cache", plugin_name="@org/plugin", backend=uri).set("k", [1])
    clear_cache()
    assert ExecutionStore.create("cache", plugin_name="@org/plugin", backend=uri).get("k") == [1]


def test_uses_the_configured_store_by_default():
    s = ExecutionStore.create("cache", plugin_name="@org/plugin")
    s.set("k", 1)
    assert resolve_store("memory://").kv_keys(s.scope, store_module.utcnow()) == ["k"]
    assert "cache" in repr(s) and "@org/plugin" in repr(s)


def test_invalid_input():
    with pytest.raises(ValueError):
        ExecutionStore.create("", plugin_name="@org/plugin")
    with pytest.raises(ValueError, match="plugin_name"):
        ExecutionStore.create("cache", "@org/plugin")  # the old positional plugin name
    with pytest.raises(ValueError):
        ExecutionStore.create("cache", plugin_name="")
    s = ExecutionStore.create("cache", plugin_name="@org/plugin")
    with pytest.raises(TypeError, match="JSON-serializable"):
        s.set("k", object())
    with pytest.raises(ValueError, match="ttl"):
        s.set("k", 1, ttl=0)
    with pytest.raises(ValueError, match="keys"):
        s.set("", 1)
    assert s.list_keys() == []


def test_fiftyone_signature_positional_dataset_and_shared_namespace(backend):
    s = ExecutionStore.create("cache", "64b7f0c2a1b2c3d4e5f60718", backend=backend)
    assert s.dataset_id == "64b7f0c2a1b2c3d4e5f60718" and s.plugin_name is None
    s.set("k", 1)
    again = ExecutionStore.create("cache", "64b7f0c2a1b2c3d4e5f60718", backend=backend)
    assert again.get("k") == 1  # callers naming no plugin share, as in FiftyOne
    mine = ExecutionStore.create(
        "cache", "64b7f0c2a1b2c3d4e5f60718", plugin_name="@org/plugin", backend=backend
    )
    assert mine.get("k") is None
    assert ExecutionStore.create("cache", None, "persist", "execution_store").list_keys() == []


def test_set_cache_clear_cache_and_default_policy(backend):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    s.set("keep", 1)
    s.set_cache("cached", 2)
    s.set("ttl", 3, ttl=60)
    s.set("explicit", 4, policy="evict")
    s.clear_cache()
    assert s.list_keys() == ["keep"]
    evicting = ExecutionStore.create(
        "other", None, "evict", plugin_name="@org/plugin", backend=backend
    )
    evicting.set("k", 1)
    evicting.set("pinned", 2, policy="persist")
    evicting.clear_cache()
    assert evicting.list_keys() == ["pinned"]
    assert s.list_stores() == ["cache", "other"]


def test_set_if_absent_and_compare_and_set(backend):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    assert s.set_if_absent("lock", "a") and not s.set_if_absent("lock", "b")
    assert s.compare_and_set("lock", "a", "c") and not s.compare_and_set("lock", "a", "d")
    assert s.get("lock") == "c"


def test_clear_removes_the_store_too(backend):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    s._store_service.create_store("cache", metadata={"m": 1})
    s.set("k", 1)
    s.clear()
    assert s.list_keys() == [] and s.list_stores() == []
    assert s._store_service.get_store("cache") is None


def test_update_ttl_update_policy_and_metadata(backend, clock):
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=backend)
    assert s.get_metadata("k") is None
    s.set("k", "v")
    meta = s.get_metadata("k")
    assert set(meta) == {"created_at", "updated_at", "expires_at"}
    assert meta["created_at"] is not None and meta["expires_at"] is None
    s.update_ttl("k", 10)
    assert s.get_metadata("k")["expires_at"] is not None
    s.update_policy("k", "persist")
    s.clear_cache()  # an expiring key is evictable whatever its policy
    assert not s.has("k")
    s.set("k2", "v")
    s.update_ttl("k2", 5)
    clock.advance(6)
    assert s.get("k2") is None and s.count_keys() == 0


def test_subscribe_is_not_provided():
    s = ExecutionStore.create("cache", plugin_name="@org/plugin")
    with pytest.raises(ValueError, match="change streams"):
        s.subscribe(lambda message: None)
    with pytest.raises(ValueError, match="change streams"):
        s.unsubscribe("id")


def test_a_custom_store_of_the_old_contract_still_serves_ctx_store():
    """get/set/has/delete/list_keys/clear need only the old kv_* methods."""
    from fiftyone_plugins.operators.stores.base import DelegatedOperationStore
    from fiftyone_plugins.operators.stores.memory import MemoryStore

    inner = MemoryStore()

    class OldStore(DelegatedOperationStore):
        def kv_get(self, scope, key, now):
            return inner.kv_get(scope, key, now)

        def kv_set(self, scope, key, value, expires_at):  # no policy keyword
            inner.kv_set(scope, key, value, expires_at)

        def kv_delete(self, scope, key):
            return inner.kv_delete(scope, key)

        def kv_keys(self, scope, now):
            return inner.kv_keys(scope, now)

        def kv_clear(self, scope):
            return inner.kv_clear(scope)

    OldStore.__abstractmethods__ = frozenset()  # the operation methods are not used here
    s = ExecutionStore.create("cache", plugin_name="@org/plugin", backend=OldStore())
    s.set("k", 1)
    s.set("t", 2, ttl=60)
    assert s.get("k") == 1 and s.has("t") and s.list_keys() == ["k", "t"]
    assert s.delete("t")
    s.clear()
    assert s.list_keys() == []
    with pytest.raises(NotImplementedError, match="kv_set_if_absent"):
        s.set_if_absent("k", 1)
