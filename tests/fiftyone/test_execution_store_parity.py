"""The same execution-store script on the real FiftyOne (its MongoDB collection) and here.

Every observation a FiftyOne caller can make through ``ExecutionStoreService`` and
``ExecutionStore`` (values, booleans, key and store listings, policies, metadata) must be
the same on both; what this library does differently is in docs/fiftyone.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId

DS = ObjectId("64b7f0c2a1b2c3d4e5f60718")


def _script(service: Callable[[Any], Any], store_class: Any) -> list[Any]:
    s, d = service(None), service(DS)
    seen: list[Any] = []
    note = seen.append
    note(s.set_key("alpha", "k", {"a": [1, 2]}).value)
    note((s.get_key("alpha", "k").value, s.get_key("alpha", "k").policy.value))
    note((s.has_key("alpha", "k"), s.has_key("alpha", "missing"), s.get_key("alpha", "x")))
    ttl = s.set_key("alpha", "t", 1, ttl=60)
    note((ttl.policy.value, s.get_key("alpha", "t").expires_at is not None))
    note(s.set_cache_key("alpha", "c", 2).policy.value)
    note((sorted(s.list_keys("alpha")), s.count_keys("alpha")))
    note((s.set_key_if_absent("alpha", "k", 5), s.set_key_if_absent("alpha", "n", 5)))
    note((s.compare_and_set_key("alpha", "n", 4, 6), s.compare_and_set_key("alpha", "n", 5, 6)))
    note(s.get_key("alpha", "n").value)
    note(s.compare_and_set_key("alpha", "n", 6, 7, ttl=30))
    cas = s.get_key("alpha", "n")
    note((cas.value, cas.policy.value, cas.expires_at is not None))
    note(s.create_store("beta", metadata={"m": 1}).metadata)
    note((s.get_store("beta").metadata, s.has_store("beta"), s.has_store("gamma")))
    note((s.get_store("alpha").store_name, s.get_store("gamma")))
    note((sorted(s.list_stores()), s.count_stores()))
    d.set_key("alpha", "k", "per dataset")
    note((d.get_key("alpha", "k").value, s.get_key("alpha", "k").value, d.list_stores()))
    s.clear_cache("alpha")
    note(sorted(s.list_keys("alpha")))
    note((bool(s.update_ttl("alpha", "k", 30)), s.get_key("alpha", "k").expires_at is not None))
    note((s.delete_key("alpha", "k"), s.delete_key("alpha", "k")))
    note((s.has_store_global("alpha"), s.has_store_global("gamma"), s.count_stores_global()))
    note(sorted((g.store_name, g.dataset_id is None) for g in s.list_stores_global()))
    note((bool(s.delete_store("beta")), s.has_store("beta")))
    d.cleanup()
    note((d.list_stores(), s.list_stores()))
    note((bool(s.delete_store_global("alpha")), s.list_stores(), s.count_stores_global()))

    store = store_class("eps", service(None))
    store.set("a", {"x": 1})
    note((store.get("a"), store.has("a"), store.has("b"), store.get("b")))
    note(sorted(store.get_metadata("a")))
    note(store.get_metadata("a")["expires_at"])
    note((store.set_if_absent("a", 2), store.set_if_absent("b", 2)))
    note((store.compare_and_set("b", 3, 4), store.compare_and_set("b", 2, 4), store.get("b")))
    store.set_cache("c", 3)
    store.set("t", 4, ttl=60)
    store.clear_cache()
    note(sorted(store.list_keys()))
    note((store.delete("a"), store.delete("a"), sorted(store.list_stores())))
    store.clear()
    note((store.list_keys(), store.list_stores()))
    return seen


def test_the_same_script_sees_the_same_on_fiftyone_and_here(fo):
    # (FiftyOne's delete_store fails with its notification service disabled, so it stays on)
    import fiftyone.operators.store as real

    from fiftyone_plugins.operators import store as ours
    from fiftyone_plugins.operators.stores.memory import MemoryStore

    collection = f"parity_{ObjectId()}"  # an empty collection of FiftyOne's database

    def real_service(dataset_id: Any) -> Any:
        return real.ExecutionStoreService(dataset_id=dataset_id, collection_name=collection)

    backend = MemoryStore()

    def our_service(dataset_id: Any) -> Any:
        return ours.ExecutionStoreService(dataset_id=dataset_id, backend=backend)

    expected = _script(real_service, real.ExecutionStore)
    assert _script(our_service, ours.ExecutionStore) == expected
