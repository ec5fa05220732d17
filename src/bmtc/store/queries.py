"""Reading the store: filtered facility lists, cards, organizations and the full dataset."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, cast, func, or_, select

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import DatasetInfo, Facility, Organization, Source
from bmtc.domain.vocab import Material, RelationshipKind, products_for_material
from bmtc.store import records as rec
from bmtc.store.schema import (
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

CONTROL_KINDS = (RelationshipKind.OWNERSHIP.value, RelationshipKind.JOINT_VENTURE.value)


@dataclass(frozen=True)
class FacilityFilter:
    stage: str | None = None
    country: str | None = None
    state: str | None = None
    status: str | None = None
    material: str | None = None
    product: str | None = None
    operator: str | None = None
    owner_country: str | None = None
    limit: int | None = None


def _sources(conn: Connection, ids: Iterable[str]) -> dict[str, Source]:
    found: dict[str, Source] = {}
    id_list = list(set(ids))
    for start in range(0, len(id_list), 2000):
        part = id_list[start : start + 2000]
        for row in conn.execute(select(sources).where(sources.c.id.in_(part))).mappings():
            found[row["id"]] = rec.source_from_record(dict(row))
    return found


def dataset_meta(conn: Connection) -> DatasetInfo | None:
    values = {r.key: r.value for r in conn.execute(select(dataset_info))}
    if not {"name", "version", "as_of"} <= values.keys():
        return None
    return DatasetInfo(**{k: values.get(k) for k in ("name", "version", "as_of", "description")})


def controlled_from(conn: Connection, country: str) -> set[str]:
    """Organizations headquartered in `country` and everything they own, at any depth."""
    roots = {
        r.id for r in conn.execute(
            select(organizations.c.id).where(organizations.c.country_hq == country)
        )
    }
    owned_by: dict[str, list[str]] = defaultdict(list)
    query = select(relationships.c.owner_id, relationships.c.owned_id).where(
        relationships.c.kind.in_(CONTROL_KINDS), relationships.c.valid_to.is_(None)
    )
    for owner, owned in conn.execute(query):
        owned_by[owner].append(owned)
    reached, queue = set(roots), deque(roots)
    while queue:
        for child in owned_by[queue.popleft()]:
            if child not in reached:
                reached.add(child)
                queue.append(child)
    return reached


def facility_rows(conn: Connection, flt: FacilityFilter) -> list[dict[str, Any]]:
    """Facilities matching the filter, with the operator's name, as plain records."""
    query = _facility_query(conn, flt)
    if query is None:
        return []
    if flt.limit is not None:
        query = query.limit(flt.limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def atlas_version(conn: Connection) -> tuple[int, int]:
    """A value that changes whenever the atlas does: every atlas write is an import, and
    each import adds a row to `imports` in the same transaction. The count as well as the
    highest id, since on PostgreSQL ids are handed out in insert order, not commit order: a
    slower import committing after a faster one with a higher id still raises the count."""
    count, highest = conn.execute(
        select(func.count(), func.coalesce(func.max(imports.c.id), 0)).select_from(imports)
    ).one()
    return int(count), int(highest)


SORTABLE = ("name", "country", "stage", "status", "capacity_value", "start_year")


def facility_page(conn: Connection, flt: FacilityFilter, sort: str, descending: bool,
                  offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of matching facilities, sorted in the database (rows without the sort value
    last), and the number that match."""
    if sort not in SORTABLE:
        raise ValueError(f"cannot sort by {sort!r} (one of: {', '.join(SORTABLE)})")
    query = _facility_query(conn, flt)
    if query is None:
        return [], 0
    total = int(conn.execute(select(func.count()).select_from(
        query.order_by(None).subquery())).scalar_one())
    column = facilities.c[sort]
    ordered = query.order_by(None).order_by(
        column.is_(None), column.desc() if descending else column.asc(), facilities.c.id)
    rows = [dict(r) for r in conn.execute(ordered.offset(offset).limit(limit)).mappings()]
    return rows, total


def _facility_query(conn: Connection, flt: FacilityFilter) -> Select[Any] | None:
    query = (
        select(
            facilities,
            organizations.c.name.label("operator_name"),
            sources.c.url.label("source_url"),
            sources.c.publisher.label("source_publisher"),
            sources.c.as_of.label("source_as_of"),
            sources.c.confidence.label("source_confidence"),
        )
        .join(organizations, organizations.c.id == facilities.c.operator_id)
        .join(sources, sources.c.id == facilities.c.source_id)
        .order_by(facilities.c.id)
    )
    if flt.stage:
        query = query.where(facilities.c.stage == flt.stage)
    if flt.country:
        query = query.where(facilities.c.country == flt.country)
    if flt.state:
        query = query.where(facilities.c.state_province == flt.state)
    if flt.status:
        query = query.where(facilities.c.status == flt.status)
    codes: set[str] = set()
    if flt.material:
        codes |= products_for_material(Material(flt.material))
    if flt.product:
        codes.add(flt.product)
    if codes:
        products_text = cast(facilities.c.products, String)
        query = query.where(or_(*(products_text.like(f'%"{code}"%') for code in codes)))
    if flt.operator:
        pattern = f"%{flt.operator.lower()}%"
        query = query.where(
            or_(func.lower(organizations.c.name).like(pattern),
                facilities.c.operator_id == flt.operator)
        )
    if flt.owner_country:
        controlled = controlled_from(conn, flt.owner_country)
        if not controlled:
            return None
        query = query.where(facilities.c.operator_id.in_(sorted(controlled)))
    return query


def count_facilities(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(facilities)).scalar_one())


def _organization(conn: Connection, org_id: str) -> Organization | None:
    row = conn.execute(select(organizations).where(organizations.c.id == org_id)).mappings()
    found = row.first()
    if found is None:
        return None
    record = dict(found)
    source = _sources(conn, [record["source_id"]])[record["source_id"]]
    return rec.organization_from_record(record, source)


def _relationship_rows(conn: Connection, column: str, org_id: str) -> list[dict[str, Any]]:
    other = "owner_id" if column == "owned_id" else "owned_id"
    query = (
        select(relationships, organizations.c.name.label("other_name"),
               organizations.c.country_hq.label("other_country"),
               sources.c.url.label("source_url"))
        .join(organizations, organizations.c.id == relationships.c[other])
        .join(sources, sources.c.id == relationships.c.source_id)
        .where(relationships.c[column] == org_id)
        .order_by(relationships.c.kind, relationships.c[other])
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def facility_card(conn: Connection, facility_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(facilities).where(facilities.c.id == facility_id)).mappings()
    found = row.first()
    if found is None:
        return None
    history = [
        dict(r) for r in conn.execute(
            select(status_events, sources.c.url.label("source_url"))
            .join(sources, sources.c.id == status_events.c.source_id)
            .where(status_events.c.facility_id == facility_id)
            .order_by(status_events.c.as_of)
        ).mappings()
    ]
    revisions = [
        dict(r) for r in conn.execute(
            select(changes).where(changes.c.entity_type == "facility",
                                  changes.c.entity_id == facility_id).order_by(changes.c.id)
        ).mappings()
    ]
    awards = [
        dict(r) for r in conn.execute(
            select(funding_awards).where(funding_awards.c.facility_id == facility_id)
        ).mappings()
    ]
    source_ids = [found["source_id"], *(h["source_id"] for h in history),
                  *(a["source_id"] for a in awards)]
    known = _sources(conn, source_ids)
    facility = rec.facility_from_record(dict(found), known[found["source_id"]])
    operator = _organization(conn, facility.operator_id)
    return {
        "facility": facility,
        "operator": operator,
        "owners": _relationship_rows(conn, "owned_id", facility.operator_id),
        "status_history": history,
        "changes": revisions,
        "funding": awards,
        "sources": sorted({s.url for s in known.values()}),
    }


def organization_rows(
    conn: Connection, country: str | None = None, member: bool | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    operated = (
        select(facilities.c.operator_id, func.count().label("facilities"))
        .group_by(facilities.c.operator_id)
        .subquery()
    )
    query = (
        select(
            organizations.c.id, organizations.c.name, organizations.c.kind,
            organizations.c.country_incorporation, organizations.c.country_hq,
            organizations.c.coalition_member, organizations.c.verified,
            func.coalesce(operated.c.facilities, 0).label("facilities"),
        )
        .outerjoin(operated, operated.c.operator_id == organizations.c.id)
        .order_by(organizations.c.id)
    )
    if country:
        query = query.where(organizations.c.country_hq == country)
    if member is not None:
        query = query.where(organizations.c.coalition_member == member)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def organization_card(conn: Connection, org_id: str) -> dict[str, Any] | None:
    org = _organization(conn, org_id)
    if org is None:
        return None
    operated = facility_rows(conn, FacilityFilter(operator=org_id))
    operated = [f for f in operated if f["operator_id"] == org_id]
    awards = [
        dict(r) for r in conn.execute(
            select(funding_awards).where(funding_awards.c.recipient_id == org_id)
        ).mappings()
    ]
    return {
        "organization": org,
        "owners": _relationship_rows(conn, "owned_id", org_id),
        "holdings": _relationship_rows(conn, "owner_id", org_id),
        "facilities": operated,
        "funding": awards,
    }


def load_dataset(conn: Connection, flt: FacilityFilter | None = None) -> Dataset:
    """The stored data as domain entities; with a filter, only matching facilities and what
    they refer to."""
    facility_records = facility_rows(conn, flt or FacilityFilter())
    org_rows = [dict(r) for r in conn.execute(
        select(organizations).order_by(organizations.c.id)).mappings()]
    rel_rows = [dict(r) for r in conn.execute(
        select(relationships).order_by(relationships.c.id)).mappings()]
    event_rows = [dict(r) for r in conn.execute(
        select(status_events).order_by(status_events.c.facility_id, status_events.c.as_of)
    ).mappings()]
    award_rows = [dict(r) for r in conn.execute(
        select(funding_awards).order_by(funding_awards.c.id)).mappings()]
    listing_rows = [dict(r) for r in conn.execute(
        select(list_memberships).order_by(list_memberships.c.id)).mappings()]
    if flt is not None and flt != FacilityFilter():
        kept = {f["id"] for f in facility_records}
        event_rows = [e for e in event_rows if e["facility_id"] in kept]
        award_rows = [a for a in award_rows if a["facility_id"] in kept]
    known = _sources(conn, [r["source_id"] for group in (
        facility_records, org_rows, rel_rows, event_rows, award_rows, listing_rows)
        for r in group])
    facility_list: list[Facility] = [
        rec.facility_from_record(r, known[r["source_id"]]) for r in facility_records
    ]
    # The facility row already carries its current status; history keeps the earlier ones.
    current = {(f.id, f.status.value, f.status_as_of) for f in facility_list}
    return Dataset(
        info=dataset_meta(conn),
        organizations=[
            rec.organization_from_record(r, known[r["source_id"]]) for r in org_rows
        ],
        relationships=[
            rec.relationship_from_record(r, known[r["source_id"]]) for r in rel_rows
        ],
        facilities=facility_list,
        status_events=[
            rec.status_event_from_record(r, known[r["source_id"]]) for r in event_rows
            if (r["facility_id"], r["status"], r["as_of"]) not in current
        ],
        funding=[rec.funding_from_record(r, known[r["source_id"]]) for r in award_rows],
        list_memberships=[
            rec.list_membership_from_record(r, known[r["source_id"]]) for r in listing_rows
        ],
    )


def record_as_of(conn: Connection, entity_type: str, entity_id: str,
                 moment: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The stored record of a facility or organization as the platform held it at `moment`:
    today's row with every field change recorded after `moment` undone (values come back as
    the text the change log keeps). Also returns the changes undone. None if no such record."""
    table = facilities if entity_type == "facility" else organizations
    found = conn.execute(select(table).where(table.c.id == entity_id)).mappings().first()
    if found is None:
        return None
    record: dict[str, Any] = {k: v for k, v in found.items()}
    later = [dict(r) for r in conn.execute(
        select(changes).where(changes.c.entity_type == entity_type,
                              changes.c.entity_id == entity_id,
                              changes.c.recorded_at > moment)
        .order_by(changes.c.id.desc())).mappings()]
    for change in later:
        record[change["field"]] = change["old_value"]
    return record, later
