"""The dataset resolvers: the in-memory default and the adapter over the real ``fiftyone``.

FiftyOne itself is not installed here, so the adapter is checked against stand-in modules
with the shape of the FiftyOne API it calls (``fo.dataset_exists``/``fo.load_dataset``,
``fiftyone.core.dataset.Dataset``, ``DatasetView._build``/``_serialize``).
"""

from __future__ import annotations

import sys
import types

import pytest

from fiftyone_plugins.errors import ConfigError
from fiftyone_plugins.operators import datasets


class FakeDataset:
    def __init__(self, name: str, oid: str) -> None:
        self.name = name
        self._doc = types.SimpleNamespace(id=oid)

    def view(self) -> FakeView:
        return FakeView(self, [])


class FakeView:
    def __init__(self, dataset: FakeDataset, stages: list) -> None:
        self._root_dataset = dataset
        self.stages = stages

    def _serialize(self) -> list:
        return list(self.stages)

    @classmethod
    def _build(cls, dataset: FakeDataset, stages: list) -> FakeView:
        return cls(dataset, stages)


@pytest.fixture
def fake_fiftyone(monkeypatch):
    known = {"quickstart": FakeDataset("quickstart", "64aa")}
    fo = types.ModuleType("fiftyone")
    fo.dataset_exists = lambda name: name in known
    fo.load_dataset = lambda name: known[name]
    core = types.ModuleType("fiftyone.core")
    dataset_mod = types.ModuleType("fiftyone.core.dataset")
    dataset_mod.Dataset = FakeDataset
    view_mod = types.ModuleType("fiftyone.core.view")
    view_mod.DatasetView = FakeView
    odm = types.ModuleType("fiftyone.core.odm")
    odm_utils = types.ModuleType("fiftyone.core.odm.utils")

    def load_by_id(id):  # noqa: A002 - FiftyOne's keyword
        for dataset in known.values():
            if dataset._doc.id == id:
                return dataset
        raise ValueError(f"no dataset with id {id}")

    odm_utils.load_dataset = load_by_id
    for name, module in {
        "fiftyone": fo,
        "fiftyone.core": core,
        "fiftyone.core.dataset": dataset_mod,
        "fiftyone.core.view": view_mod,
        "fiftyone.core.odm": odm,
        "fiftyone.core.odm.utils": odm_utils,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return known


def test_the_fiftyone_adapter_loads_by_name_and_by_id(fake_fiftyone):
    resolver = datasets.FiftyOneDatasetResolver()
    quickstart = fake_fiftyone["quickstart"]
    assert resolver.load("quickstart") is quickstart
    assert resolver.load("64aa") is quickstart  # a renamed dataset is still found by id
    assert resolver.load("missing") is None and resolver.exists("missing") is False
    assert resolver.id_of(quickstart) == "64aa" and resolver.name_of(quickstart) == "quickstart"


def test_the_fiftyone_adapter_round_trips_views(fake_fiftyone):
    resolver = datasets.FiftyOneDatasetResolver()
    quickstart = fake_fiftyone["quickstart"]
    view = FakeView(quickstart, [{"_cls": "Limit", "kwargs": [["limit", 5]]}])
    assert resolver.is_dataset(quickstart) and not resolver.is_dataset(view)
    assert resolver.dataset_of(view) is quickstart
    serialized = resolver.serialize_view(view)
    rebuilt = resolver.load_view(quickstart, serialized)
    assert rebuilt.stages == view.stages and rebuilt._root_dataset is quickstart
    assert resolver.load_view(quickstart, None).stages == []  # the whole dataset
    assert resolver.serialize_view(None) is None


def test_the_in_memory_resolver_keeps_ids_across_renames():
    resolver = datasets.InMemoryDatasetResolver()
    dataset = types.SimpleNamespace(name="before")
    dataset_id = resolver.add(dataset)
    resolver.add(dataset, name="after")
    assert resolver.load(dataset_id) is dataset and resolver.load("after") is dataset
    assert resolver.load("before") is None and resolver.name_of(dataset) == "after"
    resolver.remove("after")
    assert resolver.load(dataset_id) is None


def test_a_configured_resolver_is_used_and_a_bad_path_is_a_config_error(monkeypatch):
    monkeypatch.setenv("FIFTYONE_DATASET_RESOLVER", f"{__name__}:FakeResolver")
    assert isinstance(datasets.get_resolver(), FakeResolver)
    monkeypatch.setenv("FIFTYONE_DATASET_RESOLVER", "no_such_module_q:Resolver")
    with pytest.raises(ConfigError, match="Cannot import the dataset resolver"):
        datasets.get_resolver()


class FakeResolver(datasets.DatasetResolver):
    pass
