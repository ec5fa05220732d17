"""The compliance commands through the CLI, on the bundled atlas (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bmtc.cli import Failed, app

TEMPLATES = Path(__file__).parents[1] / "docs" / "templates" / "compliance"
SAMPLE = str(TEMPLATES / "module-45x.json")
runner = CliRunner()


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('compliance') / 'atlas.db'}"
    assert runner.invoke(app, ["init", "--quiet", "--db", url]).exit_code == 0
    return url


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_tariff_bill_values_lines_on_their_dates() -> None:
    report = run_json("tariff", str(TEMPLATES / "imports.csv"))
    by_line = {row["line"]: row for row in report["lines"]}
    assert by_line["L1"]["section_301"]["rate_pct"] == 25  # EV battery, 2024-10-01 (E3)
    assert by_line["L2"]["section_301"]["rate_pct"] == 7.5  # non-EV, 2025-12-15 (E4)
    assert by_line["L3"]["section_301"]["rate_pct"] == 25  # non-EV, 2026-01-02 (E4)
    assert by_line["L7"]["section_301"]["rate_pct"] == 0  # Korean origin
    assert "L8" in report["unresolved"]
    assert any("IEEPA" in note for note in report["notes"])
    # Valued as if all entered on one date, the non-EV lines agree.
    same_day = run_json("tariff", str(TEMPLATES / "imports.csv"), "--date", "2026-06-01")
    rates = {r["line"]: r["section_301"]["rate_pct"] for r in same_day["lines"]}
    assert rates["L2"] == rates["L3"] == 25


def test_defense_check_dates(atlas: str) -> None:
    before = run_json("defense-check", SAMPLE, "--date", "2027-09-15", "--db", atlas)
    assert before["rules"]["DOD-1/2"]["in_effect"] is False
    later = run_json("defense-check", SAMPLE, "--date", "2028-03-01", "--db", atlas,
                     "--feoc-licensed-technology", "no")
    assert later["rules"]["DOD-4"]["in_effect"] is True
    assert all(row["citation"] for rule in later["rules"].values() for row in rule["rows"])
    bad = runner.invoke(app, ["defense-check", SAMPLE, "--date", "someday", "--db", atlas])
    assert bad.exit_code == 2


def test_content_shares_and_historic_30d(atlas: str) -> None:
    report = run_json("content", SAMPLE, "--placed-in-service", "2024-06-01", "--db", atlas)
    shares = {s["group"]: s["share"] for s in report["origin_shares"]}
    assert sum(shares.values()) == pytest.approx(1)
    assert shares["covered_nations"] == pytest.approx(0.12)  # lines 3 and 6, CN origin
    historic = report["historic_30d"]
    assert historic["battery_components"]["applicable_pct"] == 60
    assert historic["credit"] <= historic["credit_if_resolved"] <= 7500


def test_minerals_by_date() -> None:
    before = run_json("minerals", "--as-of", "2025-11-06", "--name", "copper")
    after = run_json("minerals", "--as-of", "2025-11-07", "--name", "copper")
    usgs_before = [r for r in before["lists"] if r["list"].startswith("usgs")]
    usgs_after = [r for r in after["lists"] if r["list"].startswith("usgs")]
    assert [r["listed"] for r in usgs_before] == [False]
    assert [r["listed"] for r in usgs_after] == [True]


def test_funding_filters(atlas: str) -> None:
    rows = run_json("funding", "--stage", "refining", "--db", atlas)
    assert rows and all(r["stage"] == "refining" for r in rows)
    assert all(r["source_url"].startswith("http") for r in rows)
    programs = run_json("funding", "--programs")
    assert {"bil-40207b", "bil-40207c", "dpa-title-iii"} <= {p["id"] for p in programs}
    wrong = runner.invoke(app, ["funding", "--stage", "nowhere", "--db", atlas])
    assert isinstance(wrong.exception, Failed)


def test_macr_on_the_csv_and_excel_templates(atlas: str) -> None:
    for suffix in ("csv", "xlsx"):
        trail = run_json("macr", str(TEMPLATES / f"module-45x.{suffix}"), "--year", "2026",
                         "--db", atlas)
        assert trail["summary"]["verdict"] == "pass"
        assert trail["summary"]["ratio"] == pytest.approx(0.76)


@pytest.mark.parametrize(("name", "content"), [("broken.xlsx", b"not a workbook"),
                                               ("latin.csv", "kind,name\nproduct,Café\n"
                                                .encode("latin-1"))])
def test_unreadable_bills_are_named_errors_not_crashes(tmp_path: Path, name: str,
                                                       content: bytes) -> None:
    from bmtc.compliance.bom import read_bom
    from bmtc.io.problems import ImportFailed

    bill = tmp_path / name
    bill.write_bytes(content)
    with pytest.raises(ImportFailed) as failure:
        read_bom(bill)
    assert name in str(failure.value)
