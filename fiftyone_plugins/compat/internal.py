"""``fiftyone.internal``: only ``fiftyone.internal.secrets`` exists here (FiftyOne's secret
types and provider, over this library's secrets providers)."""

__all__: list[str] = []
