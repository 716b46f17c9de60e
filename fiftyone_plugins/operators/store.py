"""``ctx.store(name)``: a small key-value store for operators, kept in the delegated store.

Entries are scoped to a plugin and a store name, and optionally to a dataset; a store without
a dataset works everywhere. Values must be JSON-serializable. A key set with ``ttl`` seconds
disappears from :meth:`ExecutionStore.get`, :meth:`~ExecutionStore.has` and
:meth:`~ExecutionStore.list_keys` once it expires.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from .stores import DelegatedOperationStore, KVScope, resolve_store
from .stores.records import utcnow


class ExecutionStore:
    """A named key-value store of one plugin (and optionally one dataset)."""

    def __init__(self, scope: KVScope, backend: DelegatedOperationStore) -> None:
        self.scope = scope
        self._backend = backend

    @classmethod
    def create(
        cls,
        store_name: str,
        plugin_name: str,
        dataset_id: str | None = None,
        backend: DelegatedOperationStore | str | None = None,
    ) -> ExecutionStore:
        """Opens store ``store_name`` of ``plugin_name`` in ``backend`` (default: configured)."""
        if not store_name or not isinstance(store_name, str):
            raise ValueError("An execution store needs a non-empty name")
        if not plugin_name or not isinstance(plugin_name, str):
            raise ValueError("An execution store needs the name of its plugin")
        if backend is None or isinstance(backend, str):
            backend = resolve_store(backend)
        scope = KVScope(store_name, plugin_name, None if dataset_id is None else str(dataset_id))
        return cls(scope, backend)

    @property
    def store_name(self) -> str:
        return self.scope.store_name

    @property
    def plugin_name(self) -> str:
        return self.scope.plugin_name

    @property
    def dataset_id(self) -> str | None:
        return self.scope.dataset_id

    @staticmethod
    def _check_key(key: str) -> str:
        if not isinstance(key, str) or not key:
            raise ValueError(f"Execution store keys are non-empty strings, not {key!r}")
        return key

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if it is absent or expired."""
        found, value = self._backend.kv_get(self.scope, self._check_key(key), utcnow())
        return value if found else default

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Sets ``key`` to a JSON-serializable ``value``, expiring after ``ttl`` seconds."""
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Execution store values must be JSON-serializable: {e}") from None
        if ttl is not None and ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
        expires = None if ttl is None else utcnow() + _dt.timedelta(seconds=ttl)
        self._backend.kv_set(self.scope, self._check_key(key), value, expires)

    def delete(self, key: str) -> bool:
        """Removes ``key``; True if it was there."""
        return self._backend.kv_delete(self.scope, self._check_key(key))

    def has(self, key: str) -> bool:
        """Whether ``key`` is set and unexpired."""
        return self._backend.kv_get(self.scope, self._check_key(key), utcnow())[0]

    def list_keys(self) -> list[str]:
        """The unexpired keys, sorted."""
        return self._backend.kv_keys(self.scope, utcnow())

    def clear(self) -> None:
        """Removes every key of this store."""
        self._backend.kv_clear(self.scope)

    def __repr__(self) -> str:
        where = f", dataset_id={self.dataset_id!r}" if self.dataset_id else ""
        return f"ExecutionStore({self.store_name!r}, plugin={self.plugin_name!r}{where})"


__all__ = ["ExecutionStore"]
