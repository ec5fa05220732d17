"""Hypothesis strategies for valid atlas entities."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from bmtc.domain.model import (
    Facility,
    FundingAward,
    ListMembership,
    Organization,
    Relationship,
    Source,
)
from bmtc.domain.percent import PercentRange
from bmtc.domain.quantities import CAPACITY_UNITS, Capacity
from bmtc.domain.vocab import CHEMISTRIES, PRODUCTS, Stage, Status

slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
# Printable text without leading/trailing space, including characters spreadsheets treat
# specially ('=', '+', '-', '@', quotes, commas, semicolons in free text, accents, CJK).
words = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                           blacklist_characters="\x7f"),
    min_size=1, max_size=30,
).map(str.strip).filter(bool)
free_text = st.one_of(words, st.sampled_from(["=1+1", "+SUM(A1)", "-2+3", "@cmd", "'quoted",
                                              "a;b", "line\nbreak", "Bécancour", "国轩高科"]))
partial_dates = st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)).map(
    str).flatmap(lambda d: st.sampled_from([d[:4], d[:7], d]))
sources = st.builds(
    Source,
    url=slugs.map(lambda s: f"https://example.org/{s}"),
    publisher=st.none() | words,
    as_of=st.none() | partial_dates,
    confidence=st.sampled_from(["primary", "secondary", "uncertain"]),
)


def _sig12(value: float) -> float:
    # Spreadsheets keep about 15 significant digits; source figures never carry more than 12.
    return float(f"{value:.12g}")


@st.composite
def capacities(draw: st.DrawFn) -> Capacity:
    return Capacity(
        value=_sig12(draw(st.floats(0, 1e9, allow_nan=False))),
        unit=draw(st.sampled_from(sorted(CAPACITY_UNITS))),
        basis=draw(st.sampled_from(["lce", "contained_ni", "feedstock", *sorted(PRODUCTS)[:10]])),
        year=draw(st.none() | st.integers(1990, 2060)),
    )


@st.composite
def facilities(draw: st.DrawFn, operator_ids: list[str]) -> Facility:
    country, state, lat, lon = draw(st.sampled_from([
        ("US", "TN", (30.0, 37.0), (-90.0, -81.0)), ("CA", "QC", (45.0, 55.0), (-79.0, -60.0)),
        ("MX", "NLE", (24.0, 27.0), (-101.0, -99.0)), ("US", None, (25.0, 49.0), (-125.0, -67.0)),
    ]))
    has_coords = draw(st.booleans())
    stage = draw(st.sampled_from(list(Stage)))
    return Facility(
        id=draw(slugs),
        name=draw(free_text),
        operator_id=draw(st.sampled_from(operator_ids)),
        stage=stage,
        source_category=draw(st.none() | free_text),
        products=tuple(draw(st.lists(st.sampled_from(sorted(PRODUCTS)), min_size=1,
                                     max_size=3, unique=True))),
        chemistries=tuple(draw(st.lists(st.sampled_from(sorted(CHEMISTRIES)), max_size=2,
                                        unique=True))),
        city=draw(st.none() | free_text),
        state_province=state,
        country=country,
        latitude=_sig12(draw(st.floats(*lat))) if has_coords else None,
        longitude=_sig12(draw(st.floats(*lon))) if has_coords else None,
        coordinates_precision=draw(st.none() | st.sampled_from(["site", "city", "county"])),
        capacity=draw(st.none() | capacities()),
        start_year=draw(st.none() | st.integers(1950, 2040)),
        status=draw(st.sampled_from(list(Status))),
        status_as_of=draw(partial_dates),
        source=draw(sources),
        verified=draw(st.booleans()),
        notes=draw(st.none() | free_text),
    )


tri_state = st.sampled_from([True, False, None])


@st.composite
def organizations(draw: st.DrawFn, org_id: str) -> Organization:
    kind = draw(st.sampled_from(["company", "government", "state_body",
                                 "state_owned_enterprise", "person", "political_party"]))
    person = kind == "person"
    governing = kind in {"government", "state_body", "state_owned_enterprise",
                         "political_party"}
    return Organization(
        id=org_id,
        name=draw(free_text),
        kind=kind,
        country_incorporation=draw(st.none() | st.sampled_from(["US", "CA", "CN", "KR"])),
        country_hq=draw(st.none() | st.sampled_from(["US", "CA", "MX", "JP"])),
        country_principal_place=draw(st.none() | st.sampled_from(["CN", "US"])),
        government_level=draw(st.none() | st.sampled_from(["national", "subnational"]))
        if governing else None,
        nationalities=tuple(draw(st.lists(st.sampled_from(["CN", "US", "KR"]), max_size=2,
                                          unique=True))) if person else (),
        residence=draw(st.none() | st.sampled_from(["CN", "CA"])) if person else None,
        us_person=draw(tri_state) if person else None,
        senior_political_figure=draw(tri_state) if person else None,
        publicly_traded=draw(tri_state),
        activity_countries=tuple(draw(st.lists(st.sampled_from(["CN", "US"]), max_size=2,
                                               unique=True))),
        aliases=tuple(draw(st.lists(words.filter(lambda w: ";" not in w), max_size=2))),
        coalition_member=draw(st.booleans()),
        stages=tuple(draw(st.lists(st.sampled_from(list(Stage)), max_size=2, unique=True))),
        source=draw(sources),
        verified=draw(st.booleans()),
        notes=draw(st.none() | free_text),
    )


percents = st.none() | st.sampled_from([PercentRange(53.9, 53.9), PercentRange(25, 50),
                                        PercentRange(50, 100, low_open=True),
                                        PercentRange(10, 100), PercentRange(0, 5)])


@st.composite
def relationships(draw: st.DrawFn, org_ids: list[str]) -> Relationship:
    owner, owned = draw(st.lists(st.sampled_from(org_ids), min_size=2, max_size=2,
                                 unique=True))
    total = draw(st.none() | st.integers(1, 15))
    start = draw(st.none() | partial_dates)
    kind = draw(st.sampled_from(["ownership", "joint_venture", "licence", "offtake",
                                 "directorship", "debt"]))
    return Relationship(
        owner_id=owner, owned_id=owned, kind=kind,
        equity_pct=draw(percents), voting_pct=draw(percents),
        debt_share_pct=draw(percents) if kind == "debt" else None,
        officer_rights=tuple(draw(st.lists(st.sampled_from(["board", "ceo", "cfo"]),
                                           max_size=2, unique=True))),
        control_rights=tuple(draw(st.lists(st.sampled_from(["sourcing", "operations"]),
                                           max_size=2, unique=True))),
        effective_control=draw(tri_state) if kind == "licence" else None,
        board_seats_total=total,
        board_seats_held=None if total is None else draw(st.integers(0, total)),
        agreement=draw(st.none() | free_text),
        valid_from=start, valid_to=None if start is None else draw(st.none() | st.just("2100")),
        source=draw(sources), verified=draw(st.booleans()), notes=draw(st.none() | free_text),
    )


@st.composite
def funding_awards(draw: st.DrawFn, org_ids: list[str],
                   facility_ids: list[str]) -> FundingAward:
    return FundingAward(
        id=draw(slugs), recipient_id=draw(st.sampled_from(org_ids)),
        facility_id=draw(st.none() | st.sampled_from(facility_ids)),
        program=draw(free_text), agency=draw(words),
        instrument=draw(st.sampled_from(["grant", "loan", "dpa_award"])),
        amount=draw(st.none() | st.floats(0, 1e11).map(_sig12)),
        currency=draw(st.sampled_from(["USD", "CAD"])),
        award_status=draw(st.sampled_from(["selected", "awarded", "terminated"])),
        announced=draw(st.none() | partial_dates), source=draw(sources),
        notes=draw(st.none() | free_text),
    )


@st.composite
def list_memberships(draw: st.DrawFn, org_ids: list[str]) -> ListMembership:
    start = draw(st.none() | partial_dates)
    return ListMembership(
        list_id=draw(st.sampled_from(["ofac-sdn", "dod-1260h", "uflpa", "ndaa-fy2024-154b"])),
        org_id=draw(st.sampled_from(org_ids)), listed_name=draw(st.none() | free_text),
        listed_from=start, listed_to=None if start is None else draw(st.none() | st.just("2100")),
        source=draw(sources), notes=draw(st.none() | free_text),
    )
