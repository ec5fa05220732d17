"""The dashboard's analysis views: the stage explorer, foreign control, the network bound
and the scenario runner (material flows are in `views.flows`). Each is a pure function of
the atlas Dataset and the page's parameters that returns plain records (no HTML, no
figures), so the pages can cache them and the tests can compare them with the engines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bmtc import analytics_service
from bmtc.analysis.bound import BoundReport, explain
from bmtc.analysis.scenario import Disruption, Scenario, SourcingSpec, bundled_scenarios
from bmtc.analysis.sourcing import POLICIES, Policy, Sourcing
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import Stage
from bmtc.screening.rules import rule_set
from bmtc.views.common import DEFAULT_YEAR, RULESET, number, percent, sources_of

# Years the pages accept: the pipeline answers any year, but demand presets and the
# atlas's start dates say little outside this window.
YEAR_MIN, YEAR_MAX = 2020, 2040
# The explorer's time axis; a scenario's demand may cover only part of it.
EXPLORER_YEARS = tuple(range(2020, 2036))
# Recycling supplies flows counted at other stages (pCAM, mined feed); it has no
# requirement of its own in the gap table.
EXPLORER_STAGES = tuple(s.value for s in Stage if s is not Stage.RECYCLING)
SOURCING_LABELS: dict[str, str] = {
    "na": "North American facilities only, no imports",
    "non-feoc": "North American facilities not excluded by the FEOC rules, no imports",
    "allied": "Non-FEOC North American facilities plus imports from allied partners",
}
# Monte Carlo draws for the scenario runner: enough for a p10-p90 range, few enough to
# answer within a page load.
UNCERTAINTY_DRAWS = 200


class InvalidChoice(ValueError):
    """A parameter the analysis pages cannot answer; the message is meant for the visitor."""


# -- choices and validation ------------------------------------------------------------------

def scenario_choices() -> list[tuple[str, str]]:
    """(name, title) of every bundled scenario, then every demand preset."""
    bundled = [(name, s.title) for name, s in bundled_scenarios().items()]
    presets = [(p, f"Demand preset {p}") for p in analytics_service.preset_ids()]
    return bundled + presets


def resolve_scenario(name: str | None) -> Scenario:
    """A bundled scenario or demand preset by name; never a file path, whatever is asked."""
    known = [n for n, _title in scenario_choices()]
    if name is not None and name not in known:
        raise InvalidChoice(f"Unknown scenario {name!r}. Choose one of: {', '.join(known)}.")
    return analytics_service.scenario_named(name)


def demand_years(scenario: Scenario, window: Iterable[int] = EXPLORER_YEARS) -> list[int]:
    """The years in `window` for which the scenario's demand is defined (presets are
    interpolated between their points, never extrapolated)."""
    found = []
    for year in window:
        try:
            analytics_service.demand_for(scenario, [year])
        except (ValueError, KeyError):
            continue
        found.append(year)
    return found


def default_year(scenario: Scenario) -> int:
    covered = demand_years(scenario, range(YEAR_MIN, YEAR_MAX + 1))
    if scenario.year in covered or not covered:
        return scenario.year
    return min(covered, key=lambda y: abs(y - DEFAULT_YEAR))


def check_demand_year(scenario: Scenario, year: int) -> None:
    covered = demand_years(scenario, range(YEAR_MIN, YEAR_MAX + 1))
    if year not in covered:
        span = f"{covered[0]}-{covered[-1]}" if covered else "no year"
        raise InvalidChoice(f"The demand of scenario {scenario.name!r} covers {span}; it says "
                            f"nothing about {year}.")


def check_stage(stage: str) -> str:
    if stage not in EXPLORER_STAGES:
        raise InvalidChoice(f"Unknown stage {stage!r}. Choose one of: "
                            f"{', '.join(EXPLORER_STAGES)}.")
    return stage


def check_sourcing(sourcing: str) -> Policy:
    if sourcing not in POLICIES:
        raise InvalidChoice(f"Unknown sourcing policy {sourcing!r}. Choose one of: "
                            f"{', '.join(POLICIES)}.")
    return sourcing


def atlas_countries(dataset: Dataset) -> list[str]:
    """Countries with at least one facility: the places a disruption can remove."""
    return sorted({f.country for f in dataset.facilities})


# -- shared row helpers ----------------------------------------------------------------------

def confidence_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The weakest confidence behind each flow of a gap table."""
    rows = frame.dropna(subset=["confidence"])
    return [{"flow": label, "confidence": confidence}
            for label, confidence in dict(zip(rows["label"], rows["confidence"],
                                              strict=True)).items()]


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)


