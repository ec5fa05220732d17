"""Writing a dataset into the store: one transaction, upserts by stable ID, dated history.

Re-applying the same dataset changes nothing. A newer edition updates the rows that differ
and records each difference (field, old, new, as-of date, source) in `changes`; a status that
moves becomes a new dated status event rather than an overwrite. A row whose status is older
than what is stored only adds to the facility's history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table, bindparam, insert, select, update

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import StatusEvent
from bmtc.store import records as rec
from bmtc.store.schema import (
    audit_log,
    changes,
    dataset_info,
    facilities,
    funding_awards,
    imports,
    list_memberships,
    organizations,
    relationships,
    sources,
    status_events,
)

_CHUNK = 2000


@dataclass
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportSummary:
    import_id: int | None
    tables: dict[str, TableCounts] = field(default_factory=dict)
    changes: int = 0
    rejected: int = 0

    @property
    def changed_anything(self) -> bool:
        return any(c.inserted or c.updated for c in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "tables": {name: c.as_dict() for name, c in self.tables.items()},
            "changes": self.changes,
            "rejected": self.rejected,
        }


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_records(conn: Connection, table: Table, ids: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    id_list = list(dict.fromkeys(ids))
    for part in chunks(id_list):
        for row in conn.execute(select(table).where(table.c.id.in_(part))).mappings():
            found[row["id"]] = dict(row)
    return found


def bulk_insert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (one stream instead of a statement per row),
    batched executemany elsewhere. Runs inside the caller's transaction either way."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        for part in chunks(rows):
            conn.execute(insert(table), list(part))
        return
    columns = [c.name for c in table.columns if c.name in rows[0]]
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([
                json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c]
                for c in columns
            ])


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and value == int(value):
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    return str(value)


class _Writer:
    def __init__(self, conn: Connection, import_id: int | None, now: datetime):
        self.conn = conn
        self.import_id = import_id
        self.now = now
        self.change_rows: list[dict[str, Any]] = []

    def upsert(
        self,
        table: Table,
        entity_type: str,
        new_records: list[dict[str, Any]],
        as_of: Callable[[dict[str, Any]], str | None],
        keep: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
    ) -> TableCounts:
        """Insert new records, update changed ones (recording each change), skip the rest.

        `keep(old, new)` may veto an update, e.g. when the stored record is newer.
        """
        counts = TableCounts()
        compared = [c.name for c in table.columns if c.name not in ("id", "updated_at")]
        old_records = existing_records(self.conn, table, (r["id"] for r in new_records))
        inserts, updates = [], []
        for new in new_records:
            old = old_records.get(new["id"])
            if old is None:
                inserts.append(new)
                continue
            differing = [c for c in compared if old[c] != new[c]]
            if not differing or (keep is not None and keep(old, new)):
                counts.unchanged += 1
                continue
            updates.append(new)
            for column in differing:
                self.change_rows.append({
                    "import_id": self.import_id, "entity_type": entity_type,
                    "entity_id": new["id"], "field": column,
                    "old_value": _as_text(old[column]), "new_value": _as_text(new[column]),
                    "as_of": as_of(new), "source_id": new.get("source_id"),
                    "recorded_at": self.now,
                })
        bulk_insert(self.conn, table, inserts)
        if updates:
            columns = [c.name for c in table.columns if c.name != "id"]
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns})
            )
            for part in chunks(updates):
                self.conn.execute(statement, [{**r, "_id": r["id"]} for r in part])
        counts.inserted, counts.updated = len(inserts), len(updates)
        return counts

    def insert_missing(self, table: Table, new_records: list[dict[str, Any]]) -> TableCounts:
        unique = list({r["id"]: r for r in new_records}.values())
        present = existing_records(self.conn, table, (r["id"] for r in unique))
        missing = [r for r in unique if r["id"] not in present]
        bulk_insert(self.conn, table, missing)
        return TableCounts(inserted=len(missing), unchanged=len(unique) - len(missing))


def apply_dataset(
    conn: Connection, dataset: Dataset, *, file_name: str, file_sha256: str, fmt: str,
    actor: str, rejected: int = 0,
) -> ImportSummary:
    """Write `dataset` on `conn`; the caller owns the transaction. The audit log records who
    imported what; each changed field's before and after is in `changes`, by import id."""
    now = datetime.now(UTC)
    key = conn.execute(
        insert(imports).values(
            file_name=file_name, file_sha256=file_sha256, format=fmt, imported_at=now,
            counts={},
        )
    ).inserted_primary_key
    assert key is not None
    import_id = key[0]
    writer = _Writer(conn, import_id, now)
    summary = ImportSummary(import_id=import_id, rejected=rejected)

    every_source = [
        e.source
        for group in (
            dataset.organizations, dataset.operator_stubs, dataset.relationships,
            dataset.facilities, dataset.status_events, dataset.funding,
            dataset.list_memberships,
        )
        for e in group
    ]
    unique_sources = {s.id: s for s in every_source}
    writer.insert_missing(sources, [rec.source_record(s) for s in unique_sources.values()])

    if dataset.info is not None:
        _write_info(conn, dataset.info.model_dump())

    summary.tables["organizations"] = _write_organizations(writer, dataset, now)
    summary.tables["relationships"] = writer.upsert(
        relationships, "relationship",
        [rec.relationship_record(r, now) for r in dataset.relationships],
        as_of=lambda r: r["valid_from"],
    )
    summary.tables["facilities"] = writer.upsert(
        facilities, "facility",
        [rec.facility_record(f, now) for f in dataset.facilities],
        as_of=lambda r: r["status_as_of"],
        keep=lambda old, new: bool(new["status_as_of"] < old["status_as_of"]),
    )
    events = [
        rec.status_event_record(e, now)
        for e in dataset.status_events
    ] + [
        {"id": StatusEvent.key(f.id, f.status.value, f.status_as_of), "facility_id": f.id,
         "status": f.status.value, "as_of": f.status_as_of, "source_id": f.source.id,
         "notes": None, "recorded_at": now}
        for f in dataset.facilities
    ]
    summary.tables["status_history"] = writer.insert_missing(status_events, events)
    summary.tables["funding"] = writer.upsert(
        funding_awards, "funding", [rec.funding_record(a, now) for a in dataset.funding],
        as_of=lambda r: r["announced"],
    )
    summary.tables["list_memberships"] = writer.upsert(
        list_memberships, "list_membership",
        [rec.list_membership_record(e, now) for e in dataset.list_memberships],
        as_of=lambda r: r["listed_from"],
    )
    bulk_insert(conn, changes, writer.change_rows)
    summary.changes = len(writer.change_rows)
    conn.execute(
        update(imports).where(imports.c.id == import_id).values(counts=summary.as_dict())
    )
    conn.execute(audit_log.insert().values(
        at=now, actor=actor[:64], action="atlas.import", entity="import",
        entity_id=str(import_id), before=None,
        after=json.dumps({"file": file_name, "sha256": file_sha256, "format": fmt,
                          "counts": summary.as_dict()}, sort_keys=True, ensure_ascii=False)))
    return summary


def _write_organizations(writer: _Writer, dataset: Dataset, now: datetime) -> TableCounts:
    full = [rec.organization_record(o, now) for o in dataset.organizations]
    named = {r["id"] for r in full}
    stubs = {o.id: o for o in dataset.operator_stubs if o.id not in named}
    stored = existing_records(writer.conn, organizations, stubs)
    new_stubs = [
        rec.organization_record(o, now, is_stub=True)
        for oid, o in stubs.items()
        if oid not in stored
    ]
    counts = writer.upsert(organizations, "organization", full, as_of=lambda r: None)
    bulk_insert(writer.conn, organizations, new_stubs)
    counts.inserted += len(new_stubs)
    return counts


def _write_info(conn: Connection, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            continue
        exists = conn.execute(
            select(dataset_info.c.key).where(dataset_info.c.key == key)
        ).first()
        if exists:
            conn.execute(
                update(dataset_info).where(dataset_info.c.key == key).values(value=str(value))
            )
        else:
            conn.execute(insert(dataset_info).values(key=key, value=str(value)))
