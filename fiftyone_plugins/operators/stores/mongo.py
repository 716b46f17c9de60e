"""The MongoDB store: one queue shared by workers on many machines.

The connection comes from ``mongoengine`` (the ``[mongo]`` extra, imported only here and only
when this store is used); queries run on the underlying collections so that every
read-modify-write is a single ``find_one_and_update`` with its preconditions in the filter:
that is what makes claims and state changes atomic across processes and machines.

Ids are ObjectIds; datetimes are BSON dates (millisecond precision, which is what every store
keeps); the opaque JSON parts of a record (``context``, ``result``, ``metadata``) and the
execution-store values are stored as JSON text, so they round-trip exactly whatever keys or
numbers they hold. The database is the URI's path (``mongodb://host/mydb``), by default
``fiftyone_plugins``.

A malformed URI (bad port, host or option) is a :class:`~fiftyone_plugins.errors.StoreError`
naming the setting; a record whose JSON parts cannot be read raises a
:class:`~.records.CorruptRecordError` naming it, except in claims and lease resolution, which
mark it failed.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import bson.errors
import mongoengine
import pymongo
import pymongo.errors
from bson import ObjectId

from ...errors import CorruptRecordError, StoreError, UnstorableRecordError
from .base import STORE_SETTING, DelegatedOperationStore, OperationQuery
from .kv_mongo import MongoKV
from .records import (
    DelegatedOperationDoc,
    EncodedResult,
    ExecutionRunState,
    as_returned,
    claim_changes,
    load_record,
    normalize_changes,
    salvage_record,
    stamped_changes,
    utcnow,
)
from .schedules_mongo import MongoSchedules

__all__ = ["DEFAULT_DATABASE", "MongoStore", "database_from_uri"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = "fiftyone_plugins"
_JSON_FIELDS = ("context", "result", "metadata")
_aliases = itertools.count()


#: characters MongoDB refuses in database names
_BAD_DATABASE_CHARS = set('/\\. "$')


def database_from_uri(uri: str) -> str:
    """The database named by the URI's path, or :data:`DEFAULT_DATABASE`.

    The name is checked here because the driver would otherwise use the raw path (with any
    extra slash) and fail later with a message that does not say where the name came from.
    """
    try:
        path = urlsplit(uri).path
    except ValueError as e:  # e.g. "Invalid IPv6 URL"
        raise _invalid_uri(uri, e) from e
    name = path[1:] if path.startswith("/") else path
    if not name:
        return DEFAULT_DATABASE
    bad = sorted(_BAD_DATABASE_CHARS.intersection(name))
    if bad or len(name) > 63:
        reason = f"it contains {''.join(bad)!r}" if bad else "it is longer than 63 characters"
        raise StoreError(
            f"Invalid MongoDB database name {name!r} in the delegated-operation store URI: "
            f"{reason}; use mongodb://host:port/<database>"
        )
    return name


def _invalid_uri(uri: str, error: BaseException) -> StoreError:
    reason = str(error)
    userinfo = re.search(r"//([^@/]*)@", uri)
    if userinfo:  # the driver's message may quote the credentials
        secrets = {userinfo.group(1), *userinfo.group(1).split(":")[1:]} - {""}
        for secret in sorted(secrets, key=len, reverse=True):
            reason = reason.replace(secret, "***")
    return StoreError(
        f"Invalid MongoDB store URL {MongoStore._redacted(uri)!r} in {STORE_SETTING}: {reason}"
    )


def _to_mongo(values: Mapping[str, Any], *, omit_none: bool = False) -> dict[str, Any]:
    """Record fields (normalized) → BSON-ready values. ``omit_none`` leaves out the ``None``
    fields (most of a new record: a missing field reads back as ``None`` and matches a
    ``None`` filter), so a new document enters neither the sparse lineage indexes nor the
    partial lease index; a ``$set`` keeps them, to clear what it names."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            if omit_none:
                continue
        elif isinstance(value, EncodedResult):
            value = value.text
        elif name in _JSON_FIELDS:
            value = json.dumps(value)
        elif isinstance(value, ExecutionRunState):
            value = value.value
        elif name == "progress" and value is not None:
            value = value.to_dict()
        out[name] = value
    return out


