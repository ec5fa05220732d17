"""What a facility's capacity is, as a flow through the supply chain.

Capacities arrive as tonnes of hydroxide, of spodumene concentrate, of contained nickel, as
square metres of separator or GWh of cells. Each is put on the measure of one flow (tonnes of
lithium, tonnes of layered-oxide CAM, GWh of cells, ...) so that a stage's capacity can be summed
and set against what the stage downstream needs. A capacity that cannot be put on a flow (cells
counted in units, recycling feed without an output figure) is kept apart with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from bmtc.analysis.conversions import (
    FAMILIES,
    SYMBOLS,
    ConversionsFile,
    Family,
    load_conversions,
)
from bmtc.domain.model import Facility
from bmtc.domain.quantities import BASIS_FORMULAS, Capacity, convert_mass
from bmtc.domain.vocab import PRODUCTS, Material, Stage


class Flow(StrEnum):
    LITHIUM_FEED = "lithium_feed"
    NICKEL_FEED = "nickel_feed"
    COBALT_FEED = "cobalt_feed"
    MANGANESE_FEED = "manganese_feed"
    GRAPHITE_FEED = "graphite_feed"
    LITHIUM_CHEMICAL = "lithium_chemical"
    NICKEL_CHEMICAL = "nickel_chemical"
    COBALT_CHEMICAL = "cobalt_chemical"
    MANGANESE_CHEMICAL = "manganese_chemical"
    PCAM = "pcam"
    IRON_PHOSPHATE = "iron_phosphate"
    CAM_LAYERED = "cam_layered"
    CAM_PHOSPHATE = "cam_phosphate"
    AAM = "aam"
    LIPF6 = "lipf6"
    ELECTROLYTE = "electrolyte"
    SEPARATOR = "separator"
    COPPER_FOIL = "copper_foil"
    ALUMINUM_FOIL = "aluminum_foil"
    CELLS = "cells"
    SODIUM_CELLS = "sodium_cells"
    PACKS = "packs"
    RECYCLING_FEED = "recycling_feed"


@dataclass(frozen=True)
class FlowInfo:
    label: str
    unit: str
    stage: Stage
    material: Material | None = None


FLOWS: dict[Flow, FlowInfo] = {
    Flow.LITHIUM_FEED: FlowInfo("lithium in mined feed", "t Li", Stage.MINING, Material.LITHIUM),
    Flow.NICKEL_FEED: FlowInfo("nickel in mined feed", "t Ni", Stage.MINING, Material.NICKEL),
    Flow.COBALT_FEED: FlowInfo("cobalt in mined feed", "t Co", Stage.MINING, Material.COBALT),
    Flow.MANGANESE_FEED: FlowInfo("manganese in mined feed", "t Mn", Stage.MINING,
                                  Material.MANGANESE),
    Flow.GRAPHITE_FEED: FlowInfo("natural graphite feed", "t C", Stage.MINING, Material.GRAPHITE),
    Flow.LITHIUM_CHEMICAL: FlowInfo("lithium in battery-grade chemicals", "t Li", Stage.REFINING,
                                    Material.LITHIUM),
    Flow.NICKEL_CHEMICAL: FlowInfo("nickel in battery-grade sulfate or metal", "t Ni",
                                   Stage.REFINING, Material.NICKEL),
    Flow.COBALT_CHEMICAL: FlowInfo("cobalt in battery-grade sulfate or metal", "t Co",
                                   Stage.REFINING, Material.COBALT),
    Flow.MANGANESE_CHEMICAL: FlowInfo("manganese in high-purity sulfate", "t Mn", Stage.REFINING,
                                      Material.MANGANESE),
    Flow.PCAM: FlowInfo("cathode precursor (pCAM)", "t", Stage.PRECURSOR),
    Flow.IRON_PHOSPHATE: FlowInfo("iron phosphate", "t", Stage.PRECURSOR, Material.IRON_PHOSPHATE),
    Flow.CAM_LAYERED: FlowInfo("layered-oxide CAM (NMC, NCA, NCMA, LMO)", "t", Stage.CATHODE),
    Flow.CAM_PHOSPHATE: FlowInfo("phosphate CAM (LFP, LMFP)", "t", Stage.CATHODE),
    Flow.AAM: FlowInfo("anode active material", "t", Stage.ANODE, Material.GRAPHITE),
    Flow.LIPF6: FlowInfo("LiPF6 salt", "t", Stage.ELECTROLYTE),
    Flow.ELECTROLYTE: FlowInfo("liquid electrolyte", "t", Stage.ELECTROLYTE),
    Flow.SEPARATOR: FlowInfo("separator film", "m2", Stage.SEPARATOR),
    Flow.COPPER_FOIL: FlowInfo("copper foil", "t", Stage.FOIL, Material.COPPER),
    Flow.ALUMINUM_FOIL: FlowInfo("aluminium foil", "t", Stage.FOIL, Material.ALUMINUM),
    Flow.CELLS: FlowInfo("lithium-ion cells", "GWh", Stage.CELL),
    Flow.SODIUM_CELLS: FlowInfo("sodium-ion cells", "GWh", Stage.CELL, Material.SODIUM),
    Flow.PACKS: FlowInfo("modules and packs", "GWh", Stage.MODULE_PACK),
    Flow.RECYCLING_FEED: FlowInfo("recycling feed (scrap, black mass)", "t", Stage.RECYCLING),
}

# Capacity basis -> the flow it measures, where stage does not change the answer.
_BASIS_FLOWS: dict[str, Flow] = {
    "pcam": Flow.PCAM, "iron_phosphate": Flow.IRON_PHOSPHATE,
    "nmc_cam": Flow.CAM_LAYERED, "nca_cam": Flow.CAM_LAYERED, "ncma_cam": Flow.CAM_LAYERED,
    "lmo_cam": Flow.CAM_LAYERED, "lfp_cam": Flow.CAM_PHOSPHATE, "lmfp_cam": Flow.CAM_PHOSPHATE,
    "synthetic_graphite": Flow.AAM, "coated_graphite_aam": Flow.AAM,
    "spherical_graphite": Flow.AAM, "anode_materials": Flow.AAM,
    "electrolyte": Flow.ELECTROLYTE, "lipf6": Flow.LIPF6,
    "wet_separator": Flow.SEPARATOR, "dry_separator": Flow.SEPARATOR,
    "coated_separator": Flow.SEPARATOR,
    "copper_foil": Flow.COPPER_FOIL, "aluminum_foil": Flow.ALUMINUM_FOIL,
    "li_ion_cells": Flow.CELLS, "cylindrical_cells": Flow.CELLS, "pouch_cells": Flow.CELLS,
    "prismatic_cells": Flow.CELLS, "ess_cells": Flow.CELLS, "solid_state_cells": Flow.CELLS,
    "sodium_ion_cells": Flow.SODIUM_CELLS,
    "battery_packs": Flow.PACKS, "battery_modules": Flow.PACKS, "ess_packs": Flow.PACKS,
    "cathode_materials": Flow.CAM_LAYERED,
    "feedstock": Flow.RECYCLING_FEED, "black_mass": Flow.RECYCLING_FEED,
}
# Contained-element bases: (element flow when mined, element flow when refined).
_ELEMENT_FLOWS: dict[str, tuple[Flow, Flow]] = {
    "Li": (Flow.LITHIUM_FEED, Flow.LITHIUM_CHEMICAL),
    "Ni": (Flow.NICKEL_FEED, Flow.NICKEL_CHEMICAL),
    "Co": (Flow.COBALT_FEED, Flow.COBALT_CHEMICAL),
    "Mn": (Flow.MANGANESE_FEED, Flow.MANGANESE_CHEMICAL),
}
_CONTAINED = {"contained_li": "Li", "contained_ni": "Ni", "contained_co": "Co",
              "contained_mn": "Mn"}
# Products that are themselves a resource: a refinery making them is fed from its own site.
_RAW_RESOURCES = frozenset({
    "lithium_brine", "geothermal_brine", "lithium_claystone", "spodumene_ore", "nickel_ore",
    "nickel_concentrate", "nickel_matte", "cobalt_concentrate", "manganese_ore",
})
_CAM_FLOWS = {Flow.CAM_LAYERED: "layered", Flow.CAM_PHOSPHATE: "phosphate"}
_FLOW_UNITS = {"t": "t/yr", "t Li": "t/yr", "t Ni": "t/yr", "t Co": "t/yr", "t Mn": "t/yr",
               "t C": "t/yr", "m2": "m2/yr", "GWh": "GWh/yr"}


@dataclass(frozen=True)
class FacilityFlow:
    """A facility's capacity on the measure of one flow.

    `families` names the cathode families a CAM or cell line can serve (both when the atlas
    does not say); `integrated` marks a plant fed from its own site (a brine or clay project
    that refines what it extracts), so it draws on no upstream flow; `needs` is the upstream
    route its output takes ("natural" graphite needs mined flake, "synthetic" does not).
    """

    facility_id: str
    flow: Flow
    amount: float
    families: tuple[Family, ...] = ()
    integrated: bool = False
    route: str = ""
    note: str = ""
    # A mine whose whole output feeds its operator's own refinery beside it: its feed is not
    # there for anyone else, and the refinery counts as integrated.
    captive: bool = False


@dataclass(frozen=True)
class Unconverted:
    facility_id: str
    reason: str


def _element_flow(basis: str, stage: Stage) -> tuple[Flow, str] | None:
    if basis in _CONTAINED:
        symbol = _CONTAINED[basis]
        mined, refined = _ELEMENT_FLOWS[symbol]
        return (mined if stage is Stage.MINING else refined), "contained_" + symbol.lower()
    if basis in BASIS_FORMULAS:
        symbol = BASIS_FORMULAS[basis][1]
        # A mine whose capacity is a refined chemical (a clay or brine project) makes it.
        return _ELEMENT_FLOWS[symbol][1], "contained_" + symbol.lower()
    return None


def _families(facility: Facility, conversions: ConversionsFile) -> tuple[Family, ...]:
    found: set[Family] = set()
    for chemistry in facility.chemistries:
        try:
            found.add(conversions.cam_for(chemistry)[0].family)
        except ValueError:
            continue  # silicon, solid_state, sodium_ion: not a lithium-ion cathode family
    for product in facility.products:
        if product in ("lfp_cam", "lmfp_cam"):
            found.add("phosphate")
        elif product in ("nmc_cam", "nca_cam", "ncma_cam", "lmo_cam"):
            found.add("layered")
    return tuple(f for f in FAMILIES if f in found) or FAMILIES


def _integrated(facility: Facility, mine_sites: set[tuple[str, str | None, str]],
                symbol: str) -> bool:
    if facility.stage is Stage.MINING or _RAW_RESOURCES & set(facility.products):
        return True
    return (facility.operator_id, facility.state_province, symbol) in mine_sites


def mine_sites(facilities: Iterable[Facility]) -> set[tuple[str, str | None, str]]:
    """(operator, state, element) of every mining facility: a refinery of the same operator in
    the same state is taken to be fed by its own mine."""
    found: set[tuple[str, str | None, str]] = set()
    for facility in facilities:
        if facility.stage is not Stage.MINING:
            continue
        for product in facility.products:
            for material in PRODUCTS[product].materials:
                symbol = SYMBOLS.get(material.value)
                if symbol in _ELEMENT_FLOWS:
                    found.add((facility.operator_id, facility.state_province, symbol))
    return found


def facility_flow(
    facility: Facility,
    sites: set[tuple[str, str | None, str]] | None = None,
    conversions: ConversionsFile | None = None,
) -> FacilityFlow | Unconverted:
    """The facility's capacity as one flow, or the reason it cannot be put on one."""
    conversions = conversions or load_conversions()
    capacity = facility.capacity
    if capacity is None:
        return Unconverted(facility.id, "no capacity in the atlas")
    basis = capacity.basis
    sites = sites if sites is not None else set()
    element = _element_flow(basis, facility.stage)
    if element is not None:
        flow, contained = element
        tonnes = Capacity(capacity.value, capacity.unit, basis).to("t/yr")
        amount = convert_mass(tonnes, basis, contained) if basis != contained else tonnes
        symbol = contained.removeprefix("contained_").capitalize()
        integrated = (flow in {f for f, _ in _ELEMENT_FLOWS.values()}
                      or facility.stage is Stage.RECYCLING or _integrated(facility, sites, symbol))
        note = "" if basis == contained else f"{basis} to contained {symbol} by stoichiometry"
        return FacilityFlow(facility.id, flow, amount, integrated=integrated, note=note)
    grade = conversions.grade_of(basis)
    if grade is not None:
        flow = Flow.LITHIUM_FEED if grade.element == "lithium" else Flow.GRAPHITE_FEED
        tonnes = Capacity(capacity.value, capacity.unit, basis).to("t/yr")
        fraction = grade.element_fraction()
        return FacilityFlow(facility.id, flow, tonnes * fraction, integrated=True,
                            note=f"{basis} x {fraction:.4f} ({grade.source})")
    flow_or_none = _BASIS_FLOWS.get(basis)
    if flow_or_none is None:
        return Unconverted(facility.id, f"capacity basis {basis!r} is not a modelled flow")
    flow = flow_or_none
    unit = _FLOW_UNITS[FLOWS[flow].unit]
    try:
        amount = Capacity(capacity.value, capacity.unit, basis).to(unit)
    except Exception:  # pint's DimensionalityError: units/yr of cells, say
        return Unconverted(facility.id,
                           f"capacity in {capacity.unit} cannot be put on {FLOWS[flow].unit}")
    families: tuple[Family, ...] = ()
    route = ""
    if basis == "cathode_materials" or flow is Flow.CELLS:
        families = _families(facility, conversions)
    elif flow in (Flow.CAM_LAYERED, Flow.CAM_PHOSPHATE):
        families = (_CAM_FLOWS[flow],)  # type: ignore[assignment]
    if basis == "cathode_materials" and families == ("phosphate",):
        flow = Flow.CAM_PHOSPHATE
    # A plant making both families is listed under layered CAM in capacity tables; the
    # network lets it serve either from one capacity.
    if flow is Flow.AAM:
        synthetic = "synthetic_graphite" in facility.products or basis == "synthetic_graphite"
        route = "synthetic" if synthetic else "natural"
    # Recyclers make their output from scrap, which no flow here tracks.
    return FacilityFlow(facility.id, flow, amount, families=families, route=route,
                        integrated=facility.stage is Stage.RECYCLING)


