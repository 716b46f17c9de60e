"""The token, the cookie flow, cross-site refusal and the security headers."""

from __future__ import annotations

import pytest
from _webtools import TOKEN

ROUTES = ["/", "/plugins", "/operators", "/runs", "/api/plugins", "/api/runs",
          "/api/runs/stream", "/static/app.js", "/static/app.css", "/nowhere"]  # fmt: skip


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_needs_the_token(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "token" in response.json()["error"].lower()


@pytest.mark.parametrize("path", ROUTES)
def test_a_wrong_token_is_forbidden(anonymous, path):
    assert anonymous.get(path, params={"token": "nope"}).status_code == 403
    assert anonymous.get(path, headers={"X-FOP-Token": "nope"}).status_code == 403
    assert anonymous.get(path, headers={"Cookie": "fop_token_5151=nope"}).status_code == 403


def test_the_token_link_sets_a_strict_http_only_cookie_and_drops_the_token(anonymous):
    response = anonymous.get("/runs?state=failed&token=" + TOKEN, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/runs?state=failed"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"fop_token_5151={TOKEN}")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # the client keeps the cookie: later requests need no token
    assert anonymous.get("/runs").status_code == 200
    assert anonymous.get("/static/app.js").status_code == 200


def test_bearer_and_header_tokens_work_for_the_api(anonymous):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert anonymous.get("/api/plugins", headers=bearer).status_code == 200
    assert anonymous.get("/api/plugins", headers={"X-FOP-Token": TOKEN}).status_code == 200


def test_state_changes_need_the_same_site_header(anonymous):
    body = {"names": ["@web/demo"]}
    token = {"X-FOP-Token": TOKEN}
    response = anonymous.post("/api/plugins/disable", json=body, headers=token)
    assert response.status_code == 403
    assert "X-FOP-Request" in response.json()["error"]
    # a form posted from another site carries the cookie but cannot add the header
    anonymous.cookies.set("fop_token_5151", TOKEN)
    assert anonymous.post("/api/plugins/disable", data={"names": "x"}).status_code == 403
    import fiftyone_plugins as fop

    assert fop.is_plugin_enabled("@web/demo")


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:9999"])
def test_a_foreign_origin_is_refused(client, origin):
    response = client.post(
        "/api/plugins/disable", json={"names": ["@web/demo"]}, headers={"Origin": origin}
    )
    assert response.status_code == 403


def test_the_same_origin_is_accepted(client):
    response = client.post(
        "/api/plugins/disable",
        json={"names": ["@web/demo"]},
        headers={"Origin": "http://127.0.0.1:5151"},
    )
    assert response.status_code == 200
    import fiftyone_plugins as fop

    assert not fop.is_plugin_enabled("@web/demo")


def test_security_headers(client):
    response = client.get("/plugins")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # and on refusals too
    assert (
        "content-security-policy" in client.get("/plugins", headers={"X-FOP-Token": "x"}).headers
    )


def test_pages_have_no_inline_script(client):
    for path in ("/plugins", "/plugins/@web/demo", "/operators", "/operators/@web/demo/greet",
                 "/runs"):  # fmt: skip
        html = client.get(path).text
        assert "<script>" not in html
        for line in html.splitlines():
            if "<script" in line:
                assert 'src="/static/' in line


def test_the_redirect_never_leaves_the_site():
    import asyncio

    from fiftyone_plugins.web.auth import TokenMiddleware

    sent = []

    async def app(scope, receive, send):  # never reached: the middleware redirects
        raise AssertionError

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": "//evil.example/x", "headers": [],
        "query_string": f"token={TOKEN}".encode(), "server": ("127.0.0.1", 5151),
    }  # fmt: skip
    asyncio.run(TokenMiddleware(app, TOKEN)(scope, None, send))
    headers = dict(sent[0]["headers"])
    assert sent[0]["status"] == 303 and headers[b"location"] == b"/evil.example/x"


def test_a_cookie_for_another_port_is_not_this_apps(anonymous):
    response = anonymous.get("/plugins", headers={"Cookie": f"fop_token_9999={TOKEN}"})
    assert response.status_code == 401
