"""The builtin plugins: print_stdout, list_files and the delegate operator."""

from __future__ import annotations

import pytest

import fiftyone_plugins.operators as foo
from fiftyone_plugins.operators import registry
from fiftyone_plugins.operators.datasets import default_resolver
from fiftyone_plugins.operators.delegated import DelegatedOperationService

BUILTINS = {
    "@voxel51/operators/print_stdout",
    "@voxel51/operators/list_files",
    "@voxel51/utils/delegate",
}


def run_queued(uri: str):
    return DelegatedOperationService().execute_queued_operations(operator=uri)


def test_builtins_are_listed_as_builtin_and_unlisted():
    entries = {e.uri: e for e in registry.list_entries(builtin=True)}
    assert set(entries) == BUILTINS
    assert all(e.builtin and e.unlisted and e.enabled for e in entries.values())


def test_print_stdout(capsys):
    foo.execute_operator("@voxel51/operators/print_stdout", params={"msg": "hello there"})
    assert capsys.readouterr().out == "hello there\n"
    foo.get_operator("@voxel51/operators/print_stdout")("via call")
    assert capsys.readouterr().out == "via call\n"


def test_list_files(tmp_path):
    tmp_path = tmp_path / "listing"
    tmp_path.mkdir()
    (tmp_path / "a.txt").write_text("abc")
    (tmp_path / "sub").mkdir()
    files = foo.execute_operator(
        "@voxel51/operators/list_files", params={"path": str(tmp_path)}
    ).result["files"]
    assert [(f["name"], f["type"], f["size"]) for f in files] == [
        ("a.txt", "file", 3),
        ("sub", "directory", None),
    ]
    assert files[0]["absolute_path"] == str(tmp_path / "a.txt")
    filesystems = foo.get_operator("@voxel51/operators/list_files")(list_filesystems=True)
    assert filesystems.result["filesystems"][0]["name"] == "local"
    missing = foo.execute_operator(
        "@voxel51/operators/list_files", params={"path": str(tmp_path / "nope")}
    ).result
    assert missing["files"] == [] and "Cannot list" in missing["error"]


def test_delegate_a_dotted_function_call():
    delegate = foo.get_operator("@voxel51/utils/delegate")
    queued = delegate("json.dumps", {"a": 1}, sort_keys=True)
    assert queued.delegated is True
    context = queued.result["context"]
    assert context["params"]["fcn"] == "json.dumps"
    assert context["params"]["args"] == [{"a": 1}]
    [done] = run_queued("@voxel51/utils/delegate")
    assert done.error is None and done.result == '{"a": 1}'


class DemoDataset:
    def __init__(self, name):
        self.name = name
        self.calls = []

    def compute_metadata(self, overwrite=False):
        self.calls.append(("compute_metadata", overwrite))
        return len(self.calls)


@pytest.fixture
def demo_dataset():
    dataset = DemoDataset("demo")
    uid = default_resolver().add(dataset)
    yield dataset
    default_resolver().remove(uid)


def test_delegate_a_method_of_a_dataset(demo_dataset):
    delegate = foo.get_operator("@voxel51/utils/delegate")
    queued = delegate("compute_metadata", dataset=demo_dataset, overwrite=True)
    assert queued.result["dataset_name"] == "demo"
    [done] = run_queued("@voxel51/utils/delegate")
    assert done.error is None and done.result == 1
    assert demo_dataset.calls == [("compute_metadata", True)]


def test_delegate_a_function_applied_to_a_dataset(demo_dataset):
    delegate = foo.get_operator("@voxel51/utils/delegate")
    delegate("builtins.getattr", "name", dataset=demo_dataset)
    [done] = run_queued("@voxel51/utils/delegate")
    assert done.result == "demo"


def test_delegate_failures_are_recorded():
    delegate = foo.get_operator("@voxel51/utils/delegate")
    delegate("compute_metadata")  # a method name needs a dataset
    delegate("no_such_module_xyz.fn")
    done = run_queued("@voxel51/utils/delegate")
    assert [d.run_state.value for d in done] == ["failed", "failed"]
    assert "pass dataset= or view=" in done[0].error
    with pytest.raises(TypeError):
        delegate(42)


def test_a_downloaded_plugin_overrides_only_its_own_uris(env, capsys):
    env.add_fixture_plugin("override_operators")
    assert (
        foo.execute_operator("@voxel51/operators/print_stdout", params={"msg": "x"}).result
        == "downloaded print_stdout"
    )
    assert capsys.readouterr().out == ""
    assert foo.get_operator("@voxel51/operators/list_files").builtin is True
