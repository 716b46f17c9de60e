"""The HTML pages: Plugins, the Operator browser and Runs, rendered on the server.

Tables and details are rendered here with Jinja2 (autoescaping on, so every label,
description and error a plugin or an operation supplies is text, never markup); the small
scripts in ``static/`` add what must be live: the operator form, install progress and the
runs' state. Data a script needs travels in ``data-*`` attributes, since the
Content-Security-Policy forbids inline scripts.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .._version import __version__
from ..errors import FiftyOnePluginsError
from . import model

__all__ = ["TEMPLATES_DIR", "render", "routes", "templates"]

TEMPLATES_DIR = os.path.join(os.path.dirname(__file__), "templates")


def _pretty(value: Any) -> str:
    """JSON for a ``<pre>`` block (escaped by the template like any other text)."""
    return json.dumps(value, indent=2, default=str, sort_keys=True)


def _when(value: Any) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM:SS`` (times are stored in UTC)."""
    return str(value)[:19].replace("T", " ") if value else ""


def _query(base: dict[str, Any], **changes: Any) -> str:
    """The current query string with some values changed (for paging and sort links)."""
    merged = {k: v for k, v in {**base, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged)


def templates() -> Environment:
    """The Jinja2 environment, autoescaping every template."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = _pretty
    env.filters["when"] = _when
    env.globals["query"] = _query
    env.globals["version"] = __version__
    return env


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    html = env.get_template(name).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def _error_page(request: Request, exc: FiftyOnePluginsError, section: str) -> HTMLResponse:
    status = 404 if getattr(exc, "exit_code", 1) == 2 else 400
    return render(request, "error.html", status, section=section, message=str(exc))


async def home(request: Request) -> Response:
    return RedirectResponse("/plugins", status_code=303)


async def plugins_page(request: Request) -> Response:
    page = await run_in_threadpool(model.list_plugin_rows, request.query_params)
    return render(request, "plugins.html", section="plugins", page=page)


async def plugin_page(request: Request) -> Response:
    name = request.path_params["name"]
    try:
        plugin = await run_in_threadpool(model.plugin_detail, name)
    except FiftyOnePluginsError as e:
        return _error_page(request, e, "plugins")
    return render(request, "plugin.html", section="plugins", plugin=plugin)


async def operators_page(request: Request) -> Response:
    page = await run_in_threadpool(model.list_operator_rows, request.query_params)
    return render(request, "operators.html", section="operators", page=page)


async def operator_page(request: Request) -> Response:
    uri = request.path_params["uri"]
    try:
        operator = await run_in_threadpool(model.operator_detail, uri)
    except FiftyOnePluginsError as e:
        return _error_page(request, e, "operators")
    return render(request, "operator.html", section="operators", operator=operator)


async def runs_page(request: Request) -> Response:
    service = request.app.state.service_factory()
    try:
        page = await run_in_threadpool(model.list_run_rows, request.query_params, service)
        workers = await run_in_threadpool(model.busy_workers, service)
        registered = await run_in_threadpool(model.registered_workers, service)
        schedules = await run_in_threadpool(model.schedule_rows, service)
    except (FiftyOnePluginsError, ValueError) as e:
        return render(request, "error.html", 400, section="runs", message=str(e))
    return render(
        request,
        "runs.html",
        section="runs",
        page=page,
        workers=workers,
        registered=registered,
        schedules=schedules,
        states=model.RUN_STATES,
        sort_fields=model.RUN_SORT_FIELDS,
        per_page_choices=model.PER_PAGE_CHOICES,
    )


async def run_page(request: Request) -> Response:
    service = request.app.state.service_factory()
    try:
        run = await run_in_threadpool(model.run_detail, request.path_params["op_id"], service)
    except FiftyOnePluginsError as e:
        return _error_page(request, e, "runs")
    return render(request, "run.html", section="runs", run=run)


def routes() -> list[Route]:
    """The page routes (plugin names and operator URIs contain slashes: ``path`` params)."""
    return [
        Route("/", home),
        Route("/plugins", plugins_page),
        Route("/plugins/{name:path}", plugin_page),
        Route("/operators", operators_page),
        Route("/operators/{uri:path}", operator_page),
        Route("/runs", runs_page),
        Route("/runs/{op_id}", run_page),
    ]
