"""Domain core: quantities and stoichiometry, percentages, dates, places, names, validation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country, normalize_subdivision
from bmtc.domain.model import Facility, Source
from bmtc.domain.names import organization_key, slugify
from bmtc.domain.percent import PercentRange, parse_percent
from bmtc.domain.quantities import BASIS_FORMULAS, Capacity, convert_mass

SOURCE = Source(url="https://example.org/a", publisher="Example", as_of="2025-01")


# Published figures for 1 t of contained lithium on other bases: 5.323 t LCE and
# 6.046 t LiOH·H2O, ±0.5%.
@pytest.mark.parametrize(("basis", "expected"), [("lce", 5.323), ("lithium_hydroxide", 6.046)])
def test_lithium_conversions_match_reference(basis: str, expected: float) -> None:
    assert convert_mass(1.0, "contained_li", basis) == pytest.approx(expected, rel=0.005)


@pytest.mark.parametrize(
    ("basis", "element", "expected"),
    # Molar-mass ratios: NiSO4·6H2O 262.85/58.69, CoSO4·7H2O 281.10/58.93, MnSO4·H2O 169.02/54.94
    [("nickel_sulfate", "contained_ni", 4.479), ("cobalt_sulfate", "contained_co", 4.770),
     ("manganese_sulfate", "contained_mn", 3.077)],
)
def test_sulfate_conversions(basis: str, element: str, expected: float) -> None:
    assert convert_mass(1.0, element, basis) == pytest.approx(expected, rel=0.001)


def test_lce_to_hydroxide_and_refusal_across_elements() -> None:
    assert convert_mass(1.0, "lce", "lithium_hydroxide") == pytest.approx(6.046 / 5.323,
                                                                          rel=0.001)
    with pytest.raises(ValueError, match="different elements"):
        convert_mass(1.0, "contained_ni", "lce")
    with pytest.raises(ValueError, match="no stoichiometric conversion"):
        convert_mass(1.0, "nmc_cam", "lce")


@given(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.sampled_from(["contained_li", "lce", "lithium_hydroxide", "lithium_carbonate"]),
    st.sampled_from(["contained_li", "lce", "lithium_hydroxide", "lithium_carbonate"]),
)
def test_conversion_round_trip(value: float, a: str, b: str) -> None:
    assert convert_mass(convert_mass(value, a, b), b, a) == pytest.approx(value, rel=1e-9,
                                                                          abs=1e-9)


def test_capacity_units() -> None:
    assert Capacity(500, "MWh/yr", "li_ion_cells").to("GWh/yr") == pytest.approx(0.5)
    assert Capacity(20, "kt/yr", "lithium_hydroxide").to("t/yr", "lce") == pytest.approx(
        20000 * 5.323 / 6.046, rel=0.001)
    with pytest.raises(Exception, match="Cannot convert"):
        Capacity(1, "GWh/yr", "li_ion_cells").to("t/yr")
    with pytest.raises(ValueError, match="is not a capacity unit"):
        Capacity(1, "MT/yr", "li_ion_cells").to("t/yr")
    assert set(BASIS_FORMULAS) >= {"lce", "contained_ni", "nickel_sulfate"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("53.9", PercentRange(53.9, 53.9)), ("53.9%", PercentRange(53.9, 53.9)),
     ("25-50", PercentRange(25, 50)), ("25 \u2013 50%", PercentRange(25, 50)),
     (">=10", PercentRange(10, 100)), (">50", PercentRange(50, 100, low_open=True)),
     ("majority", PercentRange(50, 100, low_open=True)), ("<5", PercentRange(0, 5,
                                                                             high_open=True))],
)
def test_parse_percent(text: str, expected: PercentRange) -> None:
    assert parse_percent(text) == expected


@pytest.mark.parametrize("text", ["abc", "150", "50-25", "-5", "", "1e5"])
def test_parse_percent_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_percent(text)


percent_ranges = st.builds(
    lambda a, b, lo, hi: PercentRange(min(a, b), max(a, b), lo and a != b, hi and a != b),
    st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)),
    st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)),
    st.booleans(), st.booleans(),
).filter(lambda p: p.is_exact or (p.low == 0 and not p.low_open) or
         (p.high == 100 and not p.high_open) or (not p.low_open and not p.high_open))


@given(percent_ranges)
def test_percent_text_round_trip(value: PercentRange) -> None:
    assert parse_percent(str(value)) == value


@given(st.text(max_size=12))
def test_parse_percent_never_crashes(text: str) -> None:
    try:
        result = parse_percent(text)
    except ValueError:
        return
    assert 0 <= result.low <= result.high <= 100


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 12, 31)), st.integers(1, 3))
def test_partial_dates_round_trip(day: object, precision: int) -> None:
    text = str(day)[: {1: 4, 2: 7, 3: 10}[precision]]
    assert parse_partial_date(text) == text


@pytest.mark.parametrize("text", ["2025-13", "2025-02-30", "25-01", "2025/01", "abc", "0999"])
def test_partial_dates_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_partial_date(text)


def test_places() -> None:
    assert normalize_country("United States") == "US"
    assert normalize_country("México") == "MX"
    assert normalize_country("usa") == "US"
    assert normalize_subdivision("MX", "N.L.") == "NLE"
    assert normalize_subdivision("MX", "Nuevo León") == "NLE"
    assert normalize_subdivision("CA", "Québec") == "QC"
    assert normalize_subdivision("US", " Tennessee ") == "TN"
    assert normalize_subdivision("US", "US-TN") == "TN"
    with pytest.raises(ValueError, match="not a state or province of US"):
        normalize_subdivision("US", "Ontario")
    with pytest.raises(ValueError, match="not a known country"):
        normalize_country("Atlantis")


def test_organization_keys_ignore_legal_form() -> None:
    assert organization_key("Cabot Corp.") == organization_key("Cabot Corporation ") == "cabot"
    assert organization_key("LG Energy Solution, Ltd.") == "lg-energy-solution"
    assert slugify("Bécancour LiOH plant") == "becancour-lioh-plant"


def _facility(**changes: object) -> Facility:
    values: dict[str, object] = dict(
        id="f1", name="Plant", operator_id="op", stage="cell", products=("li_ion_cells",),
        country="US", state_province="TN", latitude=36.0, longitude=-86.0, status="operating",
        status_as_of="2025-01", source=SOURCE,
    )
    values.update(changes)
    return Facility(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"latitude": -86.0, "longitude": 36.0}, "look swapped"),
     ({"products": ("unobtainium",)}, "not a product code"),
     ({"state_province": "QC"}, "not a state or province of US"),
     ({"capacity": Capacity(1, "MT/yr", "li_ion_cells")}, "capacity_unit"),
     ({"capacity": Capacity(1, "t/yr", "rocks")}, "capacity_basis"),
     ({"capacity": Capacity(-1, "t/yr", "feedstock")}, "negative"),
     ({"latitude": None}, "together"),
     ({"name": "bad\x00name"}, "control characters"),
     ({"status": "dreaming"}, "status")],
)
def test_facility_validation(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _facility(**changes)


def test_facility_text_is_tidied() -> None:
    facility = _facility(name="  Plant  ", notes="line one\r\nline two", city="  ")
    assert facility.name == "Plant"
    assert facility.notes == "line one\nline two"
    assert facility.city is None
