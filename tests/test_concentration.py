"""Ultimate control by country, and concentration of capacity (HHI, top-N, covered control)."""

from __future__ import annotations

import math
from functools import cache

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc.analysis.capacity import pipeline
from bmtc.analysis.concentration import (
    Key,
    concentration,
    covered_control,
    global_concentration,
    hhi,
    hhi_band,
)
from bmtc.analysis.control import ControlShare, Remainder, controlling_countries
from bmtc.analysis.reference import load_reference
from bmtc.domain.dataset import Dataset
from bmtc.domain.model import Facility, Organization, Relationship, Source
from bmtc.domain.percent import parse_percent
from bmtc.domain.quantities import Capacity
from bmtc.domain.vocab import Material, Stage
from bmtc.screening.rules import rule_set
from bmtc.screening_service import bundled_dataset

SOURCE = Source(url="https://example.org/control", publisher="Example", as_of="2025-01")


def _org(org_id: str, country: str | None, **extra: object) -> Organization:
    return Organization(id=org_id, name=org_id.upper(), country_hq=country, source=SOURCE,
                        **extra)


def _holds(owner: str, owned: str, pct: str | None, kind: str = "ownership",
           **extra: object) -> Relationship:
    return Relationship(owner_id=owner, owned_id=owned, kind=kind,
                        equity_pct=None if pct is None else parse_percent(pct), source=SOURCE,
                        **extra)


def _plant(plant_id: str, operator: str, gwh: float, country: str, state: str) -> Facility:
    return Facility(
        id=plant_id, name=plant_id, operator_id=operator, stage=Stage.CELL,
        products=("li_ion_cells",), country=country, state_province=state,
        capacity=Capacity(gwh, "GWh/yr", "li_ion_cells"), start_year=2020,
        status="operating", status_as_of="2025-01", source=SOURCE,
    )


def _atlas() -> Dataset:
    """A 50/50 JV of a CN and a US company; a CN parent holding 60% of a KR company that owns a
    US plant operator; and an operator nobody holds."""
    return Dataset(
        organizations=[
            _org("cn-co", "CN"), _org("us-co", "US"), _org("jv-op", "US"),
            _org("cn-parent", "CN"), _org("kr-partner", "KR"), _org("kr-sub", "KR"),
            _org("us-plant-op", "US"), _org("solo-op", "CA"),
        ],
        relationships=[
            _holds("cn-co", "jv-op", "50", "joint_venture"),
            _holds("us-co", "jv-op", "50", "joint_venture"),
            _holds("cn-parent", "kr-sub", "60"),
            _holds("kr-partner", "kr-sub", "40"),
            _holds("kr-sub", "us-plant-op", "100"),
        ],
        facilities=[
            _plant("jv-plant", "jv-op", 40, "US", "TN"),
            _plant("chain-plant", "us-plant-op", 60, "US", "GA"),
            _plant("solo-plant", "solo-op", 100, "CA", "QC"),
        ],
    )


def _frame(dataset: Dataset, year: int = 2030) -> pd.DataFrame:
    return pipeline(dataset.facilities, [year]).frame


# --- HHI ---------------------------------------------------------------------------------


def test_hhi_of_a_monopoly_and_of_equal_firms() -> None:
    assert hhi([1.0]) == 10_000
    for n in (2, 4, 5, 10):
        assert hhi([1 / n] * n) == pytest.approx(10_000 / n)
    assert hhi([0.3, 0.3, 0.2, 0.2]) == pytest.approx(2_600)


def test_hhi_refuses_percentages_and_negative_shares() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        hhi([60, 40])
    with pytest.raises(ValueError, match="non-negative"):
        hhi([0.5, -0.1])


def test_hhi_bands() -> None:
    assert hhi_band(10_000) == hhi_band(1_800.5) == "highly concentrated"
    assert hhi_band(1_800) == hhi_band(1_000) == "moderately concentrated"
    assert hhi_band(999.9) == hhi_band(0) == "unconcentrated"


@given(st.lists(st.floats(0.001, 1_000), min_size=1, max_size=30))
def test_hhi_lies_between_equal_split_and_monopoly(weights: list[float]) -> None:
    total = sum(weights)
    shares = [w / total for w in weights]
    value = hhi(shares)
    n = len(shares)
    assert 10_000 / n * (1 - 1e-9) <= value <= 10_000 * (1 + 1e-9)


