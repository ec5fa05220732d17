"""Defense procurement rules (FY2024 NDAA s. 154 and s. 805, 10 U.S.C. 4865) on worked bills,
with supplier facts taken from the bundled atlas."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc.compliance.bom import Bom, Component, Product
from bmtc.compliance.defense import (
    DefenseInputs,
    DefenseResult,
    ProgramType,
    SupplierFacts,
    assess_defense,
    load_defense,
)
from bmtc.compliance_service import supplier_facts
from bmtc.domain.dataset import Dataset
from bmtc.screening_service import bundled_dataset

Line = tuple[str, str | None, float, bool]  # description, supplier, direct cost, functional


@cache
def atlas() -> Dataset:
    return bundled_dataset()


@cache
def facts(bom: Bom, day: date, contractor: str | None = None) -> dict[str, SupplierFacts]:
    return supplier_facts(atlas(), bom, day, contractor)


def bill(*lines: Line, producer: str | None = "SK On") -> Bom:
    return Bom(product=Product(id="pack-1", name="Defense pack", type="battery_module",
                               producer=producer),
               components=tuple(Component(line=str(n), description=d, supplier=s,
                                          direct_cost=c, functional_cell_component=f)
                                for n, (d, s, c, f) in enumerate(lines, start=1)))


def assess(bom: Bom, day: date, facts_day: date | None = None, **inputs: Any) -> DefenseResult:
    known = facts(bom, facts_day or day, inputs.get("contractor"))
    return assess_defense(bom, day, known, DefenseInputs(**inputs))


# Packs using CATL cells; CATL also supplies the modules, so it provides most components
# by cost (75%) and by count (3 of 4 lines).
CATL_PACK = bill(("cells", "CATL", 6000, False), ("module hardware", "CATL", 1000, False),
                 ("thermal plates", "CATL", 500, False), ("pack enclosure", "SK On", 2500, False))
# CATL provides 40% of the cost but 3 of 5 lines.
SPLIT_PACK = bill(("cells", "LG Energy Solution", 5000, False), ("busbars", "CATL", 1500, False),
                  ("harness", "CATL", 1500, False), ("sensors", "CATL", 1000, False),
                  ("enclosure", "SK On", 1000, False))


def cell(feoc_cost: float, clear_cost: float, *, feoc: str = "CATL",
         clear: str = "POSCO Future M", producer: str = "LG Energy Solution") -> Bom:
    return bill(("cathode active material", clear, clear_cost, True),
                ("anode active material", feoc, feoc_cost, True),
                ("can and tabs", "Umicore", 300, False), producer=producer)


# A cell with 30% of its functional-cell-component cost from CATL: fails the 95% exception.
FEOC_CELL = cell(30, 70)
STARTS: dict[ProgramType, date] = {"new": date(2028, 1, 1), "standard": date(2029, 1, 1),
                                   "existing": date(2031, 1, 30)}


def test_defense_file_loads_with_citations() -> None:
    data = load_defense()
    ids = {r.id for r in data.row}
    assert {"DOD-1", "DOD-2", "DOD-3", "DOD-4-NEW", "DOD-4-STANDARD", "DOD-4-EXISTING",
            "DOD-4-ALT", "DOD-4-EXC", "DOD-8-DIRECT", "DOD-8-INDIRECT"} <= ids
    assert all(r.citation and r.confidence for r in data.row)
    assert {data.get(f"DOD-4-{t.upper()}").effective_from for t in STARTS} == set(
        STARTS.values())
    assert all(data.get(f"DOD-4-{t.upper()}").confidence.value == "uncertain" for t in STARTS)
    assert data.get("DOD-4-ALT").effective_from == date(2027, 1, 1)


def test_154_entities_match_the_atlas_list() -> None:
    path = resources.files("bmtc") / "data" / "atlas" / "list_memberships.csv"
    with path.open(encoding="utf-8") as handle:
        listed = {r["org_id"] for r in csv.DictReader(handle)
                  if r["list_id"] == "ndaa-fy2024-154b"}
    assert set(load_defense().get("DOD-1").entities) == listed


def test_e1_catl_cells_before_154_starts_are_not_barred() -> None:
    result = assess(CATL_PACK, date(2027, 9, 15)).rules["DOD-1/2"]
    assert not result.in_effect
    assert result.outcome == "not_in_effect"
    assert "DOD-1" in {r.id for r in result.rows}
    assert "2027-10-01" in result.reasons[0]
    assert "were it in effect: barred" in result.reasons[0]


def test_e2_catl_majority_after_154_starts_is_barred_unless_waived() -> None:
    result = assess(CATL_PACK, date(2027, 10, 2)).rules["DOD-1/2"]
    assert result.in_effect
    assert result.outcome == "barred"
    assert result.readings == {"cost": "barred", "count": "barred"}
    assert any("catl" in r and "75.0%" in r for r in result.reasons)
    assert any("barred unless waived" in r for r in result.reasons)
    assert {"DOD-1", "DOD-2", "DOD-2-COST", "DOD-3"} <= {r.id for r in result.rows}
    assert [e.id for e in result.evidence] == ["ndaa-fy2024-154b/catl/2023-12-22"]

    waived = assess(CATL_PACK, date(2027, 10, 2), waiver=True).rules["DOD-1/2"]
    assert waived.outcome == "waived"
    assert waived.readings == {"cost": "waived", "count": "waived"}


def test_cost_and_count_readings_disagree_and_both_are_reported() -> None:
    result = assess(SPLIT_PACK, date(2027, 10, 2)).rules["DOD-1/2"]
    assert result.readings == {"cost": "allowed", "count": "barred"}
    assert result.outcome == "allowed"  # the adopted (cost) reading decides
    assert any("40.0%" in r for r in result.reasons)
    assert any("60.0%" in r for r in result.reasons)
    assert any("readings disagree" in r for r in result.reasons)


def test_listed_final_assembler_is_barred_whatever_the_shares() -> None:
    pack = bill(("cells", "Samsung SDI", 9000, False), ("enclosure", "SK On", 1000, False),
                producer="BYD")
    assert assess(pack, date(2027, 10, 2)).rules["DOD-1/2"].outcome == "barred"


def test_unknown_supplier_can_make_154_insufficient_but_never_allowed() -> None:
    pack = bill(("cells", "Acme Cell Works", 6000, False), ("enclosure", "SK On", 4000, False))
    assert assess(pack, date(2027, 10, 2)).rules["DOD-1/2"].outcome == "insufficient_data"


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(2026, 1, 1), max_value=date(2032, 12, 31)),
       program=st.sampled_from(list(STARTS)))
def test_4865_applies_from_each_programs_start_date(day: date, program: ProgramType) -> None:
    result = assess(FEOC_CELL, day, facts_day=date(2028, 6, 1),
                    program_type=program, feoc_licensed_technology=False).rules["DOD-4"]
    assert result.in_effect == (day >= STARTS[program])
    assert result.outcome == ("barred" if day >= STARTS[program] else "not_in_effect")
    assert result.readings["alternative_start"] == (
        "barred" if day >= date(2027, 1, 1) else "not_in_effect")


@pytest.mark.parametrize("program", list(STARTS))
def test_4865_changes_exactly_on_its_start_date(program: ProgramType) -> None:
    start = STARTS[program]
    before, on = (assess(FEOC_CELL, d, facts_day=date(2028, 6, 1), program_type=program,
                         feoc_licensed_technology=False).rules["DOD-4"]
                  for d in (start - timedelta(days=1), start))
    assert (before.outcome, on.outcome) == ("not_in_effect", "barred")
    assert any("conflicting start date 2027-01-01" in r for r in before.reasons)
    assert f"DOD-4-{program.upper()}" in {r.id for r in on.rows}


@pytest.mark.parametrize(("feoc_cost", "clear_cost", "outcome"), [
    (5.1, 94.9, "barred"), (5.0, 95.0, "barred"), (4.9, 95.1, "allowed"),
])
def test_4865_exception_needs_more_than_95_percent(feoc_cost: float, clear_cost: float,
                                                   outcome: str) -> None:
    result = assess(cell(feoc_cost, clear_cost), date(2028, 6, 1),
                    feoc_licensed_technology=False).rules["DOD-4"]
    assert result.outcome == outcome
    assert "DOD-4-EXC" in {r.id for r in result.rows}


def test_4865_unknown_functional_cell_supplier_is_insufficient_data() -> None:
    unresolved = assess(cell(10, 90, feoc="Acme Anode Works"), date(2028, 6, 1),
                        feoc_licensed_technology=False).rules["DOD-4"]
    assert unresolved.outcome == "insufficient_data"
    assert any("not found in the atlas" in r for r in unresolved.reasons)
    # Ford's own FEOC screening is insufficient_data: unknown, not clear.
    unscreened = assess(cell(1, 99, feoc="Ford"), date(2028, 6, 1),
                        feoc_licensed_technology=False).rules["DOD-4"]
    assert unscreened.outcome == "insufficient_data"
    assert any("would still hold" in r for r in unscreened.reasons)


def test_4865_assembler_and_licensed_technology() -> None:
    day = date(2028, 6, 1)
    clean = cell(0.5, 99.5, feoc="Albemarle")
    assert assess(clean, day, feoc_licensed_technology=False).rules["DOD-4"].outcome == "allowed"
    assert assess(clean, day).rules["DOD-4"].outcome == "insufficient_data"
    assert assess(clean, day, feoc_licensed_technology=True).rules["DOD-4"].outcome == "barred"
    by_feoc = cell(0.5, 99.5, feoc="Albemarle", producer="Gotion High-tech")
    assert assess(by_feoc, day, feoc_licensed_technology=False).rules["DOD-4"].outcome == "barred"


def test_4865_excluded_category() -> None:
    result = assess(FEOC_CELL, date(2028, 6, 1), exempt_category="rdte").rules["DOD-4"]
    assert result.outcome == "allowed"
    assert "DOD-4-EXCL" in {r.id for r in result.rows}
    with pytest.raises(ValueError, match="exempt_category"):
        assess(FEOC_CELL, date(2028, 6, 1), exempt_category="drones")


CLEAN_PACK = bill(("cells", "Samsung SDI", 8000, False), ("enclosure", "SK On", 2000, False))


@pytest.mark.parametrize(("kind", "day", "outcome"), [
    ("direct", date(2026, 6, 29), "not_in_effect"),
    ("direct", date(2026, 6, 30), "barred"),
    ("indirect", date(2026, 6, 30), "not_in_effect"),
    ("indirect", date(2027, 6, 29), "not_in_effect"),
    ("indirect", date(2027, 6, 30), "barred"),
])
def test_805_direct_and_indirect_dates_with_a_1260h_contractor(kind: str, day: date,
                                                               outcome: str) -> None:
    result = assess(CLEAN_PACK, day, contract_kind=kind, contractor="CATL").rules["DOD-8"]
    assert result.outcome == outcome
    assert result.in_effect == (outcome != "not_in_effect")
    if outcome == "barred":
        assert [e.id for e in result.evidence] == ["dod-1260h/catl/2025-01-07"]
        assert f"DOD-8-{kind.upper()}" in {r.id for r in result.rows}


def test_805_reaches_suppliers_indirectly_and_clears_unlisted_contractors() -> None:
    pack = bill(("cells", "CATL", 8000, False), ("enclosure", "SK On", 2000, False))
    assert assess(pack, date(2026, 7, 1)).rules["DOD-8"].outcome == "allowed"
    assert assess(pack, date(2027, 6, 30)).rules["DOD-8"].outcome == "barred"


def test_supplier_facts_date_the_1260h_listing() -> None:
    pack = bill(("cells", "BYD", 1, False))
    before = facts(pack, date(2026, 6, 7))["BYD"]
    after = facts(pack, date(2026, 6, 8))["BYD"]
    assert (before.org_id, before.listed_1260h, after.listed_1260h) == ("byd", False, True)
    assert before.listed_154 and before.feoc_status == "feoc"
    assert facts(bill(("x", "Acme Cell Works", 1, False)), date(2026, 6, 8))[
        "Acme Cell Works"] == SupplierFacts(None, None, None, None, basis="not found in the atlas")


def test_every_result_names_its_rows() -> None:
    result = assess(CATL_PACK, date(2029, 2, 1), program_type="standard")
    assert set(result.rules) == {"DOD-1/2", "DOD-4", "DOD-8"}
    for rule in result.rules.values():
        assert rule.rows and all(r.citation and r.confidence for r in rule.rows)
    assert result.notes and "not verified" in result.notes[0]
