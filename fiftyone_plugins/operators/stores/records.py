"""The delegated-operation record and the helpers every store shares.

A record is plain data: JSON-ready through :meth:`DelegatedOperationDoc.to_dict` and rebuilt by
:meth:`DelegatedOperationDoc.from_dict`, which ignores unknown keys and fills missing ones with
defaults, so records written by an older (or newer) version of the library still load. Its run
states and their moves are in :mod:`.states` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...errors import CorruptRecordError, OperationNotFoundError, UnstorableRecordError
from .states import (
    TERMINAL_STATES,
    TRANSITIONS,
    ExecutionRunState,
    SortField,
    claim_changes,
    requeue_changes,
    sources_of,
    states_tuple,
)

# -- ids and times -------------------------------------------------------------------------------

_ID_RE = re.compile(r"^[0-9a-f]{24}$")
_id_lock = threading.Lock()
_id_state: dict[str, Any] = {"pid": None, "random": b"", "counter": 0}


def new_id() -> str:
    """A new 24-hex id laid out like a MongoDB ObjectId (seconds, per-process random, counter).

    Every backend uses this format, so ids look the same whatever the store and sort roughly
    by creation time.
    """
    with _id_lock:
        if _id_state["pid"] != os.getpid():
            _id_state.update(
                pid=os.getpid(),
                random=os.urandom(5),
                counter=int.from_bytes(os.urandom(3), "big"),
            )
        _id_state["counter"] = (_id_state["counter"] + 1) % 0xFFFFFF
        counter = _id_state["counter"]
        rand = _id_state["random"]
    seconds = int(time.time()) & 0xFFFFFFFF
    return (seconds.to_bytes(4, "big") + rand + counter.to_bytes(3, "big")).hex()


def validate_id(op_id: Any) -> str:
    """Returns ``op_id`` normalized, or raises :class:`OperationNotFoundError` if malformed."""
    text = str(op_id).strip().lower() if op_id is not None else ""
    if not _ID_RE.match(text):
        raise OperationNotFoundError(
            f"Invalid operation id {op_id!r}: expected 24 hexadecimal characters",
            op_id=None if op_id is None else str(op_id),
        )
    return text


def utcnow() -> _dt.datetime:
    """The current UTC time, timezone-aware and truncated to milliseconds.

    Milliseconds are what MongoDB keeps, so every backend round-trips timestamps exactly.
    """
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_UTC = _dt.timezone.utc


def to_datetime(value: Any) -> _dt.datetime | None:
    """Parses an ISO string, epoch number or datetime into an aware UTC datetime (or None)."""
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, (int, float)):
        dt = _dt.datetime.fromtimestamp(value, _dt.timezone.utc)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = _dt.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_UTC)
    elif dt.tzinfo is not _UTC:
        dt = dt.astimezone(_UTC)
    micro = dt.microsecond
    return dt if micro % 1000 == 0 else dt.replace(microsecond=micro // 1000 * 1000)


def format_datetime(value: _dt.datetime | None) -> str | None:
    """A fixed-width ISO string (sorts like the time it names), or None."""
    if value is None:
        return None
    if value.tzinfo is None:  # naive times are UTC here, as to_datetime() reads them
        value = value.replace(tzinfo=_UTC)
    elif value.tzinfo is not _UTC:
        value = value.astimezone(_UTC)
    # isoformat() of an aware UTC time: 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00', as strftime
    # would write it, several times faster (records are formatted on every store write)
    return value.isoformat(timespec="microseconds")


def json_copy(value: Any, what: str = "value") -> Any:
    """A deep copy through JSON; a value JSON cannot hold is a clear ``TypeError``."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as e:
        raise TypeError(f"The {what} must be JSON-serializable: {e}") from None


# -- the record ----------------------------------------------------------------------------------

DATETIME_FIELDS = (
    "queued_at",
    "scheduled_at",
    "started_at",
    "completed_at",
    "failed_at",
    "updated_at",
    "lease_expires_at",
    "fire_time",
)


