"""Form descriptions for every kind of property, and the safe Markdown subset."""

from __future__ import annotations

from fiftyone_plugins.operators import types
from fiftyone_plugins.web.forms import describe_form
from fiftyone_plugins.web.markdown import render_inline, render_markdown


def _fields(inputs):
    return {f["name"]: f for f in describe_form(types.Property(inputs))["fields"]}


def test_every_value_type_gets_its_widget():
    inputs = types.Object()
    inputs.str("s", label="S", description="d", required=True, default="x")
    inputs.int("i", min=1, max=3)
    inputs.float("f")
    inputs.bool("b", default=True)
    inputs.enum("e", ["a", "b"])
    radio = types.RadioGroup()
    radio.add_choice("x", label="Ex")
    inputs.enum("r", radio.values(), view=radio)
    drop = types.DropdownView()
    drop.add_choice(1, label="One")
    inputs.enum("d", drop.values(), view=drop)
    inputs.list("l", types.Int())
    multi = types.DropdownView(multiple=True)
    multi.add_choice("p", label="P")
    inputs.list("m", types.String(), view=multi)
    inputs.str("code", view=types.CodeView())
    inputs.file("file", view=types.FileExplorerView())
    inputs.uploaded_file("upload", view=types.FileView())
    inputs.str("hidden", view=types.HiddenView(), default="h")
    inner = inputs.grid("grid")
    inner.str("deep")
    inputs.map("map", types.String(), types.Int())
    inputs.tuple("tup", types.String(), types.Int())
    fields = _fields(inputs)
    widgets = {name: f["widget"] for name, f in fields.items()}
    assert widgets == {
        "s": "text", "i": "number", "f": "number", "b": "checkbox", "e": "select",
        "r": "radio", "d": "select", "l": "list", "m": "multiselect", "code": "textarea",
        "file": "file", "upload": "upload", "hidden": "hidden", "grid": "object",
        "map": "json", "tup": "json",
    }  # fmt: skip
    assert fields["s"]["required"] and fields["s"]["default"] == "x"
    assert fields["s"]["label"] == "S" and fields["s"]["description"] == "d"
    assert (fields["i"]["min"], fields["i"]["max"], fields["i"]["integer"]) == (1, 3, True)
    assert fields["r"]["choices"] == [{"value": "x", "label": "Ex", "description": None}]
    assert fields["e"]["choices"][1]["value"] == "b"
    assert fields["l"]["element"] == "number"
    assert fields["grid"]["fields"][0]["path"] == "grid.deep"


def test_display_views():
    inputs = types.Object()
    inputs.message("n", "Note")
    inputs.warning("w", "Careful")
    inputs.error("e", "Bad")
    inputs.success("ok", "Good")
    inputs.view("alert", types.AlertView(label="Alert", severity="warning"))
    inputs.view("h", types.Header(label="Title"))
    inputs.md("**hi**")
    inputs.btn("go", label="Go", on_click="@a/b/c")
    inputs.view("link", types.LinkView(label="L", href="javascript:alert(1)"))
    fields = _fields(inputs)
    assert [fields[k]["severity"] for k in ("n", "w", "e", "ok", "alert")] == [
        "info", "warning", "error", "success", "warning",
    ]  # fmt: skip
    assert fields["h"]["widget"] == "header"
    assert fields["markdown"]["blocks"] == [{"t": "p", "spans": [{"t": "strong", "v": "hi"}]}]
    assert fields["go"]["widget"] == "button" and fields["go"]["operator"] == "@a/b/c"
    assert fields["link"]["href"] is None  # not an http(s) link


def test_unknown_views_fall_back_to_json():
    class BrandNewView(types.View):
        pass

    inputs = types.Object()
    inputs.str("s", view=BrandNewView(), default="v")
    inputs.view("v", BrandNewView(label="shown"))
    fields = _fields(inputs)
    assert fields["s"]["widget"] == "json" and fields["s"]["default"] == '"v"'
    assert fields["v"]["widget"] == "notice" and fields["v"]["unsupported"]


def test_an_invalid_mark_becomes_the_fields_error():
    inputs = types.Object()
    inputs.str("s", invalid=True, error_message="taken")
    assert _fields(inputs)["s"]["error"] == "taken"


def test_form_labels_and_no_form():
    form = describe_form(types.Property(types.Object(), view=types.View(label="T")))
    assert form["label"] == "T" and form["fields"] == []
    assert describe_form(None)["fields"] == []
    assert describe_form(types.Object().to_json())["fields"] == []


def test_markdown_subset():
    blocks = render_markdown("# Title\n\ntext *em* `c`\n\n- one\n- two\n\n```\n<b>x</b>\n```")
    assert blocks[0] == {"t": "h", "level": 1, "spans": [{"t": "text", "v": "Title"}]}
    assert [s["t"] for s in blocks[1]["spans"]] == ["text", "em", "text", "code"]
    assert blocks[2] == {
        "t": "ul",
        "items": [[{"t": "text", "v": "one"}], [{"t": "text", "v": "two"}]],
    }
    assert blocks[3] == {"t": "pre", "v": "<b>x</b>"}
    assert render_inline("[a](https://x.org)") == [{"t": "a", "v": "a", "href": "https://x.org"}]
    assert render_inline("[a](javascript:alert(1))")[0]["t"] == "text"
