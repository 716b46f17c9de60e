"""``app launch`` for real: the printed URL, the token over HTTP, clean stops, the live
streams, the missing extra, and a CLI start-up that does not import the web stack."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.cli import main


def _status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _launch(extra_env):
    env = {**os.environ, **extra_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "fiftyone_plugins", "app", "launch", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("http://"):
            return process, line.strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("no URL printed: " + process.stderr.read())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_launch_prints_the_url_guards_it_and_stops_cleanly(demo, stop):
    process, url = _launch({"FIFTYONE_PLUGINS_APP_TOKEN": "fixed-token"})
    try:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and parts.port and parts.query == "token=fixed-token"
        base = f"http://127.0.0.1:{parts.port}"
        assert _status(base + "/plugins") == 401
        assert _status(base + "/plugins?token=wrong") == 403
        assert _status(base + "/api/plugins", {"X-FOP-Token": "fixed-token"}) == 200
        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(url) as page:  # redirected to /plugins with the cookie set
            assert page.status == 200 and page.url == base + "/plugins"
        assert [c.name for c in jar] == [f"fop_token_{parts.port}"]
    finally:
        process.send_signal(stop)
        assert process.wait(10) == 0
        process.stdout.close()
        process.stderr.close()


def test_without_a_configured_token_each_launch_gets_a_random_one(demo):
    process, url = _launch({})
    try:
        token = url.split("token=", 1)[1]
        assert len(token) >= 24
        assert _status(url.split("?")[0] + "api/plugins", {"X-FOP-Token": token}) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        process.stdout.close()
        process.stderr.close()


def test_a_missing_extra_is_one_clear_line(monkeypatch, capsys):
    import importlib.util

    import fiftyone_plugins.web as web

    real = importlib.util.find_spec
    monkeypatch.setattr(
        web.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "uvicorn" else real(name, *a),
    )
    assert main(["app", "launch", "--no-browser"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "uvicorn" in err[0] and "pip install 'fiftyone-plugins[web]'" in err[0]


def test_cli_start_up_does_not_import_the_web_stack():
    code = (
        "import sys, fiftyone_plugins, fiftyone_plugins.cli as c; c.build_parser(['app']); "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2', 'fiftyone_plugins.web') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _events(base, path, token, count, timeout=10.0):
    """Reads ``count`` server-sent events from ``path``."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    conn.request("GET", path, headers={"X-FOP-Token": token})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type").startswith("text/event-stream")
    events, event = [], {}
    try:
        while len(events) < count:
            line = response.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif not line and event:
                events.append(event)
                event = {}
    finally:
        conn.close()
    return events


def test_the_runs_stream_sends_changes_live(demo):
    from fiftyone_plugins.web.app import create_app
    from fiftyone_plugins.web.server import ServerThread

    service = foo.DelegatedOperationService()
    doc = service.queue_operation("@web/demo/greet", context={"params": {"name": "x"}})
    with ServerThread(create_app("tok"), "tok") as server:
        first = _events(server.base, f"/api/runs/stream?ids={doc.id}", "tok", 2)
        assert first[0]["event"] == "rows" and first[0]["data"]["rows"][0]["state"] == "queued"
        assert first[1] == {"event": "total", "data": {"total": 1}}

        import threading

        def work():
            time.sleep(0.8)
            service.set_running(doc.id, worker_id="w")
            service.set_progress(doc.id, 0.5, "half", worker_id="w")

        threading.Thread(target=work).start()
        events = _events(server.base, f"/api/runs/stream?ids={doc.id}", "tok", 3)
        row = events[2]["data"]["rows"][0]
        assert (row["state"], row["progress"], row["progress_label"]) == ("running", 50, "half")
        assert _status(server.base + f"/api/runs/stream?ids={doc.id}") == 401
        assert _status(server.base + "/api/runs/stream?ids=bad", {"X-FOP-Token": "tok"}) == 404


def test_a_busy_port_is_one_clear_line(demo, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["app", "launch", "--port", str(port), "--no-browser"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: Cannot listen on 127.0.0.1:{port}")
