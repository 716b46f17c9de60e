"""The JSON API: runs filtered, sorted and paged by the server; actions on one or many;
plugin actions and installs; operator search, resolution and execution."""

from __future__ import annotations

import time

import pytest

import fiftyone_plugins as fop
import fiftyone_plugins.operators as foo


@pytest.fixture
def ops(demo):
    """60 operations: 3 operators x 2 datasets, the last 10 completed, 5 failed."""
    service = foo.DelegatedOperationService()
    made = []
    for i in range(60):
        operator = ("@web/demo/greet", "@web/demo/slow_count", "@other/x/y")[i % 3]
        doc = service.queue_operation(
            operator,
            label=f"job {i:02d}",
            context={"params": {"i": i}, "dataset_name": f"ds{i % 2}"},
        )
        made.append(doc)
    for doc in made[-10:]:
        service.set_running(doc.id, worker_id="w1")
        service.set_completed(doc.id, result={"i": 1}, worker_id="w1")
    for doc in made[:5]:
        service.fail_operation(doc.id, "nope")
    return made


def test_runs_paging_is_done_by_the_server(client, ops):
    page = client.get("/api/runs", params={"per_page": 25}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (60, 3, 25)
    last = client.get("/api/runs", params={"per_page": 25, "page": 3}).json()
    assert len(last["items"]) == 10
    ids = {r["id"] for r in page["items"]} | {r["id"] for r in last["items"]}
    assert len(ids) == 35
    beyond = client.get("/api/runs", params={"per_page": 25, "page": 99}).json()
    assert beyond["page"] == 3  # clamped to the last page
    assert client.get("/api/runs", params={"per_page": 7}).json()["per_page"] == 25


def test_runs_filters(client, ops):
    def total(**params):
        return client.get("/api/runs", params=params).json()["total"]

    assert total(state="completed") == 10
    assert total(state="failed") == 5
    assert total(state="queued") == 45
    assert total(operator="@web/demo/greet") == 20
    assert total(dataset="ds1") == 30
    assert total(q="job 0") == 10
    assert total(q="slow_") == 20
    assert total(state="completed", dataset="ds0") == 5
    assert total(state="bogus") == 60  # an unknown state filters nothing


def test_runs_sort(client, ops):
    newest = client.get("/api/runs", params={"per_page": 25}).json()["items"]
    oldest = client.get("/api/runs", params={"per_page": 25, "order": "asc"}).json()["items"]
    assert newest[0]["label"] == "job 59" and oldest[0]["label"] == "job 00"
    by_op = client.get("/api/runs", params={"sort": "operator", "order": "asc"}).json()
    assert by_op["items"][0]["operator"] == "@other/x/y"
    assert by_op["filters"]["sort"] == "operator"


def test_rerun_fail_and_delete_many(client, ops):
    done = [d.id for d in ops[-3:]]
    answer = client.post("/api/runs/rerun", json={"ids": done}).json()
    assert len(answer["new_ids"]) == 3
    queued = [ops[10].id, ops[11].id]
    assert client.post("/api/runs/fail", json={"ids": queued}).json()["done"] == queued
    assert client.get(f"/api/runs/{ops[10].id}").json()["state"] == "failed"
    assert client.post("/api/runs/delete", json={"ids": queued}).json()["done"] == queued
    assert client.get(f"/api/runs/{ops[10].id}").status_code == 404
    assert client.get("/api/runs").json()["total"] == 61


def test_refused_actions_change_nothing(client, ops):
    service = foo.DelegatedOperationService()
    service.set_running(ops[20].id, worker_id="w2")
    assert "w2 (1)" in client.get("/runs").text  # the busy workers above the table
    response = client.post("/api/runs/delete", json={"ids": [ops[21].id, ops[20].id]})
    assert response.status_code == 409 and "running" in response.json()["error"]
    assert client.get(f"/api/runs/{ops[21].id}").status_code == 200
    response = client.post("/api/runs/rerun", json={"ids": [ops[-1].id, ops[21].id]})
    assert response.status_code == 409
    assert client.get("/api/runs").json()["total"] == 60
    assert client.post("/api/runs/delete", json={"ids": ["f" * 24]}).status_code == 404
    assert client.post("/api/runs/delete", json={"ids": []}).status_code == 400
    assert client.post("/api/runs/delete", content=b"not json").status_code == 400


def test_plugin_actions(client):
    assert client.post("/api/plugins/disable", json={"names": ["@web/demo"]}).status_code == 200
    assert not fop.is_plugin_enabled("@web/demo")
    assert client.post("/api/plugins/enable", json={"names": ["@web/demo"]}).status_code == 200
    assert fop.is_plugin_enabled("@web/demo")
    response = client.post("/api/plugins/disable", json={"names": ["@voxel51/utils"]})
    assert response.status_code == 400 and "builtin" in response.json()["errors"][0].lower()
    both = client.post("/api/plugins/delete", json={"names": ["@evil/xss", "@no/such"]})
    assert both.status_code == 207 and both.json()["done"] == ["@evil/xss"]
    assert "not found" in both.json()["errors"][0]
    assert "@evil/xss" not in fop.list_downloaded_plugins()
    info = client.get("/api/plugins/info", params={"name": "@web/demo"}).json()
    assert info["operator_names"][0] == "greet"
    assert {"key": "FOP_WEB_TOKEN", "set": True} in info["secrets"]


def _wait_for(client, job_id):
    jobs = client.app.state.installs
    for _ in range(200):
        job = jobs.get(job_id)
        if job.state != "running":
            return job
        time.sleep(0.02)
    raise AssertionError("the install did not finish")


def test_install_from_a_local_folder_reports_like_the_cli(client, demo, tmp_path):
    source = tmp_path / "src" / "plugins" / "newone"
    source.mkdir(parents=True)
    (source / "fiftyone.yml").write_text('name: "@new/one"\nversion: 0.1.0\n')
    answer = client.post("/api/plugins/install", json={"source": str(tmp_path / "src")})
    assert answer.status_code == 202
    job = _wait_for(client, answer.json()["id"])
    assert job.state == "completed", job.errors
    assert job.rows[0]["plugin"] == "@new/one" and job.rows[0]["status"] == "installed"
    assert "@new/one" in fop.list_downloaded_plugins()
    again = client.post("/api/plugins/install", json={"source": str(tmp_path / "src")}).json()
    assert _wait_for(client, again["id"]).rows[0]["status"] == "skipped"


def test_install_errors_are_the_cli_errors(client, tmp_path):
    answer = client.post("/api/plugins/install", json={"source": str(tmp_path / "missing")})
    job = _wait_for(client, answer.json()["id"])
    assert job.state == "failed" and job.errors
    try:
        fop.download_plugin(str(tmp_path / "missing"))
    except Exception as e:
        assert job.errors == str(e).splitlines()
    assert client.post("/api/plugins/install", json={"source": " "}).status_code == 400


def test_operator_search(client):
    items = client.get("/api/operators", params={"q": "hello to"}).json()["items"]
    assert [i["uri"] for i in items] == ["@web/demo/greet"]
    assert client.get("/api/operators", params={"q": "SLOW"}).json()["total"] == 1
    uris = [i["uri"] for i in client.get("/api/operators").json()["items"]]
    assert "@web/demo/all_types" in uris and "@voxel51/operators/print_stdout" not in uris
    everything = client.get("/api/operators", params={"unlisted": "1"}).json()["items"]
    assert "@voxel51/operators/print_stdout" in [i["uri"] for i in everything]
    client.post("/api/plugins/disable", json={"names": ["@web/demo"]})
    assert client.get("/api/operators", params={"q": "greet"}).json()["total"] == 0


def test_dynamic_operators_are_re_resolved(client):
    def names(params):
        answer = client.post(
            "/api/operators/resolve", json={"uri": "@web/demo/dynamic_form", "params": params}
        ).json()
        assert answer["dynamic"]
        return [f["name"] for f in answer["form"]["fields"]]

    assert names({}) == ["more"]
    assert names({"more": True}) == ["more", "extra"]


def test_execution_options_decide_the_buttons(client):
    def options(uri):
        return client.post("/api/operators/resolve", json={"uri": uri}).json()["options"]

    assert options("@web/demo/greet") == {
        "immediate": True, "delegated": True, "default_delegated": False,
    }  # fmt: skip
    assert options("@web/demo/slow_count")["immediate"] is False
    assert options("@web/demo/all_types")["delegated"] is False
    assert client.post("/api/operators/resolve", json={"uri": "@x/y/z"}).status_code == 404


def test_execute_validates_runs_and_schedules(client):
    def run(params, delegate=False, uri="@web/demo/greet"):
        body = {"uri": uri, "params": params, "delegate": delegate}
        return client.post("/api/operators/execute", json=body).json()

    invalid = run({"times": 9})
    assert {v["path"] for v in invalid["validation"]} == {"name", "times"}
    done = run({"name": "Bo", "times": 2})
    assert done["ok"] and done["result"] == {"message": "Hello Bo Hello Bo", "length": 17}
    assert [f["name"] for f in done["outputs"]["fields"]] == ["message", "length"]
    assert done["requests"][0]["operator_uri"] == "reload_dataset"
    assert done["logs"] == ["greeted Bo"]
    scheduled = run({"name": "Cy"}, delegate=True)
    assert scheduled["delegated"] and scheduled["operation_id"]
    record = foo.DelegatedOperationService().get(scheduled["operation_id"])
    assert record.run_state.value == "queued"
    everything = run({}, uri="@web/demo/all_types")
    assert everything["ok"], everything


def test_an_immediate_run_reports_its_progress_while_it_runs(client):
    import threading
    import time

    answers = []
    body = {
        "uri": "@web/demo/count_live",
        "params": {"steps": 4, "delay": 0.3},
        "run": "abcd1234efgh",
    }
    worker = threading.Thread(
        target=lambda: answers.append(client.post("/api/operators/execute", json=body).json())
    )
    worker.start()
    seen = set()
    deadline = time.monotonic() + 10
    while worker.is_alive() and time.monotonic() < deadline:
        live = client.get("/api/operators/progress?run=abcd1234efgh").json()
        if live.get("label"):
            seen.add(live["label"])
        time.sleep(0.05)
    worker.join()
    assert answers[0]["ok"] and len(answers[0]["yielded"]) == 4
    assert len(seen) >= 2 and seen <= {f"counted {i}" for i in range(1, 5)}
    assert client.get("/api/operators/progress?run=abcd1234efgh").json() == {}  # cleaned up
    assert client.get("/api/operators/progress?run=unknown-token").json() == {}
