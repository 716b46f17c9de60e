"""The host's datasets: a small pluggable resolver between names, objects and stable ids.

The library never creates datasets; ``execute_operator(..., dataset=..., view=...)`` takes
whatever objects the host passes. A resolver is needed only where an object must become
data and back: a delegated request stores the dataset's name and id and the serialized view,
and the worker turns them into objects again.

Which resolver is used (:func:`get_resolver`):

1. the config field ``dataset_resolver`` (env ``FIFTYONE_DATASET_RESOLVER``): a dotted path
   ``module:attr`` or ``module.attr`` naming a resolver class (instantiated with no
   arguments), a factory function or an instance;
2. else, when the real ``fiftyone`` distribution is installed, :class:`FiftyOneDatasetResolver`;
3. else the process-wide :class:`InMemoryDatasetResolver`, for tests and demos.

A resolver is any object with the methods of :class:`DatasetResolver`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from .._dotted import import_object
from ..errors import ConfigError, DatasetNotFoundError

__all__ = [
    "DatasetResolver",
    "FiftyOneDatasetResolver",
    "InMemoryDatasetResolver",
    "get_resolver",
    "set_resolver",
]


class DatasetResolver:
    """The interface: turn datasets and views into names, ids and JSON, and back.

    Subclass it (or duck-type it); every method has a conservative default.
    """

    def load(self, name_or_id: str) -> Any | None:
        """The dataset with this id or name, or ``None``."""
        return None

    def exists(self, name_or_id: str) -> bool:
        """Whether a dataset with this id or name exists (delegated cleanup asks)."""
        return self.load(name_or_id) is not None

    def name_of(self, dataset: Any) -> str | None:
        """The dataset's name."""
        name = getattr(dataset, "name", None)
        return name if isinstance(name, str) else None

    def id_of(self, dataset: Any) -> str | None:
        """The dataset's stable id (kept when it is renamed), or ``None``."""
        value = getattr(dataset, "id", None)
        return None if value is None else str(value)

    def is_dataset(self, obj: Any) -> bool:
        """Whether ``obj`` is a dataset (as opposed to a view of one)."""
        return True

    def dataset_of(self, view: Any) -> Any | None:
        """The dataset a view belongs to (a dataset is its own)."""
        return view if self.is_dataset(view) else getattr(view, "dataset", None)

    def default_view(self, dataset: Any) -> Any:
        """The view of a whole dataset."""
        return dataset

    def serialize_view(self, view: Any) -> Any:
        """A JSON form of ``view`` (``None`` means "the whole dataset")."""
        return None

    def load_view(self, dataset: Any, serialized: Any) -> Any:
        """The view that :meth:`serialize_view` described, on ``dataset``."""
        return self.default_view(dataset)

    def sample_ids(self, view: Any) -> list[str]:
        """The ids of a view's samples, in order (what a fan-out splits into batches).

        FiftyOne's views answer ``values("id")``; any other view is iterated for its
        samples' ``id`` (or the items themselves when they have none).
        """
        values = getattr(view, "values", None)
        if callable(values):
            return [str(v) for v in values("id")]
        return [str(getattr(sample, "id", sample)) for sample in view]

    def select(self, view: Any, ids: list[str]) -> Any:
        """The samples of ``view`` with these ids: a fan-out slice's view (FiftyOne's
        ``select``; else a list of the matching samples)."""
        select = getattr(view, "select", None)
        if callable(select):
            return select(ids)
        wanted = set(ids)
        return [s for s in view if str(getattr(s, "id", s)) in wanted]


class InMemoryDatasetResolver(DatasetResolver):
    """Datasets and views registered in this process: for tests, demos and simple hosts.

    ``add(obj, name=None)`` registers any object as a dataset (its ``name`` attribute is used
    when no name is given) and returns its id. Views are any objects with a ``dataset``
    attribute pointing at a registered dataset; they are serialized by reference, so they
    only round-trip within this process (as the ``memory://`` delegated store does).
    """

    def __init__(self) -> None:
        self._by_id: dict[str, Any] = {}
        self._names: dict[str, str] = {}  # name -> id
        self._ids: dict[int, str] = {}  # id(object) -> id
        self._views: dict[str, Any] = {}
        self._lock = threading.Lock()

    def add(self, dataset: Any, name: str | None = None) -> str:
        """Registers ``dataset`` (under ``name``) and returns its stable id."""
        name = name or DatasetResolver.name_of(self, dataset)
        if not name:
            raise ValueError("A dataset needs a name: pass name= or give it a .name")
        with self._lock:
            key = self._ids.get(id(dataset))
            if key is None:
                key = uuid.uuid4().hex[:24]
                self._ids[id(dataset)] = key
                self._by_id[key] = dataset
            for old, value in list(self._names.items()):
                if value == key:
                    del self._names[old]
            self._names[name] = key
        return key

    def remove(self, name_or_id: str) -> None:
        with self._lock:
            key = self._names.pop(name_or_id, None) or name_or_id
            dataset = self._by_id.pop(key, None)
            if dataset is not None:
                self._ids.pop(id(dataset), None)
            for old, value in list(self._names.items()):
                if value == key:
                    del self._names[old]

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()
            self._names.clear()
            self._ids.clear()
            self._views.clear()

    def load(self, name_or_id: str) -> Any | None:
        key = self._names.get(name_or_id, name_or_id)
        return self._by_id.get(key)

    def name_of(self, dataset: Any) -> str | None:
        key = self._ids.get(id(dataset))
        if key is not None:
            for name, value in self._names.items():
                if value == key:
                    return name
        return DatasetResolver.name_of(self, dataset)

    def id_of(self, dataset: Any) -> str | None:
        key = self._ids.get(id(dataset))
        return key if key is not None else DatasetResolver.id_of(self, dataset)

    def is_dataset(self, obj: Any) -> bool:
        return id(obj) in self._ids or getattr(obj, "dataset", None) is None

    def serialize_view(self, view: Any) -> Any:
        if view is None or self.is_dataset(view):
            return None
        key = uuid.uuid4().hex
        with self._lock:
            self._views[key] = view
        return {"_in_memory_view": key}

    def load_view(self, dataset: Any, serialized: Any) -> Any:
        if isinstance(serialized, dict) and "_in_memory_view" in serialized:
            view = self._views.get(serialized["_in_memory_view"])
            if view is not None:
                return view
        return dataset


