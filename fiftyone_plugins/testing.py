"""Helpers for testing plugins and hosts: an isolated environment in one context manager.

    from fiftyone_plugins.testing import isolated_plugins

    def test_my_plugin():
        with isolated_plugins() as env:
            env.add_plugin("path/to/my/plugin")
            result = foo.execute_operator("@me/plugin/op", params={"x": 1})

Inside the block the plugins directory, the config and App config files live in a temporary
folder, delegated operations go to the in-memory store, and every cache is reset on entry
and on exit, so nothing touches the user's own plugins or settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping

from . import discovery

__all__ = ["IsolatedPlugins", "isolated_plugins"]

_VARIABLES = (
    "FIFTYONE_PLUGINS_DIR",
    "FIFTYONE_CONFIG_PATH",
    "FIFTYONE_APP_CONFIG_PATH",
    "FIFTYONE_DELEGATED_OPERATION_STORE",
)


class IsolatedPlugins:
    """The temporary locations of one :func:`isolated_plugins` block."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.plugins_dir = os.path.join(root, "plugins")
        self.config_path = os.path.join(root, "config", "config.json")
        self.app_config_path = os.path.join(root, "config", "app_config.json")
        os.makedirs(self.plugins_dir)

    def add_plugin(self, source: str, name: str | None = None) -> str:
        """Copies a plugin folder into the plugins directory and returns the copy's path."""
        target = os.path.join(self.plugins_dir, name or os.path.basename(os.path.abspath(source)))
        shutil.copytree(source, target, symlinks=True)
        discovery.invalidate()
        return target

    def write_plugin(
        self, folder: str, manifest: str, files: Mapping[str, str] | None = None
    ) -> str:
        """Writes a plugin from text: ``manifest`` is the ``fiftyone.yml`` content."""
        target = os.path.join(self.plugins_dir, folder)
        os.makedirs(target, exist_ok=True)
        with open(os.path.join(target, "fiftyone.yml"), "w", encoding="utf-8") as f:
            f.write(manifest)
        for relpath, text in (files or {}).items():
            path = os.path.join(target, relpath)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        discovery.invalidate()
        return target


@contextlib.contextmanager
def isolated_plugins(store: str = "memory://") -> Iterator[IsolatedPlugins]:
    """Runs a block against a temporary plugins dir, config files and delegated store."""
    saved = {name: os.environ.get(name) for name in _VARIABLES}
    root = tempfile.mkdtemp(prefix="fiftyone-plugins-test-")
    env = IsolatedPlugins(root)
    os.environ.update(
        FIFTYONE_PLUGINS_DIR=env.plugins_dir,
        FIFTYONE_CONFIG_PATH=env.config_path,
        FIFTYONE_APP_CONFIG_PATH=env.app_config_path,
        FIFTYONE_DELEGATED_OPERATION_STORE=store,
    )
    discovery.invalidate()
    try:
        yield env
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        discovery.invalidate()
        shutil.rmtree(root, ignore_errors=True)
