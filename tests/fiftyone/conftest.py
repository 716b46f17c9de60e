"""Tests with the real FiftyOne installed: real datasets on a real MongoDB.

These modules run only in an interpreter where the ``fiftyone`` distribution is installed
(the FiftyOne virtual environment that ``.ci/run`` creates; see ``tests/test_fiftyone_venv.py``,
which runs them there from the core environment). Elsewhere they are not collected.

FiftyOne reads its database settings when it is first imported, so :func:`fo` starts a
throwaway ``mongod`` (the one of ``tests/_mongod.py``), points ``FIFTYONE_DATABASE_URI`` at it
and only then imports ``fiftyone``. Every test gets its own plugins dir (the autouse ``env``
fixture of ``tests/conftest.py``) holding the FiftyOne-style fixture plugin
``tests/fixtures/plugins/fo_host``, and datasets built from a few generated images.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


def _real_fiftyone() -> bool:
    try:
        importlib.metadata.distribution("fiftyone")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


if not _real_fiftyone():  # the core environment: tests/test_fiftyone_venv.py runs them
    collect_ignore_glob = ["test_*.py"]

REPO = pathlib.Path(__file__).resolve().parents[2]
PLUGIN = "@test/fo_host"

#: FiftyOne's settings for the whole session, also handed to worker processes
FO_SETTINGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def fo(mongod_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real ``fiftyone`` module, connected to the session's own ``mongod``."""
    root = tmp_path_factory.mktemp("fiftyone")
    FO_SETTINGS.update(
        FIFTYONE_DATABASE_URI=mongod_uri,
        FIFTYONE_DATABASE_NAME=f"fo_host_{uuid.uuid4().hex[:8]}",
        FIFTYONE_DATABASE_VALIDATION="false",
        FIFTYONE_DO_NOT_TRACK="true",
        FIFTYONE_DEFAULT_DATASET_DIR=str(root / "datasets"),
    )
    os.environ.update(FO_SETTINGS)
    os.environ["FIFTYONE_CONFIG_PATH"] = str(root / "fiftyone-config.json")
    import fiftyone

    fiftyone.config.database_validation = False
    return fiftyone


@pytest.fixture(scope="session")
def images_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """Five small images of known sizes: three PNGs and two JPEGs."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    for i in range(5):
        suffix = "png" if i < 3 else "jpg"
        color = (40 * i, 255 - 40 * i, 90)
        Image.new("RGB", (16 + 8 * i, 12 + 4 * i), color).save(folder / f"image{i}.{suffix}")
    return folder


#: the sizes of the images of :func:`images_dir`, in file-name order
IMAGE_SIZES = [(16 + 8 * i, 12 + 4 * i) for i in range(5)]


@pytest.fixture
def host(env: Any, fo: Any) -> Any:
    """The test's plugins dir with the FiftyOne-style fixture plugin, FiftyOne connected."""
    env.add_fixture_plugin("fo_host")
    return env


@pytest.fixture
def dataset(fo: Any, images_dir: pathlib.Path) -> Iterator[Any]:
    """A persistent dataset of the five images (workers in other processes load it)."""
    ds = fo.Dataset(f"fo-host-{uuid.uuid4().hex[:8]}")
    ds.persistent = True
    ds.add_samples([fo.Sample(filepath=str(p)) for p in sorted(images_dir.iterdir())])
    yield ds
    if fo.dataset_exists(ds.name):
        fo.delete_dataset(ds.name)


class Cli:
    """Runs ``python -m fiftyone_plugins ARGS`` in a new process with this test's settings
    (plugins dir, store, config), FiftyOne's database, and this checkout first on the path."""

    def __call__(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.update(FO_SETTINGS)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        return subprocess.run(
            [sys.executable, "-m", "fiftyone_plugins", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )

    def drain(self) -> subprocess.CompletedProcess[str]:
        """A worker (``delegated launch --once``) run until the queue is empty."""
        done = self("delegated", "launch", "--once")
        assert done.returncode == 0, done.stdout + done.stderr
        return done


@pytest.fixture
def cli(host: Any) -> Cli:
    return Cli()
