"""FiftyOne as a host: plugins built on FiftyOne's own classes, run here on real datasets.

The fixture plugin ``@test/fo_host`` subclasses FiftyOne's ``Operator``/``Panel`` (its
``import fiftyone.operators as foo`` is FiftyOne's module: nothing is shadowed) and works the
way Voxel51's plugins do. Each test runs it through this library: the registry, immediate
runs with datasets and views, validation against FiftyOne's form types, delegation into the
SQLite and MongoDB stores, and workers in other processes that reload the dataset and view.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

import fiftyone_plugins as fop
import fiftyone_plugins.operators as ops
from fiftyone_plugins.errors import ValidationError
from fiftyone_plugins.operators import executor

IMAGE_SIZES = [(16 + 8 * i, 12 + 4 * i) for i in range(5)]  # see conftest.images_dir
URI = "@test/fo_host"


def _requests(result: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(r.operator_uri, r.params) for r in result.executor.requests]


# -- FiftyOne stays FiftyOne ------------------------------------------------------------------


def test_fiftyone_is_the_real_one_and_is_never_shadowed(host: Any, fo: Any) -> None:
    import fiftyone.operators as foo

    from fiftyone_plugins import compat

    assert compat.install() is False and not compat.installed()
    # the .pth hook of this library's installation ran at start-up and stood aside
    assert "_fiftyone_plugins_hook" in sys.modules
    assert foo.__file__.startswith(fo.__path__[0])
    assert foo.Operator.__module__ == "fiftyone.operators.operator"
    assert foo.execute_operator.__module__ == "fiftyone.operators.executor"
    ops.list_operators()  # loading the plugins changes none of that
    assert sys.modules["fiftyone.operators"] is foo and not compat.installed()


# -- registration ------------------------------------------------------------------------------


def test_fiftyone_classes_register_with_their_uris(host: Any, fo: Any) -> None:
    import fiftyone.operators as foo

    listed = {op.uri: op for op in ops.list_operators(builtin=False)}
    assert set(listed) == {
        f"{URI}/measure_images",
        f"{URI}/build_dataset",
        f"{URI}/tag_target",
        f"{URI}/count_in_store",
        f"{URI}/read_token",
        f"{URI}/count_flat",
        f"{URI}/sample_counter",
    }
    assert all(isinstance(op, foo.Operator) for op in listed.values())
    assert isinstance(listed[f"{URI}/sample_counter"], foo.Panel)
    assert fop.list_plugin_errors() == [] and ops.registry.list_errors() == []
    op = ops.get_operator(f"{URI}/measure_images")
    assert op is listed[f"{URI}/measure_images"] and op.plugin_name == URI
    assert op.config.to_json()["risk_level"]  # FiftyOne's own config, fields and all


def test_operators_list_shows_them_and_flags_the_panel(cli: Any) -> None:
    done = cli("operators", "list", "--include-unlisted")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("uri"))
    starts = {name: header.index(name) for name in ("enabled", "panel")}

    def column(line: str, name: str) -> str:
        return line[starts[name] : starts[name] + len(name) + 1].strip()

    rows = {line.split()[0]: line for line in lines if line.startswith(URI)}
    assert len(rows) == 7
    assert all(column(row, "enabled") == "✓" for row in rows.values())
    assert [uri for uri, row in rows.items() if column(row, "panel")] == [f"{URI}/sample_counter"]
    assert "failed" not in done.stdout.lower()


# -- immediate runs ----------------------------------------------------------------------------


def test_a_generator_computes_per_sample_and_asks_to_reload(host: Any, dataset: Any) -> None:
    result = ops.execute_operator(f"{URI}/measure_images", ctx={"dataset": dataset})
    assert result.result is None and result.error is None
    measured = [item for item in result.yielded if isinstance(item, dict)]
    assert measured[-1] == {"measured": 5}
    assert _requests(result)[-1] == ("reload_dataset", {})
    dataset.reload()
    assert list(zip(dataset.values("width"), dataset.values("height"), strict=True)) == (
        IMAGE_SIZES
    )


def test_a_view_is_what_the_operator_targets(host: Any, dataset: Any) -> None:
    view = dataset.skip(1).limit(2)
    tag = ops.execute_operator(
        f"{URI}/tag_target",
        ctx={"view": view},
        params={"tag": "pair", "view_target": "CURRENT_VIEW"},
    )
    assert tag.result == {"tagged": 2, "with_tag": 2}
    assert set(dataset.match_tags("pair").values("id")) == set(view.values("id"))
    assert ("reload_dataset", {}) in _requests(tag)
    # no choice given: the view, since the request has one (as FiftyOne decides)
    untag = ops.execute_operator(
        f"{URI}/tag_target", ctx={"view": view}, params={"tag": "pair", "mode": "remove"}
    )
    assert untag.result["with_tag"] == 0
    # the whole dataset
    everything = ops.execute_operator(
        f"{URI}/tag_target", ctx={"view": view}, params={"tag": "all", "view_target": "DATASET"}
    )
    assert everything.result["tagged"] == len(dataset) == 5


def test_the_selection_is_a_target(host: Any, dataset: Any) -> None:
    chosen = dataset.values("id")[3:]
    result = ops.execute_operator(
        f"{URI}/tag_target",
        ctx={"dataset": dataset, "selected": chosen},
        params={"tag": "picked", "view_target": "SELECTED_SAMPLES"},
    )
    assert result.result == {"tagged": 2, "with_tag": 2}
    assert set(dataset.match_tags("picked").values("id")) == set(chosen)


def test_fiftyone_forms_validate_the_params(host: Any, dataset: Any) -> None:
    uri = f"{URI}/tag_target"
    with pytest.raises(ValidationError) as missing:
        ops.execute_operator(uri, ctx={"dataset": dataset}, params={})
    assert "Path: tag. Reason: Required property" in str(missing.value)
    with pytest.raises(ValidationError) as bad_enum:
        ops.execute_operator(uri, ctx={"dataset": dataset}, params={"tag": "x", "mode": "maybe"})
    assert "Path: mode. Reason: Invalid enum value" in str(bad_enum.value)
    # a view target the form does not offer (no view, no selection: only the dataset)
    with pytest.raises(ValidationError) as bad_target:
        ops.execute_operator(
            uri, ctx={"dataset": dataset}, params={"tag": "x", "view_target": "CURRENT_VIEW"}
        )
    assert "Path: view_target" in str(bad_target.value)
    with pytest.raises(ValidationError):
        ops.execute_operator(
            f"{URI}/count_in_store", ctx={"dataset": dataset}, params={"min_width": -1}
        )
    assert len(dataset.match_tags("x")) == 0  # nothing ran


def test_the_input_form_is_fiftyones_own(host: Any, dataset: Any, fo: Any) -> None:
    import fiftyone.operators.types as fotypes

    form = executor.resolve_type(f"{URI}/measure_images", {"dataset_name": dataset.name})
    assert isinstance(form, fotypes.Property)
    assert isinstance(form.type.properties["view_target"], fotypes.ViewTargetProperty)
    assert form.to_json()["type"]["properties"]["view_target"]["default"] == "DATASET"
    outputs = executor.resolve_type(f"{URI}/build_dataset", {}, "outputs")
    assert set(outputs.to_json()["type"]["properties"]) == {"dataset", "count"}


def test_an_operator_creates_a_dataset(host: Any, fo: Any, images_dir: Any) -> None:
    name = "fo-host-built"
    try:
        result = ops.execute_operator(
            f"{URI}/build_dataset",
            params={"name": name, "images_dir": str(images_dir), "tags": ["new"]},
        )
        assert result.result["count"] == 5
        assert ("open_dataset", {"dataset": name}) in _requests(result)
        built = fo.load_dataset(name)
        assert len(built.match_tags("new")) == 5 and str(built._doc.id) == result.result["id"]
    finally:
        if fo.dataset_exists(name):
            fo.delete_dataset(name)


def test_the_execution_store_is_scoped_to_the_dataset(host: Any, dataset: Any, fo: Any) -> None:
    ops.execute_operator(f"{URI}/measure_images", ctx={"dataset": dataset})
    first = ops.execute_operator(
        f"{URI}/count_in_store", ctx={"dataset": dataset}, params={"min_width": 30}
    )
    assert first.result == {"runs": 1, "wide": 3, "last_count": 5}
    again = ops.execute_operator(f"{URI}/count_in_store", ctx={"dataset": dataset.name})
    assert again.result["runs"] == 2
    other = fo.Dataset()
    try:
        elsewhere = ops.execute_operator(f"{URI}/count_in_store", ctx={"dataset": other})
        assert elsewhere.result == {"runs": 1, "wide": 0, "last_count": None}
    finally:
        other.delete()


def test_secrets_come_from_the_environment(host: Any, monkeypatch: Any) -> None:
    assert ops.execute_operator(f"{URI}/read_token").result == {"has_token": False, "length": 0}
    monkeypatch.setenv("FO_HOST_TOKEN", "s3cret")
    result = ops.execute_operator(f"{URI}/read_token")
    assert result.result == {"has_token": True, "length": 6}
    assert "s3cret" not in json.dumps(result.to_json())


def test_a_fiftyone_panel_loads_and_renders(host: Any, dataset: Any) -> None:
    result = ops.execute_operator(
        f"{URI}/sample_counter",
        ctx={"view": dataset.limit(3)},
        params={"__method__": "on_load", "panel_id": "p1", "panel_state": {}},
    )
    requests = dict(_requests(result))
    assert requests["patch_panel_state"] == {"panel_id": "p1", "state": {"count": 3}}
    assert "count" in requests["show_panel_output"]["output"]["type"]["properties"]


def test_the_plugins_own_call_still_goes_through_fiftyone(
    host: Any, dataset: Any, fo: Any
) -> None:
    # the plugin's __call__ uses FiftyOne's execute_operator, hence FiftyOne's registry
    fo.config.plugins_dir = str(host.plugins_dir)
    try:
        result = ops.get_operator(f"{URI}/measure_images")(dataset)
    finally:
        fo.config.plugins_dir = None
    assert type(result).__module__ == "fiftyone.operators.executor"
    dataset.reload()
    assert dataset.values("width") == [w for w, _ in IMAGE_SIZES]


def test_grouped_datasets_are_flattened_to_the_active_slice(host: Any, fo: Any, images_dir: Any):
    grouped = fo.Dataset()
    try:
        grouped.add_group_field("group", default="left")
        paths = sorted(str(p) for p in images_dir.iterdir())
        samples = []
        for left, right in zip(paths[:2], paths[2:4], strict=True):
            group = fo.Group()
            samples.append(fo.Sample(filepath=left, group=group.element("left")))
            samples.append(fo.Sample(filepath=right, group=group.element("right")))
        grouped.add_samples(samples)
        uri = f"{URI}/count_flat"
        form = executor.resolve_type(uri, {"dataset_id": str(grouped._doc.id)})
        target = form.to_json()["type"]["properties"]["view_target"]
        assert target["view"]["name"] != "HiddenView"  # the slice scope stays visible
        flat = ops.execute_operator(uri, ctx={"dataset": grouped, "group_slice": "right"})
        assert flat.result == {"count": 2, "media_type": "image"}  # one slice, not the groups
        whole = ops.execute_operator(
            uri, ctx={"dataset": grouped}, params={"view_target": "CURRENT_VIEW"}
        )
        assert whole.result == {"count": 2, "media_type": "image"}  # the default slice
    finally:
        grouped.delete()


# -- the dataset adapter ---------------------------------------------------------------------


def test_the_adapter_loads_by_id_then_name_and_round_trips_views(dataset: Any, fo: Any) -> None:
    from fiftyone_plugins.operators.datasets import FiftyOneDatasetResolver, get_resolver

    resolver = get_resolver()
    assert isinstance(resolver, FiftyOneDatasetResolver)
    dataset_id = resolver.id_of(dataset)
    assert dataset_id == str(dataset._doc.id)
    assert resolver.load(dataset.name) is dataset and resolver.load(dataset_id) is dataset
    assert resolver.exists(dataset_id) and resolver.exists(dataset.name)
    assert resolver.load("no-such-dataset") is None and not resolver.exists("no-such-dataset")
    view = dataset.sort_by("filepath", reverse=True).limit(2)
    rebuilt = resolver.load_view(dataset, json.loads(json.dumps(resolver.serialize_view(view))))
    assert rebuilt.values("id") == view.values("id")
    assert resolver.serialize_view(dataset) is None
    assert resolver.is_default_view(dataset.view()) and not resolver.is_default_view(view)
    assert resolver.dataset_of(view) is dataset


# -- delegated ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "mongo"])
def store(request: Any, host: Any, monkeypatch: Any, mongod_uri: str) -> str:
    """The delegated-operations store of the test: a SQLite file or a MongoDB database."""
    from _mongod import unique_db_uri

    if request.param == "sqlite":
        url = f"sqlite:///{host.root / 'ops.db'}"
    else:
        url = unique_db_uri(mongod_uri, "fo_host_ops")
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", url)
    return url


def test_delegated_runs_reload_dataset_and_view_in_a_worker(
    store: str, cli: Any, dataset: Any
) -> None:
    view = dataset.skip(2)
    queued = ops.execute_operator(
        f"{URI}/tag_target",
        ctx={"view": view},
        params={"tag": "late", "view_target": "CURRENT_VIEW"},
        request_delegation=True,
    )
    measured = ops.execute_operator(
        f"{URI}/measure_images", ctx={"dataset": dataset}, request_delegation=True
    )
    assert queued.delegated and measured.delegated
    record = queued.result
    assert record["run_state"] == "queued" and record["dataset_id"] == str(dataset._doc.id)
    assert record["context"]["view"] == json.loads(json.dumps(view._serialize()))
    assert len(dataset.match_tags("late")) == 0  # nothing ran yet
    done = cli.drain()
    assert "2 completed, 0 failed" in done.stderr, done.stdout + done.stderr
    service = ops.DelegatedOperationService()
    finished = service.get(record["id"])
    assert finished.run_state == "completed"
    assert finished.result == {"tagged": 3, "with_tag": 3}
    dataset.reload()
    assert set(dataset.match_tags("late").values("id")) == set(view.values("id"))
    assert dataset.values("width") == [w for w, _ in IMAGE_SIZES]
    assert service.get(measured.result["id"]).progress is not None


def test_a_worker_finds_a_renamed_dataset_by_id(store: str, cli: Any, dataset: Any) -> None:
    queued = ops.execute_operator(
        f"{URI}/tag_target",
        ctx={"dataset": dataset},
        params={"tag": "moved"},
        request_delegation=True,
    )
    dataset.name = dataset.name + "-renamed"
    cli.drain()
    op = ops.DelegatedOperationService().get(queued.result["id"])
    assert op.run_state == "completed", op.error
    dataset.reload()
    assert len(dataset.match_tags("moved")) == 5


def test_a_worker_fails_an_operation_whose_dataset_is_gone(
    store: str, cli: Any, dataset: Any, fo: Any
) -> None:
    queued = ops.execute_operator(
        f"{URI}/tag_target",
        ctx={"dataset": dataset},
        params={"tag": "t"},
        request_delegation=True,
    )
    fo.delete_dataset(dataset.name)
    cli("delegated", "launch", "--once")
    op = ops.DelegatedOperationService().get(queued.result["id"])
    assert op.run_state == "failed" and "not found" in op.error.lower()


def test_a_delegated_function_call_on_a_dataset(store: str, cli: Any, dataset: Any) -> None:
    delegate = ops.get_operator("@voxel51/utils/delegate")
    queued = delegate("compute_metadata", dataset=dataset, overwrite=True)
    assert queued.delegated
    cli.drain()
    assert ops.DelegatedOperationService().get(queued.result["id"]).run_state == "completed"
    dataset.reload()
    widths = [m.width for m in dataset.values("metadata")]
    assert widths == [w for w, _ in IMAGE_SIZES]


def test_operators_execute_on_a_dataset_by_name(cli: Any, dataset: Any) -> None:
    done = cli(
        "operators", "execute", f"{URI}/tag_target",
        "--dataset", dataset.name, "--params", json.dumps({"tag": "cli"}),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == {"tagged": 5, "with_tag": 5}
    queued = cli(
        "operators", "execute", f"{URI}/measure_images", "--dataset", dataset.name, "--delegate"
    )
    assert queued.returncode == 0 and "queued" in queued.stdout, queued.stderr


def test_fiftyone_ids_and_risk_levels_are_understood(store: str, host: Any, dataset: Any) -> None:
    import fiftyone.operators.types as fotypes

    queued = ops.execute_operator(
        f"{URI}/measure_images", ctx={"dataset": dataset}, request_delegation=True
    )
    service = ops.DelegatedOperationService()
    oid = dataset._doc.id  # a bson ObjectId, as FiftyOne's code passes it
    assert service.count(filters={"dataset_id": oid}) == 1
    assert [op.id for op in service.list_operations(dataset_id=oid)] == [queued.result["id"]]
    assert service.get(doc_id=queued.result["id"]).label == "Measure images"
    config = ops.OperatorConfig("x", risk_level=fotypes.RiskLevel.LOW)  # FiftyOne's enum
    assert config.to_json()["risk_level"] == "low"
    assert ops.get_operator(f"{URI}/tag_target").risk_level == fotypes.RiskLevel.DANGEROUS