@dataclasses.dataclass
class ExecutionProgress:
    """How far a running operation got: a fraction in ``[0, 1]`` (or None) and a label."""

    progress: float | None = None
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"progress": self.progress, "label": self.label}

    @classmethod
    def from_dict(cls, data: Any) -> ExecutionProgress | None:
        if data is None:
            return None
        if isinstance(data, ExecutionProgress):
            return data
        if isinstance(data, (int, float)):
            return cls(progress=float(data))
        progress = data.get("progress")
        return cls(
            progress=None if progress is None else float(progress),
            label=data.get("label"),
        )

    @property
    def percent(self) -> int | None:
        return None if self.progress is None else int(round(self.progress * 100))


class OperationContext(dict):  # type: ignore[type-arg]
    """A record's stored request: a plain dict that also answers ``.request_params`` and
    ``.params``, as the ``ExecutionContext`` FiftyOne puts on its records does (code such as
    the ``@voxel51/delegated`` plugin reads ``op.context.request_params``)."""

    @property
    def request_params(self) -> dict[str, Any]:
        return self

    @property
    def params(self) -> dict[str, Any]:
        params = self.get("params")
        return params if isinstance(params, dict) else {}


@dataclasses.dataclass
class DelegatedOperationDoc:
    """One delegated operation as stored: what to run, on what, and how it went.

    ``context`` is the serialized request (params, dataset, view, ...), opaque to the store and
    never holding secrets. ``result`` is the operator's JSON-ready return value; ``error`` and
    ``error_trace`` the failure message and traceback.
    """

    operator: str
    id: str | None = None
    label: str | None = None
    delegation_target: str | None = None
    dataset_id: str | None = None
    dataset_name: str | None = None
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_state: ExecutionRunState = ExecutionRunState.QUEUED
    queued_at: _dt.datetime | None = None
    scheduled_at: _dt.datetime | None = None
    started_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    failed_at: _dt.datetime | None = None
    updated_at: _dt.datetime | None = None
    worker_id: str | None = None
    lease_expires_at: _dt.datetime | None = None
    attempts: int = 0
    progress: ExecutionProgress | None = None
    result: Any = None
    error: str | None = None
    error_trace: str | None = None
    pinned: bool = False
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: lineage (None when absent): the schedule and fire time that queued it, its parent
    schedule_id: str | None = None
    fire_time: _dt.datetime | None = None
    parent_id: str | None = None

    # FiftyOne names, so code written against it reads the same
    @property
    def status(self) -> ExecutionRunState:
        return self.run_state

    @property
    def is_terminal(self) -> bool:
        return self.run_state in TERMINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: datetimes as ISO strings, the run state as its value."""
        out = {name: getattr(self, name) for name in _FIELD_NAMES}
        for name in DATETIME_FIELDS:
            value = out[name]
            if value is not None:
                out[name] = format_datetime(value)
        out["run_state"] = ExecutionRunState.parse(out["run_state"]).value
        progress = out["progress"]
        if progress is not None:
            out["progress"] = progress.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DelegatedOperationDoc:
        """Rebuilds a record; unknown keys are ignored and missing ones get defaults."""
        known = _FIELD_SET
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if values.get("id") is None and data.get("_id") is not None:
            values["id"] = str(data["_id"])
        values.setdefault("operator", "")
        for name in DATETIME_FIELDS:
            if name in values:
                values[name] = to_datetime(values[name])
        state = values.get("run_state")
        values["run_state"] = (
            ExecutionRunState.QUEUED if state is None else ExecutionRunState.parse(state)
        )
        values["progress"] = ExecutionProgress.from_dict(values.get("progress"))
        values["context"] = OperationContext(values.get("context") or {})
        values["metadata"] = dict(values.get("metadata") or {})
        values["attempts"] = int(values.get("attempts") or 0)
        values["pinned"] = bool(values.get("pinned", False))
        if values.get("id") is not None:
            values["id"] = str(values["id"])
        return cls(**values)

    def copy(self) -> DelegatedOperationDoc:
        return DelegatedOperationDoc.from_dict(json_copy(self.to_dict(), "operation record"))


def replaced(doc: DelegatedOperationDoc, **changes: Any) -> DelegatedOperationDoc:
    """``dataclasses.replace(doc, **changes)`` for a record, without its per-call field
    introspection (records are copied on every store write)."""
    new = object.__new__(DelegatedOperationDoc)
    values = new.__dict__
    values.update(doc.__dict__)
    values.update(changes)
    return new


def as_returned(doc: DelegatedOperationDoc, **changes: Any) -> DelegatedOperationDoc:
    """``doc`` as a store gives a record back after writing it, without a JSON round trip:
    a new record whose values are normalized as :meth:`DelegatedOperationDoc.from_dict`
    would read them back (times to milliseconds, the state an enum), its ``context`` and
    ``metadata`` copied one level deep (nested values are shared: treat them as read-only);
    ``changes`` (an id) applied first."""
    times: dict[str, Any] = {name: to_datetime(getattr(doc, name)) for name in DATETIME_FIELDS}
    return replaced(
        doc,
        **changes,
        **times,
        run_state=ExecutionRunState.parse(doc.run_state),
        progress=ExecutionProgress.from_dict(doc.progress),
        context=OperationContext(doc.context or {}),
        metadata=dict(doc.metadata or {}),
        attempts=int(doc.attempts or 0),
        pinned=bool(doc.pinned),
    )


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(DelegatedOperationDoc))
_FIELD_SET = frozenset(_FIELD_NAMES)


#: how much of a corrupt record's stored text :func:`salvage_record` keeps
CORRUPT_TEXT_LIMIT = 4000


def _reason(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 200 else text[:197] + "..."


def load_record(op_id: str, where: str, load: Callable[[], Any]) -> DelegatedOperationDoc:
    """``DelegatedOperationDoc.from_dict(load())``, any failure becoming a
    :class:`CorruptRecordError` naming ``op_id`` and the store (``where``)."""
    try:
        data = load()
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object, found {type(data).__name__}")
        doc = DelegatedOperationDoc.from_dict(data)
        if not isinstance(doc.operator, str):
            raise TypeError(f"operator must be a string, not {type(doc.operator).__name__}")
        return doc
    except Exception as e:  # whatever the stored bytes hold, never a raw traceback
        raise CorruptRecordError(op_id, where, _reason(e)) from e


def salvage_record(
    op_id: str, raw: Mapping[str, Any] | None, reason: str, stored_text: str
) -> DelegatedOperationDoc:
    """A valid ``failed`` record built from what can still be read of a corrupt one.

    Each readable field of ``raw`` is kept (operator, label, dataset, times, ...); the error is
    "stored record is corrupt: <reason>" and the traceback field keeps (the start of) the
    record as it was stored, so nothing is lost silently.
    """
    good: dict[str, Any] = {}
    known = {f.name for f in dataclasses.fields(DelegatedOperationDoc)} - {"id"}
    for key, value in (raw or {}).items():
        if key not in known:
            continue
        try:
            candidate = DelegatedOperationDoc.from_dict({**good, key: value})
            json.dumps(candidate.to_dict())
        except Exception:  # the unreadable fields are the ones dropped
            continue
        good[key] = value
    doc = DelegatedOperationDoc.from_dict(good)
    if not isinstance(doc.operator, str):
        doc.operator = str(doc.operator)
    now = utcnow()
    doc.id = op_id
    doc.run_state = ExecutionRunState.FAILED
    doc.failed_at = now
    doc.updated_at = now
    doc.lease_expires_at = None
    doc.error = f"stored record is corrupt: {reason}"
    text = (
        stored_text
        if len(stored_text) <= CORRUPT_TEXT_LIMIT
        else (stored_text[:CORRUPT_TEXT_LIMIT] + "...")
    )
    doc.error_trace = f"The stored record could not be read. As stored:\n{text}"
    return doc


#: The fields an update may change (``id`` never changes).
UPDATABLE_FIELDS = frozenset(f.name for f in dataclasses.fields(DelegatedOperationDoc)) - {"id"}


def preconditions_hold(
    doc: DelegatedOperationDoc,
    expected_states: Sequence[ExecutionRunState] | None = None,
    expected_worker: str | None = None,
    expected_lease: _dt.datetime | None = None,
) -> bool:
    """Whether ``doc`` is as a compare-and-set update expects (``None``: anything goes); the
    check stores that read and write in one transaction share."""
    return (
        (expected_states is None or doc.run_state in expected_states)
        and (expected_worker is None or doc.worker_id == expected_worker)
        and (expected_lease is None or doc.lease_expires_at == expected_lease)
    )


def stamped_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """What an update writes: :func:`normalize_changes`, ``updated_at`` set (unless given),
    and the result copied as JSON (refusing what JSON cannot hold)."""
    values = normalize_changes(changes)
    values.setdefault("updated_at", utcnow())
    if "result" in values:
        values["result"] = encode_result(values["result"])
    return values


def encode_result(value: Any) -> Any:
    """The JSON copy of an operation's result that a store keeps; a value JSON cannot hold
    is an :class:`~fiftyone_plugins.errors.UnstorableRecordError` (also a ``TypeError``).

    A value already encoded (a :class:`EncodedResult`) is taken as it is: a result is
    serialized once on its way to the store.
    """
    if isinstance(value, EncodedResult):
        return value
    try:
        return EncodedResult(json.dumps(value))
    except (TypeError, ValueError) as e:
        raise UnstorableRecordError(
            f"The operation result must be JSON-serializable: {e}"
        ) from None


class EncodedResult:
    """A result already serialized to JSON text (:func:`encode_result`), with its value
    decoded on demand: stores that keep text write :attr:`text` as it is."""

    __slots__ = ("text", "_value", "_decoded")

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoded = False
        self._value: Any = None

    @property
    def value(self) -> Any:
        if not self._decoded:
            self._value = json.loads(self.text)
            self._decoded = True
        return self._value

    def __repr__(self) -> str:
        return f"EncodedResult({self.text[:40]!r})"


def normalize_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checks an update's field names and coerces its values to the record's types."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown operation field(s): {', '.join(sorted(unknown))}")
    out = dict(changes)
    for name in DATETIME_FIELDS:
        if name in out:
            out[name] = to_datetime(out[name])
    if "run_state" in out:
        out["run_state"] = ExecutionRunState.parse(out["run_state"])
    if "progress" in out:
        out["progress"] = ExecutionProgress.from_dict(out["progress"])
    return out


def apply_changes(doc: DelegatedOperationDoc, changes: Mapping[str, Any]) -> DelegatedOperationDoc:
    """``doc`` (a record the caller owns, e.g. just decoded) with normalized ``changes``
    applied; an encoded result becomes its value."""
    values = dict(changes)
    result = values.get("result")
    if isinstance(result, EncodedResult):
        values["result"] = result.value
    return replaced(doc, **values)


def matches_text(doc: DelegatedOperationDoc, text: str, fields: Any = None) -> bool:
    """The ``match`` filter: case-insensitive substring of the operator URI or the label."""
    needle = text.lower()
    return any(needle in (getattr(doc, f) or "").lower() for f in fields or ("operator", "label"))


__all__ = [
    "as_returned",
    "replaced",
    "CorruptRecordError",
    "DATETIME_FIELDS",
    "EncodedResult",
    "OperationContext",
    "UPDATABLE_FIELDS",
    "apply_changes",
    "claim_changes",
    "encode_result",
    "format_datetime",
    "json_copy",
    "load_record",
    "matches_text",
    "normalize_changes",
    "preconditions_hold",
    "requeue_changes",
    "salvage_record",
    "sources_of",
    "stamped_changes",
    "states_tuple",
    "to_datetime",
    "DelegatedOperationDoc",
    "ExecutionProgress",
    "ExecutionRunState",
    "SortField",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "new_id",
    "utcnow",
    "validate_id",
]
