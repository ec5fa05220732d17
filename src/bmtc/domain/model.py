"""Atlas entities. Every fact carries the Source it came from."""

from __future__ import annotations

import hashlib
import re
from functools import cached_property
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country, normalize_subdivision
from bmtc.domain.percent import PercentRange
from bmtc.domain.quantities import BASIS_FORMULAS, Capacity, parse_capacity_unit
from bmtc.domain.vocab import (
    CHEMISTRIES,
    CONTRACT_KINDS,
    GOVERNMENT_KINDS,
    NORTH_AMERICA,
    PRODUCTS,
    AwardStatus,
    Confidence,
    FundingInstrument,
    GovernmentLevel,
    Office,
    OrgKind,
    RelationshipKind,
    ScreeningList,
    Stage,
    Status,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
# North America's extent, generous enough for Alaska, Hawaii and the Aleutians.
_NA_LAT = (14.0, 84.0)
_NA_LON = (-180.0, -50.0)
CAPACITY_BASES = frozenset(PRODUCTS) | frozenset(BASIS_FORMULAS) | {"feedstock"}
COORDINATE_PRECISIONS = frozenset({"site", "city", "county", "region"})


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not an id (lowercase letters, digits and '-')")
    return value


def _url(value: str) -> str:
    # `urn:` names a statement inside an imported file (a BODS statement ID, an LEI record)
    # when the file gives no web address for it.
    if not re.match(r"^(https?://[^\s/]+\.[^\s]+|urn:[a-z0-9][a-z0-9-]*:\S+)$", value):
        raise ValueError(f"{value!r} is not an http(s) URL or urn: name")
    return value


def _country(value: str) -> str:
    return normalize_country(value)


def _nonblank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Url = Annotated[str, AfterValidator(_url)]
PartialDate = Annotated[str, AfterValidator(parse_partial_date)]
CountryCode = Annotated[str, AfterValidator(_country)]
Text = Annotated[str, AfterValidator(_nonblank)]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Entity(BaseModel):
    """Base of every entity: immutable, no unknown fields, tidy text.

    Text is stripped, line breaks are normalised to \\n, blank optional text becomes None and
    control characters are refused, so a value survives every export format unchanged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _tidy_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        tidy = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
                if _CONTROL.search(value):
                    raise ValueError(f"{key}: contains control characters")
                if not value:
                    value = None
            tidy[key] = value
        return tidy


def stable_id(*parts: object) -> str:
    """A short content hash, for entities that have no natural identifier of their own."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


class Source(Entity):
    url: Url
    publisher: str | None = None
    as_of: PartialDate | None = None
    confidence: Confidence = Confidence.SECONDARY

    @cached_property
    def id(self) -> str:
        return stable_id(self.url, self.publisher, self.as_of, self.confidence)


class DatasetInfo(Entity):
    name: Text
    version: Text
    as_of: PartialDate
    description: str | None = None


class Organization(Entity):
    """A company, government or agency, state-owned enterprise, political party or person.

    For governments, agencies and parties `country_incorporation` is the country they belong
    to. Unknown facts stay None: screening treats None as a gap, never as "no".
    """

    id: Slug
    name: Text
    kind: OrgKind = OrgKind.COMPANY
    country_incorporation: CountryCode | None = None
    country_hq: CountryCode | None = None
    country_principal_place: CountryCode | None = None
    government_level: GovernmentLevel | None = None
    # Natural persons only.
    nationalities: tuple[CountryCode, ...] = ()
    residence: CountryCode | None = None
    us_person: bool | None = None
    senior_political_figure: bool | None = None
    publicly_traded: bool | None = None
    # Countries where it extracts, processes or recycles minerals or makes battery parts.
    activity_countries: tuple[CountryCode, ...] = ()
    lei: str | None = None
    aliases: tuple[str, ...] = ()
    website: Url | None = None
    coalition_member: bool = False
    stages: tuple[Stage, ...] = ()
    source: Source
    verified: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        for alias in self.aliases:
            if ";" in alias or not alias.strip():
                raise ValueError(f"aliases: {alias!r} is blank or contains ';'")
        if self.lei is not None and not _LEI.match(self.lei):
            raise ValueError(f"lei: {self.lei!r} is not a 20-character LEI")
        if self.kind is not OrgKind.PERSON:
            for name in ("nationalities", "residence", "us_person", "senior_political_figure"):
                if getattr(self, name) not in (None, ()):
                    raise ValueError(f"{name}: only a person has {name.replace('_', ' ')}")
        if self.government_level is not None and self.kind not in GOVERNMENT_KINDS:
            raise ValueError("government_level: only governments and their bodies have a level")
        return self

    @property
    def is_government(self) -> bool:
        return self.kind in GOVERNMENT_KINDS

    @property
    def home_countries(self) -> frozenset[str]:
        """Countries it is organized in or run from (for a person: nationality, residence)."""
        countries = {
            self.country_incorporation, self.country_hq, self.country_principal_place,
            self.residence, *self.nationalities,
        }
        return frozenset(c for c in countries if c)


class Relationship(Entity):
    owner_id: Slug
    owned_id: Slug
    kind: RelationshipKind
    equity_pct: PercentRange | None = None
    voting_pct: PercentRange | None = None
    board_seats_held: int | None = Field(default=None, ge=0)
    board_seats_total: int | None = Field(default=None, ge=1)
    debt_share_pct: PercentRange | None = None
    agreement: str | None = None
    # Offices the holder may appoint, and what a licence or contract lets it direct.
    officer_rights: tuple[Office, ...] = ()
    control_rights: tuple[str, ...] = ()
    # Whether a licence or contract amounts to effective control; None when not assessed.
    effective_control: bool | None = None
    valid_from: PartialDate | None = None
    valid_to: PartialDate | None = None
    source: Source
    verified: bool = False
    notes: str | None = None

    @property
    def id(self) -> str:
        return stable_id(self.owner_id, self.owned_id, self.kind, self.valid_from)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.owner_id == self.owned_id:
            raise ValueError("owned_id: an organization cannot hold itself")
        held, total = self.board_seats_held, self.board_seats_total
        if held is not None and total is not None and held > total:
            raise ValueError(f"board_seats_held: {held} exceeds board_seats_total {total}")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to: {self.valid_to} is before valid_from {self.valid_from}")
        if self.effective_control is not None and self.kind not in CONTRACT_KINDS:
            raise ValueError("effective_control: applies to licence and effective_control rows")
        return self

    def in_force(self, on: str) -> bool:
        """Whether the relationship holds on the ISO date `on` (partial dates widen)."""
        return in_force(self.valid_from, self.valid_to, on)


# Notes of a relationship a source declared as indirect (held through others): screening
# counts it only when the chain it summarises is not recorded.
INDIRECT_NOTE = "indirect (as declared)"


def in_force(valid_from: str | None, valid_to: str | None, on: str) -> bool:
    """Whether a span of partial dates covers `on`: "2024" runs from 2024-01-01 to
    2024-12-31, so a start counts from its first day and an end to its last."""
    if valid_from is not None and valid_from > on[: len(valid_from)]:
        return False
    return valid_to is None or valid_to >= on[: len(valid_to)]


class ListMembership(Entity):
    """An organization's entry on a government list, with the dates it was on it."""

    list_id: ScreeningList
    org_id: Slug
    listed_name: str | None = None
    listed_from: PartialDate | None = None
    listed_to: PartialDate | None = None
    source: Source
    notes: str | None = None

    @property
    def id(self) -> str:
        return stable_id(self.list_id, self.org_id, self.listed_from)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.listed_from and self.listed_to and self.listed_to < self.listed_from:
            raise ValueError(
                f"listed_to: {self.listed_to} is before listed_from {self.listed_from}"
            )
        return self

    def in_force(self, on: str) -> bool:
        return in_force(self.listed_from, self.listed_to, on)


class Facility(Entity):
    id: Slug
    name: Text
    operator_id: Slug
    stage: Stage
    source_category: str | None = None
    products: tuple[str, ...]
    chemistries: tuple[str, ...] = ()
    city: str | None = None
    state_province: str | None = None
    country: CountryCode
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    coordinates_precision: str | None = None
    capacity: Capacity | None = None
    start_year: int | None = Field(default=None, ge=1800, le=2100)
    status: Status
    status_as_of: PartialDate
    source: Source
    verified: bool = False
    notes: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.products:
            raise ValueError("products: at least one product is required")
        for code in self.products:
            if code not in PRODUCTS:
                raise ValueError(f"products: {code!r} is not a product code (see `bmtc vocab`)")
        for chem in self.chemistries:
            if chem not in CHEMISTRIES:
                raise ValueError(f"chemistries: {chem!r} is not a known chemistry")
        if self.state_province is not None:
            canonical = normalize_subdivision(self.country, self.state_province)
            if canonical != self.state_province:
                raise ValueError(
                    f"state_province: {self.state_province!r} is not canonical ({canonical!r})"
                )
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("longitude: latitude and longitude must be given together")
        if self.latitude is not None and self.longitude is not None:
            _check_north_america(self.country, self.latitude, self.longitude)
        if self.coordinates_precision not in (None, *COORDINATE_PRECISIONS):
            raise ValueError(
                f"coordinates_precision: {self.coordinates_precision!r} is not one of "
                + ", ".join(sorted(COORDINATE_PRECISIONS))
            )
        if self.capacity is not None:
            _check_capacity(self.capacity)
        return self


def _check_north_america(country: str, lat: float, lon: float) -> None:
    if country not in NORTH_AMERICA:
        return
    inside = _NA_LAT[0] <= lat <= _NA_LAT[1] and _NA_LON[0] <= lon <= _NA_LON[1]
    if not inside:
        hint = " (latitude and longitude look swapped)" if _NA_LAT[0] <= lon <= _NA_LAT[1] else ""
        raise ValueError(f"latitude: ({lat}, {lon}) lies outside North America{hint}")


def _check_capacity(capacity: Capacity) -> None:
    if capacity.value < 0:
        raise ValueError(f"capacity_value: {capacity.value:g} is negative")
    try:
        parse_capacity_unit(capacity.unit)
    except ValueError as exc:
        raise ValueError(f"capacity_unit: {exc}") from None
    if capacity.basis not in CAPACITY_BASES:
        raise ValueError(
            f"capacity_basis: {capacity.basis!r} is not a product code, contained element "
            "(contained_li, contained_ni, ...), lce or feedstock"
        )
    if capacity.year is not None and not 1900 <= capacity.year <= 2100:
        raise ValueError(f"capacity_year: {capacity.year} is out of range")


class StatusEvent(Entity):
    facility_id: Slug
    status: Status
    as_of: PartialDate
    source: Source
    notes: str | None = None

    @property
    def id(self) -> str:
        return self.key(self.facility_id, self.status.value, self.as_of)

    @staticmethod
    def key(facility_id: str, status: str, as_of: str) -> str:
        return stable_id(facility_id, status, as_of)


class FundingAward(Entity):
    id: Slug
    recipient_id: Slug
    facility_id: Slug | None = None
    program: Text
    agency: Text
    instrument: FundingInstrument
    amount: float | None = Field(default=None, ge=0)
    currency: str = "USD"
    award_status: AwardStatus
    announced: PartialDate | None = None
    source: Source
    notes: str | None = None

    @model_validator(mode="after")
    def _check_currency(self) -> Self:
        if self.currency not in {"USD", "CAD", "MXN", "EUR"}:
            raise ValueError(f"currency: {self.currency!r} is not USD, CAD, MXN or EUR")
        return self
