"""The network bound for a sourcing policy, year by year, explained in words.

Ties the pieces together: the capacity pipeline gives each facility's capacity by year, the
sourcing policy says which facilities and imports count, the recipe says what each stage
needs, and the LP finds the most cells. The explanation names the weakest stages and the
facilities that bind, what one more unit at each would be worth, and what was left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from bmtc.analysis.capacity import Pipeline
from bmtc.analysis.conversions import FAMILIES, Family
from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.network import NetworkModel, Node, YearBound, solve_year
from bmtc.analysis.recipe import Recipe
from bmtc.analysis.sourcing import Eligibility, ImportAllowance, Sourcing

Measure = Literal["plausible", "nameplate"]


@dataclass
class BoundReport:
    sourcing: Sourcing
    sourcing_text: str
    measure: Measure
    years: list[YearBound]
    eligibility: Eligibility
    imports: ImportAllowance
    recipe: Recipe
    unconverted: pd.DataFrame
    cell_capacity: dict[int, float] = field(default_factory=dict)

    def year(self, year: int) -> YearBound:
        for bound in self.years:
            if bound.year == year:
                return bound
        raise KeyError(f"no bound computed for {year}")

    def summary(self) -> pd.DataFrame:
        """One row per year: the bound, cell capacity counted, and the weakest stage."""
        rows = []
        for bound in self.years:
            top = bound.stages.iloc[0] if len(bound.stages) else None
            rows.append({
                "year": bound.year, "bound_gwh": bound.cells_gwh,
                "layered_gwh": bound.by_family["layered"],
                "phosphate_gwh": bound.by_family["phosphate"],
                "cell_capacity_gwh": self.cell_capacity.get(bound.year, 0.0),
                "weakest_stage": None if top is None else top["stage"],
                "weakest_flow": None if top is None else top["flow"],
            })
        return pd.DataFrame(rows)


def _families(text: str) -> tuple[Family, ...]:
    parts = tuple(p for p in text.split("|") if p)
    return tuple(f for f in FAMILIES if f in parts)


def build_nodes(pipeline: Pipeline, eligible: Iterable[str], measure: Measure) -> list[Node]:
    """One node per eligible facility on a balanced flow, with its capacity by year."""
    keep = set(eligible)
    frame = pipeline.frame
    frame = frame[frame["facility_id"].isin(keep)]
    nodes: list[Node] = []
    span = len(pipeline.years)
    column = "plausible" if measure == "plausible" else "nameplate"
    for facility_id, rows in frame.groupby("facility_id", sort=True):
        first = rows.iloc[0]
        flow = Flow(first["flow"])
        # A captive mine's ore is already inside its integrated refinery's output.
        if flow in (Flow.SODIUM_CELLS, Flow.PACKS, Flow.RECYCLING_FEED) or first["captive"]:
            continue
        capacity = rows.sort_values("year")[column].to_numpy(dtype=float)
        if measure == "nameplate" and first["status"] == "cancelled":
            capacity = np.zeros(span)
        nodes.append(Node(str(facility_id), str(first["name"]), str(first["stage"]), flow,
                          _families(str(first["families"])), bool(first["integrated"]),
                          str(first["route"]), capacity))
    return nodes


def network_bound(
    pipeline: Pipeline, sourcing: Sourcing, sourcing_text: str, eligibility: Eligibility,
    imports: ImportAllowance, recipe: Recipe, years: Sequence[int] | None = None,
    measure: Measure = "plausible",
) -> BoundReport:
    nodes = build_nodes(pipeline, eligibility.eligible, measure)
    model = NetworkModel(nodes, recipe, imports.limits)
    wanted = list(years) if years is not None else list(pipeline.years)
    results: list[YearBound] = []
    cell_capacity: dict[int, float] = {}
    for year in wanted:
        if year not in pipeline.years:
            raise ValueError(f"{year} is outside the pipeline's years "
                             f"({pipeline.years[0]}-{pipeline.years[-1]})")
        index = pipeline.years.index(year)
        results.append(solve_year(model, index, year))
        cell_capacity[year] = float(sum(n.capacity[index] for n in nodes
                                        if n.flow is Flow.CELLS))
    return BoundReport(sourcing, sourcing_text, measure, results, eligibility, imports, recipe,
                       pipeline.unconverted, cell_capacity)


def _count(n: int) -> str:
    return f"{n} facility" if n == 1 else f"{n} facilities"


def _amount(value: float, unit: str) -> str:
    if unit == "GWh":
        return f"{value:,.1f} GWh"
    if unit == "m2":
        return f"{value / 1e6:,.0f} million m2"
    return f"{value:,.0f} {unit}"


def explain(report: BoundReport, year: int, unquantified: Mapping[str, int] | None = None,
            ) -> list[str]:
    """The bound for one year in sentences a non-modeller can follow."""
    bound = report.year(year)
    lines = [
        f"In {year}, with {report.sourcing_text}, North America could make at most "
        f"{bound.cells_gwh:,.1f} GWh of lithium-ion cells "
        f"({bound.by_family['layered']:,.1f} GWh layered-oxide, "
        f"{bound.by_family['phosphate']:,.1f} GWh LFP/LMFP), against "
        f"{report.cell_capacity.get(year, 0.0):,.1f} GWh of {report.measure} cell capacity "
        f"the policy counts."]
    if len(bound.stages):
        lines.append("What holds it back, weakest first (GWh of cells gained if the stage "
                     "had 1% more capacity):")
        for _, stage in bound.stages.head(5).iterrows():
            binding = bound.facilities[bound.facilities["binding"]
                                       & (bound.facilities["flow"] == stage["flow"])]
            names = ", ".join(binding.sort_values("capacity", ascending=False)["name"].head(4))
            lines.append(
                f"- {stage['stage']} ({FLOWS[Flow(stage['flow'])].label}): "
                f"+{stage['gain_1pct']:,.2f} GWh; {_count(int(stage['facilities']))} at "
                f"full capacity ({_amount(float(stage['capacity']), str(stage['unit']))}): {names}")
    priced = bound.flows[bound.flows["gwh_per_unit"] > 1e-9].sort_values(
        "gwh_per_unit", ascending=False)
    if len(priced):
        lines.append("Shadow prices (cells gained per extra unit a year):")
        for _, row in priced.iterrows():
            per = float(row["gwh_per_unit"])
            unit = str(row["unit"])
            scale, label = (1_000, f"1,000 {unit}") if unit != "GWh" else (1, "1 GWh")
            if unit == "m2":
                scale, label = 1_000_000, "1 million m2"
            lines.append(f"- {label} more {FLOWS[Flow(row['flow'])].label}: "
                         f"+{per * scale:,.3f} GWh of cells")
    if bound.cells_gwh <= 1e-9:
        lines.append("The bound is zero: no eligible chain reaches finished cells. Check the "
                     "stages listed below as unquantified, or relax a stage to see the rest.")
    if unquantified:
        gaps = ", ".join(f"{stage} {count}" for stage, count in sorted(unquantified.items()))
        lines.append(f"Facilities with no usable capacity figure count as zero ({gaps}).")
    if report.eligibility.excluded:
        lines.append(f"{len(report.eligibility.excluded)} facilities left out by the "
                     "sourcing policy.")
    if report.eligibility.unsettled:
        lines.append(f"{len(report.eligibility.unsettled)} operators have unsettled "
                     "screening verdicts (insufficient data) and are counted as eligible.")
    lines += [f"Note: {note}" for note in report.imports.notes if not note.startswith(
        tuple(f.value + ":" for f in Flow))]
    lines.append(f"Conversion factors rest on sources as weak as "
                 f"'{report.recipe.weakest_confidence().value}'; see --json for each.")
    return lines
