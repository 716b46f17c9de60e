"""Shared fixtures: every test runs against its own config, App config and plugins dir."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil

import pytest

# fixtures shared by several modules: a real mongod, real HTTP servers on 127.0.0.1, real
# Ray and Dask clusters
from _download_server import other, server  # noqa: F401
from _engines import STARTUP, dask_cluster, engine_home, ray_cluster  # noqa: F401
from _mongod import mongod_uri  # noqa: F401

#: the execution-store tests' ``backend`` (one per store kind) and ``clock`` fixtures; a
#: module that defines its own fixture of either name keeps its own
pytest_plugins = ["_kv_fixtures"]

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


@dataclasses.dataclass
class Env:
    """The isolated locations one test runs against."""

    root: pathlib.Path
    plugins_dir: pathlib.Path
    config_path: pathlib.Path
    app_config_path: pathlib.Path

    def add_fixture_plugin(self, name: str, dest: str | None = None) -> pathlib.Path:
        """Copies ``tests/fixtures/plugins/<name>`` into the plugins dir and returns it."""
        target = self.plugins_dir / (dest or name)
        shutil.copytree(FIXTURES / "plugins" / name, target)
        return target

    def write_plugin(
        self, rel: str, manifest: str, files: dict[str, str] | None = None
    ) -> pathlib.Path:
        """Writes a plugin folder ``rel`` with the given manifest text and extra files."""
        folder = self.plugins_dir / rel
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "fiftyone.yml").write_text(manifest)
        for fname, text in (files or {}).items():
            path = folder / fname
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return folder


@pytest.fixture(autouse=True)
def env(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """Points every setting at a fresh temporary folder, so no test touches ``~``."""
    root = tmp_path / "env"
    plugins_dir = root / "plugins"
    plugins_dir.mkdir(parents=True)
    config_path = root / "config" / "config.json"
    app_config_path = root / "config" / "app_config.json"
    for name in list(os.environ):
        if name.startswith("FIFTYONE_") or name == "GITHUB_TOKEN":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIFTYONE_CONFIG_PATH", str(config_path))
    monkeypatch.setenv("FIFTYONE_APP_CONFIG_PATH", str(app_config_path))
    monkeypatch.setenv("FIFTYONE_PLUGINS_DIR", str(plugins_dir))
    monkeypatch.setenv("FIFTYONE_DELEGATED_OPERATION_STORE", "memory://")
    from fiftyone_plugins import discovery
    from fiftyone_plugins.operators.stores import clear_cache

    clear_cache()  # memory:// is one store per process: start every test empty
    discovery.invalidate()
    return Env(root, plugins_dir, config_path, app_config_path)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says how long the engine clusters took to start: CI's time budget depends on it."""
    for engine, seconds in sorted(STARTUP.items()):
        terminalreporter.write_line(f"{engine} cluster start-up: {seconds:.2f}s")