_MINED = {mined: symbol for symbol, (mined, _refined) in _ELEMENT_FLOWS.items()}
_REFINED = {refined: symbol for symbol, (_mined, refined) in _ELEMENT_FLOWS.items()}


def _site(facility: Facility, flow: Flow) -> tuple[str, str | None, str]:
    symbol = _MINED.get(flow) or _REFINED.get(flow) or ""
    return facility.operator_id, facility.state_province, symbol


def facility_flows(
    facilities: Iterable[Facility], conversions: ConversionsFile | None = None
) -> tuple[dict[str, FacilityFlow], dict[str, Unconverted]]:
    """Every facility's flow, and those that could not be put on one."""
    facilities = list(facilities)
    conversions = conversions or load_conversions()
    sites = mine_sites(facilities)
    flows: dict[str, FacilityFlow] = {}
    unconverted: dict[str, Unconverted] = {}
    for facility in facilities:
        found = facility_flow(facility, sites, conversions)
        if isinstance(found, FacilityFlow):
            flows[facility.id] = found
        else:
            unconverted[facility.id] = found
    fed = {_site(f, flows[f.id].flow) for f in facilities if f.id in flows
           and f.stage not in (Stage.MINING, Stage.RECYCLING) and flows[f.id].integrated
           and flows[f.id].flow in _REFINED}
    for facility in facilities:
        flow = flows.get(facility.id)
        if (flow is not None and facility.stage is Stage.MINING and flow.flow in _MINED
                and _site(facility, flow.flow) in fed):
            flows[facility.id] = replace(flow, captive=True)
    return flows, unconverted
