"""Turning an operator's input or output schema (its JSON) into form field descriptions.

An operator describes its form with :mod:`fiftyone_plugins.operators.types`; the page needs
something flatter: for each property one *field* saying which widget shows it (``text``,
``number``, ``checkbox``, ``select``, ``radio``, ``multiselect``, ``list``, ``object``,
``notice``, ``header``, ``markdown``, ``button``, ``link``, ``hidden``, ``file``, ``upload``,
``textarea``, ``json``), its label, description, default, choices, bounds and whether it is
required. The page's script builds the inputs from these descriptions with ``textContent``
only, so nothing a plugin writes is ever parsed as HTML.

Working from the schema's JSON rather than the Python objects means schemas built with
FiftyOne's own ``types`` module, or sent by another process, read the same way. A view this
module does not know (a newer FiftyOne view, a custom component) never breaks a form: a
property holding a value falls back to a ``json`` field (edit the value as JSON), a
display-only one to a notice naming the view.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .markdown import render_markdown

__all__ = ["Field", "describe_form", "describe_property"]

#: one field description: plain JSON-ready data (see the module docstring)
Field = dict[str, Any]

_NOTICES = {
    "Notice": "info",
    "Warning": "warning",
    "Error": "error",
    "ErrorView": "error",
    "Success": "success",
    "ToastView": "info",
    "LoadingView": "info",
}
_HEADERS = {"Header", "HeaderView"}
_BUTTONS = {"Button", "ButtonView", "OperatorExecutionButtonView", "IconButtonView", "ModalView"}
_CHOICE_VIEWS = {"Choices", "Dropdown", "DropdownView", "AutocompleteView"}
_RADIO_VIEWS = {"RadioGroup", "RadioView", "TabsView"}
#: views that simply show a value with the widget its type implies
_PLAIN_VIEWS = {
    None,
    "View",
    "InferredView",
    "FieldView",
    "LazyFieldView",
    "TextFieldView",
    "PrimitiveView",
    "ReadOnlyView",
    "CheckboxView",
    "SwitchView",
    "SliderView",
    "LabelValueView",
    "TextView",
}
_CONTAINER_VIEWS = {
    None,
    "View",
    "InferredView",
    "ObjectView",
    "GridView",
    "HStackView",
    "VStackView",
    "ButtonGroupView",
    "MenuView",
    "Form",
}
_TEXTAREA_VIEWS = {"CodeView", "JSONView"}


def _text(value: Any) -> str | None:
    """Labels and descriptions as strings (a plugin may pass numbers or nothing)."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _choices(view: Mapping[str, Any], values: list[Any] | None) -> list[dict[str, Any]]:
    """The view's labelled choices, else one choice per enum value."""
    listed = view.get("choices")
    if isinstance(listed, list) and listed:
        out = []
        for choice in listed:
            if isinstance(choice, Mapping) and "value" in choice:
                out.append(
                    {
                        "value": choice["value"],
                        "label": _text(choice.get("label")) or _text(choice["value"]) or "",
                        "description": _text(choice.get("description")),
                    }
                )
        return out
    return [{"value": v, "label": _text(v) or "", "description": None} for v in values or []]


def _base(name: str, path: str, prop: Mapping[str, Any], view: Mapping[str, Any]) -> Field:
    return {
        "name": name,
        "path": path,
        "view": view.get("name"),
        "label": _text(view.get("label")) or (None if view.get("name") in _NOTICES else name),
        "description": _text(view.get("description")),
        "caption": _text(view.get("caption")),
        "placeholder": _text(view.get("placeholder")),
        "required": bool(prop.get("required")),
        "read_only": bool(view.get("read_only")),
        "default": prop.get("default"),
        "error": _text(prop.get("error_message")) if prop.get("invalid") else None,
    }


def _json_field(field: Field) -> Field:
    default = field.get("default")
    field["widget"] = "json"
    field["default"] = None if default is None else json.dumps(default, indent=2)
    return field


