"""Views: how a property is rendered, as opposed to what values it accepts.

Every view keeps the keyword arguments it was built with and writes them back into its
JSON, so options this library has never heard of (added by newer FiftyOne releases and
used by newer plugins) survive the round trip instead of raising ``TypeError``. The
attributes a view knows about are serialized from the instance, so changing them after
construction (``view.label = ...``, as :meth:`Object.define_property` does) wins over the
original keyword.

Views marked ``display_only`` (notices, markdown, buttons, ...) show something but collect
no input; validation skips the properties that carry them.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from .base import BaseType, to_jsonable

__all__ = [
    "AlertView",
    "ArrowNavView",
    "AutocompleteView",
    "Button",
    "ButtonView",
    "CheckboxView",
    "Choice",
    "Choices",
    "CodeView",
    "ColorView",
    "DrawerView",
    "Dropdown",
    "DropdownView",
    "Error",
    "ErrorView",
    "FieldView",
    "FileExplorerView",
    "FileView",
    "Form",
    "FrameLoaderView",
    "Header",
    "HeaderView",
    "HiddenView",
    "IconButtonView",
    "ImageView",
    "InferredView",
    "JSONView",
    "KeyValueView",
    "LabelValueView",
    "LazyFieldView",
    "LinkView",
    "LoadingView",
    "MarkdownView",
    "MediaPlayerView",
    "ModalView",
    "Notice",
    "OperatorExecutionButtonView",
    "PillBadgeView",
    "PlotlyView",
    "PrimitiveView",
    "ProgressView",
    "PromptView",
    "RadioGroup",
    "RadioView",
    "ReadOnlyView",
    "SliderView",
    "StatusButtonView",
    "Success",
    "SwitchView",
    "TabsView",
    "TagsView",
    "TextFieldView",
    "TextView",
    "TimelineView",
    "TimerView",
    "ToastView",
    "View",
    "Warning",
]

# -- the base view -----------------------------------------------------------------------------


class View:
    """How a property is displayed.

    Common options are ``label``, ``description``, ``caption``, ``space`` (columns out of
    12), ``placeholder``, ``read_only``, ``component`` (a custom UI component name) and
    ``componentsProps``; any other keyword is kept and serialized as given.
    """

    display_only: ClassVar[bool] = False

    def __init__(self, container: BaseType | None = None, **kwargs: Any) -> None:
        self.label: Any = kwargs.get("label")
        self.description: Any = kwargs.get("description")
        self.caption: Any = kwargs.get("caption")
        self.space: Any = kwargs.get("space")
        self.placeholder: Any = kwargs.get("placeholder")
        self.read_only: Any = kwargs.get("read_only")
        self.component: Any = kwargs.get("component")
        self.componentsProps: Any = kwargs.get("componentsProps")
        self.container = container
        self._kwargs: dict[str, Any] = kwargs

    @property
    def options(self) -> dict[str, Any]:
        """The keyword arguments this view was built with (unknown ones included)."""
        return dict(self._kwargs)

    def clone(self) -> View:
        """A copy safe to relabel: lists and dicts it holds are copied one level deep."""
        new = copy.copy(self)
        for key, value in vars(self).items():
            if isinstance(value, list):
                setattr(new, key, list(value))
            elif isinstance(value, dict):
                setattr(new, key, dict(value))
        return new

    def kwargs_to_json(self) -> dict[str, Any]:
        """The construction keywords, JSON-ready (callables become operator references)."""
        return to_jsonable(self._kwargs)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.kwargs_to_json(),
            "name": type(self).__name__,
            "label": to_jsonable(self.label),
            "description": to_jsonable(self.description),
            "caption": to_jsonable(self.caption),
            "space": self.space,
            "placeholder": self.placeholder,
            "read_only": self.read_only,
            "component": self.component,
            "componentsProps": to_jsonable(self.componentsProps),
            "container": self.container.to_json() if self.container is not None else None,
        }

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"{type(self).__name__}({shown})"


class InferredView(View):
    """Lets the UI pick a widget from the property's type (inputs only)."""


class Form(View):
    """The whole input form: ``live`` updates and the submit/cancel button labels."""

    def __init__(
        self,
        live: bool = False,
        submit_button_label: str = "Execute",
        cancel_button_label: str = "Close",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.live = live
        self.submit_button_label = submit_button_label
        self.cancel_button_label = cancel_button_label

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "live": self.live,
            "submit_button_label": self.submit_button_label,
            "cancel_button_label": self.cancel_button_label,
        }


