"""Real engine clusters for the backend tests: a local Ray cluster and a Dask ``LocalCluster``.

Each is started once per session, on loopback, small (2 CPUs / 2 single-thread workers), and
always shut down. Its worker processes see a plugins folder of their own holding the
``engine_ops`` fixture plugin (the engine side uses its own registry, like a remote cluster
would) and a config folder of their own. A missing package skips the tests locally and fails
them in CI (``CI`` set), where a skipped integration test would hide a broken setup.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

FIXTURES = pathlib.Path(__file__).parent / "fixtures"

#: seconds each cluster took to start in this session (printed by the tests' summary)
STARTUP: dict[str, float] = {}


def require(package: str) -> None:
    """Skips (locally) or fails (in CI) a test whose engine package is missing."""
    if importlib.util.find_spec(package) is not None:
        return
    message = f"{package} is not installed (pip install -e '.[test]')"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the engine tests: {message}")
    pytest.skip(message)


@pytest.fixture(scope="session")
def engine_home() -> Iterator[pathlib.Path]:
    """The plugins and config folders the engines' worker processes use."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="fop-engines-"))
    shutil.copytree(FIXTURES / "plugins" / "engine_ops", root / "plugins" / "engine_ops")
    (root / "config").mkdir()
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def engine_env(home: pathlib.Path) -> dict[str, str]:
    return {
        "FIFTYONE_PLUGINS_DIR": str(home / "plugins"),
        "FIFTYONE_CONFIG_PATH": str(home / "config" / "config.json"),
        "FIFTYONE_APP_CONFIG_PATH": str(home / "config" / "app_config.json"),
        # the engine side never writes to a store; should anything try, it stays in memory
        "FIFTYONE_DELEGATED_OPERATION_STORE": "memory://",
    }


@pytest.fixture(scope="session")
def ray_cluster(engine_home: pathlib.Path) -> Iterator[Any]:
    """A local Ray cluster of 2 CPUs for the session; this process is its driver."""
    require("ray")
    import ray

    started = time.monotonic()
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=80 * 1024**2,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": engine_env(engine_home)},
    )
    ray.get(ray.remote(lambda: None).remote())  # up to a first task: workers are started lazily
    STARTUP["ray"] = time.monotonic() - started
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def dask_cluster(engine_home: pathlib.Path) -> Iterator[Any]:
    """A Dask LocalCluster of 2 single-thread worker processes, for the session."""
    require("distributed")
    import dask
    import distributed

    started = time.monotonic()
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",
            env=engine_env(engine_home),
        )
    with distributed.Client(cluster, set_as_default=False) as client:
        client.submit(lambda: None).result()
    STARTUP["dask"] = time.monotonic() - started
    try:
        yield cluster
    finally:
        cluster.close()


def make_backend(kind: str, request: pytest.FixtureRequest) -> Any:
    """A fresh backend of ``kind`` on the session's cluster (``local``: in this process)."""
    if kind == "local":
        return "local"
    if kind == "ray":
        request.getfixturevalue("ray_cluster")
        from fiftyone_plugins.operators.backends.ray import RayBackend

        return RayBackend()  # Ray is initialized: the backend uses that connection
    cluster = request.getfixturevalue("dask_cluster")
    from fiftyone_plugins.operators.backends.dask import DaskBackend

    return DaskBackend(address=cluster.scheduler_address)
