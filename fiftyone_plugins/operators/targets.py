"""View targets: which collection an operator's ``ctx.target_view()`` works on.

FiftyOne's forms offer a view-target choice (``inputs.view_target(ctx)``) and operators read
it back with ``ctx.target_view()``. The choices (:data:`VIEW_TARGETS`, FiftyOne's
``fiftyone.operators.constants.ViewTarget``) name:

- ``DATASET``: the whole dataset;
- ``DATASET_VIEW``: the dataset's default view;
- ``BASE_VIEW``: the view a generated view (patches, frames, clips) was made from;
- ``CURRENT_VIEW``: the request's view;
- ``SELECTED_SAMPLES`` / ``SELECTED_LABELS``: the selection within the request's view;
- ``CUSTOM_VIEW_TARGET``: the view stages in ``params["custom_view_target"]``;
- no choice: the request's view when it has a custom one, else the dataset.

Grouped datasets: an operation that needs a flat collection (``require_flat``) gets the
view-based targets scoped to the active group slice (unless the view selects its slices
itself), and a target that stays grouped is reported as unavailable with the reason, so a
form can show it greyed out instead of failing later.

Everything here only reads the context (its dataset, view, params and resolver) and calls
the collection's own methods (``select``, ``select_labels``, ``select_group_slices``), so it
works for any host whose collections have them, FiftyOne's first.
"""

from __future__ import annotations

import logging
from typing import Any

from .constants import ViewTarget

__all__ = ["VIEW_TARGETS", "flatten", "resolve", "slice_scopes", "unavailable"]

logger = logging.getLogger("fiftyone_plugins.operators")

#: the choices of a view-target input, as FiftyOne names them
VIEW_TARGETS = ViewTarget.values()

GROUPED_REASON = "Not available for grouped datasets"


def _is_grouped(collection: Any) -> bool:
    return getattr(collection, "media_type", None) == "group"


def _selects_slices(collection: Any) -> bool:
    stages = getattr(collection, "_stages", None) or []
    return any(type(stage).__name__ == "SelectGroupSlices" for stage in stages)


def _collection(ctx: Any, target: Any) -> tuple[Any, bool]:
    """The collection ``target`` names, and whether the active group slice scopes it."""
    if target == "DATASET":
        return ctx.dataset, False
    if target == "BASE_VIEW":
        view = ctx.view
        return getattr(view, "_base_view", view), False
    custom = ctx.params.get("custom_view_target")
    if target == "CUSTOM_VIEW_TARGET" and custom is not None:
        return ctx.resolver.load_view(ctx.dataset, custom), False
    if target == "DATASET_VIEW":
        return ctx.resolver.default_view(ctx.dataset), True
    if target in ("CURRENT_VIEW", "SELECTED_SAMPLES", "SELECTED_LABELS"):
        return ctx.view, True
    return (ctx.view if ctx.has_custom_view else ctx.dataset), True


def _active_slice(ctx: Any, collection: Any, require_flat: bool, quiet: bool = False) -> Any:
    """A grouped collection flattened to the active slice when a flat one is needed and it
    does not select its slices already; any other collection as it is."""
    if not require_flat or not _is_grouped(collection) or _selects_slices(collection):
        return collection
    group_slice = ctx.group_slice or getattr(collection, "group_slice", None)
    if not quiet:
        logger.info("Scoping grouped collection to the active group slice %r", group_slice)
    return collection.select_group_slices(group_slice)


def resolve(ctx: Any, target: Any, require_flat: bool = False) -> Any:
    """The collection the view-target choice ``target`` names for the request of ``ctx``."""
    collection, scoped = _collection(ctx, target)
    if scoped and collection is not None:
        collection = _active_slice(ctx, collection, require_flat)
    if target == "SELECTED_SAMPLES" and hasattr(collection, "select"):
        return collection.select(ctx.selected)
    if target == "SELECTED_LABELS" and hasattr(collection, "select_labels"):
        return collection.select_labels(ctx.selected_labels)
    return collection


def flatten(ctx: Any, collection: Any, slices: Any = None, media_type: Any = None) -> Any:
    """``collection`` (the dataset by default) flattened to ``slices``, to the
    ``media_type`` slices, or to the active slice, when it is grouped."""
    if collection is None:
        collection = ctx.dataset
    if not _is_grouped(collection) or _selects_slices(collection):
        return collection
    if slices or media_type:
        return collection.select_group_slices(slices=slices, media_type=media_type)
    return _active_slice(ctx, collection, True)


def slice_scopes(
    ctx: Any, collection: Any = None, require_flat: bool = False
) -> tuple[str | None, str | None]:
    """What the view targets and the dataset target cover on a grouped dataset, in words;
    ``(None, None)`` when the dataset is not grouped or the view selects its slices."""
    if collection is None:
        collection = ctx.view
    if not _is_grouped(ctx.dataset):
        return None, None
    if not _is_grouped(collection) or _selects_slices(collection):
        return None, None
    if require_flat:
        name = ctx.group_slice or getattr(collection, "group_slice", None)
        return f"in the current slice ({name})", "in all slices"
    return "in all slices", "in all slices"


def unavailable(ctx: Any, require_flat: bool = False) -> dict[str, str]:
    """The targets an operation needing a flat collection cannot use, each with the reason
    (``{}`` when it does not need one, or the dataset is not grouped)."""
    if not require_flat or not _is_grouped(ctx.dataset):
        return {}
    reasons: dict[str, str] = {}
    for target in VIEW_TARGETS:
        if target == "CUSTOM_VIEW_TARGET" and ctx.params.get("custom_view_target") is None:
            continue
        try:
            collection, scoped = _collection(ctx, target)
            if scoped:
                collection = _active_slice(ctx, collection, True, quiet=True)
        except Exception as e:  # a target this request cannot resolve: say why
            reasons[target] = str(e)
            continue
        if _is_grouped(collection):
            reasons[target] = GROUPED_REASON
    return reasons
