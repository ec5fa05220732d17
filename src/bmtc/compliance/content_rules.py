"""The historic IRC 30D content rules (`content-30d.toml`) as typed, dated rows: credit halves,
applicable percentages by placed-in-service date, qualifying countries, the 50% value-added
test, FEOC exclusions and the acquisition cut-off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Literal, Self, TypeVar

from pydantic import Field, model_validator

from bmtc.analysis.reference import ReferenceFile
from bmtc.compliance.schedule import Dated, check_no_overlap, load_compliance, on

Half = Literal["critical_minerals", "battery_components"]
R = TypeVar("R", bound=Dated)

class Credit(Dated):
    critical_minerals_amount: float = Field(gt=0)
    battery_components_amount: float = Field(gt=0)
    final_assembly_group: str


class Applicable(Dated):
    applicable_pct: float = Field(ge=0, le=100)


class Countries(Dated):
    groups: tuple[str, ...] = Field(min_length=1)


class ValueAddedRule(Dated):
    threshold_pct: float = Field(gt=0, le=100)
    recycling_group: str


class Exclusion(Dated):
    scope: Half
    ruleset: str
    excluded_status: str


class Content30dFile(ReferenceFile):
    credit: tuple[Credit, ...]
    applicable: tuple[Applicable, ...]
    countries: tuple[Countries, ...]
    value_added: tuple[ValueAddedRule, ...]
    method: tuple[Dated, ...]
    exclusion: tuple[Exclusion, ...]
    cutoff: tuple[Dated, ...]

    def rows(self) -> tuple[Dated, ...]:
        return (*self.credit, *self.applicable, *self.countries, *self.value_added,
                *self.method, *self.exclusion, *self.cutoff)

    @model_validator(mode="after")
    def _check(self) -> Self:
        ids = [r.id for r in self.rows()]
        if len(ids) != len(set(ids)):
            raise ValueError("two rows share an id")
        check_no_overlap(self.rows())
        if len({r.ruleset for r in self.exclusion}) > 1:
            raise ValueError("exclusion rows name different screening rule sets")
        return self


@cache
def load_content_30d() -> Content30dFile:
    return load_compliance("content-30d.toml", Content30dFile)


def in_force(rows: Iterable[R], series: str, day: date) -> R:
    found = on(rows, series, day)
    if found is None:
        raise ValueError(f"no {series} row in force on {day}: the §30D content rules encoded "
                         "here apply to vehicles placed in service from 2023-04-18")
    return found


def first_row(rows: Iterable[R], series: str) -> R:
    return min((r for r in rows if r.series == series), key=lambda r: r.effective_from)


def applicable(half: Half, day: date, data: Content30dFile | None = None) -> Applicable:
    """The applicable-percentage row for a half, by the day the vehicle is placed in service."""
    return in_force((data or load_content_30d()).applicable, "30d-" + half.replace("_", "-"),
                     day)


