"""Parameter validation: every rule with good and bad values, paths, and the error text."""

from __future__ import annotations

import math
from typing import Any

import pytest

import fiftyone_plugins.operators.types as types
from fiftyone_plugins.errors import OperatorError, ValidationError
from fiftyone_plugins.operators.validation import (
    INVALID_ENUM,
    INVALID_LIST,
    INVALID_OBJECT,
    INVALID_TYPE,
    NOT_INTEGER,
    REQUIRED,
    Issue,
    format_error,
    format_errors,
    validate,
    validate_or_raise,
)


def schema_of(build: Any) -> types.Property:
    """A form whose single-property body ``build(inputs)`` fills in."""
    inputs = types.Object()
    build(inputs)
    return types.Property(inputs)


def errors(build: Any, params: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    return [tuple(e) for e in validate(schema_of(build), params, **kwargs)]


# -- required ----------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"name": None}])
def test_required_missing_or_none(params: dict[str, Any]) -> None:
    assert errors(lambda i: i.str("name", required=True), params) == [("name", REQUIRED)]


def test_required_present_and_optional_missing_pass() -> None:
    assert errors(lambda i: i.str("name", required=True), {"name": "x"}) == []
    assert errors(lambda i: i.str("name"), {}) == []


def test_empty_string_counts_as_missing_unless_allowed() -> None:
    assert errors(lambda i: i.str("s", required=True), {"s": ""}) == [("s", REQUIRED)]
    assert errors(lambda i: i.str("s", required=True, allow_empty=True), {"s": ""}) == []
    assert errors(lambda i: i.str("s"), {"s": ""}) == []


def test_nan_counts_as_missing_for_numbers() -> None:
    assert errors(lambda i: i.float("x", required=True), {"x": math.nan}) == [("x", REQUIRED)]
    assert errors(lambda i: i.float("x"), {"x": math.nan}) == []


# -- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "good", "bad"),
    [
        (lambda i: i.str("v"), ["", "text"], [1, True, ["a"], {"a": 1}]),
        (lambda i: i.define_property("v", types.SampleID()), ["abc"], [5]),
        (lambda i: i.bool("v"), [True, False], [1, 0, "true"]),
        (lambda i: i.int("v"), [0, -3, 2.0], [True, "5", [1]]),
        (lambda i: i.float("v"), [1.5, 2, -0.0], [False, "1.5", {"x": 1}]),
        (lambda i: i.define_property("v", types.Number()), [1, 1.25], [True, "1"]),
    ],
)
def test_primitive_types(build: Any, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        assert errors(build, {"v": value}) == [], value
    for value in bad:
        assert errors(build, {"v": value}) == [("v", INVALID_TYPE)], value


def test_int_rejects_fractions() -> None:
    assert errors(lambda i: i.int("v"), {"v": 2.5}) == [("v", NOT_INTEGER)]


def test_enum_values() -> None:
    def build(i: types.Object) -> None:
        i.enum("e", ["a", "b", 1])

    assert errors(build, {"e": "a"}) == []
    assert errors(build, {"e": 1}) == []
    assert errors(build, {"e": "c"}) == [("e", INVALID_ENUM)]
    assert errors(build, {"e": True}) == [("e", INVALID_ENUM)]  # True is not 1 here


def test_multi_select_enum_checks_each_value() -> None:
    def build(i: types.Object) -> None:
        dropdown = types.DropdownView(multiple=True)
        for v in ("x", "y"):
            dropdown.add_choice(v, label=v)
        i.enum("tags", dropdown.values(), view=dropdown)

    assert errors(build, {"tags": ["x", "y"]}) == []
    assert errors(build, {"tags": ["x", "z", "q"]}) == [
        ("tags[1]", INVALID_ENUM),
        ("tags[2]", INVALID_ENUM),
    ]


# -- lists -------------------------------------------------------------------------------------


def test_list_must_be_a_list_of_the_element_type() -> None:
    def build(i: types.Object) -> None:
        i.list("tags", types.String())

    assert errors(build, {"tags": ["a", "b"]}) == []
    assert errors(build, {"tags": ("a",)}) == []
    assert errors(build, {"tags": "a"}) == [("tags", INVALID_LIST)]
    assert errors(build, {"tags": ["a", 2, "c", False]}) == [
        ("tags[1]", INVALID_TYPE),
        ("tags[3]", INVALID_TYPE),
    ]


def test_list_min_and_max_items() -> None:
    def build(i: types.Object) -> None:
        i.list("l", types.Number(), min_items=1, max_items=2)

    assert errors(build, {"l": [1]}) == []
    assert errors(build, {"l": [1, 2]}) == []
    assert errors(build, {"l": []}) == [("l", "Must have at least 1 item")]
    assert errors(build, {"l": [1, 2, 3]}) == [("l", "Must have at most 2 items")]
    assert errors(lambda i: i.list("l", types.Number(), min_items=2), {"l": [1]}) == [
        ("l", "Must have at least 2 items")
    ]


def test_list_of_objects_reports_item_paths() -> None:
    def build(i: types.Object) -> None:
        row = types.Object()
        row.str("first_name", required=True)
        row.int("age")
        i.list("people", row)

    params = {"people": [{"first_name": "A"}, {"age": "old"}, "nope"]}
    assert errors(build, params) == [
        ("people[1].first_name", REQUIRED),
        ("people[1].age", INVALID_TYPE),
        ("people[2]", INVALID_OBJECT),
    ]


# -- objects -----------------------------------------------------------------------------------


def test_nested_objects_report_dotted_paths() -> None:
    c = types.Object()
    c.int("c", required=True)
    b = types.Object()
    b.define_property("b", c)
    a = types.Object()
    a.define_property("a", b)
    schema = types.Property(a)

    assert validate(schema, {"a": {"b": {"c": 1}}}) == []
    assert validate(schema, {"a": {"b": {}}}) == [("a.b.c", REQUIRED)]
    assert validate(schema, {"a": {"b": {"c": "x"}}}) == [("a.b.c", INVALID_TYPE)]
    assert validate(schema, {"a": {"b": 3}}) == [("a.b", INVALID_OBJECT)]
    assert validate(schema, {"a": None}) == []  # optional object may be absent


def test_unknown_params_are_allowed() -> None:
    assert errors(lambda i: i.str("a"), {"a": "x", "extra": object(), "more": [1]}) == []


def test_map_tuple_and_oneof() -> None:
    def build(i: types.Object) -> None:
        i.map("m", types.String(), types.Number())
        i.tuple("t", types.String(), types.Number())
        i.oneof("o", [types.String(), types.Boolean()])

    good = {"m": {"a": 1}, "t": ["x", 2], "o": True}
    assert errors(build, good) == []
    bad = {"m": {"a": "x", 1: 2}, "t": ["x", "y"], "o": 3}
    assert errors(build, bad) == [
        ("m.a", INVALID_TYPE),
        ("m.1", "Invalid key"),
        ("t[1]", INVALID_TYPE),
        ("o", INVALID_TYPE),
    ]
    assert errors(build, {"m": [1], "t": ["x"]}) == [("m", "Invalid map"), ("t", "Invalid tuple")]


# -- numeric bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda i: i.float("x", min=0, max=1),
        lambda i: i.define_property("x", types.Number(min=0, max=1)),
        lambda i: i.float("x", view=types.SliderView(min=0, max=1, step=0.1)),
        lambda i: i.float(
            "x", view=types.SliderView(componentsProps={"slider": {"min": 0, "max": 1}})
        ),
        lambda i: i.int("x", **{"min": 0, "max": 1, "multipleOf": 1}),
    ],
    ids=["builder", "number", "slider-options", "slider-components-props", "panel-schema"],
)
def test_numeric_bounds_wherever_they_are_declared(build: Any) -> None:
    assert errors(build, {"x": 0}) == []
    assert errors(build, {"x": 1}) == []  # bounds are inclusive
    assert errors(build, {"x": -1}) == [("x", "Must be at least 0")]
    assert errors(build, {"x": 2}) == [("x", "Must be at most 1")]


