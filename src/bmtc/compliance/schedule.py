"""Dated rule values: a rate, threshold or date that applies between two dates, with its
citation and confidence. Compliance files under `bmtc/data/compliance/` are lists of these;
loading checks that no two rows of one series overlap, so "the value on a date" is always
one row or none, and an answer can cite the row it used."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bmtc.analysis.reference import ReferenceFile, load_file
from bmtc.domain.vocab import Confidence

T = TypeVar("T", bound="Dated")
F = TypeVar("F", bound=ReferenceFile)


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dated(Strict):
    """One row of a dated series. `effective_from` is the first day the row applies;
    `effective_to` the last (None: still in force). `series` names what the row is a value
    of (a product category, a credit, a list); rows of one series may not overlap."""

    id: str = Field(min_length=1)
    series: str = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    citation: str = Field(min_length=1)
    url: str | None = Field(default=None, pattern=r"^https?://")
    confidence: Confidence
    note: str | None = None

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def applies_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None
                                               or day <= self.effective_to)

    @property
    def verified(self) -> bool:
        """Only primary-verified rows are authoritative; results built on others say so."""
        return self.confidence is Confidence.PRIMARY


def check_no_overlap(rows: Sequence[Dated]) -> None:
    """Raise ValueError naming both rows when two rows of one series overlap in time."""
    by_series: dict[str, list[Dated]] = {}
    for row in rows:
        by_series.setdefault(row.series, []).append(row)
    for series, found in by_series.items():
        ordered = sorted(found, key=lambda r: r.effective_from)
        for earlier, later in itertools.pairwise(ordered):
            if earlier.effective_to is None or later.effective_from <= earlier.effective_to:
                raise ValueError(f"{series}: rows {earlier.id} and {later.id} overlap")


def on(rows: Iterable[T], series: str, day: date) -> T | None:
    """The row of `series` in force on `day`, if any."""
    for row in rows:
        if row.series == series and row.applies_on(day):
            return row
    return None


def compliance_folder() -> Path:
    return Path(str(resources.files("bmtc") / "data" / "compliance"))


def load_compliance(name: str, model: type[F]) -> F:
    """A compliance data file (a `ReferenceFile` subclass with `version` and `as_of`),
    validated; errors name the file and the entry."""
    return load_file(compliance_folder() / name, model)
