"""The NREL/NAATBatt Li-ion supply-chain workbook, mapped onto bmtc tables.

The workbook's combined tab ("Append2") holds one row per facility and product line, with a
coarse `Supply Chain Segment` and free-text product fields. This module maps those onto bmtc
stages and product codes by keyword and keeps the original wording in `source_category` and
`notes`. Rows outside the battery supply chain proper (equipment makers, R&D, services,
software, distributors) are counted and left out. The `HQ Company` column seeds an ownership
edge of unknown size: the workbook names a parent but never a share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bmtc.domain.geo import normalize_country
from bmtc.domain.names import organization_key, slugify
from bmtc.io.importer import Rejected
from bmtc.io.problems import ImportFailed, Problem
from bmtc.io.readers import RawTables, cell_value, open_workbook, sheet_rows
from bmtc.io.tables import Row

DATABASE_URL = (
    "https://www.nrel.gov/transportation/li-ion-battery-supply-chain-database.html"
)
PUBLISHER = "NREL / NAATBatt North American Li-ion Battery Supply Chain Database"

_STATUS = {
    "commercial": "operating", "operational": "operating", "operating": "operating",
    "pilot": "operating", "planned": "announced", "announced": "announced",
    "under construction": "under_construction", "construction": "under_construction",
    "cancelled": "cancelled", "canceled": "cancelled", "paused": "paused",
    "on hold": "paused", "idle": "paused", "closed": "closed",
}
_OUT_OF_SCOPE = ("other", "equipment", "research", "service", "modeling", "software",
                 "distribut", "professional")

# (stage, keywords in the product fields) in the order they are tried for Midstream rows.
_MIDSTREAM_STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("recycling", ("recycl", "black mass", "end of life", "end-of-life")),
    ("precursor", ("precursor", "pcam", "p-cam")),
    ("separator", ("separator",)),
    ("foil", ("foil", "current collector")),
    ("electrolyte", ("electrolyte", "lipf6", "solvent", "binder", "pvdf", "electrolyte salt")),
    ("cathode", ("cathode", "nmc", "nca", "lfp", "lmfp", "lmo")),
    ("anode", ("anode", "graphite", "silicon", "hard carbon")),
    ("cell", ("cell", "cylindrical", "pouch", "prismatic", "electrode")),
    ("refining", ("hydroxide", "carbonate", "sulfate", "sulphate", "refin", "chemical",
                  "lithium metal", "conversion")),
]

# (product code, keywords); the first stage-compatible matches are kept.
_PRODUCT_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    ("black_mass", ("black mass",)),
    ("pcam", ("precursor", "pcam")),
    ("lfp_cam", ("lfp", "iron phosphate")),
    ("lmfp_cam", ("lmfp",)),
    ("nca_cam", ("nca",)),
    ("nmc_cam", ("nmc", "ncm")),
    ("lmo_cam", ("lmo",)),
    ("synthetic_graphite", ("synthetic graphite",)),
    ("spherical_graphite", ("spherical",)),
    ("silicon_anode", ("silicon",)),
    ("natural_graphite", ("natural graphite", "flake")),
    ("lipf6", ("lipf6",)),
    ("pvdf_binder", ("pvdf", "binder")),
    ("electrolyte_solvent", ("solvent",)),
    ("solid_electrolyte", ("solid electrolyte", "solid-state electrolyte")),
    ("electrolyte", ("electrolyte",)),
    ("wet_separator", ("wet",)),
    ("dry_separator", ("dry",)),
    ("copper_foil", ("copper foil",)),
    ("aluminum_foil", ("aluminum foil", "aluminium foil")),
    ("lithium_hydroxide", ("hydroxide",)),
    ("lithium_carbonate", ("carbonate",)),
    ("nickel_sulfate", ("nickel sulfate", "nickel sulphate")),
    ("cobalt_sulfate", ("cobalt sulfate", "cobalt sulphate")),
    ("manganese_sulfate", ("manganese sulfate", "manganese sulphate")),
    ("spodumene_concentrate", ("spodumene",)),
    ("lithium_brine", ("brine",)),
    ("lithium_claystone", ("clay",)),
    ("cylindrical_cells", ("cylindrical",)),
    ("pouch_cells", ("pouch",)),
    ("prismatic_cells", ("prismatic",)),
    ("sodium_ion_cells", ("sodium",)),
    ("solid_state_cells", ("solid state", "solid-state")),
    ("battery_packs", ("pack",)),
    ("battery_modules", ("module",)),
]
_STAGE_DEFAULT_PRODUCT = {
    "precursor": "pcam", "cathode": "cathode_materials", "anode": "anode_materials",
    "electrolyte": "electrolyte", "separator": "wet_separator", "cell": "li_ion_cells",
    "module_pack": "battery_packs", "recycling": "black_mass",
}
_MINING_DEFAULTS = [
    ("lithium", "spodumene_ore"), ("nickel", "nickel_ore"), ("cobalt", "cobalt_concentrate"),
    ("graphite", "natural_graphite"), ("manganese", "manganese_ore"),
    ("copper", "copper_concentrate"),
]
_CHEMISTRY_PATTERNS = [
    ("lmfp", r"\blmfp\b"), ("lfp", r"\blfp\b|iron phosphate"), ("nca", r"\bnca\b"),
    ("nmca", r"\bnmca\b|\bncma\b"), ("nmc811", r"811"), ("nmc622", r"622"),
    ("nmc532", r"532"), ("nmc", r"\bnmc\b|\bncm\b"), ("lmo", r"\blmo\b"),
    ("lto", r"\blto\b"), ("sodium_ion", r"sodium"), ("solid_state", r"solid[- ]state"),
]
_UNITS = {"gwh/yr": "GWh/yr", "gwh": "GWh/yr", "mwh/yr": "MWh/yr", "mwh": "MWh/yr",
          "mt/yr": "t/yr", "t/yr": "t/yr", "tpa": "t/yr", "tonnes/yr": "t/yr",
          "kt/yr": "kt/yr"}

# Header variants across tabs and editions, normalised to one name.
_HEADER_ALIASES = {
    "capacity": "production capacity", "capacity units": "production units",
    "contact email": "contact email",
}


@dataclass
class NaatbattRows:
    raw: RawTables
    rejected: list[Rejected] = field(default_factory=list)
    out_of_scope: int = 0


def edition_date(path: Path) -> str | None:
    """The edition date in a file name like `naatbatt-database-29sep2025.xlsx`."""
    match = re.search(r"(\d{1,2})[-_ ]?([a-z]{3,9})[-_ ]?(\d{4})", path.stem.lower())
    if not match:
        return None
    day, month_name, year = match.groups()
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
              "dec"]
    month = next((i for i, m in enumerate(months, 1) if month_name.startswith(m)), None)
    if month is None:
        return None
    try:
        return date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None


def _norm_header(value: Any) -> str:
    name = re.sub(r"\s+", " ", str(value or "")).strip().lower()
    return _HEADER_ALIASES.get(name, name)


def _find_table(file: str, workbook: Any) -> tuple[str, int, list[str], list[list[Any]]]:
    names = list(workbook.sheet_names)
    ordered = sorted(names, key=lambda n: n.strip().lower() != "append2")
    for sheet in ordered:
        rows = sheet_rows(workbook, sheet)
        for index, row in enumerate(rows[:15]):
            header = [_norm_header(c) for c in row]
            if "company" in header and "supply chain segment" in header:
                return sheet, index, header, rows[index + 1 :]
    raise ImportFailed([Problem(file, None, None,
                                "no sheet has the NAATBatt columns 'Company' and "
                                "'Supply Chain Segment'")])


def read_naatbatt(path: Path, as_of: str | None = None) -> NaatbattRows:
    file = path.name
    workbook = open_workbook(path)
    sheet, header_index, header, body = _find_table(file, workbook)
    edition = as_of or edition_date(path)
    if edition is None:
        raise ImportFailed([Problem(file, None, None,
                                    "cannot tell the edition date from the file name; "
                                    "pass --as-of YYYY-MM-DD")])
    result = NaatbattRows(RawTables(f"{file} sheet {sheet}"))
    facilities: list[tuple[int, Row]] = []
    orgs: dict[str, tuple[int, Row]] = {}
    rels: dict[tuple[str, str], tuple[int, Row]] = {}
    source = {"source_url": DATABASE_URL, "source_publisher": PUBLISHER,
              "source_as_of": edition, "source_confidence": "secondary"}
    for offset, cells in enumerate(body):
        number = header_index + 2 + offset
        values: dict[str, Any] = {}
        for name, cell in zip(header, cells, strict=False):
            if name and values.get(name) in (None, ""):
                values[name] = cell_value(cell)
        if not any(str(v).strip() for v in values.values() if v is not None):
            continue
        try:
            mapped = _map_row(values, edition, source)
        except _OutOfScope:
            result.out_of_scope += 1
            continue
        except ValueError as exc:
            column, _, reason = str(exc).partition(": ")
            result.rejected.append(Rejected("facilities", number, values,
                                            [Problem(result.raw.file, number, column, reason,
                                                     "facilities")]))
            continue
        facility, operator, parent = mapped
        facilities.append((number, facility))
        orgs.setdefault(operator["org_id"], (number, operator))
        if parent is not None:
            orgs.setdefault(parent["org_id"], (number, parent))
            rel = {"owner_id": parent["org_id"], "owned_id": operator["org_id"],
                   "kind": "ownership",
                   "notes": "Parent named in the NAATBatt HQ Company column; share not given.",
                   **source}
            rels.setdefault((parent["org_id"], operator["org_id"]), (number, rel))
    result.raw.tables = {
        "organizations": list(orgs.values()),
        "relationships": list(rels.values()),
        "facilities": facilities,
    }
    return result


class _OutOfScope(Exception):
    pass


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return re.sub(r"\s+", " ", str(value)).strip()


def _map_row(
    values: dict[str, Any], edition: str, source: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    segment = _text(values, "supply chain segment")
    product_type = _text(values, "product/facility type")
    product = _text(values, "product")
    chemistries_text = _text(values, "chemistries")
    haystack = " ".join((product_type, product, chemistries_text)).lower()
    stage = _stage(segment, product_type.lower(), product.lower())
    company = _text(values, "company")
    if not company:
        raise ValueError("Company: is required")
    country_text = _text(values, "facility country") or _text(values, "hq country")
    try:
        country = normalize_country(country_text) if country_text else ""
    except ValueError as exc:
        raise ValueError(f"Facility Country: {exc}") from None
    status_text = _text(values, "status")
    status = _STATUS.get(status_text.lower())
    if status is None:
        raise ValueError(f"Status: {status_text!r} is not a known NAATBatt status")
    capacity, capacity_note = _capacity(values, stage, haystack)
    products = _products(stage, haystack)
    naatbatt_id = _text(values, "id")
    name = _text(values, "facility name") or f"{company} {_text(values, 'facility city')}".strip()
    city, state = _text(values, "facility city"), _text(values, "facility state or province")
    facility_id = (f"naatbatt-{slugify(naatbatt_id)}" if naatbatt_id
                   else slugify(f"naatbatt-{company}-{name}-{city}-{state}"))
    notes = "; ".join(p for p in (
        f"NAATBatt ID {naatbatt_id}" if naatbatt_id else "",
        f"Product: {product}" if product else "",
        f"Chemistries: {chemistries_text}" if chemistries_text else "",
        capacity_note,
        f"Sources: {_text(values, 'sources')}" if _text(values, "sources") else "",
        f"QC: {_text(values, 'qc')} {_text(values, 'qc date')}".strip()
        if _text(values, "qc") else "",
    ) if p)
    operator_id = organization_key(company)
    hq_company = _text(values, "hq company")
    hq_country_text = _text(values, "hq country")
    try:
        hq_country = normalize_country(hq_country_text) if hq_country_text else None
    except ValueError:
        hq_country = None
    same_company = not hq_company or organization_key(hq_company) == operator_id
    operator = {"org_id": operator_id, "name": company, "kind": "company",
                "country_hq": hq_country if same_company else None,
                "website": _website(_text(values, "company website")), **source}
    parent = None
    if not same_company:
        parent = {"org_id": organization_key(hq_company), "name": hq_company, "kind": "company",
                  "country_hq": hq_country,
                  "website": _website(_text(values, "hq company website")), **source}
    facility = {
        "facility_id": facility_id, "name": name, "operator_id": operator_id,
        "operator_name": company, "stage": stage,
        "source_category": " | ".join(p for p in (segment, product_type) if p),
        "products": products, "chemistries": _chemistries(haystack),
        "city": city or None, "state_province": state or None, "country": country or None,
        "latitude": values.get("latitude"), "longitude": values.get("longitude"),
        "coordinates_precision": "site" if values.get("latitude") not in (None, "") else None,
        **capacity, "status": status, "status_as_of": edition, "verified": "no",
        "notes": notes or None, **source,
    }
    return facility, operator, parent


def _website(value: str) -> str | None:
    if not value:
        return None
    return value if value.startswith(("http://", "https://")) else f"https://{value}"


def _midstream_stage(text: str, cells_first: bool) -> str | None:
    order = _MIDSTREAM_STAGES
    if cells_first:
        # The type column names what the site makes ("Cylindrical cells"); a chemistry in it
        # describes the cell, not a cathode plant.
        order = sorted(order, key=lambda item: item[0] != "cell")
    for stage, words in order:
        if any(w in text for w in words):
            return stage
    return None


def _stage(segment: str, product_type: str, product: str) -> str:
    seg = segment.lower()
    haystack = f"{product_type} {product}".strip()
    if any(word in haystack for word in ("recycl", "black mass")) or "end of life" in seg:
        return "recycling"
    if seg.startswith("upstream"):
        refined = ("hydroxide", "carbonate", "sulfate", "sulphate", "refin")
        return "refining" if any(w in haystack for w in refined) else "mining"
    if seg.startswith("downstream"):
        return "module_pack"
    if seg.startswith("midstream"):
        stage = _midstream_stage(product_type, cells_first=True) or _midstream_stage(
            product, cells_first=False)
        if stage is not None:
            return stage
        raise ValueError(
            f"Product/Facility Type: cannot tell the stage of {haystack.strip()!r} (Midstream)"
        )
    if not seg or any(seg.startswith(w) for w in _OUT_OF_SCOPE):
        raise _OutOfScope
    raise ValueError(f"Supply Chain Segment: {segment!r} is not a NAATBatt segment")


def _products(stage: str, haystack: str) -> list[str]:
    from bmtc.domain.vocab import PRODUCTS, Stage

    found = [code for code, words in _PRODUCT_KEYWORDS
             if any(w in haystack for w in words) and Stage(stage) in PRODUCTS[code].stages]
    if found:
        return list(dict.fromkeys(found))
    if stage == "mining":
        for word, code in _MINING_DEFAULTS:
            if word in haystack:
                return [code]
        raise ValueError(f"Product: cannot tell which raw material {haystack.strip()!r} is")
    if stage == "refining":
        raise ValueError(f"Product: cannot tell which refined product {haystack.strip()!r} is")
    if stage == "foil":
        return ["aluminum_foil" if "alumin" in haystack else "copper_foil"]
    return [_STAGE_DEFAULT_PRODUCT[stage]]


def _chemistries(haystack: str) -> list[str]:
    found = [name for name, pattern in _CHEMISTRY_PATTERNS if re.search(pattern, haystack)]
    if any(n.startswith("nmc") and n != "nmc" for n in found):
        found = [n for n in found if n != "nmc"]
    return found


def _capacity(values: dict[str, Any], stage: str, haystack: str) -> tuple[dict[str, Any], str]:
    raw_value = values.get("production capacity")
    raw_unit = _text(values, "production units")
    empty = {"capacity_value": None, "capacity_unit": None, "capacity_basis": None}
    if raw_value in (None, ""):
        return empty, ""
    unit = _UNITS.get(raw_unit.lower().replace(" ", ""))
    if unit is None:
        # Amp-hours and other non-annual units describe a product, not a plant's capacity.
        return empty, f"capacity as reported: {_text(values, 'production capacity')} {raw_unit}"
    try:
        number = float(str(raw_value).replace(",", ""))
    except ValueError:
        raise ValueError(f"Production Capacity: {raw_value!r} is not a number") from None
    if unit in ("GWh/yr", "MWh/yr"):
        basis = "battery_packs" if stage == "module_pack" else "li_ion_cells"
    elif stage == "recycling":
        basis = "feedstock"
    else:
        basis = _products(stage, haystack)[0]
    return {"capacity_value": number, "capacity_unit": unit, "capacity_basis": basis}, ""
