"""FiftyOne's ``ExecutionStoreService``: stores and keys of one context, and of every context.

A service works in one *context*: a plugin namespace and a dataset (or none). Its calls that
name a store act on that store of the context; ``cleanup`` removes every store of the
context; the ``*_global`` calls span every dataset and every plugin namespace. The entries
and the registry of stores are those of the configured delegated-operation store (memory,
SQLite or MongoDB), or of the backend passed in.

Keys follow FiftyOne's rules: a value is JSON; ``ttl`` (seconds) makes a key expire and always
makes it ``evict``; ``policy="evict"`` keys, and every key with an expiry, are what
:meth:`ExecutionStoreService.clear_cache` removes. Unlike FiftyOne's MongoDB TTL monitor
(which removes expired keys within about a minute), an expired key is gone at once for every
call. Not provided: change notifications (``subscribe``), which need MongoDB change streams;
they raise as FiftyOne's do when its notification service is disabled.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable
from typing import Any

from .store_models import KeyDocument, StoreDocument
from .stores import DelegatedOperationStore, resolve_store
from .stores.kv_records import KEEP, KeyPolicy, KVScope, KVStoreQuery
from .stores.records import to_datetime, utcnow

__all__ = ["DEFAULT_COLLECTION", "ExecutionStoreService"]

#: the one ``collection_name`` accepted (FiftyOne's collection, which this library replaces
#: by its store backend)
DEFAULT_COLLECTION = "execution_store"

_NO_NOTIFICATIONS = (
    "Execution store change notifications (subscribe/unsubscribe) are not provided by "
    "fiftyone-plugins: they need FiftyOne's MongoDB change streams"
)


def _backend(value: Any) -> DelegatedOperationStore:
    if value is None or isinstance(value, str):
        return resolve_store(value)
    if isinstance(value, DelegatedOperationStore):
        return value
    raise TypeError(
        "An execution store service is backed by a delegated-operation store (an instance or "
        f"a store URL), not {type(value).__name__}: FiftyOne's repositories are not provided"
    )


def _check_ttl(ttl: Any, what: str = "ttl") -> None:
    ok = isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > 0
    if ttl is not None and not ok:
        raise ValueError(f"{what} must be a positive number of seconds, not {ttl!r}")


def _check_value(value: Any, what: str = "values") -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"Execution store {what} must be JSON-serializable: {e}") from None


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"Execution store keys are non-empty strings, not {key!r}")
    return key


class ExecutionStoreService:
    """The stores and keys of one context (a plugin namespace and a dataset).

    ``dataset_id`` (an ``ObjectId`` or its string; None: stores without a dataset) and
    ``plugin_name`` (None: the namespace shared by FiftyOne-style callers; a plugin's name:
    the stores its operators' ``ctx.store(name)`` use) select the context. ``repo`` or
    ``backend`` is the delegated-operation store to use (an instance or a store URL; default:
    the configured one). ``collection_name`` may only name FiftyOne's default collection and
    ``notification_service`` must be None: neither exists here.
    """

    def __init__(
        self,
        repo: DelegatedOperationStore | str | None = None,
        dataset_id: Any = None,
        collection_name: str | None = None,
        notification_service: Any = None,
        *,
        plugin_name: str | None = None,
        backend: DelegatedOperationStore | str | None = None,
    ) -> None:
        if repo is not None and backend is not None:
            raise ValueError("Pass the store as repo or as backend, not both")
        if collection_name not in (None, DEFAULT_COLLECTION):
            raise ValueError(
                f"collection_name={collection_name!r} is not provided: the execution store "
                "lives in the configured delegated-operation store"
            )
        if notification_service is not None:
            raise ValueError(_NO_NOTIFICATIONS)
        if plugin_name is not None and (not isinstance(plugin_name, str) or not plugin_name):
            raise ValueError(f"plugin_name must be a non-empty string or None: {plugin_name!r}")
        self._backend = _backend(backend if repo is None else repo)
        self._dataset_id = None if dataset_id is None or dataset_id == "" else str(dataset_id)
        self._plugin_name = plugin_name

    @property
    def backend(self) -> DelegatedOperationStore:
        """The delegated-operation store holding the entries."""
        return self._backend

    @property
    def dataset_id(self) -> str | None:
        return self._dataset_id

    @property
    def plugin_name(self) -> str | None:
        return self._plugin_name

    def scope(self, store_name: str) -> KVScope:
        """Where the keys of ``store_name`` live in this context."""
        if not isinstance(store_name, str) or not store_name:
            raise ValueError(f"An execution store needs a non-empty name, not {store_name!r}")
        return KVScope(store_name, self._plugin_name or "", self._dataset_id)

    def _context(self, store_name: str | None = None) -> KVStoreQuery:
        names = None if store_name is None else (self.scope(store_name).store_name,)
        return KVStoreQuery(
            plugin_names=(self._plugin_name or "",),
            store_names=names,
            dataset_ids=(self._dataset_id,),
        )

    # -- stores ----------------------------------------------------------------------------------

    def create_store(
        self, store_name: str, metadata: dict[str, Any] | None = None, policy: str = "persist"
    ) -> StoreDocument:
        """Registers ``store_name`` with ``metadata`` (JSON); a ``ValueError`` if it already
        is. A store need not be created to be written to."""
        _check_value(metadata, "store metadata")
        scope = self.scope(store_name)
        record = self._backend.kv_register_store(
            scope, metadata, KeyPolicy.parse(policy), utcnow()
        )
        return StoreDocument.from_record(record)

    def get_store(self, store_name: str) -> StoreDocument | None:
        """The store ``store_name`` (registered or only written to), or None."""
        found = self._backend.kv_stores(self._context(store_name), utcnow())
        return StoreDocument.from_record(found[0]) if found else None

    def list_stores(self) -> list[str]:
        """The names of this context's stores, sorted."""
        return [r.scope.store_name for r in self._backend.kv_stores(self._context(), utcnow())]

    def count_stores(self) -> int:
        return len(self.list_stores())

    def has_store(self, store_name: str) -> bool:
        return self.get_store(store_name) is not None

    def delete_store(self, store_name: str) -> int:
        """Removes the store's keys and registration; returns how many there were. (A custom
        store without a registry has its keys removed.)"""
        if not self._keeps_registry():
            return self._backend.kv_clear(self.scope(store_name))
        return self._backend.kv_drop_stores(self._context(store_name))

    def clear_cache(self, store_name: str | None = None) -> int:
        """Removes the evictable keys (``evict`` policy or an expiry) of one store, or of every
        store of this context, and the stores created with ``policy="evict"``."""
        return self._backend.kv_evict(self._context(store_name), utcnow())

    def cleanup(self) -> int:
        """Removes every store of this context; returns how many keys and records there were."""
        return self._backend.kv_drop_stores(self._context())

    # -- keys ------------------------------------------------------------------------------------

    def _expiry(self, ttl: Any) -> _dt.datetime | None:
        _check_ttl(ttl)
        return None if ttl is None else to_datetime(utcnow() + _dt.timedelta(seconds=ttl))

    def write_key(
        self, store_name: str, key: str, value: Any, ttl: float | None, policy: str | KeyPolicy
    ) -> tuple[KVScope, _dt.datetime | None]:
        """Sets a key without reading it back (what ``ExecutionStore.set`` needs); returns
        where it went and when it expires."""
        scope = self.scope(store_name)
        _check_value(value)
        expires = self._expiry(ttl)
        if KeyPolicy.parse(policy) is KeyPolicy.EVICT and expires is None:
            self._backend.kv_set(scope, _check_key(key), value, None, policy=KeyPolicy.EVICT)
        else:  # the call a store written before policies existed takes
            self._backend.kv_set(scope, _check_key(key), value, expires)
        return scope, expires

    def read_value(self, store_name: str, key: str, default: Any = None) -> Any:
        """The value of ``key`` or ``default``, without its times (what ``ExecutionStore.get``
        needs, and all a store written before the full API provides)."""
        scope = self.scope(store_name)
        found, value = self._backend.kv_get(scope, _check_key(key), utcnow())
        return value if found else default

    def _keeps_registry(self) -> bool:
        overridden = type(self._backend).kv_drop_stores
        return overridden is not DelegatedOperationStore.kv_drop_stores

    def set_key(
        self,
        store_name: str,
        key: str,
        value: Any,
        ttl: float | None = None,
        policy: str = "persist",
    ) -> KeyDocument:
        """Creates or replaces ``key``; ``ttl`` seconds make it expire (and ``evict``)."""
        scope, expires = self.write_key(store_name, key, value, ttl, policy)
        entry = self._backend.kv_entry(scope, key, utcnow())
        if entry is None:  # deleted or expired in between: what was written
            return KeyDocument(
                store_name, key, value, dataset_id=scope.dataset_id, expires_at=expires
            )
        return KeyDocument.from_entry(scope, entry)

    def set_cache_key(
        self, store_name: str, key: str, value: Any, ttl: float | None = None
    ) -> KeyDocument:
        """:meth:`set_key` with ``policy="evict"``."""
        return self.set_key(store_name, key, value, ttl=ttl, policy="evict")

    def set_key_if_absent(
        self,
        store_name: str,
        key: str,
        value: Any,
        ttl: float | None = None,
        policy: str = "persist",
    ) -> bool:
        """Atomically sets ``key`` unless it is set (and unexpired); True if it did."""
        scope = self.scope(store_name)
        _check_value(value)
        expires = self._expiry(ttl)
        return self._backend.kv_set_if_absent(
            scope, _check_key(key), value, expires, utcnow(), policy=KeyPolicy.parse(policy)
        )

    def compare_and_set_key(
        self,
        store_name: str,
        key: str,
        expected: Any,
        value: Any,
        ttl: float | None = None,
        policy: str | None = None,
    ) -> bool:
        """Atomically replaces ``key`` if its value equals ``expected``; True if it did.

        Its expiry and policy are kept unless ``ttl`` or ``policy`` are given.
        """
        scope = self.scope(store_name)
        _check_value(value)
        expires = KEEP if ttl is None else self._expiry(ttl)
        parsed = None if policy is None else KeyPolicy.parse(policy)
        return self._backend.kv_compare_and_set(
            scope, _check_key(key), expected, value, utcnow(), expires_at=expires, policy=parsed
        )

    def has_key(self, store_name: str, key: str) -> bool:
        return self._backend.kv_get(self.scope(store_name), _check_key(key), utcnow())[0]

    def get_key(self, store_name: str, key: str) -> KeyDocument | None:
        """The key's value, times and policy, or None if it is absent or expired."""
        scope = self.scope(store_name)
        entry = self._backend.kv_entry(scope, _check_key(key), utcnow())
        return None if entry is None else KeyDocument.from_entry(scope, entry)

    def delete_key(self, store_name: str, key: str) -> bool:
        """Removes ``key``; True if it was there."""
        return self._backend.kv_delete(self.scope(store_name), _check_key(key))

    def update_ttl(self, store_name: str, key: str, new_ttl: float | None) -> bool:
        """Makes ``key`` expire ``new_ttl`` seconds from now (None: never; the policy is then
        kept). An expiring key is ``evict``, as in :meth:`set_key`. True if the key exists."""
        _check_ttl(new_ttl, "new_ttl")
        scope = self.scope(store_name)
        expires = self._expiry(new_ttl)
        return self._backend.kv_update(scope, _check_key(key), utcnow(), expires_at=expires)

    def update_policy(self, store_name: str, key: str, policy: str) -> bool:
        """Sets the policy of ``key`` (``persist`` or ``evict``); True if the key exists."""
        scope = self.scope(store_name)
        parsed = KeyPolicy.parse(policy)
        return self._backend.kv_update(scope, _check_key(key), utcnow(), policy=parsed)

    def list_keys(self, store_name: str) -> list[str]:
        """The unexpired keys of ``store_name``, sorted."""
        return self._backend.kv_keys(self.scope(store_name), utcnow())

    def count_keys(self, store_name: str) -> int:
        return len(self.list_keys(store_name))

    # -- every context ---------------------------------------------------------------------------

    def has_store_global(self, store_name: str) -> bool:
        """Whether a store of this name exists for any dataset or plugin."""
        query = KVStoreQuery(store_names=(self.scope(store_name).store_name,))
        return bool(self._backend.kv_stores(query, utcnow()))

    def list_stores_global(self) -> list[StoreDocument]:
        """Every store of every dataset and plugin (``plugin_name`` and ``dataset_id`` say
        whose), sorted by plugin, name and dataset."""
        records = self._backend.kv_stores(KVStoreQuery(), utcnow())
        return [StoreDocument.from_record(r) for r in records]

    def count_stores_global(self) -> int:
        return len(self._backend.kv_stores(KVStoreQuery(), utcnow()))

    def delete_store_global(self, store_name: str) -> int:
        """Removes the stores of this name of every dataset and plugin; returns how many keys
        and records there were."""
        query = KVStoreQuery(store_names=(self.scope(store_name).store_name,))
        return self._backend.kv_drop_stores(query)

    # -- not provided ----------------------------------------------------------------------------

    def subscribe(self, store_name: str, callback: Callable[[str], None]) -> str:
        """Not provided (see the module docstring): raises ``ValueError``."""
        raise ValueError(_NO_NOTIFICATIONS)

    def unsubscribe(self, subscription_id: str) -> bool:
        """Not provided (see the module docstring): raises ``ValueError``."""
        raise ValueError(_NO_NOTIFICATIONS)

    def __repr__(self) -> str:
        where = f", dataset_id={self._dataset_id!r}" if self._dataset_id else ""
        return f"ExecutionStoreService(plugin={self._plugin_name!r}{where})"
