"""What every view shares: the default target year and rule set, and turning engine values
(floats, NaN, None) into rounded display numbers."""

from __future__ import annotations

from typing import Any

import pandas as pd

DEFAULT_YEAR = 2030
RULESET = "feoc-doe-2024"


def number(value: Any, digits: int = 1) -> float | None:
    """A value rounded for display; None for missing, NaN or non-numeric values."""
    try:
        found = float(value)
    except (TypeError, ValueError):
        return None
    return None if found != found else round(found, digits)


def percent(value: Any) -> float | None:
    """A fraction as a percentage to one decimal."""
    found = number(value, 6)
    return None if found is None else round(found * 100, 1)


def sources_of(frame: pd.DataFrame) -> list[str]:
    """The distinct sources named in a frame's `sources` column ("a | b | c")."""
    return sorted({s.strip() for text in frame["sources"] for s in str(text).split("|")
                   if s.strip()})
