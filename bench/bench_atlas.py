"""Benchmark of the facility atlas: import and filtered queries on SQLite and PostgreSQL.

Run from the project root:

    .venv/bin/python bench/bench_atlas.py            # 100,000 rows, both backends

It generates a deterministic synthetic `facilities` CSV (seeded RNG), then times

- an import into a fresh SQLite file,
- an import into a fresh PostgreSQL schema (created here and dropped at the end),
- a re-import of the same file on SQLite (nothing changes),
- filtered facility queries on each backend (median of 7 runs),

prints the figures against their targets, writes them to bench/out/results.json and, when
bench/baseline.json exists, compares them with it (`--save-baseline` writes that file).
Only loopback traffic: PostgreSQL is reached at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import platform
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy

from benchlib import load_baseline, postgres_reachable, postgres_schema, print_columns
from bmtc.domain.names import organization_key
from bmtc.domain.vocab import PRODUCTS, Stage, Status
from bmtc.service import import_path
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
RESULTS_PATH = OUT_DIR / "results.json"
BASELINE_PATH = BENCH_DIR / "baseline.json"

QUERY_RUNS = 7

# Targets, in seconds.
TARGET_IMPORT_S = 10.0
TARGET_QUERY_S = 0.100

COLUMNS = [
    "facility_id", "name", "operator_id", "operator_name", "stage", "source_category",
    "products", "chemistries", "city", "state_province", "country", "latitude", "longitude",
    "coordinates_precision", "capacity_value", "capacity_unit", "capacity_basis",
    "capacity_year", "start_year", "status", "status_as_of", "source_url",
    "source_publisher", "source_as_of", "source_confidence", "verified", "notes",
]

QUERIES: dict[str, FacilityFilter] = {
    "cathode_us_operating": FacilityFilter(stage="cathode", country="US", status="operating"),
    "material_lithium": FacilityFilter(material="lithium"),
}

# --- synthetic data -----------------------------------------------------------------------

# (code, approximate centre latitude, longitude, weight): battery hubs weigh more.
US_STATES: list[tuple[str, float, float, int]] = [
    ("AL", 32.8, -86.8, 3), ("AK", 61.4, -150.0, 1), ("AZ", 34.2, -111.7, 3),
    ("AR", 34.9, -92.4, 3), ("CA", 36.8, -119.4, 6), ("CO", 39.0, -105.5, 2),
    ("CT", 41.6, -72.7, 1), ("DE", 39.0, -75.5, 1), ("DC", 38.9, -77.0, 1),
    ("FL", 28.6, -82.4, 2), ("GA", 32.7, -83.4, 6), ("HI", 20.8, -156.3, 1),
    ("ID", 44.1, -114.6, 1), ("IL", 40.0, -89.2, 3), ("IN", 39.9, -86.3, 4),
    ("IA", 42.0, -93.5, 1), ("KS", 38.5, -98.4, 2), ("KY", 37.5, -85.3, 5),
    ("LA", 31.0, -92.0, 2), ("ME", 45.3, -69.2, 1), ("MD", 39.0, -76.8, 1),
    ("MA", 42.3, -71.8, 2), ("MI", 44.3, -85.4, 7), ("MN", 46.3, -94.3, 2),
    ("MS", 32.7, -89.7, 2), ("MO", 38.4, -92.5, 2), ("MT", 47.0, -109.6, 1),
    ("NE", 41.5, -99.8, 1), ("NV", 39.3, -116.6, 5), ("NH", 43.7, -71.6, 1),
    ("NJ", 40.2, -74.7, 1), ("NM", 34.4, -106.1, 1), ("NY", 42.9, -75.5, 3),
    ("NC", 35.5, -79.4, 5), ("ND", 47.4, -100.5, 1), ("OH", 40.3, -82.8, 5),
    ("OK", 35.6, -97.5, 2), ("OR", 43.9, -120.6, 1), ("PA", 40.9, -77.8, 2),
    ("RI", 41.7, -71.5, 1), ("SC", 33.9, -80.9, 5), ("SD", 44.4, -100.2, 1),
    ("TN", 35.9, -86.4, 6), ("TX", 31.5, -99.3, 6), ("UT", 39.3, -111.7, 1),
    ("VT", 44.1, -72.7, 1), ("VA", 37.5, -78.8, 2), ("WA", 47.4, -120.5, 2),
    ("WV", 38.6, -80.6, 1), ("WI", 44.6, -89.9, 2), ("WY", 43.0, -107.5, 1),
]
CA_PROVINCES: list[tuple[str, float, float, int]] = [
    ("ON", 44.5, -79.5, 8), ("QC", 46.8, -72.0, 8), ("BC", 50.5, -122.5, 3),
    ("AB", 53.5, -114.5, 2), ("SK", 52.0, -106.0, 1), ("MB", 50.5, -97.5, 2),
    ("NB", 46.5, -66.2, 1), ("NS", 45.0, -63.0, 1), ("NL", 48.5, -56.0, 1),
    ("PE", 46.3, -63.2, 1), ("YT", 61.5, -135.5, 1), ("NT", 62.5, -114.5, 1),
    ("NU", 64.0, -96.0, 1),
]
MX_STATES: list[tuple[str, float, float, int]] = [
    ("AGU", 21.9, -102.3, 1), ("BCN", 31.0, -115.5, 2), ("BCS", 25.0, -111.5, 1),
    ("CAM", 19.0, -90.5, 1), ("CHP", 16.5, -92.5, 1), ("CHH", 28.6, -106.1, 3),
    ("CMX", 19.4, -99.1, 1), ("COA", 26.9, -101.4, 4), ("COL", 19.1, -103.9, 1),
    ("DUR", 24.5, -104.6, 1), ("GUA", 21.0, -101.3, 2), ("GRO", 17.5, -99.5, 1),
    ("HID", 20.5, -98.9, 1), ("JAL", 20.6, -103.4, 2), ("MEX", 19.4, -99.6, 2),
    ("MIC", 19.2, -101.9, 1), ("MOR", 18.7, -99.1, 1), ("NAY", 21.8, -104.8, 1),
    ("NLE", 25.7, -100.3, 6), ("OAX", 17.1, -96.7, 1), ("PUE", 19.0, -98.2, 2),
    ("QUE", 20.6, -100.4, 2), ("ROO", 19.6, -88.0, 1), ("SLP", 22.2, -100.9, 3),
    ("SIN", 25.0, -107.5, 1), ("SON", 29.3, -110.3, 4), ("TAB", 18.0, -92.9, 1),
    ("TAM", 24.3, -98.8, 2), ("TLA", 19.4, -98.2, 1), ("VER", 19.2, -96.1, 1),
    ("YUC", 20.7, -89.1, 1), ("ZAC", 22.8, -102.6, 1),
]
COUNTRIES = [("US", US_STATES, 75), ("CA", CA_PROVINCES, 15), ("MX", MX_STATES, 10)]

CITY_WORDS_A = [
    "Spring", "Oak", "Clear", "Maple", "Cedar", "River", "Lake", "Pine", "Green", "Fair",
    "Silver", "Rock", "Elm", "Stone", "Red", "Sun", "North", "West", "East", "Port",
    "Saint", "Mount", "Bay", "Hill", "Iron", "Salt", "Copper", "Eagle", "Fox", "Bear",
]
CITY_WORDS_B = [
    "field", "ville", "ton", " Falls", " Creek", "wood", "dale", " Springs", " City", "burg",
    " Harbor", "view", " Valley", "port", " Junction", "ford", " Ridge", "mont",
]
OPERATOR_WORDS_A = [
    "Northwind", "Blue Ridge", "Summit", "Pioneer", "Frontier", "Keystone", "Atlas",
    "Cascade", "Great Lakes", "Prairie", "Sierra", "Laurentian", "Appalachian", "Gulf",
    "Pacific", "Boreal", "Granite", "Aurora", "Meridian", "Lone Star", "Ozark", "Tundra",
    "Canyon", "Delta", "Harbor", "Redwood", "Sonoran", "Yukon", "Piedmont", "Cumberland",
    "Huron", "Superior", "Ontario", "Champlain", "Shenandoah", "Mojave", "Sequoia",
    "Allegheny", "Saguaro", "Chinook",
]
OPERATOR_WORDS_B = [
    "Lithium", "Battery", "Materials", "Energy", "Cathode", "Anode", "Minerals", "Metals",
    "Cell", "Graphite", "Nickel", "Recycling", "Chemicals", "Power", "Electrochem",
    "Storage", "Resources", "Advanced Materials", "Mining", "Refining",
]
LEGAL_FORMS = ["Inc.", "Corp.", "LLC", "Ltd.", "Corporation", "Co.", "S.A. de C.V.", "ULC", ""]
PUBLISHERS = [
    "U.S. Department of Energy", "NAATBatt International", "Natural Resources Canada",
    "Company press release", "Benchmark Mineral Intelligence", "Reuters", "Bloomberg",
    "State economic development agency", "Investissement Quebec", "Secretaria de Economia",
    "SEC filing (10-K)", "SEDAR+ filing", "Argonne National Laboratory", "E&E News",
    "Local newspaper", "Company annual report", "USGS", "Ontario Ministry of Economic Development",
]
SOURCE_DOMAINS = [
    "energy.gov", "naatbatt.org", "natural-resources.canada.ca", "businesswire.com",
    "prnewswire.com", "reuters.com", "bloomberg.com", "sec.gov", "sedarplus.ca", "anl.gov",
    "usgs.gov", "investquebec.com", "gob.mx", "eenews.net", "globenewswire.com",
]
STATUS_WEIGHTS = {
    Status.OPERATING: 45, Status.UNDER_CONSTRUCTION: 15, Status.ANNOUNCED: 20,
    Status.PAUSED: 7, Status.CANCELLED: 8, Status.CLOSED: 5,
}
STAGE_WEIGHTS = {
    Stage.MINING: 12, Stage.REFINING: 10, Stage.PRECURSOR: 5, Stage.CATHODE: 9,
    Stage.ANODE: 8, Stage.ELECTROLYTE: 6, Stage.SEPARATOR: 5, Stage.FOIL: 4, Stage.CELL: 14,
    Stage.MODULE_PACK: 15, Stage.RECYCLING: 12,
}
CHEMISTRIES_BY_STAGE: dict[Stage, list[str]] = {
    Stage.PRECURSOR: ["nmc811", "nmc622", "nca", "lfp", "nmc90"],
    Stage.CATHODE: ["nmc811", "nmc622", "nmc532", "nca", "lfp", "lmfp", "nmca", "lmo"],
    Stage.CELL: ["nmc811", "nca", "lfp", "lmfp", "sodium_ion", "solid_state", "iron_air"],
    Stage.MODULE_PACK: ["nmc", "lfp", "nca"],
    Stage.RECYCLING: ["nmc", "lfp", "nca"],
    Stage.ANODE: ["silicon"],
}
SOURCE_CATEGORIES = [
    "Raw Materials / Mining", "Processing / Refining", "Active Materials", "Cell Manufacturing",
    "Module and Pack", "End of Life / Recycling", "Separator", "Electrolyte", "Components",
]
NOTES = [
    "Capacity from company presentation; full build-out figure.",
    'Phase 1 only, "pilot" line; expansion announced.',
    "Site shared with another operator, see source.",
    "Location approximate (county seat).",
    "Status reported by local press, not confirmed by the company.",
]


@dataclass
class SyntheticSpec:
    rows: int
    seed: int
    operators: int = 2000
    source_urls: int = 400


def _weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _operators(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` operators as (name, id), the id being the key bmtc derives from the name."""
    found: dict[str, str] = {}
    for attempt in range(count * 20):  # bounded: numbered names fill any shortfall below
        if len(found) >= count:
            break
        name = f"{rng.choice(OPERATOR_WORDS_A)} {rng.choice(OPERATOR_WORDS_B)}"
        if attempt >= len(OPERATOR_WORDS_A) * len(OPERATOR_WORDS_B) // 2:
            name += f" {rng.randint(2, 999)}"
        form = rng.choice(LEGAL_FORMS)
        full = f"{name} {form}".strip()
        key = organization_key(full)
        found.setdefault(key, full)
    for number in range(count - len(found)):
        full = f"Synthetic Operator {number + 1} Inc."
        found.setdefault(organization_key(full), full)
    return [(name, key) for key, name in found.items()]