# --- control -----------------------------------------------------------------------------


def test_joint_venture_splits_and_majority_passes_wholly() -> None:
    control = controlling_countries(_atlas())
    jv = control["jv-op"]
    assert dict(jv.countries) == pytest.approx({"CN": 0.5, "US": 0.5})
    assert dict(jv.controllers) == pytest.approx({"cn-co": 0.5, "us-co": 0.5})
    assert jv.path == "jv-op <- cn-co (50%) ; <- us-co (50%)"
    chain = control["us-plant-op"]
    assert dict(chain.countries) == {"CN": 1.0}
    assert dict(chain.controllers) == {"cn-parent": 1.0}
    assert chain.path == "us-plant-op <- kr-sub (100%) <- cn-parent (60%)"
    solo = control["solo-op"]
    assert dict(solo.countries) == {"CA": 1.0}
    assert solo.path == "solo-op (itself)"
    assert solo.top_country == "CA"
    assert jv.fraction_in({"CN", "RU"}) == pytest.approx(0.5)


def test_minority_stakes_leave_the_rest_with_the_company() -> None:
    dataset = Dataset(
        organizations=[_org("listed", "CA"), _org("investor", "DE"), _org("agency", "US")],
        relationships=[_holds("investor", "listed", "9.9"), _holds("agency", "listed", "5")])
    kept = controlling_countries(dataset)["listed"]
    assert dict(kept.countries) == pytest.approx({"CA": 0.851, "DE": 0.099, "US": 0.05})
    spread = controlling_countries(dataset, remainder="normalise")["listed"]
    assert dict(spread.countries) == pytest.approx({"DE": 9.9 / 14.9, "US": 5 / 14.9})


def test_unstated_stakes_joint_venture_partners_share_equally_investors_do_not() -> None:
    dataset = Dataset(
        organizations=[_org("jv", "US"), _org("a", "KR"), _org("b", "NL"),
                       _org("startup", "US"), _org("fund", "JP")],
        relationships=[_holds("a", "jv", None, "joint_venture"),
                       _holds("b", "jv", None, "joint_venture"),
                       _holds("fund", "startup", None)])
    control = controlling_countries(dataset)
    assert dict(control["jv"].countries) == pytest.approx({"KR": 0.5, "NL": 0.5})
    assert dict(control["startup"].countries) == {"US": 1.0}


def test_range_and_bound_stakes() -> None:
    dataset = Dataset(
        organizations=[_org("op", "US"), _org("major", "KR"), _org("minor", "US")],
        relationships=[_holds("major", "op", ">50", "joint_venture"),
                       _holds("minor", "op", "<50", "joint_venture")])
    assert dict(controlling_countries(dataset)["op"].countries) == {"KR": 1.0}


def test_people_and_governments_are_ultimate_controllers() -> None:
    person = Organization(id="founder", name="Founder", kind="person",
                          nationalities=("SG", "CN"), source=SOURCE)
    state = Organization(id="state", name="State", kind="government",
                         country_incorporation="CN", source=SOURCE)
    dataset = Dataset(
        organizations=[person, state, _org("holdco", "HK"), _org("op", "US"),
                       _org("soe", None, kind="state_owned_enterprise")],
        relationships=[_holds("founder", "holdco", ">50"), _holds("holdco", "op", "100"),
                       _holds("state", "soe", "100"), _holds("soe", "founder", "100")])
    control = controlling_countries(dataset)
    assert dict(control["op"].controllers) == {"founder": 1.0}
    assert dict(control["op"].countries) == {"SG": 1.0}
    assert dict(control["soe"].countries) == {"CN": 1.0}
    assert dict(control["state"].countries) == {"CN": 1.0}


def test_relationships_out_of_force_are_ignored() -> None:
    dataset = Dataset(
        organizations=[_org("op", "US"), _org("old", "CN"), _org("new", "JP")],
        relationships=[_holds("old", "op", "100", valid_to="2024-06"),
                       _holds("new", "op", "100", valid_from="2024-07")])
    assert dict(controlling_countries(dataset, "2024-01-01")["op"].countries) == {"CN": 1.0}
    assert dict(controlling_countries(dataset, "2025-01-01")["op"].countries) == {"JP": 1.0}


