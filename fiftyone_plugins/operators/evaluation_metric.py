"""Evaluation metrics: operators that a host's evaluation routines call to score results.

FiftyOne plugins subclass ``foo.EvaluationMetric`` (with an ``EvaluationMetricConfig``) to add
metrics to its evaluation methods. The classes are plain operators here: they register, list
and resolve their input like any other, and the host's evaluation code calls
:meth:`EvaluationMetric.compute` with its own sample collections and results. The default
:meth:`~EvaluationMetric.rename` and :meth:`~EvaluationMetric.cleanup` work on any collection
whose dataset offers FiftyOne's field methods (``rename_sample_field``, ...).
"""

from __future__ import annotations

from typing import Any

from .operator import Operator, OperatorConfig

__all__ = ["EvaluationMetric", "EvaluationMetricConfig"]


class EvaluationMetricConfig(OperatorConfig):
    """An evaluation metric's config.

    Args:
        eval_types: the evaluation method types the metric supports (``None``: all)
        aggregate_key: where the aggregate value is stored on results (default: ``name``)
        lower_is_better: whether a smaller value is a better score
        **kwargs: any :class:`OperatorConfig` field
    """

    def __init__(
        self,
        name: str,
        label: str | None = None,
        description: str | None = None,
        eval_types: list[str] | None = None,
        aggregate_key: str | None = None,
        lower_is_better: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, label=label, description=description, **kwargs)
        self.eval_types = eval_types
        self.aggregate_key = aggregate_key
        self.lower_is_better = lower_is_better


class EvaluationMetric(Operator):
    """Base class of evaluation metrics; subclasses implement :meth:`compute`."""

    def resolve_input(self, ctx: Any) -> Any:
        """The metric's parameters form, or ``None`` when it takes none."""
        return None

    def parse_parameters(self, ctx: Any, params: dict[str, Any]) -> None:
        """Adjusts ``params`` in place before the evaluation runs (nothing by default)."""

    def compute(self, samples: Any, results: Any, **kwargs: Any) -> Any:
        """Scores ``results`` on ``samples``; returns the aggregate value, if any."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute()")

    def get_fields(self, samples: Any, config: Any, eval_key: str) -> list[str]:
        """The fields this metric wrote for the evaluation ``eval_key``."""
        return []

    def rename(self, samples: Any, config: Any, eval_key: str, new_eval_key: str) -> None:
        """Renames this metric's fields when the evaluation key changes."""
        dataset = _dataset_of(samples)
        for field in self.get_fields(samples, config, eval_key):
            new_field = field.replace(eval_key, new_eval_key, 1)
            if field.startswith("frames."):
                dataset.rename_frame_field(field[len("frames.") :], new_field[len("frames.") :])
            else:
                dataset.rename_sample_field(field, new_field)

    def cleanup(self, samples: Any, config: Any, eval_key: str) -> None:
        """Deletes this metric's fields of the evaluation ``eval_key``."""
        dataset = _dataset_of(samples)
        for field in self.get_fields(samples, config, eval_key):
            if field.startswith("frames."):
                dataset.delete_frame_field(field[len("frames.") :], error_level=1)
            else:
                dataset.delete_sample_field(field, error_level=1)


def _dataset_of(samples: Any) -> Any:
    """The dataset behind a collection (FiftyOne views keep it in ``_dataset``)."""
    return getattr(samples, "_dataset", samples)
