"""The web app's gatekeeper: the access token, cross-site protection and security headers.

One ASGI middleware wraps every route (pages, the JSON API, the live event streams and the
static files), so nothing is reachable without the token:

- the token may come as ``?token=`` (the link ``app launch`` prints), the
  ``fop_token_<port>`` cookie (one per port: browsers share cookies between the ports of a
  host, and two launches must not overwrite each other's), an ``X-FOP-Token`` header or
  ``Authorization: Bearer``; none at all is ``401``, a wrong one ``403``; tokens are compared
  in constant time;
- a page opened with a valid ``?token=`` sets the cookie (``HttpOnly``, ``SameSite=Strict``)
  and redirects to the same URL without the token, so it leaves the address bar and history;
- a request that changes state (anything but ``GET``/``HEAD``/``OPTIONS``) must carry the
  ``X-FOP-Request: 1`` header, which a cross-site form or image cannot send and a cross-site
  script cannot add without a CORS preflight this app never grants; an ``Origin`` header, when
  present, must name this very host;
- every response gets a Content-Security-Policy without inline scripts, ``nosniff``,
  ``no-referrer`` and a frame ban.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "COOKIE_PREFIX",
    "CSRF_HEADER",
    "CSP",
    "TOKEN_ENV",
    "TOKEN_HEADER",
    "TokenMiddleware",
    "cookie_name",
    "make_token",
]

#: the environment variable that fixes the token (else a random one per launch)
TOKEN_ENV = "FIFTYONE_PLUGINS_APP_TOKEN"
COOKIE_PREFIX = "fop_token_"
TOKEN_HEADER = "x-fop-token"
CSRF_HEADER = "x-fop-request"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_token(configured: str | None = None) -> str:
    """The configured token, else a fresh random one (what Jupyter does)."""
    return configured if configured else secrets.token_urlsafe(24)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def cookie_name(scope: Scope) -> str:
    """The token cookie's name for the port this request came to."""
    server = scope.get("server") or ("", 0)
    return f"{COOKIE_PREFIX}{server[1] or 0}"


def _given_token(scope: Scope, headers: dict[str, str]) -> tuple[str | None, bool]:
    """The token the request carries, and whether it came in the query string."""
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    if query.get("token"):
        return query["token"], True
    if headers.get(TOKEN_HEADER):
        return headers[TOKEN_HEADER], False
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is simply no token
        return None, False
    morsel = cookie.get(cookie_name(scope))
    return (morsel.value if morsel is not None else None), False


class TokenMiddleware:
    """Refuses every request without the token; see the module docstring for the rules."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the web app needs a non-empty token")
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        given, in_query = _given_token(scope, headers)
        if not given:
            await _plain(send, 401, "A token is required: open the link `app launch` printed.")
            return
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            await _plain(send, 403, "Wrong token.")
            return
        method = scope["method"].upper()
        if method not in _SAFE_METHODS:
            refusal = _cross_site_refusal(headers)
            if refusal:
                await _plain(send, 403, refusal)
                return
        elif in_query and method == "GET" and not scope["path"].startswith("/api/"):
            await self._redirect_with_cookie(scope, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _redirect_with_cookie(self, scope: Scope, send: Send) -> None:
        query = [
            (k, v)
            for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
            if k != "token"
        ]
        # one leading slash: "//host" would be a redirect to another site
        location = "/" + scope["path"].lstrip("/") + ("?" + urlencode(query) if query else "")
        cookie = f"{cookie_name(scope)}={self.token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"set-cookie", cookie.encode("latin-1")),
                    (b"content-length", b"0"),
                    *_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _cross_site_refusal(headers: dict[str, str]) -> str | None:
    """Why a state-changing request looks cross-site, or ``None`` when it does not."""
    if headers.get(CSRF_HEADER) != "1":
        return "State-changing requests must send the X-FOP-Request: 1 header."
    origin = headers.get("origin")
    if origin and origin != "null":
        if urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
            return "Cross-origin request refused."
    elif origin == "null":
        return "Cross-origin request refused."
    return None


async def _plain(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
