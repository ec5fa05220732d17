"""Properties of the file adapters: lossless round trips, located errors, no partial writes."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bmtc.domain.dataset import Dataset
from bmtc.io.importer import parse_tables
from bmtc.io.problems import ImportFailed
from bmtc.io.readers import read_file
from bmtc.io.writers import neutralize, write_dataset
from bmtc.service import import_path
from bmtc.store.store import Store
from tests.snapshot import snapshot
from tests.strategies import (
    facilities,
    funding_awards,
    list_memberships,
    organizations,
    relationships,
)

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def datasets(draw: st.DrawFn) -> Dataset:
    org_ids = draw(st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True),
                            min_size=2, max_size=5, unique=True))
    orgs = [draw(organizations(org_id)) for org_id in org_ids]
    facility_list = draw(st.lists(facilities(org_ids), min_size=1, max_size=6,
                                  unique_by=lambda f: f.id))
    rels = draw(st.lists(relationships(org_ids), max_size=4, unique_by=lambda r: r.id))
    awards = draw(st.lists(funding_awards(org_ids, [f.id for f in facility_list]), max_size=3,
                           unique_by=lambda a: a.id))
    listings = draw(st.lists(list_memberships(org_ids), max_size=3, unique_by=lambda m: m.id))
    return Dataset(organizations=orgs, relationships=rels, facilities=facility_list,
                   funding=awards, list_memberships=listings)


def _no_store(_table: str, _ids: set[str]) -> set[str]:
    return set()


def _reread(dataset: Dataset, fmt: str, name: str) -> Dataset:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        write_dataset(dataset, path, fmt)
        result = parse_tables(read_file(path, fmt), _no_store)
    assert result.rejected == []
    return result.dataset


@SETTINGS
@given(datasets(), st.sampled_from([("json", "d.json"), ("excel", "d.xlsx"),
                                    ("folder", "d")]))
def test_multi_table_formats_round_trip_every_field(dataset: Dataset,
                                                    fmt_name: tuple[str, str]) -> None:
    copy = _reread(dataset, *fmt_name)
    assert copy.organizations == dataset.organizations
    assert copy.relationships == dataset.relationships
    assert copy.facilities == dataset.facilities
    assert copy.funding == dataset.funding


@SETTINGS
@given(datasets(), st.sampled_from([("csv", "f.csv"), ("geojson", "f.geojson"),
                                    ("parquet", "f.parquet")]))
def test_facility_formats_round_trip_every_field(dataset: Dataset,
                                                 fmt_name: tuple[str, str]) -> None:
    copy = _reread(dataset, *fmt_name)
    assert copy.facilities == dataset.facilities


@given(st.text(max_size=20))
def test_csv_neutralization(value: str) -> None:
    out = neutralize(value)
    plain_number = re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", value) is not None
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not plain_number:
        assert out == "'" + value
    if isinstance(out, str) and out != value:
        assert out.startswith("'")


def test_formula_cells_are_neutralized_in_csv(tmp_path: Path) -> None:
    dataset = _one_facility_dataset(notes='=HYPERLINK("http://evil")', name="@SUM(1)")
    path = tmp_path / "f.csv"
    write_dataset(dataset, path, "csv")
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text
    assert ",-72.43," in text  # plain negative numbers stay numbers


def _one_facility_dataset(**changes: object) -> Dataset:
    from bmtc.domain.model import Facility, Organization, Source

    source = Source(url="https://example.org/a")
    values: dict[str, object] = dict(
        id="f1", name="Plant", operator_id="op", stage="refining",
        products=("lithium_hydroxide",), country="CA", latitude=46.34, longitude=-72.43,
        status="operating", status_as_of="2025-01", source=source)
    values.update(changes)
    return Dataset(organizations=[Organization(id="op", name="Op", source=source)],
                   facilities=[Facility(**values)])  # type: ignore[arg-type]


# --- malformed input ---------------------------------------------------------------------

GOOD_CSV = (
    "facility_id,name,operator_name,stage,products,country,state_province,latitude,longitude,"
    "capacity_value,capacity_unit,capacity_basis,status,status_as_of,source_url\n"
    "a1,Alpha,Op A,cell,li_ion_cells,US,TN,36.1,-86.7,30,GWh/yr,li_ion_cells,operating,"
    "2025-01,https://example.org/a\n"
    "b2,Beta,Op B,refining,lithium_hydroxide,CA,QC,46.3,-72.4,20000,t/yr,lithium_hydroxide,"
    "announced,2024-06,https://example.org/b\n"
)
JUNK = st.sampled_from(["abc", "", "-", "1e999", "NaN", "=1+1", "2025-13", "ZZ", "999",
                        "-200", "x;y", "\x00", '"', "operating", "t/yr", "lce", "1,5"])


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("seeded")
    store = Store(f"sqlite:///{folder / 'store.sqlite'}")
    (folder / "seed.csv").write_text(GOOD_CSV.replace("a1,", "seed-a1,").replace("b2,", "seed-b2,"),
                                     encoding="utf-8")
    import_path(store, folder / "seed.csv")
    return store


def _assert_failure_or_consistent(store: Store, path: Path) -> None:
    before = snapshot(store)
    try:
        import_path(store, path)
    except ImportFailed as failure:
        assert failure.problems, "a failure must say what is wrong"
        for problem in failure.problems:
            assert problem.file == path.name
            assert problem.reason
            assert str(problem).startswith(path.name)
        assert snapshot(store) == before
        return
    # Accepted: then it must have been valid, and importing it again changes nothing.
    again = snapshot(store)
    import_path(store, path)
    assert snapshot(store) == again


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.integers(2, 3), st.integers(0, 14), JUNK)
def test_corrupted_csv_cells_give_located_errors(seeded_store: Store, row: int, column: int,
                                                 junk: str) -> None:
    lines = GOOD_CSV.splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[column] = f'"{junk}"' if any(c in junk for c in ',"\n') else junk
    lines[row - 1] = ",".join(cells)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corrupt.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        before = snapshot(seeded_store)
        try:
            import_path(seeded_store, path)
        except ImportFailed as failure:
            assert snapshot(seeded_store) == before
            located = [p for p in failure.problems if p.row == row]
            assert located, f"no problem located at row {row}: {failure}"
            assert all(p.column in (*header, None) for p in located)
            return
        _assert_failure_or_consistent(seeded_store, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
       st.sampled_from(["x.csv", "x.json", "x.geojson", "x.xlsx", "x.parquet"]))
def test_arbitrary_bytes_never_write_partially(seeded_store: Store, payload: bytes,
                                               name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        _assert_failure_or_consistent(seeded_store, path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["facilities", "name", "stage", "dataset",
                                                       "country", "products", "x"]), inner,
                                      max_size=4),
                    max_leaves=12))
def test_arbitrary_json_never_writes_partially(seeded_store: Store, document: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        _assert_failure_or_consistent(seeded_store, path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.none() | st.integers(-5, 5) | st.floats(allow_nan=True)
                         | st.text(max_size=6) | st.sampled_from(["cell", "US", "2025-01"]),
                         min_size=1, max_size=6), min_size=1, max_size=4))
def test_arbitrary_excel_sheets_never_write_partially(seeded_store: Store,
                                                      cells: list[list[object]]) -> None:
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    from bmtc.io.writers import append_text_row

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "facilities"
    append_text_row(sheet, ["facility_id", "name", "operator_name", "stage", "country", "status"])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        try:
            for row in cells:
                append_text_row(sheet, row)
            workbook.save(path)
        except IllegalCharacterError:  # such a workbook cannot exist; nothing to import
            return
        _assert_failure_or_consistent(seeded_store, path)


@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_frames_written_as_csv_never_start_a_cell_with_a_formula(cells: list[str]) -> None:
    import csv
    import io as text_io

    import pandas as pd

    from bmtc.io.writers import write_frame_csv

    buffer = text_io.StringIO(newline="")
    write_frame_csv(pd.DataFrame({"name": cells, "n": range(len(cells))}), buffer)
    rows = list(csv.reader(text_io.StringIO(buffer.getvalue(), newline="")))[1:]
    assert [int(r[1]) for r in rows] == list(range(len(cells)))
    for original, (written, _) in zip(cells, rows, strict=True):
        if original.startswith(("=", "+", "@", "\t", "\r")) and not original.strip(
                "+").replace(".", "", 1).isdigit():
            assert written.startswith("'")
