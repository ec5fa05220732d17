"""Importers for ownership formats: BODS 0.4, GLEIF Level 1 and 2, FollowTheMoney."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import INDIRECT_NOTE
from bmtc.domain.percent import PercentRange
from bmtc.domain.vocab import Confidence, GovernmentLevel, Office, OrgKind, RelationshipKind
from bmtc.domain.vocab import ScreeningList as Lists
from bmtc.io.bods import indirect_relationship_ids, read_bods
from bmtc.io.ftm import load_ftm, read_ftm, sanction_list
from bmtc.io.gleif import load_gleif_level2, read_gleif_level1, read_gleif_level2
from bmtc.io.ownership_files import (
    OWNERSHIP_FORMATS,
    detect_ownership_format,
    read_ownership_file,
)
from bmtc.io.problems import ImportFailed, Problem

DATA = Path(__file__).parent / "data" / "ownership"
BODS = DATA / "bods_sample.json"
GLEIF_L1, GLEIF_RR = DATA / "gleif_l1.csv", DATA / "gleif_rr.csv"
FTM = DATA / "ftm_sample.jsonl"
READERS: list[Callable[[Path], Dataset]] = [
    read_bods,
    read_ftm,
    read_gleif_level1,
    read_gleif_level2,
    read_ownership_file,
]
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sample_statements() -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(BODS.read_text())["statements"]
    return statements


def entity(
    rid: str, name: str = "Acme Lithium", kind: str = "registeredEntity", **details: Any
) -> dict[str, Any]:
    return {
        "statementId": f"stmt-{rid}",
        "statementDate": "2024-01-01",
        "recordId": rid,
        "recordType": "entity",
        "declarationSubject": rid,
        "recordDetails": {
            "isComponent": False,
            "entityType": {"type": kind},
            "name": name,
            **details,
        },
    }


def person(rid: str, **details: Any) -> dict[str, Any]:
    record = {
        "isComponent": False,
        "personType": "knownPerson",
        "names": [{"type": "individual", "fullName": "Ana Example"}],
        **details,
    }
    return {
        "statementId": f"stmt-{rid}",
        "statementDate": "2024-01-01",
        "recordId": rid,
        "recordType": "person",
        "declarationSubject": rid,
        "recordDetails": record,
    }


def relation(
    rid: str, subject: Any, party: Any, *interests: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "statementId": f"stmt-{rid}",
        "statementDate": "2024-01-01",
        "recordId": rid,
        "recordType": "relationship",
        "declarationSubject": subject,
        **extra,
        "recordDetails": {
            "isComponent": False,
            "subject": subject,
            "interestedParty": party,
            "interests": list(interests),
        },
    }


def shares(share: Any, kind: str = "shareholding", **more: Any) -> dict[str, Any]:
    return {"type": kind, "directOrIndirect": "direct", "share": share, **more}


def write(tmp: Path, content: Any, name: str = "owners.json") -> Path:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def problems_of(read: Callable[[Path], Any], path: Path) -> list[Problem]:
    with pytest.raises(ImportFailed) as failed:
        read(path)
    return failed.value.problems


def read_or_fail(read: Callable[[Path], Dataset], path: Path) -> None:
    """Read, or fail only as ImportFailed, with located problems naming the file."""
    try:
        read(path)
    except ImportFailed as failed:
        assert failed.problems
        assert all(p.file == path.name for p in failed.problems)


def located(
    read: Callable[[Path], Any], path: Path, row: int | None, column: str | None
) -> Problem:
    """The one problem reading `path` reports, checked to name file, row and field."""
    found = only_problem(read, path)
    assert (found.row, found.column) == (row, column)
    shown = str(found)
    assert shown.startswith(path.name)
    assert row is None or f"row {row}" in shown
    assert column is None or f"{column}: " in shown
    return found


def only_problem(read: Callable[[Path], Any], path: Path) -> Problem:
    found = problems_of(read, path)
    assert len(found) == 1, found
    assert found[0].file == path.name
    return found[0]


def by_id(dataset: Dataset) -> dict[str, Any]:
    return {o.id: o for o in dataset.organizations}


def relation_between(dataset: Dataset, owner: str, owned: str, kind: RelationshipKind) -> Any:
    (found,) = [
        r for r in dataset.relationships if (r.owner_id, r.owned_id, r.kind) == (owner, owned, kind)
    ]
    return found


# --- BODS mapping -------------------------------------------------------------------------


def test_bods_entities_map_onto_kinds_levels_and_countries() -> None:
    orgs = by_id(read_bods(BODS))
    assert orgs["rec-prc"].kind is OrgKind.GOVERNMENT
    assert orgs["rec-prc"].government_level is GovernmentLevel.NATIONAL
    assert orgs["rec-prc"].country_incorporation == "CN"
    assert orgs["rec-sasac"].kind is OrgKind.STATE_BODY
    assert orgs["rec-sasac"].aliases == ("SASAC",)
    zhejiang = orgs["rec-zj-sasac"]
    assert (zhejiang.kind, zhejiang.government_level, zhejiang.country_incorporation) == (
        OrgKind.STATE_BODY,
        GovernmentLevel.SUBNATIONAL,
        "CN",
    )
    soe = orgs["rec-eastern-minerals"]
    assert (soe.kind, soe.lei, soe.publicly_traded) == (
        OrgKind.COMPANY,
        "300300EXAMPLE0000042",
        False,
    )
    assert soe.notes == "BODS record rec-eastern-minerals"
    # The 2025 statement supersedes the 2022 one about the same record.
    northwind = orgs["rec-northwind"]
    assert northwind.name == "Northwind Cathode Materials Inc."
    assert (northwind.country_incorporation, northwind.country_hq) == ("US", "US")
    assert northwind.publicly_traded is True


def test_bods_people_carry_nationality_residence_pep_and_us_person() -> None:
    orgs = by_id(read_bods(BODS))
    li = orgs["rec-li-wei"]
    assert (li.kind, li.name, li.aliases) == (
        OrgKind.PERSON,
        "Li Wei",
        ("Li Wei (transliterated)",),
    )
    assert (li.nationalities, li.residence, li.senior_political_figure) == (("CN",), "CN", True)
    assert li.us_person is False
    jane = orgs["rec-jane-roe"]
    assert (jane.name, jane.residence, jane.us_person) == ("Jane Roe", "US", True)
    assert jane.senior_political_figure is False


@pytest.mark.parametrize(
    ("nationalities", "taxes", "expected"),
    [
        (["US"], [], True),
        (["CA"], ["US"], True),
        (["CA", "CN"], ["CA"], False),
        (["CA"], [], None),  # could be a lawful permanent resident
        ([], ["CA"], None),
        ([], [], None),
    ],
)
def test_bods_us_person_inference(
    tmp_path: Path, nationalities: list[str], taxes: list[str], expected: bool | None
) -> None:
    details = {
        "nationalities": [{"name": c, "code": c} for c in nationalities],
        "taxResidencies": [{"name": c, "code": c} for c in taxes],
    }
    (org,) = read_bods(write(tmp_path, [person("p1", **details)])).organizations
    assert org.us_person is expected


def test_bods_interests_map_onto_relationships() -> None:
    data = read_bods(BODS)
    own = relation_between(
        data, "rec-eastern-minerals", "rec-northwind", RelationshipKind.OWNERSHIP
    )
    assert own.equity_pct == PercentRange(25, 50, high_open=True)
    assert own.voting_pct == PercentRange(50, 100, low_open=True)
    assert (own.officer_rights, own.valid_from, own.valid_to) == (
        (Office.BOARD,),
        "2021-03-01",
        None,
    )
    licence = relation_between(
        data, "rec-eastern-minerals", "rec-northwind", RelationshipKind.LICENCE
    )
    assert licence.control_rights == ("cathode process licence", "approval of production volumes")
    assert licence.effective_control is False
    control = relation_between(data, "rec-prc", "rec-sasac", RelationshipKind.EFFECTIVE_CONTROL)
    assert control.effective_control is True
    debt = relation_between(data, "rec-zj-sasac", "rec-northwind", RelationshipKind.DEBT)
    assert debt.debt_share_pct == PercentRange(50, 75)
    assert debt.equity_pct is None
    chair = relation_between(data, "rec-li-wei", "rec-northwind", RelationshipKind.DIRECTORSHIP)
    assert (chair.board_seats_held, chair.officer_rights) == (1, (Office.CHAIR,))
    manager = relation_between(data, "rec-jane-roe", "rec-northwind", RelationshipKind.DIRECTORSHIP)
    assert manager.notes is not None and manager.notes.startswith("senior managing official")
    assert manager.board_seats_held is None


def test_bods_indirect_interests_are_marked_for_the_screening_engine() -> None:
    data = read_bods(BODS)
    indirect = relation_between(data, "rec-sasac", "rec-northwind", RelationshipKind.OWNERSHIP)
    assert indirect.notes is not None and indirect.notes.startswith(INDIRECT_NOTE)
    assert indirect_relationship_ids(data) == {indirect.id}


def test_bods_sources_and_confidence() -> None:
    data = read_bods(BODS)
    orgs = by_id(data)
    register = orgs["rec-prc"].source
    assert (register.url, register.confidence) == (
        "https://register.example.org/extract/2025-03",
        Confidence.PRIMARY,
    )
    assert register.as_of == "2025-02-14"
    declared = orgs["rec-northwind"].source
    assert (declared.publisher, declared.confidence) == (
        "Northwind Cathode Materials Inc.",
        Confidence.SECONDARY,
    )
    no_url = orgs["rec-jane-roe"].source
    assert no_url.url == "urn:bods:11111111-1111-4111-8111-000000000008"
    assert (no_url.publisher, no_url.confidence) == ("Annual report 2024", Confidence.SECONDARY)
    chair = relation_between(data, "rec-li-wei", "rec-northwind", RelationshipKind.DIRECTORSHIP)
    assert chair.source.url == "urn:bods:11111111-1111-4111-8111-000000000015"
    assert chair.source.confidence is Confidence.UNSOURCED


def test_bods_array_package_and_json_lines_read_alike(tmp_path: Path) -> None:
    statements = sample_statements()
    lines = "\n".join(json.dumps(s) for s in statements) + "\n"
    package = read_bods(BODS)
    assert read_bods(write(tmp_path, statements, "a.json")) == package
    assert read_bods(write(tmp_path, lines, "b.jsonl")) == package


def test_bods_gaps_stay_gaps(tmp_path: Path) -> None:
    statements = [
        entity("a"),
        entity("b", "Beta Graphite"),
        entity("state-cn", "China", "state", jurisdiction={"name": "Zhejiang", "code": "CN-ZJ"}),
        relation("r1", "a", "b", {"type": "unknownInterest", "directOrIndirect": "unknown"}),
        relation("r2", "a", {"reason": "interestedPartyHasNotProvidedInformation"}),
        relation(
            "r3",
            "b",
            "a",
            shares({"exact": 10}),
            shares({"exact": 20}, "shareholding", directOrIndirect="indirect"),
        ),
        relation(
            "r4",
            "b",
            "state-cn",
            shares({"exact": 5}, startDate="2020-01-01"),
            recordStatus="closed",
            statementDate="2023-06-30",
        ),
    ]
    data = read_bods(write(tmp_path, statements))
    gap = relation_between(data, "b", "a", RelationshipKind.OWNERSHIP)
    assert (gap.equity_pct, gap.voting_pct) == (None, None)
    assert "unspecified interested party (BODS record r2)" in (by_id(data)["a"].notes or "")
    mixed = relation_between(data, "a", "b", RelationshipKind.OWNERSHIP)
    assert mixed.equity_pct == PercentRange(10, 10)
    assert mixed.notes is not None and mixed.notes.startswith("also declared indirectly")
    closed = relation_between(data, "state-cn", "b", RelationshipKind.OWNERSHIP)
    assert (closed.valid_from, closed.valid_to) == ("2020-01-01", "2023-06-30")
    assert by_id(data)["state-cn"].government_level is GovernmentLevel.SUBNATIONAL


def test_bods_board_appointment_share_becomes_seats(tmp_path: Path) -> None:
    exact = shares({"exact": 25}, "appointmentOfBoard")
    ranged = shares({"minimum": 25, "maximum": 50}, "appointmentOfBoard")
    statements = [
        entity("a"),
        entity("b"),
        entity("c"),
        relation("r1", "b", "a", exact),
        relation("r2", "c", "a", ranged),
    ]
    data = read_bods(write(tmp_path, statements))
    quarter = relation_between(data, "a", "b", RelationshipKind.OWNERSHIP)
    assert (quarter.board_seats_held, quarter.board_seats_total) == (1, 4)
    assert quarter.officer_rights == (Office.BOARD,)
    ranged_rel = relation_between(data, "a", "c", RelationshipKind.OWNERSHIP)
    assert (ranged_rel.board_seats_held, ranged_rel.board_seats_total) == (None, None)
    assert "appoints 25-50% of the board" in (ranged_rel.notes or "")


def test_bods_list_identifiers_become_list_memberships(tmp_path: Path) -> None:
    listed = entity(
        "a",
        "Example Trading FZE",
        identifiers=[
            {"scheme": "US-OFAC-SDN", "id": "99999"},
            {"scheme": "XI-LEI", "id": "549300EXAMPLEFZE0011"},
        ],
    )
    data = read_bods(write(tmp_path, [listed]))
    ((entry,),) = [data.list_memberships]
    assert (entry.list_id, entry.org_id, entry.listed_from) == (Lists.OFAC_SDN, "a", None)
    assert entry.notes == "BODS identifier US-OFAC-SDN 99999"
    assert read_bods(BODS).list_memberships == []


# --- BODS problems, each located -----------------------------------------------------------


def test_bods_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    found = only_problem(read_bods, write(tmp_path, '[\n {"statementId": "x",}\n]'))
    assert (found.row, found.table) == (None, "bods")
    assert "line 2, column" in str(found)
    lines = json.dumps(entity("a")) + "\n" + '{"statementId": \n'
    assert "line 2:" in str(only_problem(read_bods, write(tmp_path, lines, "s.jsonl")))


def test_bods_missing_required_field(tmp_path: Path) -> None:
    broken = entity("b")
    del broken["recordId"]
    found = located(read_bods, write(tmp_path, [entity("a"), broken]), 2, "recordId")
    assert str(found).startswith("owners.json, table bods, row 2, recordId:")


def test_bods_dangling_reference(tmp_path: Path) -> None:
    path = write(tmp_path, [entity("a"), relation("r", "a", "ghost", shares({"exact": 5}))])
    found = located(read_bods, path, 2, "recordDetails.interestedParty")
    assert "'ghost'" in found.reason


def test_bods_self_ownership(tmp_path: Path) -> None:
    path = write(tmp_path, [entity("a"), relation("r", "a", "a")])
    found = located(read_bods, path, 2, "recordDetails.interestedParty")
    assert "self-ownership" in found.reason


@pytest.mark.parametrize(
    ("share", "field", "reason"),
    [
        ({"exact": -5}, "exact", "below 0"),
        ({"minimum": 20, "maximum": 140}, "maximum", "over 100"),
        ({"exact": "about half"}, "exact", "not a number"),
        ({"exclusiveMinimum": True}, "exclusiveMinimum", "not a number"),
    ],
)
def test_bods_bad_shares(tmp_path: Path, share: dict[str, Any], field: str, reason: str) -> None:
    path = write(tmp_path, [entity("a"), entity("b"), relation("r", "a", "b", shares(share))])
    found = located(read_bods, path, 3, f"recordDetails.interests[0].share.{field}")
    assert reason in found.reason


def test_bods_end_before_start(tmp_path: Path) -> None:
    interest = shares({"exact": 5}, startDate="2024-05-01", endDate="2023-01-01")
    path = write(tmp_path, [entity("a"), entity("b"), relation("r", "a", "b", interest)])
    found = located(read_bods, path, 3, "recordDetails.interests[0].endDate")
    assert "before startDate 2024-05-01" in found.reason


def test_bods_shareholdings_over_100_percent(tmp_path: Path) -> None:
    statements = [
        entity("a", "Alpha Nickel"),
        entity("b"),
        entity("c"),
        relation("r1", "a", "b", shares({"exact": 60})),
        relation("r2", "a", "c", shares({"exact": 60})),
    ]
    found = located(read_bods, write(tmp_path, statements), 1, None)
    assert "'Alpha Nickel'" in found.reason and "120%" in found.reason
    assert "statements 4, 5" in found.reason


def test_bods_holdings_over_100_percent_at_different_times_are_fine(tmp_path: Path) -> None:
    statements = [
        entity("a"),
        entity("b"),
        entity("c"),
        relation("r1", "a", "b", shares({"exact": 60}, endDate="2020-01-01")),
        relation("r2", "a", "c", shares({"exact": 60}, startDate="2020-01-01")),
    ]
    assert len(read_bods(write(tmp_path, statements)).relationships) == 2


def test_bods_collects_every_problem_and_returns_nothing(tmp_path: Path) -> None:
    statements = [
        entity("a"),
        entity("b", jurisdiction={"name": "Nowhere", "code": "QQ"}),
        relation("r1", "a", "ghost"),
        relation("r2", "a", "b", shares({"exact": -1})),
    ]
    found = problems_of(read_bods, write(tmp_path, statements))
    assert {(p.row, p.column) for p in found} == {
        (2, "recordDetails.jurisdiction.code"),
        (3, "recordDetails.interestedParty"),
        (4, "recordDetails.interests[0].share.exact"),
    }


# --- GLEIF --------------------------------------------------------------------------------


def test_gleif_level1_companies() -> None:
    orgs = by_id(read_gleif_level1(GLEIF_L1))
    assert "lei-549300annulledexmp11" not in orgs  # an annulled LEI names no entity
    parent = orgs["lei-300300example0000042"]
    assert (parent.name, parent.lei, parent.kind) == (
        "东方矿业集团有限公司",
        "300300EXAMPLE0000042",
        OrgKind.COMPANY,
    )
    assert parent.aliases == (
        "Eastern Minerals Group Co., Ltd.",
        "Dongfang Kuangye Jituan Youxian Gongsi",
    )
    assert (parent.source.publisher, parent.source.confidence) == ("GLEIF", Confidence.PRIMARY)
    assert parent.source.url == "https://search.gleif.org/#/record/300300EXAMPLE0000042"
    child = orgs["lei-549300northwindcat07"]
    assert (child.country_incorporation, child.country_hq) == ("US", "US")
    assert orgs["lei-549300nwquebeculc042"].notes == "GLEIF registration status LAPSED"
    assert orgs["lei-300300examplesasac01"].kind is OrgKind.STATE_BODY
    only = read_gleif_level1(GLEIF_L1, leis={"549300NORTHWINDCAT07"})
    assert [o.id for o in only.organizations] == ["lei-549300northwindcat07"]


def test_gleif_level2_consolidation_edges() -> None:
    level1 = read_gleif_level1(GLEIF_L1)
    result = load_gleif_level2(GLEIF_RR, level1)
    assert result.skipped == {
        "IS_ULTIMATELY_CONSOLIDATED_BY": 2,
        "inactive or unpublished": 2,
        "IS_FUND-MANAGED_BY": 1,
    }
    data = result.dataset
    orgs = by_id(data)
    assert orgs["lei-549300northwindcat07"].name == "Northwind Cathode Materials Inc."
    assert orgs["lei-300300examplehold009"].name == "300300EXAMPLEHOLD009"  # a stub
    presumed = relation_between(
        data, "lei-300300example0000042", "lei-549300northwindcat07", RelationshipKind.OWNERSHIP
    )
    assert presumed.equity_pct == PercentRange(50, 100, low_open=True)
    assert presumed.source.confidence is Confidence.SECONDARY
    assert presumed.valid_from == "2021-03-01"
    reported = relation_between(
        data, "lei-549300northwindcat07", "lei-549300nwquebeculc042", RelationshipKind.OWNERSHIP
    )
    assert reported.equity_pct == PercentRange(60, 60)
    assert reported.valid_from == "2021-04-12"  # the relationship period, not the accounts'
    assert len(data.relationships) == 3
    assert read_gleif_level2(GLEIF_RR).relationships == data.relationships


def test_gleif_problems_are_located(tmp_path: Path) -> None:
    header = GLEIF_RR.read_text().splitlines()[0]
    rows = GLEIF_RR.read_text().splitlines()[1:3]
    bad_lei = rows[0].replace("549300NORTHWINDCAT07", "NOT-AN-LEI", 1)
    bad_amount = rows[1].replace('"60"', '"sixty"')
    path = write(tmp_path, "\n".join([header, bad_lei, bad_amount]), "rr.csv")
    found = problems_of(read_gleif_level2, path)
    assert {(p.row, p.column, p.table) for p in found} == {
        (2, "Relationship.StartNode.NodeID", "gleif-rr"),
        (3, "Relationship.Quantifiers.1.QuantifierAmount", "gleif-rr"),
    }
    missing = only_problem(read_gleif_level1, write(tmp_path, "LEI,Name\nX,Y\n", "l1.csv"))
    assert "Entity.LegalName" in missing.reason


# --- FollowTheMoney -----------------------------------------------------------------------


def test_ftm_entities_links_and_sanctions() -> None:
    result = load_ftm(FTM)
    data = result.dataset
    orgs = by_id(data)
    assert orgs["ex-eastern-minerals"].kind is OrgKind.STATE_OWNED_ENTERPRISE
    assert orgs["ex-eastern-minerals"].lei == "300300EXAMPLE0000042"
    sasac = orgs["ex-sasac"]
    assert (sasac.kind, sasac.government_level) == (OrgKind.STATE_BODY, GovernmentLevel.NATIONAL)
    li = orgs["ex-li-wei"]
    assert (li.nationalities, li.senior_political_figure, li.us_person) == (("CN",), True, None)
    assert "unrecognised country codes: suhh" in (li.notes or "")
    assert orgs["ex-jane-roe"].us_person is True
    assert orgs["ex-sasac"].source.confidence is Confidence.UNSOURCED
    assert orgs["ex-sasac"].source.url == "urn:ftm:ex-sasac"
    equity = [r for r in data.relationships if r.equity_pct == PercentRange(35.5, 35.5)]
    assert [(r.owner_id, r.owned_id) for r in equity] == [("ex-eastern-minerals", "ex-northwind")]
    (voting,) = [r for r in data.relationships if r.voting_pct is not None]
    assert voting.voting_pct == PercentRange(50, 100, low_open=True)
    chair = relation_between(data, "ex-li-wei", "ex-northwind", RelationshipKind.DIRECTORSHIP)
    assert (chair.board_seats_held, chair.officer_rights) == (1, (Office.CHAIR,))
    listed = {(m.list_id, m.org_id, m.listed_from) for m in data.list_memberships}
    assert listed == {
        (Lists.OFAC_SDN, "ex-eastern-minerals", "2024-05-01"),
        (Lists.DOD_1260H, "ex-eastern-minerals", "2025-01-07"),
    }
    assert result.unmapped_sanctions == [
        "ex-sanction-3: Example Union Council / Example restrictive measures"
    ]
    assert "sanction not on a bmtc list" in (li.notes or "")
    assert result.skipped == {"Address": 1}


@pytest.mark.parametrize(
    ("authority", "program", "expected"),
    [
        ("Office of Foreign Assets Control", "SDGT", Lists.OFAC_SDN),
        ("OFAC", "Non-SDN Chinese Military-Industrial Complex Companies List (NS-CMIC)", None),
        ("OFAC", "Sectoral Sanctions Identifications (SSI)", None),
        ("U.S. Department of Defense", "Section 1260H Chinese military companies", Lists.DOD_1260H),
        ("DHS Forced Labor Enforcement Task Force", "UFLPA Entity List", Lists.UFLPA),
        ("U.S. Department of State", "Foreign Terrorist Organization", Lists.FTO),
        ("European Union", "Restrictive measures in view of the situation in Ukraine", None),
    ],
)
def test_sanction_list_mapping(authority: str, program: str, expected: Lists | None) -> None:
    assert sanction_list(authority, program) is expected


def test_ftm_problems_are_located(tmp_path: Path) -> None:
    lines = [
        {"id": "co", "schema": "Company", "properties": {"name": ["Acme"]}},
        {"id": "own", "schema": "Ownership", "properties": {"owner": ["nobody"], "asset": ["co"]}},
        {
            "id": "own2",
            "schema": "Ownership",
            "properties": {"owner": ["co"], "asset": ["co"], "percentage": ["12"]},
        },
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"id": "x", \n'
    found = problems_of(read_ftm, write(tmp_path, text, "e.jsonl"))
    assert [(p.row, p.table) for p in found] == [(4, "ftm")]  # malformed JSON comes first
    found = problems_of(read_ftm, write(tmp_path, text.rsplit("\n", 2)[0], "e.jsonl"))
    assert {(p.row, p.column) for p in found} == {(2, "properties.owner"), (3, "properties")}
    percent = {
        "id": "own",
        "schema": "Ownership",
        "properties": {"owner": ["co"], "asset": ["co2"], "percentage": ["lots"]},
    }
    second = {"id": "co2", "schema": "Company", "properties": {"name": ["Beta"]}}
    text = "\n".join(json.dumps(line) for line in [lines[0], second, percent])
    located(read_ftm, write(tmp_path, text, "p.jsonl"), 3, "properties.percentage")


def test_ftm_links_to_assets_are_counted_not_failed(tmp_path: Path) -> None:
    lines = [
        {"id": "co", "schema": "Company", "properties": {"name": ["Acme"]}},
        {"id": "ship", "schema": "Vessel", "properties": {"name": ["MV Example"]}},
        {"id": "o1", "schema": "Ownership", "properties": {"owner": ["co"], "asset": ["ship"]}},
        {
            "id": "s1",
            "schema": "Sanction",
            "properties": {"entity": ["ship"], "authority": ["OFAC"]},
        },
    ]
    result = load_ftm(write(tmp_path, "\n".join(json.dumps(line) for line in lines), "v.jsonl"))
    assert result.skipped == {
        "Vessel": 1,
        "Ownership of a non-party": 1,
        "Sanction of a non-party": 1,
    }
    assert (result.dataset.relationships, result.dataset.list_memberships) == ([], [])


# --- Format detection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        (BODS, "bods"),
        (GLEIF_L1, "gleif-l1"),
        (GLEIF_RR, "gleif-rr"),
        (FTM, "ftm"),
    ],
)
def test_detect_and_read_any_format(path: Path, fmt: str) -> None:
    assert fmt in OWNERSHIP_FORMATS
    assert detect_ownership_format(path) == fmt
    assert read_ownership_file(path) == read_ownership_file(path, fmt)


def test_unknown_formats_fail_cleanly(tmp_path: Path) -> None:
    plain = write(tmp_path, "name,country\nAcme,US\n", "plain.csv")
    assert detect_ownership_format(plain) is None
    assert "not a BODS" in only_problem(read_ownership_file, plain).reason
    assert (
        "not an ownership format"
        in only_problem(lambda p: read_ownership_file(p, "xml"), plain).reason
    )
    assert detect_ownership_format(tmp_path / "missing.json") is None


# --- Properties ---------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    inner: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        inner = [p for k, v in value.items() for p in json_paths(v, (*prefix, k))]
    elif isinstance(value, list):
        inner = [p for i, v in enumerate(value) for p in json_paths(v, (*prefix, i))]
    return [prefix, *inner]


@st.composite
def mutated_statements(draw: st.DrawFn) -> list[Any]:
    """The fixture's statements with a few values, at any depth, replaced or removed."""
    statements: list[Any] = sample_statements()
    for _ in range(draw(st.integers(1, 4))):
        *parents, last = draw(st.sampled_from(json_paths(statements)[1:]))
        target = statements
        for key in parents:
            target = target[key]
        if isinstance(target, dict) and draw(st.integers(0, 5)) == 0:
            del target[last]
        else:
            target[last] = draw(
                json_values
                | st.sampled_from(
                    [
                        "CN",
                        "US-DE",
                        "2024-02-30",
                        "isPep",
                        "indirect",
                        "debt",
                        "closed",
                        "state",
                        "rec-sasac",
                        {"exact": 50},
                        {"minimum": 60, "maximum": 40},
                        "\x01",
                    ]
                )
            )
    return statements


