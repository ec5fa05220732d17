"""Stage-to-stage conversions (`bmtc/data/reference/conversions.toml`): cathode make-up, ore
grades, process yields and the per-kWh needs of cell components.

What chemistry fixes exactly (pCAM per tonne of CAM, lithium in LiPF6, the lithium in a 6% Li2O
concentrate) is computed from formulas with standard atomic weights; what only a source can say
is read from the file with its citation. Every derived factor returns the figures it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import ClassVar, Literal, Self

import periodictable
from pydantic import Field, model_validator

from bmtc.analysis.reference import (
    Chemistry,
    Keys,
    Reference,
    ReferenceFile,
    Sourced,
    load_file,
    load_reference,
    reference_folder,
)
from bmtc.domain.vocab import Confidence

Family = Literal["layered", "phosphate"]
FAMILIES: tuple[Family, ...] = ("layered", "phosphate")
CamElement = Literal["lithium", "nickel", "cobalt", "manganese", "aluminum", "iron"]
SYMBOLS: dict[str, str] = {
    "lithium": "Li", "nickel": "Ni", "cobalt": "Co", "manganese": "Mn", "aluminum": "Al",
    "iron": "Fe", "graphite": "C",
}
# Metals a precursor carries into the CAM (lithium, oxygen and phosphate come with other inputs).
_PRECURSOR_METALS = frozenset({"Ni", "Mn", "Co", "Al", "Fe"})
YieldStep = Literal[
    "lithium_refining", "nickel_refining", "cobalt_refining", "manganese_refining",
    "graphite_spheronisation",
]
CellInputName = Literal["electrolyte", "separator", "copper_foil", "aluminum_foil"]
_WEAKNESS = {
    Confidence.PRIMARY: 0, Confidence.SECONDARY: 1, Confidence.UNCERTAIN: 2,
    Confidence.UNSOURCED: 3,
}


def weakest(*levels: Confidence) -> Confidence:
    return max(levels, key=_WEAKNESS.__getitem__)


def _formula_mass(formula: str) -> float:
    return float(periodictable.formula(formula).mass)


def _metal_atoms(formula: str) -> float:
    atoms = periodictable.formula(formula).atoms
    return float(sum(count for element, count in atoms.items()
                     if element.symbol in _PRECURSOR_METALS))


def stoichiometric_fraction(formula: str, element: str) -> float:
    """Mass fraction of `element` (a name such as "lithium") in `formula`."""
    compound = periodictable.formula(formula)
    symbol = getattr(periodictable, SYMBOLS[element])
    count = compound.atoms.get(symbol, 0)
    return float(count * symbol.mass / compound.mass)


class Ranged(Sourced):
    low: float | None = Field(default=None, ge=0)
    high: float | None = Field(default=None, ge=0)

    def _check_range(self, value: float) -> None:
        points = [v for v in (self.low, value, self.high) if v is not None]
        if points != sorted(points):
            raise ValueError("low <= value <= high does not hold")


class Cam(Sourced):
    chemistry: Chemistry
    family: Family
    formula: str
    precursor_formula: str
    fractions: dict[CamElement, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _formulas(self) -> Self:
        for text in (self.formula, self.precursor_formula):
            try:
                _formula_mass(text)
            except Exception as exc:  # periodictable raises several parser errors
                raise ValueError(f"formula {text!r} does not parse: {exc}") from None
        for element, value in self.fractions.items():
            if not 0 < value < 1:
                raise ValueError(f"fraction of {element} must lie between 0 and 1")
        return self

    def fraction(self, element: str) -> tuple[float, bool]:
        """kg of element per kg CAM, and whether it was computed rather than sourced."""
        if element in self.fractions:
            return self.fractions[element], False
        return stoichiometric_fraction(self.formula, element), True

    def precursor_per_cam(self) -> float:
        """Tonnes of precursor (pCAM or iron phosphate) per tonne of CAM, by stoichiometry:
        the precursor carries the CAM's transition metals (and aluminium) atom for atom, so
        Mn3O4 gives LiMn2O4 in the ratio 2:3."""
        cam_metals = _metal_atoms(self.formula)
        precursor_metals = _metal_atoms(self.precursor_formula)
        units = cam_metals / precursor_metals
        return units * _formula_mass(self.precursor_formula) / _formula_mass(self.formula)


class Proxy(Sourced):
    chemistry: Chemistry
    uses: Chemistry


class Grade(Sourced):
    basis: str
    element: str
    fraction: float | None = Field(default=None, gt=0, le=1)
    oxide_formula: str | None = None
    oxide_pct: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.fraction is None) == (self.oxide_pct is None or self.oxide_formula is None):
            raise ValueError("give either `fraction`, or `oxide_formula` with `oxide_pct`")
        return self

    def element_fraction(self) -> float:
        if self.fraction is not None:
            return self.fraction
        assert self.oxide_formula is not None and self.oxide_pct is not None
        return self.oxide_pct / 100 * stoichiometric_fraction(self.oxide_formula, self.element)


class Yield(Ranged):
    step: YieldStep
    value: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _range(self) -> Self:
        self._check_range(self.value)
        return self


class CellInput(Ranged):
    input: CellInputName
    per_kwh: float = Field(gt=0)
    unit: Literal["kg", "m2"]
    chemistry_family: Family | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        self._check_range(self.per_kwh)
        return self


class ComponentInput(Ranged):
    output: Literal["electrolyte"]
    input: Literal["lipf6"]
    per_tonne: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _range(self) -> Self:
        self._check_range(self.per_tonne)
        return self


class ConversionsFile(ReferenceFile):
    cam: tuple[Cam, ...]
    proxy: tuple[Proxy, ...] = ()
    grade: tuple[Grade, ...] = ()
    yield_: tuple[Yield, ...] = Field(default=(), alias="yield")
    cell_input: tuple[CellInput, ...] = ()
    component_input: tuple[ComponentInput, ...] = ()

    unique_by: ClassVar[Keys] = {
        "cam": lambda c: c.chemistry,
        "proxy": lambda p: p.chemistry,
        "grade": lambda g: g.basis,
        "yield_": lambda y: y.step,
        "cell_input": lambda c: (c.input, c.chemistry_family),
        "component_input": lambda c: (c.output, c.input),
    }

    @model_validator(mode="after")
    def _proxies_resolve(self) -> Self:
        own = {c.chemistry for c in self.cam}
        for proxy in self.proxy:
            if proxy.uses not in own:
                raise ValueError(f"proxy {proxy.chemistry}: {proxy.uses!r} has no [[cam]] entry")
            if proxy.chemistry in own:
                raise ValueError(f"proxy {proxy.chemistry}: it has its own [[cam]] entry")
        return self

    def cam_for(self, chemistry: str) -> tuple[Cam, Proxy | None]:
        for cam in self.cam:
            if cam.chemistry == chemistry:
                return cam, None
        for proxy in self.proxy:
            if proxy.chemistry == chemistry:
                return self.cam_for(proxy.uses)[0], proxy
        known = sorted({c.chemistry for c in self.cam} | {p.chemistry for p in self.proxy})
        raise ValueError(f"no cathode make-up for chemistry {chemistry!r} (one of: {known})")

    def yield_of(self, step: str) -> Yield:
        for entry in self.yield_:
            if entry.step == step:
                return entry
        raise KeyError(f"no yield for {step!r} in conversions.toml")

    def grade_of(self, basis: str) -> Grade | None:
        return next((g for g in self.grade if g.basis == basis), None)

    def cell_input_for(self, name: str, family: str | None) -> CellInput:
        rows = [c for c in self.cell_input if c.input == name]
        exact = [c for c in rows if c.chemistry_family == family]
        generic = [c for c in rows if c.chemistry_family is None]
        found = exact or generic
        if not found:
            raise KeyError(f"no per-kWh figure for {name!r} in conversions.toml")
        return found[0]

    def lipf6_share(self) -> ComponentInput:
        for entry in self.component_input:
            if entry.output == "electrolyte" and entry.input == "lipf6":
                return entry
        raise KeyError("no LiPF6 share of electrolyte in conversions.toml")


@cache
def load_conversions() -> ConversionsFile:
    """The stage conversions shipped with bmtc; loading validates them."""
    return load_file(reference_folder() / "conversions.toml", ConversionsFile)


@dataclass(frozen=True)
class Derived:
    """A derived factor and what it rests on."""

    value: float
    source: str
    confidence: Confidence
    note: str = ""


def cam_per_kwh(chemistry: str, conversions: ConversionsFile | None = None,
                ref: Reference | None = None) -> Derived:
    """kg of cathode active material per kWh: the per-kWh lithium (or, without a lithium
    figure, nickel or manganese) of the intensity table divided by that element's share of the
    CAM. Both figures come from sources; the quotient is as strong as the weaker."""
    conversions = conversions or load_conversions()
    ref = ref or load_reference()
    cam, proxy = conversions.cam_for(chemistry)
    intensities = ref.intensity.for_chemistry(chemistry)
    for element in ("lithium", "nickel", "manganese"):
        intensity = intensities.get(element)
        if intensity is None or not intensity.kg_per_kwh:
            continue
        fraction, computed = cam.fraction(element)
        if fraction <= 0:
            continue
        notes = [f"{element} {intensity.kg_per_kwh:g} kg/kWh / {fraction:.3f} kg per kg CAM"]
        if computed:
            notes.append(f"{element} share of {cam.formula} computed by stoichiometry")
        if proxy is not None:
            notes.append(f"CAM make-up of {proxy.uses} used for {chemistry}")
        confidence = weakest(intensity.confidence, cam.confidence,
                             *(p.confidence for p in (proxy,) if p is not None))
        return Derived(intensity.kg_per_kwh / fraction,
                       f"{intensity.source} | {cam.source}", confidence, "; ".join(notes))
    raise ValueError(f"no lithium, nickel or manganese intensity to size the CAM of {chemistry}")


def lithium_in_lipf6() -> float:
    return stoichiometric_fraction("LiPF6", "lithium")
