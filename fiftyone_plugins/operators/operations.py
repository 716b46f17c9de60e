"""``ctx.ops``: the shortcuts that trigger the host's builtin operations.

Each shortcut becomes ``ctx.trigger(name, params)``, recorded on the run's
:class:`~.invocation.Executor` (see :mod:`.invocation`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .invocation import Executor, InvocationRequest

if TYPE_CHECKING:
    from .context import ExecutionContext

__all__ = ["Executor", "InvocationRequest", "Operations"]


# name -> (operator to trigger, positional parameter names, renames of parameters)
_SIGNATURES: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "clone_selected_samples": ("clone_selected_samples", (), {}),
    "clone_sample_field": ("clone_sample_field", ("field_name", "new_field_name"), {}),
    "rename_sample_field": ("rename_sample_field", ("field_name", "new_field_name"), {}),
    "clear_sample_field": ("clear_sample_field", ("field_name",), {}),
    "delete_selected_samples": ("delete_selected_samples", (), {}),
    "delete_selected_labels": ("delete_selected_labels", (), {}),
    "delete_sample_field": ("delete_sample_field", ("field_name",), {}),
    "print_stdout": ("print_stdout", ("message",), {"message": "msg"}),
    "list_files": ("list_files", ("path", "list_filesystems"), {}),
    "reload_samples": ("reload_samples", (), {}),
    "reload_dataset": ("reload_dataset", (), {}),
    "clear_selected_samples": ("clear_selected_samples", (), {}),
    "copy_view_as_json": ("copy_view_as_json", (), {}),
    "view_from_json": ("view_from_clipboard", (), {}),
    "open_panel": (
        "open_panel",
        ("name", "is_active", "layout", "force", "force_duplicate"),
        {"is_active": "isActive", "force_duplicate": "forceDuplicate"},
    ),
    "open_all_panels": ("open_all_panel", (), {}),
    "close_panel": ("close_panel", ("name", "id"), {}),
    "close_all_panels": ("close_all_panel", (), {}),
    "split_panel": ("split_panel", ("name", "layout"), {}),
    "open_dataset": ("open_dataset", ("dataset_name",), {"dataset_name": "dataset"}),
    "clear_view": ("clear_view", (), {}),
    "clear_sidebar_filters": ("clear_sidebar_filters", (), {}),
    "clear_all_stages": ("clear_all_stages", (), {}),
    "refresh_colors": ("refresh_colors", (), {}),
    "show_selected_samples": ("show_selected_samples", (), {}),
    "convert_extended_selection_to_selected_samples": (
        "convert_extended_selection_to_selected_samples",
        (),
        {},
    ),
    "set_selected_samples": ("set_selected_samples", ("samples",), {}),
    "set_selected_labels": ("set_selected_labels", ("labels",), {}),
    "set_view": ("set_view", ("view", "name"), {}),
    "set_spaces": ("set_spaces", ("spaces", "name"), {}),
    "show_samples": ("show_samples", ("samples", "use_extended_selection"), {}),
    "notify": ("notify", ("message", "variant"), {}),
    "set_extended_selection": ("set_extended_selection", ("selection", "scope", "clear"), {}),
    "set_active_fields": ("set_active_fields", ("fields",), {}),
    "track_event": ("track_event", ("event", "properties"), {}),
    "set_panel_title": ("set_panel_title", ("id", "title"), {}),
    "set_group_slice": ("set_group_slice", ("slice",), {}),
    "open_sample": ("open_sample", ("id", "group_id"), {}),
    "close_sample": ("close_sample", (), {}),
    "browser_download": ("browser_download", ("url", "filename"), {}),
    "register_panel": (
        "register_panel",
        ("name", "label"),
        {"name": "panel_name", "label": "panel_label"},
    ),
}

# panel operations: the panel id defaults to the invoking panel's
_PANEL_SIGNATURES: dict[str, tuple[str, ...]] = {
    "clear_panel_state": (),
    "clear_panel_data": (),
    "set_panel_state": ("state",),
    "set_panel_data": ("data",),
    "patch_panel_state": ("state",),
    "patch_panel_data": ("data",),
    "reduce_panel_state": ("reducer",),
    "apply_panel_state_path": ("path",),
    "show_panel_output": ("output",),
}


class Operations:
    """``ctx.ops``: shortcuts that trigger the host's builtin operations.

    Known names (``reload_dataset()``, ``notify(message, variant=...)``, ``open_panel(...)``,
    the panel state/data operations, ...) take the reference's arguments; any other name
    triggers the operation of that name with its keyword arguments as parameters.
    """

    def __init__(self, ctx: ExecutionContext) -> None:
        self._ctx = ctx

    def set_progress(self, progress: float | None = None, label: str | None = None) -> Any:
        return self._ctx.set_progress(progress=progress, label=label)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        ctx = self._ctx
        if name in _PANEL_SIGNATURES:
            names = _PANEL_SIGNATURES[name]

            def panel_op(*args: Any, panel_id: str | None = None, **kwargs: Any) -> Any:
                params = {"panel_id": panel_id or ctx.params.get("panel_id")}
                params.update(_bind(name, names, args, kwargs))
                output = params.get("output")
                if output is not None and hasattr(output, "to_json"):
                    params["output"] = output.to_json()
                return ctx.trigger(name, params=params)

            return panel_op
        operator, names, renames = _SIGNATURES.get(name, (name, (), {}))

        def op(*args: Any, **kwargs: Any) -> Any:
            bound = _bind(name, names, args, kwargs)
            params = {renames.get(k, k): v for k, v in bound.items()}
            return ctx.trigger(operator, params=params or None)

        return op


def _bind(
    name: str, names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    if len(args) > len(names):
        raise TypeError(f"ops.{name}() takes {len(names)} positional arguments")
    bound = dict(zip(names, args, strict=False))
    bound.update(kwargs)
    return bound