def test_a_cycle_stops_where_it_closes() -> None:
    dataset = Dataset(
        organizations=[_org("op", "US"), _org("a", "KR"), _org("b", "JP")],
        relationships=[_holds("a", "op", "100"), _holds("b", "a", "100"),
                       _holds("a", "b", "100")])
    control = controlling_countries(dataset)
    assert dict(control["op"].controllers) == {"b": 1.0}
    assert dict(control["a"].controllers) == {"b": 1.0}
    assert dict(control["b"].controllers) == {"a": 1.0}


_COUNTRIES = ["US", "CN", "KR", "JP", "CA", None]
_PCTS = [None, "100", "60", "50", "40", "25", "10", ">50", "<50", "20-30", ">=10"]


@st.composite
def _ownership_graphs(draw: st.DrawFn, acyclic: bool) -> Dataset:
    n = draw(st.integers(2, 7))
    ids = [f"o{i}" for i in range(n)]
    orgs = [_org(i, draw(st.sampled_from(_COUNTRIES))) for i in ids]
    rels = []
    for _ in range(draw(st.integers(0, 3 * n))):
        owner, owned = draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2,
                                     unique=True))
        if acyclic and owner < owned:
            owner, owned = owned, owner
        rels.append(_holds(ids[owner], ids[owned], draw(st.sampled_from(_PCTS)),
                           draw(st.sampled_from(["ownership", "joint_venture"]))))
    return Dataset(organizations=orgs, relationships=rels)


def _sums_to_one(share: ControlShare) -> bool:
    return (math.isclose(sum(share.countries.values()), 1.0, abs_tol=1e-9)
            and math.isclose(sum(share.controllers.values()), 1.0, abs_tol=1e-9)
            and all(f >= 0 for f in share.controllers.values()))


@settings(max_examples=60, deadline=None)
@given(_ownership_graphs(acyclic=True), st.sampled_from(["self", "normalise"]))
def test_control_fractions_sum_to_one_on_acyclic_graphs(dataset: Dataset,
                                                        mode: Remainder) -> None:
    control = controlling_countries(dataset, remainder=mode)
    assert set(control) == {o.id for o in dataset.organizations}
    assert all(_sums_to_one(share) for share in control.values())


@settings(max_examples=60, deadline=None)
@given(_ownership_graphs(acyclic=False))
def test_control_fractions_sum_to_one_with_cycles(dataset: Dataset) -> None:
    control = controlling_countries(dataset)
    assert all(_sums_to_one(share) for share in control.values())
    assert control == controlling_countries(dataset)


# --- concentration -----------------------------------------------------------------------


def test_concentration_by_controller_country_and_location() -> None:
    dataset = _atlas()
    control = controlling_countries(dataset)
    frame = _frame(dataset)
    result = concentration(frame, "controller_country", 2030, "nameplate", control=control)
    shares = dict(zip(result.shares["key"], result.shares["share"], strict=True))
    assert shares == pytest.approx({"CA": 0.5, "CN": 0.4, "US": 0.1})
    (summary,) = result.summary.to_dict("records")
    assert summary["total"] == pytest.approx(200)
    assert summary["contributors"] == 3
    assert summary["hhi"] == pytest.approx(2_500 + 1_600 + 100)
    assert summary["band"] == "highly concentrated"
    assert [k for k, _ in summary["top"]] == ["CA", "CN", "US"]
    # US and CA tie at half each; ties rank by key.
    by_country = concentration(frame, "country", 2030, "nameplate", top_n=1).summary.iloc[0]
    assert by_country["top"] == (("CA", 0.5),)
    assert by_country["hhi"] == pytest.approx(5_000)
    by_state = concentration(frame, "state_province", 2030, "nameplate").shares
    assert dict(zip(by_state["key"], by_state["share"], strict=True)) == pytest.approx(
        {"QC": 0.5, "GA": 0.3, "TN": 0.2})
    with pytest.raises(ValueError, match="needs `control`"):
        concentration(frame, "controller_country", 2030)


