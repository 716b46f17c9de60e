"""Checks request parameters against an operator's input schema, reporting every fault.

``validate(schema, params)`` walks the schema (what ``resolve_input`` returned: a
:class:`~.types.Property` or an :class:`~.types.Object`) alongside the parameters and
returns one :class:`Issue` ``(path, reason)`` per bad value, so a caller can show all of
them at once. Paths read like ``a.b.c`` for nested objects and ``a[2]`` for list items.

Rules, in the order they apply to a property:

1. ``invalid=True`` (set by the operator itself) fails with its ``error_message``
   (``"Invalid property"`` when empty); this is the only rule still applied with
   ``custom_only=True``, which is how ``disable_schema_validation`` behaves.
2. View-only properties (a ``Void`` type, or a display view such as a notice, markdown or
   a button) never fail.
3. A missing value (absent, ``None``, ``NaN`` for numbers, ``""`` for a string without
   ``allow_empty``) fails only if ``required``: ``"Required property"``.
4. The value must match the type: strings, booleans (a bool is never a number), numbers
   (``int=True`` wants an integer; integers are valid floats), enum values, lists (with
   ``min_items``/``max_items``), objects (recursively), maps, tuples, one-of.
5. Numbers must lie within the inclusive bounds of ``Number(min=, max=)`` and of the view's
   ``min``/``max`` options or ``componentsProps={"slider": {"min": ..., "max": ...}}``
   (all that are given apply); a slider on a list of numbers bounds each item.

Parameters the schema does not mention are allowed: operators often read extra ones.
Dispatch is by type class *name*, so schemas built with FiftyOne's own ``types`` module
validate the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ..errors import ValidationError
from .types import Property

REQUIRED = "Required property"
INVALID_PROPERTY = "Invalid property"
INVALID_TYPE = "Invalid value type"
INVALID_ENUM = "Invalid enum value"
INVALID_OBJECT = "Invalid object"
INVALID_LIST = "Invalid list"
INVALID_MAP = "Invalid map"
INVALID_KEY = "Invalid key"
INVALID_TUPLE = "Invalid tuple"
NOT_INTEGER = "Must be an integer"


class Issue(NamedTuple):
    """One bad parameter: where it is and what is wrong with it."""

    path: str
    reason: str


def format_error(path: str, reason: str) -> str:
    """One error line in the reference's form."""
    return f"Validation error. Path: {path}. Reason: {reason}"


def format_errors(errors: Iterable[tuple[str, str]]) -> str:
    """All errors, one line each (the same text :class:`ValidationError` carries)."""
    return "\n".join(format_error(path, reason) for path, reason in errors)


def validate(schema: Any, params: Any, *, custom_only: bool = False) -> list[Issue]:
    """Every problem with ``params`` against ``schema``; empty when they are valid.

    ``schema`` is a :class:`~.types.Property`, an :class:`~.types.Object` (or any other
    type), or ``None`` (nothing to check). ``params`` ``None`` counts as ``{}``. With
    ``custom_only`` only properties the operator marked ``invalid`` are reported.
    """
    if schema is None:
        return []
    if not isinstance(schema, Property) and _kind(schema) is not None:
        schema = Property(schema)
    if params is None and _kind(getattr(schema, "type", None)) == "Object":
        params = {}
    checker = _Checker(custom_only)
    checker.check("", schema, params)
    return checker.issues


def validate_or_raise(
    schema: Any, params: Any, uri: str | None = None, *, custom_only: bool = False
) -> None:
    """Raises :class:`~fiftyone_plugins.errors.ValidationError` listing every problem."""
    issues = validate(schema, params, custom_only=custom_only)
    if issues:
        raise ValidationError(issues, uri=uri)


# -- internals ---------------------------------------------------------------------------------