def _sources(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """(url, publisher, as_of, confidence): each URL always cited with the same details."""
    result = []
    for number in range(count):
        domain = rng.choice(SOURCE_DOMAINS)
        url = f"https://www.{domain}/articles/{2019 + number % 8}/battery-{number:04d}"
        as_of = f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}"
        confidence = _weighted(rng, ["primary", "secondary", "uncertain"], [3, 6, 1])
        result.append((url, rng.choice(PUBLISHERS), as_of, confidence))
    return result


def _partial_date(rng: random.Random, low: int, high: int) -> str:
    year = rng.randint(low, high)
    precision = rng.random()
    if precision < 0.2:
        return str(year)
    month = rng.randint(1, 12)
    if precision < 0.5:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def _capacity(rng: random.Random, stage: Stage, products: list[str]) -> tuple[str, str, str]:
    if stage in (Stage.CELL, Stage.MODULE_PACK):
        if rng.random() < 0.85:
            return f"{rng.lognormvariate(2.3, 1.0):.1f}", "GWh/yr", products[0]
        return f"{rng.lognormvariate(6.0, 1.0):.0f}", "MWh/yr", products[0]
    if stage is Stage.SEPARATOR and rng.random() < 0.7:
        return f"{rng.lognormvariate(18.5, 1.0):.0f}", "m2/yr", products[0]
    if stage is Stage.RECYCLING and rng.random() < 0.4:
        return f"{rng.lognormvariate(9.5, 1.0):.0f}", "t/yr", "feedstock"
    if stage in (Stage.MINING, Stage.REFINING) and "lithium" in products[0]:
        basis = rng.choice([products[0], "lce", "contained_li"])
    elif stage in (Stage.MINING, Stage.REFINING) and "nickel" in products[0]:
        basis = rng.choice([products[0], "contained_ni"])
    else:
        basis = products[0]
    if rng.random() < 0.3:
        return f"{rng.lognormvariate(3.0, 1.0):.1f}", "kt/yr", basis
    return f"{rng.lognormvariate(9.8, 1.2):.0f}", "t/yr", basis