def demand_sources(scenario: Scenario, years: Sequence[int]) -> list[str]:
    """Where the scenario's demand figures for these years come from."""
    found = analytics_service.demand_for(scenario, years)
    return list(dict.fromkeys(s for point in found for s in point.sources))


def _gap_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"year": int(r["year"]), "stage": r["stage"], "flow": r["label"], "unit": r["unit"],
             "requirement": number(r["requirement"]), "announced": number(r["announced"]),
             "plausible": number(r["plausible"]), "gap": number(r["gap"]),
             "self_sufficiency_pct": percent(r["self_sufficiency"]),
             "confidence": _text(r["confidence"])}
            for r in frame.to_dict("records")]


# -- stage explorer --------------------------------------------------------------------------

@dataclass(frozen=True)
class FlowSeries:
    flow: str
    label: str
    unit: str
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class StageExplorer:
    scenario: str
    title: str
    stage: str
    years: list[int]
    demand: list[dict[str, Any]]
    series: list[FlowSeries]
    sources: list[str]
    confidence: list[dict[str, Any]]
    demand_sources: list[str]
    realisation: str


def stage_explorer(dataset: Dataset, scenario_name: str | None, stage: str) -> StageExplorer:
    check_stage(stage)
    scenario = resolve_scenario(scenario_name)
    years = demand_years(scenario)
    if not years:
        raise InvalidChoice(f"The demand of scenario {scenario.name!r} covers no year in "
                            f"{EXPLORER_YEARS[0]}-{EXPLORER_YEARS[-1]}.")
    frame, prepared = analytics_service.gap(dataset, scenario, years)
    chosen = frame[frame["stage"] == stage]
    series = [FlowSeries(str(flow), str(rows["label"].iloc[0]), str(rows["unit"].iloc[0]),
                         _gap_rows(rows))
              for flow, rows in chosen.groupby("flow", sort=False)]
    demand = [{"year": int(r["year"]), "demand_gwh": number(r["demand_gwh"])}
              for r in frame.drop_duplicates("year").to_dict("records")]
    return StageExplorer(scenario.name, scenario.title, stage, years, demand, series,
                         sources_of(chosen), confidence_rows(chosen),
                         demand_sources(scenario, years), prepared.pipeline.realisation.source)


# -- foreign control -------------------------------------------------------------------------

@dataclass(frozen=True)
class ForeignControl:
    year: int
    shares: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    covered: list[dict[str, Any]]
    covered_nations: list[str]
    ruleset_citation: str
    ruleset_url: str
    nations_citation: str
    hhi_citation: str


def foreign_control(dataset: Dataset, year: int) -> ForeignControl:
    found, covered = analytics_service.concentration_report(dataset, year,
                                                            "controller_country")
    shares = [{"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
               "controller_country": r["key"], "capacity": number(r["value"]),
               "share_pct": percent(r["share"])}
              for r in found.shares.to_dict("records")]
    summary = [{"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
                "total": number(r["total"]), "countries": int(r["contributors"]),
                "hhi": number(r["hhi"], 0), "band": r["band"],
                "largest": ", ".join(f"{k} {v:.0%}" for k, v in r["top"][:3])}
               for r in found.summary.to_dict("records")]
    covered_rows = [{"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
                     "total": number(r["total"]), "covered": number(r["covered"]),
                     "share_pct": percent(r["share"]),
                     "facilities": ", ".join(r["facilities"])}
                    for r in covered.to_dict("records") if r["total"]]
    rules = rule_set(RULESET)
    return ForeignControl(year, shares, summary, covered_rows, sorted(rules.covered_nations),
                          rules.citation, rules.source_url, rules.covered_nations_citation,
                          found.citation)


