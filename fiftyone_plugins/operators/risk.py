"""``types.RiskLevel``: how risky an operator declares itself (for guardrails and agents).

It lives outside the form types so that ``OperatorConfig`` needs no more than this module.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["RiskLevel", "parse_risk_level"]


class RiskLevel(str, enum.Enum):
    """The risk levels an operator may declare; undeclared means ``DANGEROUS``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    DANGEROUS = "dangerous"


def parse_risk_level(value: Any) -> RiskLevel:
    """A :class:`RiskLevel` from itself, its name or value in any case (``"low"``,
    ``"LOW"``), FiftyOne's own ``RiskLevel`` member, or ``None`` (``DANGEROUS``)."""
    if value is None:
        return RiskLevel.DANGEROUS
    if isinstance(value, RiskLevel):
        return value
    raw = getattr(value, "value", value)  # FiftyOne's RiskLevel enum
    if isinstance(raw, str):
        try:
            return RiskLevel(raw.lower())
        except ValueError:
            pass
    choices = ", ".join(level.value for level in RiskLevel)
    raise ValueError(f"Invalid risk level {value!r}; expected one of: {choices}")
