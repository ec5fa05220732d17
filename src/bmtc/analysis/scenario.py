"""Scenario files (YAML): demand, chemistry mix, realisation weights, disruptions, sourcing and
Monte Carlo settings. Validation names the file and the field; bundled scenarios live in
`bmtc/data/scenarios/`, and a demand preset id also works as a scenario name (with the default
scenario's other settings).
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bmtc.analysis.sourcing import (
    ALLIED_GROUPS,
    POLICIES,
    ImportLimit,
    Policy,
    check_relaxable,
)
from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import CHEMISTRIES, Stage, Status

DEFAULT_SCENARIO = "post-2025-law"


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the file and field named."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Demand(_Strict):
    """Presets are summed (an EV preset plus a storage preset); `custom` gives GWh by year
    instead. `scale` multiplies either."""

    presets: tuple[str, ...] = ()
    custom: dict[int, float] = {}
    scale: float = Field(default=1.0, ge=0)
    source: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if bool(self.presets) == bool(self.custom):
            raise ValueError("give either `presets` or `custom`, not both or neither")
        for year, gwh in self.custom.items():
            if not 1990 <= year <= 2100 or not math.isfinite(gwh) or gwh < 0:
                raise ValueError(f"custom demand {year}: {gwh} is not a GWh figure for a year")
        return self


class Disruption(_Strict):
    remove_country: str | None = None
    remove_company: str | None = None
    remove_facility: str | None = None
    cut_imports_from: str | None = None
    share: float = Field(default=1.0, ge=0, le=1)
    note: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [k for k in ("remove_country", "remove_company", "remove_facility",
                             "cut_imports_from") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("each disruption names exactly one of remove_country, "
                             "remove_company, remove_facility, cut_imports_from")
        for key in ("remove_country", "cut_imports_from"):
            code = getattr(self, key)
            if code is not None and normalize_country(code) != code:
                raise ValueError(f"{key}: {code!r} is not an ISO 3166-1 alpha-2 code")
        return self


class SourcingSpec(_Strict):
    policy: Policy = "na"
    ruleset: str = "feoc-doe-2024"
    partner_groups: tuple[str, ...] | None = None
    import_limit: ImportLimit = "unbounded"
    import_share: float = Field(default=1.0, ge=0, le=1)
    relax: tuple[Stage, ...] = ()

    @model_validator(mode="after")
    def _policy(self) -> Self:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}")
        check_relaxable(self.relax)
        return self

    def groups(self) -> tuple[str, ...]:
        if self.partner_groups is not None:
            return self.partner_groups
        return ALLIED_GROUPS if self.policy == "allied" else ()


class MonteCarlo(_Strict):
    draws: int = Field(default=1000, ge=1, le=1_000_000)
    seed: int = 20261125
    network_years: tuple[int, ...] = ()


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str | None = None
    year: int = Field(ge=2000, le=2100)
    first_year: int | None = Field(default=None, ge=2000, le=2100)
    last_year: int | None = Field(default=None, ge=2000, le=2100)
    demand: Demand
    mix: dict[str, float]
    mix_source: str
    realisation: dict[Status, float] = {}
    realisation_source: str | None = None
    capacity: Literal["plausible", "nameplate"] = "plausible"
    disruptions: tuple[Disruption, ...] = ()
    sourcing: SourcingSpec = SourcingSpec()
    monte_carlo: MonteCarlo = MonteCarlo()

    @model_validator(mode="after")
    def _check(self) -> Self:
        for chemistry, share in self.mix.items():
            if chemistry not in CHEMISTRIES:
                raise ValueError(f"mix: {chemistry!r} is not a known chemistry")
            if not 0 <= share <= 1:
                raise ValueError(f"mix: share of {chemistry} must lie in [0, 1]")
        if abs(math.fsum(self.mix.values()) - 1) > 1e-6:
            raise ValueError(f"mix: shares sum to {math.fsum(self.mix.values()):g}, not 1")
        for status, weight in self.realisation.items():
            if not 0 <= weight <= 1:
                raise ValueError(f"realisation: weight for {status} must lie in [0, 1]")
        if self.realisation and not self.realisation_source:
            raise ValueError("realisation: say where the weights come from (realisation_source)")
        first, last = self.first_year or self.year, self.last_year or self.year
        if not first <= self.year <= last:
            raise ValueError("year must lie between first_year and last_year")
        outside = [y for y in self.monte_carlo.network_years if not first <= y <= last]
        if outside:
            raise ValueError(f"monte_carlo.network_years {outside} lie outside "
                             f"first_year-last_year ({first}-{last})")
        return self

    def span(self) -> tuple[int, ...]:
        return tuple(range(self.first_year or self.year, (self.last_year or self.year) + 1))


def _locate(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(step) for step in loc) or "(file)"


def parse_scenario(text: str, origin: str) -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{origin}: a scenario is a mapping of fields")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [f"{origin}: {_locate(tuple(e['loc']))}: {e['msg']}"
                    for e in exc.errors()]
        raise ScenarioError("\n".join(problems)) from None


def load_scenario_file(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from None
    return parse_scenario(text, path.name)


def scenario_folder() -> Path:
    return Path(str(resources.files("bmtc") / "data" / "scenarios"))


@cache
def bundled_scenarios() -> dict[str, Scenario]:
    found = {}
    for path in sorted(scenario_folder().glob("*.yaml")):
        scenario = load_scenario_file(path)
        if scenario.name != path.stem:
            raise ScenarioError(f"{path.name}: name {scenario.name!r} differs from the file name")
        found[scenario.name] = scenario
    return found


def resolve_scenario(name_or_path: str | None, preset_ids: tuple[str, ...] = ()) -> Scenario:
    """A bundled scenario by name, a YAML file by path, or a demand preset id (run with the
    default scenario's mix, weights and sourcing)."""
    bundled = bundled_scenarios()
    if name_or_path is None:
        return bundled[DEFAULT_SCENARIO]
    if name_or_path in bundled:
        return bundled[name_or_path]
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_scenario_file(path)
    if name_or_path in preset_ids:
        base = bundled[DEFAULT_SCENARIO]
        return base.model_copy(update={
            "name": name_or_path, "title": f"Demand preset {name_or_path}",
            "first_year": base.year, "last_year": base.year,
            "demand": Demand(presets=(name_or_path,)),
            "mix_source": f"Mix of the {DEFAULT_SCENARIO} scenario: {base.mix_source.strip()}",
            "description": f"Demand from preset {name_or_path}; mix, weights and sourcing "
                           f"from the {DEFAULT_SCENARIO} scenario."})
    known = ", ".join([*bundled, *preset_ids])
    raise ScenarioError(f"no scenario {name_or_path!r}: give a bundled scenario or demand "
                        f"preset ({known}) or a .yaml file")
