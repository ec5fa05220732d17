"""Inconsistent or incomplete ownership data gives gaps and `insufficient_data`, never a
silent "clear" and never a crash."""

from __future__ import annotations

import pytest

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import Organization, Relationship, Source
from bmtc.domain.percent import PercentRange, parse_percent
from bmtc.screening.explain import screen
from bmtc.screening.graph import build_graph
from bmtc.screening.rules import rule_set

SOURCE = Source(url="https://example.org/filing", publisher="Filing", confidence="secondary")
UNSOURCED = Source(url="urn:bods:s-9", confidence="unsourced")
AS_OF = "2026-06-30"


def org(org_id: str, country: str = "US", kind: str = "company") -> Organization:
    return Organization(id=org_id, name=org_id.title(), kind=kind,
                        country_incorporation=country, source=SOURCE)


def holds(owner: str, owned: str, pct: str, source: Source = SOURCE) -> Relationship:
    return Relationship(owner_id=owner, owned_id=owned, kind="ownership",
                        equity_pct=parse_percent(pct), source=source)


def verdict(orgs: list[Organization], rels: list[Relationship], target: str = "target",
            rules: str = "feoc-doe-2024", mode: str | None = None) -> object:
    graph = build_graph(Dataset(organizations=orgs, relationships=rels), AS_OF)
    return screen(graph, target, rule_set(rules), mode)  # type: ignore[arg-type]


def test_holdings_over_100_percent_are_a_gap() -> None:
    result = verdict([org("target"), org("a"), org("b")],
                     [holds("a", "target", "70"), holds("b", "target", "60")])
    assert result.status == "insufficient_data"  # type: ignore[attr-defined]
    assert any(g.kind == "over_100" and "130%" in g.detail
               for g in result.gaps)  # type: ignore[attr-defined]


def test_dangling_owner_is_a_gap() -> None:
    result = verdict([org("target")], [holds("ghost", "target", "40")])
    assert result.status == "insufficient_data"  # type: ignore[attr-defined]
    assert any(g.kind == "dangling" and "ghost" in g.detail
               for g in result.gaps)  # type: ignore[attr-defined]


def test_a_range_straddling_the_threshold_is_insufficient_not_clear() -> None:
    orgs = [org("target"), org("gov", "CN", "government")]
    straddling = verdict(orgs, [holds("gov", "target", "20-30")])
    assert straddling.status == "insufficient_data"  # type: ignore[attr-defined]
    below = verdict(orgs, [holds("gov", "target", "<25")])
    assert below.status == "clear"  # type: ignore[attr-defined]
    above = verdict(orgs, [holds("gov", "target", ">=25")])
    assert above.status == "feoc"  # type: ignore[attr-defined]


def test_unknown_share_and_unsourced_statement_block_clear_but_prove_nothing() -> None:
    orgs = [org("target"), org("gov", "CN", "government")]
    unknown = verdict(orgs, [Relationship(owner_id="gov", owned_id="target",
                                          kind="ownership", source=SOURCE)])
    assert unknown.status == "insufficient_data"  # type: ignore[attr-defined]
    unsourced = verdict(orgs, [holds("gov", "target", "60", UNSOURCED)])
    assert unsourced.status == "insufficient_data"  # type: ignore[attr-defined]


def test_person_of_unknown_political_role_is_a_possible_government_holder() -> None:
    person = Organization(id="official", name="A. Person", kind="person",
                          nationalities=("CN",), source=SOURCE)
    result = verdict([org("target"), person], [holds("official", "target", "30")])
    assert result.status == "insufficient_data"  # type: ignore[attr-defined]
    assert any(g.kind == "unknown_share" for g in result.gaps)  # type: ignore[attr-defined]
    known = person.model_copy(update={"senior_political_figure": False})
    assert verdict([org("target"), known],
                   [holds("official", "target", "30")]).status == "clear"  # type: ignore


def test_relationships_outside_their_dates_do_not_count() -> None:
    orgs = [org("target"), org("gov", "CN", "government")]
    ended = Relationship(owner_id="gov", owned_id="target", kind="ownership",
                         equity_pct=PercentRange(40, 40), valid_from="2020",
                         valid_to="2025-12", source=SOURCE)
    assert verdict(orgs, [ended]).status == "clear"  # type: ignore[attr-defined]
    graph = build_graph(Dataset(organizations=orgs, relationships=[ended]), "2025-06-30")
    assert screen(graph, "target", rule_set("feoc-doe-2024")).status == "feoc"


def test_a_date_before_the_rule_set_is_refused_not_cleared() -> None:
    orgs = [org("target"), org("gov", "CN", "government")]
    graph = build_graph(Dataset(organizations=orgs, relationships=[
        holds("gov", "target", "40")]), "2023-06-30")
    with pytest.raises(ValueError, match="takes effect on 2024-05-06"):
        screen(graph, "target", rule_set("feoc-doe-2024"))