@FAST
@given(content=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_input_only_ever_fails_as_import_failed(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = write(tmp_path_factory.mktemp("fuzz"), content, "input.json")
    for read in READERS:
        read_or_fail(read, path)


@FAST
@given(statements=mutated_statements())
def test_mutated_bods_only_ever_fails_as_import_failed(
    tmp_path_factory: pytest.TempPathFactory, statements: list[Any]
) -> None:
    read_or_fail(read_bods, write(tmp_path_factory.mktemp("mutant"), statements))


@FAST
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.sampled_from(["a", "b", "c"]) | st.text(max_size=4),
                "schema": st.sampled_from(
                    [
                        "Company",
                        "Person",
                        "Ownership",
                        "Directorship",
                        "Sanction",
                        "PublicBody",
                        "LegalEntity",
                    ]
                ),
                "properties": st.dictionaries(
                    st.sampled_from(
                        [
                            "name",
                            "owner",
                            "asset",
                            "percentage",
                            "startDate",
                            "entity",
                            "authority",
                            "topics",
                            "nationality",
                            "jurisdiction",
                            "sourceUrl",
                        ]
                    ),
                    st.lists(
                        st.sampled_from(
                            [
                                "a",
                                "b",
                                "c",
                                "cn",
                                "us",
                                "50",
                                ">25",
                                "2020",
                                "OFAC",
                                "gov.soe",
                                "https://example.org/x",
                                "zz",
                            ]
                        )
                        | json_values,
                        max_size=3,
                    ),
                ),
            }
        ),
        max_size=6,
    )
)
def test_arbitrary_ftm_only_ever_fails_as_import_failed(
    tmp_path_factory: pytest.TempPathFactory, lines: list[Any]
) -> None:
    text = "\n".join(json.dumps(line) for line in lines) or "\n"
    read_or_fail(read_ftm, write(tmp_path_factory.mktemp("ftm"), text, "e.jsonl"))


