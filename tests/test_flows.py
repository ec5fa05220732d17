"""Facility capacities as flows, disruptions and sourcing details, on the bundled atlas."""

from __future__ import annotations

import math

import pytest

from bmtc import analytics_service as service
from bmtc.analysis.capacity import ALWAYS, Realisation, effective_start, pipeline
from bmtc.analysis.flows import Flow, facility_flows
from bmtc.analysis.gap import gap_view
from bmtc.analysis.reference import load_reference
from bmtc.analysis.scenario import Demand, Disruption, ScenarioError, parse_scenario
from bmtc.analysis.sourcing import Sourcing, check_relaxable, import_allowance
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import Stage, Status
from bmtc.screening_service import bundled_dataset

DATASET = bundled_dataset()
BASE = service.scenario_named(None)


@pytest.fixture(scope="module")
def flows() -> dict[str, object]:
    found, _ = facility_flows(DATASET.facilities)
    return dict(found)


def test_a_plant_making_both_cathode_families_can_serve_either(
        flows: dict[str, object]) -> None:
    six_k = flows["6k-energy-pluscam-jackson"]
    assert six_k.families == ("layered", "phosphate")  # type: ignore[attr-defined]


def test_a_mine_feeding_its_own_refinery_is_captive(flows: dict[str, object]) -> None:
    pak = flows["frontier-lithium-pak"]
    refinery = flows["frontier-thunder-bay-conversion"]
    assert pak.captive and pak.flow is Flow.LITHIUM_FEED  # type: ignore[attr-defined]
    assert refinery.integrated  # type: ignore[attr-defined]
    # A mine with no refinery of its operator beside it sells into the pool.
    assert not flows["north-american-lithium-la-corne"].captive  # type: ignore[attr-defined]


def test_gap_feed_counts_integrated_extraction_once() -> None:
    prepared = service.prepare(DATASET, BASE, (2030,))
    frame = prepared.pipeline.frame
    view = gap_view(frame, prepared.recipe)
    feed = view[(view["flow"] == "lithium_feed") & (view["year"] == 2030)]
    assert "frontier-lithium-pak" not in set(feed["facility_id"])
    thacker = feed[feed["facility_id"] == "thacker-pass-processing"]
    chemical = frame[(frame["facility_id"] == "thacker-pass-processing")
                     & (frame["year"] == 2030)]
    recovery = prepared.recipe.feed[Flow.LITHIUM_CHEMICAL].value
    assert float(thacker["nameplate"].iloc[0]) == pytest.approx(
        float(chemical["nameplate"].iloc[0]) * recovery)


def _disrupted(**disruption: object) -> set[str]:
    scenario = BASE.model_copy(update={"disruptions": (Disruption(**disruption),)})
    kept, _notes = service.apply_disruptions(DATASET, scenario)
    return {f.id for f in DATASET.facilities} - {f.id for f in kept}


def test_removing_a_company_follows_majority_chains() -> None:
    # Volkswagen holds PowerCo SE, which holds PowerCo Canada, the St. Thomas operator.
    assert "powerco-st-thomas" in _disrupted(remove_company="volkswagen-group")
    # Vale's ">50%" stake in Vale Base Metals is a majority.
    assert {"vale-sudbury", "vale-long-harbour"} <= _disrupted(remove_company="vale")
    with pytest.raises(ValueError, match="no organization"):
        _disrupted(remove_company="no-such-org")


def test_a_cut_on_a_country_that_is_not_a_source_is_reported() -> None:
    policy = Sourcing("allied", "feoc-doe-2024", ("fta",), "reference", 1.0, {"CN": 1.0})
    allowance = import_allowance(policy, load_reference().shares)
    assert any("CN" in note and "changes nothing" in note for note in allowance.notes)
    halved = Sourcing("allied", "feoc-doe-2024", ("fta",), "reference", 1.0, {"AU": 0.5})
    full = Sourcing("allied", "feoc-doe-2024", ("fta",), "reference")
    limits = import_allowance(halved, load_reference().shares).limits
    whole = import_allowance(full, load_reference().shares).limits
    assert 0 < limits[Flow.LITHIUM_FEED] < whole[Flow.LITHIUM_FEED] < math.inf


def test_only_stages_upstream_of_the_cell_can_be_relaxed() -> None:
    check_relaxable([Stage.PRECURSOR, Stage.MINING])
    for stage in (Stage.CELL, Stage.MODULE_PACK, Stage.RECYCLING):
        with pytest.raises(ValueError, match="cannot relax"):
            check_relaxable([stage])


def test_custom_demand_is_interpolated_between_its_years() -> None:
    scenario = BASE.model_copy(update={"demand": Demand(custom={2026: 100, 2030: 300})})
    by_year = {d.year: d.gwh for d in service.demand_for(scenario, [2026, 2028, 2030])}
    assert by_year == {2026: 100, 2028: pytest.approx(200), 2030: 300}
    with pytest.raises(ValueError, match="says nothing about 2031"):
        service.demand_for(scenario, [2031])


def test_network_years_outside_the_span_are_refused() -> None:
    text = ("name: x\ntitle: t\nyear: 2030\nfirst_year: 2029\nlast_year: 2030\n"
            "demand: {custom: {2029: 1, 2030: 2}}\nmix: {lfp: 1}\nmix_source: s\n"
            "monte_carlo: {network_years: [2027]}\n")
    with pytest.raises(ScenarioError, match="network_years"):
        parse_scenario(text, "x.yaml")


def test_a_closed_plant_without_a_start_year_counted_until_it_closed() -> None:
    plant = next(f for f in DATASET.facilities if f.capacity is not None
                 and f.status is Status.OPERATING)
    closed = plant.model_copy(update={"status": Status.CLOSED, "status_as_of": "2028-06",
                                      "start_year": None})
    assert effective_start(closed, Realisation.default().lead_times) == (ALWAYS, True)
    frame = pipeline([closed], (2027, 2028, 2029)).frame
    assert list(frame["nameplate"] > 0) == [True, False, False]


def test_an_empty_atlas_has_a_zero_bound() -> None:
    report, _ = service.network(Dataset(info=DATASET.info), BASE, [2030], Sourcing.named("na"))
    assert report.year(2030).cells_gwh == 0.0


def test_a_preset_run_as_a_scenario_takes_its_own_mix() -> None:
    stationary = service.scenario_named("us-stationary-post-obbba")
    assert stationary.mix == {"lfp": 1.0} and "Assumption" in stationary.mix_source
    argonne = service.scenario_named("us-total-argonne-2024")
    assert argonne.mix == BASE.mix and "post-2025-law" in argonne.mix_source
    assert argonne.demand.presets == ("us-total-argonne-2024",)