def test_the_tightest_of_several_bounds_applies() -> None:
    def build(i: types.Object) -> None:
        i.int("x", min=0, max=100, view=types.SliderView(min=10, max=20))

    assert errors(build, {"x": 15}) == []
    assert errors(build, {"x": 5}) == [("x", "Must be at least 10")]
    assert errors(build, {"x": 50}) == [("x", "Must be at most 20")]


def test_range_slider_bounds_each_item() -> None:
    def build(i: types.Object) -> None:
        i.list("range", types.Number(), view=types.SliderView(min=0, max=10))

    assert errors(build, {"range": [2, 8]}) == []
    assert errors(build, {"range": [-1, 11]}) == [
        ("range[0]", "Must be at least 0"),
        ("range[1]", "Must be at most 10"),
    ]


# -- custom invalid properties -----------------------------------------------------------------


def test_invalid_property_uses_its_error_message() -> None:
    def build(i: types.Object) -> None:
        i.define_property(
            "component",
            types.String(),
            view=types.View(component="Custom"),
            invalid=True,
            error_message="Custom error message",
        )

    assert errors(build, {"component": "anything"}) == [("component", "Custom error message")]
    assert errors(build, {}) == [("component", "Custom error message")]


def test_invalid_property_without_message_gets_a_default() -> None:
    assert errors(lambda i: i.str("x", invalid=True), {"x": "y"}) == [("x", "Invalid property")]


