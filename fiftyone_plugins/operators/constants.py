"""``fiftyone.operators.constants``: the names of the view targets a form may offer.

``ViewTarget.DATASET`` and the others are the values a view-target input takes and
``ctx.target_view()`` reads (see :mod:`.targets` for what each one selects).
"""

from __future__ import annotations

__all__ = ["ViewTarget"]


class ViewTarget:
    """The choices of a view-target input (plain strings, as FiftyOne sends them)."""

    BASE_VIEW = "BASE_VIEW"  #: the view a generated view (patches, frames, clips) came from
    CURRENT_VIEW = "CURRENT_VIEW"  #: the request's view
    DATASET = "DATASET"  #: the whole dataset
    DATASET_VIEW = "DATASET_VIEW"  #: the dataset's default view, ``dataset.view()``
    SELECTED_LABELS = "SELECTED_LABELS"  #: the selected labels within the view
    SELECTED_SAMPLES = "SELECTED_SAMPLES"  #: the selected samples within the view
    CUSTOM_VIEW_TARGET = "CUSTOM_VIEW_TARGET"  #: the stages in ``params["custom_view_target"]``

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Every choice."""
        return tuple(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))
