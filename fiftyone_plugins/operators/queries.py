"""Reading FiftyOne's ways of asking for operations into one :class:`~.stores.OperationQuery`.

FiftyOne's service takes filters as one value or several, ``search={"term": [fields]}`` where
the term is a regular expression (in practice ``.*text.*``), and paging as a
``DelegatedOperationPagingParams`` object; :func:`build_query` and :func:`paging_keywords`
turn all of them into the store's one query type, checking limits once. What a queued
operation stores as its context is shaped by :func:`serialize_context`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .request import without_secrets
from .stores import OperationQuery
from .stores.base import MAX_QUERY_INT
from .stores.records import SortField, json_copy, states_tuple, validate_id

__all__ = [
    "Filter",
    "as_tuple",
    "build_query",
    "lineage_filters",
    "context_value",
    "paging_keywords",
    "search_fields",
    "search_text",
    "serialize_context",
]

#: a filter: one value, several values, or ``None`` for any
Filter = str | Sequence[str] | None


def serialize_context(context: Any) -> dict[str, Any]:
    """The JSON-ready dict stored for ``context``, without any secrets.

    Accepts a dict, an execution context (its :meth:`request_data`), or an object with
    ``to_dict()`` or ``serialize()``; a value JSON cannot hold is a ``TypeError`` naming the
    problem.
    """
    if context is None:
        data: Any = {}
    elif isinstance(context, Mapping):
        data = dict(context)
    elif callable(getattr(context, "request_data", None)):
        data = context.request_data()
    elif callable(getattr(context, "to_dict", None)):
        data = context.to_dict()
    elif callable(getattr(context, "serialize", None)):
        data = context.serialize()
    else:
        raise TypeError(
            f"The operation context must be a dict or have to_dict(), not {type(context).__name__}"
        )
    if not isinstance(data, Mapping):
        raise TypeError("The operation context must serialize to a dict")
    return json_copy(without_secrets(data), "operation context")  # type: ignore[no-any-return]


def context_value(context: Mapping[str, Any], key: str) -> Any:
    if context.get(key) is not None:
        return context[key]
    nested = context.get("request_params")
    return nested.get(key) if isinstance(nested, Mapping) else None


def as_tuple(value: Filter) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def search_text(search: str | Mapping[str, Any] | None) -> str | None:
    """FiftyOne passes ``{"term": [fields]}`` where the term is a regular expression, in
    practice ``.*text.*``; that form becomes the substring ``text``. A plain string is the
    substring itself."""
    if search is None or isinstance(search, str):
        return search or None
    term = next(iter(search), None)
    if not isinstance(term, str):
        return None
    inner = term.removeprefix("^").removesuffix("$")
    while inner.startswith(".*"):
        inner = inner[2:]
    while inner.endswith(".*") and not inner.endswith("\\.*"):
        inner = inner[:-2]
    return re.sub(r"\\(.)", r"\1", inner) or None


#: the fields a search can look in
SEARCH_FIELDS = ("operator", "label")


def search_fields(search: str | Mapping[str, Any] | None) -> tuple[str, ...]:
    """The fields of FiftyOne's ``{"term": [fields]}`` search (a set or list of
    ``"operator"``, ``"label"``); both for a plain string. Any other field is a
    ``ValueError``: this store has no Mongo query language to search arbitrary fields."""
    if not isinstance(search, Mapping) or not search:
        return SEARCH_FIELDS
    fields = next(iter(search.values()))
    if fields is None:
        return SEARCH_FIELDS
    if isinstance(fields, str):
        fields = [fields]
    chosen = tuple(f for f in SEARCH_FIELDS if f in set(fields))
    unknown = sorted(set(fields) - set(SEARCH_FIELDS))
    if unknown:
        raise ValueError(f"cannot search in {', '.join(map(repr, unknown))}")
    return chosen or SEARCH_FIELDS


def paging_keywords(paging: Any) -> dict[str, Any]:
    """FiftyOne's ``DelegatedOperationPagingParams`` (or a dict of its fields) as keywords of
    :meth:`DelegatedOperationService.list_operations`."""
    if paging is None:
        return {}
    get: Callable[[str], Any] = (
        paging.get if isinstance(paging, Mapping) else lambda k: getattr(paging, k, None)
    )
    out: dict[str, Any] = {}
    if get("sort_by") is not None:
        sort_by = get("sort_by")
        out["sort_by"] = getattr(sort_by, "value", sort_by)
    direction = get("sort_direction")
    direction = getattr(direction, "value", direction)
    if direction is not None:
        out["reverse"] = int(direction) < 0
    if get("skip") is not None:
        out["skip"] = int(get("skip"))
    if get("limit") is not None:
        out["limit"] = int(get("limit"))
    return out


def build_query(
    operator: Filter = None,
    dataset_name: Filter = None,
    dataset_id: Filter = None,
    run_state: Any = None,
    delegation_target: Filter = None,
    search: str | Mapping[str, Any] | None = None,
    match: str | None = None,
    pinned: bool | None = None,
    ids: Iterable[str] | None = None,
    sort_by: SortField | str = SortField.QUEUED_AT,
    reverse: bool = False,
    limit: int | None = None,
    skip: int = 0,
) -> OperationQuery:
    """The store query for the service's filter keywords (``limit``/``skip`` checked)."""
    for name, value in (("limit", limit), ("skip", skip)):
        if value is not None and not 0 <= value <= MAX_QUERY_INT:
            raise ValueError(f"{name} must be between 0 and {MAX_QUERY_INT}, not {value}")
    return OperationQuery(
        ids=None if ids is None else tuple(validate_id(i) for i in ids),
        run_states=states_tuple(run_state),
        operators=as_tuple(operator),
        dataset_names=as_tuple(dataset_name),
        dataset_ids=as_tuple(dataset_id),
        delegation_targets=as_tuple(delegation_target),
        pinned=pinned,
        match=match or search_text(search),
        match_fields=search_fields(search),
        sort_by=SortField.parse(sort_by),
        reverse=reverse,
        limit=limit,
        skip=skip,
    )


def lineage_filters(query: OperationQuery, kwargs: dict[str, Any]) -> OperationQuery:
    """``query`` with the ``schedule_id=`` and ``parent_id=`` keywords taken out of
    ``kwargs`` as filters: the operations a schedule fired, the children of an operation."""
    schedule_id = kwargs.pop("schedule_id", None)
    parent_id = kwargs.pop("parent_id", None)
    if schedule_id is not None:
        ids = tuple(validate_id(i) for i in as_tuple(schedule_id) or ())
        query = dataclasses.replace(query, schedule_ids=ids)
    if parent_id is not None:
        parents = tuple(validate_id(i) for i in as_tuple(parent_id) or ())
        query = dataclasses.replace(query, parent_ids=parents)
    return query
