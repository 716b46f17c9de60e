"""Building the web app: the Starlette application with its routes, gate and state.

:func:`create_app` wires the pages (:mod:`.pages`), the JSON API (:mod:`.api`) and the
static files behind :class:`~.auth.TokenMiddleware`, and keeps per-app state: the Jinja2
environment, the install jobs and how to reach the delegated-operations store (a factory, so
tests and benchmarks can point one app at their own store).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..errors import FiftyOnePluginsError
from . import api, pages
from .auth import TokenMiddleware
from .installs import InstallJobs

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
logger = logging.getLogger("fiftyone_plugins.web")


async def _library_error(request: Request, exc: Exception) -> Response:
    if not request.url.path.startswith("/api/"):
        if isinstance(exc, FiftyOnePluginsError):
            return pages.render(request, "error.html", 400, section="", message=str(exc))
    return api.error_response(exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # the traceback goes to the server's log only: it may name paths or values
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return api.error_response(exc)


def create_app(token: str, service_factory: Callable[[], Any] | None = None) -> Starlette:
    """The web app, every route of which requires ``token``.

    ``service_factory()`` gives the :class:`~fiftyone_plugins.operators.DelegatedOperationService`
    the runs pages use (default: one for the configured store).
    """
    if service_factory is None:
        import fiftyone_plugins.operators as foo

        service_factory = foo.DelegatedOperationService
    app = Starlette(
        routes=[
            *api.routes(),
            *pages.routes(),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[Middleware(TokenMiddleware, token=token)],
        exception_handlers={
            FiftyOnePluginsError: _library_error,
            ValueError: _library_error,
            Exception: _unexpected,
        },
    )
    app.state.templates = pages.templates()
    app.state.installs = InstallJobs()
    app.state.service_factory = service_factory
    #: set when the server shuts down: the event streams end at their next tick
    app.state.stopping = threading.Event()
    return app
