"""Battery demand (GWh) to material requirements (tonnes), and the named demand presets.

Pure arithmetic over the reference intensities: GWh x kg/kWh gives tonnes, because
1 GWh = 10^6 kWh and 1 t = 1,000 kg. Lithium is also stated as LCE and LiOH.H2O through the
stoichiometric factors of `bmtc.domain.quantities`. Every result carries the citation and
confidence of the intensity it used, so a tonnage is never quoted without what it rests on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from bmtc.analysis.reference import (
    Bound,
    Chemistry,
    Intensity,
    Keys,
    Reference,
    ReferenceFile,
    Region,
    Sourced,
    Strict,
    load_file,
    load_reference,
    reference_folder,
)
from bmtc.domain.quantities import convert_mass
from bmtc.domain.vocab import Confidence

Tonnes = float

TONNES_PER_GWH_PER_KG_PER_KWH = 1_000.0
MIX_TOLERANCE = 1e-9
# Extra lithium bases reported beside contained Li: key, `quantities` basis.
LITHIUM_BASES: tuple[tuple[str, str], ...] = (
    ("lithium_as_lce", "lce"),
    ("lithium_as_lioh_h2o", "lithium_hydroxide"),
)
_WEAKNESS = {
    Confidence.PRIMARY: 0, Confidence.SECONDARY: 1, Confidence.UNCERTAIN: 2,
    Confidence.UNSOURCED: 3,
}


@dataclass(frozen=True)
class Requirement:
    """Tonnes of one material on one basis ("contained", or a lithium compound basis).

    `missing` lists chemistries of a mix that have no figure for this material: the tonnage is
    then a floor, not a total.
    """

    material: str
    tonnes: Tonnes
    basis: str
    source: str
    confidence: Confidence
    missing: tuple[str, ...] = ()


def _check_gwh(gwh: float) -> None:
    if not math.isfinite(gwh) or gwh < 0:
        raise ValueError(f"demand must be a finite, non-negative GWh figure, not {gwh!r}")


def _from_intensity(gwh: float, intensity: Intensity) -> list[tuple[str, Requirement]]:
    assert intensity.kg_per_kwh is not None
    tonnes = gwh * intensity.kg_per_kwh * TONNES_PER_GWH_PER_KG_PER_KWH
    material = intensity.material
    basis = "contained_li" if material == "lithium" else "contained"
    found = [(material, Requirement(material, tonnes, basis, intensity.source,
                                    intensity.confidence))]
    if material == "lithium":
        for key, other in LITHIUM_BASES:
            converted = convert_mass(tonnes, "contained_li", other)
            found.append((key, Requirement(material, converted, other, intensity.source,
                                           intensity.confidence)))
    return found


def requirements(
    gwh: float, chemistry: str, ref: Reference | None = None
) -> dict[str, Requirement]:
    """Material needed for `gwh` of batteries of one chemistry, keyed by material (lithium
    also as `lithium_as_lce` and `lithium_as_lioh_h2o`).

    Entries that are only ranges or bounds (separator, electrolyte) give no tonnage and are
    left out.
    """
    _check_gwh(gwh)
    ref = ref or load_reference()
    found: dict[str, Requirement] = {}
    for intensity in ref.intensity.for_chemistry(chemistry.strip().lower()).values():
        if intensity.kg_per_kwh is not None:
            found.update(_from_intensity(gwh, intensity))
    return found


def _check_mix(mix: Mapping[str, float]) -> None:
    if not mix:
        raise ValueError("a chemistry mix needs at least one chemistry")
    for chemistry, share in mix.items():
        if not math.isfinite(share) or share < 0:
            raise ValueError(f"share of {chemistry!r} must be a non-negative number, not {share}")
    total = math.fsum(mix.values())
    if abs(total - 1) > MIX_TOLERANCE:
        raise ValueError(f"chemistry shares sum to {total!r}, not 1")


def _merge(parts: list[Requirement], missing: tuple[str, ...]) -> Requirement:
    sources = list(dict.fromkeys(p.source for p in parts))
    weakest = max((p.confidence for p in parts), key=_WEAKNESS.__getitem__)
    first = parts[0]
    return Requirement(first.material, math.fsum(p.tonnes for p in parts), first.basis,
                       " | ".join(sources), weakest, missing)


def requirements_for_mix(
    gwh: float, mix: Mapping[str, float], ref: Reference | None = None
) -> dict[str, Requirement]:
    """Material needed for `gwh` of batteries split across chemistries by `mix` (shares that
    sum to 1). A material's confidence is the weakest of the intensities it sums."""
    _check_gwh(gwh)
    _check_mix(mix)
    ref = ref or load_reference()
    # A chemistry at share 0 contributes nothing, so neither its source nor its gaps count.
    per_chemistry = {
        chemistry: requirements(gwh * share, chemistry, ref)
        for chemistry, share in mix.items() if share > 0
    }
    keys = list(dict.fromkeys(k for found in per_chemistry.values() for k in found))
    merged: dict[str, Requirement] = {}
    for key in keys:
        parts = [found[key] for found in per_chemistry.values() if key in found]
        missing = tuple(sorted(c for c, found in per_chemistry.items() if key not in found))
        merged[key] = _merge(parts, missing)
    return merged


# Demand presets and North American cell capacity (`demand_presets.toml`) -----------------

class DemandPoint(Sourced):
    gwh: float = Field(ge=0)
    ev_share: float | None = Field(default=None, ge=0, le=1)
    forecast: bool = False


class MixShare(Sourced):
    chemistry: Chemistry
    share: float = Field(ge=0, le=1)
    constructed: bool = False


class Preset(Strict):
    id: str
    title: str
    region: Region
    segment: Literal["ev", "stationary", "total"]
    point: tuple[DemandPoint, ...] = Field(min_length=1)
    mix: tuple[MixShare, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Self:
        years = [p.year for p in self.point]
        if len(set(years)) != len(years):
            raise ValueError("two points for the same year")
        if self.mix and abs(math.fsum(m.share for m in self.mix) - 1) > MIX_TOLERANCE:
            raise ValueError("mix shares do not sum to 1")
        return self


class CellCapacity(Sourced):
    id: str
    region: Region
    gwh: float = Field(ge=0)
    bound: Bound = "about"
    measure: str
    kwh_per_ev: tuple[float, ...] = ()
    ev_millions: tuple[float, ...] = ()


class DemandFile(ReferenceFile):
    preset: tuple[Preset, ...]
    capacity: tuple[CellCapacity, ...] = ()

    unique_by: ClassVar[Keys] = {"preset": lambda p: p.id, "capacity": lambda c: c.id}


@cache
def load_presets() -> DemandFile:
    """The demand presets shipped with bmtc; loading validates them."""
    return load_file(reference_folder() / "demand_presets.toml", DemandFile)
