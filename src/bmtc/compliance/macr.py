"""Material-assistance cost ratio, IRC 7701(a)(52).

ratio = (total direct (material) cost - cost attributable to prohibited foreign entities)
        / total direct (material) cost

A ratio below the year's threshold is material assistance: no 45X credit for the component,
no 45Y / 48E credit for the facility or storage. A line counts as prohibited when its supplier
is a specified or foreign-influenced entity on the testing date; it does not when the supplier
is clear, when a binding contract signed before the cut-off grandfathers it, or when the
supplier's certification (Notice 2026-15 safe harbor) is in force and nothing known contradicts
it. A line whose supplier status is unknown can never make the bill pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import ClassVar, Literal, Self

from pydantic import model_validator

from bmtc.analysis.reference import Keys, ReferenceFile
from bmtc.compliance.bom import Bom, Component
from bmtc.compliance.schedule import Dated, check_no_overlap, load_compliance, on

Verdict = Literal["pass", "fail", "insufficient_data"]
LineStatus = Literal["pfe", "clear", "unknown"]
PROHIBITED = frozenset({"specified", "foreign_influenced"})
SERIES_BY_PRODUCT = {
    "battery_cell": "45x-battery-components",
    "battery_module": "45x-battery-components",
    "electrode_active_material": "45x-battery-components",
    "energy_storage_system": "48e-45y-storage",
    "qualified_facility": "48e-45y-facility",
}


class Threshold(Dated):
    threshold_pct: float


class Grandfather(Dated):
    contract_before: date
    use_before: date


class SafeHarbor(Dated):
    pass


class MacrFile(ReferenceFile):
    threshold: tuple[Threshold, ...]
    grandfather: tuple[Grandfather, ...] = ()
    safe_harbor: tuple[SafeHarbor, ...] = ()

    unique_by: ClassVar[Keys] = {"threshold": lambda t: t.id, "grandfather": lambda g: g.id,
                                 "safe_harbor": lambda s: s.id}

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        check_no_overlap(self.threshold)
        return self


@cache
def load_macr() -> MacrFile:
    return load_compliance("macr.toml", MacrFile)


@dataclass(frozen=True)
class SupplierStatus:
    """A supplier's status on the testing date and where it comes from (a screening verdict
    with its rule set and date, or the user's declaration in the bill)."""

    status: str
    basis: str


@dataclass(frozen=True)
class LineResult:
    line: str
    description: str
    supplier: str | None
    direct_cost: float
    status: LineStatus
    reason: str
    rows: tuple[str, ...] = ()


@dataclass
class MacrResult:
    product: str
    series: str
    year: int
    testing_date: date
    total_cost: float
    pfe_cost: float
    unknown_cost: float
    ratio: float
    ratio_if_unknown_prohibited: float
    threshold: Threshold
    verdict: Verdict
    margin_pct: float
    lines: list[LineResult]
    flip: list[str] = field(default_factory=list)
    flip_note: str = ""
    notes: list[str] = field(default_factory=list)
    safe_harbors: tuple[str, ...] = ()

    def rows_used(self) -> list[Dated]:
        data = load_macr()
        ids = ({self.threshold.id} | {r for line in self.lines for r in line.rows}
               | set(self.safe_harbors))
        return [r for r in (*data.threshold, *data.grandfather, *data.safe_harbor)
                if r.id in ids]


def series_for(bom: Bom) -> str:
    try:
        return SERIES_BY_PRODUCT[bom.product.type]
    except KeyError:
        raise ValueError(f"{bom.file}: no material-assistance threshold is encoded for "
                         f"{bom.product.type} (none could be verified)") from None


def threshold_for(series: str, year: int, data: MacrFile | None = None) -> Threshold:
    data = data or load_macr()
    found = on(data.threshold, series, date(year, 7, 1))
    if found is None:
        years = sorted(t.effective_from.year for t in data.threshold if t.series == series)
        raise ValueError(f"no {series} threshold for {year} (schedule starts {years[0]})")
    return found


def _grandfathered(component: Component, series: str, use_date: date | None,
                   data: MacrFile) -> Grandfather | Literal["undecided"] | None:
    """The grandfather row that covers the line, None, or "undecided" when the contract is
    early enough but the date the product is used (a facility's placing in service) is not
    given."""
    if component.binding_contract_date is None:
        return None
    family = "45x" if series.startswith("45x") else "48e-45y"
    row = next((g for g in data.grandfather if g.series == family), None)
    if row is None or component.binding_contract_date >= row.contract_before:
        return None
    if use_date is None:
        return "undecided"
    return row if use_date < row.use_before else None


def _certified(component: Component, testing: date, data: MacrFile) -> SafeHarbor | None:
    if component.certification != "non_pfe":
        return None
    if component.certification_expiry is not None and component.certification_expiry < testing:
        return None
    return on(data.safe_harbor, "certification", testing)


