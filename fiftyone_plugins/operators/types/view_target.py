"""The "which samples should this run on?" selector many plugins put first in their forms.

``inputs.view_target(ctx)`` adds a :class:`ViewTargetProperty` whose choices depend on
the execution context; the operator later reads the chosen :class:`ViewTarget` value.
"""

from __future__ import annotations

from typing import Any

from .properties import Enum, Property
from .views import HiddenView, RadioGroup, View

__all__ = ["ViewTarget", "ViewTargetOptions", "ViewTargetProperty"]

# -- view targets ------------------------------------------------------------------------------


class ViewTarget:
    """The values a view-target selector can take (what ``ctx.target_view()`` reads)."""

    DATASET = "DATASET"
    BASE_VIEW = "BASE_VIEW"
    DATASET_VIEW = "DATASET_VIEW"
    CURRENT_VIEW = "CURRENT_VIEW"
    SELECTED_SAMPLES = "SELECTED_SAMPLES"
    SELECTED_LABELS = "SELECTED_LABELS"
    CUSTOM_VIEW_TARGET = "CUSTOM_VIEW_TARGET"


# (value, include flag, keyword prefix, default label, what the default description says)
_TARGETS = (
    (ViewTarget.DATASET, "include_dataset", "dataset", "Entire dataset", "the entire dataset"),
    (ViewTarget.BASE_VIEW, "include_base_view", "base_view", "Base view", "the base view"),
    (
        ViewTarget.DATASET_VIEW,
        "include_dataset_view",
        "dataset_view",
        "Dataset",
        "the dataset view",
    ),
    (
        ViewTarget.CURRENT_VIEW,
        "include_current_view",
        "current_view",
        "Current view",
        "the current view",
    ),
    (
        ViewTarget.SELECTED_SAMPLES,
        "include_selected_samples",
        "selected_samples",
        "Selected samples",
        "only the selected samples",
    ),
    (
        ViewTarget.SELECTED_LABELS,
        "include_selected_labels",
        "selected_labels",
        "Selected labels",
        "only the selected labels",
    ),
)


class ViewTargetOptions:
    """Fills ``choices_view`` with the view-target choices that apply.

    Flags ``include_<target>`` pick the choices (only the dataset is included by
    default); ``<target>_label`` / ``<target>_description`` override the texts, whose
    defaults read "``<action_description>`` the entire dataset" and so on.
    """

    def __init__(
        self, choices_view: Any, action_description: str = "Process", **options: Any
    ) -> None:
        action = action_description or "Process"
        self.choices_view = choices_view
        for value, flag, prefix, label, what in _TARGETS:
            include = options.get(flag, value == ViewTarget.DATASET)
            choices_view.add_choice(
                value,
                label=options.get(f"{prefix}_label") or label,
                description=options.get(f"{prefix}_description") or f"{action} {what}",
                include=bool(include),
            )

    def values(self) -> list[str]:
        """The included target values, in preference order."""
        return self.choices_view.values()


class ViewTargetProperty(Property):
    """An enum property choosing what to operate on: dataset, current view, selection...

    The choices depend on ``ctx``: a generated view offers its base view instead of the
    dataset, a filtered view offers the current view, a selection offers the selected
    samples (and, with ``allow_selected_labels``, labels). With a single choice the selector
    is hidden. Context attributes a host does not provide count as absent.
    """

    def __init__(
        self,
        ctx: Any,
        view_type: type[View] = RadioGroup,
        action_description: str = "Process",
        allow_selected_samples: bool = True,
        allow_selected_labels: bool = False,
        allow_dataset_view: bool = False,
        default_target: str | None = None,
        **kwargs: Any,
    ) -> None:
        texts = {k: kwargs.pop(k) for k in list(kwargs) if k.endswith(("_label", "_description"))}
        generated = getattr(ctx, "has_generated_view", None) or (False, False)
        has_base_view, has_extra_filters = generated
        if has_base_view:
            has_custom_view = bool(has_extra_filters)
        else:
            has_custom_view = bool(getattr(ctx, "has_custom_view", False))
        selected = getattr(ctx, "selected", None) or []
        selected_labels = getattr(ctx, "selected_labels", None) or []

        choice_view: View = view_type(label="Target view")
        self._options = ViewTargetOptions(
            choice_view,
            action_description=action_description,
            include_dataset=not has_base_view,
            include_base_view=bool(has_base_view),
            include_current_view=has_custom_view,
            include_dataset_view=allow_dataset_view,
            include_selected_samples=allow_selected_samples and bool(selected),
            include_selected_labels=allow_selected_labels and bool(selected_labels),
            **texts,
        )
        values = self._options.values()
        if not default_target or default_target not in values:
            default_target = values[-1]
        if len(values) == 1:
            choice_view = HiddenView(read_only=False)
        super().__init__(Enum(values), default=default_target, view=choice_view, **kwargs)

    @property
    def options(self) -> ViewTargetOptions:
        """The :class:`ViewTargetOptions` behind the choices."""
        return self._options