def generate_csv(path: Path, spec: SyntheticSpec) -> dict[str, Any]:
    """Write the synthetic facilities CSV; return a few facts about it."""
    rng = random.Random(spec.seed)
    operators = _operators(rng, spec.operators)
    # A few large operators run many sites; most run a handful (Zipf-like weights).
    operator_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(operators))]
    sources = _sources(rng, spec.source_urls)
    products_by_stage = {
        stage: [code for code, p in PRODUCTS.items() if stage in p.stages] for stage in Stage
    }
    stages, stage_weights = list(STAGE_WEIGHTS), list(STAGE_WEIGHTS.values())
    statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    countries = [c for c, _, _ in COUNTRIES]
    country_weights = [w for _, _, w in COUNTRIES]
    regions = {c: subs for c, subs, _ in COUNTRIES}
    region_weights = {c: [w for *_, w in subs] for c, subs, _ in COUNTRIES}
    cities = [a + b for a in CITY_WORDS_A for b in CITY_WORDS_B]

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(1, spec.rows + 1):
            op_name, op_id = _weighted(rng, operators, operator_weights)
            stage: Stage = _weighted(rng, stages, stage_weights)
            candidates = products_by_stage[stage]
            products = rng.sample(candidates, k=min(len(candidates), rng.choice([1, 1, 1, 2, 3])))
            country = _weighted(rng, countries, country_weights)
            state, lat0, lon0, _ = _weighted(rng, regions[country], region_weights[country])
            city = rng.choice(cities)
            has_coords = rng.random() < 0.9
            lat = min(84.0, max(14.0, lat0 + rng.uniform(-1.0, 1.0)))
            lon = min(-50.0, max(-180.0, lon0 + rng.uniform(-1.5, 1.5)))
            cap_value = cap_unit = cap_basis = cap_year = ""
            if rng.random() < 0.6:
                cap_value, cap_unit, cap_basis = _capacity(rng, stage, products)
                cap_year = str(rng.randint(2020, 2032)) if rng.random() < 0.7 else ""
            status: Status = _weighted(rng, statuses, status_weights)
            chems = CHEMISTRIES_BY_STAGE.get(stage, [])
            chemistries = ";".join(rng.sample(chems, k=rng.randint(1, min(2, len(chems))))) \
                if chems and rng.random() < 0.6 else ""
            url, publisher, src_as_of, confidence = rng.choice(sources)
            stage_slug = stage.value.replace("_", "-")
            writer.writerow([
                f"{op_id[:60]}-{stage_slug}-{number:06d}",
                f"{op_name} {city} {stage.value.replace('_', ' ').title()} Plant",
                op_id if rng.random() < 0.7 else "",
                op_name,
                stage.value,
                rng.choice(SOURCE_CATEGORIES) if rng.random() < 0.5 else "",
                ";".join(products),
                chemistries,
                city,
                state,
                country,
                f"{lat:.5f}" if has_coords else "",
                f"{lon:.5f}" if has_coords else "",
                rng.choice(["site", "city", "county", "region"]) if has_coords else "",
                cap_value, cap_unit, cap_basis, cap_year,
                str(rng.randint(1960, 2030)) if rng.random() < 0.7 else "",
                status.value,
                _partial_date(rng, 2019, 2026),
                url,
                publisher if rng.random() < 0.9 else "",
                src_as_of,
                confidence,
                "yes" if rng.random() < 0.4 else "no",
                rng.choice(NOTES) if rng.random() < 0.1 else "",
            ])
    return {
        "rows": spec.rows, "seed": spec.seed, "operators": len(operators),
        "source_urls": len(sources), "bytes": path.stat().st_size,
    }


