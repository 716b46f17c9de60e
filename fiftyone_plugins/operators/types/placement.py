"""Where an operator shows up in a host UI: :class:`Places` and :class:`Placement`.

An operator's ``resolve_placement(ctx)`` returns a :class:`Placement`, typically a
:class:`~.views.Button` in one of the :class:`Places`. The values are the strings the
FiftyOne App uses, so a host can forward them unchanged.
"""

from __future__ import annotations

import enum
from typing import Any

from .views import View

__all__ = ["Placement", "Places"]


class Places(str, enum.Enum):
    """The places a host UI offers to operators (a closed vocabulary)."""

    SAMPLES_GRID_ACTIONS = "samples-grid-actions"
    SAMPLES_GRID_SECONDARY_ACTIONS = "samples-grid-secondary-actions"
    SAMPLES_VIEWER_ACTIONS = "samples-viewer-actions"
    EMBEDDINGS_ACTIONS = "embeddings-actions"
    HISTOGRAM_ACTIONS = "histograms-actions"
    MAP_ACTIONS = "map-actions"
    MAP_SECONDARY_ACTIONS = "map-secondary-actions"
    DISPLAY_OPTIONS = "display-options"

    def to_json(self) -> str:
        """The place's string value."""
        return self.value

    def __str__(self) -> str:
        return self.value


class Placement:
    """An operator's entry point: a place, and optionally the view drawn there.

    ``place`` may be a :class:`Places` member or its string value (kept as given when
    the string is not a known place, so newer hosts' places still serialize).
    """

    def __init__(self, place: Places | str, view: View | None = None) -> None:
        if isinstance(place, str) and not isinstance(place, Places):
            try:
                place = Places(place)
            except ValueError:
                pass
        self.place = place
        self.view = view

    def to_json(self) -> dict[str, Any]:
        place = self.place.to_json() if isinstance(self.place, Places) else self.place
        return {"place": place, "view": self.view.to_json() if self.view is not None else None}

    def __repr__(self) -> str:
        return f"Placement({self.place!r}, {self.view!r})"
