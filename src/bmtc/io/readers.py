"""Reading files into raw tables: numbered rows of cells, before any validation.

Row numbers are what a person sees: in CSV and Excel the header is row 1, so the first data
row is row 2; in JSON and GeoJSON the first record is row 1.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bmtc.io.problems import ImportFailed, Problem
from bmtc.io.tables import COLUMNS, KEY_COLUMNS, TABLES, Row

FORMATS = ("csv", "excel", "json", "geojson", "parquet", "folder", "naatbatt")
_EXTENSIONS = {
    ".csv": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".json": "json",
    ".geojson": "geojson", ".parquet": "parquet",
}
# Cells the CSV exporter prefixed with a quote to keep spreadsheets from running them.
_NEUTRALIZED = re.compile(r"^'(?=[=+\-@\t\r'])")


@dataclass
class RawTables:
    file: str
    tables: dict[str, list[tuple[int, Row]]] = field(default_factory=dict)
    info: dict[str, Any] | None = None


def detect_format(path: Path, requested: str | None = None) -> str:
    if requested:
        if requested not in FORMATS:
            raise ImportFailed([Problem(path.name, None, None,
                                        f"unknown format {requested!r} (one of: "
                                        + ", ".join(FORMATS) + ")")])
        return requested
    if path.is_dir():
        return "folder"
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed([Problem(path.name, None, None,
                                    f"cannot tell the format of {path.suffix or 'a file without'}"
                                    " extension; pass --format")])
    if fmt == "excel" and _looks_like_naatbatt(path):
        return "naatbatt"
    return fmt


def _fail(file: str, reason: str, row: int | None = None) -> ImportFailed:
    return ImportFailed([Problem(file, row, None, reason)])


def _header(file: str, cells: Sequence[Any], table: str | None = None) -> list[str]:
    header = [str(c).strip() if c is not None else "" for c in cells]
    problems = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem(file, 1, None, f"column {position} has no header",
                                    table))
        elif name in seen:
            problems.append(Problem(file, 1, name, "the header repeats this column", table))
        seen.add(name)
    if problems:
        raise ImportFailed(problems)
    return header


def identify_table(file: str, header: Iterable[str], table: str | None = None) -> str:
    """Which dataset table a header belongs to, checking its columns."""
    columns = set(header)
    if table is None:
        candidates = [t for t in TABLES if KEY_COLUMNS[t] in columns and
                      (t != "status_history" or "stage" not in columns)]
        # A facility table also has `facility_id`, as do status_history and funding.
        if "award_id" in columns:
            candidates = ["funding"]
        elif "list_id" in columns:
            candidates = ["list_memberships"]
        elif "org_id" in columns:
            candidates = ["organizations"]
        elif "owned_id" in columns:
            candidates = ["relationships"]
        elif "stage" in columns:
            candidates = ["facilities"]
        if len(candidates) != 1:
            raise _fail(file, "the header matches no bmtc table (see docs/data-format.md)")
        table = candidates[0]
    unknown = sorted(columns - set(COLUMNS[table]))
    if unknown:
        raise ImportFailed([
            Problem(file, 1, name, f"is not a column of the {table} table", table)
            for name in unknown
        ])
    return table


def cell_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return value


def read_csv(path: Path, table: str | None = None) -> RawTables:
    file = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(file, f"is not UTF-8 text (byte {exc.start})") from None
    return _rows_from_csv_text(file, text, table)


def _rows_from_csv_text(file: str, text: str, table: str | None) -> RawTables:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[list[str]] = []
    try:
        lines.extend(reader)
    except csv.Error as exc:
        # The record that failed is the one after the last complete one (header = row 1).
        raise _fail(file, f"is not well-formed CSV: {exc}", row=len(lines) + 1) from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise _fail(file, "is empty")
    header = _header(file, lines[0])
    table = identify_table(file, header, table)
    rows: list[tuple[int, Row]] = []
    problems = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != len(header):
            problems.append(Problem(file, number, None,
                                    f"has {len(line)} cells but the header has {len(header)}",
                                    table))
            continue
        rows.append((number, {k: _NEUTRALIZED.sub("", v) if v.startswith("'") else v
                              for k, v in zip(header, line, strict=True)}))
    if problems:
        raise ImportFailed(problems)
    return RawTables(file, {table: rows})


def read_folder(path: Path) -> RawTables:
    raw = RawTables(path.name)
    for table in TABLES:
        csv_path = path / f"{table}.csv"
        if csv_path.exists():
            raw.tables.update(read_csv(csv_path, table).tables)
    if not raw.tables:
        raise _fail(path.name, "holds none of " + ", ".join(f"{t}.csv" for t in TABLES))
    info_path = path / "dataset.toml"
    if info_path.exists():
        try:
            raw.info = tomllib.loads(info_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise _fail("dataset.toml", f"is not valid TOML: {exc}") from None
    return raw


def open_workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise _fail(path.name, f"is not a readable Excel workbook: {exc}") from None


def sheet_rows(workbook: Any, name: str) -> list[list[Any]]:
    rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return rows


def _looks_like_naatbatt(path: Path) -> bool:
    try:
        workbook = open_workbook(path)
    except ImportFailed:
        return False
    names = {n.strip().lower() for n in workbook.sheet_names}
    return "append2" in names or not (names & set(TABLES))


def read_excel(path: Path) -> RawTables:
    file = path.name
    workbook = open_workbook(path)
    raw = RawTables(file)
    for sheet in workbook.sheet_names:
        rows = [r for r in sheet_rows(workbook, sheet) if any(_present(c) for c in r)]
        if sheet == "dataset":
            raw.info = {str(r[0]).strip(): cell_value(r[1]) for r in rows if len(r) >= 2 and r[0]}
            continue
        if not rows:
            continue
        header = _header(file, rows[0], sheet)
        table = identify_table(f"{file} sheet {sheet}", header,
                               sheet if sheet in TABLES else None)
        raw.tables[table] = [
            (number, dict(zip(header, (cell_value(c) for c in row), strict=False)))
            for number, row in enumerate(rows[1:], start=2)
        ]
    if not raw.tables:
        raise _fail(file, "has no sheet with a bmtc table")
    return raw


def _present(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def read_json(path: Path) -> RawTables:
    file = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _fail(file, f"is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _fail(file, f"is not valid JSON: {exc.msg} at line {exc.lineno} column "
                          f"{exc.colno}") from None
    if isinstance(document, list):
        document = {"facilities": document}
    if not isinstance(document, dict):
        raise _fail(file, "must hold an object of tables or a list of facility records")
    unknown = sorted(set(document) - set(TABLES) - {"dataset"})
    if unknown:
        raise _fail(file, f"has unknown top-level keys: {', '.join(unknown)}")
    raw = RawTables(file, info=document.get("dataset"))
    problems = []
    for table in TABLES:
        records = document.get(table)
        if records is None:
            continue
        if not isinstance(records, list):
            problems.append(Problem(file, None, None, f"{table} must be a list", table))
            continue
        rows: list[tuple[int, Row]] = []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                problems.append(Problem(file, number, None, "is not an object", table))
                continue
            extra = sorted(set(record) - set(COLUMNS[table]))
            problems.extend(Problem(file, number, k, f"is not a column of the {table} table",
                                    table) for k in extra)
            bad = [k for k, v in record.items() if isinstance(v, dict)
                   or (isinstance(v, list) and not all(isinstance(i, str) for i in v))]
            problems.extend(Problem(file, number, k, "must be a text, number or list of texts",
                                    table) for k in bad)
            rows.append((number, record))
        raw.tables[table] = rows
    if problems:
        raise ImportFailed(problems)
    if not raw.tables:
        raise _fail(file, "holds no table")
    return raw


def read_geojson(path: Path) -> RawTables:
    file = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(file, f"is not valid GeoJSON: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise _fail(file, "must be a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise _fail(file, "features must be a list")
    rows: list[tuple[int, Row]] = []
    problems = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(file, number, None, "is not a GeoJSON Feature"))
            continue
        props = dict(feature.get("properties") or {})
        geometry = feature.get("geometry")
        if geometry is not None:
            coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
            if (not isinstance(geometry, dict) or geometry.get("type") != "Point"
                    or not isinstance(coords, list) or len(coords) < 2
                    or not all(isinstance(c, int | float) for c in coords[:2])):
                problems.append(Problem(file, number, "geometry",
                                        "must be a Point with [longitude, latitude]"))
                continue
            props["longitude"], props["latitude"] = coords[0], coords[1]
        extra = sorted(set(props) - set(COLUMNS["facilities"]))
        problems.extend(Problem(file, number, k, "is not a facility property") for k in extra)
        rows.append((number, props))
    if problems:
        raise ImportFailed(problems)
    return RawTables(file, {"facilities": rows})


def read_parquet(path: Path) -> RawTables:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for corrupt files
        raise _fail(path.name, f"is not a readable Parquet file: {exc}") from None
    name = identify_table(path.name, table.column_names)
    records = table.to_pylist()
    return RawTables(path.name, {name: list(enumerate(records, start=2))})


def read_file(path: Path, fmt: str) -> RawTables:
    readers = {
        "csv": read_csv, "excel": read_excel, "json": read_json, "geojson": read_geojson,
        "parquet": read_parquet, "folder": read_folder,
    }
    return readers[fmt](path)
