"""The funding and policy page: the timeline of dated rules from the compliance files, and the
atlas funding awards with their sources, filtered by program and country."""

from __future__ import annotations

import re
from html import escape

import pytest
from fastapi.testclient import TestClient

from bmtc.domain.dataset import Dataset
from bmtc.views.funding import funding_view, policy_events
from tests.web_support import client, figure

__all__ = ["client"]




@pytest.fixture(scope="module")
def atlas(client: TestClient) -> Dataset:
    dataset: Dataset = client.app.state.store.load()  # type: ignore[attr-defined]
    return dataset




def award_rows(html: str) -> list[str]:
    table = html.split('id="awards"', 1)[1]
    return re.findall(r"<tr><td>.*?</tr>", table, flags=re.S)


def test_awards_are_listed_with_their_sources(client: TestClient, atlas: Dataset) -> None:
    page = client.get("/funding")
    assert page.status_code == 200
    award = next(a for a in atlas.funding if a.id == "electra-dpa-2024")
    rows = award_rows(page.text)
    assert len(rows) == len(atlas.funding)
    row = next(r for r in rows if "DoD DPA Title III" in r and "Electra" in r)
    assert f'href="{escape(str(award.source.url))}"' in row
    assert "20,000,000 USD" in row and "2024-08" in row


def test_timeline_draws_the_rule_files(client: TestClient) -> None:
    page = client.get("/funding")
    drawn = figure(page.text, "policy-timeline")
    groups = {t["name"] for t in drawn["data"]}
    assert {"MACR thresholds", "45X credit", "30D credit", "Defense procurement",
            "Section 301 tariffs", "Funding programs"} <= groups
    macr = next(t for t in drawn["data"] if t["name"] == "MACR thresholds"
                and t["mode"] == "markers")
    assert "2026-01-01" in macr["x"]
    events = policy_events()
    assert {"45X-6-2030", "301-1", "DOD-1", "30D-1", "bil-40207b"} <= {
        e.rule_id for e in events}
    assert "<code>45X-6-2030</code>" in page.text


def test_filters_narrow_the_awards(client: TestClient, atlas: Dataset) -> None:
    view = funding_view(atlas)
    page = client.get("/funding", params={"program": "DoD DPA Title III"})
    assert page.status_code == 200
    rows = award_rows(page.text)
    assert rows and all("DoD DPA Title III" in r for r in rows)
    assert len(rows) == len(view.filtered("DoD DPA Title III", None))
    canada = client.get("/funding", params={"country": "CA"})
    rows = award_rows(canada.text)
    assert rows and all("<td>CA</td>" in r for r in rows)
    drawn = figure(canada.text, "funding-awards")
    assert sum(len(t["x"]) for t in drawn["data"]) <= len(rows)


def test_unknown_filter_values_are_named_and_escaped(client: TestClient) -> None:
    page = client.get("/funding", params={"country": "<script>x</script>"})
    assert page.status_code == 422
    assert "<script>x</script>" not in page.text
    assert "&#39;&lt;script&gt;x&lt;/script&gt;&#39; is not among the choices" in page.text
