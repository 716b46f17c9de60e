"""Serving the web app with uvicorn: in the foreground for ``app launch``, or in a thread.

The listening socket is bound before uvicorn starts, so ``--port 0`` can report the free
port it got, and the printed URL is valid the moment it is printed. uvicorn stops cleanly on
SIGINT/SIGTERM; the live event streams are given a short grace period, then closed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import WebAppError

__all__ = ["DEFAULT_ADDRESS", "ServerThread", "app_url", "bind", "serve"]

DEFAULT_ADDRESS = "127.0.0.1"
_GRACE_SECONDS = 2


def bind(address: str = DEFAULT_ADDRESS, port: int = 0) -> socket.socket:
    """A listening TCP socket on ``address:port`` (``port=0``: a free one)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: a response written in two parts (headers, body) must
    # not wait for the client's delayed ACK (tens of milliseconds per request otherwise)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((address, port))
    except OSError as e:
        sock.close()
        raise WebAppError(f"Cannot listen on {address}:{port}: {e.strerror or e}") from e
    sock.listen(128)
    sock.setblocking(False)
    return sock


def app_url(sock: socket.socket, token: str) -> str:
    """The URL to open, token included."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/?token={token}"


def _server(app: Any) -> Any:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=_GRACE_SECONDS,
        access_log=False,
    )

    stopping = getattr(getattr(app, "state", None), "stopping", None)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # tell the live event streams to end now, so open pages do not hold up the stop
            if stopping is not None:
                stopping.set()
            await super().shutdown(sockets=sockets)

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            # a stop signal is the normal way to end `app launch`: once uvicorn has shut down,
            # return normally instead of re-raising the signal (KeyboardInterrupt, exit -15)
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    return Server(config)


def serve(
    app: Any,
    sock: socket.socket,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serves ``app`` on ``sock`` until SIGINT/SIGTERM (call from the main thread)."""
    server = _server(app)
    if on_ready is not None:
        on_ready()
    server.run(sockets=[sock])


class ServerThread:
    """The app served by uvicorn in a background thread (tests, benchmarks, screenshots)."""

    def __init__(self, app: Any, token: str, address: str = DEFAULT_ADDRESS) -> None:
        self.sock = bind(address, 0)
        self.url = app_url(self.sock, token)
        self.base = self.url.split("/?", 1)[0]
        self._server = _server(app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise WebAppError("The web app did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(_GRACE_SECONDS + 5)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
