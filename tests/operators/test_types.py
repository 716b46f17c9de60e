"""The form types: builders, JSON shape, view options, placements and the unknown-View fallback."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

import fiftyone_plugins.operators.types as types


def roundtrip(obj: Any) -> Any:
    """JSON of ``obj`` after a real encode/decode (fails on anything not JSON-ready)."""
    data = obj.to_json()
    assert json.loads(json.dumps(data)) == data
    return data


class FakePanel:
    """Stands in for an operator/panel: bound methods serialize through its ``uri``."""

    uri = "@acme/demo/counter"

    def increment(self, ctx: Any) -> None:  # pragma: no cover - never called
        pass

    def on_pick(self, ctx: Any) -> None:  # pragma: no cover - never called
        pass


def build_realistic_form() -> types.Property:
    """A form assembled the way the example plugins build theirs."""
    panel = FakePanel()
    inputs = types.Object()
    inputs.message("intro", "Welcome", description="Fill in the form")
    inputs.view("warn", types.Warning(label="Careful"))
    inputs.md(
        """
        # Title
        Some *markdown*
    """,
        name="help",
    )

    radio = types.RadioGroup()
    radio.add_choice("simple", label="Use defaults")
    radio.add_choice("advanced", label="Advanced")
    inputs.enum("mode", radio.values(), default=radio.choices[0].value, view=radio)

    dropdown = types.Dropdown(label="Fields")
    for name in ("a", "b"):
        dropdown.add_choice(name, label=name.upper())
    inputs.enum("field", dropdown.values(), required=True, view=dropdown)

    row = types.Object()
    cell = types.View(space=6)
    row.str("first_name", label="First Name", view=cell)
    row.str("last_name", label="Last Name", view=cell)
    inputs.list("people", row, label="People", default=[{"first_name": "Ann"}])

    inputs.float(
        "threshold",
        label="Threshold",
        default=0.5,
        min=0.0,
        max=1.0,
        view=types.SliderView(min=0.0, max=1.0, step=0.05),
    )
    inputs.int("count", min=1, max=10, on_change=panel.on_pick)
    inputs.bool("overwrite", default=False, view=types.CheckboxView())
    inputs.str("code", view=types.CodeView(language="python"))
    inputs.btn("go", label="Go", icon="add", on_click=panel.increment, params={"n": 1})

    table = types.TableView()
    table.add_column("name", label="Name")
    table.add_column("age", label="Age")
    inputs.list("rows", types.Object(), view=table)

    menu = inputs.menu("menu", variant="square", color="51")
    menu.btn("reset", label="Reset", on_click=panel.increment)
    return types.Property(inputs, view=types.View(label="Realistic"))


# -- a realistic form --------------------------------------------------------------------------


def test_realistic_form_serializes_to_json_with_fiftyone_keys() -> None:
    data = roundtrip(build_realistic_form())

    assert data["view"]["label"] == "Realistic"
    assert data["type"]["name"] == "Object"
    props = data["type"]["properties"]
    assert list(props) == [
        "intro",
        "warn",
        "help",
        "mode",
        "field",
        "people",
        "threshold",
        "count",
        "overwrite",
        "code",
        "go",
        "rows",
        "menu",
    ]
    # every property carries the same keys
    for prop in props.values():
        assert set(prop) == {
            "type",
            "default",
            "required",
            "choices",
            "invalid",
            "error_message",
            "on_change",
            "view",
        }
    assert props["intro"]["type"] == {"name": "Void"}
    assert props["intro"]["view"]["name"] == "Notice"
    assert props["intro"]["view"]["label"] == "Welcome"
    assert props["intro"]["view"]["description"] == "Fill in the form"
    assert props["help"]["default"] == "\n# Title\nSome *markdown*\n"
    assert props["help"]["view"]["name"] == "MarkdownView"
    assert props["mode"]["type"] == {"name": "Enum", "values": ["simple", "advanced"]}
    assert props["mode"]["default"] == "simple"
    assert [c["value"] for c in props["mode"]["view"]["choices"]] == ["simple", "advanced"]
    assert props["field"]["required"] is True
    assert props["field"]["view"]["name"] == "Dropdown"

    people = props["people"]["type"]
    assert people["name"] == "List"
    assert people["element_type"]["properties"]["first_name"]["view"]["space"] == 6
    assert props["people"]["default"] == [{"first_name": "Ann"}]

    threshold = props["threshold"]
    assert threshold["type"] == {
        "name": "Number",
        "min": 0.0,
        "max": 1.0,
        "int": False,
        "float": True,
    }
    assert threshold["view"]["name"] == "SliderView"
    assert threshold["view"]["step"] == 0.05  # an option SliderView does not define
    assert props["count"]["type"]["int"] is True
    assert props["count"]["on_change"] == "@acme/demo/counter#on_pick"

    go = props["go"]["view"]
    assert go["name"] == "Button"
    assert go["operator"] == "@acme/demo/counter#increment"
    assert go["params"] == {"n": 1}
    assert go["icon"] == "add"

    assert [c["key"] for c in props["rows"]["view"]["columns"]] == ["name", "age"]
    menu = props["menu"]
    assert menu["view"]["name"] == "MenuView"
    assert menu["view"]["pad"] == 1
    assert menu["view"]["color"] == "51"
    reset = menu["type"]["properties"]["reset"]["view"]
    assert reset["operator"] == "@acme/demo/counter#increment"


def test_shared_view_is_cloned_per_property() -> None:
    row = types.Object()
    cell = types.View(space=6)
    first = row.str("first", label="First", view=cell)
    second = row.str("second", label="Second", view=cell)

    assert first.view is not cell and second.view is not cell
    assert first.view.label == "First"
    assert second.view.label == "Second"
    assert cell.label is None


def test_define_property_label_wins_over_the_view_keyword() -> None:
    inputs = types.Object()
    prop = inputs.str("x", label="Outer", view=types.View(label="Inner"))
    assert prop.view.to_json()["label"] == "Outer"


def test_property_keeps_rules_and_ignores_unknown_keywords() -> None:
    prop = types.Property(
        types.String(), required=True, default="a", invalid=True, error_message="no", foo=1
    )
    assert (prop.required, prop.default, prop.invalid, prop.error_message) == (
        True,
        "a",
        True,
        "no",
    )
    assert "foo" not in prop.to_json()
    assert types.Property(types.String()).to_json()["view"] is None


# -- value types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (types.Void(), {"name": "Void"}),
        (types.Boolean(), {"name": "Boolean"}),
        (types.String(), {"name": "String", "allow_empty": False}),
        (types.String(allow_empty=True), {"name": "String", "allow_empty": True}),
        (types.SampleID(), {"name": "SampleID", "allow_empty": False}),
        (
            types.Number(min=1, max=2),
            {"name": "Number", "min": 1, "max": 2, "int": False, "float": False},
        ),
        (
            types.Int(max=3),
            {"name": "Number", "min": None, "max": 3, "int": True, "float": False},
        ),
        (
            types.Float(min=0),
            {"name": "Number", "min": 0, "max": None, "int": False, "float": True},
        ),
        (types.Enum(("a", 1)), {"name": "Enum", "values": ["a", 1]}),
        (
            types.List(types.Boolean(), min_items=1, max_items=2),
            {"name": "List", "element_type": {"name": "Boolean"}, "min_items": 1, "max_items": 2},
        ),
        (
            types.Map(types.String(), types.Boolean()),
            {
                "name": "Map",
                "key_type": {"name": "String", "allow_empty": False},
                "value_type": {"name": "Boolean"},
            },
        ),
        (
            types.OneOf([types.Boolean(), types.Void()]),
            {"name": "OneOf", "types": [{"name": "Boolean"}, {"name": "Void"}]},
        ),
        (
            types.Tuple(types.Boolean(), types.Void()),
            {"name": "Tuple", "items": [{"name": "Boolean"}, {"name": "Void"}]},
        ),
        (types.Tree(types.Boolean()), {"name": "Tree", "items": [{"name": "Boolean"}]}),
    ],
)
def test_type_json(type_: types.BaseType, expected: dict[str, Any]) -> None:
    assert roundtrip(type_) == expected


def test_int_and_float_are_numbers() -> None:
    assert isinstance(types.Int(), types.Number) and types.Int().int is True
    assert isinstance(types.Float(), types.Number) and types.Float().float is True


def test_builders_return_what_fiftyone_returns() -> None:
    inputs = types.Object()
    assert isinstance(inputs.map("m", types.String(), types.Number()), types.Map)
    assert isinstance(inputs.oneof("o", [types.String(), types.Number()]), types.OneOf)
    tup = inputs.tuple("t", types.String(), types.Number())
    assert isinstance(tup, types.Tuple) and len(tup.items) == 2
    tree = inputs.tree("tr", data=[["g", ["s1"]]])
    assert isinstance(tree, types.List) and isinstance(tree.element_type, types.String)
    for name in ("grid", "h_stack", "v_stack", "btn_group", "dashboard", "plot"):
        assert isinstance(getattr(inputs, name)(name), types.Object)
    assert isinstance(inputs.media_player("mp", "http://x/v.mp4"), types.Object)

    data = roundtrip(inputs)["properties"]
    assert data["m"]["view"]["name"] == "MapView"
    assert data["t"]["view"]["name"] == "TupleView"
    assert data["tr"]["view"]["name"] == "TreeSelectionView"
    assert data["tr"]["view"]["data"] == [["g", ["s1"]]]
    assert data["h_stack"]["view"]["orientation"] == "horizontal"
    assert data["v_stack"]["view"]["orientation"] == "vertical"
    assert data["btn_group"]["view"]["align_y"] == "center"
    assert data["mp"]["default"] == {"url": "http://x/v.mp4"}


def test_message_builders_make_view_only_properties() -> None:
    inputs = types.Object()
    inputs.notice("n", "note")
    inputs.warning("w", "warn")
    inputs.error("e", "err")
    inputs.success("s", "ok")
    inputs.markdown("*hi*", name="md")
    inputs.button("b", label="B")
    inputs.img("i", height="10px", alt_text="alt")
    inputs.arrow_nav("a", on_forward="op/fwd")
    data = roundtrip(inputs)["properties"]
    names = {k: v["view"]["name"] for k, v in data.items()}
    assert names == {
        "n": "Notice",
        "w": "Warning",
        "e": "Error",
        "s": "Success",
        "md": "MarkdownView",
        "b": "Button",
        "i": "ImageView",
        "a": "ArrowNavView",
    }
    assert data["i"]["view"]["alt"] == "alt"
    assert data["a"]["view"]["forward"] is True  # default kept when not given
    assert data["a"]["view"]["on_forward"] == "op/fwd"


def test_get_property_and_clone() -> None:
    inputs = types.Object()
    prop = inputs.str("a")
    assert inputs.get_property("a") is prop
    assert inputs.get_property("missing") is None
    copy = inputs.clone()
    copy.str("b")
    assert list(inputs.properties) == ["a"]
    assert list(copy.properties) == ["a", "b"]


def test_file_objects_describe_their_fields() -> None:
    assert list(types.File().properties) == [
        "absolute_path",
        "name",
        "type",
        "size",
        "date_modified",
    ]
    upload = roundtrip(types.UploadedFile())
    assert upload["name"] == "UploadedFile"
    assert upload["properties"]["size"]["type"]["int"] is True
    inputs = types.Object()
    assert isinstance(
        inputs.file("f", view=types.FileExplorerView(choose_dir=True)).type, types.File
    )
    assert roundtrip(inputs)["properties"]["f"]["view"]["choose_dir"] is True


# -- views -------------------------------------------------------------------------------------


def test_view_keeps_unknown_options_and_converts_callables() -> None:
    view = types.View(label="L", brand_new_option={"x": [1, 2]}, on_thing=FakePanel().increment)
    data = roundtrip(view)
    assert data["name"] == "View"
    assert data["label"] == "L"
    assert data["brand_new_option"] == {"x": [1, 2]}
    assert data["on_thing"] == "@acme/demo/counter#increment"
    assert view.options["brand_new_option"] == {"x": [1, 2]}


def test_plain_function_callback_serializes_by_name() -> None:
    def refresh(ctx: Any) -> None:  # pragma: no cover - never called
        pass

    assert types.Button(operator=refresh).to_json()["operator"] == "refresh"


def test_choices_hide_excluded_and_clone_independently() -> None:
    choices = types.Choices()
    choices.add_choice("a", label="A")
    choices.add_choice("b", include=False)
    choices.append(types.Choice("c", description="C"))
    assert choices.values() == ["a", "c"]
    assert [c["value"] for c in roundtrip(choices)["choices"]] == ["a", "c"]

    clone = choices.clone()
    clone.add_choice("d")
    assert choices.values() == ["a", "c"]
    assert clone.values() == ["a", "c", "d"]


@pytest.mark.parametrize(
    "cls",
    [types.RadioGroup, types.Dropdown, types.DropdownView, types.AutocompleteView, types.TabsView],
)
def test_choice_views_are_choices(cls: type[types.Choices]) -> None:
    view = cls(label="Pick")
    view.add_choice(1, label="One")
    data = roundtrip(view)
    assert data["name"] == cls.__name__
    assert data["choices"][0]["value"] == 1


def test_table_view_builds_columns_actions_tooltips() -> None:
    table = types.TableView()
    table.add_column("name", label="Name")
    with pytest.raises(ValueError):
        table.add_column("name")
    table.add_row_action("delete", on_click=FakePanel().increment, icon="delete")
    with pytest.raises(ValueError):
        table.add_row_action("delete", on_click="x")
    table.add_tooltip(0, "name", "first row")
    with pytest.raises(ValueError):
        table.add_tooltip(0, "name", "again")
    data = roundtrip(table)
    assert table.keys() == ["name"]
    assert data["columns"][0]["key"] == "name"
    assert data["row_actions"][0]["name"] == "delete"
    assert data["row_actions"][0]["on_click"] == "@acme/demo/counter#increment"
    assert data["tooltips"][0] == {
        **data["tooltips"][0],
        "row": 0,
        "column": "name",
        "value": "first row",
    }


def test_views_that_refuse_incomplete_arguments() -> None:
    with pytest.raises(ValueError):
        types.OperatorExecutionButtonView(label="no operator")
    assert types.OperatorExecutionButtonView(operator="@a/b/c").to_json()["operator"] == "@a/b/c"
    with pytest.raises(ValueError):
        types.IconButtonView(operator="x")
    assert types.IconButtonView(icon="add").to_json()["icon"] == "add"
    with pytest.raises(ValueError):
        types.DrawerView(placement="top")
    assert types.DrawerView(placement="left").to_json()["placement"] == "left"


def test_view_specific_fields() -> None:
    assert roundtrip(types.Form(live=True))["submit_button_label"] == "Execute"
    assert roundtrip(types.ReadOnlyView())["read_only"] is True
    assert roundtrip(types.ProgressView())["variant"] == "linear"
    assert roundtrip(types.AlertView())["severity"] == "info"
    assert roundtrip(types.LazyFieldView())["save_on_blur"] is True
    assert roundtrip(types.LinkView(href="http://x"))["href"] == "http://x"
    assert roundtrip(types.ListView(items=types.ImageView()))["items"]["name"] == "ImageView"
    assert roundtrip(types.OneOfView(oneof=[types.TextView()]))["oneof"][0]["name"] == "TextView"
    assert roundtrip(types.TupleView(types.TextView(), types.CodeView()))["items"][1]["name"] == (
        "CodeView"
    )
    assert roundtrip(types.PlotlyView(data=[{"x": [1]}]))["data"] == [{"x": [1]}]
    assert roundtrip(types.DashboardView(rows=2))["rows"] == 2
    paper = roundtrip(types.GridView(variant="paper", elevation=3))["container"]
    assert paper == {"name": "PaperContainer", "elevation": 3, "rounded": True}
    assert roundtrip(types.GridView(variant="outline"))["container"]["name"] == "OutlinedContainer"
    assert types.GridView().to_json()["container"] is None


# -- view targets ------------------------------------------------------------------------------


def test_view_target_without_selection_is_hidden_and_targets_the_dataset() -> None:
    inputs = types.Object()
    prop = inputs.view_target(SimpleNamespace(selected=[]))
    assert inputs.get_property("view_target") is prop
    assert prop.type.values == [types.ViewTarget.DATASET]
    assert prop.default == "DATASET"
    assert isinstance(prop.view, types.HiddenView)


def test_view_target_offers_the_selection_and_defaults_to_it() -> None:
    ctx = SimpleNamespace(selected=["s1"], has_custom_view=True, selected_labels=[])
    inputs = types.Object()
    prop = inputs.view_target(ctx, action_description="Tag", selected_samples_label="Just these")
    assert prop.type.values == ["DATASET", "CURRENT_VIEW", "SELECTED_SAMPLES"]
    assert prop.default == "SELECTED_SAMPLES"
    assert isinstance(prop.view, types.RadioGroup)
    choices = {c["value"]: c for c in roundtrip(prop)["view"]["choices"]}
    assert choices["SELECTED_SAMPLES"]["label"] == "Just these"
    assert choices["DATASET"]["description"] == "Tag the entire dataset"


def test_view_target_on_a_generated_view_uses_the_base_view() -> None:
    ctx = SimpleNamespace(has_generated_view=(True, False), selected=[])
    prop = types.Object().view_target(ctx, view_type=types.Dropdown, default_target="DATASET")
    assert prop.type.values == ["BASE_VIEW"]
    assert prop.default == "BASE_VIEW"  # an unavailable default falls back


# -- placements --------------------------------------------------------------------------------


def test_places_values_are_the_apps_strings() -> None:
    assert {p.name: p.value for p in types.Places} == {
        "SAMPLES_GRID_ACTIONS": "samples-grid-actions",
        "SAMPLES_GRID_SECONDARY_ACTIONS": "samples-grid-secondary-actions",
        "SAMPLES_VIEWER_ACTIONS": "samples-viewer-actions",
        "EMBEDDINGS_ACTIONS": "embeddings-actions",
        "HISTOGRAM_ACTIONS": "histograms-actions",
        "MAP_ACTIONS": "map-actions",
        "MAP_SECONDARY_ACTIONS": "map-secondary-actions",
        "DISPLAY_OPTIONS": "display-options",
    }
    assert types.Places.MAP_ACTIONS == "map-actions"
    assert types.Places.MAP_ACTIONS.to_json() == "map-actions"


def test_placement_json() -> None:
    placement = types.Placement(
        types.Places.SAMPLES_GRID_SECONDARY_ACTIONS,
        types.Button(label="Open", icon="/assets/icon.svg", prompt=False),
    )
    data = roundtrip(placement)
    assert data["place"] == "samples-grid-secondary-actions"
    assert data["view"]["name"] == "Button"
    assert data["view"]["icon"] == "/assets/icon.svg"
    assert types.Placement("display-options").place is types.Places.DISPLAY_OPTIONS
    assert roundtrip(types.Placement("future-place")) == {"place": "future-place", "view": None}


# -- the unknown-View fallback and the public surface -----------------------------------------


def test_unknown_view_names_resolve_to_cached_view_subclasses() -> None:
    cls = types.HolographicView
    assert issubclass(cls, types.View)
    assert cls.__name__ == "HolographicView"
    assert types.HolographicView is cls  # created once
    data = roundtrip(cls(label="Holo", depth=3, on_spin=FakePanel().increment))
    assert data["name"] == "HolographicView"
    assert data["depth"] == 3
    assert data["on_spin"] == "@acme/demo/counter#increment"

    from fiftyone_plugins.operators.types import SparkleView  # from-import works too

    inputs = types.Object()
    inputs.str("x", view=SparkleView())
    assert roundtrip(inputs)["properties"]["x"]["view"]["name"] == "SparkleView"


@pytest.mark.parametrize("name", ["Holographic", "NotAType", "_PrivateView", "view"])
def test_other_unknown_names_raise_attribute_error(name: str) -> None:
    with pytest.raises(AttributeError):
        getattr(types, name)
    assert not hasattr(types, name)


def test_public_surface_is_pinned() -> None:
    for name in types.__all__:
        assert getattr(types, name) is not None
    expected = {
        "BaseType", "Void", "Object", "Property", "String", "Boolean", "Number", "Int", "Float",
        "Enum", "List", "Map", "OneOf", "Tuple", "Tree", "SampleID", "File", "UploadedFile",
        "View", "InferredView", "Form", "ReadOnlyView", "Choice", "Choices", "RadioGroup",
        "Dropdown", "DropdownView", "AutocompleteView", "TabsView", "Button", "ButtonView",
        "OperatorExecutionButtonView", "Notice", "Warning", "Error", "Success", "Header",
        "HeaderView", "MarkdownView", "TextView", "CodeView", "ColorView", "JSONView",
        "ImageView", "PlotlyView", "TableView", "KeyValueView", "ListView", "ObjectView",
        "HStackView", "VStackView", "GridView", "DrawerView", "MenuView", "ProgressView",
        "LoadingView", "SliderView", "CheckboxView", "SwitchView", "FieldView", "FileView",
        "FileExplorerView", "LinkView", "ArrowNavView", "LazyFieldView", "MapView",
        "PromptView", "DashboardView", "IconButtonView", "ModalView", "Places", "Placement",
        "ViewTargetProperty",
    }  # fmt: skip
    assert expected <= set(types.__all__)
    assert len(types.__all__) == len(set(types.__all__))


def test_reprs_do_not_fail() -> None:
    prop = build_realistic_form()
    assert "Property" in repr(prop)
    assert "Object" in repr(prop.type)
    assert "SliderView" in repr(prop.type.get_property("threshold").view)
    assert "Placement" in repr(types.Placement(types.Places.MAP_ACTIONS))
