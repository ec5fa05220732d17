"""The bundled atlas: valid, complete enough, sourced, and loadable through the Python API."""

from __future__ import annotations

from collections import Counter

import pytest

import bmtc
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import NORTH_AMERICA, Stage
from bmtc.io.importer import parse_tables
from bmtc.io.readers import read_folder
from bmtc.service import bundled_atlas


@pytest.fixture(scope="module")
def atlas() -> Dataset:
    with bundled_atlas() as folder:
        result = parse_tables(read_folder(folder), lambda _table, _ids: set())
    assert [str(p) for p in result.problems] == []
    return result.dataset


def test_dataset_is_versioned(atlas: Dataset) -> None:
    assert atlas.info is not None
    assert atlas.info.version and atlas.info.as_of


def test_coverage(atlas: Dataset) -> None:
    assert len(atlas.facilities) >= 150
    stages = Counter(f.stage for f in atlas.facilities)
    assert set(stages) == set(Stage)
    countries = Counter(f.country for f in atlas.facilities)
    assert set(countries) == set(NORTH_AMERICA)


def test_every_fact_is_sourced(atlas: Dataset) -> None:
    for entity in (*atlas.facilities, *atlas.organizations, *atlas.relationships,
                   *atlas.status_events, *atlas.funding):
        assert entity.source.url.startswith(("http://", "https://"))
    for facility in atlas.facilities:
        assert facility.status_as_of
    assert sum(f.verified for f in atlas.facilities) > 0


def test_members_and_ownership(atlas: Dataset) -> None:
    members = {o.name for o in atlas.organizations if o.coalition_member}
    assert {"Sila Nanotechnologies", "Standard Lithium", "Nouveau Monde Graphite"} <= members
    operators = {f.operator_id for f in atlas.facilities}
    known = {o.id for o in atlas.organizations}
    assert operators <= known
    with_share = [r for r in atlas.relationships if r.equity_pct is not None]
    assert len(with_share) >= 50


def test_python_api_returns_dataframes(tmp_path: pytest.TempPathFactory) -> None:
    with bmtc.open(f"sqlite:///{tmp_path}/api.sqlite") as atlas:  # type: ignore[operator]
        atlas.init()
        frame = atlas.facilities(stage="cathode", country="US")
        assert len(frame) > 0 and set(frame["stage"]) == {"cathode"}
        assert {"id", "name", "operator_name", "capacity_value", "source_url"} <= set(
            frame.columns)
        assert len(atlas.facilities(limit=5)) == 5
        stats = atlas.stats()
        assert stats["facilities"].sum() >= 150
        capacity = atlas.capacity()
        assert {"stage", "unit", "basis", "total"} <= set(capacity.columns)
        history = atlas.status_history()
        assert history["facility_id"].nunique() >= 150
        orgs = atlas.organizations(member=True)
        assert len(orgs) >= 6
        assert len(atlas.relationships()) > 0 and len(atlas.funding()) > 0
        card = atlas.facility("nemaska-becancour-lioh")
        assert card is not None and card["operator"].name == "Nemaska Lithium"
