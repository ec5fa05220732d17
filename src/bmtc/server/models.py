"""Response models of the API: what a client can rely on in every answer."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class FacilityOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    operator_id: str
    operator_name: str | None = None
    stage: str
    products: list[str]
    chemistries: list[str] = []
    city: str | None = None
    state_province: str | None = None
    country: str
    latitude: float | None = None
    longitude: float | None = None
    capacity_value: float | None = None
    capacity_unit: str | None = None
    capacity_basis: str | None = None
    capacity_year: int | None = None
    start_year: int | None = None
    status: str
    status_as_of: str
    verified: bool
    source_url: str
    source_publisher: str | None = None
    source_as_of: str | None = None
    source_confidence: str


class OrganizationOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    kind: str
    country_incorporation: str | None = None
    country_hq: str | None = None
    coalition_member: bool
    verified: bool
    facilities: int


class Meta(BaseModel):
    name: str | None
    version: str | None
    as_of: str | None
    facilities: int
    api_version: str = "v1"
