"""The execution-store primitives every backend must provide (memory, SQLite, MongoDB alike):
entries with times and policies, the two compare-and-sets, eviction and the registry."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from fiftyone_plugins.operators.stores.base import DelegatedOperationStore
from fiftyone_plugins.operators.stores.kv_records import KeyPolicy, KVScope, KVStoreQuery
from fiftyone_plugins.operators.stores.records import utcnow

S = KVScope("cache", "@org/plugin")
S_DS = KVScope("cache", "@org/plugin", "ds1")
OTHER = KVScope("cache", "@org/other")
SHARED = KVScope("cache", "")


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def test_entry_carries_times_and_policy(store):
    now = utcnow()
    assert store.kv_entry(S, "k", now) is None
    store.kv_set(S, "k", {"a": 1}, None)
    first = store.kv_entry(S, "k", utcnow())
    assert first.value == {"a": 1} and first.policy is KeyPolicy.PERSIST
    assert first.expires_at is None and first.created_at is not None
    assert first.created_at <= first.updated_at
    store.kv_set(S, "k", 2, later(60), policy="persist")  # an expiry always means evict
    second = store.kv_entry(S, "k", utcnow())
    assert second.value == 2 and second.policy is KeyPolicy.EVICT
    assert second.created_at == first.created_at  # replacing keeps the creation time
    assert second.expires_at is not None and second.expires_at > utcnow()
    store.kv_set(S, "cached", 3, None, policy=KeyPolicy.EVICT)
    assert store.kv_entry(S, "cached", utcnow()).policy is KeyPolicy.EVICT


def test_an_expired_entry_is_gone_and_replaced_as_new(store):
    store.kv_set(S, "k", 1, utcnow() - dt.timedelta(seconds=1))
    assert store.kv_entry(S, "k", utcnow()) is None
    assert store.kv_set_if_absent(S, "k", 2, None, utcnow())
    assert store.kv_get(S, "k", utcnow()) == (True, 2)


def test_set_if_absent(store):
    now = utcnow()
    assert store.kv_set_if_absent(S, "k", "first", None, now)
    assert not store.kv_set_if_absent(S, "k", "second", None, now)
    assert store.kv_get(S, "k", now) == (True, "first")
    assert store.kv_set_if_absent(S_DS, "k", "per dataset", later(60), now)
    assert store.kv_entry(S_DS, "k", now).policy is KeyPolicy.EVICT
    assert store.kv_get(S, "k", now) == (True, "first")


def test_set_if_absent_has_one_winner_among_threads(store):
    wins: list[int] = []
    barrier = threading.Barrier(6)

    def race(i: int) -> None:
        barrier.wait()
        if store.kv_set_if_absent(S, "lock", i, None, utcnow()):
            wins.append(i)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.kv_get(S, "lock", utcnow()) == (True, wins[0])


def test_compare_and_set(store):
    now = utcnow()
    assert not store.kv_compare_and_set(S, "k", None, 1, now)  # absent never matches
    store.kv_set(S, "k", {"n": 1, "tags": ["a"]}, later(60))
    before = store.kv_entry(S, "k", now)
    assert not store.kv_compare_and_set(S, "k", {"n": 2}, 5, utcnow())
    assert store.kv_get(S, "k", utcnow()) == (True, {"n": 1, "tags": ["a"]})
    assert store.kv_compare_and_set(S, "k", {"tags": ["a"], "n": 1}, {"n": 2}, utcnow())
    after = store.kv_entry(S, "k", utcnow())
    assert after.value == {"n": 2}
    assert after.expires_at == before.expires_at and after.policy is KeyPolicy.EVICT  # kept
    assert store.kv_compare_and_set(S, "k", {"n": 2}, 3, utcnow(), expires_at=None)
    assert store.kv_entry(S, "k", utcnow()).expires_at is None
    assert store.kv_compare_and_set(S, "k", 3, 4, utcnow(), policy="persist")
    assert store.kv_entry(S, "k", utcnow()).policy is KeyPolicy.PERSIST


def test_compare_and_set_of_an_expired_key_fails(store):
    store.kv_set(S, "k", 1, utcnow() - dt.timedelta(seconds=1))
    assert not store.kv_compare_and_set(S, "k", 1, 2, utcnow())
    assert store.kv_get(S, "k", utcnow()) == (False, None)


def test_compare_and_set_counts_each_increment_once(store):
    store.kv_set(S, "n", 0, None)

    def bump() -> None:
        for _ in range(10):
            while True:
                current = store.kv_get(S, "n", utcnow())[1]
                if store.kv_compare_and_set(S, "n", current, current + 1, utcnow()):
                    break

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.kv_get(S, "n", utcnow()) == (True, 40)


def test_update_changes_expiry_and_policy_only(store):
    assert not store.kv_update(S, "missing", utcnow(), expires_at=later(5))
    store.kv_set(S, "k", "v", None)
    assert store.kv_update(S, "k", utcnow())  # nothing to change: it exists
    assert store.kv_update(S, "k", utcnow(), expires_at=later(60))
    entry = store.kv_entry(S, "k", utcnow())
    assert entry.value == "v" and entry.expires_at is not None
    assert entry.policy is KeyPolicy.EVICT
    assert store.kv_update(S, "k", utcnow(), expires_at=None, policy="persist")
    entry = store.kv_entry(S, "k", utcnow())
    assert entry.expires_at is None and entry.policy is KeyPolicy.PERSIST
    assert store.kv_update(S, "k", utcnow(), policy=KeyPolicy.EVICT)
    assert store.kv_entry(S, "k", utcnow()).policy is KeyPolicy.EVICT
    assert store.kv_update(S, "k", utcnow(), expires_at=utcnow() - dt.timedelta(seconds=1))
    assert store.kv_entry(S, "k", utcnow()) is None


def test_evict_removes_only_evictable_entries_and_records(store):
    now = utcnow()
    store.kv_set(S, "keep", 1, None)
    store.kv_set(S, "cache", 2, None, policy="evict")
    store.kv_set(S, "ttl", 3, later(60), policy="persist")
    store.kv_set(S_DS, "cache", 4, None, policy="evict")
    store.kv_register_store(KVScope("tmp", "@org/plugin"), None, "evict", now)
    store.kv_register_store(KVScope("kept", "@org/plugin"), None, "persist", now)
    query = KVStoreQuery(plugin_names=("@org/plugin",), dataset_ids=(None,))
    assert store.kv_evict(query, utcnow()) == 3
    assert store.kv_keys(S, utcnow()) == ["keep"]
    assert store.kv_keys(S_DS, utcnow()) == ["cache"]  # another dataset
    names = [r.scope.store_name for r in store.kv_stores(query, utcnow())]
    assert names == ["cache", "kept"]


def test_registry_lists_registered_and_written_stores(store):
    now = utcnow()
    record = store.kv_register_store(
        KVScope("made", "@org/plugin"), {"owner": "me"}, "persist", now
    )
    assert record.metadata == {"owner": "me"} and record.registered
    with pytest.raises(ValueError, match="already exists"):
        store.kv_register_store(KVScope("made", "@org/plugin"), None, "persist", now)
    store.kv_set(S, "k", 1, None)
    store.kv_set(S_DS, "k", 1, None)
    store.kv_set(OTHER, "k", 1, None)
    store.kv_set(SHARED, "k", 1, None)
    store.kv_set(KVScope("expired", "@org/plugin"), "k", 1, utcnow() - dt.timedelta(seconds=1))
    every = store.kv_stores(KVStoreQuery(), utcnow())
    assert [(r.scope.plugin_name, r.scope.store_name, r.scope.dataset_id) for r in every] == [
        ("", "cache", None),
        ("@org/other", "cache", None),
        ("@org/plugin", "cache", None),
        ("@org/plugin", "cache", "ds1"),
        ("@org/plugin", "made", None),
    ]
    made = every[-1]
    assert made.registered and made.metadata == {"owner": "me"}
    assert made.created_at is not None and made.policy is KeyPolicy.PERSIST
    written = every[2]
    assert not written.registered and written.metadata is None and written.created_at is None
    mine = KVStoreQuery(plugin_names=("@org/plugin",), dataset_ids=("ds1",))
    assert [r.scope for r in store.kv_stores(mine, utcnow())] == [S_DS]
    assert store.kv_stores(KVStoreQuery(store_names=()), utcnow()) == []


def test_drop_stores(store):
    now = utcnow()
    store.kv_register_store(S, {"a": 1}, "persist", now)
    store.kv_set(S, "a", 1, None)
    store.kv_set(S, "b", 2, None)
    store.kv_set(S_DS, "a", 1, None)
    store.kv_set(OTHER, "a", 1, None)
    one = KVStoreQuery(plugin_names=("@org/plugin",), store_names=("cache",), dataset_ids=(None,))
    assert store.kv_drop_stores(one) == 3  # two entries and the record
    assert store.kv_keys(S, utcnow()) == [] and store.kv_stores(one, utcnow()) == []
    assert store.kv_keys(S_DS, utcnow()) == ["a"] and store.kv_keys(OTHER, utcnow()) == ["a"]
    assert store.kv_drop_stores(KVStoreQuery(store_names=("cache",))) == 2
    assert store.kv_stores(KVStoreQuery(), utcnow()) == []


def test_a_custom_store_without_the_new_primitives_says_what_it_lacks():
    abstract = DelegatedOperationStore.__abstractmethods__  # the old contract only
    assert "kv_entry" not in abstract and "kv_set" in abstract

    class OldStore(DelegatedOperationStore):
        pass

    OldStore.__abstractmethods__ = frozenset()  # as if it implemented the old methods
    old = OldStore()
    with pytest.raises(NotImplementedError, match=r"kv_stores\(\)"):
        old.kv_stores(KVStoreQuery(), utcnow())
