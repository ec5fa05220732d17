"""Counts and capacity of the atlas by stage, country and status, and its data quality."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bmtc.domain.dates import months_between
from bmtc.domain.model import Facility, Organization
from bmtc.domain.quantities import Capacity
from bmtc.domain.vocab import Confidence, Stage, Status

# Units that add up after conversion, with the unit each is reported in.
_SUMMABLE_UNIT = {"GWh/yr": "GWh/yr", "MWh/yr": "GWh/yr", "t/yr": "t/yr", "kt/yr": "t/yr",
                  "m2/yr": "m2/yr", "units/yr": "units/yr"}


@dataclass(frozen=True)
class CapacityTotal:
    stage: str
    country: str
    status: str
    unit: str
    basis: str
    total: float
    facilities: int


def counts(facilities: Iterable[Facility]) -> list[dict[str, Any]]:
    """Facility counts per (stage, country, status), every stage listed in order."""
    tally = Counter((f.stage.value, f.country, f.status.value) for f in facilities)
    return [
        {"stage": stage, "country": country, "status": status, "facilities": n}
        for (stage, country, status), n in sorted(
            tally.items(), key=lambda item: (list(Stage).index(Stage(item[0][0])), item[0][1:])
        )
    ]


def capacity_totals(facilities: Iterable[Facility]) -> list[CapacityTotal]:
    """Capacity summed per stage, country, status, unit and basis, never across bases."""
    totals: dict[tuple[str, str, str, str, str], list[float]] = defaultdict(list)
    for f in facilities:
        cap: Capacity | None = f.capacity
        if cap is None:
            continue
        unit = _SUMMABLE_UNIT[cap.unit]
        key = (f.stage.value, f.country, f.status.value, unit, cap.basis)
        totals[key].append(cap.to(unit))
    return [
        CapacityTotal(*key, total=sum(values), facilities=len(values))
        for key, values in sorted(
            totals.items(), key=lambda item: (list(Stage).index(Stage(item[0][0])), item[0][1:])
        )
    ]


def stage_country_matrix(facilities: Iterable[Facility]) -> list[dict[str, Any]]:
    """One row per stage: counts by country and by status."""
    rows: dict[str, dict[str, Any]] = {
        s.value: {"stage": s.value, "total": 0, **{st.value: 0 for st in Status}}
        for s in Stage
    }
    countries: set[str] = set()
    for f in facilities:
        row = rows[f.stage.value]
        row["total"] += 1
        row[f.status.value] += 1
        row[f.country] = row.get(f.country, 0) + 1
        countries.add(f.country)
    for row in rows.values():
        for country in countries:
            row.setdefault(country, 0)
    return list(rows.values())


@dataclass(frozen=True)
class QualityFinding:
    check: str
    entity: str
    entity_id: str
    detail: str


def quality_report(
    facilities: list[Facility], organizations: list[Organization], as_of: str | None,
    stale_months: int = 12,
) -> dict[str, Any]:
    """What a curator should look at: gaps, unverified rows, stale or weak evidence."""
    findings: list[QualityFinding] = []
    for f in facilities:
        if f.capacity is None:
            findings.append(QualityFinding("missing_capacity", "facility", f.id,
                                           f"{f.stage.value}, {f.status.value}"))
        if not f.verified:
            findings.append(QualityFinding("unverified", "facility", f.id, f.name))
        if as_of and months_between(f.status_as_of, as_of) > stale_months:
            findings.append(QualityFinding(
                "stale_status", "facility", f.id,
                f"status {f.status.value} as of {f.status_as_of}, "
                f"{months_between(f.status_as_of, as_of)} months before {as_of}"))
        if f.source.confidence == Confidence.UNCERTAIN:
            findings.append(QualityFinding("weak_source", "facility", f.id, f.source.url))
        if f.latitude is None:
            findings.append(QualityFinding("missing_coordinates", "facility", f.id, f.name))
        elif f.coordinates_precision not in ("site", None):
            findings.append(QualityFinding("approximate_coordinates", "facility", f.id,
                                           f"precision: {f.coordinates_precision}"))
    for org in organizations:
        if org.country_hq is None:
            findings.append(QualityFinding("missing_country", "organization", org.id, org.name))
    tally = Counter(f.check for f in findings)
    capacity_missing_by_stage = Counter(f.stage.value for f in facilities if f.capacity is None)
    per_stage = Counter(f.stage.value for f in facilities)
    return {
        "as_of": as_of,
        "stale_months": stale_months,
        "facilities": len(facilities),
        "organizations": len(organizations),
        "summary": dict(sorted(tally.items())),
        "missing_capacity_share_by_stage": {
            stage: round(capacity_missing_by_stage[stage] / per_stage[stage], 3)
            for stage in per_stage
        },
        "findings": [f.__dict__ for f in findings],
    }