def classify(component: Component, bom: Bom, series: str, testing: date,
             statuses: Mapping[str, SupplierStatus], data: MacrFile) -> LineResult:
    """Whether one line counts as prohibited, and why."""
    # A 45X component is "used" when the product is sold; a facility when placed in service.
    use_date = (bom.product.sale_date or testing) if series.startswith("45x") \
        else bom.product.placed_in_service
    known = statuses.get(component.supplier or "")

    def result(status: LineStatus, reason: str, *rows: str) -> LineResult:
        return LineResult(component.line, component.description, component.supplier,
                          component.direct_cost, status, reason, rows)

    grandfather = _grandfathered(component, series, use_date, data)
    if grandfather == "undecided":
        return result("unknown", f"binding contract of {component.binding_contract_date} may "
                      "be grandfathered, but the bill gives no placed_in_service date")
    if isinstance(grandfather, Grandfather):
        return result("clear", f"binding contract of {component.binding_contract_date} "
                      f"before {grandfather.contract_before}, used before "
                      f"{grandfather.use_before}", grandfather.id)
    certified = _certified(component, testing, data)
    if certified is not None:
        if known is not None and known.status in PROHIBITED:
            return result("pfe", f"supplier certifies non-PFE, but {known.basis} finds it "
                          f"{known.status}: the certification cannot be relied on",
                          certified.id)
        expiry = component.certification_expiry or "no expiry"
        return result("clear", f"supplier certification in force ({expiry})", certified.id)
    if component.supplier is None:
        return result("unknown", "no supplier named")
    if known is None or known.status == "insufficient_data":
        basis = "not found in the atlas and not declared" if known is None else known.basis
        return result("unknown", f"status unknown ({basis})")
    if known.status in PROHIBITED:
        return result("pfe", f"{known.status} ({known.basis})")
    return result("clear", f"clear ({known.basis})")


def _flip(lines: list[LineResult], total: float, ratio: float, threshold: float,
          verdict: Verdict) -> tuple[list[str], str]:
    """The fewest line changes that would flip the verdict, largest cost first."""
    if total <= 0:
        return [], ""
    unknown = [ln for ln in lines if ln.status == "unknown"]
    if verdict == "insufficient_data":
        cost = sum(ln.direct_cost for ln in unknown)
        return [ln.line for ln in unknown], (
            f"resolve the supplier status of these line(s) ({cost:,.2f} of cost): the bill "
            "cannot pass while any is unknown")
    if verdict == "fail":
        candidates = sorted((ln for ln in lines if ln.status != "clear"),
                            key=lambda ln: -ln.direct_cost)
        needed = threshold * total - (total - sum(ln.direct_cost for ln in lines
                                                  if ln.status != "clear"))
        chosen, moved = [], 0.0
        for line in candidates:
            if moved >= needed - 1e-9:
                break
            chosen.append(line.line)
            moved += line.direct_cost
        return chosen, (f"sourcing these {len(chosen)} line(s) from clear suppliers would lift "
                        f"the ratio to the threshold ({needed:,.2f} of cost to move)")
    headroom = (ratio - threshold) * total
    single = sorted((ln for ln in lines if ln.status == "clear"
                     and ln.direct_cost > headroom + 1e-9), key=lambda ln: -ln.direct_cost)
    return [ln.line for ln in single], (
        f"headroom {headroom:,.2f}: each listed clear line, if its supplier became prohibited, "
        "would alone fail the test")


def check_year(bom: Bom, year: int) -> None:
    """Refuse a year the bill's own dates contradict: 45X looks at the year of sale, 45Y and
    48E at the year construction begins."""
    product = bom.product
    facility = SERIES_BY_PRODUCT.get(product.type, "45x").startswith("48e")
    name, day = (("construction_start", product.construction_start) if facility
                 else ("sale_date", product.sale_date))
    if day is not None and day.year != year:
        raise ValueError(f"{bom.file}: product.{name} is {day}, but the year asked is {year}")


def macr(bom: Bom, year: int, statuses: Mapping[str, SupplierStatus],
         testing: date | None = None, data: MacrFile | None = None) -> MacrResult:
    """The ratio, threshold and verdict of one bill in one year."""
    data = data or load_macr()
    check_year(bom, year)
    series = series_for(bom)
    threshold = threshold_for(series, year, data)
    # Certifications are checked on the day of sale when the bill gives it, else at year end.
    sale = bom.product.sale_date
    testing = testing or (sale if sale is not None and sale.year == year else date(year, 12, 31))
    lines = [classify(c, bom, series, testing, statuses, data) for c in bom.components]
    total = sum(ln.direct_cost for ln in lines)
    if total <= 0:
        raise ValueError(f"{bom.file}: the components' direct costs sum to zero")
    pfe = sum(ln.direct_cost for ln in lines if ln.status == "pfe")
    unknown = sum(ln.direct_cost for ln in lines if ln.status == "unknown")
    ratio = (total - pfe) / total
    worst = (total - pfe - unknown) / total
    limit = threshold.threshold_pct / 100
    verdict: Verdict
    # "Less than" the threshold, judged to a millionth so that round-off cannot fail an
    # exact 60.0%.
    if ratio < limit - 1e-9:
        verdict = "fail"
    elif unknown > 0:
        verdict = "insufficient_data"
    else:
        verdict = "pass"
    flip, flip_note = _flip(lines, total, ratio, limit, verdict)
    notes = []
    elected = []
    for name in bom.product.safe_harbors:
        row = on(data.safe_harbor, name, testing)
        if row is None:
            notes.append(f"safe harbor {name!r} is not available on {testing}; ignored")
            continue
        elected.append(row.id)
        notes.append(f"safe harbor elected: {row.id} ({row.citation})")
    if "cost_percentage" in bom.product.safe_harbors and abs(total - 100) > 0.5:
        notes.append(f"with the cost-percentage safe harbor the lines' costs are table "
                     f"percentages, yet they sum to {total:g}, not 100")
    if not threshold.verified:
        notes.append(f"threshold {threshold.id} ({threshold.threshold_pct:g}%) is "
                     f"{threshold.confidence.value}, not verified against the statute text")
    if verdict == "insufficient_data":
        state = "would still pass" if worst >= limit else "would fail"
        notes.append(f"{unknown:,.2f} of cost has unknown supplier status; if it were all "
                     f"prohibited the ratio would be {worst:.1%} and the bill {state}")
    return MacrResult(bom.product.id, series, year, testing, total, pfe, unknown, ratio,
                      worst, threshold, verdict, (ratio - limit) * 100, lines, flip,
                      flip_note, notes, tuple(elected))
