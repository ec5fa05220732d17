"""What one GWh of cells, one tonne of CAM, one tonne of pCAM... needs from the stage before.

A recipe is built for a chemistry mix within each cathode family (layered oxides, phosphates):
the family's needs are the GWh-weighted average of its chemistries. Every coefficient keeps the
source and confidence it was derived from, so a bound can list what it rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bmtc.analysis.conversions import (
    FAMILIES,
    ConversionsFile,
    Derived,
    Family,
    cam_per_kwh,
    lithium_in_lipf6,
    load_conversions,
    weakest,
)
from bmtc.analysis.flows import Flow
from bmtc.analysis.reference import Reference, load_reference
from bmtc.domain.vocab import Confidence

DEFAULT_FAMILY_MIX: dict[Family, dict[str, float]] = {
    "layered": {"nmc811": 1.0},
    "phosphate": {"lfp": 1.0},
}
KG_PER_KWH_TO_T_PER_GWH = 1_000.0
M2_PER_KWH_TO_M2_PER_GWH = 1_000_000.0
FEED_OF: dict[Flow, tuple[Flow, str]] = {
    Flow.LITHIUM_CHEMICAL: (Flow.LITHIUM_FEED, "lithium_refining"),
    Flow.NICKEL_CHEMICAL: (Flow.NICKEL_FEED, "nickel_refining"),
    Flow.COBALT_CHEMICAL: (Flow.COBALT_FEED, "cobalt_refining"),
    Flow.MANGANESE_CHEMICAL: (Flow.MANGANESE_FEED, "manganese_refining"),
}
CELL_COMPONENTS: dict[Flow, str] = {
    Flow.ELECTROLYTE: "electrolyte", Flow.SEPARATOR: "separator",
    Flow.COPPER_FOIL: "copper_foil", Flow.ALUMINUM_FOIL: "aluminum_foil",
}
_PCAM_ELEMENTS = {Flow.NICKEL_CHEMICAL: "nickel", Flow.COBALT_CHEMICAL: "cobalt",
                  Flow.MANGANESE_CHEMICAL: "manganese"}


@dataclass(frozen=True)
class Recipe:
    """Input coefficients. `cell[family][flow]` is per GWh of cells; `cam[family][flow]` per
    tonne of CAM; `pcam[flow]` per tonne of pCAM; `feed[chemical]` is tonnes of mined element
    per tonne refined (1 / recovery)."""

    family_mix: dict[Family, dict[str, float]]
    cell: dict[Family, dict[Flow, Derived]]
    cam: dict[Family, dict[Flow, Derived]]
    pcam: dict[Flow, Derived]
    feed: dict[Flow, Derived]
    aam_feed: Derived
    lipf6_lithium: Derived
    electrolyte_lipf6: Derived

    def coefficients(self) -> list[tuple[str, Derived]]:
        """Every coefficient with a label, for listing what a result rests on."""
        rows: list[tuple[str, Derived]] = []
        for family in FAMILIES:
            rows += [(f"{flow.value} per GWh of {family} cells", d)
                     for flow, d in self.cell[family].items()]
            rows += [(f"{flow.value} per t of {family} CAM", d)
                     for flow, d in self.cam[family].items()]
        rows += [(f"{flow.value} per t of pCAM", d) for flow, d in self.pcam.items()]
        rows += [(f"{flow.value} per t refined", d) for flow, d in self.feed.items()]
        rows += [("graphite feed per t of natural AAM", self.aam_feed),
                 ("lithium per t of LiPF6", self.lipf6_lithium),
                 ("LiPF6 per t of electrolyte", self.electrolyte_lipf6)]
        return rows

    def weakest_confidence(self) -> Confidence:
        return weakest(*(d.confidence for _label, d in self.coefficients()))


def _average(parts: list[tuple[float, Derived]]) -> Derived:
    total = sum(w for w, _ in parts)
    value = sum(w * d.value for w, d in parts) / total
    sources = " | ".join(dict.fromkeys(d.source for _, d in parts))
    notes = "; ".join(dict.fromkeys(d.note for _, d in parts if d.note))
    return Derived(value, sources, weakest(*(d.confidence for _, d in parts)), notes)


def _check_mix(family_mix: Mapping[Family, Mapping[str, float]],
               conversions: ConversionsFile) -> None:
    for family, mix in family_mix.items():
        if not mix or any(share < 0 for share in mix.values()) or sum(mix.values()) <= 0:
            raise ValueError(f"{family} chemistry mix needs positive shares")
        for chemistry in mix:
            own = conversions.cam_for(chemistry)[0].family
            if own != family:
                raise ValueError(f"{chemistry} is a {own} chemistry, not {family}")


def build_recipe(
    family_mix: Mapping[Family, Mapping[str, float]] | None = None,
    conversions: ConversionsFile | None = None,
    ref: Reference | None = None,
) -> Recipe:
    conversions = conversions or load_conversions()
    ref = ref or load_reference()
    mix: dict[Family, dict[str, float]] = {f: dict(m) for f, m in
                                           (family_mix or DEFAULT_FAMILY_MIX).items()}
    for family in FAMILIES:
        mix.setdefault(family, dict(DEFAULT_FAMILY_MIX[family]))
    _check_mix(mix, conversions)
    cell: dict[Family, dict[Flow, Derived]] = {}
    cam: dict[Family, dict[Flow, Derived]] = {}
    pcam_parts: dict[Flow, list[tuple[float, Derived]]] = {f: [] for f in _PCAM_ELEMENTS}
    for family in FAMILIES:
        cam_parts: list[tuple[float, Derived]] = []
        aam_parts: list[tuple[float, Derived]] = []
        li_parts: list[tuple[float, Derived]] = []
        pre_parts: list[tuple[float, Derived]] = []
        for chemistry, share in mix[family].items():
            if share == 0:
                continue
            per_kwh = cam_per_kwh(chemistry, conversions, ref)
            cam_parts.append((share, Derived(per_kwh.value * KG_PER_KWH_TO_T_PER_GWH,
                                             per_kwh.source, per_kwh.confidence, per_kwh.note)))
            graphite = ref.intensity.for_chemistry(chemistry).get("graphite")
            if graphite is not None and graphite.kg_per_kwh is not None:
                aam_parts.append((share, Derived(graphite.kg_per_kwh * KG_PER_KWH_TO_T_PER_GWH,
                                                 graphite.source, graphite.confidence)))
            entry, _proxy = conversions.cam_for(chemistry)
            weight = share * per_kwh.value  # CAM tonnes: averages per tonne weigh by mass
            lithium, computed = entry.fraction("lithium")
            li_parts.append((weight, Derived(lithium, entry.source, entry.confidence,
                                             "stoichiometric" if computed else "")))
            ratio = entry.precursor_per_cam()
            pre_parts.append((weight, Derived(ratio, f"stoichiometry {entry.precursor_formula} "
                                              f"per {entry.formula}", Confidence.PRIMARY)))
            if family == "layered":
                # Per tonne of pCAM, so chemistries weigh by the pCAM they need.
                pcam_weight = weight * ratio
                for flow, element in _PCAM_ELEMENTS.items():
                    fraction, computed = entry.fraction(element)
                    pcam_parts[flow].append((pcam_weight, Derived(
                        fraction / ratio, entry.source, entry.confidence,
                        f"{element} share of CAM / pCAM per CAM")))
        precursor = Flow.PCAM if family == "layered" else Flow.IRON_PHOSPHATE
        cam_flow = Flow.CAM_LAYERED if family == "layered" else Flow.CAM_PHOSPHATE
        cell[family] = {cam_flow: _average(cam_parts)}
        if aam_parts:
            cell[family][Flow.AAM] = _average(aam_parts)
        for flow, name in CELL_COMPONENTS.items():
            row = conversions.cell_input_for(name, family)
            scale = M2_PER_KWH_TO_M2_PER_GWH if row.unit == "m2" else KG_PER_KWH_TO_T_PER_GWH
            cell[family][flow] = Derived(row.per_kwh * scale, row.source, row.confidence)
        cam[family] = {Flow.LITHIUM_CHEMICAL: _average(li_parts), precursor: _average(pre_parts)}
    feed: dict[Flow, Derived] = {}
    for chemical, (_feed_flow, step) in FEED_OF.items():
        recovery = conversions.yield_of(step)
        feed[chemical] = Derived(1 / recovery.value, recovery.source, recovery.confidence,
                                 f"1 / {recovery.value:g} recovery")
    spheronisation = conversions.yield_of("graphite_spheronisation")
    lipf6 = conversions.lipf6_share()
    return Recipe(
        family_mix=mix, cell=cell, cam=cam,
        pcam={flow: _average(parts) for flow, parts in pcam_parts.items() if parts},
        feed=feed,
        aam_feed=Derived(1 / spheronisation.value, spheronisation.source,
                         spheronisation.confidence, f"1 / {spheronisation.value:g} yield"),
        lipf6_lithium=Derived(lithium_in_lipf6(), "stoichiometry of LiPF6", Confidence.PRIMARY),
        electrolyte_lipf6=Derived(lipf6.per_tonne, lipf6.source, lipf6.confidence),
    )
