"""Ownership files in the formats the field publishes: BODS, GLEIF and FollowTheMoney.

`read_ownership_file` picks the reader by peeking at the content. The helpers below are
shared by the readers: each reports located problems and fails the whole file, so nothing
partial is ever returned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import parse_partial_date
from bmtc.domain.model import stable_id
from bmtc.domain.names import slugify
from bmtc.domain.percent import PercentRange
from bmtc.io.problems import ImportFailed, Problem

OWNERSHIP_FORMATS = ("bods", "gleif-l1", "gleif-rr", "ftm")
M = TypeVar("M", bound=BaseModel)
_PEEK = 65536


def detect_ownership_format(path: Path) -> str | None:
    """The ownership format of a file, judged by its first bytes; None if none fits."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_PEEK).decode("utf-8-sig", errors="ignore").lstrip()
    except OSError:
        return None
    if head.startswith(("[", "{")):
        if '"statementId"' in head or '"recordType"' in head:
            return "bods"
        return "ftm" if '"schema"' in head and '"properties"' in head else None
    header = [cell.strip().strip('"') for cell in head.split("\n", 1)[0].split(",")]
    if "Relationship.StartNode.NodeID" in header:
        return "gleif-rr"
    return "gleif-l1" if "LEI" in header and "Entity.LegalName" in header else None


def read_ownership_file(path: Path, fmt: str | None = None) -> Dataset:
    """Read an ownership file in `fmt` (one of OWNERSHIP_FORMATS), detected when None."""
    # The readers import the helpers below, so they are imported here, on use.
    from bmtc.io.bods import read_bods
    from bmtc.io.ftm import read_ftm
    from bmtc.io.gleif import read_gleif_level1, read_gleif_level2

    readers = {
        "bods": read_bods,
        "gleif-l1": read_gleif_level1,
        "gleif-rr": read_gleif_level2,
        "ftm": read_ftm,
    }
    chosen = fmt or detect_ownership_format(path)
    if chosen is None:
        raise ImportFailed.single(path.name, "is not a BODS, GLEIF or FollowTheMoney file")
    if chosen not in readers:
        known = ", ".join(OWNERSHIP_FORMATS)
        raise ImportFailed.single(path.name, f"{chosen!r} is not an ownership format ({known})")
    return readers[chosen](path)


@dataclass
class ProblemLog:
    file: str
    table: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, reason: str) -> None:
        self.problems.append(Problem(self.file, row, column, reason, self.table))

    def build(self, model: type[M], row: int | None, column: str, **fields: Any) -> M | None:
        """The model, or None with each validation error logged under `column`."""
        try:
            return model(**fields)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join([column, *(str(p) for p in err["loc"])]).strip(".")
                self.add(row, where or None, err["msg"])
            return None

    def date(self, value: Any, row: int | None, column: str) -> str | None:
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not a date")
            return parse_partial_date(value)
        except ValueError as exc:
            self.add(row, column, str(exc))
            return None

    def check(self) -> None:
        if self.problems:
            raise ImportFailed(self.problems)


def read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ImportFailed.single(path.name, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ImportFailed.single(path.name, f"is not UTF-8 text (byte {exc.start})") from None


def load_json(path: Path, table: str) -> Any:
    """One JSON document, or the list of objects of a JSON Lines file."""
    text = read_text(path)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        lines = [line for line in text.split("\n") if line.strip()]
        if len(lines) < 2 or not isinstance(_loads(lines[0]), dict):
            raise ImportFailed([Problem(path.name, None, None, json_error(exc), table)]) from None
    return [item for _, item in load_json_lines(path, table, text)]


def load_json_lines(path: Path, table: str, text: str | None = None) -> list[tuple[int, Any]]:
    """(line number, value) for each non-blank line of a JSON Lines file."""
    log, items = ProblemLog(path.name, table), []
    # JSON strings may hold U+2028 and other breaks that str.splitlines() would split on.
    for number, line in enumerate((read_text(path) if text is None else text).split("\n"), 1):
        if line.strip():
            try:
                items.append((number, json.loads(line)))
            except (ValueError, RecursionError) as exc:
                log.add(number, None, f"line {number}: {json_error(exc)}")
    log.check()
    return items


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def json_error(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "malformed JSON: nested too deeply"
    return f"malformed JSON: {exc}"


def finite_number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else, NaN, infinities and huge integers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def unique_slugs(keys: Iterable[str], prefix: str) -> dict[str, str]:
    """Slug ids for source identifiers. Keys are taken in sorted order, so one set of keys
    always gets the same ids whatever order the file lists them in; a collision gets a hash
    suffix."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(set(keys)):
        suffix = stable_id(prefix, key)[:10]
        try:
            slug = slugify(key, max_length=60)
        except ValueError:
            slug = f"{prefix}-{suffix}"
        if slug in taken:
            slug = f"{slug}-{suffix}"
        taken.add(slug)
        out[key] = slug
    return out


def add_shares(a: PercentRange | None, b: PercentRange | None) -> PercentRange | None:
    """Two holdings of one kind (share classes, say) together; ValueError beyond 100%."""
    if a is None or b is None:
        return a or b
    # Published figures are rounded; nine decimals keep 33.3 + 33.3 + 33.4 at 100.
    low, high = round(a.low + b.low, 9), round(a.high + b.high, 9)
    if low > 100:
        raise ValueError(f"add up to {low:g}%, more than 100%")
    high_open = (a.high_open or b.high_open) and high <= 100
    return PercentRange(low, min(high, 100.0), a.low_open or b.low_open, high_open)
