"""Model checks: published figures the model must reproduce within stated tolerances, from
the bundled reference data, plus the properties the demand calculator must keep."""

from __future__ import annotations

import math
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc.analysis.demand import load_presets, requirements, requirements_for_mix
from bmtc.analysis.reference import (
    Reference,
    ReferenceDataError,
    load_reference,
    load_reference_from,
)
from bmtc.domain.quantities import convert_mass
from bmtc.domain.vocab import Confidence, Material, Stage

REF = load_reference()
BUNDLED = Path(__file__).resolve().parent.parent / "src" / "bmtc" / "data" / "reference"
CHEMS = sorted({i.chemistry for i in REF.intensity.intensity if i.kg_per_kwh is not None})


def within(value: float, expected: float, rel: float) -> bool:
    return abs(value - expected) <= rel * abs(expected)


# Check 1 -------------------------------------------------------------------------------------

def test_check1_lithium_for_100_gwh_nmc811() -> None:
    found = requirements(100, "nmc811")
    assert within(found["lithium"].tonnes, 9_980, 0.10)
    assert within(found["lithium_as_lce"].tonnes, 53_000, 0.10)
    assert found["lithium"].confidence is Confidence.SECONDARY
    assert "BatPaC 5.1" in found["lithium"].source


# Check 2 -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("chemistry", "expected"), [
    ("nmc111", 34_100), ("nmc622", 18_300), ("nmc811", 8_300), ("nca", 13_400), ("lfp", 0),
])
def test_check2_cobalt_thrifting(chemistry: str, expected: float) -> None:
    assert within(requirements(100, chemistry)["cobalt"].tonnes, expected, 0.10)


def test_check2_cobalt_ratio_nmc111_to_nmc811() -> None:
    nmc111, nmc811 = (requirements(100, c)["cobalt"].tonnes for c in ("nmc111", "nmc811"))
    ratio = nmc111 / nmc811
    assert within(ratio, 4.1, 0.10)


# Check 3 -------------------------------------------------------------------------------------

def test_check3_graphite_for_100_gwh() -> None:
    assert within(requirements(100, "nmc811")["graphite"].tonnes, 92_400, 0.15)
    assert within(requirements(100, "lfp")["graphite"].tonnes, 98_500, 0.15)
    for chemistry in CHEMS:
        graphite = requirements(100, chemistry).get("graphite")
        if graphite is not None and graphite.tonnes > 0:
            assert 85_000 * 0.85 <= graphite.tonnes <= 99_000 * 1.15, chemistry


# Check 4 -------------------------------------------------------------------------------------

def test_check4_unit_conversions() -> None:
    assert within(convert_mass(1, "contained_li", "lce"), 5.323, 0.005)
    assert within(convert_mass(1, "contained_li", "lithium_hydroxide"), 6.046, 0.005)
    assert within(convert_mass(5.323, "lce", "lithium_hydroxide"), 6.046, 0.005)
    found = requirements(1, "nmc811")
    li = found["lithium"].tonnes
    assert within(found["lithium_as_lce"].tonnes, li * 5.323, 0.005)
    assert within(found["lithium_as_lioh_h2o"].tonnes, li * 6.046, 0.005)


# Check 5 -------------------------------------------------------------------------------------

def test_check5_capacity_to_vehicles() -> None:
    argonne = next(c for c in load_presets().capacity if c.id == "na-2030-argonne-2024-03")
    assert argonne.gwh == 1_200
    kwh = Fraction(argonne.gwh) * 10**6
    vehicles = [kwh / Fraction(per_ev) for per_ev in argonne.kwh_per_ev]
    assert vehicles == [Fraction(m) * 10**6 for m in argonne.ev_millions]
    assert vehicles == [12_000_000, 15_000_000]


# Check 6 -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("share_id", "expected_pct"), [
    ("co-mining-cd-2024", 76), ("co-mining-id-2024", 10), ("li-mining-au-2024", 37),
])
def test_check6_mining_concentration(share_id: str, expected_pct: float) -> None:
    share = next(s for s in REF.shares.share if s.id == share_id)
    assert share.amount is not None and share.total is not None
    assert abs(share.fraction() * 100 - expected_pct) <= 2
    assert share.share_pct is not None and abs(share.fraction() * 100 - share.share_pct) <= 2


# Check 7 -------------------------------------------------------------------------------------

def test_check7_megafactory_concentration() -> None:
    rows = {s.country: s for s in REF.shares.share if s.id.startswith("megafactories-")}
    assert rows["CN"].confidence is Confidence.PRIMARY
    assert rows["CN"].amount is not None and rows["CN"].total == 200
    assert rows["north_america"].amount is not None
    assert Fraction(int(rows["CN"].amount), 200) == Fraction(74, 100)
    assert Fraction(int(rows["north_america"].amount), 200) == Fraction(55, 1000)


# Check 8 -------------------------------------------------------------------------------------

RISK_MINERALS = (Material.LITHIUM, Material.NICKEL, Material.COBALT, Material.MANGANESE,
                 Material.GRAPHITE)


