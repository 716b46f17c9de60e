"""``fiftyone.core``: only ``fiftyone.core.utils`` and ``fiftyone.core.storage`` exist here
(no datasets)."""

__all__: list[str] = []
