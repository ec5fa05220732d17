"""The historic §30D content tests: applicable percentages by date, the two $3,750 halves,
FEOC exclusions, the acquisition cut-off, origin shares and the 50% value-added test."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bmtc.compliance.bom import Bom, Component, Product
from bmtc.compliance.content import (
    ORIGIN_GROUPS,
    Content30dFile,
    Half,
    applicable,
    historic_30d,
    load_content_30d,
    origin_group,
    origin_shares,
    value_added_test,
)
from bmtc.compliance_service import supplier_feoc
from bmtc.domain.dataset import Dataset
from bmtc.screening_service import bundled_dataset, screen_everyone

MINERALS = {2023: 40, 2024: 50, 2025: 60, 2026: 70}
COMPONENTS = {2023: 50, 2024: 60, 2025: 60, 2026: 70, 2027: 80, 2028: 90}
FIRST_DAY = date(2023, 4, 18)
CLEAR = {"Miner": "clear", "Refiner": "clear", "Cells": "clear", "Cathodes": "clear"}


def line(name: str, stage: str | None, cost: float, origin: str | None = "US",
         supplier: str | None = None, **extra: Any) -> Component:
    return Component(line=name, description=name, stage=stage, direct_cost=cost,
                     country_of_origin=origin, supplier=supplier, **extra)


def bill(*components: Component, assembly: str | None = "US") -> Bom:
    return Bom(product=Product(id="ev", name="EV pack", type="battery_module",
                               country_of_final_assembly=assembly),
               components=components)


def all_us(**cell: Any) -> Bom:
    options = {"origin": "US", "supplier": "Cells"} | cell
    return bill(line("lithium", "mining", 100, supplier="Miner"),
                line("nickel", "refining", 100, supplier="Refiner"),
                line("cathode", "cathode", 300, supplier="Cathodes"),
                line("cells", "cell", 500, options["origin"], options["supplier"]))


@given(st.dates(min_value=FIRST_DAY, max_value=date(2040, 12, 30)))
def test_applicable_percentages_change_exactly_on_year_boundaries(day: date) -> None:
    after = day + timedelta(days=1)
    schedules: tuple[tuple[Half, dict[int, int], int], ...] = (
        ("critical_minerals", MINERALS, 80), ("battery_components", COMPONENTS, 100))
    for half, table, last in schedules:
        row = applicable(half, day)
        assert row.applicable_pct == table.get(day.year, last)
        if after.year == day.year:
            assert applicable(half, after).applicable_pct == row.applicable_pct
        assert row.id.startswith("30D-2" if half == "critical_minerals" else "30D-3")


def test_no_percentage_before_the_requirements_applied() -> None:
    with pytest.raises(ValueError, match="2023-04-18"):
        applicable("critical_minerals", FIRST_DAY - timedelta(days=1))


def test_rows_keep_their_ids_and_reject_a_duplicate() -> None:
    data = load_content_30d()
    ids = {r.id for r in data.rows()}
    assert {"30D-1", "30D-4", "30D-5", "30D-6", "30D-F-1", "30D-F-2", "30D-7"} <= ids
    assert all(r.citation for r in data.rows())
    doubled = data.model_dump()
    doubled["cutoff"] = [*doubled["cutoff"], {**doubled["cutoff"][0], "series": "other"}]
    with pytest.raises(ValueError, match="share an id"):
        Content30dFile.model_validate(doubled)


def test_all_us_bill_earns_7500_without_feoc() -> None:
    result = historic_30d(all_us(), date(2024, 6, 1), None, CLEAR)
    assert result.credit == result.credit_if_resolved == 7500
    assert result.critical_minerals.verdict == result.battery_components.verdict == "meets"
    assert result.critical_minerals.applicable.id == "30D-2-2024"
    assert result.battery_components.applicable.id == "30D-3-2024-2025"
    used = {r.id for r in result.rows}
    assert {"30D-1", "30D-4", "30D-5", "30D-6", "30D-F-1", "30D-F-2", "30D-7"} <= used
    assert any(n.startswith("30D-5 is uncertain") for n in result.notes)


def test_feoc_cell_supplier_removes_the_whole_credit_only_from_2024() -> None:
    statuses = CLEAR | {"Cells": "feoc"}
    after = historic_30d(all_us(), date(2024, 6, 1), None, statuses)
    assert after.credit == after.credit_if_resolved == 0
    assert after.critical_minerals.verdict == after.battery_components.verdict == "fails"
    feoc = next(c for c in after.checks if c.name == "feoc_battery_components")
    assert feoc.verdict == "fails" and feoc.rows == ("30D-F-1",) and "cells" in feoc.reason
    before = historic_30d(all_us(), date(2023, 12, 15), None, statuses)
    assert before.credit == 7500


def test_feoc_mineral_supplier_matters_only_after_2024() -> None:
    statuses = CLEAR | {"Refiner": "feoc"}
    assert historic_30d(all_us(), date(2024, 12, 31), None, statuses).credit == 7500
    late = historic_30d(all_us(), date(2025, 1, 1), None, statuses)
    assert late.credit == 0
    assert {c.name: c.verdict for c in late.checks}["feoc_critical_minerals"] == "fails"


def test_unknown_feoc_status_leaves_the_credit_undecided() -> None:
    statuses = {k: v for k, v in CLEAR.items() if k != "Cells"}
    result = historic_30d(all_us(), date(2024, 6, 1), None, statuses)
    assert result.battery_components.verdict == "insufficient_data"
    assert result.credit == 0 and result.credit_if_resolved == 7500
    assert historic_30d(all_us(), date(2023, 6, 1), None, statuses).credit == 7500


def test_acquisition_cut_off() -> None:
    assert historic_30d(all_us(), date(2025, 10, 1), date(2025, 10, 1), CLEAR).credit == 0
    kept = historic_30d(all_us(), date(2025, 10, 15), date(2025, 9, 30), CLEAR)
    assert kept.credit == 7500
    unknown = historic_30d(all_us(), date(2025, 10, 15), None, CLEAR)
    assert unknown.credit == 0 and unknown.credit_if_resolved == 7500
    assert unknown.battery_components.verdict == "insufficient_data"


def test_final_assembly_outside_north_america_fails() -> None:
    outside = historic_30d(bill(*all_us().components, assembly="DE"), date(2024, 6, 1), None,
                           CLEAR)
    assert outside.credit == 0 and outside.critical_minerals.verdict == "fails"
    unnamed = historic_30d(bill(*all_us().components, assembly=None), date(2024, 6, 1), None,
                           CLEAR)
    assert unnamed.critical_minerals.verdict == "insufficient_data"


def test_line_without_origin_is_unknown_and_matters_only_when_it_could_flip() -> None:
    assert origin_group(None) == "unknown"
    big = historic_30d(all_us(origin=None), date(2024, 6, 1), None, CLEAR)
    assert big.battery_components.verdict == "insufficient_data"
    assert big.battery_components.unknown_cost == 500
    assert big.critical_minerals.verdict == "meets" and big.credit == 3750
    small = bill(*all_us().components, line("tab", "module_pack", 10, None, "Cells"))
    assert historic_30d(small, date(2024, 6, 1), None, CLEAR).credit == 7500


def test_components_from_outside_north_america_fail_their_half() -> None:
    result = historic_30d(all_us(origin="KR"), date(2024, 6, 1), None, CLEAR)
    assert result.battery_components.verdict == "fails"
    # The cathode powder is a constituent material, in neither share; only the cells count.
    assert result.battery_components.share == pytest.approx(0.0)
    assert result.battery_components.total_cost == 500
    assert result.critical_minerals.verdict == "meets" and result.credit == 3750


def test_origin_groups_take_the_first_match() -> None:
    cases = {"US": "us", "CA": "usmca", "MX": "usmca", "KR": "fta", "JP": "fta",
             "DE": "named_allies", "CN": "covered_nations", "ID": "other"}
    assert {c: origin_group(c) for c in cases} == cases


@given(st.lists(st.tuples(st.floats(0.01, 1e6), st.sampled_from(
    [None, "US", "CA", "MX", "KR", "JP", "DE", "CN", "RU", "ID", "CL"])), min_size=1,
    max_size=12))
def test_origin_shares_sum_to_one(rows: list[tuple[float, str | None]]) -> None:
    bom = bill(*(line(f"l{i}", "cell", cost, origin) for i, (cost, origin) in enumerate(rows)))
    shares = origin_shares(bom)
    assert [s.group for s in shares] == list(ORIGIN_GROUPS)
    assert sum(s.share for s in shares) == pytest.approx(1)
    assert sorted(n for s in shares for n in s.lines) == sorted(c.line for c in bom.components)


@pytest.mark.parametrize(("pct", "verdict"), [(49.9, "fails"), (50, "passes"),
                                              (None, "unknown")])
def test_value_added_boundary(pct: float | None, verdict: str) -> None:
    mineral = line("graphite", "refining", 100, "CN", value_added_qualifying_pct=pct)
    assert value_added_test(mineral).verdict == verdict
    result = historic_30d(bill(mineral, line("cells", "cell", 100)), date(2024, 6, 1), None,
                          {})
    expected = {"passes": "yes", "fails": "no", "unknown": "unknown"}[verdict]
    assert result.critical_minerals.lines[0].qualifies == expected


def test_value_added_test_is_for_mineral_lines_only() -> None:
    assert value_added_test(line("cells", "cell", 1)).verdict == "not_applicable"
    recycled = line("black mass", "recycling", 1, "KR", value_added_qualifying_pct=60)
    assert "North America" in value_added_test(recycled).reason


@pytest.fixture(scope="module")
def atlas() -> Dataset:
    return bundled_dataset()


def test_feoc_status_from_the_bundled_atlas(atlas: Dataset) -> None:
    verdicts = screen_everyone(atlas, "feoc-doe-2024", as_of="2024-06-01")
    by_id = dict(zip(verdicts["org_id"], verdicts["status"], strict=True))
    assert by_id["gotion-high-tech"] == by_id["catl"] == "feoc"
    bom = all_us(supplier="gotion-high-tech")
    statuses = supplier_feoc(atlas, bom, date(2024, 6, 1))
    assert statuses["gotion-high-tech"].status == "feoc"
    assert "Miner" not in statuses
    assert historic_30d(bom, date(2024, 6, 1), None, statuses).credit == 0
    early = supplier_feoc(atlas, bom, date(2023, 12, 15))
    assert "first day" in early["gotion-high-tech"].basis
    assert historic_30d(bom, date(2023, 12, 15), None, early).credit == 7500


def test_constituent_materials_fall_under_the_mineral_exclusion_only() -> None:
    feoc_cam = {**CLEAR, "Cathodes": "feoc"}
    before = historic_30d(all_us(), date(2024, 6, 1), None, feoc_cam)
    assert before.credit == 7500  # components exclusion does not reach cathode powder
    after = historic_30d(all_us(), date(2025, 2, 1), date(2025, 2, 1), feoc_cam)
    assert after.credit == 0
    no_minerals = bill(line("cells", "cell", 500, supplier="Cells"))
    undecided = historic_30d(no_minerals, date(2025, 2, 1), date(2025, 2, 1), CLEAR)
    assert {c.name: c.verdict for c in undecided.checks}["feoc_critical_minerals"] == \
        "insufficient_data"
