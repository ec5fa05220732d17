"""Bills of materials: a product and its components with direct material cost, supplier,
origin, stage, binding-contract date and supplier certification.

A bill comes as JSON (`{"product": {...}, "components": [...]}`), Excel (sheets `product` and
`components`, each a header row and rows) or CSV (one table; a `kind` column marks the single
`product` row and the `component` rows). Reading is all or nothing: every problem is reported
with file, row, column and reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from python_calamine import CalamineError

from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import Stage
from bmtc.io.problems import ImportFailed, Problem

ProductType = Literal[
    "battery_cell", "battery_module", "electrode_active_material", "critical_mineral",
    "energy_storage_system", "qualified_facility",
]
# Certifications a supplier may give under the Notice 2026-15 certification safe harbor.
Certification = Literal["non_pfe"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _country(value: str | None) -> str | None:
    return None if value is None else normalize_country(value)


class Product(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: ProductType
    # The producer (taxpayer) and, where it is in the atlas, its facility.
    producer: str | None = None
    facility_id: str | None = None
    capacity_kwh: float | None = Field(default=None, gt=0)
    power_kw: float | None = Field(default=None, gt=0)
    # For a module: whether it is built from battery cells (45X pays more for one that is not).
    uses_cells: bool = True
    # Production cost per unit, for the 10%-of-cost credits.
    production_cost: float | None = Field(default=None, ge=0)
    units: float = Field(default=1, gt=0)
    sale_date: date | None = None
    construction_start: date | None = None
    placed_in_service: date | None = None
    country_of_final_assembly: str | None = None
    currency: str = "USD"
    # Notice 2026-15 interim safe harbors the taxpayer elects: components identified from the
    # safe-harbor tables, and/or each line's `direct_cost` given as the table's cost percentage.
    safe_harbors: tuple[Literal["identification", "cost_percentage"], ...] = ()

    _assembly = field_validator("country_of_final_assembly")(_country)


class Component(_Strict):
    line: str = Field(min_length=1)
    description: str = Field(min_length=1)
    stage: Stage | None = None
    quantity: float = Field(default=1, gt=0)
    unit: str | None = None
    # Direct material cost of the whole line (quantity included), in the product's currency.
    direct_cost: float = Field(ge=0)
    supplier: str | None = None
    country_of_origin: str | None = None
    binding_contract_date: date | None = None
    certification: Certification | None = None
    certification_expiry: date | None = None
    # The supplier's own PFE statement when it is not in the atlas: a fact the user vouches
    # for, recorded as such in the audit trail.
    declared_status: Literal["clear", "specified", "foreign_influenced"] | None = None
    functional_cell_component: bool = False
    # Share of a mineral's extraction or processing value added in the US or an FTA country;
    # for a recycling line, the share of the recycling value added in North America.
    value_added_qualifying_pct: float | None = Field(default=None, ge=0, le=100)
    notes: str | None = None

    _origin = field_validator("country_of_origin")(_country)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.certification_expiry is not None and self.certification is None:
            raise ValueError("certification_expiry given without a certification")
        return self


class Bom(_Strict):
    product: Product
    components: tuple[Component, ...] = Field(min_length=1)
    file: str = "bill"

    @model_validator(mode="after")
    def _lines(self) -> Self:
        seen: set[str] = set()
        for component in self.components:
            if component.line in seen:
                raise ValueError(f"line {component.line!r} appears twice")
            seen.add(component.line)
        return self

    def total_cost(self) -> float:
        return sum(c.direct_cost for c in self.components)


PRODUCT_FIELDS = tuple(Product.model_fields)
COMPONENT_FIELDS = tuple(Component.model_fields)


def _clean(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = str(key).strip().lower() if key is not None else ""
        if name in ("", "kind"):
            continue
        if isinstance(value, str):
            value = value.strip()
        if value in ("", None):
            continue
        if name == "safe_harbors" and isinstance(value, str):
            value = tuple(v.strip() for v in value.replace(";", ",").split(",") if v.strip())
        out[name] = value
    return out


def _validate(file: str, model: type[BaseModel], row: dict[str, Any], number: int | None,
              table: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(p) for p in error["loc"]) or None
            problems.append(Problem(file, number, column, error["msg"], table))
        return None


def _build(file: str, product_rows: Sequence[tuple[int | None, dict[str, Any]]],
           component_rows: Sequence[tuple[int | None, dict[str, Any]]]) -> Bom:
    problems: list[Problem] = []
    if len(product_rows) != 1:
        raise ImportFailed([Problem(file, None, None,
                                    f"needs exactly one product, found {len(product_rows)}")])
    number, row = product_rows[0]
    product = _validate(file, Product, _clean(row, PRODUCT_FIELDS), number, "product",
                        problems)
    components = [_validate(file, Component, _clean(r, COMPONENT_FIELDS), n, "components",
                            problems) for n, r in component_rows]
    if not component_rows:
        problems.append(Problem(file, None, None, "has no components", "components"))
    if problems:
        raise ImportFailed(problems)
    try:
        return Bom(product=product, components=tuple(components), file=file)
    except ValidationError as exc:
        raise ImportFailed([Problem(file, None, None, e["msg"], "components")
                            for e in exc.errors()]) from None


def _read_csv(path: Path) -> Bom:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if rows and "kind" not in rows[0]:
        raise ImportFailed([Problem(path.name, 1, "kind", "a CSV bill needs a `kind` column "
                                    "(product / component)")])
    products, components, problems = [], [], []
    for number, row in enumerate(rows, start=2):
        kind = (row.get("kind") or "").strip().lower()
        if kind == "product":
            products.append((number, row))
        elif kind == "component":
            components.append((number, row))
        else:
            problems.append(Problem(path.name, number, "kind",
                                    f"{kind!r} is neither product nor component"))
    if problems:
        raise ImportFailed(problems)
    return _build(path.name, products, components)


def _read_excel(path: Path) -> Bom:
    from bmtc.io.readers import open_workbook, sheet_rows

    workbook = open_workbook(path)
    tables: dict[str, list[tuple[int | None, dict[str, Any]]]] = {}
    for sheet in ("product", "components"):
        if sheet not in workbook.sheet_names:
            raise ImportFailed([Problem(path.name, None, None, f"has no sheet {sheet!r}")])
        # Row numbers are the sheet's own, blank rows included, so a problem points at the
        # row a reviewer sees.
        numbered = [(n, r) for n, r in enumerate(sheet_rows(workbook, sheet), start=1)
                    if any(c not in ("", None) for c in r)]
        header = [str(c).strip().lower() for c in numbered[0][1]] if numbered else []
        tables[sheet] = [(n, dict(zip(header, r, strict=False))) for n, r in numbered[1:]]
    return _build(path.name, tables["product"], tables["components"])


def _read_json(path: Path) -> Bom:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportFailed([Problem(path.name, None, None, f"is not valid JSON: {exc}")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("components"), list):
        raise ImportFailed([Problem(path.name, None, None,
                                    'needs {"product": {...}, "components": [...]}')])
    product = data.get("product")
    wrong = [i for i, c in enumerate(data["components"], start=1) if not isinstance(c, dict)]
    if wrong:
        raise ImportFailed([Problem(path.name, i, None, "a component must be an object",
                                    "components") for i in wrong])
    return _build(path.name, [(None, product)] if isinstance(product, dict) else [],
                  list(enumerate(data["components"], start=1)))


def read_bom(path: Path) -> Bom:
    """A bill from a .json, .csv or .xlsx file."""
    if not path.is_file():
        raise ImportFailed([Problem(path.name, None, None, "does not exist")])
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _read_json(path)
        if suffix == ".csv":
            return _read_csv(path)
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            return _read_excel(path)
    except UnicodeDecodeError:
        raise ImportFailed([Problem(path.name, None, None, "is not UTF-8 text")]) from None
    except (csv.Error, CalamineError) as exc:
        raise ImportFailed([Problem(path.name, None, None, f"could not be read: {exc}")],
                           ) from None
    raise ImportFailed([Problem(path.name, None, None,
                                "is not a bill of materials (.json, .csv or .xlsx)")])
