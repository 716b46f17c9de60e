"""``fiftyone.core.utils``: the helpers plugins use, ``add_sys_path`` and ``lazy_import``."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

from ..messages import MISSING_MESSAGE

__all__ = [
    "LazyModule",
    "add_sys_path",
    "ensure_package",
    "lazy_import",
    "recommend_thread_pool_workers",
    "to_slug",
]


@contextlib.contextmanager
def add_sys_path(path: str, index: int = 0) -> Iterator[None]:
    """Puts ``path`` on ``sys.path`` for the duration of a ``with`` block.

    When ``path`` lies inside an imported plugin's folder, the top-level modules imported
    from there in the block belong to that plugin only (see
    :func:`fiftyone_plugins.operators.modules.plugin_modules`): two plugins may each
    ``import utils`` this way and get their own.
    """
    modules = sys.modules.get("fiftyone_plugins.operators.modules")
    scope = (
        modules.plugin_modules_for_path(path)
        if modules is not None  # not imported: no plugin code was loaded yet
        else contextlib.nullcontext()
    )
    sys.path.insert(index, path)
    try:
        with scope:
            yield
    finally:
        try:
            sys.path.remove(path)
        except ValueError:
            pass


class LazyModule(types.ModuleType):
    """A module imported on first attribute access."""

    def __init__(self, module_name: str, callback: Callable[[], Any] | None = None) -> None:
        super().__init__(module_name)
        self._module: types.ModuleType | None = None
        self._callback = callback

    def _load(self) -> types.ModuleType:
        if self._module is None:
            if self._callback is not None:
                self._callback()
            self._module = importlib.import_module(self.__name__)
            self.__dict__.update(
                {k: v for k, v in self._module.__dict__.items() if k != "__name__"}
            )
        return self._module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") and name in ("_module", "_callback"):
            raise AttributeError(name)
        return getattr(self._load(), name)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        return f"<LazyModule {self.__name__!r}>"


def lazy_import(module_name: str, callback: Callable[[], Any] | None = None) -> LazyModule:
    """A proxy for ``module_name`` that imports it on first use (as FiftyOne's does)."""
    return LazyModule(module_name, callback=callback)


#: the lengths a name and its slug may have
SLUG_LENGTHS = (1, 1551)


def to_slug(name: str) -> str:
    """The URL-friendly form of ``name``, as FiftyOne makes it: letters and digits lowercased,
    whitespace and ``+_.-`` become single ``-``, anything else is dropped, no ``-`` at either
    end (``"Brian's #$&@ (Awesome?) Dataset!"`` -> ``"brians-awesome-dataset"``). A name that
    is not a string, is too long, or leaves an empty slug is a ``ValueError``."""
    if not isinstance(name, str):
        raise ValueError(f"Expected string; found {type(name)}: {name}")
    low, high = SLUG_LENGTHS
    if len(name) > high:
        raise ValueError(f"{name!r} is too long; length {len(name)} > {high}")
    dashed = re.sub(r"[\s+_.\-]+", "-", name.lower())
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "", dashed)).strip("-")
    if len(slug) < low:
        raise ValueError(f"{name!r} has no valid slug characters")
    return slug


def recommend_thread_pool_workers(num_workers: int | None = None) -> int:
    """``num_workers`` when given, else one worker per CPU (as FiftyOne suggests by default)."""
    if num_workers is not None:
        return num_workers
    return os.cpu_count() or 1


def ensure_package(requirement: str, error_level: int | None = None, **_: Any) -> bool:
    """Whether the distribution named by ``requirement`` is importable (a light check)."""
    name = requirement.split(";")[0].strip()
    for sep in "<>=!~[ ":
        name = name.split(sep)[0]
    found = importlib.util.find_spec(name.replace("-", "_")) is not None
    if not found and error_level in (None, 0):
        raise ImportError(f"The requested operation requires that {requirement!r} is installed")
    return found


def __getattr__(name: str) -> Any:
    raise AttributeError(MISSING_MESSAGE.format(name=f"fiftyone.core.utils.{name}"))