class FiftyOneDatasetResolver(DatasetResolver):
    """Adapter for the real ``fiftyone`` package (used when it is installed).

    Datasets load by id first (an id survives renames), then by name; views serialize to
    FiftyOne's own stage list (``view._serialize()``) and are rebuilt on the dataset with
    ``DatasetView._build``; the App's ``filters``/``extended`` stages go through FiftyOne's
    ``fiftyone.server.view.get_view``.
    """

    def load(self, name_or_id: str) -> Any | None:
        import fiftyone as fo

        if _looks_like_object_id(name_or_id):
            try:
                import fiftyone.core.odm.database as fodb

                return fodb.load_dataset(id=name_or_id, reload=True)
            except Exception:  # no dataset has that id: it may be a name too
                pass
        try:
            if fo.dataset_exists(name_or_id):
                return fo.load_dataset(name_or_id, reload=True)
        except Exception:
            pass
        return None

    def exists(self, name_or_id: str) -> bool:
        import fiftyone as fo

        if _looks_like_object_id(name_or_id):
            import fiftyone.core.odm.database as fodb
            from bson import ObjectId

            found = fodb.get_db_conn().datasets.find_one({"_id": ObjectId(name_or_id)}, {"_id": 1})
            if found is not None:
                return True
        return bool(fo.dataset_exists(name_or_id))

    def id_of(self, dataset: Any) -> str | None:
        doc = getattr(dataset, "_doc", None)
        return None if doc is None else str(doc.id)

    def is_dataset(self, obj: Any) -> bool:
        import fiftyone.core.dataset as fod

        return isinstance(obj, fod.Dataset)

    def is_default_view(self, view: Any) -> bool:
        """Whether ``view`` shows the whole dataset as it is (no stages)."""
        if self.is_dataset(view):
            return True
        return not getattr(view, "_stages", None) and not getattr(view, "_is_generated", False)

    def dataset_of(self, view: Any) -> Any | None:
        if self.is_dataset(view):
            return view
        return getattr(view, "_root_dataset", None)

    def default_view(self, dataset: Any) -> Any:
        return dataset.view()

    def serialize_view(self, view: Any) -> Any:
        if view is None or self.is_dataset(view):
            return None
        return view._serialize()

    def load_view(self, dataset: Any, serialized: Any) -> Any:
        if not serialized:
            return dataset.view()
        import fiftyone.core.view as fov

        return fov.DatasetView._build(dataset, serialized)

    def load_app_view(self, dataset: Any, stages: Any, filters: Any, extended: Any) -> Any:
        """The view the App shows: stages plus its sidebar ``filters`` and ``extended``
        stages."""
        import fiftyone.server.view as fosv

        return fosv.get_view(dataset, stages=stages, filters=filters, extended_stages=extended)


def _looks_like_object_id(value: str) -> bool:
    return len(value) == 24 and all(c in "0123456789abcdefABCDEF" for c in value)


_default = InMemoryDatasetResolver()
_explicit: Any = None
_cached: tuple[str, Any] | None = None


def set_resolver(resolver: Any) -> None:
    """Makes ``resolver`` the one used by every execution (``None`` restores the default)."""
    global _explicit, _cached
    _explicit = resolver
    _cached = None


def _import_dotted(path: str) -> Any:
    value = import_object(path, "dataset resolver", ConfigError)
    if isinstance(value, type) or (callable(value) and not hasattr(value, "load")):
        value = value()
    return value


def get_resolver() -> Any:
    """The dataset resolver to use now (see the module docstring for the order)."""
    global _cached
    if _explicit is not None:
        return _explicit
    from ..config import load_config

    path = load_config().dataset_resolver
    cached = _cached
    if cached is not None and cached[0] == path:
        return cached[1]
    if path:
        resolver = _import_dotted(path)
    else:
        from ..compat import fiftyone_installed

        resolver = FiftyOneDatasetResolver() if fiftyone_installed() else _default
    _cached = (path, resolver)
    return resolver


def dataset_not_found(
    name_or_id: str, resolver: Any, uri: str | None = None
) -> DatasetNotFoundError:
    """The error for a dataset the resolver cannot load, with a hint for the default one."""
    message = f"Dataset {name_or_id!r} not found"
    if resolver is _default:
        message += (
            " (no dataset resolver is configured, and the default one only knows datasets "
            "registered in this process; set FIFTYONE_DATASET_RESOLVER to your host's resolver)"
        )
    else:
        message += f" by the dataset resolver {type(resolver).__name__}"
    return DatasetNotFoundError(message, uri=uri, dataset=name_or_id)


def default_resolver() -> InMemoryDatasetResolver:
    """The process-wide in-memory resolver (used when nothing else is configured)."""
    return _default
