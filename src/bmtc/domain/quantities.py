"""Unit-aware quantities and stoichiometric conversions between material bases.

Capacities arrive as tonnes of lithium hydroxide, of carbonate, of contained nickel, of
sulfate... Comparing them needs one basis; the factors follow from molar masses, so they are
computed from standard atomic weights (via `periodictable`) rather than typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import periodictable
import pint

ureg: Any = pint.UnitRegistry()
ureg.define("kilotonne = 1000 * metric_ton")
ureg.define("units = [count] = unit")
Quantity = ureg.Quantity

CAPACITY_UNITS: dict[str, str] = {
    "GWh/yr": "GWh / year",
    "MWh/yr": "MWh / year",
    "t/yr": "metric_ton / year",
    "kt/yr": "kilotonne / year",
    "m2/yr": "m**2 / year",
    "units/yr": "units / year",
}

# Formula of each basis and the element it is counted against.
BASIS_FORMULAS: dict[str, tuple[str, str]] = {
    "contained_li": ("Li", "Li"),
    "lce": ("Li2CO3", "Li"),
    "lithium_carbonate": ("Li2CO3", "Li"),
    "lithium_hydroxide": ("LiOH(H2O)", "Li"),
    "lithium_hydroxide_anhydrous": ("LiOH", "Li"),
    "contained_ni": ("Ni", "Ni"),
    "nickel_sulfate": ("NiSO4(H2O)6", "Ni"),
    "nickel_metal": ("Ni", "Ni"),
    "contained_co": ("Co", "Co"),
    "cobalt_sulfate": ("CoSO4(H2O)7", "Co"),
    "cobalt_metal": ("Co", "Co"),
    "contained_mn": ("Mn", "Mn"),
    "manganese_sulfate": ("MnSO4(H2O)", "Mn"),
}


@cache
def parse_capacity_unit(text: str) -> Any:
    """Return the pint unit for a capacity unit label; raise ValueError for unknown ones."""
    label = text.strip()
    expression = CAPACITY_UNITS.get(label)
    if expression is None:
        known = ", ".join(CAPACITY_UNITS)
        raise ValueError(f"{text!r} is not a capacity unit (one of: {known})")
    return ureg.Unit(expression)


@cache
def element_mass_fraction(basis: str) -> float:
    """Mass of the counted element per unit mass of the basis compound."""
    formula_text, element = BASIS_FORMULAS[basis]
    formula = periodictable.formula(formula_text)
    atoms = formula.atoms
    symbol = getattr(periodictable, element)
    return float(atoms[symbol] * symbol.mass / formula.mass)


def convert_mass(value: float, from_basis: str, to_basis: str) -> float:
    """Convert a mass on one basis to another that counts the same element."""
    if from_basis == to_basis:
        return value
    for basis in (from_basis, to_basis):
        if basis not in BASIS_FORMULAS:
            raise ValueError(f"{basis!r} has no stoichiometric conversion")
    if BASIS_FORMULAS[from_basis][1] != BASIS_FORMULAS[to_basis][1]:
        raise ValueError(f"{from_basis} and {to_basis} count different elements")
    element_mass = value * element_mass_fraction(from_basis)
    return element_mass / element_mass_fraction(to_basis)


@dataclass(frozen=True)
class Capacity:
    value: float
    unit: str
    basis: str
    year: int | None = None

    def quantity(self) -> Any:
        return self.value * parse_capacity_unit(self.unit)

    def to(self, unit: str, basis: str | None = None) -> float:
        """This capacity in another unit and, for masses, on another stoichiometric basis."""
        magnitude = float(self.quantity().to(parse_capacity_unit(unit)).magnitude)
        if basis is None or basis == self.basis:
            return magnitude
        return convert_mass(magnitude, self.basis, basis)