_bounds = st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3))


@FAST
@given(
    exact=st.none() | _bounds,
    low=st.none() | _bounds,
    high=st.none() | _bounds,
    low_open=st.booleans(),
    high_open=st.booleans(),
)
def test_shares_round_trip_into_percent_ranges(
    tmp_path_factory: pytest.TempPathFactory,
    exact: float | None,
    low: float | None,
    high: float | None,
    low_open: bool,
    high_open: bool,
) -> None:
    share: dict[str, float] = {}
    if exact is not None:
        share["exact"] = exact
    if low is not None:
        share["exclusiveMinimum" if low_open else "minimum"] = low
    if high is not None:
        share["exclusiveMaximum" if high_open else "maximum"] = high
    statements = [entity("a"), entity("b"), relation("r", "a", "b", shares(share))]
    path = write(tmp_path_factory.mktemp("share"), statements)
    lo, hi = low if low is not None else 0.0, high if high is not None else 100.0
    if exact is None and (
        lo > hi
        or (lo == hi and ((low_open and low is not None) or (high_open and high is not None)))
    ):
        with pytest.raises(ImportFailed):
            read_bods(path)
        return
    (rel,) = read_bods(path).relationships
    if exact is not None:
        assert rel.equity_pct == PercentRange(exact, exact)
    elif not share:
        assert rel.equity_pct is None
    else:
        assert rel.equity_pct == PercentRange(
            lo, hi, low_open and low is not None, high_open and high is not None
        )


@FAST
@given(order=st.permutations(range(len(sample_statements()))))
def test_statement_order_does_not_change_the_dataset(
    tmp_path_factory: pytest.TempPathFactory, order: list[int]
) -> None:
    statements = sample_statements()
    shuffled = read_bods(write(tmp_path_factory.mktemp("perm"), [statements[i] for i in order]))
    expected = read_bods(BODS)
    assert [o.id for o in shuffled.organizations] == [o.id for o in expected.organizations]
    assert sorted(r.id for r in shuffled.relationships) == sorted(
        r.id for r in expected.relationships
    )
    assert shuffled == expected
