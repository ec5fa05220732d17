"""The historic §30D new clean vehicle credit, for audits of vehicles already sold: where a
bill's value comes from, the critical-mineral and battery-component content tests, the
foreign-entity-of-concern exclusions, final assembly and the 2025 acquisition cut-off.

Each $3,750 half meets, fails, or lacks data. A line whose qualification is unknown is counted
both ways, so it leaves a half undecided only when it could change the answer. Every result
lists the rows of `content-30d.toml` it rests on, and notes those not verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bmtc.analysis.realisation import PartnerGroupsFile, load_partner_groups
from bmtc.compliance.bom import Bom, Component
from bmtc.compliance.content_rules import (
    Applicable,
    Content30dFile,
    Credit,
    Exclusion,
    Half,
    applicable,
    first_row,
    in_force,
    load_content_30d,
)
from bmtc.compliance.macr import SupplierStatus
from bmtc.compliance.schedule import Dated, on
from bmtc.domain.vocab import Confidence, Stage

Verdict = Literal["meets", "fails", "insufficient_data"]
Qualifies = Literal["yes", "no", "unknown"]
VaVerdict = Literal["passes", "fails", "unknown", "not_applicable"]
Statuses = Mapping[str, str | SupplierStatus]
STAGES: dict[Half, frozenset[Stage]] = {
    "critical_minerals": frozenset({Stage.MINING, Stage.REFINING, Stage.RECYCLING}),
    # Battery components as the Treasury regulations list them (electrodes, separators,
    # electrolytes, cells, modules); electrodes are made in cell plants here.
    "battery_components": frozenset({Stage.ELECTROLYTE, Stage.SEPARATOR, Stage.CELL,
                                     Stage.MODULE_PACK}),
}
# Constituent materials (precursor, cathode and anode active-material powders, foils) are in
# neither content share; as products of critical-mineral processing they do fall under the
# critical-mineral FEOC exclusion. A reading of 26 CFR 1.30D-2 not confirmed against the text.
CONSTITUENT = frozenset({Stage.PRECURSOR, Stage.CATHODE, Stage.ANODE, Stage.FOIL})
FEOC_SCOPE: dict[str, frozenset[Stage]] = {
    "critical_minerals": STAGES["critical_minerals"] | CONSTITUENT,
    "battery_components": STAGES["battery_components"],
}
ORIGIN_GROUPS = ("us", "usmca", "fta", "named_allies", "covered_nations", "other", "unknown")
# Battery components count when manufactured or assembled in North America, 30D(e)(2)(A).
COMPONENT_GROUP = "north_america"
_WORST: dict[Verdict, int] = {"meets": 0, "insufficient_data": 1, "fails": 2}
_EPS = 1e-9


def _countries(groups: PartnerGroupsFile, *ids: str) -> frozenset[str]:
    return frozenset(c for gid in ids for c in groups.get(gid).countries)


def origin_group(country: str | None, groups: PartnerGroupsFile | None = None) -> str:
    """The first of `ORIGIN_GROUPS` a country of origin belongs to."""
    if country is None:
        return "unknown"
    groups = groups or load_partner_groups()
    ordered = (("us", frozenset({"US"})),
               ("usmca", _countries(groups, "north_america") - {"US"}),
               ("fta", _countries(groups, "fta", "critical_minerals_agreement")),
               ("named_allies", _countries(groups, "named_allies")),
               ("covered_nations", _countries(groups, "covered_nations")))
    return next((name for name, members in ordered if country in members), "other")


@dataclass(frozen=True)
class OriginShare:
    group: str
    cost: float
    share: float
    lines: tuple[str, ...]


def origin_shares(bom: Bom, groups: PartnerGroupsFile | None = None) -> tuple[OriginShare, ...]:
    """Direct cost and its share by origin group, one row per group in `ORIGIN_GROUPS`."""
    total = bom.total_cost()
    if total <= 0:
        raise ValueError(f"{bom.file}: the components' direct costs sum to zero")
    found: dict[str, list[Component]] = {name: [] for name in ORIGIN_GROUPS}
    for c in bom.components:
        found[origin_group(c.country_of_origin, groups or load_partner_groups())].append(c)
    costs = {name: sum((c.direct_cost for c in lines), 0.0) for name, lines in found.items()}
    return tuple(OriginShare(name, costs[name], costs[name] / total,
                             tuple(c.line for c in lines)) for name, lines in found.items())


@dataclass(frozen=True)
class ValueAddedResult:
    line: str
    verdict: VaVerdict
    pct: float | None
    threshold_pct: float
    row: str
    reason: str


def value_added_test(component: Component, day: date | None = None,
                     data: Content30dFile | None = None) -> ValueAddedResult:
    """The 50% value-added test (30D-5) for a mineral line. `value_added_qualifying_pct` is
    read as the share of extraction or processing value added in the US or an FTA country,
    and for a recycling line as the share of recycling value added in North America."""
    data = data or load_content_30d()
    rule = (in_force(data.value_added, "30d-value-added", day) if day is not None
            else max(data.value_added, key=lambda r: r.effective_from))
    pct, limit = component.value_added_qualifying_pct, rule.threshold_pct
    verdict: VaVerdict
    if component.stage not in STAGES["critical_minerals"]:
        verdict, reason = "not_applicable", "not a mineral line (mining, refining, recycling)"
    elif pct is None:
        verdict, reason = "unknown", "no value-added share given"
    else:
        where = ("recycling in North America" if component.stage is Stage.RECYCLING
                 else "extraction or processing in the US or an FTA country")
        verdict = "passes" if pct >= limit else "fails"
        reason = f"{pct:g}% of value added by {where} ({verdict} the {limit:g}% test)"
    return ValueAddedResult(component.line, verdict, pct, limit, rule.id, reason)


@dataclass(frozen=True)
class LineResult:
    component: Component
    qualifies: Qualifies
    reason: str
    rows: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A condition on the whole vehicle: failing one removes both halves."""

    name: str
    verdict: Verdict
    reason: str
    rows: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()


