"""The JSON API behind the pages, and its live event streams.

Reads are ``GET``; changes are ``POST`` with a JSON body (protected against cross-site use
by :mod:`.auth`). Actions that may apply to several things take ``{"ids": [...]}`` or
``{"names": [...]}``. Errors are ``{"error": message}`` with a status derived from the
library's exception: 404 for unknown plugins, operators and operations, 409 for a refused
state change, 400 otherwise.

The streams (``text/event-stream``) poll the store at most twice a second and send only
what changed, so a page watching a running operation costs one small query per tick.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

import fiftyone_plugins as fop

from ..errors import FiftyOnePluginsError, InvalidStateTransitionError
from . import execution, model

__all__ = ["POLL_SECONDS", "STREAM_SECONDS", "routes", "sse_event"]

#: how often a stream looks for changes
POLL_SECONDS = 0.5
#: how long one stream lives before the browser reconnects (EventSource does so by itself)
STREAM_SECONDS = 300.0


def sse_event(event: str, data: Any) -> str:
    """One server-sent event (``data`` as one line of JSON)."""
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def _service(request: Request) -> Any:
    return request.app.state.service_factory()


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise FiftyOnePluginsError("The request body must be JSON") from None
    if not isinstance(data, dict):
        raise FiftyOnePluginsError("The request body must be a JSON object")
    return data


def _strings(data: dict[str, Any], key: str) -> list[str]:
    values = data.get(key)
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise FiftyOnePluginsError(f"Give {key!r} as a non-empty list of strings")
    return values


# -- plugins -------------------------------------------------------------------------------------


async def plugins(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(model.list_plugin_rows, request.query_params))


async def plugin_info(request: Request) -> Response:
    name = request.query_params.get("name") or ""
    return JSONResponse(await run_in_threadpool(model.plugin_detail, name))


def _plugin_action(verb: str) -> Callable[[Request], Any]:
    actions: dict[str, Callable[[str], Any]] = {
        "enable": fop.enable_plugin,
        "disable": fop.disable_plugin,
        "delete": fop.delete_plugin,
    }

    async def endpoint(request: Request) -> Response:
        names = _strings(await _body(request), "names")
        done, errors = [], []
        for name in names:
            try:
                await run_in_threadpool(actions[verb], name)
            except FiftyOnePluginsError as e:
                errors.append(str(e))
                continue
            done.append(name)
        status = 200 if not errors else 400 if not done else 207
        return JSONResponse({"done": done, "errors": errors}, status_code=status)

    return endpoint


async def install(request: Request) -> Response:
    data = await _body(request)
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise FiftyOnePluginsError("Give the GitHub repo, URL or archive path to install from")
    names = data.get("plugin_names") or None
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n] or None
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise FiftyOnePluginsError("plugin_names must be a list of names")
    depth = data.get("max_depth", 3)
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise FiftyOnePluginsError("max_depth must be an integer")
    job = request.app.state.installs.start(
        source.strip(), names, max_depth=depth, overwrite=bool(data.get("overwrite"))
    )
    return JSONResponse(job.to_dict(), status_code=202)


async def install_stream(request: Request) -> Response:
    jobs = request.app.state.installs
    job_id = request.path_params["job_id"]
    if jobs.get(job_id) is None:
        return JSONResponse({"error": f"No install {job_id}"}, status_code=404)

    async def events() -> AsyncIterator[str]:
        last = None
        while True:
            job = jobs.get(job_id)
            if job is None:
                return
            state = job.to_dict()
            if state != last:
                yield sse_event("install", state)
                last = state
            if job.state != "running" or await _ended(request):
                return
            await asyncio.sleep(POLL_SECONDS / 2)

    return _stream(events())


# -- operators -----------------------------------------------------------------------------------


async def operators(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(model.list_operator_rows, request.query_params))


async def resolve(request: Request) -> Response:
    data = await _body(request)
    uri, params = str(data.get("uri") or ""), data.get("params") or {}
    if not isinstance(params, dict):
        raise FiftyOnePluginsError("params must be a JSON object")
    return JSONResponse(await run_in_threadpool(execution.resolve, uri, params))


#: progress of the immediate runs under way, by the token the page chose for each
_live: dict[str, dict[str, Any]] = {}
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


async def execute(request: Request) -> Response:
    data = await _body(request)
    uri, params = str(data.get("uri") or ""), data.get("params") or {}
    if not isinstance(params, dict):
        raise FiftyOnePluginsError("params must be a JSON object")
    token = data.get("run")
    live: dict[str, Any] | None = None
    if isinstance(token, str) and _TOKEN.match(token):
        live = _live[token] = {"progress": None, "label": None}

    def progress(value: Any, label: Any) -> None:  # from the operator's thread
        if live is not None:
            live.update(progress=value, label=None if label is None else str(label))

    try:
        answer = await execution.execute(
            uri, params, delegate=bool(data.get("delegate")), progress=progress
        )
    finally:
        if live is not None:
            _live.pop(str(token), None)
    return JSONResponse(json.loads(json.dumps(answer, default=str)))


async def execution_progress(request: Request) -> Response:
    """The progress of an immediate run under way (``{}`` once it ended or if unknown)."""
    live = _live.get(request.query_params.get("run", ""))
    return JSONResponse(dict(live) if live is not None else {})


# -- delegated operations ------------------------------------------------------------------------


async def runs(request: Request) -> Response:
    service = _service(request)
    page = await run_in_threadpool(model.list_run_rows, request.query_params, service)
    return JSONResponse(page)


async def run_info(request: Request) -> Response:
    service = _service(request)
    detail = await run_in_threadpool(model.run_detail, request.path_params["op_id"], service)
    return JSONResponse(json.loads(json.dumps(detail, default=str)))


def _rerun_all(service: Any, ids: list[str]) -> list[str]:
    """Checks every operation first, so nothing is queued when any one is refused."""
    docs = [service.get(i) for i in dict.fromkeys(ids)]
    busy = [d.id for d in docs if d.run_state.value not in ("completed", "failed")]
    if busy:
        raise InvalidStateTransitionError(
            f"Cannot rerun {', '.join(busy)}: only completed or failed operations can be "
            "rerun; nothing was queued",
            op_id=busy[0],
        )
    return [service.rerun_operation(d.id).id for d in docs]


async def runs_action(request: Request) -> Response:
    action = request.path_params["action"]
    data = await _body(request)
    ids = _strings(data, "ids")
    service = _service(request)
    if action == "rerun":
        new = await run_in_threadpool(_rerun_all, service, ids)
        return JSONResponse({"done": ids, "new_ids": new})
    if action == "fail":
        reason = str(data.get("reason") or "Marked as failed from the web app")
        docs = await run_in_threadpool(service.fail_operations, ids, reason)
    elif action == "delete":
        docs = await run_in_threadpool(service.delete_operations, ids)
    else:
        return JSONResponse({"error": f"Unknown action {action!r}"}, status_code=404)
    return JSONResponse({"done": [d.id for d in docs]})


async def runs_stream(request: Request) -> Response:
    """Sends ``rows`` (the changed rows among ``ids``) and ``total`` (how many operations
    match the page's filters) whenever either changes."""
    service = _service(request)
    raw = request.query_params.get("ids") or ""
    ids = [i for i in raw.split(",") if i][:100]
    filters = model.run_filters(request.query_params)
    from .. import errors

    def snapshot() -> tuple[dict[str, Any], int]:
        docs = service.list_operations(ids=ids) if ids else []
        return {d.id: model.run_row(d) for d in docs}, service.count(**filters)

    try:
        await run_in_threadpool(snapshot)
    except errors.OperationNotFoundError as e:
        return JSONResponse({"error": str(e)}, status_code=404)

    async def events() -> AsyncIterator[str]:
        sent: dict[str, Any] = {}
        total: int | None = None
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not await _ended(request):
            rows, count = await run_in_threadpool(snapshot)
            changed = [row for key, row in rows.items() if sent.get(key) != row]
            gone = [key for key in sent if key not in rows]
            if changed or gone:
                yield sse_event("rows", {"rows": changed, "gone": gone})
                sent = rows
            if count != total:
                yield sse_event("total", {"total": count})
                total = count
            await asyncio.sleep(POLL_SECONDS)

    return _stream(events())


async def _ended(request: Request) -> bool:
    """Whether a stream should stop: the page went away, or the server is stopping."""
    return bool(request.app.state.stopping.is_set() or await request.is_disconnected())


def _stream(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"x-accel-buffering": "no"},
    )


