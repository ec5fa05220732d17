"""Demand to requirements, stage conversions, scenario files, the gap table on the bundled
atlas, Monte Carlo percentiles and disruptions."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import periodictable
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc import analytics_service
from bmtc.analysis.conversions import (
    SYMBOLS,
    Cam,
    Family,
    cam_per_kwh,
    load_conversions,
    stoichiometric_fraction,
)
from bmtc.analysis.demand import Preset, load_presets
from bmtc.analysis.flows import Flow
from bmtc.analysis.gap import family_shares, find_preset, preset_demand, requirements_by_flow
from bmtc.analysis.montecarlo import draw_capacity
from bmtc.analysis.recipe import Recipe, build_recipe
from bmtc.analysis.reference import load_reference
from bmtc.analysis.scenario import Disruption, Scenario, ScenarioError, parse_scenario
from bmtc.domain.dataset import Dataset
from bmtc.domain.quantities import convert_mass
from bmtc.screening_service import bundled_dataset

CONVERSIONS = load_conversions()
REF = load_reference()
CAM_CHEMISTRIES = sorted(c.chemistry for c in CONVERSIONS.cam)
SCENARIOS = Path(analytics_service.__file__).parent / "data" / "scenarios"

mixes = st.dictionaries(st.sampled_from(CAM_CHEMISTRIES),
                        st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=4,
                        ).map(lambda m: {k: v / math.fsum(m.values()) for k, v in m.items()})
gwh_values = st.floats(min_value=0.1, max_value=5_000.0)


def requirements(gwh: float, shares: dict[Family, float], recipe: Recipe,
                 ) -> dict[Flow, float]:
    return {flow: amount for flow, (amount, _used) in
            requirements_by_flow(gwh, shares, recipe).items()}


def recipe_for(mix: dict[str, float]) -> tuple[dict[Family, float], Recipe]:
    shares, within = family_shares(mix)
    return dict(shares), build_recipe(within)


# Requirements ------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(mixes, gwh_values)
def test_doubling_demand_doubles_every_requirement(mix: dict[str, float], gwh: float) -> None:
    shares, recipe = recipe_for(mix)
    once = requirements(gwh, shares, recipe)
    twice = requirements(2 * gwh, shares, recipe)
    assert set(once) == set(twice)
    assert once[Flow.CELLS] == pytest.approx(gwh)
    for flow, amount in once.items():
        assert twice[flow] == pytest.approx(2 * amount, rel=1e-9), flow


@settings(max_examples=60, deadline=None)
@given(mixes, gwh_values)
def test_requirements_add_up_over_cathode_families(mix: dict[str, float], gwh: float) -> None:
    shares, recipe = recipe_for(mix)
    whole = requirements(gwh, shares, recipe)
    parts = [requirements(gwh * share, {family: 1.0}, recipe)
             for family, share in shares.items() if share > 0]
    for flow in set(whole).union(*parts):
        summed = math.fsum(part.get(flow, 0.0) for part in parts)
        assert whole.get(flow, 0.0) == pytest.approx(summed, rel=1e-9, abs=1e-9), flow


def test_refined_metals_add_up_within_a_family() -> None:
    mixed = requirements(100.0, {"layered": 1.0},
                         build_recipe({"layered": {"nmc811": 0.5, "lmo": 0.5}}))
    nmc = requirements(50.0, {"layered": 1.0}, build_recipe({"layered": {"nmc811": 1.0}}))
    lmo = requirements(50.0, {"layered": 1.0}, build_recipe({"layered": {"lmo": 1.0}}))
    # Nickel sits only in the NMC half: 50 GWh x kg CAM/kWh x Ni share of the CAM.
    nickel = 50.0 * 1_000 * cam_per_kwh("nmc811").value * 0.471
    assert nmc[Flow.NICKEL_CHEMICAL] == pytest.approx(nickel, rel=1e-3)
    for flow in (Flow.NICKEL_CHEMICAL, Flow.COBALT_CHEMICAL, Flow.MANGANESE_CHEMICAL):
        assert mixed[flow] == pytest.approx(nmc[flow] + lmo[flow], rel=1e-9), flow


def _metals(cam: Cam) -> list[str]:
    return [e for e in SYMBOLS if e not in ("lithium", "graphite")
            and stoichiometric_fraction(cam.formula, e) > 0]


@pytest.mark.parametrize("cam", [
    pytest.param(c, id=c.chemistry) for c in CONVERSIONS.cam])
def test_precursor_per_cam_conserves_the_metals(cam: Cam) -> None:
    ratio = cam.precursor_per_cam()
    assert _metals(cam)
    for element in _metals(cam):
        in_precursor = ratio * stoichiometric_fraction(cam.precursor_formula, element)
        assert in_precursor == pytest.approx(stoichiometric_fraction(cam.formula, element),
                                             rel=1e-9), element
    # Losing lithium and oxygen, a hydroxide or phosphate precursor weighs less than its CAM.
    assert ratio < 1


# Conversions -------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=1e-6, max_value=1e9))
def test_lithium_bases_round_trip(tonnes: float) -> None:
    lce = convert_mass(tonnes, "contained_li", "lce")
    hydroxide = convert_mass(lce, "lce", "lithium_hydroxide")
    back = convert_mass(hydroxide, "lithium_hydroxide", "contained_li")
    assert back == pytest.approx(tonnes, rel=1e-12)
    assert lce == pytest.approx(5.323 * tonnes, rel=5e-4)
    assert hydroxide == pytest.approx(6.046 * tonnes, rel=5e-4)


def test_spodumene_grade_is_six_percent_li2o() -> None:
    grade = CONVERSIONS.grade_of("spodumene_concentrate")
    assert grade is not None
    li2o = periodictable.formula("Li2O")
    expected = 0.06 * 2 * periodictable.Li.mass / li2o.mass
    assert grade.element_fraction() == pytest.approx(expected, rel=1e-12)
    assert grade.element_fraction() == pytest.approx(0.0279, abs=5e-5)


@pytest.mark.parametrize("chemistry", ["nmc811", "lfp"])
def test_cam_per_kwh_agrees_with_pack_design(chemistry: str) -> None:
    design = next(p for p in REF.intensity.pack_design if p.chemistry == chemistry)
    expected = design.pack_kg_per_kwh * design.cathode_share
    assert cam_per_kwh(chemistry).value == pytest.approx(expected, rel=0.10)


def test_lfp_stoichiometry_matches_sourced_fractions() -> None:
    lfp, proxy = CONVERSIONS.cam_for("lfp")
    assert proxy is None
    for element, sourced in (("lithium", 0.044), ("iron", 0.354)):
        value, computed = lfp.fraction(element)
        assert not computed
        assert value == pytest.approx(sourced)
        assert stoichiometric_fraction(lfp.formula, element) == pytest.approx(value, rel=0.02)


# Demand presets ----------------------------------------------------------------------------

def test_preset_demand_interpolates_linearly() -> None:
    preset = find_preset("us-total-argonne-2024")
    assert preset_demand(preset, 2023).gwh == pytest.approx(100)
    assert preset_demand(preset, 2023).basis == "point"
    between = preset_demand(preset, 2026)
    assert between.basis == "interpolated"
    assert between.gwh == pytest.approx(100 + 3 / 7 * (1080 - 100))


SPANNING = [p for p in load_presets().preset if len(p.point) >= 2]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(SPANNING), st.data())
def test_preset_demand_is_linear_between_points(preset: Preset, data: st.DataObject) -> None:
    points = sorted(preset.point, key=lambda p: p.year)
    pair = data.draw(st.integers(min_value=0, max_value=len(points) - 2))
    low, high = points[pair], points[pair + 1]
    year = data.draw(st.integers(min_value=low.year, max_value=high.year))
    found = preset_demand(preset, year)
    # Equal steps in year give equal steps in GWh.
    slope = (high.gwh - low.gwh) / (high.year - low.year)
    assert found.gwh == pytest.approx(low.gwh + slope * (year - low.year), rel=1e-12, abs=1e-9)
    assert min(low.gwh, high.gwh) - 1e-9 <= found.gwh <= max(low.gwh, high.gwh) + 1e-9


@pytest.mark.parametrize("preset", load_presets().preset, ids=lambda p: p.id)
def test_preset_demand_refuses_years_outside_its_points(preset: Preset) -> None:
    years = sorted(p.year for p in preset.point)
    for year in (years[0] - 1, years[-1] + 1):
        with pytest.raises(ValueError, match=preset.id):
            preset_demand(preset, year)


# Gap on the bundled atlas ------------------------------------------------------------------

@cache
def atlas() -> Dataset:
    return bundled_dataset()


def preset_sum(scenario: Scenario, year: int) -> float:
    total = 0.0
    for preset_id in scenario.demand.presets:
        points = {p.year: p.gwh for p in find_preset(preset_id).point}
        total += points[year]
    return total * scenario.demand.scale


@pytest.mark.parametrize("name", ["post-2025-law", "pre-2025-law"])
def test_gap_table_on_the_atlas(name: str) -> None:
    scenario = analytics_service.scenario_named(name)
    frame, _prepared = analytics_service.gap(atlas(), scenario, [2030])
    assert set(frame["year"]) == {2030}
    assert len(frame) > 10
    assert (frame["requirement"] >= 0).all()
    assert np.allclose(frame["gap"], frame["plausible"] - frame["requirement"])
    positive = frame[frame["requirement"] > 0]
    assert np.allclose(positive["self_sufficiency"].astype(float),
                       positive["plausible"] / positive["requirement"])
    lithium = frame[frame["flow"].isin(["lithium_chemical", "lithium_feed"])]
    assert len(lithium) == 2
    assert np.allclose(lithium["requirement_lce"].astype(float),
                       5.323 * lithium["requirement"], rtol=5e-4)
    by_flow = frame.set_index("flow")
    assert by_flow.loc["cells", "requirement"] == pytest.approx(preset_sum(scenario, 2030))
    recovery = CONVERSIONS.yield_of("lithium_refining").value
    assert by_flow.loc["lithium_feed", "requirement"] == pytest.approx(
        by_flow.loc["lithium_chemical", "requirement"] / recovery)


# Scenario files ----------------------------------------------------------------------------

def base_scenario() -> dict[str, object]:
    loaded = yaml.safe_load((SCENARIOS / "post-2025-law.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_bundled_scenario_text_parses() -> None:
    scenario = parse_scenario(yaml.safe_dump(base_scenario()), "x.yaml")
    assert scenario.name == "post-2025-law"


@pytest.mark.parametrize(("change", "fields"), [
    ({"mix": {"nmc811": 0.5, "lfp": 0.4}}, ["mix"]),
    ({"mix": {"nmc811": 0.7, "unobtainium": 0.3}}, ["mix", "unobtainium"]),
    ({"demand": {"presets": ["us-ev-post-obbba"], "custom": {2030: 100.0}}}, ["demand"]),
    ({"disruptions": [{"remove_planet": "XX"}]}, ["disruptions", "remove_planet"]),
], ids=["mix-sum", "unknown-chemistry", "presets-and-custom", "disruption-key"])
def test_invalid_scenarios_name_file_and_field(change: dict[str, object],
                                               fields: list[str]) -> None:
    text = yaml.safe_dump({**base_scenario(), **change})
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    message = str(caught.value)
    assert "x.yaml" in message
    for field in fields:
        assert field in message


def test_bad_yaml_names_file_and_line() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario("name: post\nmix: {nmc811: 1.0\n", "x.yaml")
    message = str(caught.value)
    assert "x.yaml" in message
    assert "YAML" in message
    assert "line" in message


# Monte Carlo -------------------------------------------------------------------------------

@cache
def simulated(seed: int) -> analytics_service.SimulationResult:
    return analytics_service.simulate(atlas(), analytics_service.scenario_named(None),
                                      draws=200, seed=seed)


def test_simulation_is_reproducible() -> None:
    scenario = analytics_service.scenario_named(None)
    again = analytics_service.simulate(atlas(), scenario, draws=200, seed=7)
    pd.testing.assert_frame_equal(simulated(7).capacity, again.capacity)
    pd.testing.assert_frame_equal(simulated(7).bounds, again.bounds)


def test_simulation_percentiles_are_ordered() -> None:
    result = simulated(7)
    for frame in (result.capacity, result.bounds):
        assert len(frame) > 0
        assert (frame["p10"] <= frame["p50"] + 1e-9).all()
        assert (frame["p50"] <= frame["p90"] + 1e-9).all()
    scenario = analytics_service.scenario_named(None)
    assert set(result.capacity["year"]) == set(scenario.span())


def test_another_seed_moves_an_unfinished_flow() -> None:
    scenario = analytics_service.scenario_named(None)
    prepared = analytics_service.prepare(atlas(), scenario, scenario.span())
    frame = prepared.pipeline.frame
    unfinished = set(frame.loc[frame["status"].isin(["announced", "under_construction",
                                                     "paused"]), "flow"])
    assert unfinished
    columns = ["p10", "p50", "p90"]
    first = simulated(7).capacity.set_index(["flow", "year"])
    second = simulated(8).capacity.set_index(["flow", "year"])
    moved = (first[columns] - second[columns]).abs().max(axis=1) > 1e-9
    assert moved[moved.index.get_level_values("flow").isin(unfinished)].any()


def test_certain_draws_reproduce_the_pipeline_nameplate() -> None:
    scenario = analytics_service.scenario_named(None)
    years = scenario.span()
    prepared = analytics_service.prepare(atlas(), scenario, years)
    projects = analytics_service._projects(prepared)
    certain = dict.fromkeys(set(projects.status), 1.0)
    sample = draw_capacity(projects, years, certain, {}, 1, np.random.default_rng(0))
    nameplate = (prepared.pipeline.frame
                 .pivot(index="facility_id", columns="year", values="nameplate")
                 .loc[projects.ids, list(years)].to_numpy())
    assert np.allclose(sample[0], nameplate)


# Disruptions -------------------------------------------------------------------------------

def test_removing_a_country_never_raises_capacity_or_bound() -> None:
    scenario = analytics_service.scenario_named(None)
    cut = scenario.model_copy(update={"disruptions": (Disruption(remove_country="CA"),)})
    years = list(scenario.span())
    base, _ = analytics_service.gap(atlas(), scenario, years)
    after, prepared = analytics_service.gap(atlas(), cut, years)
    assert any(note.startswith("removed ") and "CA" in note for note in prepared.notes)
    assert all(f.country != "CA" for f in prepared.facilities)
    merged = base.merge(after, on=["flow", "year"], suffixes=("_base", "_cut"))
    assert len(merged) == len(base)
    assert (merged["plausible_cut"] <= merged["plausible_base"] + 1e-6).all()
    assert (merged["plausible_cut"] < merged["plausible_base"] - 1e-6).any()
    for year in (2026, 2030):
        before, _ = analytics_service.network(atlas(), scenario, [year])
        without, _ = analytics_service.network(atlas(), cut, [year])
        assert without.year(year).cells_gwh <= before.year(year).cells_gwh + 1e-6
        assert without.cell_capacity[year] < before.cell_capacity[year]
