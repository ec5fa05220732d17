"""Analytics over a loaded atlas: capacity pipeline, gap, network bound and scenario runs.

The engines in `bmtc.analysis` are pure; this module gathers what they need from a Dataset
(screening verdicts for sourcing, disruptions applied to facilities, demand for the years
asked) and returns DataFrames and reports for the CLI and the Python API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bmtc.analysis.bound import BoundReport, build_nodes, network_bound
from bmtc.analysis.capacity import Pipeline, Realisation, pipeline, summarise
from bmtc.analysis.concentration import (
    Concentration,
    Key,
    Measure,
    concentration,
    covered_control,
    global_concentration,
)
from bmtc.analysis.control import controlling_countries, majority_controlled
from bmtc.analysis.conversions import Family
from bmtc.analysis.demand import load_presets
from bmtc.analysis.flows import FLOWS, Flow, facility_flows
from bmtc.analysis.gap import (
    DemandYear,
    family_shares,
    feed_matrix,
    find_preset,
    gap_table,
    gap_view,
    interpolate,
    preset_demand,
)
from bmtc.analysis.montecarlo import (
    Projects,
    draw_capacity,
    flow_totals,
    network_draws,
    percentiles,
)
from bmtc.analysis.network import NetworkModel
from bmtc.analysis.realisation import load_realisation
from bmtc.analysis.recipe import Recipe, build_recipe
from bmtc.analysis.reference import load_reference
from bmtc.analysis.scenario import Scenario, resolve_scenario
from bmtc.analysis.sourcing import Sourcing, eligible_facilities, import_allowance
from bmtc.domain.dataset import Dataset
from bmtc.domain.model import Facility
from bmtc.screening.rules import rule_set
from bmtc.screening_service import screen_everyone


def preset_ids() -> tuple[str, ...]:
    return tuple(p.id for p in load_presets().preset)


def scenario_named(name: str | None) -> Scenario:
    """A bundled scenario, a YAML file, or a demand preset run with the default scenario's
    settings (and the preset's own chemistry mix where it has one)."""
    scenario = resolve_scenario(name, preset_ids())
    if name in preset_ids():
        preset = find_preset(name)
        if preset.mix:
            mix = {m.chemistry: m.share for m in preset.mix if m.share > 0}
            source = "; ".join(dict.fromkeys(
                m.source if not m.constructed or m.source.startswith("Assumption")
                else f"Assumption: {m.source}" for m in preset.mix))
            scenario = scenario.model_copy(update={"mix": mix, "mix_source": source})
    return scenario


def verdicts(dataset: Dataset, ruleset: str, as_of: str | None = None) -> dict[str, str]:
    """Every party's status under `ruleset`, screened on `as_of` (default today)."""
    frame = screen_everyone(dataset, ruleset, as_of=as_of)
    return dict(zip(frame["org_id"], frame["status"], strict=True))


def realisation_of(scenario: Scenario | None) -> Realisation:
    base = Realisation.default()
    if scenario is None or not scenario.realisation:
        return base
    return base.with_weights(scenario.realisation, str(scenario.realisation_source))


def apply_disruptions(dataset: Dataset, scenario: Scenario) -> tuple[list[Facility], list[str]]:
    """Facilities left after the scenario's removals, and a line per removal. A company's
    removal takes the facilities it operates and those of operators it holds a majority of."""
    facilities = list(dataset.facilities)
    notes: list[str] = []
    for disruption in scenario.disruptions:
        before = len(facilities)
        if disruption.remove_country:
            facilities = [f for f in facilities if f.country != disruption.remove_country]
            what = f"facilities in {disruption.remove_country}"
        elif disruption.remove_facility:
            if not any(f.id == disruption.remove_facility for f in dataset.facilities):
                raise ValueError(f"disruption: no facility {disruption.remove_facility!r}")
            facilities = [f for f in facilities if f.id != disruption.remove_facility]
            what = f"facility {disruption.remove_facility}"
        elif disruption.remove_company:
            company = disruption.remove_company
            if not any(o.id == company for o in dataset.organizations):
                raise ValueError(f"disruption: no organization {company!r}")
            held = majority_controlled(dataset, company)
            facilities = [f for f in facilities if f.operator_id not in held]
            what = f"facilities of {company} and the operators it controls by majority"
        else:
            continue
        notes.append(f"removed {before - len(facilities)} {what}")
    return facilities, notes


def sourcing_of(scenario: Scenario) -> Sourcing:
    spec = scenario.sourcing
    cuts = {d.cut_imports_from: d.share for d in scenario.disruptions if d.cut_imports_from}
    return Sourcing(spec.policy, None if spec.policy == "na" else spec.ruleset, spec.groups(),
                    spec.import_limit, spec.import_share, cuts, spec.relax)


def demand_for(scenario: Scenario, years: Sequence[int]) -> list[DemandYear]:
    found = []
    for year in years:
        if scenario.demand.custom:
            source = scenario.demand.source or f"scenario {scenario.name}"
            point = interpolate({y: (g, source) for y, g in scenario.demand.custom.items()},
                                year, f"the custom demand of scenario {scenario.name!r}")
            found.append(DemandYear(year, point.gwh * scenario.demand.scale,
                                    f"custom, {point.basis}", point.sources))
            continue
        parts = [preset_demand(find_preset(p), year) for p in scenario.demand.presets]
        basis = "interpolated" if any(p.basis == "interpolated" for p in parts) else "point"
        found.append(DemandYear(year, sum(p.gwh for p in parts) * scenario.demand.scale, basis,
                                tuple(s for p in parts for s in p.sources)))
    return found


@dataclass
class Prepared:
    scenario: Scenario
    facilities: list[Facility]
    pipeline: Pipeline
    recipe: Recipe
    shares: dict[Family, float]
    notes: list[str] = field(default_factory=list)


def prepare(dataset: Dataset, scenario: Scenario, years: Sequence[int],
            disrupted: bool = True) -> Prepared:
    facilities, notes = apply_disruptions(dataset, scenario) if disrupted else (
        list(dataset.facilities), [])
    shares, within = family_shares(scenario.mix)
    recipe = build_recipe(within)
    built = pipeline(facilities, years, realisation_of(scenario))
    return Prepared(scenario, facilities, built, recipe, dict(shares), notes)


def gap(dataset: Dataset, scenario: Scenario, years: Sequence[int]) -> tuple[pd.DataFrame,
                                                                             Prepared]:
    prepared = prepare(dataset, scenario, years)
    capacity = summarise(gap_view(prepared.pipeline.frame, prepared.recipe), ("flow", "year"))
    frame = gap_table(demand_for(scenario, years), prepared.shares, prepared.recipe, capacity)
    return frame, prepared


def network(dataset: Dataset, scenario: Scenario, years: Sequence[int],
            sourcing: Sourcing | None = None, disrupted: bool = True,
            screening_day: str | None = None) -> tuple[BoundReport, Prepared]:
    """The network bound; operators are screened on `screening_day` (default today), so a
    report pinned to a date gives the same answer whenever it is rebuilt."""
    prepared = prepare(dataset, scenario, years, disrupted)
    sourcing = sourcing or sourcing_of(scenario)
    if not disrupted:
        sourcing = Sourcing(sourcing.policy, sourcing.ruleset, sourcing.partner_groups,
                            sourcing.import_limit, sourcing.import_share, {},
                            sourcing.relaxed_stages)
    found = verdicts(dataset, sourcing.ruleset, screening_day) if sourcing.ruleset else None
    eligibility = eligible_facilities(prepared.facilities, sourcing, found)
    imports = import_allowance(sourcing, load_reference().shares)
    report = network_bound(prepared.pipeline, sourcing, sourcing.describe(), eligibility,
                           imports, prepared.recipe, years, scenario.capacity)
    return report, prepared


def unquantified_by_stage(prepared: Prepared) -> dict[str, int]:
    missing = prepared.pipeline.unconverted
    live = missing[~missing["status"].isin(["cancelled", "closed"])]
    return {str(k): int(v) for k, v in live.groupby("stage").size().items()}


def concentration_report(dataset: Dataset, year: int, by: Key, measure: Measure = "plausible",
                         top_n: int = 5, ruleset: str = "feoc-doe-2024",
                         ) -> tuple[Concentration, pd.DataFrame]:
    """Shares, HHI and top-N by `by` for every stage and flow in `year`, and the capacity
    located in North America but controlled from the rule set's covered nations."""
    built = pipeline(dataset.facilities, (year,), Realisation.default())
    control = controlling_countries(dataset)
    result = concentration(built.frame, by, year, measure, top_n, control)
    covered = covered_control(built.frame, control, rule_set(ruleset).covered_nations, year,
                              measure)
    return result, covered


def global_concentration_rows() -> list[dict[str, object]]:
    """World HHI for every stage and material the reference shares cover."""
    shares = load_reference().shares
    pairs = sorted({(s.stage, s.material) for s in shares.share if s.material is not None},
                   key=lambda p: (p[0].value, str(p[1])))
    rows: list[dict[str, object]] = []
    for stage, material in pairs:
        try:
            found = global_concentration(shares, stage, material)
        except (KeyError, ValueError):
            continue
        rows.append({"stage": stage.value, "material": material.value if material else None,
                     "year": found.year, "coverage": found.coverage,
                     "hhi_listed": found.hhi_listed, "hhi_upper": found.hhi_upper,
                     "band": found.band_listed,
                     "top": ", ".join(f"{c} {v:.0%}" for c, v in found.shares[:3]),
                     "sources": " | ".join(found.sources)})
    return rows


@dataclass
class SimulationResult:
    capacity: pd.DataFrame  # flow, year, p10/p50/p90 of capacity and self-sufficiency
    bounds: pd.DataFrame  # year, p10/p50/p90 of the network bound
    draws: int
    seed: int


def _projects(prepared: Prepared) -> Projects:
    frame = prepared.pipeline.frame
    first = frame.drop_duplicates("facility_id").reset_index(drop=True)
    by_id = {f.id: f for f in prepared.facilities}
    full: list[int] = []
    end: list[int] = []
    for _, row in first.iterrows():
        facility = by_id[row["facility_id"]]
        capacity_year = facility.capacity.year if facility.capacity else None
        start = int(row["start_year"])
        full.append(capacity_year if capacity_year and capacity_year > start else start)
        end.append(int(str(facility.status_as_of)[:4]) if facility.status.value == "closed"
                   else 9999)
    # Full nameplate: the draw applies the ramp itself.
    flows, _unconverted = facility_flows(prepared.facilities)
    amount = np.array([flows[fid].amount for fid in first["facility_id"]], dtype=float)
    return Projects(list(first["facility_id"]), list(first["flow"]), list(first["status"]),
                    amount,
                    first["start_year"].to_numpy(dtype=int), np.asarray(full, dtype=int),
                    np.asarray(end, dtype=int))


def simulate(dataset: Dataset, scenario: Scenario, draws: int | None = None,
             seed: int | None = None, progress: Callable[[int], None] | None = None,
             ) -> SimulationResult:
    """Percentiles of capacity, self-sufficiency and the network bound over seeded draws."""
    settings = scenario.monte_carlo
    draws = draws or settings.draws
    seed = settings.seed if seed is None else seed
    years = scenario.span()
    prepared = prepare(dataset, scenario, years)
    projects = _projects(prepared)
    realisation = realisation_of(scenario)
    rng = np.random.default_rng(seed)
    weights = {s.value: w for s, w in realisation.weights.items()}
    delays = {s.value: d for s, d in load_realisation().delays().items()}
    sample = draw_capacity(projects, years, weights, delays, draws, rng)
    matrix, names = feed_matrix(prepared.pipeline.frame, prepared.recipe)
    totals = flow_totals(sample, matrix, names)
    requirement = gap_table(demand_for(scenario, years), prepared.shares, prepared.recipe,
                            pd.DataFrame(columns=["flow", "year", "announced", "plausible"]))
    need = requirement.set_index(["flow", "year"])["requirement"]
    rows = []
    for flow, by_year in totals.items():
        for position, year in enumerate(years):
            stats = percentiles(by_year[:, position])
            required = float(need.get((flow, year), 0.0))
            ratio = {f"self_sufficiency_{k}": (v / required if required > 0 else None)
                     for k, v in stats.items()}
            rows.append({"stage": FLOWS[Flow(flow)].stage.value, "flow": flow, "year": year,
                         **stats, "requirement": required, **ratio})
    bound_rows = []
    network_years = settings.network_years or (scenario.year,)
    if network_years:
        sourcing = sourcing_of(scenario)
        found = verdicts(dataset, sourcing.ruleset) if sourcing.ruleset else None
        eligibility = eligible_facilities(prepared.facilities, sourcing, found)
        nodes = build_nodes(prepared.pipeline, eligibility.eligible, "nameplate")
        model = NetworkModel(nodes, prepared.recipe,
                             import_allowance(sourcing, load_reference().shares).limits)
        row_of = {fid: i for i, fid in enumerate(projects.ids)}
        node_rows = np.array([row_of[n.facility_id] for n in nodes], dtype=int)
        for year in network_years:
            bounds = network_draws(model, node_rows, sample, years.index(year), progress)
            bound_rows.append({"year": year, **percentiles(bounds),
                               "mean": float(bounds.mean())})
    return SimulationResult(pd.DataFrame(rows), pd.DataFrame(bound_rows), draws, seed)
