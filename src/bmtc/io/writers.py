"""Writing a dataset to CSV, Excel, GeoJSON, Parquet or JSON.

CSV text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
tab or carriage return) are prefixed with a quote; the CSV reader removes it again, so an
export imports back unchanged.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bmtc.domain.dataset import Dataset
from bmtc.io.tables import (
    COLUMNS,
    facility_to_row,
    flat_cell,
    funding_to_row,
    list_membership_to_row,
    organization_to_row,
    relationship_to_row,
    status_event_to_row,
)

EXPORT_FORMATS = ("csv", "excel", "geojson", "parquet", "json", "folder")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "'")
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$")


def neutralize(value: Any) -> Any:
    """Quote text a spreadsheet would otherwise treat as a formula."""
    if isinstance(value, str) and value.startswith(_DANGEROUS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def write_frame_csv(frame: Any, target: Any) -> None:
    """A pandas frame as CSV (to a path or an open stream) with formula-like text quoted."""
    from pandas.api.types import is_numeric_dtype

    safe = frame.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralize).astype(object)
    # CRLF line ends make the writer quote any field holding a lone carriage return.
    safe.to_csv(target, index=False, lineterminator="\r\n")


def table_rows(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    names = {o.id: o.name for o in (*dataset.operator_stubs, *dataset.organizations)}
    return {
        "organizations": [organization_to_row(o) for o in dataset.organizations],
        "relationships": [relationship_to_row(r) for r in dataset.relationships],
        "facilities": [facility_to_row(f, names.get(f.operator_id, f.operator_id))
                       for f in dataset.facilities],
        "status_history": [status_event_to_row(e) for e in dataset.status_events],
        "funding": [funding_to_row(a) for a in dataset.funding],
        "list_memberships": [list_membership_to_row(e) for e in dataset.list_memberships],
    }


def _info(dataset: Dataset) -> dict[str, Any]:
    return {} if dataset.info is None else dataset.info.model_dump(exclude_none=True)


def _write_csv_rows(path: Path, table: str, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS[table])
        for row in rows:
            writer.writerow(
                ["" if (v := flat_cell(row[c])) is None else neutralize(_csv_text(v))
                 for c in COLUMNS[table]]
            )


def _csv_text(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def write_csv(dataset: Dataset, path: Path, table: str = "facilities") -> None:
    _write_csv_rows(path, table, table_rows(dataset)[table])


def write_folder(dataset: Dataset, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for table, rows in table_rows(dataset).items():
        _write_csv_rows(path / f"{table}.csv", table, rows)
    info = _info(dataset)
    if info:
        lines = [f"{k} = {json.dumps(str(v), ensure_ascii=False)}" for k, v in info.items()]
        (path / "dataset.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_excel(dataset: Dataset, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    info_sheet = workbook.active
    info_sheet.title = "dataset"
    for key, value in _info(dataset).items():
        append_text_row(info_sheet, [key, str(value)])
    for table, rows in table_rows(dataset).items():
        sheet = workbook.create_sheet(table)
        append_text_row(sheet, COLUMNS[table])
        for row in rows:
            append_text_row(sheet, [flat_cell(row[c]) for c in COLUMNS[table]])
        sheet.freeze_panes = "A2"
    workbook.save(path)


def append_text_row(sheet: Any, values: list[Any]) -> None:
    sheet.append(values)
    # openpyxl takes text starting with '=' for a formula; keep every text cell as text.
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def write_geojson(dataset: Dataset, path: Path) -> None:
    features = []
    for row in table_rows(dataset)["facilities"]:
        lat, lon = row["latitude"], row["longitude"]
        properties = {k: v for k, v in row.items() if k not in ("latitude", "longitude")}
        features.append({
            "type": "Feature",
            "geometry": None if lat is None else {"type": "Point", "coordinates": [lon, lat]},
            "properties": properties,
        })
    document = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def write_parquet(dataset: Dataset, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    floats = {"latitude", "longitude", "capacity_value"}
    ints = {"capacity_year", "start_year"}
    schema = pa.schema([
        (c, pa.float64() if c in floats else pa.int64() if c in ints else pa.string())
        for c in COLUMNS["facilities"]
    ])
    rows = [{c: flat_cell(r[c]) for c in COLUMNS["facilities"]}
            for r in table_rows(dataset)["facilities"]]
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def write_json(dataset: Dataset, path: Path) -> None:
    document: dict[str, Any] = {"dataset": _info(dataset), **table_rows(dataset)}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def write_dataset(dataset: Dataset, path: Path, fmt: str, table: str = "facilities") -> None:
    if fmt == "csv":
        write_csv(dataset, path, table)
        return
    writers = {
        "excel": write_excel, "geojson": write_geojson, "parquet": write_parquet,
        "json": write_json, "folder": write_folder,
    }
    writers[fmt](dataset, path)
