"""The "State of the North American battery supply chain" brief: a document of 8-15 pages,
assembled from the same engines and views as the CLI and the dashboard (`build`), drawn as
colour-blind-safe SVG charts (`charts`) and written as self-contained HTML or PDF (`render`).

This module holds the document model, plain data the template walks, and the number formats
every figure in the brief is printed with (tests format expected values with the same ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

TITLE = "State of the North American battery supply chain"


def number(value: float) -> str:
    """A quantity as the brief prints it: thousands separated, large values scaled."""
    if value != value:  # NaN
        return "n/a"
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:,.2f} bn"
    if size >= 1e6:
        return f"{value / 1e6:,.2f} M"
    if size >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def percent(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.1%}"


@dataclass(frozen=True)
class Reference:
    """One numbered entry of the sources list."""

    number: int
    title: str
    url: str | None = None
    as_of: str | None = None


class Citations:
    """Numbers sources in order of first citation, so footnote 1 is the first one read."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str | None, str | None], int] = {}
        self.references: list[Reference] = []

    def cite(self, title: str, url: str | None = None, as_of: str | None = None) -> int:
        key = (title.strip(), url, as_of)
        if key not in self._numbers:
            self._numbers[key] = len(self.references) + 1
            self.references.append(Reference(len(self.references) + 1, *key))
        return self._numbers[key]


@dataclass(frozen=True)
class Sentence:
    text: str
    refs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: tuple[Sentence, ...]
    lead: str = ""


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    refs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Table:
    """`numeric`: how many trailing columns hold numbers (right-aligned). A table whose rows
    carry their own sources gets a source column."""

    kind: ClassVar[str] = "table"
    caption: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    refs: tuple[int, ...] = ()
    numeric: int = 0

    @property
    def row_sources(self) -> bool:
        return any(r.refs for r in self.rows)


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    svg: str
    caption: str
    alt: str
    refs: tuple[int, ...] = ()


Block = Paragraph | Bullets | Table | Figure


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]
    new_page: bool = True


@dataclass(frozen=True)
class Brief:
    title: str
    edition: str  # the newest date among the data it was built from, never the clock
    facts_as_of: str
    as_of_requested: bool
    as_of_note: str
    scenario: str
    scenario_title: str
    target_year: int
    data_version: str
    snapshot: str
    inputs: tuple[tuple[str, str], ...]  # reference files hashed, with their versions
    sections: tuple[Section, ...]
    references: tuple[Reference, ...] = field(default_factory=tuple)


__all__ = ["TITLE", "Brief", "Bullets", "Citations", "Figure", "Paragraph", "Reference", "Row",
           "Section", "Sentence", "Table", "number", "percent"]
