"""``fiftyone.constants`` for plugins: the FiftyOne plugin API version this library implements."""

from __future__ import annotations

from typing import Any

from ..config import PLUGIN_API_VERSION

__all__ = ["COMPATIBLE_VERSIONS", "VERSION"]

#: the FiftyOne version this library's plugin API corresponds to
VERSION = PLUGIN_API_VERSION
COMPATIBLE_VERSIONS = f">={PLUGIN_API_VERSION.split('.')[0]}.0"


def __getattr__(name: str) -> Any:
    if name == "FIFTYONE_VERSION":
        return VERSION
    raise AttributeError(f"fiftyone.constants has no {name!r} in fiftyone-plugins")
