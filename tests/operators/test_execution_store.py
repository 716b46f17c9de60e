"""``ExecutionStore``: the key-value store behind ``ctx.store(name)``."""

from __future__ import annotations

import datetime as dt

import pytest

from fiftyone_plugins.operators import store as store_module
from fiftyone_plugins.operators.store import ExecutionStore
from fiftyone_plugins.operators.stores import clear_cache, resolve_store


@pytest.fixture(autouse=True)
def fresh_stores():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(params=["memory", "sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def backend(request, tmp_path):
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
        self.now = store_module.utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(store_module, "utcnow", fake)
    return fake


def test_get_set_delete_has_list_clear(backend):
    s = ExecutionStore.create("cache", "@org/plugin", backend=backend)
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
    s = ExecutionStore.create("cache", "@org/plugin", backend=backend)
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
    plain = ExecutionStore.create("cache", "@org/plugin", backend=backend)
    other_name = ExecutionStore.create("other", "@org/plugin", backend=backend)
    other_plugin = ExecutionStore.create("cache", "@org/else", backend=backend)
    ds = ExecutionStore.create("cache", "@org/plugin", dataset_id="ds1", backend=backend)
    for i, s in enumerate((plain, other_name, other_plugin, ds)):
        s.set("k", i)
    assert [s.get("k") for s in (plain, other_name, other_plugin, ds)] == [0, 1, 2, 3]
    ds.clear()
    assert plain.get("k") == 0 and ds.get("k") is None


def test_persists_across_instances(tmp_path):
    uri = f"sqlite:///{tmp_path}/kv.db"
    ExecutionStore.create("cache", "@org/plugin", backend=uri).set("k", [1])
    clear_cache()
    assert ExecutionStore.create("cache", "@org/plugin", backend=uri).get("k") == [1]


def test_uses_the_configured_store_by_default():
    s = ExecutionStore.create("cache", "@org/plugin")
    s.set("k", 1)
    assert resolve_store("memory://").kv_keys(s.scope, store_module.utcnow()) == ["k"]
    assert "cache" in repr(s) and "@org/plugin" in repr(s)


def test_invalid_input():
    with pytest.raises(ValueError):
        ExecutionStore.create("", "@org/plugin")
    with pytest.raises(ValueError):
        ExecutionStore.create("cache", "")
    s = ExecutionStore.create("cache", "@org/plugin")
    with pytest.raises(TypeError, match="JSON-serializable"):
        s.set("k", object())
    with pytest.raises(ValueError, match="ttl"):
        s.set("k", 1, ttl=0)
    with pytest.raises(ValueError, match="keys"):
        s.set("", 1)
    assert s.list_keys() == []
