"""The material-flow view: how much of a year's cell demand North American plants could
supply at each step of the chain, mine to cell, and what must be imported. Each step is
expressed in GWh of cell demand, so the widths of the diagram compare across steps."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import pandas as pd

from bmtc import analytics_service
from bmtc.domain.dataset import Dataset
from bmtc.views.analysis import (
    check_demand_year,
    confidence_rows,
    demand_sources,
    resolve_scenario,
)
from bmtc.views.common import number, sources_of

# The material chain the flow diagram follows, upstream first; each column groups the
# gap table's stages whose flows feed the next column.
CHAIN: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("mining", "Mining", ("mining",)),
    ("refining", "Refining", ("refining",)),
    ("precursor", "Precursor", ("precursor",)),
    ("materials", "Cathode and anode materials", ("cathode", "anode")),
    ("cell", "Cells", ("cell",)),
)

@dataclass(frozen=True)
class ChainStep:
    key: str
    label: str
    coverage: float  # share of cell demand North American capacity could supply, 0..1
    binding_flow: str | None
    north_american_gwh: float
    imported_gwh: float


@dataclass(frozen=True)
class MaterialFlows:
    scenario: str
    title: str
    year: int
    demand_gwh: float
    steps: list[ChainStep]
    links: list[dict[str, Any]]
    flows: list[dict[str, Any]]
    sources: list[str]
    confidence: list[dict[str, Any]]
    demand_sources: list[str]
    realisation: str

    def chain_rows(self) -> list[dict[str, Any]]:
        return [{"stage": s.label, "north_american_gwh": round(s.north_american_gwh, 1),
                 "imported_gwh": round(s.imported_gwh, 1),
                 "coverage_pct": round(100 * s.coverage, 1), "limited_by": s.binding_flow}
                for s in self.steps]


def _coverage_rows(frame: pd.DataFrame, demand: float) -> list[dict[str, Any]]:
    rows = []
    for key, label, stages in CHAIN:
        for r in frame[frame["stage"].isin(stages)].to_dict("records"):
            requirement = float(r["requirement"])
            if requirement <= 0:
                continue
            coverage = min(float(r["plausible"]) / requirement, 1.0)
            rows.append({"column": label, "key": key, "flow": r["label"], "unit": r["unit"],
                         "requirement": number(requirement),
                         "plausible": number(r["plausible"]),
                         "coverage_pct": round(100 * coverage, 1),
                         "gwh_equivalent": round(coverage * demand, 1),
                         "coverage": coverage})
    return rows


def _steps(coverage: list[dict[str, Any]], demand: float) -> list[ChainStep]:
    """Each column limited by its scarcest flow: a cell needs all of them at once."""
    steps = []
    for key, label, _stages in CHAIN:
        rows = [r for r in coverage if r["key"] == key]
        if not rows:
            continue
        # Shares come from the unrounded figures; the rounded ones are for display only.
        weakest = min(rows, key=lambda r: r["coverage"])
        share = min(max(float(weakest["coverage"]), 0.0), 1.0)
        steps.append(ChainStep(key, label, share, str(weakest["flow"]), share * demand,
                               (1 - share) * demand))
    return steps


def _links(steps: list[ChainStep]) -> list[dict[str, Any]]:
    """Links between consecutive columns, matching North American supply to North American
    processing first; what is left over crosses between North American and imported."""
    links: list[dict[str, Any]] = []

    def add(source: str, target: str, value: float) -> None:
        if value > 1e-9:
            links.append({"source": source, "target": target, "gwh": round(value, 3)})

    for upper, lower in pairwise(steps):
        domestic = min(upper.north_american_gwh, lower.north_american_gwh)
        add(f"{upper.key}:na", f"{lower.key}:na", domestic)
        add(f"{upper.key}:na", f"{lower.key}:imported", upper.north_american_gwh - domestic)
        add(f"{upper.key}:imported", f"{lower.key}:na", lower.north_american_gwh - domestic)
        add(f"{upper.key}:imported", f"{lower.key}:imported",
            upper.imported_gwh - (lower.north_american_gwh - domestic))
    if steps:
        last = steps[-1]
        add(f"{last.key}:na", "demand", last.north_american_gwh)
        add(f"{last.key}:imported", "demand", last.imported_gwh)
    return links


def material_flows(dataset: Dataset, scenario_name: str | None, year: int) -> MaterialFlows:
    scenario = resolve_scenario(scenario_name)
    check_demand_year(scenario, year)
    frame, prepared = analytics_service.gap(dataset, scenario, [year])
    demand = float(frame["demand_gwh"].iloc[0])
    coverage = _coverage_rows(frame, demand)
    steps = _steps(coverage, demand)
    used = frame[frame["stage"].isin({s for _k, _l, stages in CHAIN for s in stages})]
    return MaterialFlows(scenario.name, scenario.title, year, demand, steps, _links(steps),
                         coverage, sources_of(used), confidence_rows(used),
                         demand_sources(scenario, [year]), prepared.pipeline.realisation.source)