def describe_property(name: str, prop: Mapping[str, Any], path: str = "") -> Field:
    """The field description of one property's JSON (``Property.to_json()``)."""
    path = path or name
    raw_type, raw_view = prop.get("type"), prop.get("view")
    type_: Mapping[str, Any] = raw_type if isinstance(raw_type, Mapping) else {}
    view: Mapping[str, Any] = raw_view if isinstance(raw_view, Mapping) else {}
    type_name = type_.get("name")
    view_name = view.get("name")
    field = _base(name, path, prop, view)

    # views that only display something
    if view_name in _NOTICES or view_name == "AlertView":
        severity = view.get("severity") if view_name == "AlertView" else _NOTICES[view_name]
        return {**field, "widget": "notice", "severity": str(severity or "info")}
    if view_name in _HEADERS:
        return {**field, "widget": "header"}
    if view_name == "MarkdownView":
        source = prop.get("default") if isinstance(prop.get("default"), str) else ""
        return {**field, "widget": "markdown", "blocks": render_markdown(source or "")}
    if view_name in _BUTTONS:
        return {**field, "widget": "button", "operator": _text(view.get("operator"))}
    if view_name == "LinkView":
        href = _text(view.get("href"))
        safe = href if href and href.startswith(("https://", "http://")) else None
        return {**field, "widget": "link", "href": safe}
    if view_name == "HiddenView":
        return {**field, "widget": "hidden"}
    if type_name == "Void":
        known = view_name in _PLAIN_VIEWS
        return {**field, "widget": "notice", "severity": "info", "unsupported": not known}

    if type_name == "Boolean" and view_name in _PLAIN_VIEWS:
        return {**field, "widget": "checkbox"}
    if type_name == "String" and view_name in _CHOICE_VIEWS | _RADIO_VIEWS:
        widget = "radio" if view_name in _RADIO_VIEWS else "select"
        return {**field, "widget": widget, "choices": _choices(view, None)}
    if type_name == "String" and view_name in _TEXTAREA_VIEWS:
        return {**field, "widget": "textarea"}
    if type_name == "String" and view_name in _PLAIN_VIEWS | {"FileExplorerView", "ColorView"}:
        return {**field, "widget": "text"}
    if type_name == "Number" and view_name in _PLAIN_VIEWS:
        return {
            **field,
            "widget": "number",
            "min": type_.get("min"),
            "max": type_.get("max"),
            "integer": bool(type_.get("int")),
        }
    if type_name == "Enum" and view_name in _PLAIN_VIEWS | _CHOICE_VIEWS | _RADIO_VIEWS:
        widget = "radio" if view_name in _RADIO_VIEWS else "select"
        return {**field, "widget": widget, "choices": _choices(view, type_.get("values"))}
    if type_name == "List":
        element = type_.get("element_type") or {}
        element_name = element.get("name") if isinstance(element, Mapping) else None
        if view_name in _CHOICE_VIEWS or (view_name == "CheckboxView" and view.get("choices")):
            values = element.get("values") if element_name == "Enum" else None
            return {**field, "widget": "multiselect", "choices": _choices(view, values)}
        if element_name in ("String", "Number") and view_name in _PLAIN_VIEWS | {
            "ListView",
            "TagsView",
        }:
            number = element_name == "Number"
            return {
                **field,
                "widget": "list",
                "element": "number" if number else "string",
                "integer": bool(number and element.get("int")),
            }
    if type_name == "File" and view_name in _PLAIN_VIEWS | {"FileExplorerView"}:
        return {**field, "widget": "file"}
    if type_name == "UploadedFile" and view_name in _PLAIN_VIEWS | {"FileView"}:
        return {**field, "widget": "upload"}
    if type_name == "Object" and view_name in _CONTAINER_VIEWS:
        properties = type_.get("properties")
        children = properties if isinstance(properties, Mapping) else {}
        fields = [
            describe_property(str(child), sub, f"{path}.{child}")
            for child, sub in children.items()
            if isinstance(sub, Mapping)
        ]
        return {**field, "widget": "object", "fields": fields}
    return _json_field(field)


def describe_form(schema: Any) -> dict[str, Any]:
    """The whole form of a schema: its label, description, button label and fields.

    ``schema`` is what ``resolve_input``/``resolve_output`` returned (a Property or an
    Object, or its JSON), or ``None`` for an operator without a form.
    """
    if schema is None:
        return {"label": None, "description": None, "submit_label": None, "fields": []}
    data = schema.to_json() if callable(getattr(schema, "to_json", None)) else schema
    if isinstance(data, Mapping) and data.get("name") == "Object" and "properties" in data:
        data = {"type": data, "view": None}  # an Object given without its Property
    type_ = data.get("type") if isinstance(data, Mapping) else None
    view = data.get("view") if isinstance(data, Mapping) else None
    view = view if isinstance(view, Mapping) else {}
    properties = type_.get("properties") if isinstance(type_, Mapping) else None
    fields = [
        describe_property(str(name), prop)
        for name, prop in (properties or {}).items()
        if isinstance(prop, Mapping)
    ]
    return {
        "label": _text(view.get("label")),
        "description": _text(view.get("description")),
        "submit_label": _text(view.get("submit_button_label")),
        "fields": fields,
    }
