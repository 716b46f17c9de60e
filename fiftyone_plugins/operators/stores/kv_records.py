"""The execution store's data as the backends hand it over: entries, store records, queries.

An *entry* is one key of one scope (:class:`KVScope`: plugin, store name, dataset) with
its JSON value, its times and its eviction policy. A *store record* is the registry's line for
one scope: what :meth:`~.base.DelegatedOperationStore.kv_register_store` wrote (metadata,
policy, times), or, for a scope that only has entries, a record made up from them
(``registered`` False), so a store that was written to exists without being created first.

Policies follow FiftyOne: ``persist`` keys stay until deleted; ``evict`` keys (and every key
with an expiry) are what clearing the cache removes. A key given a TTL is always ``evict``;
an entry stored before policies existed reads as ``evict`` if it expires, else ``persist``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from typing import Any

__all__ = [
    "KEEP",
    "KVEntry",
    "KVScope",
    "KVStoreQuery",
    "KVStoreRecord",
    "KeyPolicy",
    "effective_policy",
    "is_alive",
    "is_evictable",
    "read_policy",
    "restamped",
]


@dataclasses.dataclass(frozen=True)
class KVScope:
    """Where an execution-store key lives: a named store of one plugin, optionally per dataset.

    ``plugin_name`` is ``""`` for the namespace shared by FiftyOne-style callers (an
    ``ExecutionStoreService`` or ``ExecutionStore.create`` not told a plugin).
    """

    store_name: str
    plugin_name: str
    dataset_id: str | None = None


class KeyPolicy(str, enum.Enum):
    """How long a key (or a store record) lives: until deleted, or until the cache is cleared."""

    PERSIST = "persist"
    EVICT = "evict"

    @classmethod
    def parse(cls, value: Any) -> KeyPolicy:
        """A policy from its name (any case) or itself; anything else is a ``ValueError``."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        raise ValueError(f"Invalid key policy {value!r}: expected 'persist' or 'evict'")


class _Keep:
    """The "leave it as it is" marker for an expiry (None is a value: no expiry)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


def effective_policy(policy: KeyPolicy | str, expires_at: _dt.datetime | None) -> KeyPolicy:
    """The policy a key is stored with: ``evict`` whenever it expires."""
    return KeyPolicy.EVICT if expires_at is not None else KeyPolicy.parse(policy)


def read_policy(raw: Any, expires_at: Any) -> KeyPolicy:
    """The policy of a stored entry; entries written before policies existed have none."""
    if raw:
        try:
            return KeyPolicy.parse(raw)
        except ValueError:
            pass
    return KeyPolicy.EVICT if expires_at is not None else KeyPolicy.PERSIST


def is_alive(expires_at: _dt.datetime | None, now: _dt.datetime) -> bool:
    """Whether an entry with this expiry is still there at ``now``."""
    return expires_at is None or expires_at > now


def is_evictable(policy: Any, expires_at: Any) -> bool:
    """Whether clearing the cache removes an entry: ``evict`` policy or any expiry."""
    return expires_at is not None or read_policy(policy, expires_at) is KeyPolicy.EVICT


def restamped(expires_at: Any, policy: KeyPolicy | str | None) -> dict[str, Any]:
    """The fields a compare-and-set or an update changes besides the value: the expiry unless
    it is :data:`KEEP`, the policy if given, and ``evict`` whenever an expiry is set."""
    changes: dict[str, Any] = {}
    if expires_at is not KEEP:
        changes["expires_at"] = expires_at
    if policy is not None:
        changes["policy"] = KeyPolicy.parse(policy)
    if expires_at is not KEEP and expires_at is not None:
        changes["policy"] = KeyPolicy.EVICT
    return changes


@dataclasses.dataclass
class KVEntry:
    """One unexpired key as a backend reads it."""

    key: str
    value: Any
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    expires_at: _dt.datetime | None = None
    policy: KeyPolicy = KeyPolicy.PERSIST


@dataclasses.dataclass
class KVStoreRecord:
    """One store of the registry: its scope, metadata and times.

    ``registered`` is False for a scope that has entries but was never created with
    :meth:`~.base.DelegatedOperationStore.kv_register_store` (its times and metadata are then
    unknown: None).
    """

    scope: KVScope
    metadata: dict[str, Any] | None = None
    policy: KeyPolicy = KeyPolicy.PERSIST
    created_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    registered: bool = True


@dataclasses.dataclass(frozen=True)
class KVStoreQuery:
    """Which stores a registry call concerns; each filter left as None matches everything.

    ``dataset_ids`` may hold None (stores without a dataset).
    """

    plugin_names: tuple[str, ...] | None = None
    store_names: tuple[str, ...] | None = None
    dataset_ids: tuple[str | None, ...] | None = None

    def matches(self, scope: KVScope) -> bool:
        """Whether ``scope`` is one of the stores this query selects."""
        if self.plugin_names is not None and scope.plugin_name not in self.plugin_names:
            return False
        if self.store_names is not None and scope.store_name not in self.store_names:
            return False
        dataset = scope.dataset_id or None
        return self.dataset_ids is None or dataset in self.dataset_ids
