"""What the pages and the JSON API show, read through the library's public API only.

Each function returns plain, JSON-ready data, so one function serves both the server-rendered
page and the API call behind its live parts. Lists are filtered and paged here, on the server:
the runs page asks the store for one page of operations and their count, never for all of
them, which is what keeps it fast with tens of thousands of records.

Secrets appear only as ``{"key": ..., "set": bool}``: no value is ever read into these
dictionaries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import fiftyone_plugins as fop
import fiftyone_plugins.operators as foo
from fiftyone_plugins.operators.hosted import is_panel

__all__ = [
    "PER_PAGE_CHOICES",
    "busy_workers",
    "RUN_SORT_FIELDS",
    "RUN_STATES",
    "Page",
    "list_operator_rows",
    "list_plugin_rows",
    "list_run_rows",
    "operator_detail",
    "plugin_detail",
    "registered_workers",
    "run_detail",
    "run_row",
    "schedule_rows",
]

PER_PAGE_CHOICES = (25, 50, 100)
RUN_STATES = ("scheduled", "queued", "running", "completed", "failed")
RUN_SORT_FIELDS = (
    "queued_at",
    "updated_at",
    "started_at",
    "completed_at",
    "failed_at",
    "operator",
)

Page = dict[str, Any]


def _page_numbers(page: int, per_page: int, total: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    return {"page": page, "per_page": per_page, "pages": pages, "total": total}


def clamp_per_page(value: Any, default: int = 25) -> int:
    """A page size the pages offer (anything else becomes the default)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number in PER_PAGE_CHOICES else default


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- plugins -------------------------------------------------------------------------------------


def _secret_rows(keys: list[str]) -> list[dict[str, Any]]:
    from ..secrets import resolve_secret

    return [{"key": key, "set": resolve_secret(key) is not None} for key in keys]


def _requirements(name: str) -> dict[str, Any]:
    """``{"count", "satisfied", "unsatisfied": [lines]}``; never raises for a bad file."""
    from ..errors import FiftyOnePluginsError

    try:
        checks = fop.ensure_plugin_requirements(name, error_level=2)
    except FiftyOnePluginsError as e:
        return {"count": None, "satisfied": False, "unsatisfied": [str(e)]}
    failed = [str(c) for c in checks if not c.satisfied]
    return {"count": len(checks), "satisfied": not failed, "unsatisfied": failed}


def _plugin_row(plugin: Any, disabled: set[str]) -> dict[str, Any]:
    return {
        "name": plugin.name,
        "label": plugin.label,
        "description": plugin.description,
        "version": plugin.version,
        "enabled": plugin.builtin or plugin.name not in disabled,
        "builtin": plugin.builtin,
        "operators": len(plugin.operators) + len(plugin.panels),
        "secrets": _secret_rows(list(plugin.secrets)),
        "tags": list(plugin.tags),
    }


def _matches(query: str, *texts: Any) -> bool:
    return any(query in str(t).lower() for t in texts if t)


def list_plugin_rows(params: Mapping[str, Any]) -> Page:
    """One page of plugins matching ``q`` (name, label, description, tags) and ``state``
    (``enabled``, ``disabled``, ``builtin``), with requirement checks for that page only."""
    query = str(params.get("q") or "").strip().lower()
    state = params.get("state") or ""
    per_page = clamp_per_page(params.get("per_page"), 50)
    disabled = set(fop.list_disabled_plugins())
    plugins = fop.list_plugins(enabled="all", builtin="all")
    if query:
        plugins = [p for p in plugins if _matches(query, p.name, p.label, p.description, *p.tags)]
    if state == "enabled":
        plugins = [p for p in plugins if p.builtin or p.name not in disabled]
    elif state == "disabled":
        plugins = [p for p in plugins if not p.builtin and p.name in disabled]
    elif state == "builtin":
        plugins = [p for p in plugins if p.builtin]
    paging = _page_numbers(_int(params.get("page"), 1), per_page, len(plugins))
    start = (paging["page"] - 1) * per_page
    rows = []
    for plugin in plugins[start : start + per_page]:
        row = _plugin_row(plugin, disabled)
        row["requirements"] = _requirements(plugin.name)
        rows.append(row)
    errors = [
        {"path": getattr(e, "path", "") or "", "reason": getattr(e, "reason", str(e))}
        for e in fop.list_plugin_errors()
    ]
    return {"items": rows, "errors": errors, "q": query, "state": state, **paging}


