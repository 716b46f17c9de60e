"""Panels: operators that a host UI shows as an interactive view, with methods it calls back.

A panel is executed like any operator. ``ctx.params["__method__"]`` names the method to
call (``on_load``, a button's callback, ...); without one, ``on_startup`` registers the
panel. After an event method runs, ``render(ctx)`` is called and its output is sent with
``ctx.ops.show_panel_output``. Everything a panel asks of the host is recorded in
``result.executor.requests``. ``ctx.panel.state``/``ctx.panel.data`` read and patch the
state the host sent in ``params["panel_state"]`` (what FiftyOne's App sends; ``"state"`` is
accepted too).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from ..errors import WriteOnlyError
from .operator import Operator, OperatorConfig

if TYPE_CHECKING:
    from .context import ExecutionContext

__all__ = [
    "PANEL_EVENTS",
    "Categories",
    "Panel",
    "PanelConfig",
    "PanelOperatorConfig",
    "PanelRef",
    "PanelRefBase",
    "PanelRefData",
    "PanelRefState",
    "WriteOnlyError",
]

#: the host events a panel may handle; each found on the panel is registered with its URI
PANEL_EVENTS = (
    "on_load",
    "on_unload",
    "on_change",
    "on_change_ctx",
    "on_change_dataset",
    "on_change_view",
    "on_change_spaces",
    "on_change_current_sample",
    "on_change_selected",
    "on_change_selected_labels",
    "on_change_extended_selection",
    "on_change_group_slice",
    "on_change_query_performance",
)


class Categories(str, enum.Enum):
    """Where a panel appears in a host's panel menu."""

    IMPORT = "import"
    CURATE = "curate"
    ANALYZE = "analyze"
    CUSTOM = "custom"

    def __str__(self) -> str:
        return self.value


class PanelConfig(OperatorConfig):
    """A panel's static description; panels are unlisted operators run on startup."""

    def __init__(
        self,
        name: str,
        label: str | None = None,
        help_markdown: str | None = None,
        beta: bool = False,
        is_new: bool = False,
        category: Categories | str | None = None,
        icon: str | None = None,
        light_icon: str | None = None,
        dark_icon: str | None = None,
        allow_multiple: bool = False,
        surfaces: str = "grid",
        priority: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, label=label, icon=icon, light_icon=light_icon, dark_icon=dark_icon)
        self.help_markdown = help_markdown
        self.allow_multiple = allow_multiple
        self.unlisted = True
        self.on_startup = True
        self.surfaces = surfaces
        self.category = category
        self.beta = beta
        self.is_new = is_new
        self.priority = priority
        self.kwargs = kwargs

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.update(
            help_markdown=self.help_markdown,
            category=str(self.category) if self.category else None,
            beta=self.beta,
            is_new=self.is_new,
            allow_multiple=self.allow_multiple,
            surfaces=self.surfaces,
            priority=self.priority,
        )
        return data


class Panel(Operator):
    """A panel: subclass it, return a :class:`PanelConfig` and implement ``render(ctx)``."""

    @property
    def is_panel(self) -> bool:
        return True

    def render(self, ctx: ExecutionContext) -> Any:
        """The panel's layout (a ``types.Property``), called after every event."""
        raise NotImplementedError("Subclasses must implement render()")

    def resolve_input(self, ctx: ExecutionContext) -> Any:
        from . import types

        inputs = types.Object()
        inputs.obj("panel_state", default={})
        inputs.obj("state", default={})
        inputs.obj("event_args", default={})
        inputs.str("__method__")
        inputs.str("panel_id")
        return types.Property(inputs)

    def on_startup(self, ctx: ExecutionContext) -> Any:
        config = self.config
        panel_config: dict[str, Any] = {
            "name": config.name,
            "label": config.label,
            "allow_duplicates": getattr(config, "allow_multiple", False),
            "help_markdown": getattr(config, "help_markdown", None),
            "icon": config.icon,
            "dark_icon": config.dark_icon,
            "light_icon": config.light_icon,
            "surfaces": getattr(config, "surfaces", "grid"),
            "category": getattr(config, "category", None),
            "beta": getattr(config, "beta", False),
            "is_new": getattr(config, "is_new", False),
            "priority": getattr(config, "priority", None),
            "_builtin": self.builtin,
        }
        for method in PANEL_EVENTS:
            if callable(getattr(self, method, None)):
                panel_config[method] = self.method_to_uri(method)
        return ctx.ops.register_panel(**panel_config)

    def on_load(self, ctx: ExecutionContext) -> None:
        pass

    def execute(self, ctx: ExecutionContext) -> Any:
        method_name = ctx.params.get("__method__")
        if method_name is None or method_name == "on_startup":
            return self.on_startup(ctx)
        method = getattr(self, method_name, None)
        if method_name.startswith("_") or not callable(method):
            raise ValueError(f"Panel {self.uri!r} has no method {method_name!r}")
        ctx.event_args = ctx.params.get("event_args", {})
        result = method(ctx)
        ctx.ops.show_panel_output(self.render(ctx))
        return result


