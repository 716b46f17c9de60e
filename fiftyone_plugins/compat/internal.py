"""``fiftyone.internal``: only ``fiftyone.internal.secrets`` exists here (FiftyOne's secret
types and provider, over this library's secrets providers), as an attribute too, so that
``from fiftyone.internal import secrets`` works as ``import fiftyone.internal.secrets``."""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def __getattr__(name: str) -> Any:
    if name == "secrets":
        from .. import secrets

        return secrets
    raise AttributeError(f"module 'fiftyone.internal' has no attribute {name!r}")
