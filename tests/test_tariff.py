"""Import-duty exposure: the Section 301 and AAM AD/CVD worked examples, rate changes exactly on
their effective dates, located errors for bad import bills, and the rule files themselves."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bmtc.analysis.reference import ReferenceDataError, load_file
from bmtc.compliance.schedule import on
from bmtc.compliance.tariff import (
    CATEGORIES,
    AamFile,
    ImportLine,
    Section301File,
    exposure,
    lines_from_table,
    load_tariff_rules,
    read_import_bill,
)
from bmtc.domain.vocab import Confidence
from bmtc.io.problems import ImportFailed

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "templates" / "compliance" \
    / "imports.csv"
RULES = load_tariff_rules()


def line(**fields: Any) -> ImportLine:
    base: dict[str, Any] = {"line_id": "x", "origin": "CN", "value_usd": 1000.0,
                            "entry_date": date(2025, 1, 2), "mfn_pct": 0.0, "aam": False}
    return ImportLine.model_validate(base | fields)


def one(**fields: Any) -> Any:
    return exposure([line(**fields)]).lines[0]


# --- the rule files --------------------------------------------------------------------------

def test_rule_files_load_and_cover_every_category() -> None:
    assert {r.category for r in RULES.section301.rule} == set(CATEGORIES)
    assert RULES.aam.ended == date(2026, 3, 12) and not RULES.aam.orders_issued
    assert {"301-1", "301-2", "301-3", "301-4", "301-5", "301-6"} <= {
        r.id for r in RULES.section301.rule}


def test_every_category_has_a_prior_and_an_increased_row_meeting_on_the_day() -> None:
    for category in CATEGORIES:
        rows = sorted((r for r in RULES.section301.rule if r.series == category),
                      key=lambda r: r.effective_from)
        assert len(rows) == 2, category
        prior, new = rows
        assert prior.effective_to == new.effective_from - timedelta(days=1)
        assert new.rate_pct > prior.rate_pct


def _rule(id: str, start: str, end: str | None = None) -> str:
    return (f'[[rule]]\nid = "{id}"\nseries = "natural-graphite"\ncategory = "natural-graphite"\n'
            f"effective_from = {start}\n" + (f"effective_to = {end}\n" if end else "")
            + 'rate_pct = 25.0\norigin = ["CN"]\ncitation = "test"\nconfidence = "secondary"\n')


def test_overlapping_rows_are_rejected_naming_file_and_rows(tmp_path: Path) -> None:
    path = tmp_path / "301.toml"
    path.write_text('version = "t"\nas_of = 2026-01-01\n' + _rule("a", "2024-01-01", "2025-01-01")
                    + _rule("b", "2024-06-01"), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"301\.toml.*rows a and b overlap"):
        load_file(path, Section301File)


def test_deposit_rows_must_name_a_known_event() -> None:
    data = RULES.aam.model_dump()
    data["deposit"][0]["event"] = "no-such-event"
    with pytest.raises(ValidationError, match="unknown event"):
        AamFile.model_validate(data)


@given(st.dates(date(2024, 12, 18), date(2027, 12, 31)), st.sampled_from(["ad", "cvd"]))
def test_the_aam_case_has_exactly_one_all_others_deposit_row_each_day(day: date,
                                                                       duty: str) -> None:
    rows = [d for d in RULES.aam.deposit if d.series == f"aam-{duty}" and d.applies_on(day)]
    assert len(rows) == 1
    assert on(RULES.aam.event, "aam-case", day) is not None


# --- Section 301 -----------------------------------------------------------------------------

def test_e3_china_li_ion_ev_battery_entered_2024_10_01_owes_25_pct() -> None:
    result = one(category="li-ion-ev-battery", hts="8507.60.0010", entry_date=date(2024, 10, 1),
                 mfn_pct=3.4)
    assert result.section301.rate_pct == 25.0
    assert result.section301.row.id == "301-1"
    assert result.section301.row.confidence is Confidence.PRIMARY
    assert "89 FR 76581" in result.section301.row.citation
    assert result.total_pct == pytest.approx(28.4)
    assert result.duty_usd == pytest.approx(284.0)


def test_e4_non_ev_li_ion_battery_before_and_after_2026() -> None:
    before = one(category="li-ion-non-ev-battery", entry_date=date(2025, 12, 15))
    after = one(category="li-ion-non-ev-battery", entry_date=date(2026, 1, 2))
    assert (before.section301.rate_pct, before.section301.row.id) == (7.5, "301-2-prior")
    assert (after.section301.rate_pct, after.section301.row.id) == (25.0, "301-2")


def _boundaries() -> list[tuple[str, date, float, float]]:
    out = []
    for category in CATEGORIES:
        prior, new = sorted((r for r in RULES.section301.rule if r.series == category),
                            key=lambda r: r.effective_from)
        out.append((category, new.effective_from, prior.rate_pct, new.rate_pct))
    return out


@given(st.sampled_from(_boundaries()), st.integers(-45, 45))
def test_rates_change_exactly_on_their_effective_dates(
        boundary: tuple[str, date, float, float], offset: int) -> None:
    category, start, prior, new = boundary
    day = start + timedelta(days=offset)
    result = one(category=category, entry_date=day)
    assert result.section301.rate_pct == (new if day >= start else prior)
    # `on` overrides the entry date.
    moved = exposure([line(category=category, entry_date=date(2000, 1, 1))], on=day).lines[0]
    assert moved.section301.rate_pct == result.section301.rate_pct


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("origin", ["KR", "JP", "MX", "US"])
def test_non_china_origin_owes_no_section_301(category: str, origin: str) -> None:
    result = one(category=category, origin=origin, entry_date=date(2026, 6, 1))
    assert (result.section301.status, result.section301.rate_pct) == ("not-covered", 0.0)
    assert result.section301.row is None


def test_category_is_inferred_from_the_hts_code() -> None:
    assert one(hts="8507.60.0010", entry_date=date(2025, 1, 2)).category == "li-ion-ev-battery"
    graphite = one(hts="2504.10.50", entry_date=date(2026, 1, 1))
    assert (graphite.category, graphite.section301.rate_pct) == ("natural-graphite", 25.0)


@pytest.mark.parametrize("hts", [None, "8507.60.00", "8507.90.80", "9999.99"])
def test_an_unmatched_line_is_unclassified_never_zero(hts: str | None) -> None:
    result = exposure([line(hts=hts), line(line_id="ok", category="battery-parts")])
    first = result.lines[0]
    assert first.category is None and first.section301.status == "unclassified"
    assert first.section301.rate_pct is None and first.total_pct is None
    assert result.unresolved == ("x",) and not result.complete
    assert result.duty_usd == pytest.approx(result.lines[1].duty_usd)
    assert any("no total for x" in n for n in result.notes)


def test_every_result_says_what_is_not_modelled() -> None:
    notes = exposure([line(category="other")]).notes
    assert any("IEEPA" in n and "Section 232" in n and "not modelled" in n for n in notes)


# --- AD/CVD on active anode material ---------------------------------------------------------

def test_aam_entered_during_the_investigation_had_provisional_deposits() -> None:
    result = one(category="other", hts="3801.10.50", aam=True, entry_date=date(2025, 8, 1))
    assert (result.ad.status, result.ad.rate_pct, result.ad.event) == (
        "provisional", 102.72, "aam-ad-prelim")
    assert (result.cvd.status, result.cvd.rate_pct, result.cvd.event) == (
        "provisional", 11.58, "aam-cvd-prelim-amended")
    assert result.total_pct == pytest.approx(114.30)
    # No order was issued, so those deposits come back.
    assert result.refundable_usd == pytest.approx(1143.0)
    assert any("refundable" in n for n in result.notes)


def test_aam_entered_after_the_negative_itc_vote_owes_nothing() -> None:
    result = one(aam=True, entry_date=date(2026, 4, 1))
    assert (result.ad.status, result.ad.rate_pct) == ("ended", 0.0)
    assert (result.cvd.status, result.cvd.rate_pct, result.cvd.event) == (
        "ended", 0.0, "aam-itc-final")
    assert result.refundable_usd == 0.0
    moved = exposure([line(aam=True, entry_date=date(2025, 8, 1))], on=date(2026, 4, 1))
    assert moved.lines[0].ad.rate_pct == 0.0 and moved.lines[0].cvd.rate_pct == 0.0


def test_exporters_with_their_own_rate_get_it() -> None:
    result = one(aam=True, exporter="Huzhou Kaijin New Energy Technology Corp., Ltd.",
                 entry_date=date(2025, 6, 2))
    assert (result.cvd.rate_pct, result.cvd.row.id) == (712.03, "aam-cvd-kaijin-1")
    assert result.ad.rate_pct == 0.0  # before the AD preliminary determination


def test_aam_rows_that_are_not_primary_are_named_in_the_notes() -> None:
    notes = exposure([line(aam=True, entry_date=date(2026, 2, 20))]).notes
    assert any(n.startswith("row aam-ad-3 is uncertain") and "indicative" in n for n in notes)


def test_unflagged_graphite_named_in_the_aam_scope_needs_review_while_deposits_ran() -> None:
    during = one(category="other", hts="3801.10.50", aam=None, entry_date=date(2025, 8, 1))
    assert during.ad.status == "review" and during.total_pct is None
    after = one(category="other", hts="3801.10.50", aam=None, entry_date=date(2026, 4, 1))
    assert after.ad.rate_pct == 0.0 and after.total_pct is not None


def test_non_china_aam_owes_no_adcvd() -> None:
    result = one(aam=True, origin="KR", entry_date=date(2025, 8, 1))
    assert result.ad.status == "not-applicable" and result.cvd.rate_pct == 0.0


# --- reading import bills --------------------------------------------------------------------

HEADER = "line_id,description,category,hts,origin,value_usd,entry_date,mfn_pct,aam,exporter\n"


def test_a_bad_bill_is_rejected_with_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER
                    + "a,cells,li-ion-ev-battery,8507.60.0010,XX,100,2025-01-02,3.4,no,\n"
                    + "b,cells,li-ion-ev-battery,8507.60.0010,CN,-5,2025-01-02,3.4,no,\n"
                    + "c,cells,li-ion-ev-battery,8507.60.0010,CN,100,2025-13-40,3.4,no,\n",
                    encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        read_import_bill(path)
    where = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert where == {("bad.csv", 2, "origin"), ("bad.csv", 3, "value_usd"),
                     ("bad.csv", 4, "entry_date")}
    assert "bad.csv, row 2, origin" in str(caught.value)


def test_unknown_and_missing_columns_are_reported_on_the_header() -> None:
    with pytest.raises(ImportFailed) as caught:
        lines_from_table("h.csv", [["line_id", "colour", "origin", "value_usd"], ["a", "red", "CN",
                                                                                  "1"]])
    where = {(p.row, p.column) for p in caught.value.problems}
    assert where == {(1, "colour"), (1, "entry_date")}


def test_bad_category_and_repeated_line_ids_are_rejected() -> None:
    rows = [HEADER.strip().split(","),
            ["a", "", "lead-acid", "", "CN", "1", "2025-01-02", "", "", ""],
            ["b", "", "", "", "CN", "1", "2025-01-02", "", "", ""],
            ["b", "", "", "", "CN", "1", "2025-01-02", "", "", ""]]
    with pytest.raises(ImportFailed) as caught:
        lines_from_table("t.csv", rows)
    assert {(p.row, p.column) for p in caught.value.problems} == {(2, "category"),
                                                                  (4, "line_id")}


def test_the_sample_bill_parses_and_totals_sensibly() -> None:
    lines = read_import_bill(SAMPLE)
    assert len(lines) == 8
    result = exposure(lines)
    by_id = {r.line.line_id: r for r in result.lines}
    assert result.value_usd == pytest.approx(sum(x.value_usd for x in lines))
    assert result.unresolved == ("L8",)
    assert by_id["L1"].section301.rate_pct == 25.0
    assert (by_id["L2"].section301.rate_pct, by_id["L3"].section301.rate_pct) == (7.5, 25.0)
    assert by_id["L4"].category == "natural-graphite"
    assert by_id["L6"].category == "permanent-magnets"
    assert by_id["L7"].section301.rate_pct == 0.0
    assert by_id["L5"].ad.status == "provisional"
    resolved = [r for r in result.lines if r.duty_usd is not None]
    assert result.duty_usd == pytest.approx(sum(r.duty_usd or 0 for r in resolved))
    assert 0 < result.duty_usd < result.value_usd
    assert by_id["L5"].refundable_usd > 0
    assert result.refundable_usd == pytest.approx(by_id["L5"].refundable_usd)


def test_an_excel_bill_reads_like_the_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.strip().split(","))
    sheet.append(["e1", "cells", "li-ion-ev-battery", "8507.60.0010", "CN", 500,
                  date(2024, 10, 1), 3.4, "no", None])
    path = tmp_path / "bill.xlsx"
    book.save(path)
    (read,) = read_import_bill(path)
    assert (read.entry_date, read.value_usd, read.aam) == (date(2024, 10, 1), 500.0, False)
