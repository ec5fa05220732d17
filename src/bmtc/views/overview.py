"""The overview: capacity by stage and status, the share controlled from covered nations,
the gap in a target year, and the data version behind them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bmtc import analytics_service
from bmtc.analysis.atlas_stats import capacity_totals
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import Stage
from bmtc.screening.rules import rule_set
from bmtc.views.common import DEFAULT_YEAR, RULESET, number, sources_of

# The three status groups the overview charts; paused, cancelled and closed plants are
# counted in the table but not drawn as capacity to come.
STATUS_GROUPS = ("operating", "under_construction", "announced")


@dataclass(frozen=True)
class Overview:
    year: int
    scenario: str
    facilities: int
    facility_counts: list[dict[str, Any]]
    organizations: int
    cell_gwh: dict[str, float]
    capacity: list[dict[str, Any]]
    covered: list[dict[str, Any]]
    covered_nations: str
    gap: list[dict[str, Any]]
    gap_sources: list[str]

    @property
    def covered_cell_share(self) -> float | None:
        """Share of plausible cell capacity in the year controlled from covered nations."""
        return next((r["share"] for r in self.covered if r["stage"] == "cell"), None)


def capacity_by_stage(dataset: Dataset) -> list[dict[str, Any]]:
    """Stated capacity per stage, unit and status group, North America as a whole. Products
    of one stage are added only within one unit (t with t, GWh with GWh); the count of
    facilities includes those with no capacity figure."""
    totals: dict[tuple[str, str, str], list[float]] = {}
    for row in capacity_totals(dataset.facilities):
        if row.status not in STATUS_GROUPS:
            continue
        cell = totals.setdefault((row.stage, row.unit, row.status), [0.0, 0])
        cell[0] += row.total
        cell[1] += row.facilities
    order = [s.value for s in Stage]
    return [
        {"stage": stage, "unit": unit, "status": status, "capacity": round(value, 1),
         "facilities": int(count)}
        for (stage, unit, status), (value, count) in sorted(
            totals.items(), key=lambda item: (order.index(item[0][0]), item[0][1],
                                              STATUS_GROUPS.index(item[0][2])))
    ]


def overview(dataset: Dataset, year: int = DEFAULT_YEAR, scenario: str | None = None) -> Overview:
    chosen = analytics_service.scenario_named(scenario)
    counts = Counter((f.stage.value, f.status.value) for f in dataset.facilities)
    facility_counts = [{"stage": s.value, "status": status, "facilities": counts[(s.value, status)]}
                       for s in Stage for status in STATUS_GROUPS]
    capacity = capacity_by_stage(dataset)
    cells = {r["status"]: r["capacity"] for r in capacity
             if r["stage"] == "cell" and r["unit"] == "GWh/yr"}
    _concentration, covered = analytics_service.concentration_report(
        dataset, year, "controller_country")
    gap_frame, _prepared = analytics_service.gap(dataset, chosen, [year])
    gap_rows = [
        {"stage": r["stage"], "flow": r["label"], "unit": r["unit"],
         "requirement": number(r["requirement"]), "plausible": number(r["plausible"]),
         "gap": number(r["gap"]), "self_sufficiency": number(r["self_sufficiency"], 3),
         "confidence": r["confidence"]}
        for r in gap_frame.to_dict("records")
    ]
    sources = sources_of(gap_frame)
    covered_rows = [
        {"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
         "total": number(r["total"]), "covered": number(r["covered"]),
         "share": number(r["share"], 3), "facilities": ", ".join(r["facilities"])}
        for r in covered.to_dict("records") if r["total"]
    ]
    nations = ", ".join(sorted(rule_set(RULESET).covered_nations))
    return Overview(year=year, scenario=chosen.name, facilities=len(dataset.facilities),
                    facility_counts=facility_counts,
                    organizations=len(dataset.organizations), cell_gwh=cells,
                    capacity=capacity, covered=covered_rows, covered_nations=nations,
                    gap=gap_rows, gap_sources=sources)