# --- measuring ----------------------------------------------------------------------------

@dataclass
class Figure:
    name: str
    seconds: float
    target: float | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if self.target is None else self.seconds / self.target

    def as_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "seconds": round(self.seconds, 6), "target_s": self.target,
            "ratio": None if ratio is None else round(ratio, 4),
            "ok": None if ratio is None else ratio <= 1.0, "detail": self.detail,
        }


class PhaseClock:
    """Progress callback for import_path that timestamps its phases (read, check, write)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: dict[str, float] = {}

    def __call__(self, what: str, _done: int, _total: int) -> None:
        key = ("read" if what.startswith("Read ") else "check" if what.startswith("Checking")
               else "write" if what.startswith("Writing") else "written"
               if what == "Written" else what)
        self.marks.setdefault(key, time.perf_counter())

    def split(self, end: float) -> dict[str, float]:
        read = self.marks.get("read", self.start)
        write = self.marks.get("write", end)
        written = self.marks.get("written", end)
        return {
            "read_s": round(read - self.start, 3),
            "validate_s": round(write - read, 3),
            "db_write_s": round(written - write, 3),
        }


def timed_import(store: Store, csv_path: Path, name: str, target: float | None) -> Figure:
    clock = PhaseClock()
    outcome = import_path(store, csv_path, progress=clock)
    end = time.perf_counter()
    counts = outcome.summary.tables["facilities"]
    detail: dict[str, Any] = {**clock.split(end), "facilities": counts.as_dict(),
                              "organizations": outcome.summary.tables["organizations"].as_dict()}
    return Figure(name, end - clock.start, target, detail)


def timed_queries(store: Store, backend: str) -> list[Figure]:
    figures = []
    for label, flt in QUERIES.items():
        runs: list[float] = []
        found = 0
        for _ in range(QUERY_RUNS):
            start = time.perf_counter()
            found = len(store.facility_rows(flt))
            runs.append(time.perf_counter() - start)
        figures.append(Figure(
            f"query_{label}_{backend}", statistics.median(runs), TARGET_QUERY_S,
            {"rows_returned": found, "runs": QUERY_RUNS, "min_s": round(min(runs), 6),
             "max_s": round(max(runs), 6)},
        ))
    return figures


def check_counts(figure: Figure, inserted: int, unchanged: int) -> None:
    counts = figure.detail["facilities"]
    if counts["inserted"] != inserted or counts["unchanged"] != unchanged:
        raise SystemExit(f"{figure.name}: unexpected facility counts {counts} "
                         f"(expected {inserted} inserted, {unchanged} unchanged)")


def fresh_sqlite_url(db: Path) -> str:
    """URL of an empty SQLite file: any earlier one (and its WAL files) is removed first."""
    for leftover in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{db}"


def open_and_import(url: str, csv_path: Path, name: str, rows: int) -> tuple[Store, Figure]:
    """Open (and migrate) an empty store, then time the first import into it."""
    started = time.perf_counter()
    store = Store(url)
    opened = time.perf_counter() - started
    first = timed_import(store, csv_path, name, TARGET_IMPORT_S)
    first.detail["store_open_s"] = round(opened, 3)
    check_counts(first, rows, 0)
    return store, first


def bench_sqlite(csv_path: Path, workdir: Path, rows: int) -> list[Figure]:
    url = fresh_sqlite_url(workdir / "bench.sqlite")
    store, first = open_and_import(url, csv_path, "import_sqlite", rows)
    try:
        again = timed_import(store, csv_path, "reimport_sqlite", None)
        check_counts(again, 0, rows)
        return [first, again, *timed_queries(store, "sqlite")]
    finally:
        store.close()


def bench_postgres(csv_path: Path, rows: int) -> list[Figure]:
    with postgres_schema() as url:
        store, first = open_and_import(url, csv_path, "import_postgres", rows)
        try:
            return [first, *timed_queries(store, "postgres")]
        finally:
            store.close()


def profile_import(csv_path: Path, workdir: Path, top: int) -> Path:
    """cProfile one more import into a fresh SQLite file (not part of the timed figures)."""
    store = Store(fresh_sqlite_url(workdir / "profile.sqlite"))
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        import_path(store, csv_path)
        profiler.disable()
    finally:
        store.close()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    dump = OUT_DIR / "import_sqlite.prof"
    profiler.dump_stats(str(dump))
    for order in ("cumulative", "tottime"):
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats(order).print_stats(top)
        print(f"\n--- cProfile of a SQLite import, top {top} by {order} ---")
        print(buffer.getvalue().split("\n\n", 1)[-1].rstrip())
    return dump


# --- reporting ----------------------------------------------------------------------------

def _fmt_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def print_table(figures: list[Figure], baseline: dict[str, Any] | None) -> None:
    base = (baseline or {}).get("results", {})
    header = ["figure", "measured", "target", "ratio", "ok"]
    if baseline is not None:
        header.append("vs baseline")
    lines = [header]
    for fig in figures:
        ratio = fig.ratio
        line = [
            fig.name, _fmt_seconds(fig.seconds),
            "-" if fig.target is None else _fmt_seconds(fig.target),
            "-" if ratio is None else f"{ratio:.2f}",
            "-" if ratio is None else ("ok" if ratio <= 1.0 else "MISS"),
        ]
        if baseline is not None:
            old = base.get(fig.name, {}).get("seconds")
            line.append(f"{fig.seconds / old:.2f}x" if old else "n/a")
        lines.append(line)
    print_columns(lines)


def print_details(figures: list[Figure]) -> None:
    for fig in figures:
        d = fig.detail
        if "validate_s" in d:
            print(f"  {fig.name}: read {d['read_s']} s, validate {d['validate_s']} s, "
                  f"database write {d['db_write_s']} s; facilities {d['facilities']}"
                  + (f"; store open {d['store_open_s']} s" if "store_open_s" in d else ""))
        elif "rows_returned" in d:
            print(f"  {fig.name}: {d['rows_returned']} rows, min {_fmt_seconds(d['min_s'])}, "
                  f"max {_fmt_seconds(d['max_s'])} over {d['runs']} runs")


# --- main ---------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="facility rows (100000)")
    parser.add_argument("--seed", type=int, default=20260101, help="RNG seed")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--save-baseline", action="store_true",
                        help="write these results as bench/baseline.json")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one extra SQLite import (untimed)")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the CSV and SQLite files go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--fail-on-miss", action="store_true",
                        help="exit with status 1 if any figure misses its target")
    args = parser.parse_args(argv)
    if not 1 <= args.rows <= 10_000_000:
        parser.error("--rows must be between 1 and 10,000,000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    own_workdir = args.workdir is None
    workdir: Path = (Path(tempfile.mkdtemp(prefix="bmtc-bench-")) if own_workdir
                     else args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    run_started = time.perf_counter()
    try:
        csv_path = workdir / f"facilities-{args.rows}.csv"
        started = time.perf_counter()
        facts = generate_csv(csv_path, SyntheticSpec(rows=args.rows, seed=args.seed))
        print(f"Generated {csv_path} ({facts['rows']:,} rows, {facts['operators']:,} operators, "
              f"{facts['source_urls']} source URLs, {facts['bytes'] / 1e6:.1f} MB) "
              f"in {time.perf_counter() - started:.1f} s")

        figures = bench_sqlite(csv_path, workdir, args.rows)
        postgres_note: str | None = None
        if args.no_postgres:
            postgres_note = "skipped (--no-postgres)"
        else:
            unreachable = postgres_reachable()
            if unreachable:
                postgres_note = f"skipped (server at 127.0.0.1:5432 unreachable: {unreachable})"
            else:
                figures += bench_postgres(csv_path, args.rows)
        order = ["import_sqlite", "import_postgres", "reimport_sqlite"]
        figures.sort(key=lambda f: (order.index(f.name) if f.name in order else len(order)))

        baseline = load_baseline(BASELINE_PATH)
        if baseline is not None:
            base_rows = baseline.get("meta", {}).get("data", {}).get("rows")
            if base_rows != args.rows:
                print(f"\nNote: the baseline was measured on {base_rows} rows, this run on "
                      f"{args.rows}; its ratios are not comparable.")
        print()
        print_table(figures, baseline)
        print()
        print_details(figures)
        if postgres_note:
            print(f"\nPostgreSQL: {postgres_note}")

        results = {
            "meta": {
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "python": sys.version.split()[0], "sqlalchemy": sqlalchemy.__version__,
                "platform": platform.platform(), "postgres": postgres_note or "measured",
                "query_runs": QUERY_RUNS, "data": facts,
                "queries": {k: {f: v for f, v in vars(q).items() if v is not None}
                            for k, q in QUERIES.items()},
            },
            "results": {fig.name: fig.as_dict() for fig in figures},
        }
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nResults written to {RESULTS_PATH}")
        if args.save_baseline:
            BASELINE_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
            print(f"Baseline written to {BASELINE_PATH}")
        elif baseline is None:
            print("No baseline (bench/baseline.json); --save-baseline writes one.")

        if args.profile:
            dump = profile_import(csv_path, workdir, args.profile_top)
            print(f"\nProfile written to {dump}")
        print(f"\nTotal benchmark time {time.perf_counter() - run_started:.1f} s")
        missed = [f.name for f in figures if f.ratio is not None and f.ratio > 1.0]
        return 1 if args.fail_on_miss and missed else 0
    finally:
        if own_workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif own_workdir:
            print(f"Kept {workdir}")


if __name__ == "__main__":
    raise SystemExit(main())
