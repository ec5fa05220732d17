"""Conversion between domain entities and the store's table records."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bmtc.domain.model import (
    Facility,
    FundingAward,
    ListMembership,
    Organization,
    Relationship,
    Source,
    StatusEvent,
)
from bmtc.domain.percent import PercentRange, parse_percent
from bmtc.domain.quantities import Capacity

Record = dict[str, Any]


def source_record(source: Source) -> Record:
    return {
        "id": source.id, "url": source.url, "publisher": source.publisher,
        "as_of": source.as_of, "confidence": source.confidence.value,
    }


def source_from_record(row: Mapping[str, Any]) -> Source:
    return Source(
        url=row["url"], publisher=row["publisher"], as_of=row["as_of"],
        confidence=row["confidence"],
    )


def organization_record(org: Organization, now: datetime, is_stub: bool = False) -> Record:
    return {
        "id": org.id, "name": org.name, "kind": org.kind.value,
        "country_incorporation": org.country_incorporation, "country_hq": org.country_hq,
        "country_principal_place": org.country_principal_place,
        "government_level": org.government_level.value if org.government_level else None,
        "nationalities": list(org.nationalities), "residence": org.residence,
        "us_person": org.us_person, "senior_political_figure": org.senior_political_figure,
        "publicly_traded": org.publicly_traded,
        "activity_countries": list(org.activity_countries),
        "lei": org.lei, "aliases": list(org.aliases), "website": org.website,
        "coalition_member": org.coalition_member, "stages": [s.value for s in org.stages],
        "source_id": org.source.id, "verified": org.verified, "notes": org.notes,
        "is_stub": is_stub, "updated_at": now,
    }


def organization_from_record(row: Mapping[str, Any], source: Source) -> Organization:
    return Organization(
        id=row["id"], name=row["name"], kind=row["kind"],
        country_incorporation=row["country_incorporation"], country_hq=row["country_hq"],
        country_principal_place=row["country_principal_place"],
        government_level=row["government_level"], nationalities=tuple(row["nationalities"]),
        residence=row["residence"], us_person=row["us_person"],
        senior_political_figure=row["senior_political_figure"],
        publicly_traded=row["publicly_traded"],
        activity_countries=tuple(row["activity_countries"]),
        lei=row["lei"], aliases=tuple(row["aliases"]), website=row["website"],
        coalition_member=row["coalition_member"], stages=tuple(row["stages"]), source=source,
        verified=row["verified"], notes=row["notes"],
    )


def _pct(value: PercentRange | None) -> str | None:
    return None if value is None else str(value)


def _parse_pct(value: str | None) -> PercentRange | None:
    return None if value is None else parse_percent(value)


def relationship_record(rel: Relationship, now: datetime) -> Record:
    return {
        "id": rel.id, "owner_id": rel.owner_id, "owned_id": rel.owned_id,
        "kind": rel.kind.value, "equity_pct": _pct(rel.equity_pct),
        "voting_pct": _pct(rel.voting_pct), "board_seats_held": rel.board_seats_held,
        "board_seats_total": rel.board_seats_total, "debt_share_pct": _pct(rel.debt_share_pct),
        "agreement": rel.agreement,
        "officer_rights": [o.value for o in rel.officer_rights],
        "control_rights": list(rel.control_rights), "effective_control": rel.effective_control,
        "valid_from": rel.valid_from, "valid_to": rel.valid_to,
        "source_id": rel.source.id, "verified": rel.verified, "notes": rel.notes,
        "updated_at": now,
    }


def relationship_from_record(row: Mapping[str, Any], source: Source) -> Relationship:
    return Relationship(
        owner_id=row["owner_id"], owned_id=row["owned_id"], kind=row["kind"],
        equity_pct=_parse_pct(row["equity_pct"]), voting_pct=_parse_pct(row["voting_pct"]),
        board_seats_held=row["board_seats_held"], board_seats_total=row["board_seats_total"],
        debt_share_pct=_parse_pct(row["debt_share_pct"]), agreement=row["agreement"],
        officer_rights=tuple(row["officer_rights"]), control_rights=tuple(row["control_rights"]),
        effective_control=row["effective_control"],
        valid_from=row["valid_from"], valid_to=row["valid_to"], source=source,
        verified=row["verified"], notes=row["notes"],
    )


def facility_record(facility: Facility, now: datetime) -> Record:
    cap = facility.capacity
    return {
        "id": facility.id, "name": facility.name, "operator_id": facility.operator_id,
        "stage": facility.stage.value, "source_category": facility.source_category,
        "products": list(facility.products), "chemistries": list(facility.chemistries),
        "city": facility.city, "state_province": facility.state_province,
        "country": facility.country, "latitude": facility.latitude,
        "longitude": facility.longitude,
        "coordinates_precision": facility.coordinates_precision,
        "capacity_value": cap.value if cap else None,
        "capacity_unit": cap.unit if cap else None,
        "capacity_basis": cap.basis if cap else None,
        "capacity_year": cap.year if cap else None,
        "start_year": facility.start_year, "status": facility.status.value,
        "status_as_of": facility.status_as_of, "source_id": facility.source.id,
        "verified": facility.verified, "notes": facility.notes, "updated_at": now,
    }


def facility_from_record(row: Mapping[str, Any], source: Source) -> Facility:
    capacity = None
    if row["capacity_value"] is not None:
        capacity = Capacity(
            value=row["capacity_value"], unit=row["capacity_unit"],
            basis=row["capacity_basis"], year=row["capacity_year"],
        )
    return Facility(
        id=row["id"], name=row["name"], operator_id=row["operator_id"], stage=row["stage"],
        source_category=row["source_category"], products=tuple(row["products"]),
        chemistries=tuple(row["chemistries"]), city=row["city"],
        state_province=row["state_province"], country=row["country"],
        latitude=row["latitude"], longitude=row["longitude"],
        coordinates_precision=row["coordinates_precision"], capacity=capacity,
        start_year=row["start_year"], status=row["status"], status_as_of=row["status_as_of"],
        source=source, verified=row["verified"], notes=row["notes"],
    )


def status_event_record(event: StatusEvent, now: datetime) -> Record:
    return {
        "id": event.id, "facility_id": event.facility_id, "status": event.status.value,
        "as_of": event.as_of, "source_id": event.source.id, "notes": event.notes,
        "recorded_at": now,
    }


def status_event_from_record(row: Mapping[str, Any], source: Source) -> StatusEvent:
    return StatusEvent(
        facility_id=row["facility_id"], status=row["status"], as_of=row["as_of"],
        source=source, notes=row["notes"],
    )


def funding_record(award: FundingAward, now: datetime) -> Record:
    return {
        "id": award.id, "recipient_id": award.recipient_id, "facility_id": award.facility_id,
        "program": award.program, "agency": award.agency,
        "instrument": award.instrument.value, "amount": award.amount,
        "currency": award.currency, "award_status": award.award_status.value,
        "announced": award.announced, "source_id": award.source.id, "notes": award.notes,
        "updated_at": now,
    }


def funding_from_record(row: Mapping[str, Any], source: Source) -> FundingAward:
    return FundingAward(
        id=row["id"], recipient_id=row["recipient_id"], facility_id=row["facility_id"],
        program=row["program"], agency=row["agency"], instrument=row["instrument"],
        amount=row["amount"], currency=row["currency"], award_status=row["award_status"],
        announced=row["announced"], source=source, notes=row["notes"],
    )


def list_membership_record(entry: ListMembership, now: datetime) -> Record:
    return {
        "id": entry.id, "list_id": entry.list_id.value, "org_id": entry.org_id,
        "listed_name": entry.listed_name, "listed_from": entry.listed_from,
        "listed_to": entry.listed_to, "source_id": entry.source.id, "notes": entry.notes,
        "updated_at": now,
    }


def list_membership_from_record(row: Mapping[str, Any], source: Source) -> ListMembership:
    return ListMembership(
        list_id=row["list_id"], org_id=row["org_id"], listed_name=row["listed_name"],
        listed_from=row["listed_from"], listed_to=row["listed_to"], source=source,
        notes=row["notes"],
    )
