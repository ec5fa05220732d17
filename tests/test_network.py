"""The network bound: LP properties on hand-built chains (monotone in capacity, homogeneous,
shadow prices equal to finite differences) and the bound on the bundled atlas."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc import analytics_service
from bmtc.analysis.bound import explain
from bmtc.analysis.conversions import Family
from bmtc.analysis.flows import Flow
from bmtc.analysis.gap import requirements_by_flow
from bmtc.analysis.network import BALANCED, NetworkModel, Node, YearBound, solve_year
from bmtc.analysis.recipe import build_recipe
from bmtc.analysis.scenario import Disruption
from bmtc.analysis.sourcing import IMPORTABLE, Policy, Sourcing
from bmtc.domain.dataset import Dataset
from bmtc.screening_service import bundled_dataset

RECIPE = build_recipe()
LAYERED = RECIPE.cell["layered"]
# Per-GWh need of every flow for an even layered/phosphate mix: it puts random capacities on a
# scale where every stage can bind, instead of the separator (m2) never mattering.
PER_GWH = {flow: amount for flow, (amount, _used) in
           requirements_by_flow(1.0, {"layered": 0.5, "phosphate": 0.5}, RECIPE).items()}
FAMILY_CHOICES: list[tuple[Family, ...]] = [
    (), ("layered",), ("phosphate",), ("layered", "phosphate")]
# Every flow once, with some capacity, so that random chains often reach finished cells.
CORE = [*BALANCED, Flow.CELLS]
STAGE = {Flow.CELLS: "cell", Flow.CAM_LAYERED: "cathode", Flow.CAM_PHOSPHATE: "cathode"}


def node(name: str, flow: Flow, capacity: Sequence[float], *, integrated: bool = False,
         families: tuple[Family, ...] = (), route: str = "") -> Node:
    return Node(name, name, STAGE.get(flow, flow.value), flow, families, integrated, route,
                np.asarray(capacity, dtype=float))


def bounds(nodes: Sequence[Node], imports: dict[Flow, float] | None = None) -> list[float]:
    model = NetworkModel(nodes, RECIPE, imports or {})
    years = len(nodes[0].capacity) if nodes else 1
    return [solve_year(model, i, 2030 + i).cells_gwh for i in range(years)]


def close_or_below(value: float, limit: float) -> bool:
    return value <= limit + 1e-6 * (1 + abs(limit))


@st.composite
def random_node(draw: st.DrawFn, flow: Flow, years: int, name: str, idle: bool = True,
                ) -> Node:
    scale = PER_GWH.get(flow, 1.0)
    gwh = st.floats(min_value=1.0, max_value=200.0)
    if idle:
        gwh = st.one_of(st.just(0.0), gwh)
    capacity = [draw(gwh) * scale for _ in range(years)]
    families: tuple[Family, ...] = ()
    if flow in (Flow.CELLS, Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE):
        families = draw(st.sampled_from(FAMILY_CHOICES))
    route = draw(st.sampled_from(["natural", "synthetic"])) if flow is Flow.AAM else ""
    return node(name, flow, capacity, integrated=draw(st.booleans()), families=families,
                route=route)


@st.composite
def chains(draw: st.DrawFn) -> list[Node]:
    years = draw(st.integers(min_value=1, max_value=3))
    nodes = [draw(random_node(flow, years, f"core-{flow.value}", idle=False)) for flow in CORE]
    extra = draw(st.lists(st.sampled_from([*BALANCED, Flow.CELLS]), max_size=6))
    nodes += [draw(random_node(flow, years, f"extra-{i}")) for i, flow in enumerate(extra)]
    return nodes


def with_capacity(item: Node, capacity: np.ndarray) -> Node:
    return Node(item.facility_id, item.name, item.stage, item.flow, item.families,
                item.integrated, item.route, capacity)


# Properties of the LP ------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(chains())
def test_removing_a_node_never_raises_the_bound(nodes: list[Node]) -> None:
    full = bounds(nodes)
    for i in range(len(nodes)):
        without = bounds(nodes[:i] + nodes[i + 1:])
        for year, (before, after) in enumerate(zip(full, without, strict=True)):
            assert close_or_below(after, before), (nodes[i].facility_id, year, before, after)


@settings(max_examples=40, deadline=None)
@given(chains(), st.floats(min_value=0.05, max_value=20.0))
def test_scaling_every_capacity_scales_the_bound(nodes: list[Node], k: float) -> None:
    scaled = [with_capacity(n, n.capacity * k) for n in nodes]
    for before, after in zip(bounds(nodes), bounds(scaled), strict=True):
        assert after == pytest.approx(k * before, rel=1e-6, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(chains(), st.data())
def test_raising_one_capacity_never_lowers_the_bound(nodes: list[Node],
                                                     data: st.DataObject) -> None:
    i = data.draw(st.integers(min_value=0, max_value=len(nodes) - 1))
    extra = data.draw(st.floats(min_value=0.01, max_value=200.0)) * PER_GWH.get(
        nodes[i].flow, 1.0)
    raised = list(nodes)
    raised[i] = with_capacity(nodes[i], nodes[i].capacity + extra)
    for before, after in zip(bounds(nodes), bounds(raised), strict=True):
        assert close_or_below(before, after)


# A hand-built layered chain with one scarce stage --------------------------------------------

def layered_needs() -> dict[Flow, float]:
    """Per GWh of layered cells, what each node of the hand-built chain must supply."""
    cam = LAYERED[Flow.CAM_LAYERED].value
    electrolyte = LAYERED[Flow.ELECTROLYTE].value
    lipf6 = electrolyte * RECIPE.electrolyte_lipf6.value
    return {
        Flow.CELLS: 1.0,
        Flow.CAM_LAYERED: cam,
        Flow.PCAM: cam * RECIPE.cam["layered"][Flow.PCAM].value,
        # The refinery feeds both the CAM plant and the LiPF6 plant.
        Flow.LITHIUM_CHEMICAL: cam * RECIPE.cam["layered"][Flow.LITHIUM_CHEMICAL].value
        + lipf6 * RECIPE.lipf6_lithium.value,
        Flow.AAM: LAYERED[Flow.AAM].value,
        Flow.ELECTROLYTE: electrolyte,
        Flow.LIPF6: lipf6,
        Flow.SEPARATOR: LAYERED[Flow.SEPARATOR].value,
        Flow.COPPER_FOIL: LAYERED[Flow.COPPER_FOIL].value,
        Flow.ALUMINUM_FOIL: LAYERED[Flow.ALUMINUM_FOIL].value,
    }


def layered_chain(capacity: dict[Flow, float]) -> list[Node]:
    return [
        node("refinery", Flow.LITHIUM_CHEMICAL, [capacity[Flow.LITHIUM_CHEMICAL]],
             integrated=True),
        node("pcam", Flow.PCAM, [capacity[Flow.PCAM]], integrated=True),
        node("cam", Flow.CAM_LAYERED, [capacity[Flow.CAM_LAYERED]], families=("layered",)),
        node("anode", Flow.AAM, [capacity[Flow.AAM]], route="synthetic"),
        node("salt", Flow.LIPF6, [capacity[Flow.LIPF6]]),
        node("electrolyte", Flow.ELECTROLYTE, [capacity[Flow.ELECTROLYTE]]),
        node("separator", Flow.SEPARATOR, [capacity[Flow.SEPARATOR]]),
        node("copper", Flow.COPPER_FOIL, [capacity[Flow.COPPER_FOIL]]),
        node("aluminium", Flow.ALUMINUM_FOIL, [capacity[Flow.ALUMINUM_FOIL]]),
        node("cells", Flow.CELLS, [capacity[Flow.CELLS]], families=("layered",)),
    ]


def solve_chain(capacity: dict[Flow, float]) -> YearBound:
    return solve_year(NetworkModel(layered_chain(capacity), RECIPE, {}), 0, 2030)


def scarce_chain(scarce: Flow) -> tuple[dict[Flow, float], float]:
    """Capacities where every stage but `scarce` has room for 400-900 GWh and `scarce` for
    37.3, and the bound computed by hand as the least of the stage limits."""
    needs = layered_needs()
    capacity = {flow: need * (400 + 50 * i) for i, (flow, need) in enumerate(needs.items())}
    capacity[scarce] = needs[scarce] * 37.3
    return capacity, min(capacity[flow] / need for flow, need in needs.items())


SCARCE = list(layered_needs())
# Stages on a branch of their own: extra supply there cannot bypass another stage's limit.
PARALLEL = {Flow.AAM, Flow.SEPARATOR, Flow.COPPER_FOIL, Flow.ALUMINUM_FOIL}


@pytest.mark.parametrize("scarce", SCARCE, ids=lambda f: f.value)
def test_hand_built_chain_bound_and_shadow_prices(scarce: Flow) -> None:
    needs = layered_needs()
    capacity, expected = scarce_chain(scarce)
    bound = solve_chain(capacity)
    assert bound.cells_gwh == pytest.approx(expected, rel=1e-7)
    assert bound.cells_gwh == pytest.approx(37.3, rel=1e-7)
    assert bound.by_family == pytest.approx({"layered": expected, "phosphate": 0.0})

    step = capacity[scarce] * 1e-3
    raised = solve_chain({**capacity, scarce: capacity[scarce] + step})
    slope = (raised.cells_gwh - bound.cells_gwh) / step
    assert slope == pytest.approx(1 / needs[scarce], rel=1e-6)
    facilities = bound.facilities.set_index("flow")
    assert facilities.loc[scarce.value, "gwh_per_unit"] == pytest.approx(slope, rel=1e-6)
    assert (facilities.drop(index=scarce.value)["gwh_per_unit"] < 1e-12).all()
    prices = bound.flows.set_index("flow")["gwh_per_unit"]
    if scarce is not Flow.CELLS:
        assert prices[scarce.value] == pytest.approx(slope, rel=1e-6)
    for flow in PARALLEL - {scarce}:
        assert prices[flow.value] < 1e-12, flow


# The separator's price per m2 (about 1e-7 GWh) is tiny; it must still count as binding.
@pytest.mark.parametrize("scarce", SCARCE, ids=lambda f: f.value)
def test_scarce_stage_is_the_binding_stage(scarce: Flow) -> None:
    capacity, expected = scarce_chain(scarce)
    bound = solve_chain(capacity)
    assert list(bound.stages["flow"]) == [scarce.value]
    assert bound.stages.loc[0, "gain_1pct"] == pytest.approx(0.01 * expected, rel=1e-6)
    binding = bound.facilities[bound.facilities["binding"]]
    assert list(binding["flow"]) == [scarce.value]


def test_a_two_family_cell_line_shares_one_capacity() -> None:
    imports = dict.fromkeys(IMPORTABLE, math.inf)
    lines = [node("both", Flow.CELLS, [30.0, 0.0, 12.5], families=("layered", "phosphate")),
             node("lfp", Flow.CELLS, [5.0, 7.0, 0.0], families=("phosphate",))]
    model = NetworkModel(lines, RECIPE, imports)
    for year, expected in enumerate([35.0, 7.0, 12.5]):
        bound = solve_year(model, year, 2030 + year)
        assert bound.cells_gwh == pytest.approx(expected, rel=1e-9)
        assert sum(bound.by_family.values()) == pytest.approx(bound.cells_gwh, rel=1e-9)
        output = bound.facilities.set_index("facility_id")["output"]
        assert output["both"] <= lines[0].capacity[year] * (1 + 1e-9) + 1e-9


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FAMILY_CHOICES),
                          st.floats(min_value=0.0, max_value=500.0)), min_size=1, max_size=6),
       st.data())
def test_two_family_lines_never_exceed_capacity(lines: list[tuple[tuple[Family, ...], float]],
                                                data: st.DataObject) -> None:
    # Scarce CAM of one family pushes the LP to use shared lines for the other family.
    family_cap = {f: data.draw(st.floats(min_value=0.0, max_value=300.0)) for f in
                  ("layered", "phosphate")}
    nodes = [node(f"cell-{i}", Flow.CELLS, [cap], families=fams)
             for i, (fams, cap) in enumerate(lines)]
    nodes += [node("cam-l", Flow.CAM_LAYERED,
                   [family_cap["layered"] * RECIPE.cell["layered"][Flow.CAM_LAYERED].value],
                   families=("layered",)),
              node("cam-p", Flow.CAM_PHOSPHATE,
                   [family_cap["phosphate"] * RECIPE.cell["phosphate"][Flow.CAM_PHOSPHATE].value],
                   families=("phosphate",))]
    imports = {f: math.inf for f in IMPORTABLE
               if f not in (Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE)}
    bound = solve_year(NetworkModel(nodes, RECIPE, imports), 0, 2030)
    outputs = bound.facilities.set_index("facility_id")["output"]
    for i, (_fams, cap) in enumerate(lines):
        assert outputs[f"cell-{i}"] <= cap + 1e-6 * (1 + cap)
    assert close_or_below(bound.cells_gwh, sum(cap for _f, cap in lines))
    assert close_or_below(bound.cells_gwh, sum(family_cap.values()))
    assert sum(bound.by_family.values()) == pytest.approx(bound.cells_gwh, rel=1e-9, abs=1e-9)


def test_made_follows_the_family_a_shared_cam_plant_serves() -> None:
    imports = {f: math.inf for f in IMPORTABLE
               if f not in (Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE)}
    nodes = [node("cam", Flow.CAM_LAYERED, [1e6], families=("layered", "phosphate")),
             node("lfp-cells", Flow.CELLS, [10.0], families=("phosphate",))]
    bound = solve_year(NetworkModel(nodes, RECIPE, imports), 0, 2030)
    assert bound.by_family["phosphate"] == pytest.approx(10.0)
    made = bound.flows.set_index("flow")["made"]
    cam = RECIPE.cell["phosphate"][Flow.CAM_PHOSPHATE].value
    assert made["cam_phosphate"] == pytest.approx(10.0 * cam, rel=1e-6)
    assert made["cam_layered"] == pytest.approx(0.0, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FAMILY_CHOICES),
                          st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=2,
                                   max_size=2)), min_size=1, max_size=5))
def test_unbounded_imports_leave_only_cell_capacity(
        lines: list[tuple[tuple[Family, ...], list[float]]]) -> None:
    nodes = [node(f"cell-{i}", Flow.CELLS, caps, families=fams)
             for i, (fams, caps) in enumerate(lines)]
    found = bounds(nodes, dict.fromkeys(IMPORTABLE, math.inf))
    for year, bound in enumerate(found):
        total = sum(caps[year] for _f, caps in lines)
        assert bound == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert bounds(nodes) == [0.0, 0.0]
    assert bounds(nodes, dict.fromkeys(IMPORTABLE, 0.0)) == [0.0, 0.0]


def test_no_nodes_and_no_imports_bound_zero() -> None:
    assert bounds([]) == [0.0]


# The bundled atlas ---------------------------------------------------------------------------

@cache
def atlas() -> Dataset:
    return bundled_dataset()


def atlas_bound(policy: Policy, disruptions: tuple[Disruption, ...] = (),
                ) -> tuple[float, float, list[str]]:
    scenario = analytics_service.scenario_named("post-2025-law")
    if disruptions:
        scenario = scenario.model_copy(update={"disruptions": disruptions})
    report, _prepared = analytics_service.network(atlas(), scenario, [2030],
                                                  Sourcing.named(policy))
    return report.year(2030).cells_gwh, report.cell_capacity[2030], explain(report, 2030)


def test_atlas_bound_within_cell_capacity() -> None:
    bound, cells, lines = atlas_bound("na")
    assert cells > 0
    assert 0 <= bound <= cells * (1 + 1e-9)
    text = " ".join(lines)
    assert "2030" in text
    assert "GWh" in text
    assert f"{bound:,.1f} GWh" in text


def test_atlas_sourcing_policies_order() -> None:
    na, na_cells, _ = atlas_bound("na")
    allied, allied_cells, _ = atlas_bound("allied")
    non_feoc, non_feoc_cells, _ = atlas_bound("non-feoc")
    assert allied >= na - 1e-6
    assert non_feoc <= na + 1e-6
    assert non_feoc_cells <= na_cells + 1e-9
    # Unbounded imports leave only the cell lines the policy keeps.
    assert allied == pytest.approx(allied_cells, rel=1e-6)


def test_removing_a_country_never_raises_the_atlas_bound() -> None:
    removal = (Disruption(remove_country="CA"),)
    for policy in ("na", "allied"):
        base, base_cells, _ = atlas_bound(policy)
        cut, cut_cells, _ = atlas_bound(policy, disruptions=removal)
        assert cut <= base + 1e-6
        assert cut_cells <= base_cells + 1e-9
    # Canada has cell lines in the atlas, so the allied bound must actually fall.
    assert atlas_bound("allied", disruptions=removal)[0] < atlas_bound("allied")[0]
