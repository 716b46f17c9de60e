"""Execution backends: where a worker's claimed operations run.

- ``local`` (the default): in the worker's own process (:mod:`.local`);
- ``ray``: as Ray tasks, on the cluster at ``address`` or on a local one started for the
  worker's life (:mod:`.ray`, the ``[ray]`` extra);
- ``dask``: as Dask distributed tasks, likewise (:mod:`.dask`, the ``[dask]`` extra).

:func:`resolve_backend` picks one from an instance, a name, or the configuration
(``FIFTYONE_DELEGATED_BACKEND`` / ``delegated_backend`` and
``FIFTYONE_DELEGATED_BACKEND_ADDRESS`` / ``delegated_backend_address``). Ray and Dask are
imported only by their own modules, and only when chosen: a missing extra is one
:class:`~fiftyone_plugins.errors.BackendUnavailableError` line naming the install command.
"""

from __future__ import annotations

import importlib

from ...errors import BackendUnavailableError
from ..runner import Runner
from .base import (
    RESOURCES_KEY,
    TASK_PREFIX,
    ExecutionBackend,
    Job,
    Resources,
    Submission,
    parse_task_name,
    task_name,
)
from .local import LocalBackend

__all__ = [
    "BACKEND_NAMES",
    "RESOURCES_KEY",
    "TASK_PREFIX",
    "ExecutionBackend",
    "Job",
    "LocalBackend",
    "Resources",
    "Submission",
    "missing_extra",
    "parse_task_name",
    "resolve_backend",
    "task_name",
]

#: the backends ``--backend`` accepts
BACKEND_NAMES = ("local", "ray", "dask")

#: the module and class of each engine backend (imported only when chosen)
_ENGINES = {"ray": ("ray", "RayBackend"), "dask": ("dask", "DaskBackend")}


def missing_extra(backend: str, error: ImportError) -> BackendUnavailableError:
    """The one-line error for an engine whose package is not installed."""
    return BackendUnavailableError(
        f"The {backend} backend needs {backend} ({error.name or error}): "
        f"pip install 'fiftyone-plugins[{backend}]'",
        backend=backend,
    )


def resolve_backend(
    backend: ExecutionBackend | str | None = None,
    *,
    address: str | None = None,
    runner: Runner | None = None,
) -> ExecutionBackend:
    """The backend an instance, a name (``local``, ``ray``, ``dask``) or the config names.

    ``address`` is the engine's cluster (Ray ``host:port`` or ``ray://...``, Dask
    ``tcp://host:port``); without it, an engine backend starts a local cluster when opened.
    ``runner`` replaces the executor of the ``local`` backend only: engines always run the
    operator through the executor on their own side.
    """
    if isinstance(backend, ExecutionBackend):
        return backend
    if backend is None or address is None:
        from ...config import load_config

        config = load_config()
        backend = backend or config.delegated_backend or "local"
        address = address or config.delegated_backend_address or None
    name = backend.strip().lower()
    if name == "local":
        return LocalBackend(runner)
    if name not in _ENGINES:
        raise BackendUnavailableError(
            f"Unknown execution backend {backend!r} (choose from {', '.join(BACKEND_NAMES)})",
            backend=backend,
        )
    if runner is not None:
        raise BackendUnavailableError(
            f"A runner cannot be used with the {name} backend: the engine runs operators "
            "through the executor on its own side",
            backend=name,
        )
    module_name, class_name = _ENGINES[name]
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ImportError as e:
        raise missing_extra(name, e) from None
    cls: type[ExecutionBackend] = getattr(module, class_name)
    return cls(address=address)  # type: ignore[call-arg]
