"""Views that arrange other content: containers, grids and stacks, tables, lists, maps.

They follow the same rules as :mod:`.views`: unknown keywords are kept and serialized.
"""

from __future__ import annotations

from typing import Any

from .base import BaseType, to_jsonable
from .views import View

__all__ = [
    "Action",
    "ButtonGroupView",
    "Column",
    "Container",
    "DashboardView",
    "GridView",
    "HStackView",
    "ListView",
    "MapView",
    "MenuView",
    "ObjectView",
    "OneOfView",
    "OutlinedContainer",
    "PaperContainer",
    "TableView",
    "Tooltip",
    "TreeSelectionView",
    "TupleView",
    "VStackView",
]

# -- containers --------------------------------------------------------------------------------


class Container(BaseType):
    """A box drawn around a view; keeps and serializes any options it is given."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs

    def to_json(self) -> dict[str, Any]:
        return {**to_jsonable(self._kwargs), **super().to_json()}


class PaperContainer(Container):
    """An elevated card (``elevation`` 0-24) behind a view."""

    def __init__(self, elevation: int | None = 1, rounded: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.elevation = elevation
        self.rounded = rounded

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "elevation": self.elevation, "rounded": self.rounded}


class OutlinedContainer(Container):
    """A bordered box behind a view."""

    def __init__(self, rounded: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rounded = rounded

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "rounded": self.rounded}


# -- structured views --------------------------------------------------------------------------


class ObjectView(View):
    """An object's properties as a group."""


class ListView(View):
    """A list whose items are rendered with the ``items`` view."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = kwargs.get("items")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "items": to_jsonable(self.items)}


class TupleView(View):
    """A tuple, one view per position."""

    def __init__(self, *items: View, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = items

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "items": [item.to_json() for item in self.items]}


class TreeSelectionView(View):
    """Checkbox groups over a tree (``data``: nested ``[id, [children]]`` lists)."""


class OneOfView(View):
    """Shows one of the ``oneof`` views depending on the value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.oneof = kwargs.get("oneof", [])

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "oneof": [one.to_json() for one in self.oneof]}


class MapView(View):
    """A key/value mapping; ``key`` and ``value`` are views for each side."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = kwargs.get("key")
        self.value = kwargs.get("value")

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "key": to_jsonable(self.key),
            "value": to_jsonable(self.value),
        }


class Column(View):
    """A column of a :class:`TableView`, reading the row field ``key``."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "key": self.key}


class Action(View):
    """A row action of a :class:`TableView` (``on_click``, ``label``, ``icon``)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "name": self.name}


class Tooltip(View):
    """A tooltip on one cell of a :class:`TableView`."""

    def __init__(self, row: Any, column: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.row = row
        self.column = column

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "row": self.row, "column": self.column}


class TableView(View):
    """A table over a list of row dicts; build it with :meth:`add_column`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns: list[Column] = list(kwargs.get("columns") or [])
        self.row_actions: list[Action] = list(kwargs.get("row_actions") or [])
        self.tooltips: list[Tooltip] = list(kwargs.get("tooltips") or [])
        self._tooltip_map = {(t.row, t.column): t for t in self.tooltips}

    def keys(self) -> list[str]:
        """The row fields shown, in column order."""
        return [column.key for column in self.columns]

    def add_column(self, key: str, **kwargs: Any) -> Column:
        """Adds a column; a duplicate key is a ``ValueError``."""
        if key in self.keys():
            raise ValueError(f"Column with key {key!r} already exists")
        column = Column(key, **kwargs)
        self.columns.append(column)
        return column

    def add_row_action(
        self,
        name: str,
        on_click: Any,
        label: str | None = None,
        icon: str | None = None,
        tooltip: str | None = None,
        **kwargs: Any,
    ) -> Action:
        """Adds a per-row action; a duplicate name is a ``ValueError``."""
        if any(action.name == name for action in self.row_actions):
            raise ValueError(f"Action with name {name!r} already exists")
        action = Action(name, on_click=on_click, label=label, icon=icon, tooltip=tooltip, **kwargs)
        self.row_actions.append(action)
        return action

    def add_tooltip(self, row: Any, column: Any, value: Any, **kwargs: Any) -> Tooltip:
        """Adds a tooltip to one cell; a second one for the same cell is a ``ValueError``."""
        if (row, column) in self._tooltip_map:
            raise ValueError(f"Tooltip for row {row!r} and column {column!r} already exists")
        tooltip = Tooltip(row, column, value=value, **kwargs)
        self.tooltips.append(tooltip)
        self._tooltip_map[(row, column)] = tooltip
        return tooltip

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "columns": [column.to_json() for column in self.columns],
            "row_actions": [action.to_json() for action in self.row_actions],
            "tooltips": [tooltip.to_json() for tooltip in self.tooltips],
        }


# -- layout ------------------------------------------------------------------------------------


class GridView(View):
    """Lays an object's properties out in a grid.

    ``orientation`` is ``"2d"``, ``"horizontal"`` or ``"vertical"``; ``variant="paper"``
    (with ``elevation``) or ``"outline"`` draws a container around it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.orientation = kwargs.get("orientation")
        self.gap = kwargs.get("gap", 1)
        self.align_x = kwargs.get("align_x", "left")
        self.align_y = kwargs.get("align_y", "top")
        variant = kwargs.get("variant")
        if variant == "paper":
            elevation = kwargs.get("elevation")
            self.container = PaperContainer(elevation=1 if elevation is None else elevation)
        elif variant == "outline":
            self.container = OutlinedContainer()

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "orientation": self.orientation,
            "gap": self.gap,
            "align_x": self.align_x,
            "align_y": self.align_y,
        }


class HStackView(GridView):
    """A horizontal stack."""

    def __init__(self, orientation: str = "horizontal", **kwargs: Any) -> None:
        super().__init__(orientation=orientation, **kwargs)


class VStackView(GridView):
    """A vertical stack."""

    def __init__(self, orientation: str = "vertical", **kwargs: Any) -> None:
        super().__init__(orientation=orientation, **kwargs)


class ButtonGroupView(GridView):
    """A horizontal group of buttons, vertically centered by default."""

    def __init__(self, orientation: str = "horizontal", **kwargs: Any) -> None:
        kwargs.setdefault("align_y", "center")
        super().__init__(orientation=orientation, **kwargs)


class MenuView(GridView):
    """A menu of buttons/dropdowns (``variant``, ``color``, ``overlay``, ``icon``)."""

    def __init__(self, orientation: str = "horizontal", **kwargs: Any) -> None:
        super().__init__(orientation=orientation, **kwargs)


class DashboardView(View):
    """A user-arrangeable dashboard of items (``layout``, ``on_add_item``, ``rows``...)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_addition = kwargs.get("allow_addition", True)
        self.allow_deletion = kwargs.get("allow_deletion", True)
        self.allow_edit = kwargs.get("allow_edit", True)
        self.cta_title = kwargs.get("cta_title")
        self.cta_body = kwargs.get("cta_body")
        self.cta_button_label = kwargs.get("cta_button_label")
        self.rows = kwargs.get("rows")
        self.cols = kwargs.get("cols")
        self.items = kwargs.get("items")
        self.auto_layout = kwargs.get("auto_layout")

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "allow_addition": self.allow_addition,
            "allow_deletion": self.allow_deletion,
            "allow_edit": self.allow_edit,
            "cta_title": self.cta_title,
            "cta_body": self.cta_body,
            "cta_button_label": self.cta_button_label,
            "rows": self.rows,
            "cols": self.cols,
            "items": to_jsonable(self.items),
            "auto_layout": self.auto_layout,
        }
