"""The dataset's tables: their columns, and conversion between rows and domain entities.

Rows are dicts of column name to cell value as a reader produced it (text, number, bool or
None). Every cell is parsed on its own so that one row can report all of its problems at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country, normalize_subdivision
from bmtc.domain.model import (
    DatasetInfo,
    Facility,
    FundingAward,
    ListMembership,
    Organization,
    Relationship,
    Source,
    StatusEvent,
)
from bmtc.domain.names import organization_key, slugify
from bmtc.domain.percent import PercentRange, parse_percent
from bmtc.domain.quantities import Capacity
from bmtc.domain.vocab import (
    PRODUCTS,
    AwardStatus,
    FundingInstrument,
    GovernmentLevel,
    Office,
    OrgKind,
    RelationshipKind,
    ScreeningList,
    Stage,
    Status,
)
from bmtc.io.problems import RowError

Cell = str | int | float | bool | list[str] | None
Row = Mapping[str, Cell]

SOURCE_COLUMNS = ["source_url", "source_publisher", "source_as_of", "source_confidence"]

COLUMNS: dict[str, list[str]] = {
    "organizations": [
        "org_id", "name", "kind", "country_incorporation", "country_hq",
        "country_principal_place", "government_level", "nationalities", "residence",
        "us_person", "senior_political_figure", "publicly_traded", "activity_countries",
        "lei", "aliases", "website", "coalition_member", "stages", *SOURCE_COLUMNS,
        "verified", "notes",
    ],
    "relationships": [
        "owner_id", "owned_id", "kind", "equity_pct", "voting_pct", "board_seats_held",
        "board_seats_total", "debt_share_pct", "agreement", "officer_rights",
        "control_rights", "effective_control", "valid_from", "valid_to",
        *SOURCE_COLUMNS, "verified", "notes",
    ],
    "facilities": [
        "facility_id", "name", "operator_id", "operator_name", "stage", "source_category",
        "products", "chemistries", "city", "state_province", "country", "latitude",
        "longitude", "coordinates_precision", "capacity_value", "capacity_unit",
        "capacity_basis", "capacity_year", "start_year", "status", "status_as_of",
        *SOURCE_COLUMNS, "verified", "notes",
    ],
    "status_history": ["facility_id", "status", "as_of", *SOURCE_COLUMNS, "notes"],
    "funding": [
        "award_id", "recipient_id", "facility_id", "program", "agency", "instrument", "amount",
        "currency", "award_status", "announced", *SOURCE_COLUMNS, "notes",
    ],
    "list_memberships": [
        "list_id", "org_id", "listed_name", "listed_from", "listed_to", *SOURCE_COLUMNS,
        "notes",
    ],
}
TABLES = tuple(COLUMNS)
# The column that tells a lone table apart from the others.
KEY_COLUMNS = {
    "organizations": "org_id",
    "relationships": "owned_id",
    "facilities": "stage",
    "status_history": "as_of",
    "funding": "award_id",
    "list_memberships": "list_id",
}


# --- cell parsers -----------------------------------------------------------------------

def text(value: Cell) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if not math.isfinite(value) or value != int(value) or abs(value) >= 1e15:
            return repr(value)
        return str(int(value))
    result = str(value).strip()
    return result or None


class _Cells:
    """Reads typed values out of one row, collecting problems instead of stopping."""

    def __init__(self, row: Row, id_column: str | None = None):
        self.row = row
        self.id_column = id_column
        self.problems: list[tuple[str | None, str]] = []

    def _guard(self, column: str, parse: Callable[[str], Any]) -> Any:
        raw = text(self.row.get(column))
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as exc:
            self.problems.append((column, str(exc)))
            return None

    def get(self, column: str) -> str | None:
        return text(self.row.get(column))

    def required(self, column: str) -> str | None:
        value = text(self.row.get(column))
        if value is None:
            self.problems.append((column, "is required"))
        return value

    def number(self, column: str) -> float | None:
        def parse(raw: str) -> float:
            try:
                number = float(raw.replace(",", ""))
            except ValueError:
                raise ValueError(f"{raw!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{raw!r} is not a finite number")
            return number

        return self._guard(column, parse)  # type: ignore[no-any-return]

    def integer(self, column: str) -> int | None:
        def parse(raw: str) -> int:
            try:
                number = float(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a whole number") from None
            if not math.isfinite(number) or number != int(number):
                raise ValueError(f"{raw!r} is not a whole number")
            return int(number)

        return self._guard(column, parse)  # type: ignore[no-any-return]

    def boolean(self, column: str) -> bool | None:
        def parse(raw: str) -> bool:
            folded = raw.lower()
            if folded in {"yes", "y", "true", "1"}:
                return True
            if folded in {"no", "n", "false", "0"}:
                return False
            raise ValueError(f"{raw!r} is not yes or no")

        value = self.row.get(column)
        if isinstance(value, bool):
            return value
        return self._guard(column, parse)  # type: ignore[no-any-return]

    def items(self, column: str) -> tuple[str, ...]:
        raw = self.row.get(column)
        if isinstance(raw, list | tuple):
            parts = [text(v) for v in raw]
        else:
            value = text(raw)
            parts = [p.strip() for p in value.split(";")] if value else []
        return tuple(p for p in parts if p)

    def choice(self, column: str, allowed: Iterable[str], required: bool = True) -> str | None:
        value = self.required(column) if required else self.get(column)
        allowed_list = list(allowed)
        if value is not None and value not in allowed_list:
            self.problems.append((column, f"{value!r} is not one of: {', '.join(allowed_list)}"))
            return None
        return value

    def choices(self, column: str, allowed: Iterable[str]) -> tuple[str, ...]:
        allowed_list = list(allowed)
        values = self.items(column)
        wrong = [v for v in values if v not in allowed_list]
        if wrong:
            self.problems.append((column, f"{', '.join(map(repr, wrong))} not one of: "
                                          + ", ".join(allowed_list)))
            return ()
        return values

    def countries(self, column: str) -> tuple[str, ...]:
        found = []
        for value in self.items(column):
            try:
                found.append(normalize_country(value))
            except ValueError as exc:
                self.problems.append((column, str(exc)))
        return tuple(found)

    def percent(self, column: str) -> PercentRange | None:
        return self._guard(column, parse_percent)  # type: ignore[no-any-return]

    def date(self, column: str) -> str | None:
        return self._guard(column, parse_partial_date)  # type: ignore[no-any-return]

    def country(self, column: str) -> str | None:
        return self._guard(column, normalize_country)  # type: ignore[no-any-return]

    def source(self) -> Source | None:
        url = self.required("source_url")
        as_of = self.date("source_as_of")
        confidence = self.get("source_confidence") or "secondary"
        if url is None:
            return None
        try:
            return Source(
                url=url, publisher=self.get("source_publisher"), as_of=as_of,
                confidence=confidence,
            )
        except ValidationError as exc:
            self._add_validation(exc, prefix="source_")
            return None

    def _add_validation(self, exc: ValidationError, prefix: str = "") -> None:
        for error in exc.errors():
            column, reason = _locate(error, prefix)
            if column == "id":
                column = self.id_column
            self.problems.append((column, reason))

    def build(self, make: Callable[[], Any]) -> Any:
        if self.problems:
            raise RowError(self.problems)
        try:
            return make()
        except ValidationError as exc:
            self._add_validation(exc)
            raise RowError(self.problems) from None
        except ValueError as exc:
            column, _, reason = str(exc).partition(": ")
            if column == "id":
                return self._fail_on(self.id_column, reason)
            raise RowError([(None, str(exc))]) from None


    def _fail_on(self, column: str | None, reason: str) -> Any:
        raise RowError([(column, reason)])


# Model fields whose column has another name in the tables.
_FIELD_COLUMNS = {
    "id": None, "capacity": "capacity_value", "source": "source_url",
}


def _locate(error: Mapping[str, Any], prefix: str) -> tuple[str | None, str]:
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    loc = [str(p) for p in error.get("loc", ())]
    # Cross-field checks say which column they concern as "column: reason".
    head, sep, rest = message.partition(": ")
    if sep and head.replace("_", "").isalnum() and head == head.lower() and " " not in head:
        return prefix + head, rest
    if not loc:
        return None, message
    name = loc[0]
    column = _FIELD_COLUMNS.get(name, name) if not prefix else prefix + name
    value = error.get("input")
    if value is not None and not isinstance(value, dict | list | tuple):
        message = f"{value!r}: {message}"
    return column, message


# --- rows to entities -------------------------------------------------------------------

def organization_from_row(row: Row) -> Organization:
    c = _Cells(row, "org_id")
    org_id, name = c.get("org_id"), c.required("name")
    kind = c.choice("kind", OrgKind, required=False)
    source = c.source()
    values = dict(
        country_incorporation=c.country("country_incorporation"),
        country_hq=c.country("country_hq"),
        country_principal_place=c.country("country_principal_place"),
        government_level=c.choice("government_level", GovernmentLevel, required=False),
        nationalities=c.countries("nationalities"),
        residence=c.country("residence"),
        us_person=c.boolean("us_person"),
        senior_political_figure=c.boolean("senior_political_figure"),
        publicly_traded=c.boolean("publicly_traded"),
        activity_countries=c.countries("activity_countries"),
        coalition_member=bool(c.boolean("coalition_member")),
        verified=bool(c.boolean("verified")),
    )
    return c.build(  # type: ignore[no-any-return]
        lambda: Organization(
            id=org_id or organization_key(name or ""),
            name=name,
            kind=kind or "company",
            lei=c.get("lei"),
            aliases=c.items("aliases"),
            website=c.get("website"),
            stages=c.items("stages"),
            source=source,
            notes=c.get("notes"),
            **values,
        )
    )


def relationship_from_row(row: Row) -> Relationship:
    c = _Cells(row, "owned_id")
    owner, owned = c.required("owner_id"), c.required("owned_id")
    kind = c.choice("kind", RelationshipKind)
    source = c.source()
    values = dict(
        equity_pct=c.percent("equity_pct"),
        voting_pct=c.percent("voting_pct"),
        debt_share_pct=c.percent("debt_share_pct"),
        board_seats_held=c.integer("board_seats_held"),
        board_seats_total=c.integer("board_seats_total"),
        officer_rights=c.choices("officer_rights", Office),
        control_rights=c.items("control_rights"),
        effective_control=c.boolean("effective_control"),
        valid_from=c.date("valid_from"),
        valid_to=c.date("valid_to"),
        verified=bool(c.boolean("verified")),
    )
    return c.build(  # type: ignore[no-any-return]
        lambda: Relationship(
            owner_id=owner, owned_id=owned, kind=kind, agreement=c.get("agreement"),
            source=source, notes=c.get("notes"), **values,
        )
    )


def facility_from_row(row: Row) -> tuple[Facility, Organization]:
    """The facility and a stub of its operator (used only if no fuller record exists)."""
    c = _Cells(row, "facility_id")
    name, operator_name = c.required("name"), c.required("operator_name")
    stage, status = c.choice("stage", Stage), c.choice("status", Status)
    status_as_of = c.date("status_as_of")
    if status_as_of is None and c.get("status_as_of") is None:
        c.problems.append(("status_as_of", "is required"))
    country = c.required("country")
    country_code = c.country("country") if country else None
    state = c.get("state_province")
    if state and country_code:
        try:
            state = normalize_subdivision(country_code, state)
        except ValueError as exc:
            c.problems.append(("state_province", str(exc)))
    products = c.items("products")
    if not products:
        c.problems.append(("products", "at least one product code is required"))
    unknown = [p for p in products if p not in PRODUCTS]
    if unknown:
        c.problems.append(("products", f"{', '.join(map(repr, unknown))} not in the product "
                                       "vocabulary (see `bmtc vocab`)"))
    capacity = _capacity(c)
    source = c.source()
    numbers = dict(
        latitude=c.number("latitude"),
        longitude=c.number("longitude"),
        start_year=c.integer("start_year"),
        verified=bool(c.boolean("verified")),
    )

    def make() -> tuple[Facility, Organization]:
        operator_id = c.get("operator_id") or organization_key(operator_name or "")
        facility_id = c.get("facility_id") or slugify(
            "-".join(p for p in (name, state, country_code) if p)
        )
        facility = Facility(
            id=facility_id, name=name, operator_id=operator_id, stage=stage,
            source_category=c.get("source_category"), products=products,
            chemistries=tuple(ch.lower() for ch in c.items("chemistries")),
            city=c.get("city"), state_province=state, country=country_code,
            coordinates_precision=c.get("coordinates_precision"), capacity=capacity,
            status=status, status_as_of=status_as_of, source=source, notes=c.get("notes"),
            **numbers,
        )
        operator = Organization(id=operator_id, name=operator_name, source=source)
        return facility, operator

    return c.build(make)  # type: ignore[no-any-return]


def _capacity(c: _Cells) -> Capacity | None:
    value = c.number("capacity_value")
    unit, basis = c.get("capacity_unit"), c.get("capacity_basis")
    year = c.integer("capacity_year")
    if value is None:
        if c.get("capacity_value") is None and (unit or basis):
            c.problems.append(("capacity_value", "is blank but a unit or basis is given"))
        return None
    if unit is None:
        c.problems.append(("capacity_unit", "is required when capacity_value is given"))
    if basis is None:
        c.problems.append(("capacity_basis", "is required when capacity_value is given"))
    if unit is None or basis is None:
        return None
    return Capacity(value=value, unit=unit, basis=basis, year=year)


def status_event_from_row(row: Row) -> StatusEvent:
    c = _Cells(row, "facility_id")
    facility_id, status = c.required("facility_id"), c.choice("status", Status)
    as_of = c.date("as_of")
    if as_of is None and c.get("as_of") is None:
        c.problems.append(("as_of", "is required"))
    source = c.source()
    return c.build(  # type: ignore[no-any-return]
        lambda: StatusEvent(
            facility_id=facility_id, status=status, as_of=as_of, source=source,
            notes=c.get("notes"),
        )
    )


def funding_from_row(row: Row) -> FundingAward:
    c = _Cells(row, "award_id")
    award_id, recipient = c.required("award_id"), c.required("recipient_id")
    program, agency = c.required("program"), c.required("agency")
    instrument = c.choice("instrument", FundingInstrument)
    status = c.choice("award_status", AwardStatus)
    amount, announced = c.number("amount"), c.date("announced")
    source = c.source()
    return c.build(  # type: ignore[no-any-return]
        lambda: FundingAward(
            id=award_id, recipient_id=recipient, facility_id=c.get("facility_id"),
            program=program, agency=agency, instrument=instrument, amount=amount,
            currency=(c.get("currency") or "USD").upper(), award_status=status,
            announced=announced, source=source, notes=c.get("notes"),
        )
    )


def list_membership_from_row(row: Row) -> ListMembership:
    c = _Cells(row, "org_id")
    list_id = c.choice("list_id", ScreeningList)
    org_id = c.required("org_id")
    listed_from, listed_to = c.date("listed_from"), c.date("listed_to")
    source = c.source()
    return c.build(  # type: ignore[no-any-return]
        lambda: ListMembership(
            list_id=list_id, org_id=org_id, listed_name=c.get("listed_name"),
            listed_from=listed_from, listed_to=listed_to, source=source, notes=c.get("notes"),
        )
    )


def dataset_info_from_mapping(values: Mapping[str, Any]) -> DatasetInfo:
    as_of = values.get("as_of")
    return DatasetInfo(
        name=str(values.get("name", "")),
        version=str(values.get("version", "")),
        as_of=text(as_of) or "",
        description=text(values.get("description")),
    )


# --- entities to rows -------------------------------------------------------------------

def _source_cells(source: Source) -> dict[str, Any]:
    return {
        "source_url": source.url,
        "source_publisher": source.publisher,
        "source_as_of": source.as_of,
        "source_confidence": source.confidence.value,
    }


def _join(values: Iterable[str]) -> list[str]:
    return list(values)


def _yes(value: bool) -> bool:
    return value


def flat_cell(value: Any) -> Cell:
    """A cell for CSV, Excel and Parquet: lists joined with ';', booleans as yes/no."""
    if isinstance(value, list | tuple):
        return ";".join(value) or None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value  # type: ignore[no-any-return]


def _pct(value: PercentRange | None) -> str | None:
    return None if value is None else str(value)


def organization_to_row(org: Organization) -> dict[str, Any]:
    return {
        "org_id": org.id, "name": org.name, "kind": org.kind.value,
        "country_incorporation": org.country_incorporation, "country_hq": org.country_hq,
        "country_principal_place": org.country_principal_place,
        "government_level": org.government_level.value if org.government_level else None,
        "nationalities": _join(org.nationalities), "residence": org.residence,
        "us_person": org.us_person, "senior_political_figure": org.senior_political_figure,
        "publicly_traded": org.publicly_traded,
        "activity_countries": _join(org.activity_countries),
        "lei": org.lei, "aliases": _join(org.aliases), "website": org.website,
        "coalition_member": _yes(org.coalition_member),
        "stages": _join(s.value for s in org.stages),
        **_source_cells(org.source), "verified": _yes(org.verified), "notes": org.notes,
    }


def relationship_to_row(rel: Relationship) -> dict[str, Any]:
    return {
        "owner_id": rel.owner_id, "owned_id": rel.owned_id, "kind": rel.kind.value,
        "equity_pct": _pct(rel.equity_pct), "voting_pct": _pct(rel.voting_pct),
        "board_seats_held": rel.board_seats_held, "board_seats_total": rel.board_seats_total,
        "debt_share_pct": _pct(rel.debt_share_pct), "agreement": rel.agreement,
        "officer_rights": _join(o.value for o in rel.officer_rights),
        "control_rights": _join(rel.control_rights),
        "effective_control": rel.effective_control,
        "valid_from": rel.valid_from, "valid_to": rel.valid_to,
        **_source_cells(rel.source), "verified": _yes(rel.verified), "notes": rel.notes,
    }


def facility_to_row(facility: Facility, operator_name: str) -> dict[str, Any]:
    cap = facility.capacity
    return {
        "facility_id": facility.id, "name": facility.name, "operator_id": facility.operator_id,
        "operator_name": operator_name, "stage": facility.stage.value,
        "source_category": facility.source_category, "products": _join(facility.products),
        "chemistries": _join(facility.chemistries), "city": facility.city,
        "state_province": facility.state_province, "country": facility.country,
        "latitude": facility.latitude, "longitude": facility.longitude,
        "coordinates_precision": facility.coordinates_precision,
        "capacity_value": cap.value if cap else None, "capacity_unit": cap.unit if cap else None,
        "capacity_basis": cap.basis if cap else None, "capacity_year": cap.year if cap else None,
        "start_year": facility.start_year, "status": facility.status.value,
        "status_as_of": facility.status_as_of, **_source_cells(facility.source),
        "verified": _yes(facility.verified), "notes": facility.notes,
    }


def status_event_to_row(event: StatusEvent) -> dict[str, Any]:
    return {
        "facility_id": event.facility_id, "status": event.status.value, "as_of": event.as_of,
        **_source_cells(event.source), "notes": event.notes,
    }


def funding_to_row(award: FundingAward) -> dict[str, Any]:
    return {
        "award_id": award.id, "recipient_id": award.recipient_id,
        "facility_id": award.facility_id, "program": award.program, "agency": award.agency,
        "instrument": award.instrument.value, "amount": award.amount,
        "currency": award.currency, "award_status": award.award_status.value,
        "announced": award.announced, **_source_cells(award.source), "notes": award.notes,
    }


def list_membership_to_row(entry: ListMembership) -> dict[str, Any]:
    return {
        "list_id": entry.list_id.value, "org_id": entry.org_id,
        "listed_name": entry.listed_name, "listed_from": entry.listed_from,
        "listed_to": entry.listed_to, **_source_cells(entry.source), "notes": entry.notes,
    }
