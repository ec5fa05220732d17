"""Who ultimately controls each organization, and from which country.

Control is traced up the holding relationships (ownership and joint ventures). At each level a
holder with a majority (voting share, else equity; the lower end of its range above 50%, or
">50%") takes all of the control and the walk goes on from it. Without a majority holder,
holders with a stated stake take control pro rata (a range counts at its midpoint); joint-venture
partners whose split is not stated share equally what the stated stakes leave. What is still
left belongs to holders the atlas does not record (free float, unlisted investors), so it stays
with the organization itself; `remainder="normalise"` instead spreads it over the stated stakes.
An organization with no recorded holder, a person, a government and a political party are
ultimate controllers. A holder already on the walk (an ownership cycle) is not followed again:
its part stays with the organization that holds it.

The country of an ultimate controller is, for a person, the first nationality (else residence);
for a government body the country it belongs to; otherwise the headquarters, else the country
of incorporation, else the principal place of business; else "unknown".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import INDIRECT_NOTE, Organization, Relationship
from bmtc.domain.percent import PercentRange
from bmtc.domain.vocab import GOVERNMENT_KINDS, HOLDING_KINDS, OrgKind, RelationshipKind

UNKNOWN = "unknown"
Remainder = Literal["self", "normalise"]
# Kinds that end the walk even if a holder is recorded for them.
_ULTIMATE_KINDS = frozenset({OrgKind.PERSON, OrgKind.GOVERNMENT, OrgKind.POLITICAL_PARTY})
_PATHS_SHOWN = 3
# Stated stakes this close to 100% are the whole holding (30 + 30 + 40 is not exact in floats).
_ROUNDING = 1e-9


@dataclass(frozen=True)
class ControlShare:
    """How control of `org_id` splits: by country and by ultimate controller (fractions that
    sum to 1, largest first), with the chains to the largest controllers."""

    org_id: str
    countries: Mapping[str, float]
    controllers: Mapping[str, float]
    path: str

    @property
    def top_country(self) -> str:
        return next(iter(self.countries))

    def fraction_in(self, nations: Iterable[str]) -> float:
        wanted = set(nations)
        return sum(f for country, f in self.countries.items() if country in wanted)


@dataclass(frozen=True)
class _Stake:
    holder: str
    fraction: float | None  # None: the source does not state the stake
    majority: bool
    label: str
    joint_venture: bool


# (holder, or None for the organization itself; fraction of control; stake label)
_Split = tuple[str | None, float, str]
_Route = tuple[tuple[str, str], ...]


@dataclass
class _Part:
    fraction: float
    weight: float  # the largest single route's fraction, to pick the route shown
    route: _Route


def _is_majority(pct: PercentRange) -> bool:
    return pct.low > 50 or (pct.low == 50 and pct.low_open)


def _stake(rel: Relationship) -> _Stake:
    pct = rel.voting_pct if rel.voting_pct is not None else rel.equity_pct
    jv = rel.kind is RelationshipKind.JOINT_VENTURE
    if pct is None:
        return _Stake(rel.owner_id, None, False, "stake not stated", jv)
    fraction = (pct.low + pct.high) / 200
    return _Stake(rel.owner_id, fraction, _is_majority(pct), f"{pct}%", jv)


def _merge(stakes: Iterable[_Stake]) -> list[_Stake]:
    # Two rows for one holder (an ownership and a JV row, a re-filed stake) are one holding.
    best: dict[str, _Stake] = {}
    for stake in stakes:
        seen = best.get(stake.holder)
        if seen is None or (stake.majority, stake.fraction or 0.0) > (
                seen.majority, seen.fraction or 0.0):
            best[stake.holder] = stake
    return [best[h] for h in sorted(best)]


def _in_force(rel: Relationship, on: str | None) -> bool:
    return rel.valid_to is None if on is None else rel.in_force(on)


def _holders(dataset: Dataset, on: str | None) -> dict[str, list[_Stake]]:
    holding = [r for r in dataset.relationships if r.kind in HOLDING_KINDS and _in_force(r, on)]
    indirect = [r for r in holding if (r.notes or "").startswith(INDIRECT_NOTE)]
    chosen = [r for r in holding if not (r.notes or "").startswith(INDIRECT_NOTE)]
    above: dict[str, set[str]] = defaultdict(set)
    for rel in chosen:
        above[rel.owned_id].add(rel.owner_id)
    # A declared indirect interest summarises a chain; beside the chain it would count twice.
    chosen += [r for r in indirect if r.owner_id not in _ancestors(above, r.owned_id)]
    stakes: dict[str, list[_Stake]] = defaultdict(list)
    for rel in sorted(chosen, key=lambda r: r.id):
        stakes[rel.owned_id].append(_stake(rel))
    return {org: _merge(found) for org, found in stakes.items()}


def _ancestors(above: Mapping[str, set[str]], org: str) -> set[str]:
    seen: set[str] = set()
    stack = [org]
    while stack:
        for holder in above.get(stack.pop(), ()):
            if holder not in seen:
                seen.add(holder)
                stack.append(holder)
    return seen


def _split(stakes: list[_Stake], remainder: Remainder) -> list[_Split]:
    if not stakes:
        return [(None, 1.0, "")]
    majority = sorted((s for s in stakes if s.majority), key=lambda s: -(s.fraction or 0.0))
    if majority:
        return [(majority[0].holder, 1.0, majority[0].label)]
    known = [s for s in stakes if s.fraction]
    recorded = sum(s.fraction or 0.0 for s in known)
    if recorded >= 1.0 - _ROUNDING:
        return [(s.holder, (s.fraction or 0.0) / recorded, s.label) for s in known]
    parts: list[_Split] = [(s.holder, s.fraction or 0.0, s.label) for s in known]
    rest = 1.0 - recorded
    partners = [s for s in stakes if s.fraction is None and s.joint_venture]
    if partners:
        return parts + [(s.holder, rest / len(partners), "JV share not stated")
                        for s in partners]
    if remainder == "normalise" and known:
        return [(h, f / recorded, label) for h, f, label in parts]
    return [*parts, (None, rest, "")]


def _add(parts: dict[str, _Part], controller: str, fraction: float, weight: float,
         route: _Route) -> None:
    part = parts.get(controller)
    if part is None:
        parts[controller] = _Part(fraction, weight, route)
        return
    part.fraction += fraction
    if weight > part.weight:
        part.weight, part.route = weight, route


class _Walker:
    def __init__(self, parties: Mapping[str, Organization],
                 splits: Mapping[str, list[_Split]]) -> None:
        self.parties = parties
        self.splits = splits
        self.done: dict[str, dict[str, _Part]] = {}

    def walk(self, org: str, path: frozenset[str]) -> tuple[dict[str, _Part], bool]:
        """Ultimate controllers of `org`, and whether a cycle was cut on the way (a result
        that depends on the path walked, so it is not kept for reuse)."""
        if org in self.done:
            return self.done[org], False
        party = self.parties.get(org)
        if party is not None and party.kind in _ULTIMATE_KINDS:
            return {org: _Part(1.0, 1.0, ())}, False
        parts: dict[str, _Part] = {}
        cut = False
        for holder, fraction, label in self.splits.get(org, [(None, 1.0, "")]):
            if holder is None or holder in path:
                cut = cut or holder is not None
                _add(parts, org, fraction, fraction, ())
                continue
            above, above_cut = self.walk(holder, path | {holder})
            cut = cut or above_cut
            for controller, part in above.items():
                _add(parts, controller, fraction * part.fraction, fraction * part.weight,
                     ((holder, label), *part.route))
        if not cut:
            self.done[org] = parts
        return parts, cut


def country_of(org: Organization | None) -> str:
    if org is None:
        return UNKNOWN
    if org.kind is OrgKind.PERSON:
        order = [*org.nationalities, org.residence, org.country_hq,
                 org.country_incorporation, org.country_principal_place]
    elif org.kind in GOVERNMENT_KINDS:
        order = [org.country_incorporation, org.country_hq, org.country_principal_place]
    else:
        order = [org.country_hq, org.country_incorporation, org.country_principal_place]
    return next((c for c in order if c), UNKNOWN)


def _describe(org: str, ranked: list[tuple[str, _Part]]) -> str:
    chains = []
    for i, (_controller, part) in enumerate(ranked[:_PATHS_SHOWN]):
        steps = " ".join(f"<- {holder} ({label})" for holder, label in part.route)
        head = org if i == 0 else ""
        chains.append(" ".join(x for x in (head, steps or "(itself)") if x))
    if len(ranked) > _PATHS_SHOWN:
        chains.append(f"+{len(ranked) - _PATHS_SHOWN} more")
    return " ; ".join(chains)


def controlling_countries(dataset: Dataset, as_of: str | None = None,
                          remainder: Remainder = "self") -> dict[str, ControlShare]:
    """Control of every organization (and every facility operator) by country and by ultimate
    controller, on the ISO date `as_of`. Without `as_of` the dataset's own date is used, and
    without that, every holding not recorded as ended."""
    on = as_of if as_of is not None else (dataset.info.as_of if dataset.info else None)
    parties = {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}
    splits = {org: _split(stakes, remainder) for org, stakes in _holders(dataset, on).items()}
    walker = _Walker(parties, splits)
    ids = sorted({*parties, *(f.operator_id for f in dataset.facilities)})
    result: dict[str, ControlShare] = {}
    for org in ids:
        parts, _ = walker.walk(org, frozenset({org}))
        ranked = sorted(parts.items(), key=lambda item: (-item[1].fraction, item[0]))
        countries: dict[str, float] = defaultdict(float)
        for controller, part in ranked:
            countries[country_of(parties.get(controller))] += part.fraction
        result[org] = ControlShare(
            org_id=org,
            countries=dict(sorted(countries.items(), key=lambda item: (-item[1], item[0]))),
            controllers={controller: part.fraction for controller, part in ranked},
            path=_describe(org, ranked),
        )
    return result


def majority_controlled(dataset: Dataset, company: str, as_of: str | None = None) -> set[str]:
    """Every organization `company` controls through an unbroken chain of majority holdings
    (the company itself included): a disruption that removes a company removes these too."""
    holders = _holders(dataset, as_of)
    parent = {org: next((s.holder for s in stakes if s.majority), None)
              for org, stakes in holders.items()}
    found = {company}
    for org in parent:
        seen: set[str] = set()
        node: str | None = org
        while node is not None and node not in seen:
            if node == company:
                found.add(org)
                break
            seen.add(node)
            node = parent.get(node)
    return found
