"""Sourcing policies: which facilities and which imports a supply bound may draw on.

- `na`: facilities in the United States, Canada and Mexico; no imports.
- `non-feoc`: those facilities, less the ones whose operator a screening rule set finds to be
  a foreign entity of concern (or, under the PFE rule set, a specified or foreign-influenced
  entity); no imports unless partner groups are named.
- `allied`: as `non-feoc`, plus imports from North America, US FTA partners, critical-minerals
  agreement partners and named allies.

Import volumes are either unbounded (the bound then measures North American conversion
capacity only) or taken from the reference production figures of each partner country, which
exist only for mined materials; a result always says which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.realisation import PartnerGroupsFile, load_partner_groups
from bmtc.analysis.reference import SharesFile
from bmtc.domain.model import Facility
from bmtc.domain.vocab import NORTH_AMERICA, Material, Stage

Policy = Literal["na", "non-feoc", "allied"]
POLICIES: tuple[Policy, ...] = ("na", "non-feoc", "allied")
ImportLimit = Literal["unbounded", "reference"]
ALLIED_GROUPS = ("north_america", "fta", "critical_minerals_agreement", "named_allies")
# Verdicts that exclude an operator under each rule set.
EXCLUDING: dict[str, frozenset[str]] = {
    "feoc-doe-2024": frozenset({"feoc"}),
    "pfe-2025": frozenset({"specified", "foreign_influenced"}),
}
# Flows an import may supply: everything upstream of the cell.
IMPORTABLE = frozenset(Flow) - {Flow.CELLS, Flow.SODIUM_CELLS, Flow.PACKS, Flow.RECYCLING_FEED}
# Reference production (stage, material) -> the flow it supplies.
_REFERENCE_FLOWS: dict[tuple[Stage, Material], Flow] = {
    (Stage.MINING, Material.LITHIUM): Flow.LITHIUM_FEED,
    (Stage.MINING, Material.NICKEL): Flow.NICKEL_FEED,
    (Stage.MINING, Material.COBALT): Flow.COBALT_FEED,
    (Stage.MINING, Material.GRAPHITE): Flow.GRAPHITE_FEED,
}


# Stages whose flows can be imported, so the only ones a bound can treat as unconstrained.
RELAXABLE = frozenset(FLOWS[f].stage for f in IMPORTABLE)


def check_relaxable(stages: Iterable[Stage]) -> None:
    wrong = sorted(s.value for s in stages if s not in RELAXABLE)
    if wrong:
        raise ValueError(f"cannot relax {', '.join(wrong)}: only stages upstream of the cell "
                         f"({', '.join(sorted(s.value for s in RELAXABLE))})")


@dataclass(frozen=True)
class Sourcing:
    policy: Policy
    ruleset: str | None = None
    partner_groups: tuple[str, ...] = ()
    import_limit: ImportLimit = "unbounded"
    # Share of a partner's production that could come to North America (reference limits).
    import_share: float = 1.0
    # Country -> share of its exports cut (a disruption); 1.0 stops them.
    import_cuts: Mapping[str, float] = field(default_factory=dict)
    # Stages treated as unconstrained, to ask what the bound would be without them.
    relaxed_stages: tuple[Stage, ...] = ()

    @classmethod
    def named(cls, policy: Policy, *, ruleset: str = "feoc-doe-2024",
              partner_groups: Sequence[str] | None = None,
              import_limit: ImportLimit = "unbounded") -> Sourcing:
        if policy not in POLICIES:
            raise ValueError(f"sourcing must be one of {', '.join(POLICIES)}, not {policy!r}")
        groups = tuple(partner_groups) if partner_groups is not None else (
            ALLIED_GROUPS if policy == "allied" else ())
        return cls(policy, None if policy == "na" else ruleset, groups, import_limit)

    def describe(self, groups: PartnerGroupsFile | None = None) -> str:
        groups = groups or load_partner_groups()
        parts = {"na": "North American facilities only",
                 "non-feoc": "North American facilities not excluded by " + str(self.ruleset),
                 "allied": "North American facilities not excluded by " + str(self.ruleset)}
        text = parts[self.policy]
        if self.partner_groups:
            names = "partner groups " + ", ".join(groups.get(g).id for g in self.partner_groups)
            limit = ("without a volume limit" if self.import_limit == "unbounded" else
                     f"up to {self.import_share:.0%} of partners' reference production")
            text += f"; imports from {names}, {limit}"
        else:
            text += "; no imports"
        if self.relaxed_stages:
            text += "; unconstrained: " + ", ".join(s.value for s in self.relaxed_stages)
        return text


@dataclass(frozen=True)
class Eligibility:
    eligible: frozenset[str]
    # facility id -> why it is left out
    excluded: dict[str, str]
    # operators whose verdict could not be settled (counted as eligible, flagged)
    unsettled: frozenset[str] = frozenset()


def eligible_facilities(
    facilities: Iterable[Facility], sourcing: Sourcing,
    verdicts: Mapping[str, str] | None = None,
) -> Eligibility:
    """Which facilities a policy may draw on. `verdicts` maps operator id to its screening
    status under `sourcing.ruleset`; it is required for every policy but `na`."""
    if sourcing.policy != "na" and verdicts is None:
        raise ValueError(f"sourcing {sourcing.policy!r} needs screening verdicts")
    excluding = EXCLUDING.get(sourcing.ruleset or "", frozenset())
    eligible: set[str] = set()
    excluded: dict[str, str] = {}
    unsettled: set[str] = set()
    for facility in facilities:
        if facility.country not in NORTH_AMERICA:
            excluded[facility.id] = f"located in {facility.country}, outside North America"
            continue
        if verdicts is not None and sourcing.policy != "na":
            status = verdicts.get(facility.operator_id, "insufficient_data")
            if status in excluding:
                excluded[facility.id] = (
                    f"operator {facility.operator_id} is {status} under {sourcing.ruleset}")
                continue
            if status == "insufficient_data":
                unsettled.add(facility.operator_id)
        eligible.add(facility.id)
    return Eligibility(frozenset(eligible), excluded, frozenset(unsettled))


@dataclass(frozen=True)
class ImportAllowance:
    """Upper bound on imports of each flow (math.inf = unbounded), with how it was set."""

    limits: dict[Flow, float]
    notes: tuple[str, ...]


def import_allowance(sourcing: Sourcing, shares: SharesFile | None = None,
                     groups: PartnerGroupsFile | None = None) -> ImportAllowance:
    limits = dict.fromkeys(IMPORTABLE, 0.0)
    notes: list[str] = []
    relaxed = set(sourcing.relaxed_stages)
    for flow in IMPORTABLE:
        if FLOWS[flow].stage in relaxed:
            limits[flow] = math.inf
    check_relaxable(relaxed)
    groups = groups or load_partner_groups()
    countries = {c for g in sourcing.partner_groups for c in groups.get(g).countries}
    countries -= NORTH_AMERICA  # North American output is already in the atlas
    for country, cut in sourcing.import_cuts.items():
        if country not in countries:
            notes.append(f"the cut of imports from {country} changes nothing: {country} is "
                         "not an import source under this policy")
        elif sourcing.import_limit == "unbounded" and cut > 0:
            notes.append(f"the cut of imports from {country} changes nothing while imports "
                         "are unbounded; use import_limit = reference")
    if not sourcing.partner_groups:
        return ImportAllowance(limits, tuple(notes))
    if sourcing.import_limit == "unbounded":
        for flow in IMPORTABLE:
            limits[flow] = math.inf
        notes.append("imports unbounded: every flow upstream of the cell can be imported, so "
                     "the bound is set by the cell plants themselves")
        return ImportAllowance(limits, tuple(notes))
    if shares is None:
        raise ValueError("reference import limits need the global shares file")
    for (stage, material), flow in _REFERENCE_FLOWS.items():
        if FLOWS[flow].stage in relaxed:
            continue
        rows = [s for s in shares.share if s.stage is stage and s.material is material
                and s.amount is not None and s.unit == "kt" and not s.subset]
        if not rows:
            continue
        latest = max(s.year for s in rows)
        total = 0.0
        for row in rows:
            if row.year != latest or row.country not in countries:
                continue
            cut = sourcing.import_cuts.get(row.country, 0.0)
            assert row.amount is not None
            total += row.amount * 1_000 * sourcing.import_share * (1 - cut)
            notes.append(f"{flow.value}: {row.country} {row.amount:g} kt ({row.source}, "
                         f"{row.year})" + (f", cut {cut:.0%}" if cut else ""))
        limits[flow] = total
    notes.append("reference limits exist only for mined lithium, nickel, cobalt and graphite; "
                 "other imports are zero")
    return ImportAllowance(limits, tuple(notes))
