"""Estimate of the 45X credit for a bill's product: the amount per kWh or per dollar of
production cost, the 100:1 capacity-to-power cap, the phase-out for the year, and the two bars
(a prohibited taxpayer; material assistance, judged by the ratio calculator)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import ClassVar, Literal, Self

from pydantic import model_validator

from bmtc.analysis.reference import Keys, ReferenceFile
from bmtc.compliance.bom import Bom
from bmtc.compliance.macr import PROHIBITED, MacrResult
from bmtc.compliance.schedule import Dated, check_no_overlap, load_compliance, on

Outcome = Literal["eligible", "denied", "insufficient_data"]


class Amount(Dated):
    per_kwh: float | None = None
    pct_of_cost: float | None = None


class Phaseout(Dated):
    pct: float


class Cap(Dated):
    max_ratio: float


class Bar(Dated):
    pass


class CreditFile(ReferenceFile):
    amount: tuple[Amount, ...]
    phaseout: tuple[Phaseout, ...]
    cap: tuple[Cap, ...]
    bar: tuple[Bar, ...]

    unique_by: ClassVar[Keys] = {"amount": lambda a: a.id, "phaseout": lambda p: p.id}

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        for rows in (self.amount, self.phaseout, self.cap, self.bar):
            check_no_overlap(rows)
        return self


@cache
def load_credit() -> CreditFile:
    return load_compliance("credit-45x.toml", CreditFile)


@dataclass
class CreditResult:
    product: str
    year: int
    outcome: Outcome
    per_unit_before_phaseout: float
    phaseout_pct: float
    per_unit: float
    units: float
    total: float
    # What the credit would be were it not denied (or were unknowns resolved favourably).
    potential_total: float
    steps: list[str]
    rows: list[Dated] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _amount_series(bom: Bom) -> str:
    kind = bom.product.type
    if kind == "battery_module" and not bom.product.uses_cells:
        return "battery_module_without_cells"
    if kind in ("battery_cell", "battery_module", "electrode_active_material",
                "critical_mineral"):
        return kind
    raise ValueError(f"{bom.file}: a {kind} earns no 45X credit (45Y / 48E cover facilities "
                     "and storage)")


def credit_45x(bom: Bom, year: int, taxpayer_status: str | None, macr: MacrResult | None,
               data: CreditFile | None = None) -> CreditResult:
    """The credit for the bill's units sold in `year`. `taxpayer_status` is the producer's
    PFE status for the taxable year (None when unknown); `macr` the ratio result, required
    from 2026 when material assistance bars the credit."""
    data = data or load_credit()
    product = bom.product
    day = product.sale_date if product.sale_date and product.sale_date.year == year \
        else date(year, 12, 31)
    series = _amount_series(bom)
    amount = on(data.amount, series, day)
    if amount is None:
        raise ValueError(f"no 45X amount for {series} on {day}")
    rows: list[Dated] = [amount]
    steps: list[str] = []
    notes: list[str] = []
    if amount.per_kwh is not None:
        if product.capacity_kwh is None:
            raise ValueError(f"{bom.file}: product.capacity_kwh is needed for a per-kWh credit")
        capacity = product.capacity_kwh
        cap = on(data.cap, "capacity_to_power", day)
        if cap is not None and product.power_kw is not None:
            rows.append(cap)
            limit = cap.max_ratio * product.power_kw
            if capacity > limit:
                steps.append(f"capacity {capacity:g} kWh capped at {limit:g} kWh "
                             f"({cap.max_ratio:g}:1 to {product.power_kw:g} kW, {cap.id})")
                capacity = limit
        elif product.power_kw is None:
            notes.append("no power rating given: the 100:1 capacity-to-power cap was not "
                         "checked")
        base = amount.per_kwh * capacity
        steps.append(f"{amount.per_kwh:g} $/kWh x {capacity:g} kWh = {base:,.2f} ({amount.id})")
    else:
        assert amount.pct_of_cost is not None
        if product.production_cost is None:
            raise ValueError(f"{bom.file}: product.production_cost is needed for this credit")
        base = amount.pct_of_cost / 100 * product.production_cost
        steps.append(f"{amount.pct_of_cost:g}% of production cost {product.production_cost:,.2f}"
                     f" = {base:,.2f} ({amount.id})")
    phase_series = "critical_minerals" if series == "critical_mineral" else "components"
    phase = on(data.phaseout, phase_series, day)
    pct = phase.pct if phase is not None else 0.0
    if phase is not None:
        rows.append(phase)
        steps.append(f"phase-out for {year}: {pct:g}% ({phase.id})")
    per_unit = base * pct / 100
    potential = per_unit * product.units
    outcome: Outcome = "eligible"
    taxpayer_bar = on(data.bar, "prohibited_taxpayer", day)
    if taxpayer_bar is not None:
        rows.append(taxpayer_bar)
        if taxpayer_status in PROHIBITED:
            outcome = "denied"
            steps.append(f"taxpayer is {taxpayer_status}: no credit ({taxpayer_bar.id})")
        elif taxpayer_status is None or taxpayer_status == "insufficient_data":
            outcome = "insufficient_data"
            steps.append(f"taxpayer's PFE status unknown ({taxpayer_bar.id})")
    material = on(data.bar, "material_assistance", day)
    if material is not None and outcome != "denied":
        rows.append(material)
        if macr is None:
            outcome = "insufficient_data"
            steps.append("no material-assistance ratio computed")
        elif macr.verdict == "fail":
            outcome = "denied"
            steps.append(f"material assistance: ratio {macr.ratio:.1%} below "
                         f"{macr.threshold.threshold_pct:g}% ({material.id})")
        elif macr.verdict == "insufficient_data":
            outcome = "insufficient_data"
            steps.append("material-assistance ratio undecided (unknown supplier status)")
        else:
            steps.append(f"no material assistance: ratio {macr.ratio:.1%} >= "
                         f"{macr.threshold.threshold_pct:g}%")
    total = potential if outcome == "eligible" else 0.0
    unverified = [r.id for r in rows if not r.verified]
    if unverified:
        notes.append("rests on rows not verified against primary text: " + ", ".join(unverified))
    return CreditResult(product.id, year, outcome, base, pct, per_unit, product.units, total,
                        potential, steps, rows, notes)