def plugin_detail(name: str) -> dict[str, Any]:
    """Everything the plugin page shows (raises PluginNotFoundError for unknown names)."""
    plugin = fop.get_plugin(name)
    disabled = set(fop.list_disabled_plugins())
    data = _plugin_row(plugin, disabled)
    info = plugin.to_dict()
    for key in ("author", "url", "license", "fiftyone_compatibility", "directory"):
        data[key] = info.get(key)
    data["operator_names"] = list(plugin.operators)
    data["panel_names"] = list(plugin.panels)
    data["warnings"] = list(plugin.warnings)
    data["requirements"] = _requirements(plugin.name)
    try:
        data["requirement_lines"] = fop.load_plugin_requirements(plugin.name)
    except Exception:  # an unreadable file is already reported by _requirements
        data["requirement_lines"] = []
    return data


# -- operators -----------------------------------------------------------------------------------


def _operator_row(op: Any) -> dict[str, Any]:
    config = op.config
    return {
        "uri": op.uri,
        "name": config.name,
        "label": config.label or config.name,
        "description": config.description,
        "plugin": getattr(op, "plugin_name", None),
        "dynamic": bool(config.dynamic),
        "unlisted": bool(config.unlisted),
        "builtin": bool(op.builtin),
    }


def list_operator_rows(params: Mapping[str, Any]) -> Page:
    """Enabled operators (panels left out) whose label, URI or description holds ``q``;
    unlisted ones only with ``unlisted=1``."""
    query = str(params.get("q") or "").strip().lower()
    unlisted = str(params.get("unlisted") or "") in ("1", "true", "on")
    rows = []
    for op in foo.list_operators(enabled=True):
        if is_panel(op):  # FiftyOne's panels have no is_panel
            continue
        row = _operator_row(op)
        if row["unlisted"] and not unlisted:
            continue
        if query and not _matches(query, row["label"], row["uri"], row["description"]):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (str(r["label"]).lower(), r["uri"]))
    return {"items": rows, "q": query, "unlisted": unlisted, "total": len(rows)}


def operator_detail(uri: str) -> dict[str, Any]:
    """The operator page's header (raises OperatorNotFoundError for unknown URIs)."""
    op = foo.get_operator(uri)
    return _operator_row(op)


# -- delegated operations ------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def run_row(doc: Any) -> dict[str, Any]:
    """The fields of one operation the runs table shows."""
    progress = doc.progress
    state = getattr(doc.run_state, "value", doc.run_state)
    finished = doc.completed_at or doc.failed_at
    error = (doc.error or "").splitlines()
    return {
        "id": doc.id,
        "operator": doc.operator,
        "label": doc.label,
        "dataset": doc.dataset_name,
        "state": state,
        "progress": None if progress is None else progress.percent,
        "progress_label": None if progress is None else progress.label,
        "queued_at": _iso(doc.queued_at),
        "started_at": _iso(doc.started_at),
        "finished_at": _iso(finished),
        "updated_at": _iso(doc.updated_at),
        "worker": doc.worker_id,
        "error": error[0] if error else None,
    }


