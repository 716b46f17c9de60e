"""The store interface: a flat list of small methods every backend implements as a peer.

A store keeps two things: delegated-operation records (:class:`DelegatedOperationDoc`) and the
key-value entries behind ``ctx.store(name)``. It knows nothing about operators or workers; the
service (:mod:`fiftyone_plugins.operators.delegated`) builds the state machine on top of two
atomic primitives every backend must provide:

- :meth:`DelegatedOperationStore.update` with preconditions (compare-and-set on the run state,
  the worker and the lease), so no update can overwrite a terminal state or a newer claim;
- :meth:`DelegatedOperationStore.claim_next`, which moves the oldest claimable queued operation
  to ``running`` for one worker, so two workers never get the same operation.

The execution store's two compare-and-set primitives
(:meth:`~DelegatedOperationStore.kv_set_if_absent`,
:meth:`~DelegatedOperationStore.kv_compare_and_set`) are atomic the same way; its registry of
stores (:meth:`~DelegatedOperationStore.kv_register_store`, ``kv_stores``, ``kv_drop_stores``)
lives beside the entries.

Values crossing the store are JSON only; nothing is ever pickled. A stored record that cannot
be read back raises :class:`~.records.CorruptRecordError` (a ``StoreError`` naming it) from
``get``/``find``/``update``; ``claim_next`` and ``find_expired_leases`` instead mark it failed
with :func:`~.records.salvage_record` and go on, so one bad record never blocks the queue.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from .kv_records import KEEP, KeyPolicy, KVEntry, KVScope, KVStoreQuery, KVStoreRecord
from .records import DelegatedOperationDoc, ExecutionRunState, SortField, utcnow

__all__ = [
    "KEEP",
    "MAX_QUERY_INT",
    "STORE_SETTING",
    "DelegatedOperationStore",
    "KVEntry",
    "KVScope",
    "KVStoreQuery",
    "KVStoreRecord",
    "KeyPolicy",
    "OperationQuery",
]

#: the setting naming the store, quoted in errors about a malformed store URL
STORE_SETTING = "FIFTYONE_DELEGATED_OPERATION_STORE (config: delegated_operation_store)"

#: the largest ``limit``/``skip`` every backend accepts (SQLite and BSON take 64-bit integers;
#: a page size or offset beyond 32 bits is certainly a mistake)
MAX_QUERY_INT = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class OperationQuery:
    """Which operations to find and in what order.

    Each filter left as ``None`` matches everything; a tuple matches any of its values.
    ``match`` is a case-insensitive substring of the operator URI or the label (of the
    fields in ``match_fields`` only: ``"operator"``, ``"label"``);
    ``schedule_ids`` and ``parent_ids`` select the operations a schedule fired or the children
    of a pipeline or fan-out (``parent_ids=(None,)``: top-level operations only). Ties in the sort
    order keep insertion order (reversed with ``reverse``).
    """

    ids: tuple[str, ...] | None = None
    run_states: tuple[ExecutionRunState, ...] | None = None
    operators: tuple[str, ...] | None = None
    dataset_names: tuple[str, ...] | None = None
    dataset_ids: tuple[str, ...] | None = None
    delegation_targets: tuple[str | None, ...] | None = None
    pinned: bool | None = None
    match: str | None = None
    match_fields: tuple[str, ...] = ("operator", "label")
    schedule_ids: tuple[str, ...] | None = None
    parent_ids: tuple[str | None, ...] | None = None
    sort_by: SortField = SortField.QUEUED_AT
    reverse: bool = False
    limit: int | None = None
    skip: int = 0


class DelegatedOperationStore(abc.ABC):
    """Persists delegated operations and execution-store entries.

    Implementations are peers (memory, SQLite, MongoDB, or a custom class named by a dotted
    path) and must be safe to use from several threads; the SQLite and MongoDB ones are also
    safe across processes. Every method that takes an id expects a valid 24-hex id (the service
    validates ids before calling).
    """

    #: a short name for logs and error messages, e.g. the file or database
    description: str = ""

    #: whether :meth:`update` takes a result already encoded to JSON text (a
    #: :class:`~.records.EncodedResult`, as :func:`~.records.stamped_changes` passes it on);
    #: a store that does not say so is given the plain value (the built-in stores say so,
    #: and so do their subclasses unless they set it back to ``False``)
    accepts_encoded_results: bool = False

    # -- operations ------------------------------------------------------------------------------

    @abc.abstractmethod
    def insert(self, doc: DelegatedOperationDoc) -> DelegatedOperationDoc:
        """Stores a new operation and returns it with its ``id`` assigned."""

    @abc.abstractmethod
    def get(self, op_id: str) -> DelegatedOperationDoc | None:
        """The operation with this id, or None."""

    @abc.abstractmethod
    def find(self, query: OperationQuery) -> list[DelegatedOperationDoc]:
        """The operations matching ``query``, sorted, skipped and limited as it says."""

    @abc.abstractmethod
    def count(self, query: OperationQuery) -> int:
        """How many operations match ``query``'s filters (sort and paging are ignored)."""

    @abc.abstractmethod
    def update(
        self,
        op_id: str,
        changes: Mapping[str, Any],
        *,
        expected_states: Sequence[ExecutionRunState] | None = None,
        expected_worker: str | None = None,
        expected_lease: _dt.datetime | None = None,
    ) -> DelegatedOperationDoc | None:
        """Applies ``changes`` atomically if the preconditions hold; returns the new record.

        Returns None when the operation does not exist or a precondition failed: its run state
        is not in ``expected_states``, its ``worker_id`` is not ``expected_worker``, or its
        ``lease_expires_at`` is not ``expected_lease`` (each checked only when given).
        ``updated_at`` is set to now unless ``changes`` sets it.
        """

    @abc.abstractmethod
    def claim_next(
        self,
        worker_id: str,
        lease_seconds: float,
        *,
        delegation_target: str | None = None,
        operators: Sequence[str] | None = None,
    ) -> DelegatedOperationDoc | None:
        """Atomically moves the oldest queued operation to ``running`` for ``worker_id``.

        Sets ``started_at``, ``worker_id``, ``lease_expires_at = now + lease_seconds`` and
        increments ``attempts``. ``delegation_target`` and ``operators`` restrict which
        operations may be claimed (None: any). Returns None when nothing is claimable.

        A candidate whose stored record is corrupt is never returned nor raised: it is marked
        failed (:func:`~.records.salvage_record`) and the next one is claimed.
        """

    def renew_lease(self, op_id: str, worker_id: str, lease_seconds: float) -> bool:
        """Extends the lease of a running operation held by ``worker_id``; False if it lost it.

        The default is a compare-and-set :meth:`update`; a store may do it more cheaply.
        """
        lease = utcnow() + _dt.timedelta(seconds=lease_seconds)
        done = self.update(
            op_id,
            {"lease_expires_at": lease},
            expected_states=(ExecutionRunState.RUNNING,),
            expected_worker=worker_id,
        )
        return done is not None

    @abc.abstractmethod
    def find_expired_leases(
        self, now: _dt.datetime, limit: int = 100
    ) -> list[DelegatedOperationDoc]:
        """Running operations whose lease ended before ``now``, oldest lease first.

        Corrupt records among them are marked failed (like in :meth:`claim_next`) and left out.
        """

    @abc.abstractmethod
    def delete(
        self, op_id: str, *, expected_states: Sequence[ExecutionRunState] | None = None
    ) -> bool:
        """Deletes one operation if its run state is in ``expected_states`` (when given)."""

    # -- execution store (key-value) -------------------------------------------------------------

    @abc.abstractmethod
    def kv_get(self, scope: KVScope, key: str, now: _dt.datetime) -> tuple[bool, Any]:
        """``(True, value)`` for a key that exists and has not expired, else ``(False, None)``."""

    @abc.abstractmethod
    def kv_set(
        self,
        scope: KVScope,
        key: str,
        value: Any,
        expires_at: _dt.datetime | None,
        *,
        policy: KeyPolicy | str = KeyPolicy.PERSIST,
    ) -> None:
        """Creates or replaces a key; ``value`` is JSON-ready; None ``expires_at`` = forever.

        The key is stored with :func:`~.kv_records.effective_policy` (``evict`` when it
        expires); replacing an unexpired key keeps its ``created_at``.
        """

    @abc.abstractmethod
    def kv_delete(self, scope: KVScope, key: str) -> bool:
        """Removes a key; True if it existed (expired keys count as absent)."""

    @abc.abstractmethod
    def kv_keys(self, scope: KVScope, now: _dt.datetime) -> list[str]:
        """The unexpired keys of a scope, sorted."""

    @abc.abstractmethod
    def kv_clear(self, scope: KVScope) -> int:
        """Removes every key of a scope; returns how many there were."""

    # The primitives below came with the full FiftyOne execution store; a custom store written
    # before them inherits these defaults, which say what it lacks.

    def _lacks(self, method: str) -> NotImplementedError:
        return NotImplementedError(
            f"The delegated-operation store {self!r} does not implement {method}(), which "
            "FiftyOne's execution-store API needs (see docs/delegated.md, Writing a store)"
        )

    def kv_entry(self, scope: KVScope, key: str, now: _dt.datetime) -> KVEntry | None:
        """The unexpired entry of ``key`` (value, times, policy), or None."""
        raise self._lacks("kv_entry")

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
        """Atomically creates ``key`` unless it has an unexpired entry; True if it did."""
        raise self._lacks("kv_set_if_absent")

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
        """Atomically replaces the value of an unexpired ``key`` whose value equals
        ``expected`` (as decoded JSON); True if it did.

        The expiry and the policy are kept unless given (an expiry makes the key ``evict``).
        """
        raise self._lacks("kv_compare_and_set")

    def kv_update(
        self,
        scope: KVScope,
        key: str,
        now: _dt.datetime,
        *,
        expires_at: _dt.datetime | None = KEEP,
        policy: KeyPolicy | str | None = None,
    ) -> bool:
        """Changes the expiry and/or the policy of an unexpired key, leaving its value and
        its policy as they are unless given; True if the key exists."""
        raise self._lacks("kv_update")

    def kv_evict(self, query: KVStoreQuery, now: _dt.datetime) -> int:
        """Removes the evictable entries (``evict`` policy or an expiry) and the ``evict``
        store records of the stores ``query`` selects; returns how many."""
        raise self._lacks("kv_evict")

    def kv_register_store(
        self,
        scope: KVScope,
        metadata: dict[str, Any] | None,
        policy: KeyPolicy | str,
        now: _dt.datetime,
    ) -> KVStoreRecord:
        """Adds the registry record of a store; a ``ValueError`` if it already has one."""
        raise self._lacks("kv_register_store")

    def kv_stores(self, query: KVStoreQuery, now: _dt.datetime) -> list[KVStoreRecord]:
        """The stores ``query`` selects that have a registry record or an unexpired entry,
        sorted by plugin, store name and dataset (no dataset first)."""
        raise self._lacks("kv_stores")

    def kv_drop_stores(self, query: KVStoreQuery) -> int:
        """Removes the entries and the registry records of the stores ``query`` selects;
        returns how many entries and records there were."""
        raise self._lacks("kv_drop_stores")

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to release
        """Releases connections; the store may reopen them lazily if used again."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"
