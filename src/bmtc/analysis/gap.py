"""Demand to tonnes, stage by stage, and the gap against capacity.

Demand in GWh for a year (from presets, interpolated between their points, or given) is split
across chemistries; the recipe turns it into what each stage must supply: cells, CAM by family,
precursor, refined lithium, nickel, cobalt and manganese, mined feed, anode material,
electrolyte, separator and foil. Set against the pipeline's capacity on the same flows, the
difference is the gap and the ratio is self-sufficiency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bmtc.analysis.conversions import (
    ConversionsFile,
    Derived,
    Family,
    load_conversions,
    weakest,
)
from bmtc.analysis.demand import DemandFile, Preset, load_presets
from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.recipe import FEED_OF, Recipe
from bmtc.domain.quantities import convert_mass


@dataclass(frozen=True)
class DemandYear:
    year: int
    gwh: float
    basis: str  # how the figure was obtained: "point", "interpolated", "custom"
    sources: tuple[str, ...]


def interpolate(points: Mapping[int, tuple[float, str]], year: int, what: str) -> DemandYear:
    """Demand in `year` from (year -> (GWh, source)) points: the point itself, or linear
    between the points around it. A year outside the points is refused, not extrapolated."""
    if year in points:
        gwh, source = points[year]
        return DemandYear(year, gwh, "point", (source,))
    years = sorted(points)
    before = [y for y in years if y < year]
    after = [y for y in years if y > year]
    if not before or not after:
        raise ValueError(f"{what} covers {years[0]}-{years[-1]}; it says nothing about {year}")
    low, high = before[-1], after[0]
    share = (year - low) / (high - low)
    gwh = points[low][0] + share * (points[high][0] - points[low][0])
    return DemandYear(year, gwh, "interpolated", (points[low][1], points[high][1]))


def preset_demand(preset: Preset, year: int) -> DemandYear:
    """A preset's demand in `year` (see `interpolate`)."""
    points = {p.year: (p.gwh, p.source) for p in preset.point}
    return interpolate(points, year, f"preset {preset.id!r}")


def find_preset(preset_id: str, presets: DemandFile | None = None) -> Preset:
    presets = presets or load_presets()
    for preset in presets.preset:
        if preset.id == preset_id:
            return preset
    known = ", ".join(p.id for p in presets.preset)
    raise KeyError(f"no demand preset {preset_id!r} (one of: {known})")


def family_shares(mix: Mapping[str, float], conversions: ConversionsFile | None = None,
                  ) -> tuple[dict[Family, float], dict[Family, dict[str, float]]]:
    """Share of demand per cathode family, and each family's chemistry mix."""
    conversions = conversions or load_conversions()
    shares: dict[Family, float] = {"layered": 0.0, "phosphate": 0.0}
    within: dict[Family, dict[str, float]] = {"layered": {}, "phosphate": {}}
    for chemistry, share in mix.items():
        family = conversions.cam_for(chemistry)[0].family
        shares[family] += share
        within[family][chemistry] = share
    return shares, {f: m for f, m in within.items() if m}


def requirements_by_flow(gwh: float, shares: Mapping[Family, float], recipe: Recipe,
                         ) -> dict[Flow, tuple[float, list[Derived]]]:
    """Tonnes (or m2, GWh) each flow must supply for `gwh` of cells, with the coefficients
    used. Graphite feed assumes every tonne of anode material is natural graphite; it is the
    mined need if no synthetic graphite were made."""
    need: dict[Flow, float] = {Flow.CELLS: gwh, Flow.PACKS: gwh}
    used: dict[Flow, list[Derived]] = {}

    def add(flow: Flow, amount: float, derived: Derived, upstream_of: Flow | None = None,
            ) -> None:
        # A requirement rests on its own coefficient and on everything its parent rests on.
        need[flow] = need.get(flow, 0.0) + amount
        inherited = used.get(upstream_of, []) if upstream_of is not None else []
        for item in (derived, *inherited):
            if item not in used.setdefault(flow, []):
                used[flow].append(item)

    for family, share in shares.items():
        if share <= 0:
            continue
        for flow, coefficient in recipe.cell[family].items():
            add(flow, gwh * share * coefficient.value, coefficient)
    cam_flows: tuple[tuple[Family, Flow], ...] = (
        ("layered", Flow.CAM_LAYERED), ("phosphate", Flow.CAM_PHOSPHATE))
    for family, cam_flow in cam_flows:
        cam = need.get(cam_flow, 0.0)
        if cam <= 0:
            continue
        for flow, coefficient in recipe.cam[family].items():
            add(flow, cam * coefficient.value, coefficient, cam_flow)
    for flow, coefficient in recipe.pcam.items():
        add(flow, need.get(Flow.PCAM, 0.0) * coefficient.value, coefficient, Flow.PCAM)
    add(Flow.LIPF6, need.get(Flow.ELECTROLYTE, 0.0) * recipe.electrolyte_lipf6.value,
        recipe.electrolyte_lipf6, Flow.ELECTROLYTE)
    add(Flow.LITHIUM_CHEMICAL, need[Flow.LIPF6] * recipe.lipf6_lithium.value,
        recipe.lipf6_lithium, Flow.LIPF6)
    for chemical, (feed, _step) in FEED_OF.items():
        if chemical in need:
            add(feed, need[chemical] * recipe.feed[chemical].value, recipe.feed[chemical],
                chemical)
    add(Flow.GRAPHITE_FEED, need.get(Flow.AAM, 0.0) * recipe.aam_feed.value, recipe.aam_feed,
        Flow.AAM)
    return {flow: (amount, used.get(flow, [])) for flow, amount in need.items()}


