"""Fixtures of the web app's tests: the demo plugins installed, an app and HTTP clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the web tests need the [web] extra")

from _webtools import SECRET, TOKEN  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402


@pytest.fixture
def demo(env, monkeypatch):
    """The ``@web/demo`` and ``@evil/xss`` plugins installed, one of demo's secrets set."""
    env.add_fixture_plugin("webdemo")
    env.add_fixture_plugin("hostile")
    monkeypatch.setenv("FOP_WEB_TOKEN", SECRET)
    from fiftyone_plugins import discovery

    discovery.invalidate()
    return env


@pytest.fixture
def app(demo):
    from fiftyone_plugins.web.app import create_app

    return create_app(TOKEN)


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:
    """A client that sends no token."""
    with TestClient(app, base_url="http://127.0.0.1:5151") as client:
        yield client


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """A client sending the token and the same-site request header, as the page's script does."""
    headers = {"X-FOP-Token": TOKEN, "X-FOP-Request": "1"}
    with TestClient(app, base_url="http://127.0.0.1:5151", headers=headers) as client:
        yield client