_TYPE_KINDS = frozenset(
    {"Void", "Object", "Enum", "List", "Map", "OneOf", "Tuple", "String", "Boolean", "Number"}
)
_DISPLAY_VIEWS = frozenset(
    {
        "Notice",
        "Header",
        "Warning",
        "Error",
        "Success",
        "HeaderView",
        "MarkdownView",
        "AlertView",
        "ErrorView",
        "LoadingView",
        "ToastView",
        "Button",
        "StatusButtonView",
        "ArrowNavView",
    }
)
_kind_cache: dict[type, str | None] = {}


def _kind(type_: Any) -> str | None:
    """The validation rule set of a type: the first known class name in its MRO."""
    cls = type(type_)
    try:
        return _kind_cache[cls]
    except KeyError:
        pass
    kind = next((c.__name__ for c in cls.__mro__ if c.__name__ in _TYPE_KINDS), None)
    _kind_cache[cls] = kind
    return kind


def _is_display_only(view: Any) -> bool:
    if view is None:
        return False
    flag = getattr(view, "display_only", None)
    if flag is not None:
        return bool(flag)
    return any(c.__name__ in _DISPLAY_VIEWS for c in type(view).__mro__)


def _view_option(view: Any, key: str) -> Any:
    options = getattr(view, "_kwargs", None)
    return options.get(key) if isinstance(options, Mapping) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _collect(low: Any, high: Any, lows: list[float], highs: list[float]) -> None:
    if _is_number(low):
        lows.append(low)
    if _is_number(high):
        highs.append(high)


def _view_bounds(view: Any, lows: list[float], highs: list[float]) -> None:
    """Bounds a view declares: ``min``/``max`` options or a slider's ``componentsProps``."""
    if view is None:
        return
    _collect(_view_option(view, "min"), _view_option(view, "max"), lows, highs)
    props = getattr(view, "componentsProps", None)
    slider = props.get("slider") if isinstance(props, Mapping) else None
    if isinstance(slider, Mapping):
        _collect(slider.get("min"), slider.get("max"), lows, highs)


def _bounds(prop: Any) -> tuple[float | None, float | None]:
    """The tightest inclusive bounds from the number type and the property's view."""
    lows: list[float] = []
    highs: list[float] = []
    if _kind(prop.type) == "Number":
        _collect(getattr(prop.type, "min", None), getattr(prop.type, "max", None), lows, highs)
    _view_bounds(prop.view, lows, highs)
    return (max(lows) if lows else None, min(highs) if highs else None)