class ReadOnlyView(View):
    """A view whose value the user cannot edit."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.read_only = True


class HiddenView(View):
    """Keeps a property in the form without showing it."""


# -- choices -----------------------------------------------------------------------------------


class Choice(View):
    """One selectable value of a :class:`Choices` view (``include=False`` hides it)."""

    def __init__(self, value: Any, include: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.include = include

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "value": to_jsonable(self.value)}


class Choices(View):
    """A set of labelled choices; pair it with ``Object.enum(name, view.values(), view=view)``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._choices: list[Choice] = list(kwargs.get("choices") or [])

    @property
    def choices(self) -> list[Choice]:
        """The included choices, in the order they were added."""
        return [choice for choice in self._choices if choice.include]

    def values(self) -> list[Any]:
        """The values of the included choices (what an :class:`Enum` should accept)."""
        return [choice.value for choice in self.choices]

    def add_choice(self, value: Any, **kwargs: Any) -> Choice:
        """Adds a choice (``label``, ``description``, ``include``...) and returns it."""
        choice = Choice(value, **kwargs)
        self.append(choice)
        return choice

    def append(self, choice: Choice) -> None:
        """Appends an existing :class:`Choice`."""
        self._choices.append(choice)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "choices": [c.to_json() for c in self.choices]}


class RadioGroup(Choices):
    """Choices shown as radio buttons (``orientation``: horizontal or vertical)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.orientation = kwargs.get("orientation")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "orientation": self.orientation}


class RadioView(RadioGroup):
    """Alias-like radio rendering of a :class:`RadioGroup`."""


class Dropdown(Choices):
    """Choices shown as a dropdown (``multiple=True`` for multi-select)."""


class DropdownView(Dropdown):
    """A dropdown selector."""


class AutocompleteView(Choices):
    """Choices with type-ahead (``allow_user_input``, ``allow_duplicates``)."""


class TabsView(Choices):
    """Choices shown as tabs (``variant`` as in Material UI tabs)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variant = kwargs.get("variant")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "variant": self.variant}


# -- messages and other display-only views ---------------------------------------------------


class Notice(View):
    """An informational message."""

    display_only = True


class Header(View):
    """A heading."""

    display_only = True


class Warning(View):  # shadows the builtin on purpose: the name plugins use
    """A warning message."""

    display_only = True


class Error(View):
    """An error message."""

    display_only = True


class Success(View):
    """A success message."""

    display_only = True


class HeaderView(View):
    """A header with label, description and caption on separate lines."""

    display_only = True


class MarkdownView(View):
    """Renders a string as Markdown."""

    display_only = True


class AlertView(View):
    """An alert box; ``severity`` is info, success, warning or error."""

    display_only = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.severity = kwargs.get("severity", "info")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "severity": self.severity}


class ErrorView(View):
    """A (possibly detailed) error display."""

    display_only = True


class LoadingView(ReadOnlyView):
    """A loading indicator (``text``, ``variant``, ``color``, ``size``)."""

    display_only = True


class ToastView(View):
    """A transient snackbar message (``message``, ``duration``, ``layout``)."""

    display_only = True


class PillBadgeView(View):
    """A pill-shaped badge (``text``, ``color``, ``variant``, ``show_icon``)."""


# -- buttons -----------------------------------------------------------------------------------


class Button(View):
    """A button that runs ``operator`` with ``params`` or opens ``href``."""

    display_only = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.href = kwargs.get("href")
        self.operator = kwargs.get("operator")
        self.prompt = kwargs.get("prompt", False)
        self.params = kwargs.get("params")

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "href": self.href,
            "operator": to_jsonable(self.operator),
            "params": to_jsonable(self.params),
            "prompt": self.prompt,
        }


class ButtonView(Button):
    """A button (the name newer plugins use)."""


class OperatorExecutionButtonView(Button):
    """A button (optionally with an options menu) that executes ``operator``.

    Raises ``ValueError`` without an ``operator`` (a URI string or a callable), because
    such a button could never do anything.
    """

    def __init__(self, **kwargs: Any) -> None:
        operator = kwargs.get("operator")
        if not (isinstance(operator, str) or callable(operator)):
            raise ValueError("OperatorExecutionButtonView needs an 'operator' (str or callable)")
        super().__init__(**kwargs)


