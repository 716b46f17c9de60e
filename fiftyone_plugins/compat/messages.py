"""The message of every FiftyOne name this library does not provide."""

from __future__ import annotations

__all__ = ["MISSING_MESSAGE"]

MISSING_MESSAGE = (
    "{name} is not available: fiftyone-plugins provides FiftyOne's plugin API "
    "(fiftyone.operators, fiftyone.operators.types, fiftyone.plugins, fiftyone.constants, "
    "fiftyone.core.utils, fiftyone.core.storage) but not FiftyOne's dataset classes nor the "
    "rest of FiftyOne; install the `fiftyone` package to use them"
)
