"""What FiftyOne's execution-store calls return: :class:`KeyDocument` and :class:`StoreDocument`.

They have FiftyOne's fields, in FiftyOne's order, so code reading ``doc.value``,
``doc.expires_at`` or ``store.metadata`` works unchanged, plus ``plugin_name``: whose store
it is (None for the namespace shared by callers that name no plugin, see
:mod:`fiftyone_plugins.operators.store`). Times are timezone-aware UTC (FiftyOne's are naive
UTC) and dataset ids are strings (FiftyOne's are ``ObjectId``\\ s).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from .stores.kv_records import KeyPolicy, KVEntry, KVScope, KVStoreRecord, read_policy
from .stores.records import to_datetime, utcnow

__all__ = ["STORE_KEY", "KeyDocument", "KeyPolicy", "StoreDocument"]

#: the ``key`` of every :class:`StoreDocument` (FiftyOne keeps a store's record as that key)
STORE_KEY = "__store__"


def _plugin(scope: KVScope) -> str | None:
    return scope.plugin_name or None


@dataclasses.dataclass
class KeyDocument:
    """One key of an execution store: its value, times and eviction policy."""

    store_name: str
    key: str
    value: Any
    _id: Any = None
    dataset_id: str | None = None
    created_at: _dt.datetime | None = dataclasses.field(default_factory=utcnow)
    updated_at: _dt.datetime | None = None
    expires_at: _dt.datetime | None = None
    policy: KeyPolicy = KeyPolicy.PERSIST
    plugin_name: str | None = None

    @staticmethod
    def get_expiration(ttl: float | None) -> _dt.datetime | None:
        """When a key given ``ttl`` seconds now expires (None: never), to the millisecond."""
        if ttl is None:
            return None
        return to_datetime(utcnow() + _dt.timedelta(seconds=ttl))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> KeyDocument:
        """A document from its fields; a missing policy is ``evict`` if it expires."""
        data = {f.name: doc[f.name] for f in dataclasses.fields(cls) if f.name in doc}
        data["policy"] = read_policy(doc.get("policy"), doc.get("expires_at"))
        for name in ("created_at", "updated_at", "expires_at"):
            if name in data:
                data[name] = to_datetime(data[name])
        return cls(**data)

    @classmethod
    def from_entry(cls, scope: KVScope, entry: KVEntry) -> KeyDocument:
        """The document of an entry a backend returned."""
        return cls(
            store_name=scope.store_name,
            key=entry.key,
            value=entry.value,
            dataset_id=scope.dataset_id,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            expires_at=entry.expires_at,
            policy=entry.policy,
            plugin_name=_plugin(scope),
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (the policy as its name), ``_id`` left out."""
        data = dataclasses.asdict(self)
        data.pop("_id", None)
        data["policy"] = self.policy.value
        return data


@dataclasses.dataclass
class StoreDocument(KeyDocument):
    """One execution store: its name, dataset, metadata (``value``) and policy.

    A store that was written to but never created has no metadata and unknown times (None).
    """

    key: str = STORE_KEY
    value: dict[str, Any] | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        """The metadata the store was created with (empty if none)."""
        return self.value or {}

    @classmethod
    def from_record(cls, record: KVStoreRecord) -> StoreDocument:
        """The document of a registry record a backend returned."""
        return cls(
            store_name=record.scope.store_name,
            dataset_id=record.scope.dataset_id,
            value=record.metadata,
            created_at=record.created_at,
            updated_at=record.updated_at,
            policy=record.policy,
            plugin_name=_plugin(record.scope),
        )