class IconButtonView(Button):
    """A button showing only an ``icon`` (required, a string)."""

    def __init__(self, **kwargs: Any) -> None:
        if not isinstance(kwargs.get("icon"), str):
            raise ValueError("IconButtonView needs an 'icon' string")
        super().__init__(**kwargs)


class ModalView(Button):
    """A button opening a modal (``modal``, ``primaryButton``, ``secondaryButton``...)."""


class StatusButtonView(View):
    """A button reflecting a status (``severity``, ``on_click``, ``params``)."""

    display_only = True


# -- inputs and value displays -----------------------------------------------------------------


class CodeView(View):
    """A code editor; ``language`` selects syntax highlighting."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.language = kwargs.get("language")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "language": self.language}


class ColorView(View):
    """A color picker (``compact``, ``variant``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compact = kwargs.get("compact", False)
        self.variant = kwargs.get("variant")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "compact": self.compact, "variant": self.variant}


class JSONView(View):
    """A collapsible JSON viewer for objects."""


class FileView(View):
    """A file drop zone (``max_size``, ``max_size_error_message``, ``types``, ``lite``)."""


class FileExplorerView(View):
    """A file/directory browser for :class:`File` properties (``choose_dir``...)."""


class LinkView(View):
    """A hyperlink to ``href``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.href = kwargs.get("href")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "href": self.href}


class ImageView(View):
    """An image from a URL (``height``, ``width``, ``alt``, ``href``, ``operator``)."""


class PlotlyView(View):
    """A Plotly chart (``data``, ``config``, ``layout``, ``on_click``, ``on_selected``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data = kwargs.get("data")
        self.config = kwargs.get("config")
        self.layout = kwargs.get("layout")

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "data": to_jsonable(self.data),
            "config": to_jsonable(self.config),
            "layout": to_jsonable(self.layout),
        }


class KeyValueView(View):
    """A key/value editor."""


class CheckboxView(View):
    """A checkbox for :class:`Boolean` properties."""


class SwitchView(View):
    """A toggle switch for :class:`Boolean` properties."""


class TextView(View):
    """Plain text for :class:`String` properties."""


class TextFieldView(View):
    """A text input for strings or numbers."""


class FieldView(View):
    """A text input for strings or numbers."""


class LazyFieldView(View):
    """A text input that applies its value on blur or on save (``save_on_blur``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.save_on_blur = kwargs.get("save_on_blur", True)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "save_on_blur": self.save_on_blur}


class LabelValueView(View):
    """A label next to a value (outputs only)."""


class PrimitiveView(View):
    """A bare string, number or boolean value."""


class SliderView(View):
    """A slider for numbers; bounds come from ``min``/``max`` or ``componentsProps.slider``.

    Validation enforces those bounds too (see :mod:`fiftyone_plugins.operators.validation`).
    """


class TagsView(View):
    """A list of strings, numbers or booleans shown as tags."""


class ProgressView(View):
    """A progress bar (``variant``: linear or circular)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.variant = kwargs.get("variant", "linear")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "variant": self.variant}


class MediaPlayerView(View):
    """An audio/video player (``on_play``, ``on_pause``, ``on_ended``... callbacks)."""


class PromptView(View):
    """How the input prompt is shown (``label``, ``submit_button_label``...)."""


class DrawerView(View):
    """Shows the prompt as a side drawer; ``placement`` must be ``"left"`` or ``"right"``."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.get("placement") not in ("left", "right"):
            raise ValueError('DrawerView placement must be "left" or "right"')
        super().__init__(**kwargs)


class ArrowNavView(View):
    """Floating previous/next arrows (``forward``, ``backward``, ``position``)."""

    display_only = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.forward = kwargs.get("forward", True)
        self.backward = kwargs.get("backward", True)
        self.position = kwargs.get("position", "center")

    def to_json(self) -> dict[str, Any]:
        return {
            **super().to_json(),
            "forward": self.forward,
            "backward": self.backward,
            "position": self.position,
        }


class FrameLoaderView(View):
    """Animates panel state along a timeline (``on_load_range``, ``target``)."""


class TimelineView(View):
    """A playback timeline (``timeline_name``, ``total_frames``, ``loop``)."""


class TimerView(View):
    """Runs an operator after ``timeout`` or every ``interval`` milliseconds."""
