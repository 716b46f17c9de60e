"""The execution store in the database of :class:`~.mongo.MongoStore`.

Entries are documents of ``<db>.execution_store`` (the value as JSON text, so it round-trips
exactly; a TTL index lets MongoDB remove expired ones, and every read also ignores them);
the registry of stores is ``<db>.execution_store_registry``, unique per plugin, store name
and dataset (``""`` for none). Set-if-absent is an insert the unique index refuses when the
key exists; compare-and-set is an update whose filter holds the value text read just
before, so both are atomic across processes and machines. Entries written before policies
and creation times existed read as :func:`~.kv_records.read_policy` says.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import pymongo.errors

from .kv_records import (
    KEEP,
    KeyPolicy,
    KVEntry,
    KVScope,
    KVStoreQuery,
    KVStoreRecord,
    effective_policy,
    read_policy,
    restamped,
)
from .records import utcnow

__all__ = ["MongoKV"]


def _scope(scope: KVScope) -> dict[str, Any]:
    return {
        "plugin_name": scope.plugin_name,
        "store_name": scope.store_name,
        "dataset_id": scope.dataset_id or "",
    }


def _alive(now: _dt.datetime) -> dict[str, Any]:
    return {"$or": [{"expires_at": None}, {"expires_at": {"$gt": now}}]}


def _filter(query: KVStoreQuery) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if query.plugin_names is not None:
        spec["plugin_name"] = {"$in": list(query.plugin_names)}
    if query.store_names is not None:
        spec["store_name"] = {"$in": list(query.store_names)}
    if query.dataset_ids is not None:
        spec["dataset_id"] = {"$in": [d or "" for d in query.dataset_ids]}
    return spec


def _scope_of(raw: Mapping[str, Any]) -> KVScope:
    return KVScope(raw["store_name"], raw["plugin_name"], raw.get("dataset_id") or None)


def _bson(changes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, KeyPolicy) else v for k, v in changes.items()}


def _index_registry(registry: Any) -> None:
    registry.create_index([("plugin_name", 1), ("store_name", 1), ("dataset_id", 1)], unique=True)


class MongoKV:
    """The execution-store half of :class:`~.mongo.MongoStore` (which provides its ``_kv``
    collection and its ``_errors`` translation)."""

    # provided by MongoStore
    _kv: Any
    _errors: Any
    _sibling: Any

    @property
    def _registry(self) -> Any:
        return self._sibling("execution_store_registry", _index_registry)

    def kv_get(self, scope: KVScope, key: str, now: _dt.datetime) -> tuple[bool, Any]:
        with self._errors():
            raw = self._kv.find_one({**_scope(scope), "key": key, **_alive(now)})
        return (False, None) if raw is None else (True, json.loads(raw["value"]))

    def kv_entry(self, scope: KVScope, key: str, now: _dt.datetime) -> KVEntry | None:
        with self._errors():
            raw = self._kv.find_one({**_scope(scope), "key": key, **_alive(now)})
        if raw is None:
            return None
        expires = raw.get("expires_at")
        return KVEntry(
            key=key,
            value=json.loads(raw["value"]),
            created_at=raw.get("created_at") or raw.get("updated_at"),
            updated_at=raw.get("updated_at"),
            expires_at=expires,
            policy=read_policy(raw.get("policy"), expires),
        )

    def _purge(self, scope: KVScope, key: str, now: _dt.datetime) -> None:
        """Drops an expired entry of ``key`` before MongoDB's TTL monitor gets to it."""
        self._kv.delete_one({**_scope(scope), "key": key, "expires_at": {"$lte": now}})

    def kv_set(
        self,
        scope: KVScope,
        key: str,
        value: Any,
        expires_at: _dt.datetime | None,
        *,
        policy: KeyPolicy | str = KeyPolicy.PERSIST,
    ) -> None:
        text = json.dumps(value)
        now = utcnow()
        fields = {
            "value": text,
            "expires_at": expires_at,
            "updated_at": now,
            "policy": effective_policy(policy, expires_at).value,
        }
        with self._errors():
            self._purge(scope, key, now)
            self._kv.update_one(
                {**_scope(scope), "key": key},
                {"$set": fields, "$setOnInsert": {"created_at": now}},
                upsert=True,
            )

    def kv_set_if_absent(
        self,
        scope: KVScope,
        key: str,
        value: Any,
        expires_at: _dt.datetime | None,
        now: _dt.datetime,
        *,
        policy: KeyPolicy | str = KeyPolicy.PERSIST,
    ) -> bool:
        document = {
            **_scope(scope),
            "key": key,
            "value": json.dumps(value),
            "expires_at": expires_at,
            "created_at": now,
            "updated_at": now,
            "policy": effective_policy(policy, expires_at).value,
        }
        with self._errors():
            self._purge(scope, key, now)
            try:
                self._kv.insert_one(document)
            except pymongo.errors.DuplicateKeyError:
                return False
        return True

    def kv_compare_and_set(
        self,
        scope: KVScope,
        key: str,
        expected: Any,
        value: Any,
        now: _dt.datetime,
        *,
        expires_at: _dt.datetime | None = KEEP,
        policy: KeyPolicy | str | None = None,
    ) -> bool:
        text = json.dumps(value)
        changes = _bson({"value": text, "updated_at": now, **restamped(expires_at, policy)})
        spec = {**_scope(scope), "key": key, **_alive(now)}
        with self._errors():
            raw = self._kv.find_one(spec, {"value": 1})
            if raw is None or json.loads(raw["value"]) != expected:
                return False
            # the text just read is the expectation: a write in between makes this miss
            done = self._kv.update_one(
                {**spec, "_id": raw["_id"], "value": raw["value"]}, {"$set": changes}
            )
        return bool(done.matched_count)

    def kv_update(
        self,
        scope: KVScope,
        key: str,
        now: _dt.datetime,
        *,
        expires_at: _dt.datetime | None = KEEP,
        policy: KeyPolicy | str | None = None,
    ) -> bool:
        spec = {**_scope(scope), "key": key, **_alive(now)}
        changes = _bson(restamped(expires_at, policy))
        with self._errors():
            if not changes:
                return self._kv.count_documents(spec, limit=1) > 0  # type: ignore[no-any-return]
            return bool(self._kv.update_one(spec, {"$set": changes}).matched_count)

    def kv_delete(self, scope: KVScope, key: str) -> bool:
        with self._errors():
            raw = self._kv.find_one_and_delete({**_scope(scope), "key": key})
        if raw is None:
            return False
        expires = raw.get("expires_at")
        return expires is None or expires > utcnow()

    def kv_keys(self, scope: KVScope, now: _dt.datetime) -> list[str]:
        with self._errors():
            cursor = self._kv.find({**_scope(scope), **_alive(now)}, {"key": 1})
            return sorted(raw["key"] for raw in cursor)

    def kv_clear(self, scope: KVScope) -> int:
        with self._errors():
            return int(self._kv.delete_many(_scope(scope)).deleted_count)

    def kv_evict(self, query: KVStoreQuery, now: _dt.datetime) -> int:
        spec = _filter(query)
        evictable = {"$or": [{"expires_at": {"$ne": None}}, {"policy": "evict"}]}
        with self._errors():
            entries = self._kv.delete_many({**spec, **evictable}).deleted_count
            records = self._registry.delete_many({**spec, "policy": "evict"}).deleted_count
        return int(entries) + int(records)

    def kv_register_store(
        self,
        scope: KVScope,
        metadata: dict[str, Any] | None,
        policy: KeyPolicy | str,
        now: _dt.datetime,
    ) -> KVStoreRecord:
        text = json.dumps(metadata)
        parsed = KeyPolicy.parse(policy)
        document = {
            **_scope(scope),
            "metadata": text,
            "policy": parsed.value,
            "created_at": now,
            "updated_at": now,
        }
        with self._errors():
            try:
                self._registry.insert_one(document)
            except pymongo.errors.DuplicateKeyError as e:
                raise ValueError(f"The execution store {scope.store_name!r} already exists") from e
        return KVStoreRecord(scope, json.loads(text), parsed, now, now)

    def kv_stores(self, query: KVStoreQuery, now: _dt.datetime) -> list[KVStoreRecord]:
        spec = _filter(query)
        found: dict[tuple[str, str, str], KVStoreRecord] = {}
        group = {"_id": {"plugin_name": "$plugin_name", "store_name": "$store_name",
                         "dataset_id": "$dataset_id"}}  # fmt: skip
        pipeline = [{"$match": {**spec, **_alive(now)}}, {"$group": group}]
        with self._errors():
            for row in self._kv.aggregate(pipeline):
                scope = _scope_of(row["_id"])
                found[tuple(_scope(scope).values())] = KVStoreRecord(scope, registered=False)
            for raw in self._registry.find(spec):
                scope = _scope_of(raw)
                text = raw.get("metadata")
                found[tuple(_scope(scope).values())] = KVStoreRecord(
                    scope,
                    json.loads(text) if text else None,
                    read_policy(raw.get("policy"), None),
                    raw.get("created_at"),
                    raw.get("updated_at"),
                )
        return [found[k] for k in sorted(found)]

    def kv_drop_stores(self, query: KVStoreQuery) -> int:
        spec = _filter(query)
        with self._errors():
            entries = self._kv.delete_many(spec).deleted_count
            records = self._registry.delete_many(spec).deleted_count
        return int(entries) + int(records)
