"""What a party is, on its own, before ownership is looked at: the base facts the rule sets
test. Both the per-entity explainer and the batch engine start from these.

Tri-state answers: True, False, or None when the recorded facts cannot tell.
"""

from __future__ import annotations

from dataclasses import dataclass

from bmtc.domain.model import Organization
from bmtc.domain.vocab import GOVERNMENT_KINDS, OrgKind

Tri = bool | None


@dataclass(frozen=True)
class PartyFacts:
    # Covered nation whose government this party is part of (surely / possibly), or None.
    government_of: str | None
    maybe_government_of: str | None
    foreign: Tri
    jurisdiction: Tri
    activity_countries: tuple[str, ...]
    foreign_controlled_base: Tri


def classify(org: Organization, covered: tuple[str, ...]) -> PartyFacts:
    covered_set = set(covered)
    if org.kind is OrgKind.PERSON:
        return _person(org, covered_set)
    country = org.country_incorporation or org.country_hq
    if org.kind in GOVERNMENT_KINDS:
        nation = country if country in covered_set else None
        return PartyFacts(
            government_of=nation, maybe_government_of=nation,
            foreign=None if country is None else country != "US",
            jurisdiction=None if country is None else country in covered_set,
            activity_countries=_covered_activities(org, covered_set),
            foreign_controlled_base=None if country is None else country in covered_set,
        )
    places = [p for p in (org.country_incorporation, org.country_hq,
                          org.country_principal_place) if p]
    # The headquarters stands in for the principal place of business when that is not
    # recorded separately.
    organized = [p for p in (org.country_incorporation, org.country_principal_place
                             or org.country_hq) if p]
    return PartyFacts(
        government_of=None, maybe_government_of=None,
        foreign=None if not organized else any(p != "US" for p in organized),
        jurisdiction=None if not places else any(p in covered_set for p in places),
        activity_countries=_covered_activities(org, covered_set),
        foreign_controlled_base=(
            None if not organized else any(p in covered_set for p in organized)
        ),
    )


def _covered_activities(org: Organization, covered: set[str]) -> tuple[str, ...]:
    return tuple(sorted(c for c in org.activity_countries if c in covered))


def _person(org: Organization, covered: set[str]) -> PartyFacts:
    ties = [*org.nationalities, *([org.residence] if org.residence else [])]
    covered_ties = sorted({c for c in ties if c in covered})
    nation = covered_ties[0] if covered_ties else None
    # A senior political figure of a covered nation is part of its government (FEOC-D-5).
    citizen_of = sorted(c for c in org.nationalities if c in covered)
    official = citizen_of[0] if citizen_of else None
    us_citizen_or_resident = org.us_person is True or "US" in org.nationalities
    if us_citizen_or_resident:
        foreign: Tri = False
        fce: Tri = False
    elif org.us_person is False:
        foreign = True
        fce = nation is not None if ties else None
    else:
        # Not recorded as a U.S. citizen, but permanent residence is not ruled out.
        foreign = None
        fce = None if nation is not None or not ties else False
    return PartyFacts(
        government_of=official if org.senior_political_figure else None,
        maybe_government_of=official if org.senior_political_figure is not False else None,
        foreign=foreign,
        jurisdiction=False,
        activity_countries=(),
        foreign_controlled_base=fce,
    )
