"""Realisation assumptions (`realisation.toml`) and partner groups (`partner_groups.toml`).

How much of an unfinished plant to count, when it starts, how far it may slip, and which
countries a sourcing policy may import from. All are data with a citation, so a scenario can
replace them and a result can say which it used.
"""

from __future__ import annotations

from functools import cache
from typing import ClassVar, Self

from pydantic import Field, model_validator

from bmtc.analysis.reference import (
    Keys,
    ReferenceFile,
    Sourced,
    load_file,
    reference_folder,
)
from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import Status


class Weight(Sourced):
    status: Status
    weight: float = Field(ge=0, le=1)
    low: float | None = Field(default=None, ge=0, le=1)
    high: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _range(self) -> Self:
        points = [v for v in (self.low, self.weight, self.high) if v is not None]
        if points != sorted(points):
            raise ValueError("low <= weight <= high does not hold")
        return self


class LeadTime(Sourced):
    status: Status
    years: int = Field(ge=0, le=20)


class Delay(Sourced):
    status: Status
    mean_years: float = Field(ge=0, le=20)


class RealisationFile(ReferenceFile):
    weight: tuple[Weight, ...]
    lead_time: tuple[LeadTime, ...] = ()
    delay: tuple[Delay, ...] = ()

    unique_by: ClassVar[Keys] = {
        "weight": lambda w: w.status,
        "lead_time": lambda t: t.status,
        "delay": lambda d: d.status,
    }

    @model_validator(mode="after")
    def _every_status(self) -> Self:
        missing = set(Status) - {w.status for w in self.weight}
        if missing:
            raise ValueError(f"weight: no weight for {sorted(missing)}")
        return self

    def weights(self) -> dict[Status, float]:
        return {w.status: w.weight for w in self.weight}

    def lead_times(self) -> dict[Status, int]:
        return {t.status: t.years for t in self.lead_time}

    def delays(self) -> dict[Status, float]:
        return {d.status: d.mean_years for d in self.delay}


class PartnerGroup(Sourced):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    countries: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _codes(self) -> Self:
        for code in self.countries:
            if normalize_country(code) != code:
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
        return self


class PartnerGroupsFile(ReferenceFile):
    group: tuple[PartnerGroup, ...]

    unique_by: ClassVar[Keys] = {"group": lambda g: g.id}

    def get(self, group_id: str) -> PartnerGroup:
        for group in self.group:
            if group.id == group_id:
                return group
        known = ", ".join(g.id for g in self.group)
        raise KeyError(f"no partner group {group_id!r} (one of: {known})")


@cache
def load_realisation() -> RealisationFile:
    return load_file(reference_folder() / "realisation.toml", RealisationFile)


@cache
def load_partner_groups() -> PartnerGroupsFile:
    return load_file(reference_folder() / "partner_groups.toml", PartnerGroupsFile)
