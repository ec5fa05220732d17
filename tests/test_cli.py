"""The `bmtc` command through its installed entry point, on the bundled atlas."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BMTC = str(Path(sys.executable).with_name("bmtc"))


def run(*args: str, db: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "BMTC_DATABASE_URL": db}
    result = subprocess.run([BMTC, *args], capture_output=True, text=True, env=env,
                            timeout=120, check=False)
    if check is not None:
        assert result.returncode == check, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def atlas_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'atlas.sqlite'}"
    first = run("init", db=url)
    assert "Atlas loaded." in first.stdout
    assert "Facilities by stage and country" in first.stdout
    return url


def test_init_is_idempotent(atlas_db: str) -> None:
    before = json.loads(run("stats", "--json", db=atlas_db).stdout)
    again = run("init", db=atlas_db)
    assert "nothing changed" in again.stdout
    assert json.loads(run("stats", "--json", db=atlas_db).stdout) == before


def test_stats_cover_every_stage_and_country(atlas_db: str) -> None:
    stats = json.loads(run("stats", "--json", db=atlas_db).stdout)
    assert stats["facilities"] >= 150
    assert stats["stages"] == sorted(["mining", "refining", "precursor", "cathode", "anode",
                                      "electrolyte", "separator", "foil", "cell",
                                      "module_pack", "recycling"])
    assert {"US", "CA", "MX"} <= set(stats["countries"])
    assert stats["dataset"]["version"] and stats["dataset"]["as_of"]
    assert sum(r["facilities"] for r in stats["by_stage_country_status"]) == stats["facilities"]
    cells_us = [c for c in stats["capacity"] if c["stage"] == "cell" and c["country"] == "US"
                and c["status"] == "operating" and c["unit"] == "GWh/yr"]
    assert cells_us and cells_us[0]["total"] > 50


def test_facility_listing_filters_and_limit(atlas_db: str) -> None:
    everything = json.loads(run("facilities", "--json", db=atlas_db).stdout)
    assert len(everything) >= 150  # all rows unless --limit is given
    cells_tn = json.loads(run("facilities", "--stage", "cell", "--state", "TN", "--json",
                              db=atlas_db).stdout)
    assert cells_tn and all(f["stage"] == "cell" and f["state_province"] == "TN"
                            for f in cells_tn)
    lithium_ca = json.loads(run("facilities", "--material", "lithium", "--country", "CA",
                                "--json", db=atlas_db).stdout)
    assert lithium_ca and all(f["country"] == "CA" for f in lithium_ca)
    limited = json.loads(run("facilities", "--limit", "3", "--json", db=atlas_db).stdout)
    assert len(limited) == 3
    chinese = json.loads(run("facilities", "--owner-country", "CN", "--json",
                             db=atlas_db).stdout)
    assert {f["id"] for f in chinese} >= {"gotion-manteno"}
    table = run("facilities", "--stage", "separator", db=atlas_db).stdout
    assert "facilities" in table and "separator" in table


def test_facility_and_org_cards(atlas_db: str) -> None:
    card = json.loads(run("facility", "nemaska-becancour-lioh", "--json", db=atlas_db).stdout)
    assert card["facility"]["stage"] == "refining"
    owners = {o["owner_id"]: o["equity_pct"] for o in card["owners"]}
    assert owners["rio-tinto"] == "53.9"
    assert card["sources"] and all(u.startswith("http") for u in card["sources"])
    text = run("facility", "nemaska-becancour-lioh", db=atlas_db).stdout
    assert "Status history" in text and "Rio Tinto" in text
    org = json.loads(run("org", "rio-tinto", "--json", db=atlas_db).stdout)
    assert org["organization"]["country_hq"] == "GB"
    assert any(h["owned_id"] == "nemaska-lithium" for h in org["holdings"])
    members = json.loads(run("orgs", "--member", "--json", db=atlas_db).stdout)
    assert len(members) >= 6 and all(m["coalition_member"] for m in members)
    missing = run("facility", "no-such-plant", db=atlas_db, check=1)
    assert "no facility with id 'no-such-plant'" in missing.stderr


def test_quality_report(atlas_db: str) -> None:
    report = json.loads(run("stats", "--quality", "--json", db=atlas_db).stdout)
    assert report["facilities"] >= 150
    assert set(report["summary"]) >= {"missing_capacity", "unverified", "stale_status"}
    assert all(f["entity_id"] for f in report["findings"])


def test_malformed_import_exits_1_and_changes_nothing(atlas_db: str, tmp_path: Path) -> None:
    before = run("facilities", "--json", db=atlas_db).stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "facility_id,name,operator_name,stage,products,country,capacity_value,status,"
        "status_as_of,source_url\n"
        "new-plant,New,Op,cell,li_ion_cells,US,abc,operating,2025-01,https://example.org/x\n",
        encoding="utf-8")
    result = run("import", str(bad), db=atlas_db, check=1)
    assert "bad.csv, table facilities, row 2, capacity_value: 'abc' is not a number" in (
        result.stderr)
    assert run("facilities", "--json", db=atlas_db).stdout == before


def test_skip_invalid_writes_reject_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'skip.sqlite'}"
    src = tmp_path / "mixed.csv"
    src.write_text(
        "facility_id,name,operator_name,stage,products,country,status,status_as_of,source_url\n"
        "good,Good,Op,cell,li_ion_cells,US,operating,2025-01,https://example.org/x\n"
        "bad,Bad,Op,cell,li_ion_cells,US,dreaming,2025-01,https://example.org/x\n",
        encoding="utf-8")
    result = run("import", str(src), "--skip-invalid", "--json", db=db)
    outcome = json.loads(result.stdout)
    assert outcome["tables"]["facilities"]["inserted"] == 1 and outcome["rejected"] == 1
    with open(outcome["rejects_file"], encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert rejects[0]["row"] == "3" and "status: 'dreaming'" in rejects[0]["reason"]


def test_usage_errors_exit_2(atlas_db: str) -> None:
    assert run("facilities", "--stag", "cell", db=atlas_db, check=2).returncode == 2
    assert run("facilities", "--stage", "cellz", db=atlas_db, check=2).returncode == 2
    assert run("export", "--format", "pdf", "-o", "x", db=atlas_db, check=2).returncode == 2
    assert run(db=atlas_db, check=2).returncode == 2


def test_export_csv_is_safe_and_reimports_unchanged(atlas_db: str, tmp_path: Path) -> None:
    out = tmp_path / "cells.csv"
    run("export", "--format", "csv", "-o", str(out), "--stage", "cell", db=atlas_db)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["stage"] == "cell" for r in rows)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value
    again = json.loads(run("import", str(out), "--json", db=atlas_db).stdout)
    assert again["tables"]["facilities"] == {"inserted": 0, "updated": 0,
                                             "unchanged": len(rows)}


@pytest.mark.parametrize(("fmt", "name"), [("excel", "a.xlsx"), ("geojson", "a.geojson"),
                                           ("parquet", "a.parquet"), ("json", "a.json")])
def test_export_formats_import_into_a_fresh_store(atlas_db: str, tmp_path: Path, fmt: str,
                                                  name: str) -> None:
    out = tmp_path / name
    run("export", "--format", fmt, "-o", str(out), db=atlas_db)
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    run("import", str(out), db=fresh)
    original = json.loads(run("facilities", "--json", db=atlas_db).stdout)
    copied = json.loads(run("facilities", "--json", db=fresh).stdout)
    keep = ("id", "name", "stage", "products", "capacity_value", "status", "source_url")
    assert [{k: f[k] for k in keep} for f in copied] == [{k: f[k] for k in keep}
                                                         for f in original]
