"""Percentages that may be exact, a range, a bound or unknown.

Ownership disclosures rarely give one number: "majority", "25-50%", "at least 10%". A range
keeps what is known without pretending to more precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"^{_NUMBER}\s*%?\s*(?:-|\u2013|to)\s*{_NUMBER}\s*%?$")
_BOUND = re.compile(rf"^(>=|≥|>|<=|≤|<)\s*{_NUMBER}\s*%?$")
_EXACT = re.compile(rf"^{_NUMBER}\s*%?$")
_WORDS = {"majority": ">50", "minority": "<50", "wholly owned": "100", "sole": "100"}


@dataclass(frozen=True)
class PercentRange:
    """A percentage known to lie in [low, high]; `low_open`/`high_open` exclude the end."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high <= 100:
            raise ValueError(f"percentage range {self.low}-{self.high} is outside 0-100")

    @property
    def is_exact(self) -> bool:
        return self.low == self.high

    def __str__(self) -> str:
        if self.is_exact:
            return _fmt(self.low)
        if self.low == 0 and not self.low_open:
            return f"{'<' if self.high_open else '<='}{_fmt(self.high)}"
        if self.high == 100 and not self.high_open:
            return f"{'>' if self.low_open else '>='}{_fmt(self.low)}"
        return f"{_fmt(self.low)}-{_fmt(self.high)}"


def _fmt(value: float) -> str:
    return f"{value:g}" if value == round(value, 6) else repr(value)


def parse_percent(text: str) -> PercentRange:
    """Parse `53.9`, `53.9%`, `25-50`, `>=10`, `>50`, `majority`; raise ValueError otherwise."""
    value = text.strip().lower()
    value = _WORDS.get(value, value)
    if match := _EXACT.match(value):
        number = float(match.group(1))
        return PercentRange(number, number)
    if match := _RANGE.match(value):
        low, high = float(match.group(1)), float(match.group(2))
        if low > high:
            raise ValueError(f"{text!r}: range starts above its end")
        return PercentRange(low, high)
    if match := _BOUND.match(value):
        op, number = match.group(1), float(match.group(2))
        if op in (">=", "≥"):
            return PercentRange(number, 100)
        if op == ">":
            return PercentRange(number, 100, low_open=True)
        if op in ("<=", "≤"):
            return PercentRange(0, number)
        return PercentRange(0, number, high_open=True)
    raise ValueError(f"{text!r} is not a percentage (e.g. 53.9, 25-50, >=10, >50)")