def test_covered_control_counts_the_control_fraction() -> None:
    dataset = _atlas()
    control = controlling_countries(dataset)
    figure = covered_control(_frame(dataset), control, ("CN", "RU", "IR", "KP"), 2030,
                             "nameplate")
    (row,) = figure.to_dict("records")
    assert (row["stage"], row["flow"]) == ("cell", "cells")
    assert row["total"] == pytest.approx(200)
    assert row["covered"] == pytest.approx(60 + 20)
    assert row["share"] == pytest.approx(0.4)
    assert row["facilities"] == ("chain-plant", "jv-plant")


_FLOWS = [("cell", "cells", "GWh"), ("cathode", "cam_layered", "t"), ("anode", "aam", "t")]


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for i in range(draw(st.integers(1, 25))):
        stage, flow, unit = draw(st.sampled_from(_FLOWS))
        nameplate = draw(st.floats(0, 1e6))
        rows.append({
            "facility_id": f"f{i}", "operator_id": draw(st.sampled_from(["a", "b", "c", "d"])),
            "stage": stage, "flow": flow, "unit": unit,
            "country": draw(st.sampled_from(["US", "CA", "MX"])),
            "state_province": draw(st.sampled_from(["TN", "QC", None])),
            "status": draw(st.sampled_from(["operating", "announced", "cancelled"])),
            "year": 2030, "nameplate": nameplate, "plausible": nameplate * 0.5,
        })
    return pd.DataFrame(rows)


_CONTROL = {
    "a": ControlShare("a", {"CN": 0.5, "US": 0.5}, {"x": 0.5, "y": 0.5}, ""),
    "b": ControlShare("b", {"KR": 1.0}, {"b": 1.0}, ""),
    "c": ControlShare("c", {"US": 0.7, "JP": 0.2, "CN": 0.1}, {"c": 1.0}, ""),
}


@settings(max_examples=80, deadline=None)
@given(_frames(), st.sampled_from(["country", "state_province", "operator_id",
                                   "controller_country"]))
def test_shares_sum_to_one_per_stage_and_flow(frame: pd.DataFrame, by: Key) -> None:
    result = concentration(frame, by, 2030, "nameplate", control=_CONTROL)
    for _, group in result.shares.groupby(["stage", "flow"]):
        assert group["share"].sum() == pytest.approx(1.0)
    for row in result.summary.to_dict("records"):
        assert 10_000 / int(row["contributors"]) - 1e-6 <= float(row["hhi"]) <= 10_000 + 1e-6
        live = frame[(frame["flow"] == row["flow"]) & (frame["status"] != "cancelled")]
        assert row["total"] == pytest.approx(live["nameplate"].sum())
    covered = covered_control(frame, _CONTROL, ["CN"], 2030, "nameplate")
    assert ((covered["share"] >= 0) & (covered["share"] <= 1 + 1e-12)).all()


def test_global_concentration_is_a_lower_bound_when_coverage_is_partial() -> None:
    shares = load_reference().shares
    lithium = global_concentration(shares, Stage.MINING, Material.LITHIUM)
    assert lithium.year <= 2025
    assert 0 < lithium.coverage <= 1
    assert len({country for country, _ in lithium.shares}) == len(lithium.shares)
    assert lithium.hhi_listed == pytest.approx(hhi(f for _, f in lithium.shares))
    assert lithium.hhi_listed <= lithium.hhi_upper
    top = shares.top(Stage.MINING, Material.LITHIUM)
    assert lithium.shares[0][0] == top.country
    with pytest.raises(KeyError):
        global_concentration(shares, Stage.FOIL, Material.COPPER)


# --- the bundled atlas -------------------------------------------------------------------


@cache
def _bundled() -> tuple[pd.DataFrame, dict[str, ControlShare]]:
    dataset = bundled_dataset()
    return _frame(dataset), controlling_countries(dataset)


def test_bundled_atlas_cells_by_controller_country() -> None:
    frame, control = _bundled()
    result = concentration(frame, "controller_country", 2030, control=control)
    cells = result.shares[result.shares["flow"] == "cells"]
    assert cells["share"].sum() == pytest.approx(1.0)
    assert len(cells) >= 2
    figure = covered_control(frame, control, rule_set("feoc-doe-2024").covered_nations, 2030)
    (row,) = figure[figure["flow"] == "cells"].to_dict("records")
    assert 0 < row["share"] < 1
    assert row["facilities"]
    assert all(control[op].fraction_in({"CN"}) > 0 for op in frame.loc[
        frame["facility_id"].isin(row["facilities"]), "operator_id"])
