"""Stores of delegated operations and execution-store entries, and the resolver that picks one.

One setting (``FIFTYONE_DELEGATED_OPERATION_STORE`` / config ``delegated_operation_store``)
names the store:

- ``memory://``: one store per process, shared by every service in it;
- ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` (the SQLAlchemy convention), the
  default being a file beside the config file; ``?timeout=S`` sets the busy timeout;
- ``mongodb://host:port/database`` (or ``mongodb+srv://``), needs the ``[mongo]`` extra;
- ``package.module:Class`` or ``package.module.Class``: a custom
  :class:`DelegatedOperationStore` subclass, built with no arguments.

Stores are cached per URL and process, so services created often share one connection. A
malformed URL (bad timeout, port, host or option) is a :class:`StoreError` naming the setting.
"""

from __future__ import annotations

import os
import threading

from ..._dotted import import_object
from ...errors import CorruptRecordError, StoreError
from .base import DelegatedOperationStore, KVScope, OperationQuery
from .records import (
    TERMINAL_STATES,
    DelegatedOperationDoc,
    ExecutionProgress,
    ExecutionRunState,
    SortField,
)

__all__ = [
    "CorruptRecordError",
    "DelegatedOperationDoc",
    "DelegatedOperationStore",
    "ExecutionProgress",
    "ExecutionRunState",
    "KVScope",
    "OperationQuery",
    "SortField",
    "TERMINAL_STATES",
    "clear_cache",
    "resolve_store",
]

_cache: dict[tuple[int, str], DelegatedOperationStore] = {}
_cache_lock = threading.Lock()


def resolve_store(uri: str | None = None, *, cached: bool = True) -> DelegatedOperationStore:
    """Returns the store named by ``uri`` (default: the configured one).

    ``cached=False`` builds a new instance even for a URL seen before (``memory://`` is always
    the process-wide instance).
    """
    if uri is None:
        from ...config import load_config

        uri = load_config().delegated_operation_store
    uri = uri.strip()
    key = (os.getpid(), uri)
    if uri.startswith("memory://"):
        cached = True
    with _cache_lock:
        if cached and key in _cache:
            return _cache[key]
        store = _build(uri)
        if cached:
            _cache[key] = store
        return store


def clear_cache() -> None:
    """Closes and forgets the cached stores (the memory store's content is dropped too)."""
    with _cache_lock:
        stores = list(_cache.values())
        _cache.clear()
    for store in stores:
        store.close()


def _build(uri: str) -> DelegatedOperationStore:
    if uri.startswith("memory://"):
        from .memory import MemoryStore

        return MemoryStore()
    if uri.startswith("sqlite:"):
        from .sqlite import SQLiteStore

        return SQLiteStore.from_uri(uri)
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        try:
            from .mongo import MongoStore
        except ImportError as e:
            raise StoreError(
                f"The MongoDB store needs mongoengine ({e}); "
                "install it with `pip install 'fiftyone-plugins[mongo]'`"
            ) from e
        return MongoStore(uri)
    if "://" in uri or not uri:
        raise StoreError(
            f"Unsupported delegated-operation store {uri!r}: expected memory://, "
            "sqlite:///path, mongodb://... or a dotted path to a store class"
        )
    return _build_custom(uri)


def _build_custom(path: str) -> DelegatedOperationStore:
    cls = import_object(path, "store class", StoreError)
    if not (isinstance(cls, type) and issubclass(cls, DelegatedOperationStore)):
        raise StoreError(f"{path!r} is not a DelegatedOperationStore subclass")
    return cls()
