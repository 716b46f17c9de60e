"""The local web app (``fiftyone-plugins app launch``): Plugins, Operator browser and Runs.

It needs the ``[web]`` extra (Starlette, uvicorn, Jinja2). Importing this package does not
import them: :func:`require_web_stack` checks they are installed and says how to get them,
and :func:`create_app`/:func:`launch` import them on first use, so the CLI and
``import fiftyone_plugins`` stay fast without the extra.

Layout, one module per concept: :mod:`.app` builds the application, :mod:`.auth` guards it
(token, cross-site protection, security headers), :mod:`.pages` renders the HTML,
:mod:`.api` answers the scripts and streams live events, :mod:`.model` reads what they show
through the public API, :mod:`.forms` turns operator schemas into form fields,
:mod:`.markdown` renders a safe Markdown subset, :mod:`.execution` resolves and runs
operators, :mod:`.installs` runs plugin downloads in the background, :mod:`.server` serves
it all with uvicorn.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import WebAppError

if TYPE_CHECKING:
    from .app import create_app

__all__ = ["EXTRA_HINT", "REQUIRED_MODULES", "create_app", "launch", "require_web_stack"]

REQUIRED_MODULES = ("starlette", "uvicorn", "jinja2")
EXTRA_HINT = "pip install 'fiftyone-plugins[web]'"


def require_web_stack() -> None:
    """Raises :class:`~fiftyone_plugins.errors.WebAppError` (one line) when the extra is
    missing."""
    missing = [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise WebAppError(
            f"The web app needs {', '.join(missing)}: install the [web] extra with `{EXTRA_HINT}`"
        )


def launch(
    port: int = 5151,
    address: str = "127.0.0.1",
    open_browser: bool = True,
    on_url: Callable[[str], None] = print,
) -> None:
    """Serves the app until SIGINT/SIGTERM, after handing its URL (token included) to
    ``on_url``. The token is ``FIFTYONE_PLUGINS_APP_TOKEN``, else a random one."""
    require_web_stack()
    from .app import create_app
    from .auth import TOKEN_ENV, make_token
    from .server import app_url, bind, serve

    token = make_token(os.environ.get(TOKEN_ENV))
    app = create_app(token)
    sock = bind(address, port)
    _warm_up()
    url = app_url(sock, token)

    def ready() -> None:
        on_url(url)
        if open_browser:
            import threading
            import webbrowser

            threading.Timer(0.5, webbrowser.open, [url]).start()

    serve(app, sock, on_ready=ready)


def _warm_up() -> None:
    """Discovers the plugins and imports their operators once, before the URL is printed, so
    the first page a user opens is as fast as the next ones."""
    import logging

    try:
        import fiftyone_plugins.operators as foo

        foo.list_operators(enabled=True)
    except Exception as e:  # the pages report broken plugins themselves
        logging.getLogger("fiftyone_plugins.web").debug("warm-up failed: %s", e)


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_web_stack()
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