#: the lease index of earlier releases, over every operation; replaced by :func:`_lease_index`
_OLD_LEASE_INDEX = "run_state_1_lease_expires_at_1"


def _lease_index(ops: Any) -> None:
    """The index of :meth:`MongoStore.find_expired_leases`: partial (operations holding a
    lease, a date), so queueing and finishing never write it. It replaces the full index of
    earlier releases, dropped here (another process may have dropped it first)."""
    ops.create_index(
        [("lease_expires_at", 1), ("run_state", 1)],
        name="leased",
        partialFilterExpression={"lease_expires_at": {"$type": "date"}},
    )
    if _OLD_LEASE_INDEX in ops.index_information():
        with contextlib.suppress(pymongo.errors.OperationFailure):  # already gone
            ops.drop_index(_OLD_LEASE_INDEX)


def _raw_data(raw: Mapping[str, Any], *, lenient: bool = False) -> dict[str, Any]:
    """A stored document as record fields; with ``lenient``, unreadable JSON parts are left out
    instead of raising."""
    data = dict(raw)
    data["id"] = str(data.pop("_id"))
    for name in _JSON_FIELDS:
        if isinstance(data.get(name), str):
            try:
                data[name] = json.loads(data[name])
            except ValueError:
                if not lenient:
                    raise
                del data[name]
    return data


def _stored_text(raw: Mapping[str, Any]) -> str:
    try:
        return json.dumps(dict(raw), default=str, sort_keys=True)
    except (TypeError, ValueError):
        return repr(raw)