def _risk(ref: Reference, mineral: Material, stages: tuple[Stage, ...]) -> float:
    concentration = max(ref.shares.top(stage, mineral).fraction() for stage in stages)
    return concentration * ref.reliance.latest(mineral).nir_pct / 100


def test_check8_import_reliance_values() -> None:
    latest = {m: REF.reliance.latest(m) for m in RISK_MINERALS}
    assert latest[Material.GRAPHITE].nir_pct == 100
    assert latest[Material.MANGANESE].nir_pct == 100
    assert latest[Material.COBALT].nir_pct == 76
    assert latest[Material.LITHIUM].nir_pct == 50 and latest[Material.LITHIUM].bound == "above"


@pytest.mark.parametrize("stages", [(Stage.REFINING,), (Stage.MINING, Stage.REFINING)])
def test_check8_four_highest_risks(stages: tuple[Stage, ...]) -> None:
    ranked = sorted(RISK_MINERALS, key=lambda m: _risk(REF, m, stages), reverse=True)
    assert set(ranked[:4]) == {Material.GRAPHITE, Material.MANGANESE, Material.COBALT,
                               Material.LITHIUM}


# Properties ----------------------------------------------------------------------------------

gwh_values = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def mixes(draw: st.DrawFn) -> dict[str, float]:
    chosen = draw(st.lists(st.sampled_from(CHEMS), min_size=1, max_size=4, unique=True))
    weights = draw(st.lists(st.floats(min_value=0.01, max_value=1), min_size=len(chosen),
                            max_size=len(chosen)))
    total = math.fsum(weights)
    return {c: w / total for c, w in zip(chosen, weights, strict=True)}


@settings(max_examples=60, deadline=None)
@given(gwh=gwh_values, mix=mixes())
def test_doubling_demand_doubles_every_requirement(gwh: float, mix: dict[str, float]) -> None:
    once = requirements_for_mix(gwh, mix)
    twice = requirements_for_mix(2 * gwh, mix)
    assert once.keys() == twice.keys()
    for key, req in once.items():
        assert math.isclose(twice[key].tonnes, 2 * req.tonnes, rel_tol=1e-12, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(gwh=gwh_values, chemistry=st.sampled_from(CHEMS))
def test_mix_of_one_chemistry_equals_that_chemistry(gwh: float, chemistry: str) -> None:
    assert requirements_for_mix(gwh, {chemistry: 1.0}) == requirements(gwh, chemistry)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=1e-9, max_value=1e12))
def test_lithium_round_trip(li: float) -> None:
    lce = convert_mass(li, "contained_li", "lce")
    back = convert_mass(convert_mass(lce, "lce", "lithium_hydroxide"), "lithium_hydroxide",
                        "contained_li")
    assert math.isclose(back, li, rel_tol=1e-9)
    assert math.isclose(convert_mass(lce, "lce", "contained_li"), li, rel_tol=1e-9)


def test_mix_shares_must_sum_to_one() -> None:
    with pytest.raises(ValueError, match="sum"):
        requirements_for_mix(10, {"nmc811": 0.5, "lfp": 0.4})
    with pytest.raises(ValueError):
        requirements_for_mix(10, {"nmc811": 1.5, "lfp": -0.5})


def test_mix_keeps_weakest_confidence_and_flags_gaps() -> None:
    found = requirements_for_mix(100, {"lfp": 0.5, "nmc811": 0.5})
    assert found["iron"].confidence is Confidence.UNCERTAIN
    assert found["iron"].missing == ()
    assert found["lithium"].confidence is Confidence.SECONDARY
    lmfp_mix = requirements_for_mix(100, {"lmfp": 0.5, "nmc811": 0.5})
    assert lmfp_mix["steel"].missing == ("lmfp",)


def test_unknown_chemistry_is_refused() -> None:
    with pytest.raises(ValueError, match="chemistry"):
        requirements(1, "nmc999")


# Loading errors name the file and the entry --------------------------------------------------

def _broken(tmp_path: Path, old: str, new: str) -> Path:
    shutil.copytree(BUNDLED, tmp_path, dirs_exist_ok=True)
    target = tmp_path / "material_intensity.toml"
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('chemistry = "nmc622"', 'chemistry = "nmc999"', "unknown chemistry"),
    ("kg_per_kwh = 0.546", "kg_per_kwh = -0.546", "greater than or equal"),
    ("kg_per_kwh = 0.546\nsource = ", "kg_per_kwh = 0.546\nsourced = ", "source"),
])
def test_invalid_entries_are_located(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ReferenceDataError) as info:
        load_reference_from(_broken(tmp_path, old, new))
    text = str(info.value)
    assert text.startswith("material_intensity.toml: intensity[")
    assert message in text
    assert "nmc622/nickel" in text or "nmc999/lithium" in text


def test_presets_load_and_their_mixes_compute() -> None:
    presets = {p.id: p for p in load_presets().preset}
    stationary = presets["us-stationary-acp"]
    assert all(m.constructed and m.confidence is Confidence.UNCERTAIN for m in stationary.mix)
    found = requirements_for_mix(stationary.point[-1].gwh, {m.chemistry: m.share
                                                            for m in stationary.mix})
    assert found["lithium"].tonnes == pytest.approx(48 * 0.091 * 1_000)
