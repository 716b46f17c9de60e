"""ExecutionContext: built directly from request_params (as plugins do) and by the executor."""

from __future__ import annotations

import json

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.config import update_app_config
from fiftyone_plugins.operators.datasets import InMemoryDatasetResolver, default_resolver


def test_defaults_of_an_empty_context():
    ctx = foo.ExecutionContext()
    assert ctx.params == {} and ctx.selected == [] and ctx.selected_labels == []
    assert ctx.dataset is None and ctx.view is None and ctx.dataset_name is None
    assert ctx.current_sample is None and ctx.user is None and ctx.user_id is None
    assert ctx.delegated is False and ctx.requesting_delegated_execution is False
    assert ctx.results == {} and ctx.secrets["ANYTHING"] is None
    ctx.set_progress(0.5, "half")  # harmless without a delegated operation
    assert ctx.progress == (0.5, "half")


def test_request_params_are_used_as_given():
    params = {"x": 1}
    request = {
        "params": params,
        "selected": ["s1"],
        "selected_labels": [{"label_id": "l"}],
        "current_sample": "s1",
        "user": {"id": "u1"},
        "delegated": True,
        "delegation_target": "gpu",
        "results": {"a": 1},
    }
    ctx = foo.ExecutionContext(request)
    assert ctx.params is params  # a plain mutable dict, as in the reference
    ctx.params["y"] = 2
    assert request["params"] == {"x": 1, "y": 2}
    assert ctx.selected == ["s1"] and ctx.selected_labels == [{"label_id": "l"}]
    assert ctx.user_id == "u1" and ctx.delegated is True and ctx.delegation_target == "gpu"
    assert ctx.results == {"a": 1}


def test_trigger_works_without_an_executor():
    ctx = foo.ExecutionContext({"params": {"panel_id": "p"}})
    ctx.trigger("reload_dataset")
    ctx.ops.open_panel("Embeddings", layout="horizontal")
    ctx.ops.set_panel_state({"a": 1})
    ctx.ops.custom_thing(value=3)
    ctx.prompt("@me/p/op", params={"a": 1})
    requests = [(r.operator_uri, r.params) for r in ctx.executor.requests]
    assert requests[0] == ("reload_dataset", {})
    assert requests[1] == (
        "open_panel",
        {"name": "Embeddings", "layout": "horizontal"},
    )
    assert requests[2] == ("set_panel_state", {"panel_id": "p", "state": {"a": 1}})
    assert requests[3] == ("custom_thing", {"value": 3})
    assert requests[4][0] == "prompt_user_for_operation"


def test_datasets_resolve_through_the_resolver():
    class Dataset:
        def __init__(self, name):
            self.name = name

    class View:
        def __init__(self, dataset):
            self.dataset = dataset

    resolver = InMemoryDatasetResolver()
    dataset = Dataset("flowers")
    uid = resolver.add(dataset)
    ctx = foo.ExecutionContext({"dataset_name": "flowers"}, resolver=resolver)
    assert ctx.dataset is dataset and ctx.view is dataset
    ctx = foo.ExecutionContext({"dataset_id": uid}, resolver=resolver)
    assert ctx.dataset is dataset and ctx.dataset_name == "flowers"
    view = View(dataset)
    ctx = foo.ExecutionContext({}, view=view, resolver=resolver)
    assert ctx.dataset is dataset and ctx.view is view
    data = ctx.request_data()
    assert data["dataset_name"] == "flowers" and data["dataset_id"] == uid
    assert set(ctx.serialize()) == {"request_params", "params"}  # FiftyOne's form
    assert resolver.load_view(dataset, data["view"]) is view
    json.dumps(data)


def test_serialize_never_holds_secrets_or_objects():
    ctx = foo.ExecutionContext(
        {"params": {"a": 1}, "secrets": {"K": "hunter2"}, "dataset": object()},
        secrets={"K": "hunter2"},
        required_secrets=["K"],
    )
    assert ctx.secrets["K"] == "hunter2"
    data = ctx.request_data()
    assert "secrets" not in data and "dataset" not in data
    assert "hunter2" not in json.dumps(ctx.serialize())
    assert "hunter2" not in repr(ctx) and "hunter2" not in json.dumps(data)