def _same(a: Any, b: Any) -> bool:
    """Equality that does not let ``True`` stand in for ``1``."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _join(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


class _Checker:
    """Walks one schema and collects issues."""

    def __init__(self, custom_only: bool) -> None:
        self.custom_only = custom_only
        self.issues: list[Issue] = []

    def add(self, path: str, reason: str, custom: bool = False) -> None:
        if custom or not self.custom_only:
            self.issues.append(Issue(path, reason))

    def matches(self, type_: Any, value: Any) -> bool:
        """Whether ``value`` is a valid ``type_`` (used by one-of and map keys)."""
        probe = _Checker(custom_only=False)
        probe.check("", Property(type_), value)
        return not probe.issues

    def check(self, path: str, prop: Any, value: Any) -> None:
        if getattr(prop, "invalid", False):
            self.add(path, getattr(prop, "error_message", "") or INVALID_PROPERTY, custom=True)
            return
        type_ = prop.type
        kind = _kind(type_)
        if kind == "Void" or _is_display_only(prop.view):
            return
        if self._missing(kind, type_, prop, value):
            if prop.required:
                self.add(path, REQUIRED)
            return
        if kind == "Object":
            self.check_object(path, type_, value)
        elif kind == "List":
            self.check_list(path, prop, value)
        elif kind == "Enum":
            self.check_enum(path, prop, value)
        elif kind == "Number":
            self.check_number(path, prop, value)
        elif kind == "String":
            if not isinstance(value, str):
                self.add(path, INVALID_TYPE)
        elif kind == "Boolean":
            if not isinstance(value, bool):
                self.add(path, INVALID_TYPE)
        elif kind == "Map":
            self.check_map(path, type_, value)
        elif kind == "Tuple":
            self.check_tuple(path, type_, value)
        elif kind == "OneOf":
            if not any(self.matches(t, value) for t in type_.types):
                self.add(path, INVALID_TYPE)
        # anything else (Tree, types from newer releases): accepted as is

    @staticmethod
    def _missing(kind: str | None, type_: Any, prop: Any, value: Any) -> bool:
        if value is None:
            return True
        if kind == "Number" and isinstance(value, float) and math.isnan(value):
            return True
        if kind == "String" and value == "" and prop.required:
            return not getattr(type_, "allow_empty", False)
        return False

    def check_object(self, path: str, type_: Any, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.add(path, INVALID_OBJECT)
            return
        for name, child in type_.properties.items():
            self.check(_join(path, name), child, value.get(name))

    def check_list(self, path: str, prop: Any, value: Any) -> None:
        if not _is_sequence(value):
            self.add(path, INVALID_LIST)
            return
        type_ = prop.type
        min_items, max_items = type_.min_items, type_.max_items
        if min_items is not None and len(value) < min_items:
            noun = "item" if min_items == 1 else "items"
            self.add(path, f"Must have at least {min_items} {noun}")
        if max_items is not None and len(value) > max_items:
            noun = "item" if max_items == 1 else "items"
            self.add(path, f"Must have at most {max_items} {noun}")
        # a slider on a list is a range slider: its bounds apply to every item
        lows: list[float] = []
        highs: list[float] = []
        _view_bounds(prop.view, lows, highs)
        item_prop = Property(type_.element_type, view=prop.view if lows or highs else None)
        for i, item in enumerate(value):
            self.check(f"{path}[{i}]", item_prop, item)

    def check_enum(self, path: str, prop: Any, value: Any) -> None:
        values = prop.type.values
        if _view_option(prop.view, "multiple") and _is_sequence(value):
            for i, item in enumerate(value):
                if not any(_same(item, v) for v in values):
                    self.add(f"{path}[{i}]", INVALID_ENUM)
        elif not any(_same(value, v) for v in values):
            self.add(path, INVALID_ENUM)

    def check_number(self, path: str, prop: Any, value: Any) -> None:
        if not _is_number(value):
            self.add(path, INVALID_TYPE)
            return
        if getattr(prop.type, "int", False) and isinstance(value, float):
            if not value.is_integer():
                self.add(path, NOT_INTEGER)
                return
        low, high = _bounds(prop)
        if low is not None and value < low:
            self.add(path, f"Must be at least {low}")
        elif high is not None and value > high:
            self.add(path, f"Must be at most {high}")

    def check_map(self, path: str, type_: Any, value: Any) -> None:
        if not isinstance(value, Mapping):
            self.add(path, INVALID_MAP)
            return
        value_prop = Property(type_.value_type)
        for key, item in value.items():
            if not self.matches(type_.key_type, key):
                self.add(_join(path, key), INVALID_KEY)
            self.check(_join(path, key), value_prop, item)

    def check_tuple(self, path: str, type_: Any, value: Any) -> None:
        items = type_.items
        if not _is_sequence(value) or len(value) != len(items):
            self.add(path, INVALID_TUPLE)
            return
        for i, (item_type, item) in enumerate(zip(items, value, strict=True)):
            self.check(f"{path}[{i}]", Property(item_type), item)


__all__ = [
    "INVALID_ENUM",
    "INVALID_KEY",
    "INVALID_LIST",
    "INVALID_MAP",
    "INVALID_OBJECT",
    "INVALID_PROPERTY",
    "INVALID_TUPLE",
    "INVALID_TYPE",
    "NOT_INTEGER",
    "REQUIRED",
    "Issue",
    "format_error",
    "format_errors",
    "validate",
    "validate_or_raise",
]