def run_filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The service's filter keywords for the runs page's query string."""
    state = params.get("state") or None
    if state not in RUN_STATES:
        state = None
    return {
        "run_state": state,
        "operator": (params.get("operator") or "").strip() or None,
        "dataset_name": (params.get("dataset") or "").strip() or None,
        "search": (params.get("q") or "").strip() or None,
    }


def list_run_rows(params: Mapping[str, Any], service: Any = None) -> Page:
    """One page of operations: filters ``state``, ``operator``, ``dataset``, ``q`` (operator
    or label substring); ``sort`` (a RUN_SORT_FIELDS name), ``order`` (``asc``/``desc``),
    ``page`` and ``per_page``; all applied by the store."""
    service = service or foo.DelegatedOperationService()
    filters = run_filters(params)
    sort = params.get("sort") if params.get("sort") in RUN_SORT_FIELDS else "queued_at"
    order = "asc" if params.get("order") == "asc" else "desc"
    per_page = clamp_per_page(params.get("per_page"))
    total = service.count(**filters)
    paging = _page_numbers(_int(params.get("page"), 1), per_page, total)
    docs = service.list_operations(
        **filters,
        sort_by=sort,
        reverse=order == "desc",
        limit=per_page,
        skip=(paging["page"] - 1) * per_page,
    )
    shown = {
        "state": filters["run_state"] or "",
        "operator": filters["operator"] or "",
        "dataset": filters["dataset_name"] or "",
        "q": filters["search"] or "",
        "sort": sort,
        "order": order,
    }
    return {"items": [run_row(d) for d in docs], "filters": shown, **paging}


def busy_workers(service: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The workers holding the ``limit`` most recently updated running operations, with how
    many each (read from the records: this library keeps no separate worker registry)."""
    counts: dict[str, int] = {}
    running = service.list_operations(
        run_state="running", sort_by="updated_at", reverse=True, limit=limit
    )
    for doc in running:
        if doc.worker_id:
            counts[doc.worker_id] = counts.get(doc.worker_id, 0) + 1
    return [{"worker": w, "running": n} for w, n in sorted(counts.items())]


def registered_workers(service: Any) -> list[dict[str, Any]]:
    """The workers that announced themselves in the store and were seen lately (what
    ``delegated workers`` lists): id, backend, operations in flight, target, last seen."""
    from fiftyone_plugins.operators.presence import list_workers

    rows = []
    for info in list_workers(service):
        if not info.alive():
            continue
        rows.append(
            {
                "id": info.id,
                "backend": info.backend,
                "in_flight": f"{info.in_flight}/{info.max_in_flight}",
                "target": info.delegation_target or "",
                "last_seen": (_iso(info.last_seen) or "")[:19].replace("T", " "),
            }
        )
    return rows


def schedule_rows(service: Any, limit: int = 100) -> list[dict[str, Any]]:
    """The recurring schedules kept in the operations' store (``delegated schedule list``)."""
    from fiftyone_plugins.operators.schedules import ScheduleService

    rows = []
    for doc in ScheduleService(service).list_schedules()[:limit]:
        every = f"every {doc.every_seconds:g}s" if doc.every_seconds else ""
        rows.append(
            {
                "id": doc.id,
                "operator": doc.operator,
                "label": doc.label or "",
                "when": f"{doc.cron} ({doc.timezone})" if doc.cron else every,
                "enabled": bool(doc.enabled),
                "next_fire": (_iso(doc.next_fire_at) or "")[:19].replace("T", " "),
                "last_operation": doc.last_operation_id or "",
            }
        )
    return rows


def run_detail(op_id: str, service: Any = None) -> dict[str, Any]:
    """Everything the operation page shows (raises OperationNotFoundError)."""
    service = service or foo.DelegatedOperationService()
    doc = service.get(op_id)
    row = run_row(doc)
    context = dict(doc.context or {})
    nested = context.get("request_params")
    params = context.get("params")
    if params is None and isinstance(nested, Mapping):
        params = nested.get("params")
    metadata = dict(doc.metadata or {})
    metadata.pop("inputs_schema", None)
    metadata.pop("outputs_schema", None)
    row.update(
        {
            "inputs": params or {},
            "result": doc.result,
            "error_full": doc.error,
            "traceback": doc.error_trace,
            "delegation_target": doc.delegation_target,
            "dataset_id": doc.dataset_id,
            "scheduled_at": _iso(doc.scheduled_at),
            "completed_at": _iso(doc.completed_at),
            "failed_at": _iso(doc.failed_at),
            "lease_expires_at": _iso(doc.lease_expires_at),
            "attempts": doc.attempts,
            "pinned": doc.pinned,
            "metadata": metadata,
            "log_tail": metadata.get("log_tail") or metadata.get("output_tail"),
        }
    )
    return row
