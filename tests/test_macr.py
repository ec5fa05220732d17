"""Material-assistance cost ratio and the 45X credit: worked examples, properties, bills."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from bmtc.cli import Failed, app
from bmtc.compliance.bom import Bom, Component, Product, read_bom
from bmtc.compliance.credit45x import credit_45x, load_credit
from bmtc.compliance.macr import SupplierStatus, load_macr, macr, threshold_for
from bmtc.compliance.schedule import on
from bmtc.io.problems import ImportFailed

TEMPLATES = Path(__file__).parents[1] / "docs" / "templates" / "compliance"
SAMPLE = TEMPLATES / "module-45x.json"
runner = CliRunner()
CLEAR = SupplierStatus("clear", "test")
SPECIFIED = SupplierStatus("specified", "test")


def bill(kind: str, costs: list[tuple[float, str | None]], **product: Any) -> Bom:
    components = tuple(Component(line=str(i), description=f"part {i}", direct_cost=cost,
                                 supplier=supplier)
                       for i, (cost, supplier) in enumerate(costs, start=1))
    fields: dict[str, Any] = {"id": "p", "name": "p", "type": kind, **product}
    return Bom(product=Product(**fields), components=components)


STATUSES = {"pfe": SPECIFIED, "ok": CLEAR}


@pytest.mark.parametrize(("pfe", "verdict"), [(40e6, "pass"), (46e6, "fail")])
def test_storage_examples_d1_d2(pfe: float, verdict: str) -> None:
    # D1 / D2: energy storage, construction begins 2026, threshold 55%.
    result = macr(bill("energy_storage_system", [(100e6 - pfe, "ok"), (pfe, "pfe")]), 2026,
                  STATUSES)
    assert result.threshold.threshold_pct == 55
    assert result.ratio == pytest.approx(1 - pfe / 100e6)
    assert result.verdict == verdict


def test_module_example_d3_earns_no_credit() -> None:
    module = bill("battery_module", [(550.0, "ok"), (450.0, "pfe")], capacity_kwh=5.0,
                  units=10)
    ratio = macr(module, 2026, STATUSES)
    assert ratio.ratio == pytest.approx(0.55) and ratio.verdict == "fail"
    assert ratio.threshold.threshold_pct == 60
    credit = credit_45x(module, 2026, "clear", ratio)
    assert credit.outcome == "denied" and credit.total == 0
    assert credit.potential_total == pytest.approx(10 * 5.0 * 10)
    # The sensitivity names the prohibited line whose swap would pass the test.
    assert ratio.flip == ["2"]


costs = st.lists(st.tuples(st.floats(0.01, 1e6), st.sampled_from(["pfe", "ok", None])),
                 min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(costs, st.data())
def test_replacing_a_prohibited_supplier_never_lowers_the_ratio(
        lines: list[tuple[float, str | None]], data: st.DataObject) -> None:
    before = macr(bill("battery_cell", lines), 2026, STATUSES)
    prohibited = [i for i, (_cost, s) in enumerate(lines) if s == "pfe"]
    if not prohibited:
        return
    swapped = list(lines)
    index = data.draw(st.sampled_from(prohibited))
    swapped[index] = (lines[index][0], "ok")
    after = macr(bill("battery_cell", swapped), 2026, STATUSES)
    assert after.ratio >= before.ratio - 1e-12


@settings(max_examples=150, deadline=None)
@given(costs)
def test_an_unknown_supplier_never_passes(lines: list[tuple[float, str | None]]) -> None:
    result = macr(bill("battery_cell", lines), 2026, STATUSES)
    if any(s is None for _c, s in lines):
        assert result.verdict != "pass"
    assert result.ratio_if_unknown_prohibited <= result.ratio + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([r for r in load_macr().threshold if r.effective_to is not None]))
def test_thresholds_change_exactly_on_their_dates(row: Any) -> None:
    assert on(load_macr().threshold, row.series, row.effective_to).id == row.id
    following = on(load_macr().threshold, row.series, row.effective_to + timedelta(days=1))
    # The wind schedule simply ends with the wind credit (after 2027).
    assert (following is None) == (row.id == "MACR-6-2027")
    assert following is None or following.id != row.id
    assert threshold_for(row.series, row.effective_from.year).id == row.id


def test_uncertain_thresholds_are_flagged_in_every_result() -> None:
    result = macr(bill("battery_cell", [(1.0, "ok")]), 2028, STATUSES)
    assert result.threshold.confidence.value == "uncertain"
    assert any("not verified" in note for note in result.notes)


def _one_line(**component: Any) -> Bom:
    return Bom(product=Product(id="p", name="p", type="battery_cell",
                               sale_date=date(2026, 5, 1)),
               components=(Component(line="1", description="x", direct_cost=100.0,
                                     supplier="s", **component),
                           Component(line="2", description="y", direct_cost=100.0,
                                     supplier="ok")))


def test_certification_holds_until_expiry_unless_screening_contradicts_it() -> None:
    valid = _one_line(certification="non_pfe", certification_expiry=date(2026, 6, 1))
    assert macr(valid, 2026, {"ok": CLEAR}).verdict == "pass"
    expired = _one_line(certification="non_pfe", certification_expiry=date(2026, 4, 30))
    assert macr(expired, 2026, {"ok": CLEAR}).verdict == "insufficient_data"
    contradicted = macr(valid, 2026, {"ok": CLEAR, "s": SPECIFIED})
    assert contradicted.lines[0].status == "pfe"


def test_binding_contracts_before_the_cut_off_are_grandfathered() -> None:
    early = _one_line(binding_contract_date=date(2025, 3, 1))
    assert macr(early, 2026, {"ok": CLEAR, "s": SPECIFIED}).lines[0].status == "clear"
    late = _one_line(binding_contract_date=date(2025, 7, 1))
    assert macr(late, 2026, {"ok": CLEAR, "s": SPECIFIED}).lines[0].status == "pfe"


def test_credit_amounts_cap_and_phase_out() -> None:
    cell = bill("battery_cell", [(1.0, "ok")], capacity_kwh=0.1, power_kw=0.0005, units=1)
    capped = credit_45x(cell, 2026, "clear", macr(cell, 2026, STATUSES))
    assert capped.per_unit_before_phaseout == pytest.approx(35 * 0.05)  # 100:1 cap
    module = bill("battery_module", [(1.0, "ok")], capacity_kwh=2.0, uses_cells=False)
    assert credit_45x(module, 2026, "clear", macr(module, 2026, STATUSES)).per_unit == 90
    eam = bill("electrode_active_material", [(1.0, "ok")], production_cost=1000.0)
    assert credit_45x(eam, 2026, "clear", macr(eam, 2026, STATUSES)).per_unit == 100
    by_year = {y: credit_45x(module, y, "clear", None).phaseout_pct
               for y in (2029, 2030, 2031, 2032, 2033)}
    assert by_year == {2029: 100, 2030: 75, 2031: 50, 2032: 25, 2033: 0}
    assert credit_45x(module, 2026, "specified", macr(module, 2026, STATUSES)).outcome == \
        "denied"
    assert credit_45x(module, 2026, None, macr(module, 2026, STATUSES)).outcome == \
        "insufficient_data"
    assert load_credit().cap[0].verified


def test_templates_agree_and_bad_bills_are_located(tmp_path: Path) -> None:
    forms = [read_bom(TEMPLATES / f"module-45x.{suffix}") for suffix in ("json", "csv", "xlsx")]
    assert len({json.dumps(b.model_dump(mode="json", exclude={"file"})) for b in forms}) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,id,name,type,line,description,direct_cost,country_of_origin\n"
                   "product,p,P,battery_cell,,,,\n"
                   "component,,,,1,cells,-5,US\n"
                   "component,,,,2,tabs,3,Atlantis\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        read_bom(bad)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert (3, "direct_cost") in found and (4, "country_of_origin") in found
    assert all(p.file == "bad.csv" for p in caught.value.problems)


def test_cli_sample_module_with_excel_audit(store_url: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", "--quiet", "--db", store_url]).exit_code == 0
    audit = tmp_path / "audit.xlsx"
    result = runner.invoke(app, ["macr", str(SAMPLE), "--year", "2026", "--db", store_url,
                                 "--audit", str(audit), "--json"])
    assert result.exit_code == 0, result.output
    trail = json.loads(result.stdout)
    summary = trail["summary"]
    assert summary["verdict"] == "pass" and summary["ratio"] == pytest.approx(0.76)
    assert summary["threshold_pct"] == 60 and summary["threshold_rule"] == "MACR-3-2026"
    assert trail["sensitivity"]["lines"] == ["1"]
    treated = {ln["line"]: ln["treated_as"] for ln in trail["lines"]}
    assert treated["2"] == "pfe" and treated["6"] == "clear"  # AESC; grandfathered pads
    book = load_workbook(audit)
    assert {"Summary", "Lines", "Rules", "Product", "Notes"} <= set(book.sheetnames)
    assert book["Lines"].max_row == 1 + len(trail["lines"])
    credit = runner.invoke(app, ["credit45x", str(SAMPLE), "--year", "2026", "--db",
                                 store_url, "--json"])
    assert credit.exit_code == 0, credit.output
    assert json.loads(credit.stdout)["total"] == pytest.approx(100_000)
    broken = runner.invoke(app, ["macr", str(tmp_path / "none.json"), "--year", "2026",
                                 "--db", store_url])
    assert isinstance(broken.exception, Failed)


def test_elected_safe_harbors_are_recorded_and_checked() -> None:
    elected = Bom(product=Product(id="p", name="p", type="battery_cell",
                                  safe_harbors=("identification", "cost_percentage")),
                  components=(Component(line="1", description="cells", direct_cost=70.0,
                                        supplier="ok"),
                              Component(line="2", description="can", direct_cost=20.0,
                                        supplier="pfe")))
    result = macr(elected, 2026, STATUSES)
    assert set(result.safe_harbors) == {"G-3-identification", "G-3-cost-percentage"}
    assert {r.id for r in result.rows_used()} >= set(result.safe_harbors)
    assert any("sum to 90" in note for note in result.notes)
    # Reliance runs from the first taxable year the rules reach (2026 for a calendar year).
    assert macr(elected, 2026, STATUSES, testing=date(2026, 1, 15)).safe_harbors
    assert macr(elected, 2026, STATUSES, testing=date(2025, 12, 31)).safe_harbors == ()


def test_an_exact_threshold_ratio_passes() -> None:
    # 2.61 / (2.61 + 1.74) is 60% up to floating-point round-off.
    exact = bill("battery_cell", [(2.61, "ok"), (1.74, "pfe")])
    assert macr(exact, 2026, STATUSES).verdict == "pass"


def test_storage_grandfather_needs_the_placed_in_service_date() -> None:
    def storage(**product: Any) -> Bom:
        return Bom(product=Product(id="s", name="s", type="energy_storage_system", **product),
                   components=(Component(line="1", description="cells", direct_cost=50.0,
                                         supplier="pfe",
                                         binding_contract_date=date(2025, 1, 1)),
                               Component(line="2", description="rest", direct_cost=50.0,
                                         supplier="ok")))
    assert macr(storage(), 2029, STATUSES).lines[0].status == "unknown"
    early = macr(storage(placed_in_service=date(2029, 6, 1)), 2029, STATUSES)
    assert early.lines[0].status == "clear"
    late = macr(storage(placed_in_service=date(2030, 2, 1)), 2029, STATUSES)
    assert late.lines[0].status == "pfe"


def test_bills_whose_dates_contradict_the_year_are_refused() -> None:
    sold = bill("battery_cell", [(1.0, "ok")], sale_date=date(2026, 9, 30))
    with pytest.raises(ValueError, match="sale_date"):
        macr(sold, 2027, STATUSES)


def test_yes_no_columns_reject_typos(tmp_path: Path) -> None:
    typo = tmp_path / "typo.csv"
    typo.write_text("kind,id,name,type,uses_cells,line,description,direct_cost\n"
                    "product,p,P,battery_module,ture,,,\n"
                    "component,,,,,1,cells,5\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        read_bom(typo)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "uses_cells")]


def test_credit_rests_on_the_ratio_rows_and_skips_bars_before_2026() -> None:
    module = bill("battery_module", [(550.0, "ok"), (450.0, "pfe")], capacity_kwh=5.0)
    ratio = macr(module, 2026, STATUSES)
    credit = credit_45x(module, 2026, "clear", ratio)
    assert credit.outcome == "denied"
    # Before 2026 neither bar is in force: no ratio or taxpayer status is needed.
    assert credit_45x(module, 2025, None, None).outcome == "eligible"


def test_credit_service_merges_ratio_rows_and_leaves_minerals_undecided(
        sqlite_url: str) -> None:
    from bmtc.compliance_service import check_credit
    from bmtc.screening_service import bundled_dataset

    dataset = bundled_dataset()
    result, ratio = check_credit(dataset, read_bom(SAMPLE), 2026)
    assert ratio is not None and ratio.threshold in result.rows
    mineral = bill("critical_mineral", [(1.0, "ok")], production_cost=100.0)
    undecided, none = check_credit(dataset, mineral, 2026)
    assert none is None and undecided.outcome == "insufficient_data"
    assert any("no material-assistance threshold" in n for n in undecided.notes)
    earlier, _ = check_credit(dataset, mineral, 2025)
    assert earlier.outcome == "eligible" and earlier.total == pytest.approx(10.0)


def test_audit_to_a_missing_folder_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["macr", str(SAMPLE), "--year", "2026", "--db",
                                 f"sqlite:///{tmp_path / 'a.db'}", "--audit",
                                 str(tmp_path / "nowhere" / "a.xlsx")])
    assert isinstance(result.exception, Failed)


def test_audit_workbook_keeps_bill_text_as_text(tmp_path: Path) -> None:
    from bmtc.compliance.audit import macr_audit, write_audit_excel

    hostile = Bom(product=Product(id="p", name="=HYPERLINK(\"http://x\")", type="battery_cell"),
                  components=(Component(line="1", description="=1+1", direct_cost=1.0,
                                        supplier="ok"),))
    path = tmp_path / "audit.xlsx"
    write_audit_excel(macr_audit(macr(hostile, 2026, STATUSES), hostile, {}), path)
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and "1+1" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'") for c in cells)