# -- network bound ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkView:
    year: int
    sourcing: str
    sourcing_text: str
    bound_gwh: float
    by_family: dict[str, float]
    cell_capacity_gwh: float
    explanation: list[str]
    binding_stages: list[dict[str, Any]]
    flows: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    weakest_confidence: str


def _flow_rows(report: BoundReport, year: int) -> list[dict[str, Any]]:
    """What the solution makes in North America and imports, per flow it uses."""
    rows = []
    for r in report.year(year).flows.to_dict("records"):
        made, imported = float(r["made"]), float(r["imported"])
        used = made + imported
        if used <= 1e-9:
            continue
        rows.append({"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
                     "made": number(made), "imported": number(imported),
                     "made_pct": round(100 * made / used, 1)})
    return rows


def _binding_rows(report: BoundReport, year: int) -> list[dict[str, Any]]:
    return [{"stage": r["stage"], "flow": r["flow"], "unit": r["unit"],
             "gain_gwh_per_1pct": number(r["gain_1pct"], 3),
             "facilities_at_capacity": int(r["facilities"]),
             "capacity": number(r["capacity"])}
            for r in report.year(year).stages.to_dict("records")]


def network_trend(dataset: Dataset, sourcing: Policy,
                  years: Sequence[int] = tuple(range(2025, 2036))) -> list[dict[str, Any]]:
    report, _prepared = analytics_service.network(
        dataset, analytics_service.scenario_named(None), years, Sourcing.named(sourcing))
    return [{"year": int(r["year"]), "bound_gwh": number(r["bound_gwh"]),
             "cell_capacity_gwh": number(r["cell_capacity_gwh"])}
            for r in report.summary().to_dict("records")]


def network_view(dataset: Dataset, year: int, sourcing: str) -> NetworkView:
    """The bound as the API computes it: the default scenario, the named sourcing policy."""
    policy = check_sourcing(sourcing)
    report, prepared = analytics_service.network(
        dataset, analytics_service.scenario_named(None), [year], Sourcing.named(policy))
    bound = report.year(year)
    lines = explain(report, year, analytics_service.unquantified_by_stage(prepared))
    return NetworkView(year, policy, report.sourcing_text, bound.cells_gwh,
                       dict(bound.by_family), report.cell_capacity.get(year, 0.0),
                       lines, _binding_rows(report, year), _flow_rows(report, year),
                       network_trend(dataset, policy),
                       report.recipe.weakest_confidence().value)


# -- scenario runner -------------------------------------------------------------------------

@dataclass(frozen=True)
class Bound:
    total_gwh: float
    layered_gwh: float
    phosphate_gwh: float


@dataclass(frozen=True)
class ScenarioRun:
    scenario: str
    title: str
    description: str | None
    year: int
    sourcing: str
    sourcing_text: str
    removed_country: str | None
    notes: list[str]
    baseline: Bound
    disrupted: Bound | None
    gap: list[dict[str, Any]]
    explanation: list[str]
    uncertainty: dict[str, float] | None
    sources: list[str]
    confidence: list[dict[str, Any]]
    demand_sources: list[str]

    @property
    def cost_gwh(self) -> float | None:
        """Cell GWh the disruption takes off the bound."""
        if self.disrupted is None:
            return None
        return self.baseline.total_gwh - self.disrupted.total_gwh


def _bound(report: BoundReport, year: int) -> Bound:
    found = report.year(year)
    return Bound(found.cells_gwh, found.by_family["layered"], found.by_family["phosphate"])