def error_response(exc: Exception) -> JSONResponse:
    """The JSON answer for a library error (see the module docstring for the statuses)."""
    if isinstance(exc, FiftyOnePluginsError):
        if isinstance(exc, InvalidStateTransitionError):
            status = 409
        elif getattr(exc, "exit_code", 1) == 2:
            status = 404
        else:
            status = 400
        return JSONResponse({"error": str(exc)}, status_code=status)
    if isinstance(exc, ValueError):
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"error": "Internal error; see the server's log"}, status_code=500)


def routes() -> list[Route]:
    """The API's routes, mounted under ``/api`` by :func:`~.app.create_app`."""
    return [
        Route("/api/plugins", plugins),
        Route("/api/plugins/info", plugin_info),
        Route("/api/plugins/enable", _plugin_action("enable"), methods=["POST"]),
        Route("/api/plugins/disable", _plugin_action("disable"), methods=["POST"]),
        Route("/api/plugins/delete", _plugin_action("delete"), methods=["POST"]),
        Route("/api/plugins/install", install, methods=["POST"]),
        Route("/api/installs/{job_id}/stream", install_stream),
        Route("/api/operators", operators),
        Route("/api/operators/resolve", resolve, methods=["POST"]),
        Route("/api/operators/execute", execute, methods=["POST"]),
        Route("/api/operators/progress", execution_progress),
        Route("/api/runs", runs),
        Route("/api/runs/stream", runs_stream),
        Route("/api/runs/{action}", runs_action, methods=["POST"]),
        Route("/api/runs/{op_id}", run_info),
    ]
