"""Critical-mineral lists and funding programs: dated membership, name handling, the
funding join and the program data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc.compliance import policy
from bmtc.compliance.policy import (
    Membership,
    funding_table,
    is_critical,
    load_lists,
    load_programs,
    minerals_on,
    normalise,
    program_table,
    status_for,
)
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import AwardStatus, Confidence
from bmtc.screening_service import bundled_dataset

DAY = timedelta(days=1)


def by_series(answers: list[Membership]) -> dict[str, Membership]:
    return {a.edition.series: a for a in answers}


def edition(list_id: str) -> policy.CriticalList:
    return next(e for e in load_lists().edition if e.id == list_id)


@pytest.fixture(scope="module")
def atlas() -> Dataset:
    return bundled_dataset()


def test_nickel_joined_the_usgs_list_in_2022() -> None:
    assert "nickel" in edition("usgs-2022").names
    assert "nickel" not in edition("usgs-2018").names
    before = by_series(is_critical("Nickel", date(2022, 2, 23)))["usgs"]
    after = by_series(is_critical("Nickel", date(2022, 2, 24)))["usgs"]
    assert (before.edition.id, before.listed) == ("usgs-2018", False)
    assert (after.edition.id, after.listed) == ("usgs-2022", True)
    assert {"nickel", "zinc"} <= set(edition("usgs-2022").names) - set(edition("usgs-2018").names)


def test_copper_is_usgs_critical_from_the_2025_final_list() -> None:
    day_before = by_series(is_critical("copper", date(2025, 11, 6)))["usgs"]
    on_the_day = by_series(is_critical("copper", date(2025, 11, 7)))["usgs"]
    assert (day_before.edition.id, day_before.listed) == ("usgs-2022", False)
    assert (on_the_day.edition.id, on_the_day.listed) == ("usgs-2025", True)
    assert on_the_day.edition.citation and on_the_day.edition.url


def test_the_2025_draft_is_never_counted_as_in_force() -> None:
    during_comment = date(2025, 9, 1)
    assert "usgs-draft" not in {a.edition.series for a in is_critical("copper", during_comment)}
    draft = by_series(is_critical("copper", during_comment, drafts=True))["usgs-draft"]
    assert draft.listed and draft.edition.draft
    assert [x.edition.id for x in minerals_on(during_comment, "usgs-draft")] == ["usgs-2025-draft"]


def test_usgs_2025_keeps_every_2022_entry_and_adds_ten() -> None:
    old, new = set(edition("usgs-2022").names), set(edition("usgs-2025").names)
    assert old <= new
    assert new - old == {"boron", "copper", "lead", "metallurgical coal", "phosphate", "potash",
                         "rhenium", "silicon", "silver", "uranium"}


def test_graphite_names_are_reported_as_each_list_writes_them() -> None:
    assert "natural graphite" in edition("doe-2023").names
    assert "graphite" not in edition("doe-2023").names
    assert "graphite" in edition("usgs-2022").names
    assert "natural graphite" not in edition("usgs-2022").names
    answers = by_series(is_critical("Graphite (natural)", date(2024, 1, 1)))
    usgs, doe = answers["usgs"], answers["doe"]
    assert not usgs.listed and usgs.related == ("graphite",)
    assert (doe.listed, doe.matched, doe.via) == (True, "natural graphite", None)
    plain_doe = by_series(is_critical("graphite", date(2024, 1, 1)))["doe"]
    assert (plain_doe.listed, plain_doe.via) == (True, "usgs-2022")
    assert "natural graphite" in plain_doe.related


@pytest.mark.parametrize("day", [date(2019, 1, 1), date(2023, 1, 1), date(2024, 1, 1),
                                 date(2025, 6, 1), date(2026, 1, 1)])
def test_synthetic_graphite_is_on_no_list(day: date) -> None:
    answers = is_critical("synthetic_graphite", day, drafts=True)
    assert answers and not any(a.listed for a in answers)
    assert any(f.id == "CM-3" for f in load_lists().finding)


def test_group_entries_count_for_their_members() -> None:
    answer = by_series(is_critical("neodymium", date(2020, 1, 1)))["usgs"]
    assert (answer.listed, answer.matched) == (True, "rare earth elements group")


def test_doe_list_takes_in_the_usgs_list_in_force() -> None:
    copper_2024 = by_series(is_critical("copper", date(2024, 1, 1)))
    assert copper_2024["doe"].listed and copper_2024["doe"].via is None
    assert not copper_2024["usgs"].listed
    silver_2026 = by_series(is_critical("silver", date(2026, 1, 1)))["doe"]
    assert (silver_2026.listed, silver_2026.via) == (True, "usgs-2025")
    coal = by_series(is_critical("metallurgical coal", date(2025, 5, 29)))["doe"]
    assert coal.listed and coal.edition.id == "doe-2025"
    assert not by_series(is_critical("metallurgical coal", date(2025, 5, 28)))["doe"].listed


def test_nothing_is_in_force_before_the_first_list() -> None:
    assert minerals_on(date(2018, 5, 17)) == []
    assert is_critical("lithium", date(2018, 5, 17)) == []


def test_names_are_normalised_but_not_merged() -> None:
    assert normalise("  Natural   GRAPHITE ") == "natural graphite"
    assert normalise("graphite (natural)") == "natural graphite"
    assert normalise("Aluminium") == "aluminum"
    assert normalise("graphite") != normalise("natural graphite")
    with pytest.raises(ValueError):
        minerals_on(date(2024, 1, 1), "usgs-2022")


def _boundaries() -> set[date]:
    days = set()
    for e in load_lists().edition:
        days.add(e.effective_from)
        if e.effective_to is not None:
            days.add(e.effective_to + DAY)
    return days


def _signature(day: date) -> dict[str, tuple[str, frozenset[str]]]:
    return {x.edition.series: (x.edition.id, x.names) for x in minerals_on(day, drafts=True)}


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.dates(min_value=date(2017, 1, 1), max_value=date(2028, 12, 31)),
                 st.sampled_from(sorted(_boundaries()))))
def test_membership_changes_exactly_on_effective_dates(day: date) -> None:
    changed = _signature(day) != _signature(day - DAY)
    assert changed == (day in _boundaries())
    for series in {e.series for e in load_lists().edition}:
        assert len(minerals_on(day, series)) <= 1


def test_each_edition_takes_over_on_its_first_day() -> None:
    for e in load_lists().edition:
        [first] = minerals_on(e.effective_from, e.series)
        assert first.edition.id == e.id
        before = minerals_on(e.effective_from - DAY, e.series)
        assert all(x.edition.id != e.id for x in before)
        if e.effective_to is not None:
            assert minerals_on(e.effective_to, e.series)[0].edition.id == e.id


def test_loading_refuses_overlapping_or_miscounted_editions() -> None:
    data = load_lists().model_dump(mode="json")
    overlapping = dict(data["edition"][0], id="usgs-extra", effective_to=None)
    with pytest.raises(ValueError, match="overlap"):
        policy.ListsFile.model_validate({**data, "edition": [*data["edition"], overlapping]})
    miscounted = dict(data["edition"][0], count=36)
    with pytest.raises(ValueError, match="counts 36"):
        policy.ListsFile.model_validate({**data, "edition": [miscounted]})


def test_list_counts_match_the_sources() -> None:
    counts = {e.id: len(e.names) for e in load_lists().edition}
    assert counts["usgs-2018"] == 35 and counts["usgs-2022"] == 50
    assert counts["usgs-2025"] == 60 and counts["usgs-2025-draft"] == 54
    assert counts["doe-2023"] == 18


def test_funding_filters_return_only_matching_rows(atlas: Dataset) -> None:
    full = funding_table(atlas)
    assert len(full) == len(atlas.funding)
    assert full["source_url"].str.match(r"^https?://").all()
    anode = funding_table(atlas, stage="anode")
    assert len(anode) > 0 and set(anode["stage"]) == {"anode"}
    tennessee = funding_table(atlas, state="TN")
    assert len(tennessee) > 0 and set(tennessee["state"]) == {"TN"}
    assert len(funding_table(atlas, state="US-TN")) == len(tennessee)
    assert funding_table(atlas, state="CA-TN").empty
    grants = funding_table(atlas, program="bil-40207b")
    assert len(grants) > 0
    assert all("bil-40207b" in ids.split(";") for ids in grants["program_ids"])
    assert set(grants["instrument"]) == {"grant"}
    both = funding_table(atlas, stage="refining", program="dpa-title-iii", status="awarded")
    assert set(both["stage"]) == {"refining"} and set(both["award_status"]) == {"awarded"}
    for frame in (anode, tennessee, grants, both):
        assert frame["source_url"].notna().all()
        assert set(frame["award_id"]) <= set(full["award_id"])


def test_funding_joins_recipients_and_rounds(atlas: Dataset) -> None:
    table = funding_table(atlas).set_index("award_id")
    row = table.loc["albemarle-km-doe"]
    assert (row["recipient_name"], row["state"], row["round_id"]) == (
        "Albemarle", "NC", "bil-40207-r1")
    assert table.loc["albemarle-km-dpa", "program_ids"] == "dpa-title-iii"


def test_funding_rejects_unknown_filters(atlas: Dataset) -> None:
    with pytest.raises(ValueError):
        funding_table(atlas, program="no-such-program")
    with pytest.raises(ValueError):
        funding_table(atlas, stage="smelting")
    with pytest.raises(ValueError):
        funding_table(atlas, status="under negotiation")
    assert list(funding_table(Dataset()).columns) == policy.FUNDING_COLUMNS


def test_programs_load_with_positive_amounts() -> None:
    table = program_table()
    assert {"bil-40207b", "bil-40207c", "dpa-title-iii", "lpo-atvm", "irc-48c"} <= set(
        table["id"])
    assert (table["amount_usd"] > 0).all()
    assert table.set_index("id").loc["bil-40207b", "amount_usd"] == 3e9
    data = load_programs()
    known = {p.id for p in data.program}
    for r in data.round:
        assert set(r.programs) <= known and (r.amount_usd is None or r.amount_usd > 0)
    rounds = {r.id: r for r in data.round}
    assert rounds["bil-40207-r1"].announced == "2022-10-19"
    assert rounds["bil-40207-r2"].announced == "2024-09-20"
    assert rounds["dpa-ira-critical-materials"].confidence is Confidence.PRIMARY


def test_status_terms_map_onto_the_award_vocabulary() -> None:
    assert status_for("Under negotiation") is AwardStatus.CONDITIONAL
    assert status_for("cancelled", "agency") is AwardStatus.TERMINATED
    assert status_for("cancelled", "recipient") is AwardStatus.WITHDRAWN
    with pytest.raises(ValueError):
        status_for("cancelled")
    with pytest.raises(ValueError):
        status_for("paused")
