"""``fiftyone.core``: only ``fiftyone.core.utils`` exists here (no datasets)."""

__all__ = []
