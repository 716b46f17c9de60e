"""The dataset resolvers: the in-memory default and the choice of resolver.

The adapter over the real ``fiftyone`` is tested against FiftyOne itself, in
``tests/fiftyone/`` (which runs in the FiftyOne virtual environment).
"""

from __future__ import annotations

import types

import pytest

from fiftyone_plugins.errors import ConfigError
from fiftyone_plugins.operators import datasets


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
