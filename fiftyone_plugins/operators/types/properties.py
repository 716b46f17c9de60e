"""Value types and :class:`Property`: what values a form accepts.

A :class:`Property` pairs a type (:class:`String`, :class:`Number`, :class:`List`, ...)
with a :class:`~.views.View` and the input rules (``required``, ``default``, ``invalid``).
The JSON keys mirror FiftyOne's so anything that reads FiftyOne schemas understands them.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from .base import BaseType, to_jsonable
from .views import View

__all__ = [
    "Boolean",
    "Enum",
    "Float",
    "Int",
    "List",
    "Map",
    "Number",
    "OneOf",
    "Property",
    "SampleID",
    "String",
    "Tree",
    "Tuple",
    "Void",
]

# -- value types -------------------------------------------------------------------------------


class Void(BaseType):
    """No value at all: the type of view-only properties (notices, buttons, images)."""


class String(BaseType):
    """A string; ``allow_empty=False`` makes ``""`` count as missing for required inputs."""

    def __init__(self, allow_empty: bool = False) -> None:
        self.allow_empty = allow_empty

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "allow_empty": self.allow_empty}


class SampleID(String):
    """The ID of a sample (a string)."""

    def __init__(self) -> None:
        super().__init__(allow_empty=False)


class Boolean(BaseType):
    """``True`` or ``False`` (never a number)."""


class Number(BaseType):
    """A number with optional inclusive bounds; ``int=True`` accepts only integers.

    ``float=True`` only documents intent: integers are valid floats.
    """

    def __init__(
        self,
        min: float | None = None,
        max: float | None = None,
        int: bool = False,
        float: bool = False,
    ) -> None:
        self.min = min
        self.max = max
        self.int = int
        self.float = float

    def to_json(self) -> dict[str, Any]:
        # Always "Number": Int/Float are conveniences a UI need not know about
        return {
            "name": "Number",
            "min": self.min,
            "max": self.max,
            "int": self.int,
            "float": self.float,
        }

    def __repr__(self) -> str:
        kind = "int" if self.int else "float" if self.float else "number"
        return f"{type(self).__name__}({kind}, min={self.min!r}, max={self.max!r})"


class Int(Number):
    """Shorthand for ``Number(int=True, ...)``."""

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        super().__init__(min=min, max=max, int=True)


class Float(Number):
    """Shorthand for ``Number(float=True, ...)``."""

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        super().__init__(min=min, max=max, float=True)


class Enum(BaseType):
    """One of a fixed list of ``values``."""

    def __init__(self, values: Iterable[Any]) -> None:
        self.values = builtins.list(values)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "values": to_jsonable(self.values)}

    def __repr__(self) -> str:
        return f"Enum({self.values!r})"


class List(BaseType):
    """A list of ``element_type`` values, optionally with ``min_items``/``max_items``."""

    def __init__(
        self,
        element_type: BaseType,
        min_items: int | None = None,
        max_items: int | None = None,
    ) -> None:
        self.element_type = element_type
        self.min_items = min_items
        self.max_items = max_items

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "element_type": self.element_type.to_json(),
            "min_items": self.min_items,
            "max_items": self.max_items,
        }

    def __repr__(self) -> str:
        return f"List({self.element_type!r})"


class OneOf(BaseType):
    """A value matching at least one of ``types``."""

    def __init__(self, types: Iterable[BaseType]) -> None:
        self.types = builtins.list(types)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "types": [t.to_json() for t in self.types]}


class Tuple(BaseType):
    """A fixed-length sequence; position ``i`` holds a value of ``items[i]``."""

    def __init__(self, *items: BaseType) -> None:
        self.items = items

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "items": [item.to_json() for item in self.items]}


class Tree(BaseType):
    """A tree-selection structure (``Object.tree`` itself stores a list of strings)."""

    def __init__(self, *items: BaseType) -> None:
        self.items = items

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "items": [item.to_json() for item in self.items]}


class Map(BaseType):
    """A dict whose keys are ``key_type`` and values ``value_type``."""

    def __init__(self, key_type: BaseType, value_type: BaseType) -> None:
        self.key_type = key_type
        self.value_type = value_type

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "key_type": self.key_type.to_json(),
            "value_type": self.value_type.to_json(),
        }


# -- properties --------------------------------------------------------------------------------


class Property(BaseType):
    """A named slot of an :class:`Object`: a type, its view and its input rules.

    Keywords: ``required``, ``default``, ``invalid`` with ``error_message`` (lets an
    operator reject a value itself in ``resolve_input``), ``view``, ``on_change`` (an
    operator URI or a panel method) and the deprecated ``choices``. Other keywords
    (``label`` and ``description`` are applied to the view by :meth:`Object.define_property`)
    are accepted and ignored, so options from newer releases do not break a plugin.
    """

    def __init__(self, type: BaseType, **kwargs: Any) -> None:
        self.type = type
        self.invalid: bool = kwargs.pop("invalid", False)
        self.default: Any = kwargs.pop("default", None)
        self.required: bool = kwargs.pop("required", False)
        self.choices: Any = kwargs.pop("choices", None)
        self.error_message: str = kwargs.pop("error_message", "")
        self.view: View | None = kwargs.pop("view", None)
        self.on_change: Any = kwargs.pop("on_change", None)
        self._kwargs: dict[str, Any] = kwargs

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.to_json(),
            "default": to_jsonable(self.default),
            "required": self.required,
            "choices": to_jsonable(self.choices),
            "invalid": self.invalid,
            "error_message": self.error_message,
            "on_change": to_jsonable(self.on_change),
            "view": self.view.to_json() if self.view is not None else None,
        }

    def __repr__(self) -> str:
        return f"Property({self.type!r}, required={self.required!r})"