#: FiftyOne's older name of :class:`PanelConfig`
PanelOperatorConfig = PanelConfig


class PanelRefBase:
    """A dict of panel values with dotted-path ``get``/``set`` (``"a.b.c"``)."""

    def __init__(self, ctx: ExecutionContext, data: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_ctx", ctx)
        object.__setattr__(self, "_data", data if data is not None else {})

    def set(self, key: str | dict[str, Any], value: Any = None) -> None:
        items = key if isinstance(key, dict) else {key: value}
        for path, item in items.items():
            target = self._data
            *parents, last = path.split(".")
            for part in parents:
                nxt = target.get(part)
                if not isinstance(nxt, dict):
                    nxt = target[part] = {}
                target = nxt
            target[last] = item

    def get(self, key: str, default: Any = None) -> Any:
        value: Any = self._data
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return default
            value = value[part]
        return value

    def clear(self) -> None:
        object.__setattr__(self, "_data", {})

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return self.get(key)

    def __setattr__(self, key: str, value: Any) -> None:
        if key.startswith("_"):
            object.__setattr__(self, key, value)
        else:
            self.set(key, value)


class PanelRefState(PanelRefBase):
    """The panel's state; changes are sent to the host as ``patch_panel_state``."""

    def set(self, key: str | dict[str, Any], value: Any = None) -> None:
        items = key if isinstance(key, dict) else {key: value}
        super().set(items)
        self._ctx.ops.patch_panel_state(items)

    def clear(self) -> None:
        super().clear()
        self._ctx.ops.clear_panel_state()

    def apply(self, path: str) -> None:
        self._ctx.ops.apply_panel_state_path(path)


class PanelRefData(PanelRefBase):
    """The panel's data: write-only, sent to the host as ``patch_panel_data``."""

    def set(self, key: str | dict[str, Any], value: Any = None) -> None:
        items = key if isinstance(key, dict) else {key: value}
        super().set(items)
        self._ctx.ops.patch_panel_data(items)

    def get(self, key: str, default: Any = None) -> Any:
        raise WriteOnlyError("Panel data is write-only")

    def clear(self) -> None:
        super().clear()
        self._ctx.ops.clear_panel_data()


class PanelRef:
    """``ctx.panel``: the state and data of the panel that invoked the operator."""

    def __init__(self, ctx: ExecutionContext) -> None:
        self._ctx = ctx
        self.state = PanelRefState(ctx, ctx.panel_state)
        self.data = PanelRefData(ctx)

    @property
    def id(self) -> str | None:
        return self._ctx.params.get("panel_id")

    def set_state(self, key: str | dict[str, Any], value: Any = None) -> None:
        self.state.set(key, value)

    def get_state(self, key: str, default: Any = None) -> Any:
        return self.state.get(key, default)

    def set_data(self, key: str | dict[str, Any], value: Any = None) -> None:
        self.data.set(key, value)

    def set_title(self, title: str) -> None:
        if title is None:
            raise ValueError("title cannot be None")
        self._ctx.ops.set_panel_title(id=self.id, title=title)

    def close(self) -> None:
        self._ctx.ops.close_panel(id=self.id)
