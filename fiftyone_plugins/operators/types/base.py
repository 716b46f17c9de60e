"""The root of the type tree and the JSON conversion every type and view shares.

Forms are sent to a UI as JSON, so every object here must turn into plain dicts, lists
and scalars. Panels pass bound methods (``on_click=self.refresh``) where an operator URI
is expected; :func:`to_jsonable` turns those into ``"<operator uri>#<method name>"``, the
reference the App uses to call a panel method back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["BaseType", "callable_ref", "to_jsonable"]


class BaseType:
    """Base class of every input/output type; its JSON names the concrete class."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form of this type (at least ``{"name": <class name>}``)."""
        return {"name": type(self).__name__}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def callable_ref(fn: Callable[..., Any]) -> str:
    """The string a UI uses to call ``fn`` back.

    A bound method of an operator or panel (anything with a ``uri``) becomes
    ``"<uri>#<method>"``; any other callable falls back to its name, so serializing a
    schema never fails just because a plugin passed a plain function.
    """
    owner = getattr(fn, "__self__", None)
    name = getattr(fn, "__name__", None) or type(fn).__name__
    uri = getattr(owner, "uri", None)
    if isinstance(uri, str):
        return f"{uri}#{name}"
    return name


def to_jsonable(value: Any) -> Any:
    """Recursively converts types, views, enums and callables into JSON-ready values."""
    if isinstance(value, enum.Enum):  # before str: Places is a str Enum
        return to_jsonable(value.value)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, type):  # a class passed as an option: name it
        return value.__name__
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if callable(value):
        return callable_ref(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return value