class MongoStore(MongoKV, MongoSchedules, DelegatedOperationStore):
    """Operations in ``<db>.delegated_operations``, entries in ``<db>.execution_store`` (and
    the registry of stores in ``<db>.execution_store_registry``, see :mod:`.kv_mongo`)."""

    accepts_encoded_results = True  # a result is written as the text it was encoded to

    def __init__(self, uri: str, database: str | None = None) -> None:
        self.uri = uri
        self.database = database or database_from_uri(uri)
        self.description = f"{self._redacted(uri)} (database {self.database})"
        self._lock = threading.Lock()
        self._db: Any = None
        self._pair: tuple[Any, Any] = (None, None)
        self._alias: str | None = None
        self._pid: int | None = None

    @staticmethod
    def _redacted(uri: str) -> str:
        return re.sub(r"//[^@/]*@", "//***@", uri)

    def _decode(self, raw: Mapping[str, Any]) -> DelegatedOperationDoc:
        """The record of a stored document (CorruptRecordError if it cannot be read)."""
        return load_record(str(raw.get("_id")), self.description, lambda: _raw_data(raw))

    def _salvage(
        self, raw: Mapping[str, Any], error: CorruptRecordError, spec: Mapping[str, Any]
    ) -> None:
        """Replaces a corrupt document by a failed record if it still matches ``spec``."""
        doc = salvage_record(
            str(raw["_id"]), _raw_data(raw, lenient=True), error.reason, _stored_text(raw)
        )
        data = _to_mongo(normalize_changes({k: v for k, v in vars(doc).items() if k != "id"}))
        with self._errors():
            done = self._ops.replace_one({**spec, "_id": raw["_id"]}, data).matched_count
        if done:
            logger.warning("%s in %s: %s; marked failed", doc.id, self.description, doc.error)

    # -- connection and errors -------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (pymongo.errors.DocumentTooLarge, bson.errors.InvalidDocument) as e:
            raise UnstorableRecordError(
                f"The delegated-operation store {self.description} refused the data: "
                f"{type(e).__name__}: {e}"
            ) from e
        except pymongo.errors.PyMongoError as e:
            raise StoreError(
                f"The delegated-operation store {self.description} failed: {e}"
            ) from e

    def _collections(self) -> tuple[Any, Any]:
        pair = self._pair
        if pair[0] is not None and self._pid == os.getpid():  # connected: no lock needed
            return pair
        with self._lock:
            if self._db is None or self._pid != os.getpid():
                alias = f"fiftyone_plugins_store_{os.getpid()}_{next(_aliases)}"
                options: dict[str, Any] = {"tz_aware": True, "uuidRepresentation": "standard"}
                if "appname" not in self.uri.lower():
                    # per process, so a forked child never reuses its parent's client
                    options["appname"] = f"fiftyone_plugins:{os.getpid()}"
                if "serverselectiontimeoutms" not in self.uri.lower():
                    options["serverSelectionTimeoutMS"] = 10_000
                try:
                    mongoengine.connect(db=self.database, alias=alias, host=self.uri, **options)
                except (
                    ValueError,  # a bad port or option value
                    TypeError,
                    pymongo.errors.ConfigurationError,  # includes InvalidURI
                    mongoengine.connection.ConnectionFailure,
                ) as e:
                    with contextlib.suppress(Exception):
                        mongoengine.disconnect(alias=alias)
                    raise _invalid_uri(self.uri, e) from e
                with self._errors():
                    db = mongoengine.connection.get_db(alias)
                    ops, kv = db["delegated_operations"], db["execution_store"]
                    ops.create_index([("run_state", 1), ("queued_at", 1), ("_id", 1)])
                    _lease_index(ops)
                    kv.create_index(
                        [("plugin_name", 1), ("store_name", 1), ("dataset_id", 1), ("key", 1)],
                        unique=True,
                    )
                    kv.create_index("expires_at", expireAfterSeconds=0)
                self._db, self._alias, self._pid = db, alias, os.getpid()
                self._pair = (ops, kv)  # pymongo builds a new Collection on every db[name]
            return self._pair

    @property
    def _ops(self) -> Any:
        return self._collections()[0]

    @property
    def _kv(self) -> Any:
        return self._collections()[1]

    def _sibling(self, name: str, prepare: Callable[[Any], None]) -> Any:
        """Collection ``name`` of the store's database, ``prepare(collection)`` (its indexes)
        run once per connection; kept, as pymongo builds a new object on every ``db[name]``."""
        db = self._collections()[0].database
        siblings: dict[str, Any] = self.__dict__.setdefault("_siblings", {})
        collection = siblings.get(name)
        if collection is None or collection.database is not db:
            collection = db[name]
            with self._errors():
                prepare(collection)
            siblings[name] = collection
        return collection

    def close(self) -> None:
        with self._lock:
            if self._alias is not None and self._pid == os.getpid():
                with contextlib.suppress(Exception):
                    mongoengine.disconnect(alias=self._alias)
            self._db = self._alias = None
            self._pair = (None, None)

    def drop(self) -> None:
        """Drops this store's database (used by tests)."""
        with self._errors():
            self._ops.database.client.drop_database(self.database)

    # -- operations ------------------------------------------------------------------------------

    def insert(self, doc: DelegatedOperationDoc) -> DelegatedOperationDoc:
        oid = ObjectId(doc.id) if doc.id else ObjectId()
        new = as_returned(doc, id=str(oid))  # its values normalized already
        data = _to_mongo(vars(new), omit_none=True)
        data["_id"] = oid  # in place of the record's "id"
        del data["id"]
        with self._errors():
            try:
                self._ops.insert_one(data)
            except pymongo.errors.DuplicateKeyError as e:
                raise ValueError(f"An operation with id {new.id} already exists") from e
        return new

    def get(self, op_id: str) -> DelegatedOperationDoc | None:
        with self._errors():
            raw = self._ops.find_one({"_id": ObjectId(op_id)})
        return None if raw is None else self._decode(raw)

    @staticmethod
    def _filter(q: OperationQuery) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if q.ids is not None:
            spec["_id"] = {"$in": [ObjectId(i) for i in q.ids]}
        if q.run_states is not None:
            spec["run_state"] = {"$in": [s.value for s in q.run_states]}
        for field, values in (
            ("operator", q.operators),
            ("dataset_name", q.dataset_names),
            ("dataset_id", q.dataset_ids),
            ("delegation_target", q.delegation_targets),
            ("schedule_id", q.schedule_ids),
            ("parent_id", q.parent_ids),
        ):
            if values is not None:
                spec[field] = {"$in": list(values)}
        if q.pinned is not None:
            spec["pinned"] = q.pinned
        if q.match:
            pattern = {"$regex": re.escape(q.match), "$options": "i"}
            spec["$or"] = [{field: pattern} for field in q.match_fields] or [{"_id": None}]
        return spec

    def find(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        direction = pymongo.DESCENDING if query.reverse else pymongo.ASCENDING
        if query.limit == 0:  # MongoDB reads a limit of 0 as "no limit"
            return []
        with self._errors():
            cursor = self._ops.find(
                self._filter(query),
                sort=[(query.sort_by.value, direction), ("_id", direction)],
                skip=query.skip,
                limit=query.limit or 0,
            )
            raws = list(cursor)
        return [self._decode(raw) for raw in raws]

    def count(self, query: OperationQuery) -> int:
        with self._errors():
            return int(self._ops.count_documents(self._filter(query)))

    def update(
        self,
        op_id: str,
        changes: Mapping[str, Any],
        *,
        expected_states: Sequence[ExecutionRunState] | None = None,
        expected_worker: str | None = None,
        expected_lease: _dt.datetime | None = None,
    ) -> DelegatedOperationDoc | None:
        values = stamped_changes(changes)
        spec: dict[str, Any] = {"_id": ObjectId(op_id)}
        if expected_states is not None:
            spec["run_state"] = {"$in": [s.value for s in expected_states]}
        if expected_worker is not None:
            spec["worker_id"] = expected_worker
        if expected_lease is not None:
            spec["lease_expires_at"] = expected_lease
        with self._errors():
            raw = self._ops.find_one_and_update(
                spec,
                {"$set": _to_mongo(values)},
                return_document=pymongo.ReturnDocument.AFTER,
            )
        return None if raw is None else self._decode(raw)

    def claim_next(
        self,
        worker_id: str,
        lease_seconds: float,
        *,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
    ) -> DelegatedOperationDoc | None:
        spec: dict[str, Any] = {"run_state": ExecutionRunState.QUEUED.value}
        if delegation_target is not None:
            spec["delegation_target"] = delegation_target
        if operators is not None:
            spec["operator"] = {"$in": list(operators)}
        while True:  # each corrupt claim is failed, so the loop ends
            changes = _to_mongo(claim_changes(worker_id, lease_seconds, utcnow()))
            with self._errors():
                raw = self._ops.find_one_and_update(
                    spec,
                    {"$set": changes, "$inc": {"attempts": 1}},
                    sort=[("queued_at", pymongo.ASCENDING), ("_id", pymongo.ASCENDING)],
                    return_document=pymongo.ReturnDocument.AFTER,
                )
            if raw is None:
                return None
            try:
                return self._decode(raw)
            except CorruptRecordError as e:
                running = ExecutionRunState.RUNNING.value
                self._salvage(raw, e, {"run_state": running, "worker_id": worker_id})

    def renew_lease(self, op_id: str, worker_id: str, lease_seconds: float) -> bool:
        now = utcnow()
        with self._errors():
            result = self._ops.update_one(
                {
                    "_id": ObjectId(op_id),
                    "run_state": ExecutionRunState.RUNNING.value,
                    "worker_id": worker_id,
                },
                {
                    "$set": {
                        "lease_expires_at": now + _dt.timedelta(seconds=lease_seconds),
                        "updated_at": now,
                    }
                },
            )
        return bool(result.matched_count)

    def find_expired_leases(
        self, now: _dt.datetime, limit: int = 100
    ) -> list[DelegatedOperationDoc]:
        with self._errors():
            cursor = self._ops.find(
                {
                    "run_state": ExecutionRunState.RUNNING.value,
                    # "$type": the partial lease index's condition, which lets it serve
                    "lease_expires_at": {"$type": "date", "$lt": now},
                },
                sort=[("lease_expires_at", pymongo.ASCENDING)],
                limit=limit,
            )
            raws = list(cursor)
        docs = []
        for raw in raws:
            try:
                docs.append(self._decode(raw))
            except CorruptRecordError as e:  # unless it changed since the read
                spec = {
                    "run_state": ExecutionRunState.RUNNING.value,
                    "lease_expires_at": raw.get("lease_expires_at"),
                    "updated_at": raw.get("updated_at"),
                }
                self._salvage(raw, e, spec)
        return docs

    def delete(
        self, op_id: str, *, expected_states: Sequence[ExecutionRunState] | None = None
    ) -> bool:
        spec: dict[str, Any] = {"_id": ObjectId(op_id)}
        if expected_states is not None:
            spec["run_state"] = {"$in": [s.value for s in expected_states]}
        with self._errors():
            return bool(self._ops.delete_one(spec).deleted_count)
