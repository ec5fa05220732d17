"""The NAATBatt workbook layout: segment and product mapping, normalisation, editions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from bmtc.io.naatbatt import edition_date
from bmtc.io.problems import ImportFailed
from bmtc.service import import_path
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store

HEADER = [
    "ID", "Company ", "Company Website", "HQ Company", "HQ Company Website", "HQ City",
    "HQ State or Province", "HQ Country", "NAATBatt Member", "Facility Name",
    "Facility Address", "Facility City", "Facility State or Province", "Facility Zip",
    "Facility Country", "Latitude", "Longitude", "Supply Chain Segment",
    "Product/Facility Type", "Product", "Chemistries", "Feedstock", "Status",
    "Production Capacity", "Production Units", "Sources", "QC", "QC Date",
]


def _row(**values: Any) -> list[Any]:
    base: dict[str, Any] = {name.strip(): None for name in HEADER}
    base.update(values)
    return [base[name.strip()] for name in HEADER]


ROWS = [
    _row(ID=101, Company="Cabot Corp.", **{
        "HQ Company": "Cabot Corporation", "HQ Country": "US", "Facility Name": "Cabot Michigan",
        "Facility City": "Van Buren", "Facility State or Province": "Michigan",
        "Facility Country": "United States", "Latitude": 42.22, "Longitude": -83.49,
        "Supply Chain Segment": "Midstream", "Product/Facility Type": "Cathode Battery Grade "
        "Materials", "Product": "NMC 811 cathode powder", "Status": "Commercial",
        "Production Capacity": 20000, "Production Units": "MT/yr", "Sources": "company site"}),
    _row(ID=102, Company="Example Cells Inc", **{
        "HQ Company": "Example Holdings", "HQ Country": "Korea", "Facility City": "Monterrey",
        "Facility State or Province": "N.L.", "Facility Country": "Mexico",
        "Supply Chain Segment": "Midstream", "Product/Facility Type": "Cylindrical cells",
        "Chemistries": "LFP", "Status": "Planned", "Production Capacity": 50,
        "Production Units": "Ah"}),
    _row(ID=103, Company="Pack Builders", **{
        "Facility City": "Detroit", "Facility State or Province": "MI", "Facility Country": "US",
        "Supply Chain Segment": "Downstream", "Product/Facility Type": "Module/Pack",
        "Status": "Under Construction", "Production Capacity": 500,
        "Production Units": "MWh/yr"}),
    _row(ID=104, Company="Test Rigs LLC", **{
        "Facility Country": "US", "Supply Chain Segment": "Other - Equipment ",
        "Status": "Commercial"}),
    _row(ID=105, Company="Lithium Ridge", **{
        "Facility City": "Reno", "Facility State or Province": "NV", "Facility Country": "US",
        "Supply Chain Segment": "Upstream", "Product/Facility Type": "Lithium brine",
        "Status": "Planned"}),
    _row(ID=106, Company="Black Mass Co", **{
        "Facility City": "Rochester", "Facility State or Province": "NY",
        "Facility Country": "USA", "Supply Chain Segment": "Downstream",
        "Product/Facility Type": "Recycling", "Status": "Commercial",
        "Production Capacity": "10,000", "Production Units": "MT/yr"}),
]


def _workbook(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Raw Materials"
    sheet.append(["unrelated tab"])
    combined = workbook.create_sheet("Append2")
    combined.append(["NAATBatt Lithium-Ion Battery Supply Chain Database"])
    combined.append(HEADER)
    for row in rows:
        combined.append(row)
    workbook.save(path)
    return path


def test_edition_date_from_file_name() -> None:
    assert edition_date(Path("naatbatt-database-29sep2025.xlsx")) == "2025-09-29"
    assert edition_date(Path("naatbatt-database-31march2026.xlsx")) == "2026-03-31"
    assert edition_date(Path("naatbatt.xlsx")) is None


def test_import_maps_segments_products_and_places(store: Store, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "naatbatt-database-29sep2025.xlsx", ROWS)
    outcome = import_path(store, path)
    assert outcome.format == "naatbatt"
    assert outcome.out_of_scope == 1
    rows = {r["id"]: r for r in store.facility_rows(FacilityFilter())}
    assert set(rows) == {"naatbatt-101", "naatbatt-102", "naatbatt-103", "naatbatt-105",
                         "naatbatt-106"}
    cabot = rows["naatbatt-101"]
    assert (cabot["stage"], cabot["products"], cabot["chemistries"]) == (
        "cathode", ["nmc_cam"], ["nmc811"])
    assert (cabot["state_province"], cabot["country"], cabot["status"]) == ("MI", "US",
                                                                          "operating")
    assert (cabot["capacity_value"], cabot["capacity_unit"], cabot["capacity_basis"]) == (
        20000, "t/yr", "nmc_cam")
    assert cabot["source_category"] == "Midstream | Cathode Battery Grade Materials"
    assert cabot["status_as_of"] == "2025-09-29"
    # "Cabot Corp." and its HQ "Cabot Corporation" are one organization.
    assert cabot["operator_id"] == "cabot"
    cells = rows["naatbatt-102"]
    assert (cells["stage"], cells["state_province"], cells["country"]) == ("cell", "NLE", "MX")
    assert cells["capacity_value"] is None and "50 Ah" in cells["notes"]
    assert rows["naatbatt-103"]["stage"] == "module_pack"
    assert rows["naatbatt-103"]["capacity_unit"] == "MWh/yr"
    assert rows["naatbatt-105"]["products"] == ["lithium_brine"]
    assert rows["naatbatt-106"]["stage"] == "recycling"
    assert rows["naatbatt-106"]["capacity_basis"] == "feedstock"
    card = store.organization_card("example-cells")
    assert card is not None
    assert [(o["owner_id"], o["other_country"], o["equity_pct"]) for o in card["owners"]] == [
        ("example-holdings", "KR", None)]


def test_next_edition_records_differences(store: Store, tmp_path: Path) -> None:
    import_path(store, _workbook(tmp_path / "naatbatt-database-29sep2025.xlsx", ROWS))
    newer = [list(r) for r in ROWS]
    status_at, capacity_at = HEADER.index("Status"), HEADER.index("Production Capacity")
    newer[2][status_at] = "Commercial"
    newer[0][capacity_at] = 25000
    outcome = import_path(store, _workbook(tmp_path / "naatbatt-database-31mar2026.xlsx",
                                           newer))
    assert outcome.summary.tables["facilities"].updated == 5  # the edition date moved on
    pack = store.facility_card("naatbatt-103")
    assert pack is not None
    assert [(h["as_of"], h["status"]) for h in pack["status_history"]] == [
        ("2025-09-29", "under_construction"), ("2026-03-31", "operating")]
    cabot = store.facility_card("naatbatt-101")
    assert cabot is not None
    assert ("capacity_value", "20000", "25000") in [
        (c["field"], c["old_value"], c["new_value"]) for c in cabot["changes"]]


def test_unmappable_rows_are_located(store: Store, tmp_path: Path) -> None:
    bad = _row(ID=201, Company="Mystery", **{
        "Facility Country": "US", "Supply Chain Segment": "Midstream",
        "Product/Facility Type": "Widgets", "Status": "Commercial"})
    worse = _row(ID=202, Company="Dreamer", **{
        "Facility Country": "US", "Supply Chain Segment": "Upstream",
        "Product/Facility Type": "Lithium", "Status": "Dreaming"})
    path = _workbook(tmp_path / "naatbatt-database-29sep2025.xlsx", [*ROWS, bad, worse])
    with pytest.raises(ImportFailed) as failure:
        import_path(store, path)
    messages = [str(p) for p in failure.value.problems]
    assert messages == [
        "naatbatt-database-29sep2025.xlsx sheet Append2, table facilities, row 9, "
        "Product/Facility Type: cannot tell the stage of 'widgets' (Midstream)",
        "naatbatt-database-29sep2025.xlsx sheet Append2, table facilities, row 10, "
        "Status: 'Dreaming' is not a known NAATBatt status",
    ]
    assert store.count_facilities() == 0


def test_edition_date_required(store: Store, tmp_path: Path) -> None:
    path = _workbook(tmp_path / "naatbatt.xlsx", ROWS)
    with pytest.raises(ImportFailed, match="pass --as-of"):
        import_path(store, path, "naatbatt")
    assert import_path(store, path, "naatbatt", as_of="2025-09-29").summary.tables[
        "facilities"].inserted == 5