def gap_view(frame: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """The pipeline's rows as the gap counts them. The mined-feed requirement is all the
    refined metal needs, so mined capacity must include what integrated projects (brine,
    clay, a refinery beside its own mine) extract: their refined output / recovery is added to
    the feed flow, and a captive mine leaves it, since its ore is already in that output."""
    kept = frame[~frame["captive"]]
    extracted = kept[kept["integrated"] & (kept["stage"] != "recycling")
                     & kept["flow"].isin([f.value for f in FEED_OF])]
    implied = extracted.copy()
    factor = implied["flow"].map({f.value: recipe.feed[f].value for f in FEED_OF})
    implied["flow"] = implied["flow"].map({f.value: feed.value
                                           for f, (feed, _step) in FEED_OF.items()})
    implied["unit"] = implied["flow"].map({f.value: FLOWS[f].unit for f in Flow})
    implied["nameplate"] = implied["nameplate"] * factor
    implied["plausible"] = implied["plausible"] * factor
    return pd.concat([kept, implied], ignore_index=True)


def feed_matrix(frame: pd.DataFrame, recipe: Recipe) -> tuple[np.ndarray, list[str]]:
    """The same counting as `gap_view`, as a matrix from facilities (rows, in the order of the
    frame's first row per facility) to flows (columns), for summing many draws at once."""
    first = frame.drop_duplicates("facility_id")
    names = sorted(set(first["flow"]) | {feed.value for feed, _step in FEED_OF.values()})
    column = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(first), len(names)))
    for row, facility in enumerate(first.itertuples(index=False)):
        if facility.captive:
            continue
        matrix[row, column[facility.flow]] = 1.0
        chemical = Flow(str(facility.flow))
        if facility.integrated and facility.stage != "recycling" and chemical in FEED_OF:
            matrix[row, column[FEED_OF[chemical][0].value]] = recipe.feed[chemical].value
    return matrix, names


def gap_table(
    demand: Sequence[DemandYear], shares: Mapping[Family, float], recipe: Recipe,
    capacity: pd.DataFrame,
) -> pd.DataFrame:
    """One row per year and flow: requirement, announced and plausible capacity, gap
    (plausible minus requirement) and self-sufficiency (plausible / requirement). Lithium
    rows also state the requirement as LCE and LiOH.H2O. `capacity` is `summarise(frame,
    ("flow", "year"))`."""
    rows = []
    lookup: dict[tuple[str, int], tuple[float, float]] = {
        (str(flow), int(year)): (float(announced), float(plausible))
        for flow, year, announced, plausible in capacity[
            ["flow", "year", "announced", "plausible"]].itertuples(index=False)}
    for point in demand:
        for flow, (amount, used) in requirements_by_flow(point.gwh, shares, recipe).items():
            announced, plausible = lookup.get((flow.value, point.year), (0.0, 0.0))
            lithium = flow in (Flow.LITHIUM_CHEMICAL, Flow.LITHIUM_FEED)
            rows.append({
                "year": point.year, "stage": FLOWS[flow].stage.value, "flow": flow.value,
                "label": FLOWS[flow].label, "unit": FLOWS[flow].unit,
                "demand_gwh": point.gwh, "requirement": amount,
                "requirement_lce": convert_mass(amount, "contained_li", "lce") if lithium
                else None,
                "requirement_lioh": convert_mass(amount, "contained_li", "lithium_hydroxide")
                if lithium else None,
                "announced": announced, "plausible": plausible,
                "gap": plausible - amount,
                "self_sufficiency": plausible / amount if amount > 0 else None,
                "confidence": weakest(*(d.confidence for d in used)).value if used else None,
                "sources": " | ".join(dict.fromkeys(d.source for d in used)),
            })
    frame = pd.DataFrame(rows)
    order = {flow.value: i for i, flow in enumerate(Flow)}
    return frame.sort_values(["year", "flow"], key=lambda s: s.map(order)
                             if s.name == "flow" else s).reset_index(drop=True)
