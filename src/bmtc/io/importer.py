"""From raw tables to a validated Dataset, with every problem located.

All or nothing by default: any problem fails the whole file. With `skip_invalid` the good rows
go through and each rejected row is returned with its reasons (a rejected organization takes
the rows that refer to it along).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bmtc.domain.dataset import Dataset
from bmtc.io.problems import ImportFailed, Problem, RowError
from bmtc.io.readers import RawTables
from bmtc.io.tables import (
    COLUMNS,
    Row,
    dataset_info_from_mapping,
    facility_from_row,
    funding_from_row,
    list_membership_from_row,
    organization_from_row,
    relationship_from_row,
    status_event_from_row,
)
from bmtc.io.writers import neutralize


@dataclass
class Rejected:
    table: str
    row: int
    values: Row
    problems: list[Problem]


@dataclass
class ParseResult:
    dataset: Dataset
    rejected: list[Rejected] = field(default_factory=list)
    skipped: int = 0

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rejected for p in r.problems]


# Which already-stored IDs exist: (table name, candidate ids) -> the ones found.
ExistingIds = Callable[[str, set[str]], set[str]]
# Progress report: (what is being done, units done, units in all).
Progress = Callable[[str, int, int], None]


def _silent(_what: str, _done: int, _total: int) -> None:
    return None


def parse_tables(raw: RawTables, existing_ids: ExistingIds,
                 progress: Progress = _silent) -> ParseResult:
    dataset = Dataset()
    result = ParseResult(dataset)
    located: dict[str, list[tuple[int, Any, Row]]] = {}

    def reject(table: str, number: int, values: Row, problems: list[Problem]) -> None:
        result.rejected.append(Rejected(table, number, values, problems))

    total = sum(len(rows) for rows in raw.tables.values())
    checked = 0

    def convert(table: str, parse: Callable[[Row], Any]) -> list[tuple[int, Any, Row]]:
        nonlocal checked
        items = []
        for number, row in raw.tables.get(table, []):
            checked += 1
            if checked % 1000 == 0 or checked == total:
                progress(f"Checking {table}", checked, total)
            try:
                items.append((number, parse(row), row))
            except RowError as exc:
                reject(table, number, row, [
                    Problem(raw.file, number, column, reason, table)
                    for column, reason in exc.problems
                ])
        return items

    if raw.info:
        try:
            dataset.info = dataset_info_from_mapping(raw.info)
        except ValidationError as exc:
            raise ImportFailed([
                Problem(raw.file, None, ".".join(str(p) for p in e["loc"]), e["msg"], "dataset")
                for e in exc.errors()
            ]) from None

    located["organizations"] = convert("organizations", organization_from_row)
    located["relationships"] = convert("relationships", relationship_from_row)
    located["facilities"] = convert("facilities", facility_from_row)
    located["status_history"] = convert("status_history", status_event_from_row)
    located["funding"] = convert("funding", funding_from_row)
    located["list_memberships"] = convert("list_memberships", list_membership_from_row)

    _reject_duplicates(raw.file, located, reject)
    _check_references(raw.file, located, existing_ids, reject)

    dataset.organizations = [e for _, e, _ in located["organizations"]]
    dataset.relationships = [e for _, e, _ in located["relationships"]]
    dataset.facilities = [f for _, (f, _), _ in located["facilities"]]
    dataset.operator_stubs = [o for _, (_, o), _ in located["facilities"]]
    dataset.status_events = [e for _, e, _ in located["status_history"]]
    dataset.funding = [e for _, e, _ in located["funding"]]
    dataset.list_memberships = [e for _, e, _ in located["list_memberships"]]
    result.rejected.sort(key=lambda r: (list(COLUMNS).index(r.table), r.row))
    return result


def _entity_id(table: str, entity: Any) -> str:
    if table == "facilities":
        return str(entity[0].id)
    return str(entity.id)


_ID_COLUMN = {
    "organizations": "org_id", "relationships": "owned_id", "facilities": "facility_id",
    "status_history": "as_of", "funding": "award_id", "list_memberships": "org_id",
}


def _reject_duplicates(
    file: str, located: dict[str, list[tuple[int, Any, Row]]],
    reject: Callable[[str, int, Row, list[Problem]], None],
) -> None:
    for table, items in located.items():
        first: dict[str, int] = {}
        kept = []
        for number, entity, row in items:
            key = _entity_id(table, entity)
            if key in first:
                reject(table, number, row, [Problem(
                    file, number, _ID_COLUMN[table],
                    f"repeats row {first[key]} (same {table} record {key!r})", table)])
                continue
            first[key] = number
            kept.append((number, entity, row))
        located[table] = kept


def _check_references(
    file: str, located: dict[str, list[tuple[int, Any, Row]]], existing_ids: ExistingIds,
    reject: Callable[[str, int, Row, list[Problem]], None],
) -> None:
    """Drop rows that point at organizations or facilities that exist nowhere."""
    def known(table: str, here: Iterable[str], wanted: set[str]) -> set[str]:
        here_set = set(here)
        return here_set | existing_ids(table, wanted - here_set)

    orgs_here = {e.id for _, e, _ in located["organizations"]}
    orgs_here |= {stub.id for _, (_, stub), _ in located["facilities"]}
    wanted_orgs = {e.owner_id for _, e, _ in located["relationships"]}
    wanted_orgs |= {e.owned_id for _, e, _ in located["relationships"]}
    wanted_orgs |= {e.recipient_id for _, e, _ in located["funding"]}
    wanted_orgs |= {e.org_id for _, e, _ in located["list_memberships"]}
    org_ids = known("organizations", orgs_here, wanted_orgs)

    facility_ids_here = {f.id for _, (f, _), _ in located["facilities"]}
    wanted_facilities = {e.facility_id for _, e, _ in located["status_history"]}
    wanted_facilities |= {e.facility_id for _, e, _ in located["funding"] if e.facility_id}
    facility_ids = known("facilities", facility_ids_here, wanted_facilities)

    checks: dict[str, list[tuple[str, set[str], str]]] = {
        "relationships": [("owner_id", org_ids, "organization"),
                          ("owned_id", org_ids, "organization")],
        "status_history": [("facility_id", facility_ids, "facility")],
        "funding": [("recipient_id", org_ids, "organization"),
                    ("facility_id", facility_ids, "facility")],
        "list_memberships": [("org_id", org_ids, "organization")],
    }
    for table, rules in checks.items():
        kept = []
        for number, entity, row in located[table]:
            problems = [
                Problem(file, number, column,
                        f"{getattr(entity, column)!r} is not a known {kind}", table)
                for column, ids, kind in rules
                if getattr(entity, column) is not None and getattr(entity, column) not in ids
            ]
            if problems:
                reject(table, number, row, problems)
            else:
                kept.append((number, entity, row))
        located[table] = kept


def write_rejects(path: Path, rejected: list[Rejected]) -> None:
    """One row per rejected input row: where it was, why, and its original cells."""
    value_columns: list[str] = []
    for item in rejected:
        for column in item.values:
            if column not in value_columns:
                value_columns.append(column)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["table", "row", "reason", *value_columns])
        for item in rejected:
            reason = "; ".join(
                f"{p.column}: {p.reason}" if p.column else p.reason for p in item.problems
            )
            cells = [neutralize(_reject_cell(item.values.get(c))) for c in value_columns]
            writer.writerow([item.table, item.row, neutralize(reason), *cells])


def _reject_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)
