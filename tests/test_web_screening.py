"""The screening page over the bundled atlas: verdicts agree with the engine, the ownership
graph highlights the evidence path, unknown and ambiguous names are answered as such, and
reflected input stays text."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from bmtc.domain.dataset import Dataset
from bmtc.screening_service import screen_party
from bmtc.views.screening import screening_view
from tests.web_support import client, figure

__all__ = ["client"]




@pytest.fixture(scope="module")
def atlas(client: TestClient) -> Dataset:
    dataset: Dataset = client.app.state.store.load()  # type: ignore[attr-defined]
    return dataset




def screen(client: TestClient, org: str, ruleset: str, as_of: str) -> str:
    page = client.get("/screening", params={"org": org, "ruleset": ruleset, "as_of": as_of})
    assert page.status_code == 200, page.text
    html: str = page.text
    return html


def test_the_form_is_offered_without_a_query(client: TestClient) -> None:
    page = client.get("/screening")
    assert page.status_code == 200
    assert 'name="org"' in page.text and 'value="pfe-2025"' in page.text
    assert 'type="date" name="as_of"' in page.text


def test_gotion_high_tech_verdict_matches_the_engine(client: TestClient,
                                                     atlas: Dataset) -> None:
    expected = screen_party(atlas, "Gotion High-Tech", "feoc-doe-2024", as_of="2026-06-30")
    html = screen(client, "Gotion High-Tech", "feoc-doe-2024", "2026-06-30")
    assert expected.status == "feoc"
    assert f'<span class="badge {expected.status}">' in html
    for test in expected.tests:
        assert f"<code>{test.id}</code>" in html
    # Each test row carries its outcome, citation and confidence.
    row = re.search(r"<code>FEOC-D-7-a</code>.*?</tr>", html, flags=re.S)
    assert row is not None
    assert "yes" in row.group(0) and "89 FR 37079" in row.group(0)
    assert "secondary" in row.group(0)
    assert "Li Zhen" in html and "electrive.net" in html  # direct owners with sources
    assert "No ownership path from a covered party" in html


def test_evidence_path_is_highlighted_and_described(client: TestClient,
                                                    atlas: Dataset) -> None:
    expected = screen_party(atlas, "gotion-inc", "pfe-2025", as_of="2026-06-30")
    html = screen(client, "gotion-inc", "pfe-2025", "2026-06-30")
    assert f'<span class="badge {expected.status}">' in html
    drawn = figure(html, "ownership-graph")
    traces = {t["name"]: t for t in drawn["data"]}
    nodes = {pid: (x, y) for t in drawn["data"] if "customdata" in t
             for pid, x, y in zip(t["customdata"], t["x"], t["y"], strict=True)}
    path = traces["Evidence path"]
    assert path["line"]["color"] != traces["Holdings"]["line"]["color"]
    segment = list(zip(path["x"], path["y"], strict=True))[:2]
    assert segment == [nodes["gotion-high-tech"], nodes["gotion-inc"]]
    assert "gotion-high-tech" in traces["Parties on the evidence path"]["customdata"]
    assert traces["Screened party"]["customdata"] == ["gotion-inc"]
    alt = re.search(r'<figcaption id="ownership-graph-caption">([^<]*)</figcaption>', html)
    assert alt is not None
    assert "Gotion High-Tech holds 100% of Gotion Inc." in unescape(alt.group(1))
    # The hop table names the source and its date.
    assert 'href="https://menafn.com/' in html and "<td>2025-05</td>" in html


def test_layers_put_every_owner_above_what_it_holds(atlas: Dataset) -> None:
    view = screening_view(atlas, "gotion-inc", "pfe-2025", "2026-06-30")
    layer = {n.org_id: n.layer for n in view.nodes}
    assert layer["gotion-inc"] == 0 and layer["gotion-high-tech"] == 1
    assert all(layer[e.holder] > layer[e.subject] for e in view.edges)
    assert [p.tests for p in view.paths] == [("PFE-4-v", "PFE-5-single", "PFE-5-aggregate")]


def test_unknown_organization_is_a_404_page(client: TestClient) -> None:
    page = client.get("/screening", params={"org": "Zzyzx Qwerty Holdings"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No organization in the atlas matches" in page.text


def test_ambiguous_name_lists_candidates(client: TestClient) -> None:
    page = client.get("/screening", params={"org": "LG", "ruleset": "pfe-2025"})
    assert page.status_code == 200
    assert "Did you mean one of these?" in page.text
    links = re.findall(r'href="/screening\?org=([a-z0-9-]+)&amp;ruleset=pfe-2025', page.text)
    assert {"lg-chem", "lg-energy-solution"} <= set(links)


def test_reflected_input_is_escaped(client: TestClient) -> None:
    page = client.get("/screening", params={"org": "<script>alert(1)</script>"})
    assert page.status_code == 404
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_bad_form_values_are_explained(client: TestClient) -> None:
    page = client.get("/screening", params={"org": "Ford", "ruleset": "<b>x</b>",
                                            "as_of": "30/06/2026"})
    assert page.status_code == 422
    error = re.search(r'<div class="error".*?</div>', page.text, flags=re.S)
    assert error is not None
    assert "Rule set" in error.group(0) and "YYYY-MM-DD" in error.group(0)
    assert "<b>x</b>" not in page.text
