"""The pages render, escape plugin text, and never show a secret value."""

from __future__ import annotations

from html import unescape

from _webtools import SECRET

import fiftyone_plugins.operators as foo


def test_every_page_renders(client):
    for path in ("/plugins", "/plugins/@web/demo", "/operators", "/operators/@web/demo/greet",
                 "/runs"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
    assert client.get("/", follow_redirects=False).headers["location"] == "/plugins"


def test_unknown_things_are_404_pages(client):
    assert client.get("/plugins/@nobody/here").status_code == 404
    assert client.get("/operators/@web/demo/nope").status_code == 404
    assert client.get("/runs/0123456789abcdef01234567").status_code == 404
    assert client.get("/runs/not-an-id").status_code == 404


def test_plugins_page_lists_versions_state_secrets_and_requirements(client, demo):
    (demo.plugins_dir / "webdemo" / "requirements.txt").write_text("no-such-dist-xyz>=1\n")
    html = client.get("/plugins").text
    assert "@web/demo" in html and "1.2.0" in html
    assert "FOP_WEB_TOKEN: set" in html and "FOP_WEB_UNSET: not set" in html
    assert "1 unsatisfied" in html
    assert "@voxel51/operators" in html  # builtins are listed


def test_plugins_search_and_state_filter(client):
    assert "@evil/xss" not in client.get("/plugins", params={"q": "demo"}).text
    assert "@web/demo" in client.get("/plugins", params={"q": "DEMO"}).text
    client.post("/api/plugins/disable", json={"names": ["@web/demo"]})
    disabled = client.get("/plugins", params={"state": "disabled"}).text
    assert "@web/demo" in disabled and "@evil/xss" not in disabled
    assert "@voxel51/utils" in client.get("/plugins", params={"state": "builtin"}).text


def test_hostile_plugin_text_is_escaped(client):
    for path in ("/plugins", "/plugins/@evil/xss", "/operators", "/operators/@evil/xss/inject"):
        html = client.get(path).text
        assert "<script>window" not in html, path
        assert "<img src=x" not in html, path
    html = client.get("/plugins").text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;Evil" in html
    # the form is JSON for the script, which sets it as text
    form = client.post("/api/operators/resolve", json={"uri": "@evil/xss/inject"}).json()
    fields = {f["name"]: f for f in form["form"]["fields"]}
    spans = [s for block in fields["markdown"]["blocks"] for s in block["spans"]]
    assert all(s["t"] != "a" for s in spans)  # a javascript: link stays text


def test_secret_values_never_reach_a_page(client):
    failed = client.post("/api/operators/execute", json={"uri": "@web/demo/fails"}).json()
    assert not failed["ok"] and "***" in failed["error"]
    assert SECRET not in str(failed)
    queued = client.post(
        "/api/operators/execute", json={"uri": "@web/demo/greet", "params": {"name": SECRET}}
    ).json()
    assert queued["ok"]
    # run the failing operator as a delegated operation: its record's error is masked too
    op = foo.DelegatedOperationService().queue_operation("@web/demo/fails", context={"params": {}})
    foo.DelegatedOperationService().execute_queued_operations()
    for path in ("/plugins", "/plugins/@web/demo", f"/runs/{op.id}", "/runs", "/api/runs",
                 f"/api/runs/{op.id}"):  # fmt: skip
        assert SECRET not in client.get(path).text, path
    assert "***" in client.get(f"/runs/{op.id}").text


def test_run_page_shows_inputs_outputs_and_traceback(client):
    service = foo.DelegatedOperationService()
    ok = service.queue_operation("@web/demo/greet", context={"params": {"name": "Ada"}})
    bad = service.queue_operation("@web/demo/fails", context={"params": {}})
    service.execute_queued_operations()
    html = unescape(client.get(f"/runs/{ok.id}").text)
    assert "Hello Ada" in html and "completed" in html and '"name": "Ada"' in html
    html = client.get(f"/runs/{bad.id}").text
    assert "RuntimeError" in html and "Traceback" in html and "failed" in html


def test_a_secret_used_as_a_form_default_is_masked(client, demo, monkeypatch):
    demo.add_fixture_plugin("secrets")
    monkeypatch.setenv("FOP_TEST_TOKEN", "tok-" + SECRET)
    from fiftyone_plugins import discovery

    discovery.invalidate()
    answer = client.post("/api/operators/resolve", json={"uri": "@test/secrets/prefill"}).json()
    assert SECRET not in str(answer)
    assert answer["form"]["fields"][0]["default"] == "***"
    leaked = client.post("/api/operators/execute", json={"uri": "@test/secrets/leak_secret"})
    assert SECRET not in leaked.text and "***" in leaked.json()["error"]


def test_broken_plugins_do_not_break_the_pages(client, demo):
    demo.add_fixture_plugin("missing_dep")
    demo.write_plugin("broken", "name: [unclosed\n")
    from fiftyone_plugins import discovery

    discovery.invalidate()
    plugins = client.get("/plugins")
    assert plugins.status_code == 200 and "Plugins that failed to load" in plugins.text
    assert "malformed YAML" in plugins.text
    assert client.get("/operators").status_code == 200
    response = client.get("/operators/@test/missing-dep/needs_package")
    assert response.status_code == 400 and "failed to import" in response.text
    assert "Traceback" not in response.text


def test_runs_page_shows_registered_workers_and_schedules(client):
    import fiftyone_plugins.operators as foo
    from fiftyone_plugins.operators.presence import WorkerInfo, announce
    from fiftyone_plugins.operators.schedules import ScheduleService

    service = foo.DelegatedOperationService()
    announce(service, WorkerInfo(id="host:1:gpu-worker", backend="dask", max_in_flight=8))
    schedule = ScheduleService(service).add_schedule(
        "@web/demo/greet", cron="30 1 * * *", timezone="Europe/Paris", label="<b>nightly</b>"
    )
    page = client.get("/runs").text
    assert "host:1:gpu-worker" in page and "dask" in page and "0/8" in page
    assert schedule.id in page and "30 1 * * * (Europe/Paris)" in page
    assert "&lt;b&gt;nightly&lt;/b&gt;" in page and "<b>nightly</b>" not in page