def test_custom_only_keeps_just_the_operators_own_errors() -> None:
    def build(i: types.Object) -> None:
        i.str("name", required=True)
        i.str("bad", invalid=True, error_message="Pick another")

    assert errors(build, {}) == [("name", REQUIRED), ("bad", "Pick another")]
    assert errors(build, {}, custom_only=True) == [("bad", "Pick another")]


# -- view-only properties ----------------------------------------------------------------------


def test_view_only_properties_never_fail() -> None:
    def build(i: types.Object) -> None:
        i.message("msg", "Hello", required=True)
        i.view("notice", types.Notice(label="n"), required=True)
        i.btn("go", label="Go", required=True)
        i.md("# Title", name="md")
        i.str("banner", required=True, view=types.Warning(label="w"))
        i.int("status", view=types.MarkdownView())

    params = {"msg": 3, "notice": object(), "md": 5, "banner": None, "status": "text"}
    assert errors(build, params) == []


# -- many errors at once -----------------------------------------------------------------------


def test_every_bad_parameter_is_reported_in_schema_order() -> None:
    def build(i: types.Object) -> None:
        i.str("name", required=True)
        i.int("count", min=1)
        i.enum("mode", ["a", "b"])
        i.list("tags", types.String(), max_items=1)
        i.bool("flag")

    params = {"count": 0, "mode": "z", "tags": ["a", "b", 3], "flag": "yes"}
    assert validate(schema_of(build), params) == [
        ("name", REQUIRED),
        ("count", "Must be at least 1"),
        ("mode", INVALID_ENUM),
        ("tags", "Must have at most 1 item"),
        ("tags[2]", INVALID_TYPE),
        ("flag", INVALID_TYPE),
    ]


def test_issues_are_named_tuples() -> None:
    (issue,) = errors(lambda i: i.str("a", required=True), {})
    full = validate(schema_of(lambda i: i.str("a", required=True)), {})[0]
    assert isinstance(full, Issue)
    assert (full.path, full.reason) == issue == ("a", REQUIRED)


# -- schemas in other shapes -------------------------------------------------------------------


def test_schema_forms_accepted() -> None:
    inputs = types.Object()
    inputs.str("a", required=True)
    assert validate(inputs, {}) == [("a", REQUIRED)]  # a bare Object
    assert validate(types.Property(inputs), None) == [("a", REQUIRED)]  # params None
    assert validate(None, {"anything": 1}) == []  # no resolve_input
    assert validate(types.Property(inputs), "not a dict") == [("", INVALID_OBJECT)]


def test_types_from_another_module_validate_by_class_name() -> None:
    """FiftyOne's own ``types`` classes share the names and attributes this walks."""

    class String:
        allow_empty = False

    class Number:
        min, max, int, float = 0, 5, True, False

    class Object:
        def __init__(self, **props: Any) -> None:
            self.properties = props

    class Prop:
        def __init__(self, type_: Any, required: bool = False) -> None:
            self.type, self.required = type_, required
            self.invalid, self.error_message, self.view = False, "", None

    schema = Prop(Object(name=Prop(String(), required=True), n=Prop(Number())))
    assert validate(schema, {"n": 9}) == [("name", REQUIRED), ("n", "Must be at most 5")]


# -- raising and formatting --------------------------------------------------------------------


def test_validate_or_raise_lists_every_error_in_the_reference_form() -> None:
    def build(i: types.Object) -> None:
        i.str("name", required=True)
        row = types.Object()
        row.int("n")
        i.list("rows", row)

    schema = schema_of(build)
    with pytest.raises(ValidationError) as info:
        validate_or_raise(schema, {"rows": [{"n": 1}, {"n": "x"}]}, uri="@acme/demo/op")
    err = info.value
    assert isinstance(err, OperatorError)
    assert err.uri == "@acme/demo/op"
    assert err.errors == [("name", REQUIRED), ("rows[1].n", INVALID_TYPE)]
    assert str(err) == (
        "Validation error. Path: name. Reason: Required property\n"
        "Validation error. Path: rows[1].n. Reason: Invalid value type"
    )
    validate_or_raise(schema, {"name": "ok"})  # valid: no exception


def test_format_helpers_match_the_error_class() -> None:
    errs = [("a.b", "Required property"), ("c[0]", "Invalid enum value")]
    assert format_error("a.b", "Required property") == (
        "Validation error. Path: a.b. Reason: Required property"
    )
    assert format_errors(errs) == str(ValidationError(errs))
    assert format_errors([]) == ""