@dataclass
class HalfResult:
    half: Half
    verdict: Verdict
    content: Verdict  # the share test alone, before the vehicle-wide checks
    amount: float
    available: float
    applicable: Applicable
    total_cost: float
    qualifying_cost: float
    unknown_cost: float
    lines: tuple[LineResult, ...]
    reasons: list[str] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Qualifying share, undecided lines counted as not qualifying."""
        return self.qualifying_cost / self.total_cost if self.total_cost > 0 else None

    @property
    def share_if_unknown_qualifies(self) -> float | None:
        return ((self.qualifying_cost + self.unknown_cost) / self.total_cost
                if self.total_cost > 0 else None)


@dataclass
class Historic30dResult:
    product: str
    placed_in_service: date
    acquired: date | None
    checks: tuple[Check, ...]
    critical_minerals: HalfResult
    battery_components: HalfResult
    credit: float  # earned on what is known
    credit_if_resolved: float  # earned if every undecided point went the vehicle's way
    rows: tuple[Dated, ...]
    notes: list[str] = field(default_factory=list)


def _mineral(c: Component, qualifying: frozenset[str], recycled: frozenset[str],
             data: Content30dFile, day: date) -> LineResult:
    va = value_added_test(c, day, data)
    origin, recycling = c.country_of_origin, c.stage is Stage.RECYCLING
    if origin is not None and origin in (recycled if recycling else qualifying):
        if recycling:
            return LineResult(c, "yes", f"recycled in {origin} (North America)", (va.row,))
        row = in_force(data.countries, "30d-fta-countries", day)
        return LineResult(c, "yes", f"origin {origin} is the US or an FTA country", (row.id,))
    if va.verdict in ("passes", "fails"):
        return LineResult(c, "yes" if va.verdict == "passes" else "no", va.reason, (va.row,))
    # A non-qualifying origin does not settle it: the mineral may have been extracted or
    # processed in a qualifying country at another step, which only the 50% test can show.
    told = "no country of origin" if origin is None else f"origin {origin} does not qualify"
    return LineResult(c, "unknown", f"{told} and no value-added share: the 50% test is "
                      "undecided", (va.row,))


def _component(c: Component, north_america: frozenset[str]) -> LineResult:
    origin = c.country_of_origin
    if origin is None:
        return LineResult(c, "unknown", "no country of origin")
    inside = origin in north_america
    return LineResult(c, "yes" if inside else "no",
                      f"made in {origin}, {'in' if inside else 'outside'} North America")


def _content(lines: Sequence[LineResult], limit: float) -> tuple[Verdict, float, float, float]:
    def cost(*kinds: Qualifies) -> float:
        return sum((ln.component.direct_cost for ln in lines if ln.qualifies in kinds), 0.0)

    total, good, unknown = cost("yes", "no", "unknown"), cost("yes"), cost("unknown")
    if total <= 0:
        return "insufficient_data", total, good, unknown
    low, high = good / total, (good + unknown) / total
    verdict: Verdict = ("fails" if high < limit - _EPS else "meets" if low >= limit - _EPS
                        else "insufficient_data")
    return verdict, total, good, unknown


def _feoc(bom: Bom, rows: Sequence[Exclusion], series: str, day: date,
          statuses: Statuses) -> Check:
    first = first_row(rows, series)
    name, what = f"feoc_{first.scope}", first.scope.replace("_", " ")
    row = on(rows, series, day)
    if row is None:
        return Check(name, "meets", f"{first.id} applies to vehicles placed in service from "
                     f"{first.effective_from}, not {day}", (first.id,))
    excluded, unknown = [], []
    in_scope = [c for c in bom.components if c.stage in FEOC_SCOPE[row.scope]]
    if not in_scope:
        # The exclusion disqualifies the whole vehicle; a bill that cannot show the lines it
        # reaches cannot show the vehicle is clear of it.
        return Check(name, "insufficient_data", f"the bill has no {what} lines to test "
                     f"against {row.id}", (row.id,))
    for c in in_scope:
        found = statuses.get(c.supplier or "")
        status = found.status if isinstance(found, SupplierStatus) else found
        if status == row.excluded_status:
            excluded.append(f"{c.line} ({c.supplier})")
        elif c.supplier is None or status != "clear":
            unknown.append(c.line)
    if excluded:
        return Check(name, "fails", f"{what} from a foreign entity of concern under "
                     f"{row.ruleset}: " + ", ".join(excluded), (row.id,), tuple(excluded))
    if unknown:
        return Check(name, "insufficient_data", f"{what} suppliers with no known "
                     f"{row.ruleset} status", (row.id,), tuple(unknown))
    return Check(name, "meets", f"every {what} supplier is clear under {row.ruleset}",
                 (row.id,))


def _vehicle_checks(bom: Bom, credit: Credit, placed: date, acquired: date | None,
                    statuses: Statuses, data: Content30dFile,
                    groups: PartnerGroupsFile) -> list[Check]:
    country = bom.product.country_of_final_assembly
    inside = country in _countries(groups, credit.final_assembly_group)
    assembly = Check("final_assembly", "insufficient_data" if country is None
                     else "meets" if inside else "fails",
                     f"final assembly in {country or 'an unnamed country'}"
                     + ("" if inside or country is None else ", outside North America"),
                     (credit.id,))
    cut = first_row(data.cutoff, "30d-acquisition")
    if acquired is not None:
        late = on(data.cutoff, cut.series, acquired) is not None
        acquisition = Check("acquisition", "fails" if late else "meets", f"acquired {acquired}"
                            f", cut-off from {cut.effective_from}", (cut.id,))
    elif on(data.cutoff, cut.series, placed) is None:
        acquisition = Check("acquisition", "meets", "no acquisition date; taken to be no "
                            f"later than placement in service ({placed})", (cut.id,))
    else:
        acquisition = Check("acquisition", "insufficient_data", f"placed in service {placed}"
                            ", after the cut-off: the acquisition date (binding contract and "
                            "payment) decides", (cut.id,))
    return [assembly, acquisition, *(_feoc(bom, data.exclusion, s, placed, statuses)
                                      for s in sorted({e.series for e in data.exclusion}))]


def historic_30d(bom: Bom, placed_in_service: date, acquired: date | None,
                 feoc_status: Statuses, *, data: Content30dFile | None = None,
                 groups: PartnerGroupsFile | None = None) -> Historic30dResult:
    """Both halves of the credit for one vehicle. `feoc_status` maps a bill's supplier text
    to its status under the FEOC rule set ("feoc", "clear"; anything else is unknown)."""
    data, groups = data or load_content_30d(), groups or load_partner_groups()
    day = placed_in_service
    credit = in_force(data.credit, "30d-credit", day)
    checks = _vehicle_checks(bom, credit, day, acquired, feoc_status, data, groups)
    fta = _countries(groups, *in_force(data.countries, "30d-fta-countries", day).groups)
    rule = in_force(data.value_added, "30d-value-added", day)
    recycled, north_america = (_countries(groups, rule.recycling_group),
                               _countries(groups, COMPONENT_GROUP))
    halves: list[HalfResult] = []
    amounts: dict[Half, float] = {"critical_minerals": credit.critical_minerals_amount,
                                  "battery_components": credit.battery_components_amount}
    for half, available in amounts.items():
        row = applicable(half, day, data)
        lines = tuple(_mineral(c, fta | {"US"}, recycled, data, day)
                      if half == "critical_minerals" else _component(c, north_america)
                      for c in bom.components if c.stage in STAGES[half])
        content, total, good, unknown = _content(lines, row.applicable_pct / 100)
        verdict = max((content, *(c.verdict for c in checks)), key=_WORST.__getitem__)
        result = HalfResult(half, verdict, content, available if verdict == "meets" else 0.0,
                            available, row, total, good, unknown, lines)
        upto = (f" (up to {result.share_if_unknown_qualifies:.1%} if undecided lines "
                "qualify)") if unknown > 0 else ""
        result.reasons.append(f"no {half.replace('_', ' ')} lines in the bill" if total <= 0
                              else f"qualifying share {good / total:.1%}{upto} against "
                              f"{row.applicable_pct:g}% ({row.id})")
        result.reasons.extend(f"{c.name}: {c.reason}" for c in checks if c.verdict != "meets")
        halves.append(result)
    cm, bc = halves
    ids = {i for c in checks for i in c.rows}
    rows = (*dict.fromkeys(r for r in (credit, cm.applicable, bc.applicable, *data.countries,
                                       rule, *data.method) if r.applies_on(day)),
            *(r for r in (*data.exclusion, *data.cutoff) if r.id in ids))
    notes = [f"{r.id} is uncertain: {r.note or 'not confirmed'}"
             if r.confidence is Confidence.UNCERTAIN
             else f"{r.id} is {r.confidence.value}: not verified against the primary text"
             for r in rows if not r.verified]
    unsorted = [c.line for c in bom.components if c.stage is None]
    if unsorted:
        notes.append("lines with no stage are left out of both tests: " + ", ".join(unsorted))
    return Historic30dResult(
        bom.product.id, day, acquired, tuple(checks), cm, bc, cm.amount + bc.amount,
        sum(h.available for h in halves if h.verdict != "fails"), rows, notes)
