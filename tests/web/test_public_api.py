"""The web package's public names, pinned; each module declares its ``__all__``."""

from __future__ import annotations

import importlib

import fiftyone_plugins.web as web

MODULES = ["api", "app", "auth", "execution", "forms", "installs", "markdown", "model",
           "pages", "server"]  # fmt: skip


def test_the_package_api_is_pinned():
    assert sorted(web.__all__) == [
        "EXTRA_HINT", "REQUIRED_MODULES", "create_app", "launch", "require_web_stack",
    ]  # fmt: skip
    assert callable(web.create_app)


def test_every_module_declares_all():
    for name in MODULES:
        module = importlib.import_module(f"fiftyone_plugins.web.{name}")
        assert module.__all__, name
        for public in module.__all__:
            assert hasattr(module, public), (name, public)


def test_the_error_is_in_the_tree():
    from fiftyone_plugins import errors

    assert "WebAppError" in errors.__all__
    assert issubclass(errors.WebAppError, errors.FiftyOnePluginsError)
