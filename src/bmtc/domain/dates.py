"""ISO partial dates (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`).

Sources often date a fact only to the month or year; keeping the precision they give avoids
inventing a day. Partial dates in this form sort correctly as strings.
"""

from __future__ import annotations

import re
from datetime import date

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(text: str) -> str:
    """Return the canonical partial date, or raise ValueError saying why."""
    value = text.strip()
    match = _PARTIAL.match(value)
    if not match:
        # Spreadsheets hand us datetimes; accept an ISO timestamp and keep its date part.
        if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
            return parse_partial_date(value[:10])
        raise ValueError(f"{text!r} is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = match.groups()
    if not 1800 <= int(year) <= 2200:
        raise ValueError(f"{text!r}: year {year} is out of range")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"{text!r}: month {month} is out of range")
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            raise ValueError(f"{text!r} is not a calendar date") from None
    return value


def partial_date_start(value: str) -> date:
    """The first day a partial date covers."""
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return date(parts[0], parts[1], parts[2])


def months_between(earlier: str, later: str) -> int:
    a, b = partial_date_start(earlier), partial_date_start(later)
    return (b.year - a.year) * 12 + (b.month - a.month)
