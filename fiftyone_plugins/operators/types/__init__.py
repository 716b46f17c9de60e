"""Form types, views and placements for operators, in the shape of ``fiftyone.operators.types``.

Plugins use it exactly as they use FiftyOne's module::

    import fiftyone_plugins.operators.types as types

    inputs = types.Object()
    inputs.str("name", label="Name", required=True)
    return types.Property(inputs, view=types.View(label="Greet"))

Every type, property and view has ``to_json()``; ``Object.to_json()`` gives the whole
schema. Validation of parameters against a schema lives in
:mod:`fiftyone_plugins.operators.validation`.

Unknown views: FiftyOne keeps adding view classes and a plugin written for a newer release
may use one this module does not define. Any missing name ending in ``View`` resolves to a
generic :class:`View` subclass of that name (created once, then cached), which keeps and
serializes whatever options it is given. Any other unknown name raises ``AttributeError``.
"""

from __future__ import annotations

from typing import Any

from ..pipeline_types import Pipeline, PipelineRunInfo, PipelineStage
from ..risk import RiskLevel
from .base import BaseType, callable_ref, to_jsonable
from .layouts import (
    Action,
    ButtonGroupView,
    Column,
    Container,
    DashboardView,
    GridView,
    HStackView,
    ListView,
    MapView,
    MenuView,
    ObjectView,
    OneOfView,
    OutlinedContainer,
    PaperContainer,
    TableView,
    Tooltip,
    TreeSelectionView,
    TupleView,
    VStackView,
)
from .object import File, Object, UploadedFile
from .placement import Placement, Places
from .properties import (
    Boolean,
    Enum,
    Float,
    Int,
    List,
    Map,
    Number,
    OneOf,
    Property,
    SampleID,
    String,
    Tree,
    Tuple,
    Void,
)
from .view_target import ViewTarget, ViewTargetOptions, ViewTargetProperty
from .views import (
    AlertView,
    ArrowNavView,
    AutocompleteView,
    Button,
    ButtonView,
    CheckboxView,
    Choice,
    Choices,
    CodeView,
    ColorView,
    DrawerView,
    Dropdown,
    DropdownView,
    Error,
    ErrorView,
    FieldView,
    FileExplorerView,
    FileView,
    Form,
    FrameLoaderView,
    Header,
    HeaderView,
    HiddenView,
    IconButtonView,
    ImageView,
    InferredView,
    JSONView,
    KeyValueView,
    LabelValueView,
    LazyFieldView,
    LinkView,
    LoadingView,
    MarkdownView,
    MediaPlayerView,
    ModalView,
    Notice,
    OperatorExecutionButtonView,
    PillBadgeView,
    PlotlyView,
    PrimitiveView,
    ProgressView,
    PromptView,
    RadioGroup,
    RadioView,
    ReadOnlyView,
    SliderView,
    StatusButtonView,
    Success,
    SwitchView,
    TabsView,
    TagsView,
    TextFieldView,
    TextView,
    TimelineView,
    TimerView,
    ToastView,
    View,
    Warning,
)

_generated_views: dict[str, type[View]] = {}


def __getattr__(name: str) -> Any:
    """Resolves an unknown ``...View`` name to a generic, cached :class:`View` subclass."""
    if not name.endswith("View") or name.startswith("_") or not name.isidentifier():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    cls = _generated_views.get(name)
    if cls is None:
        doc = (
            f"A view this library does not define, created for a plugin that uses "
            f"``types.{name}``: a plain :class:`View` that keeps its options."
        )
        cls = type(name, (View,), {"__doc__": doc, "__module__": __name__})
        _generated_views[name] = cls
    return cls


__all__ = [
    "RiskLevel",
    "Pipeline",
    "PipelineRunInfo",
    "PipelineStage",
    "Action",
    "AlertView",
    "ArrowNavView",
    "AutocompleteView",
    "BaseType",
    "Boolean",
    "Button",
    "ButtonGroupView",
    "ButtonView",
    "CheckboxView",
    "Choice",
    "Choices",
    "CodeView",
    "ColorView",
    "Column",
    "Container",
    "DashboardView",
    "DrawerView",
    "Dropdown",
    "DropdownView",
    "Enum",
    "Error",
    "ErrorView",
    "FieldView",
    "File",
    "FileExplorerView",
    "FileView",
    "Float",
    "Form",
    "FrameLoaderView",
    "GridView",
    "HStackView",
    "Header",
    "HeaderView",
    "HiddenView",
    "IconButtonView",
    "ImageView",
    "InferredView",
    "Int",
    "JSONView",
    "KeyValueView",
    "LabelValueView",
    "LazyFieldView",
    "LinkView",
    "List",
    "ListView",
    "LoadingView",
    "Map",
    "MapView",
    "MarkdownView",
    "MediaPlayerView",
    "MenuView",
    "ModalView",
    "Notice",
    "Number",
    "Object",
    "ObjectView",
    "OneOf",
    "OneOfView",
    "OperatorExecutionButtonView",
    "OutlinedContainer",
    "PaperContainer",
    "PillBadgeView",
    "Placement",
    "Places",
    "PlotlyView",
    "PrimitiveView",
    "ProgressView",
    "PromptView",
    "Property",
    "RadioGroup",
    "RadioView",
    "ReadOnlyView",
    "SampleID",
    "SliderView",
    "StatusButtonView",
    "String",
    "Success",
    "SwitchView",
    "TableView",
    "TabsView",
    "TagsView",
    "TextFieldView",
    "TextView",
    "TimelineView",
    "TimerView",
    "ToastView",
    "Tooltip",
    "Tree",
    "TreeSelectionView",
    "Tuple",
    "TupleView",
    "UploadedFile",
    "VStackView",
    "View",
    "ViewTarget",
    "ViewTargetOptions",
    "ViewTargetProperty",
    "Void",
    "Warning",
    "callable_ref",
    "to_jsonable",
]