def _runner_scenario(base: Scenario, year: int, policy: Policy,
                     remove_country: str | None) -> Scenario:
    """The chosen scenario, run for one year under the chosen sourcing, with the removal
    added to its own disruptions (Scenario is a frozen pydantic model, hence model_copy)."""
    disruptions = base.disruptions
    if remove_country:
        disruptions = (*disruptions, Disruption(
            remove_country=remove_country, note=f"all facilities in {remove_country} lost"))
    sourcing = SourcingSpec(policy=policy, ruleset=base.sourcing.ruleset)
    return base.model_copy(update={
        "year": year, "first_year": year, "last_year": year, "sourcing": sourcing,
        "disruptions": disruptions,
        "monte_carlo": base.monte_carlo.model_copy(update={
            "draws": UNCERTAINTY_DRAWS, "network_years": (year,)})})


def _compare_gap(base: pd.DataFrame, hit: pd.DataFrame | None) -> list[dict[str, Any]]:
    after = {} if hit is None else dict(zip(hit["flow"], hit["plausible"], strict=True))
    rows = []
    for r in base.to_dict("records"):
        row = {"stage": r["stage"], "flow": r["label"], "unit": r["unit"],
               "requirement": number(r["requirement"]), "plausible": number(r["plausible"]),
               "self_sufficiency_pct": percent(r["self_sufficiency"])}
        if hit is not None:
            plausible = float(after.get(r["flow"], 0.0))
            requirement = float(r["requirement"])
            row["plausible_disrupted"] = number(plausible)
            row["self_sufficiency_disrupted_pct"] = (
                round(100 * plausible / requirement, 1) if requirement > 0 else None)
        row["confidence"] = _text(r["confidence"])
        rows.append(row)
    return rows


def scenario_run(dataset: Dataset, scenario_name: str | None, year: int, sourcing: str,
                 remove_country: str | None, uncertainty: bool) -> ScenarioRun:
    policy = check_sourcing(sourcing)
    base = resolve_scenario(scenario_name)
    check_demand_year(base, year)
    if remove_country and remove_country not in atlas_countries(dataset):
        raise InvalidChoice(f"No facility in the atlas lies in {remove_country!r}; choose one "
                            f"of: {', '.join(atlas_countries(dataset))}.")
    scenario = _runner_scenario(base, year, policy, remove_country)
    report, prepared = analytics_service.network(dataset, scenario, [year], disrupted=False)
    baseline_gap, _ = analytics_service.gap(
        dataset, scenario.model_copy(update={"disruptions": ()}), [year])
    disrupted: Bound | None = None
    hit_gap: pd.DataFrame | None = None
    notes: list[str] = []
    explained = report
    if remove_country:
        explained, prepared = analytics_service.network(dataset, scenario, [year])
        disrupted = _bound(explained, year)
        hit_gap, hit = analytics_service.gap(dataset, scenario, [year])
        notes = hit.notes
    spread = _uncertainty(dataset, scenario) if uncertainty else None
    return ScenarioRun(
        scenario.name, scenario.title, scenario.description, year, policy,
        explained.sourcing_text, remove_country, notes, _bound(report, year), disrupted,
        _compare_gap(baseline_gap, hit_gap),
        explain(explained, year, analytics_service.unquantified_by_stage(prepared)), spread,
        sources_of(baseline_gap), confidence_rows(baseline_gap), demand_sources(scenario, [year]))


def _uncertainty(dataset: Dataset, scenario: Scenario) -> dict[str, float] | None:
    """p10, p50 and p90 of the bound over seeded draws of which projects get built."""
    result = analytics_service.simulate(dataset, scenario, draws=UNCERTAINTY_DRAWS)
    if result.bounds.empty:
        return None
    row = result.bounds.iloc[0]
    return {k: round(float(row[k]), 1) for k in ("p10", "p50", "p90", "mean")} | {
        "draws": float(result.draws)}

