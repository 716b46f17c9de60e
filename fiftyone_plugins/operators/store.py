"""``ctx.store(name)``: FiftyOne's ``ExecutionStore``, kept in the delegated-operation store.

This module is also ``fiftyone.operators.store`` for FiftyOne-style code: it exports
:class:`ExecutionStore`, :class:`~.store_service.ExecutionStoreService`,
:class:`~.store_models.KeyDocument`, :class:`~.store_models.StoreDocument` and
:class:`~.stores.kv_records.KeyPolicy`.

**Scoping.** FiftyOne scopes a store by its name and a dataset id. Here a store also belongs
to a *plugin namespace*: ``ctx.store(name)`` uses the operator's plugin, so two plugins
never share (or clear) each other's stores; code that names no plugin
(``ExecutionStore.create(name, dataset_id)``, ``ExecutionStoreService()``) uses one shared
namespace, so such callers see each other's stores as in FiftyOne. ``plugin_name=`` reaches a
plugin's stores from a script; the service's ``*_global`` calls span every namespace.

Values are JSON. A key set with ``ttl`` seconds disappears from every call once it expires
(and is ``evict``, what :meth:`ExecutionStore.clear_cache` removes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .store_models import KeyDocument, StoreDocument
from .store_service import ExecutionStoreService
from .stores import DelegatedOperationStore
from .stores.kv_records import KeyPolicy, KVScope

__all__ = [
    "ExecutionStore",
    "ExecutionStoreService",
    "KeyDocument",
    "KeyPolicy",
    "StoreDocument",
]


def _looks_like_plugin(value: Any) -> bool:
    """Whether a positional ``dataset_id`` is a plugin name, as the old signature took."""
    return isinstance(value, str) and (value.startswith("@") or "/" in value)


class ExecutionStore:
    """A named key-value store of one context (a plugin namespace and a dataset)."""

    def __init__(
        self,
        store_name: str,
        store_service: ExecutionStoreService,
        default_policy: str = "persist",
    ) -> None:
        self._store_service = store_service
        self.scope: KVScope = store_service.scope(store_name)  # validates the name
        self.store_name = store_name
        self._default_policy = KeyPolicy.parse(default_policy)

    @classmethod
    def create(
        cls,
        store_name: str,
        dataset_id: Any = None,
        default_policy: str = "persist",
        collection_name: str | None = None,
        *,
        plugin_name: str | None = None,
        backend: DelegatedOperationStore | str | None = None,
    ) -> ExecutionStore:
        """Opens store ``store_name`` of ``dataset_id`` (None: no dataset) in the namespace of
        ``plugin_name`` (None: the shared one), in ``backend`` (default: the configured)."""
        if plugin_name is None and _looks_like_plugin(dataset_id):
            raise ValueError(
                f"ExecutionStore.create(store_name, {dataset_id!r}): the second argument is "
                "the dataset id, as in FiftyOne; pass the plugin as plugin_name=..."
            )
        service = ExecutionStoreService(
            dataset_id=dataset_id,
            collection_name=collection_name,
            plugin_name=plugin_name,
            backend=backend,
        )
        return cls(store_name, service, default_policy)

    @property
    def plugin_name(self) -> str | None:
        return self._store_service.plugin_name

    @property
    def dataset_id(self) -> str | None:
        return self._store_service.dataset_id

    def list_stores(self) -> list[str]:
        """The names of the stores of this store's context (its plugin and dataset)."""
        return self._store_service.list_stores()

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if it is absent or expired."""
        return self._store_service.read_value(self.store_name, key, default)

    def set(
        self, key: str, value: Any, ttl: float | None = None, policy: str | None = None
    ) -> None:
        """Sets ``key`` to a JSON ``value``, expiring after ``ttl`` seconds (then ``evict``);
        ``policy`` defaults to the store's ``default_policy``."""
        chosen = self._default_policy if policy is None else policy
        self._store_service.write_key(self.store_name, key, value, ttl, chosen)

    def set_cache(self, key: str, value: Any, ttl: float | None = None) -> None:
        """:meth:`set` with ``policy="evict"``."""
        self.set(key, value, ttl=ttl, policy="evict")

    def set_if_absent(
        self, key: str, value: Any, ttl: float | None = None, policy: str | None = None
    ) -> bool:
        """Atomically sets ``key`` unless it is set; True if it did."""
        chosen = self._default_policy if policy is None else policy
        return self._store_service.set_key_if_absent(
            self.store_name, key, value, ttl=ttl, policy=chosen
        )

    def compare_and_set(
        self,
        key: str,
        expected: Any,
        value: Any,
        ttl: float | None = None,
        policy: str | None = None,
    ) -> bool:
        """Atomically replaces ``key`` if its value equals ``expected``; True if it did. The
        expiry and policy are kept unless given."""
        return self._store_service.compare_and_set_key(
            self.store_name, key, expected, value, ttl=ttl, policy=policy
        )

    def delete(self, key: str) -> bool:
        """Removes ``key``; True if it was there."""
        return self._store_service.delete_key(self.store_name, key)

    def has(self, key: str) -> bool:
        """Whether ``key`` is set and unexpired."""
        return self._store_service.has_key(self.store_name, key)

    def clear(self) -> None:
        """Removes every key of this store, and the store itself (as FiftyOne does)."""
        self._store_service.delete_store(self.store_name)

    def clear_cache(self) -> None:
        """Removes this store's evictable keys (``evict`` policy or an expiry)."""
        self._store_service.clear_cache(store_name=self.store_name)

    def update_ttl(self, key: str, new_ttl: float | None) -> None:
        """Makes ``key`` expire ``new_ttl`` seconds from now (None: never)."""
        self._store_service.update_ttl(self.store_name, key, new_ttl)

    def update_policy(self, key: str, policy: str) -> None:
        """Sets the policy of ``key``: ``persist`` or ``evict``."""
        self._store_service.update_policy(self.store_name, key, policy)

    def get_metadata(self, key: str) -> dict[str, Any] | None:
        """``created_at``, ``updated_at`` and ``expires_at`` of ``key``, or None if absent."""
        doc = self._store_service.get_key(self.store_name, key)
        if doc is None:
            return None
        return {
            "created_at": doc.created_at,
            "updated_at": doc.updated_at,
            "expires_at": doc.expires_at,
        }

    def list_keys(self) -> list[str]:
        """The unexpired keys, sorted."""
        return self._store_service.list_keys(self.store_name)

    def count_keys(self) -> int:
        return self._store_service.count_keys(self.store_name)

    def subscribe(self, callback: Callable[[Any], None]) -> str:
        """Not provided (change notifications need MongoDB change streams): ``ValueError``."""
        return self._store_service.subscribe(self.store_name, callback)

    def unsubscribe(self, subscription_id: str) -> bool:
        """Not provided: ``ValueError``."""
        return self._store_service.unsubscribe(subscription_id)

    def __repr__(self) -> str:
        where = f", dataset_id={self.dataset_id!r}" if self.dataset_id else ""
        return f"ExecutionStore({self.store_name!r}, plugin={self.plugin_name!r}{where})"
