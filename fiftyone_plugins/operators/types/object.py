"""The :class:`Object` form builder, and the file objects built on it.

A form is an :class:`Object` whose named :class:`Property` entries each pair a type
(what values are accepted: :class:`String`, :class:`Number`, :class:`List`, ...) with a
:class:`~.views.View` (how it is shown). Plugins build forms with the builder methods::

    inputs = types.Object()
    inputs.str("name", label="Name", required=True)
    inputs.int("count", min=1, max=10, default=3)
    return types.Property(inputs, view=types.View(label="My operator"))
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from textwrap import dedent
from typing import Any

from .base import BaseType
from .layouts import (
    ButtonGroupView,
    DashboardView,
    GridView,
    HStackView,
    MapView,
    MenuView,
    TreeSelectionView,
    TupleView,
    VStackView,
)
from .properties import (
    Boolean,
    Enum,
    List,
    Map,
    Number,
    OneOf,
    Property,
    String,
    Tuple,
    Void,
)
from .view_target import ViewTargetProperty
from .views import (
    ArrowNavView,
    Button,
    Error,
    ImageView,
    MarkdownView,
    MediaPlayerView,
    Notice,
    PlotlyView,
    RadioGroup,
    Success,
    View,
    Warning,
)

__all__ = ["File", "Object", "UploadedFile"]


class Object(BaseType):
    """A JSON object with named properties; also the builder plugins write forms with.

    Builders add a property and return it (``str``, ``int``, ``enum``, ...) or, for
    layout containers (``grid``, ``h_stack``, ``menu``, ...), return the nested
    :class:`Object` to fill in.
    """

    def __init__(self, root_view: View | None = None) -> None:
        self.properties: dict[builtins.str, Property] = {}
        self.root_view = root_view

    # -- low-level -------------------------------------------------------------------------

    def add_property(self, name: builtins.str, property: Property) -> Property:
        """Adds (or replaces) the property ``name``."""
        self.properties[name] = property
        return property

    def get_property(self, name: builtins.str) -> Property | None:
        """The property ``name``, or ``None``."""
        return self.properties.get(name)

    def define_property(self, name: builtins.str, type: BaseType, **kwargs: Any) -> Property:
        """Adds a property of ``type``; ``label``/``description`` go on its view.

        The view is cloned first, so one view object can be shared by several
        properties (``cell = types.View(space=6)``) without their labels colliding.
        """
        view = kwargs.get("view")
        view = View() if view is None else view.clone()
        if kwargs.get("label") is not None:
            view.label = kwargs["label"]
        if kwargs.get("description") is not None:
            view.description = kwargs["description"]
        return self.add_property(name, Property(type, **{**kwargs, "view": view}))

    def clone(self) -> Object:
        """A shallow copy: the same properties in a new, independently extendable object."""
        new = Object(root_view=self.root_view)
        new.properties = dict(self.properties)
        return new

    # -- value properties ------------------------------------------------------------------

    def str(
        self, name: builtins.str, allow_empty: builtins.bool = False, **kwargs: Any
    ) -> Property:
        """A string property."""
        return self.define_property(name, String(allow_empty=allow_empty), **kwargs)

    def bool(self, name: builtins.str, **kwargs: Any) -> Property:
        """A boolean property."""
        return self.define_property(name, Boolean(), **kwargs)

    def int(
        self,
        name: builtins.str,
        min: builtins.float | None = None,
        max: builtins.float | None = None,
        **kwargs: Any,
    ) -> Property:
        """An integer property with optional inclusive bounds."""
        return self.define_property(name, Number(int=True, min=min, max=max), **kwargs)

    def float(
        self,
        name: builtins.str,
        min: builtins.float | None = None,
        max: builtins.float | None = None,
        **kwargs: Any,
    ) -> Property:
        """A float property with optional inclusive bounds."""
        return self.define_property(name, Number(float=True, min=min, max=max), **kwargs)

    def enum(self, name: builtins.str, values: Iterable[Any], **kwargs: Any) -> Property:
        """A property taking one of ``values`` (usually ``choices_view.values()``)."""
        return self.define_property(name, Enum(values), **kwargs)

    def list(
        self,
        name: builtins.str,
        element_type: BaseType,
        min_items: builtins.int | None = None,
        max_items: builtins.int | None = None,
        **kwargs: Any,
    ) -> Property:
        """A list property."""
        return self.define_property(name, List(element_type, min_items, max_items), **kwargs)

    def obj(self, name: builtins.str, **kwargs: Any) -> Property:
        """A free-form object property."""
        return self.define_property(name, Object(), **kwargs)

    def file(self, name: builtins.str, **kwargs: Any) -> Property:
        """A :class:`File` property (use with :class:`~.views.FileExplorerView`)."""
        return self.define_property(name, File(), **kwargs)

    def uploaded_file(self, name: builtins.str, **kwargs: Any) -> Property:
        """An :class:`UploadedFile` property (use with :class:`~.views.FileView`)."""
        return self.define_property(name, UploadedFile(), **kwargs)

    def map(
        self, name: builtins.str, key_type: BaseType, value_type: BaseType, **kwargs: Any
    ) -> Map:
        """A :class:`Map` property; returns the map type (as FiftyOne does)."""
        view = kwargs.pop("view", None) or MapView(**kwargs)
        map_type = Map(key_type=key_type, value_type=value_type)
        self.define_property(name, map_type, view=view, **kwargs)
        return map_type

    def oneof(self, name: builtins.str, types: Iterable[BaseType], **kwargs: Any) -> OneOf:
        """A :class:`OneOf` property; returns the one-of type."""
        one_of = OneOf(types)
        self.define_property(name, one_of, **kwargs)
        return one_of

    def tuple(self, name: builtins.str, *items: BaseType, **kwargs: Any) -> Tuple:
        """A :class:`Tuple` property; returns the tuple type."""
        view = kwargs.pop("view", None) or TupleView(**kwargs)
        tuple_type = Tuple(*items)
        self.define_property(name, tuple_type, view=view, **kwargs)
        return tuple_type

    def tree(self, name: builtins.str, **kwargs: Any) -> List:
        """A tree selection stored as a list of selected ids; returns that list type."""
        view = kwargs.pop("view", None) or TreeSelectionView(**kwargs)
        tree_type = List(String())
        self.define_property(name, tree_type, view=view, **kwargs)
        return tree_type

    # -- view-only properties --------------------------------------------------------------

    def view(self, name: builtins.str, view: View, **kwargs: Any) -> Property:
        """A property that only displays ``view`` and holds no value."""
        kwargs.pop("view", None)
        return self.define_property(name, Void(), view=view, **kwargs)

    def message(self, name: builtins.str, label: builtins.str, **kwargs: Any) -> Property:
        """A :class:`~.views.Notice` showing ``label`` (and ``description``)."""
        view = kwargs.pop("view", None) or Notice(label=label)
        return self.view(name, view, **kwargs)

    def notice(self, name: builtins.str, label: builtins.str, **kwargs: Any) -> Property:
        """Same as :meth:`message`."""
        return self.message(name, label, **kwargs)

    def warning(self, name: builtins.str, label: builtins.str, **kwargs: Any) -> Property:
        """A :class:`~.views.Warning` message."""
        return self.view(name, kwargs.pop("view", None) or Warning(label=label), **kwargs)

    def error(self, name: builtins.str, label: builtins.str, **kwargs: Any) -> Property:
        """An :class:`~.views.Error` message."""
        return self.view(name, kwargs.pop("view", None) or Error(label=label), **kwargs)

    def success(self, name: builtins.str, label: builtins.str, **kwargs: Any) -> Property:
        """A :class:`~.views.Success` message."""
        return self.view(name, kwargs.pop("view", None) or Success(label=label), **kwargs)

    def md(
        self, markdown: builtins.str, name: builtins.str = "markdown", **kwargs: Any
    ) -> Property:
        """Markdown text (dedented), stored as the default of a string property."""
        return self.str(name, default=dedent(markdown), view=MarkdownView(**kwargs))

    markdown = md

    def btn(
        self,
        name: builtins.str,
        label: builtins.str,
        icon: builtins.str | None = None,
        variant: builtins.str | None = None,
        disabled: builtins.bool = False,
        on_click: Any = None,
        prompt: builtins.bool = False,
        params: dict[builtins.str, Any] | None = None,
        space: builtins.int | None = None,
        href: builtins.str | None = None,
        icon_position: builtins.str = "left",
        **kwargs: Any,
    ) -> Property:
        """A button running ``on_click`` (an operator URI or panel method) with ``params``."""
        button = Button(
            href=href,
            icon=icon,
            icon_position=icon_position,
            disabled=disabled,
            label=label,
            operator=on_click,
            params=params,
            prompt=prompt,
            space=space,
            variant=variant,
            **kwargs,
        )
        return self.view(name, button)

    button = btn

    def img(
        self,
        name: builtins.str,
        href: builtins.str | None = None,
        on_click: Any = None,
        prompt: builtins.bool = False,
        params: dict[builtins.str, Any] | None = None,
        point_on_hover: builtins.bool = True,
        height: Any = None,
        width: Any = None,
        alt_text: builtins.str | None = None,
        **kwargs: Any,
    ) -> Property:
        """An image whose URL is the property's value (e.g. panel state ``name``)."""
        image = ImageView(
            href=href,
            operator=on_click,
            params=params,
            prompt=prompt,
            cursor=point_on_hover,
            height=height,
            width=width,
            alt=alt_text,
            **kwargs,
        )
        return self.view(name, image)

    def arrow_nav(
        self,
        name: builtins.str,
        forward: builtins.bool | None = None,
        backward: builtins.bool | None = None,
        position: builtins.str | None = None,
        **kwargs: Any,
    ) -> Property:
        """Floating previous/next arrows (``on_forward``, ``on_backward`` callbacks)."""
        given = {"forward": forward, "backward": backward, "position": position}
        options = {k: v for k, v in given.items() if v is not None}
        return self.view(name, ArrowNavView(**options, **kwargs))

    def media_player(self, name: builtins.str, url: builtins.str, **kwargs: Any) -> Object:
        """An audio/video player for ``url``; returns the nested object."""
        obj = Object()
        self.define_property(name, obj, view=MediaPlayerView(**kwargs), default={"url": url})
        return obj

    # -- layout containers -----------------------------------------------------------------

    def _container(self, name: builtins.str, view: View) -> Object:
        obj = Object()
        self.define_property(name, obj, view=view)
        return obj

    def grid(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object laid out as a :class:`~.views.GridView`."""
        return self._container(name, GridView(**kwargs))

    def h_stack(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object laid out horizontally."""
        return self._container(name, HStackView(**kwargs))

    def v_stack(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object laid out vertically."""
        return self._container(name, VStackView(**kwargs))

    def btn_group(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object holding a row of buttons."""
        return self._container(name, ButtonGroupView(**kwargs))

    def menu(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object shown as a menu (square variant, padding 1 by default)."""
        return self._container(name, MenuView(**{"pad": 1, "variant": "square", **kwargs}))

    def dashboard(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object shown as a :class:`~.views.DashboardView`."""
        return self._container(name, DashboardView(**kwargs))

    def plot(self, name: builtins.str, **kwargs: Any) -> Object:
        """A nested object shown as a Plotly chart (``layout``, ``config``, ``on_click``)."""
        return self._container(name, PlotlyView(**kwargs))

    # -- view targets ----------------------------------------------------------------------

    def view_target(
        self,
        ctx: Any,
        name: builtins.str = "view_target",
        view_type: type[View] | None = None,
        **kwargs: Any,
    ) -> ViewTargetProperty:
        """The "which samples?" selector; see :class:`ViewTargetProperty`."""
        prop = ViewTargetProperty(ctx, view_type or RadioGroup, **kwargs)
        self.add_property(name, prop)
        return prop

    def to_json(self) -> dict[builtins.str, Any]:
        """The whole schema: ``{"name": ..., "properties": {name: property JSON}}``."""
        properties = {name: prop.to_json() for name, prop in self.properties.items()}
        return {**super().to_json(), "properties": properties}

    def __repr__(self) -> builtins.str:
        return f"{type(self).__name__}({builtins.list(self.properties)!r})"


class File(Object):
    """A file chosen in a file explorer: ``absolute_path``, ``name``, ``type``, ``size``..."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.str("absolute_path", label="Path", description="The path to the file")
        self.str("name", label="Name", description="The file name")
        self.str("type", label="Type", description="Either file or directory")
        self.int("size", label="Size", description="The size in bytes")
        self.str("date_modified", label="Last Modified", description="ISO modification time")


class UploadedFile(Object):
    """An uploaded file: ``name``, mime ``type``, ``size``, base64 ``content``..."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.str("name", label="Name", description="The name of the uploaded file")
        self.str("type", label="Type", description="The mime type of the uploaded file")
        self.int("size", label="Size", description="The size in bytes")
        self.str("content", label="Content", description="The base64-encoded content")
        self.int("last_modified", label="Last Modified", description="Modified time (ms)")