def test_plugin_settings_merge_system_wide_and_dataset_specific(env):
    def change(data):
        data.setdefault("plugins", {})["@me/p"] = {"a": 1, "b": 2}

    update_app_config(change)
    ctx = foo.ExecutionContext({"plugin_settings": {"b": 3}}, operator_uri="@me/p/op")
    assert ctx.plugin_name == "@me/p"
    assert ctx.plugin_settings == {"a": 1, "b": 3}
    assert ctx.get_plugin_setting("a") == 1

    class AppConfig:
        plugins = {"@me/p": {"c": 4}}

    class Dataset:
        app_config = AppConfig()

    ctx = foo.ExecutionContext({}, operator_uri="@me/p/op", dataset=Dataset())
    assert ctx.plugin_settings == {"a": 1, "b": 2, "c": 4}

    # a dataset given by name (always so in a worker) counts before ctx.dataset is read
    resolver = default_resolver()
    dataset_id = resolver.add(Dataset(), name="by-name")
    try:
        ctx = foo.ExecutionContext({"dataset_name": "by-name"}, operator_uri="@me/p/op")
        assert ctx.plugin_settings == {"a": 1, "b": 2, "c": 4}
    finally:
        resolver.remove(dataset_id)


def test_store_is_scoped_to_the_plugin(env):
    ctx = foo.ExecutionContext({}, operator_uri="@me/p/op")
    store = ctx.store("cache")
    assert store.plugin_name == "@me/p" and store.store_name == "cache"
    assert store.dataset_id is None
    with pytest.raises(ValueError):
        foo.ExecutionContext().store("x")


def test_panel_ref_reads_and_patches_state():
    ctx = foo.ExecutionContext({"params": {"panel_id": "p", "state": {"a": {"b": 1}}}})
    assert ctx.panel.state.get("a.b") == 1 and ctx.panel.id == "p"
    ctx.panel.state.set("a.c", 2)
    ctx.panel.data.rows = [1]
    assert ctx.panel.get_state("a.c") == 2
    names = [r.operator_uri for r in ctx.executor.requests]
    assert names == ["patch_panel_state", "patch_panel_data"]
    with pytest.raises(AttributeError):
        ctx.panel.data.get("rows")


def test_the_executor_builds_the_context(env):
    env.add_fixture_plugin("kinds")
    update_app_config(lambda d: d.setdefault("plugins", {}).update({"@test/kinds": {"k": "v"}}))
    result = foo.execute_operator(
        "@test/kinds/context_op", selected=["a"], user="ada", results={"r": 1}
    ).result
    assert result["selected"] == ["a"] and result["user"] == "ada"
    assert result["results"] == {"r": 1} and result["settings"] == {"k": "v"}


def test_a_custom_resolver_is_named_by_a_dotted_path(env, tmp_path, monkeypatch):
    from fiftyone_plugins.operators import datasets

    (tmp_path / "my_host_resolver.py").write_text(
        "from fiftyone_plugins.operators.datasets import DatasetResolver\n"
        "class Resolver(DatasetResolver):\n"
        "    def load(self, name_or_id):\n"
        "        return {'loaded': name_or_id}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FIFTYONE_DATASET_RESOLVER", "my_host_resolver:Resolver")
    resolver = datasets.get_resolver()
    assert type(resolver).__name__ == "Resolver" and datasets.get_resolver() is resolver
    ctx = foo.ExecutionContext({"dataset_name": "cats"})
    assert ctx.dataset == {"loaded": "cats"}
    monkeypatch.setenv("FIFTYONE_DATASET_RESOLVER", "no_such_module_xyz.Resolver")
    from fiftyone_plugins.errors import ConfigError

    with pytest.raises(ConfigError, match="no_such_module_xyz"):
        datasets.get_resolver()
    monkeypatch.delenv("FIFTYONE_DATASET_RESOLVER")
    assert datasets.get_resolver() is datasets.default_resolver()
    explicit = InMemoryDatasetResolver()
    datasets.set_resolver(explicit)
    try:
        assert datasets.get_resolver() is explicit
    finally:
        datasets.set_resolver(None)
