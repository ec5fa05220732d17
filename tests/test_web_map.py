"""The map page, its grouped points and the facility card: a cartesian figure over projected
kilometres with the package's own boundaries (nothing fetched from another site), grouping
that conserves every facility, filters, and cards with owners and sources (SQLite)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bmtc.views.atlas_map import MapFacility, cell_size, group
from bmtc.views.geo import boundary_features, boundary_paths, project, simplify
from bmtc.web.figures.atlas_map import STAGE_SYMBOLS, symbol_path
from tests.web_support import client

__all__ = ["client"]

KNOWN = "nemaska-becancour-lioh"




@pytest.fixture(scope="module")
def atlas(client: TestClient) -> list[dict[str, Any]]:
    facilities = client.app.state.store.load().facilities  # type: ignore[attr-defined]
    return [{"id": f.id, "stage": f.stage.value, "status": f.status.value,
             "country": f.country, "placed": f.latitude is not None} for f in facilities]


def embedded(html: str) -> dict[str, Any]:
    found = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html,
                       flags=re.S)
    return {name: json.loads(text) for name, text in found}


def members(answer: dict[str, Any]) -> int:
    return sum(int(c["count"]) for c in answer["clusters"]) + len(answer["singles"])


def test_map_page_embeds_a_self_contained_figure(client: TestClient,
                                                 atlas: list[dict[str, Any]]) -> None:
    page = client.get("/map")
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["content-security-policy"]
    data = embedded(page.text)
    figure, points = data["atlas-map-figure"], data["atlas-map-points"]
    traces = {t.get("meta"): t for t in figure["data"]}
    boundary = [t for t in figure["data"] if t.get("meta") == "boundary"]
    assert boundary and all(None in t["x"] and len(t["x"]) > 1000 for t in boundary)
    assert all(t["hoverinfo"] == "skip" and t["type"] == "scatter" for t in boundary)
    markers = [t for t in figure["data"] if str(t.get("meta")).startswith("status:")]
    assert sum(len(t["x"]) for t in markers) == len(points["singles"]) > 0
    assert len(traces["clusters"]["x"]) == len(points["clusters"])
    assert {t["type"] for t in figure["data"]} == {"scatter"}
    text = json.dumps(figure)
    assert not re.search(r"https?://", text)
    assert figure["layout"]["yaxis"]["scaleanchor"] == "x"
    assert figure["layout"]["dragmode"] == "pan"
    assert members(points) == points["total"] == sum(f["placed"] for f in atlas)
    # The text alternative counts what is drawn, by status.
    operating = sum(f["status"] == "operating" for f in atlas)
    assert f'role="img" aria-label="Map of North America with {len(atlas)}' in page.text
    assert f"{operating} operating" in page.text
    # The card panel takes focus when it opens (announced once); the summary is a status.
    assert 'id="map-card" class="map-card" tabindex="-1"' in page.text
    assert 'id="map-status" role="status"' in page.text
    assert 'src="/static/bmtc/map.js"' in page.text
    for reference in re.findall(r'(?:src)="([^"]+)"', page.text):
        assert reference.startswith("/")
    assert client.get("/static/bmtc/map.js").status_code == 200


def test_map_lists_the_filtered_facilities_with_links(client: TestClient,
                                                      atlas: list[dict[str, Any]]) -> None:
    page = client.get("/map", params={"country": "CA", "status": "operating"})
    assert page.status_code == 200
    wanted = [f for f in atlas if f["country"] == "CA" and f["status"] == "operating"]
    rows = re.findall(r'<tr><td><a href="/facility/([^"]+)">', page.text)
    assert sorted(rows) == sorted(f["id"] for f in wanted)
    assert f"{len(wanted)} facilities match the filters" in page.text
    assert '<option value="CA" selected>' in page.text
    points = embedded(page.text)["atlas-map-points"]
    assert points["filter"] == {"stage": "", "status": "operating", "country": "CA"}
    assert members(points) == len(wanted)


def test_boundaries_cover_the_three_countries() -> None:
    features = boundary_features()
    assert len(features) == 96
    countries = [f["properties"]["country"] for f in features]
    assert (countries.count("US"), countries.count("CA"), countries.count("MX")) == (51, 13, 32)
    paths = boundary_paths()
    assert paths.features == 96
    xs = [x for x in paths.outline[0] + paths.inner[0] if x is not None]
    assert 3000 < len(xs) < 20_000
    assert all(isinstance(x, int) for x in xs)


def test_projection_places_known_points() -> None:
    x, y = project([-96.0], [37.5])
    assert abs(x[0]) < 1e-6 and abs(y[0]) < 1e-6
    (seattle_x, houston_x), (seattle_y, houston_y) = project([-122.33, -95.37],
                                                             [47.61, 29.76])
    assert seattle_x < houston_x and seattle_y > houston_y
    # Equal-area, not equidistant, but within the continent distances stay close to the
    # great-circle ones (Seattle to Houston: about 3,040 km).
    distance = math.hypot(seattle_x - houston_x, seattle_y - houston_y)
    assert abs(distance - great_circle((-122.33, 47.61), (-95.37, 29.76))) < 0.03 * distance


def great_circle(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def test_simplify_keeps_ends_and_corners() -> None:
    import numpy as np

    line = np.array([[0.0, 0.0], [1.0, 0.1], [2.0, 0.0], [2.0, 5.0], [2.1, 6.0], [2.0, 7.0]])
    kept = simplify(line, 0.5)
    assert kept[0].tolist() == [0.0, 0.0] and kept[-1].tolist() == [2.0, 7.0]
    assert [2.0, 0.0] in kept.tolist() and [1.0, 0.1] not in kept.tolist()


def test_points_conserve_every_facility_and_follow_the_zoom(
        client: TestClient, atlas: list[dict[str, Any]]) -> None:
    whole = client.get("/map/points").json()
    assert members(whole) == whole["total"] == sum(f["placed"] for f in atlas)
    x0, x1, _y0, _y1 = whole["view"]
    assert whole["cell"] == cell_size(x1 - x0)
    # Zoom into the busiest group of facilities at distinct places: it splits.
    busiest = max((c for c in whole["clusters"] if "members" not in c),
                  key=lambda c: int(c["count"]))
    bx0, bx1, by0, by1 = busiest["bounds"]
    pad = max(bx1 - bx0, by1 - by0, 20.0)
    near = client.get("/map/points", params={
        "x0": bx0 - pad, "x1": bx1 + pad, "y0": by0 - pad, "y1": by1 + pad}).json()
    assert near["cell"] < whole["cell"]
    assert len(near["singles"]) > 0
    assert max((c["count"] for c in near["clusters"]), default=0) < busiest["count"]
    # Fully zoomed in, only facilities recorded at one spot stay grouped, with their names.
    ids = {s["id"] for s in near["singles"]}
    for cluster in near["clusters"]:
        if "members" in cluster:
            ids |= {m["id"] for m in cluster["members"]}
            assert len(cluster["members"]) == cluster["count"]
    assert ids


def test_points_apply_filters_and_refuse_bad_ones(client: TestClient,
                                                  atlas: list[dict[str, Any]]) -> None:
    answer = client.get("/map/points", params={"stage": "cell", "country": "US"}).json()
    wanted = [f for f in atlas if f["stage"] == "cell" and f["country"] == "US"
              and f["placed"]]
    assert members(answer) == answer["total"] == len(wanted)
    assert {s["stage"] for s in answer["singles"]} <= {"cell"}
    bad = client.get("/map/points", params={"stage": "teleporter"})
    assert bad.status_code == 422 and "teleporter" in bad.json()["problems"][0]
    partial = client.get("/map/points", params={"x0": 0})
    assert partial.status_code == 422


def test_reflected_filters_are_escaped(client: TestClient) -> None:
    attack = '"><script>alert(1)</script>'
    page = client.get("/map", params={"stage": attack, "country": "<b>x</b>"})
    assert page.status_code == 422
    assert "<script>alert(1)" not in page.text and "<b>x</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    # The figure and its points never carry a closing tag into the page either.
    for text in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page.text,
                           flags=re.S):
        assert "</" not in text


def test_card_fragment_shows_owners_and_sources(client: TestClient) -> None:
    card = client.get(f"/facility/{KNOWN}/card")
    assert card.status_code == 200
    assert "<html" not in card.text and "<article" in card.text
    text = card.text
    assert "Nemaska Lithium Bécancour lithium hydroxide plant" in text
    assert "Rio Tinto" in text and "53.9% equity" in text and "Investissement Québec" in text
    assert "under construction</span> as of 2026-02" in text
    assert "32,000 t/yr of lithium hydroxide" in text
    assert "Mining Technology, 2026-02" in text
    assert 'href="/screening?org=nemaska-lithium"' in text
    owners = text.split("Owners of the operator")[1].split("Status history")[0]
    assert owners.count('class="source"') == 2


def test_every_facility_has_a_card(client: TestClient, atlas: list[dict[str, Any]]) -> None:
    # Stakes such as ">50", missing operators' details and awards all render.
    for facility in atlas:
        assert client.get(f"/facility/{facility['id']}/card").status_code == 200


def test_facility_page_is_standalone_and_unknown_ids_are_404(client: TestClient) -> None:
    page = client.get(f"/facility/{KNOWN}")
    assert page.status_code == 200
    assert "<h1 id=\"card-" in page.text and "<html" in page.text
    assert "Rio Tinto" in page.text and "Sources" in page.text
    api = client.get(f"/api/v1/facilities/{KNOWN}").json()
    for url in api["sources"]:
        assert f'href="{url}"' in page.text
    for path in ("/facility/no-such-plant", "/facility/no-such-plant/card"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "Page not found" in missing.text


def test_stage_key_shapes_are_svg_paths() -> None:
    for symbol in STAGE_SYMBOLS.values():
        path = symbol_path(symbol)
        assert path.startswith("M") and path.endswith("Z")


def _facility(i: int, x: float, y: float) -> MapFacility:
    return MapFacility(id=f"f{i}", name=f"F{i}", stage="cell", status="operating",
                       country="US", x=x, y=y)


coordinates = st.floats(min_value=-6000, max_value=6000, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(coordinates, coordinates), max_size=60),
       st.sampled_from([0.25, 1.0, 16.0, 128.0, 1024.0]), st.booleans())
def test_grouping_places_every_facility_exactly_once(
        spots: list[tuple[float, float]], cell: float, stack: bool) -> None:
    # Half the time, pile facilities onto a few spots, as city-precision records do.
    facilities = [_facility(i, *(spots[i % 3] if stack and len(spots) > 3 else spot))
                  for i, spot in enumerate(spots)]
    grouping = group(facilities, cell)
    placed = [f.id for c in grouping.clusters for f in c.members] + [
        f.id for f in grouping.singles]
    assert sorted(placed) == sorted(f.id for f in facilities)
    cells = [(math.floor(f.x / cell), math.floor(f.y / cell)) for f in grouping.singles
             if f.x is not None and f.y is not None]
    for cluster in grouping.clusters:
        assert len(cluster.members) > 1
        assert sum(cluster.statuses.values()) == len(cluster.members)
        x0, x1, y0, y1 = cluster.bounds
        assert x0 - 0.1 <= cluster.x <= x1 + 0.1 and y0 - 0.1 <= cluster.y <= y1 + 0.1
        keys = {(math.floor(m.x / cell), math.floor(m.y / cell)) for m in cluster.members
                if m.x is not None and m.y is not None}
        assert len(keys) == 1
        cells.extend(keys)
    assert len(cells) == len(set(cells))
