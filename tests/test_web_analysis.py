"""The dashboard's analysis pages: each answers with its charts as parseable JSON, the
numbers shown agree with the engines, bad parameters give a 422 page with a message, and
reflected parameters stay escaped."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bmtc import analytics_service
from bmtc.analysis.scenario import Disruption
from bmtc.analysis.sourcing import Sourcing
from bmtc.domain.dataset import Dataset
from bmtc.views import analysis as views
from bmtc.views import flows
from tests.web_support import client, figures

__all__ = ["client"]

ALERT = re.compile(r'<div class="error" role="alert">(.*?)</div>', re.S)




@pytest.fixture(scope="module")
def dataset(client: TestClient) -> Dataset:
    app = client.app
    assert isinstance(app, FastAPI)
    loaded: Dataset = app.state.store.load()
    return loaded




def trace_types(figure: dict[str, Any]) -> set[str]:
    return {trace["type"] for trace in figure["data"]}


def card(page: str, element_id: str) -> float:
    found = re.search(rf'id="{element_id}">([-\d,.]+) GWh<', page)
    assert found, f"no {element_id} on the page"
    return float(found.group(1).replace(",", ""))


def get_ok(client: TestClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")
    text: str = response.text
    assert "<h1>" in text and 'class="lede"' in text
    return text


# -- every page ------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "charts"), [
    ("/stages", {"stage-cells": {"bar", "scatter"}}),
    ("/stages?stage=refining&scenario=pre-2025-law",
     {"stage-lithium_chemical": {"bar", "scatter"}, "stage-cobalt_chemical": {"bar", "scatter"}}),
    ("/control?year=2030", {"control-shares": {"bar"}}),
    ("/network?year=2030&sourcing=allied",
     {"network-families": {"bar"}, "network-trend": {"scatter"}, "network-made": {"bar"}}),
    ("/flows?year=2030", {"material-sankey": {"sankey"}}),
    ("/scenario?remove_country=CA&sourcing=allied",
     {"scenario-bounds": {"bar"}, "scenario-sufficiency": {"bar"}}),
])
def test_pages_carry_their_charts(client: TestClient, url: str,
                                  charts: dict[str, set[str]]) -> None:
    page = get_ok(client, url)
    found = figures(page)
    for chart_id, types in charts.items():
        assert chart_id in found, sorted(found)
        assert trace_types(found[chart_id]) == types
        assert found[chart_id]["layout"]["title"]["text"]
        # Every chart has a text alternative and the numbers as a table.
        assert re.search(rf'id="{chart_id}" class="plot" role="group" '
                         rf'aria-describedby="{chart_id}-caption"', page)
        assert re.search(rf'<figcaption id="{chart_id}-caption">[^<]{{20,}}</figcaption>',
                         page)
    assert page.count("<summary>Data table</summary>") >= len(charts)
    assert "Sources and confidence" in page


def test_forms_are_labelled_get_forms(client: TestClient) -> None:
    page = get_ok(client, "/scenario")
    assert '<form class="filters" method="get" action="/scenario">' in page
    for name in ("scenario", "year", "sourcing", "remove_country"):
        assert f'<label for="f-{name}">' in page and f'id="f-{name}" name="{name}"' in page
    for country in ("US", "CA", "MX"):
        assert f'<option value="{country}">' in page


# -- numbers agree with the engines ----------------------------------------------------------

@pytest.mark.parametrize("sourcing", ["na", "non-feoc", "allied"])
def test_network_bound_matches_the_engine(client: TestClient, dataset: Dataset,
                                          sourcing: str) -> None:
    page = get_ok(client, f"/network?year=2030&sourcing={sourcing}")
    report, _prepared = analytics_service.network(
        dataset, analytics_service.scenario_named(None), [2030],
        Sourcing.named(views.check_sourcing(sourcing)))
    bound = report.year(2030)
    assert card(page, "bound-gwh") == pytest.approx(round(bound.cells_gwh, 1))
    family = figures(page)["network-families"]["data"]
    shown = {trace["name"]: trace["y"][0] for trace in family}
    assert shown["layered"] == pytest.approx(bound.by_family["layered"], abs=0.05)
    assert shown["phosphate"] == pytest.approx(bound.by_family["phosphate"], abs=0.05)
    api = client.get(f"/api/v1/analytics/network?year=2030&sourcing={sourcing}").json()
    assert card(page, "bound-gwh") == pytest.approx(round(api["bound_gwh"], 1))


def test_stage_explorer_matches_the_gap_table(client: TestClient, dataset: Dataset) -> None:
    page = get_ok(client, "/stages?stage=cathode&scenario=post-2025-law")
    scenario = analytics_service.scenario_named("post-2025-law")
    years = views.demand_years(scenario)
    frame, _prepared = analytics_service.gap(dataset, scenario, years)
    layered = frame[frame["flow"] == "cam_layered"].sort_values("year")
    figure = figures(page)["stage-cam_layered"]
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert traces["requirement"]["x"] == years
    assert traces["requirement"]["y"] == pytest.approx(list(layered["requirement"]), abs=0.05)
    assert traces["plausible capacity"]["y"] == pytest.approx(list(layered["plausible"]),
                                                              abs=0.05)
    assert traces["announced capacity"]["y"] == pytest.approx(list(layered["announced"]),
                                                              abs=0.05)


def test_control_shares_match_the_concentration_report(client: TestClient,
                                                       dataset: Dataset) -> None:
    page = get_ok(client, "/control?year=2030")
    found, covered = analytics_service.concentration_report(dataset, 2030,
                                                            "controller_country")
    figure = figures(page)["control-shares"]
    labels = figure["data"][0]["y"]
    for position, _label in enumerate(labels):
        assert sum(t["x"][position] for t in figure["data"]) == pytest.approx(100, abs=0.5)
    cells = found.shares[found.shares["flow"] == "cells"]
    for country, share in zip(cells["key"], cells["share"], strict=True):
        traces = [t for t in figure["data"] if t["name"] == country]
        if traces:
            assert traces[0]["x"][labels.index("cell: cells")] == pytest.approx(100 * share,
                                                                               abs=0.1)
    for facilities in covered["facilities"]:
        for facility in facilities:
            assert html.escape(facility) in page


def test_flows_sankey_conserves_demand(client: TestClient, dataset: Dataset) -> None:
    page = get_ok(client, "/flows?year=2030")
    scenario = analytics_service.scenario_named(None)
    frame, _prepared = analytics_service.gap(dataset, scenario, [2030])
    demand = float(frame["demand_gwh"].iloc[0])
    sankey = figures(page)["material-sankey"]["data"][0]
    labels, link = sankey["node"]["label"], sankey["link"]
    target = next(i for i, label in enumerate(labels) if label.startswith("Cell demand"))
    into_demand = sum(v for t, v in zip(link["target"], link["value"], strict=True)
                      if t == target)
    assert into_demand == pytest.approx(demand, abs=0.01)
    # Imported cells are the cell gap, in GWh of demand.
    cells = frame[frame["flow"] == "cells"].iloc[0]
    imported = max(0.0, float(cells["requirement"] - cells["plausible"]))
    imported_node = next(i for i, label in enumerate(labels)
                         if label.startswith("Cells, imported"))
    shown = sum(v for s, t, v in zip(link["source"], link["target"], link["value"],
                                     strict=True) if s == imported_node and t == target)
    assert shown == pytest.approx(imported, abs=0.01)
    assert "GWh of cell demand" in page and "scarcest flow" in page


def test_flow_links_balance_every_column() -> None:
    steps = [flows.ChainStep("a", "A", 0.2, "x", 20.0, 80.0),
             flows.ChainStep("b", "B", 0.5, "y", 50.0, 50.0),
             flows.ChainStep("c", "C", 0.1, "z", 10.0, 90.0)]
    links = flows._links(steps)
    for step in steps:
        out = sum(link["gwh"] for link in links if link["source"].startswith(step.key + ":"))
        assert out == pytest.approx(100.0)
    for node, value in (("b:na", 50.0), ("b:imported", 50.0), ("c:na", 10.0)):
        assert sum(link["gwh"] for link in links if link["target"] == node) == pytest.approx(
            value)
    # Domestic supply feeds domestic processing first.
    assert {"source": "a:na", "target": "b:na", "gwh": 20.0} in links


def test_scenario_runner_costs_the_disruption(client: TestClient, dataset: Dataset) -> None:
    page = get_ok(client, "/scenario?year=2030&sourcing=allied&remove_country=CA")
    base = analytics_service.scenario_named(None).model_copy(
        update={"sourcing": analytics_service.scenario_named(None).sourcing.model_copy(
            update={"policy": "allied"})})
    whole, _ = analytics_service.network(dataset, base, [2030])
    hit = base.model_copy(update={"disruptions": (Disruption(remove_country="CA"),)})
    without, _ = analytics_service.network(dataset, hit, [2030])
    assert card(page, "bound-baseline") == pytest.approx(round(whole.year(2030).cells_gwh, 1))
    assert card(page, "bound-disrupted") == pytest.approx(
        round(without.year(2030).cells_gwh, 1))
    assert card(page, "bound-cost") == pytest.approx(
        round(whole.year(2030).cells_gwh - without.year(2030).cells_gwh, 1), abs=0.06)
    assert "removed" in page and "facilities in CA" in page
    bars = figures(page)["scenario-sufficiency"]["data"]
    assert [t["name"] for t in bars] == ["without disruption", "without CA"]


def test_scenario_runner_uncertainty_range(client: TestClient) -> None:
    page = get_ok(client, "/scenario?year=2029&uncertainty=1")
    assert f"over {views.UNCERTAINTY_DRAWS} draws" in page


def test_preset_defaults_to_a_year_its_demand_covers(client: TestClient) -> None:
    page = get_ok(client, "/scenario?scenario=us-ev-iea")
    assert "us-ev-iea" in page and "in 2024;" in page


# -- bad parameters and escaping -------------------------------------------------------------

@pytest.mark.parametrize(("url", "message"), [
    ("/stages?stage=recycling", "Unknown stage"),
    ("/stages?stage=nonsense", "Unknown stage"),
    ("/stages?scenario=nope", "Unknown scenario"),
    ("/stages?scenario=../../etc/passwd.yaml", "Unknown scenario"),
    ("/control?year=1999", "Year must be"),
    ("/control?year=20x0", "Year must be"),
    ("/network?year=2100", "Year must be"),
    ("/network?sourcing=everyone", "Unknown sourcing policy"),
    ("/flows?year=2035", "says nothing about 2035"),
    ("/flows?scenario=nope", "Unknown scenario"),
    ("/scenario?remove_country=ZZ", "No facility in the atlas"),
    ("/scenario?year=-5", "Year must be"),
    ("/scenario?sourcing=na&year=2040", "says nothing about 2040"),
])
def test_bad_parameters_give_422_with_a_message(client: TestClient, url: str,
                                                message: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    alert = ALERT.search(response.text)
    assert alert and message in html.unescape(alert.group(1))
    # The form comes back so the visitor can correct the request.
    assert '<form class="filters" method="get"' in response.text


@pytest.mark.parametrize("url", [
    "/stages?scenario=%3Cscript%3Ealert(1)%3C/script%3E",
    "/stages?stage=%3Cscript%3Ealert(1)%3C/script%3E",
    "/network?sourcing=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
    "/scenario?remove_country=%3Cimg%20src=x%20onerror=alert(1)%3E",
    "/control?year=%3Cscript%3E",
])
def test_reflected_parameters_are_escaped(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert "alert(1)</script>" not in response.text and "<img" not in response.text
    alert = ALERT.search(response.text)
    assert alert and "&lt;" in alert.group(1)
