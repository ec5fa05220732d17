"""Figures for the analysis pages, built with plotly.graph_objects (which checks every
attribute) and handed to the page as plain dicts. The "none" template keeps plotly's large
default theme out of the page; colours come from the shared Okabe-Ito layout."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from bmtc.views.analysis import (
    FlowSeries,
    ForeignControl,
    NetworkView,
    ScenarioRun,
)
from bmtc.views.flows import MaterialFlows
from bmtc.web.figures import OKABE_ITO, layout

NORTH_AMERICAN = "#0072B2"
IMPORTED = "#E69F00"
COVERED = "#D55E00"
OTHER = "#999999"
FAMILY_COLOURS = {"layered": "#0072B2", "phosphate": "#009E73"}
# Countries drawn one by one in the control chart; the rest are grouped as "other".
MAX_COUNTRIES = 8


def _figure(traces: list[Any], **overrides: Any) -> dict[str, Any]:
    figure = go.Figure(data=traces, layout=layout(template="none", **overrides))
    plain: dict[str, Any] = figure.to_plotly_json()
    return plain


def _rgba(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def stage_flow(series: FlowSeries, scenario: str) -> dict[str, Any]:
    """Capacity (announced, plausible) as bars against the requirement as a line."""
    years = [r["year"] for r in series.rows]
    traces = [
        go.Bar(name="announced capacity", x=years, y=[r["announced"] for r in series.rows],
               marker={"color": "#56B4E9"}),
        go.Bar(name="plausible capacity", x=years, y=[r["plausible"] for r in series.rows],
               marker={"color": NORTH_AMERICAN}),
        go.Scatter(name="requirement", x=years, y=[r["requirement"] for r in series.rows],
                   mode="lines+markers", line={"color": COVERED, "width": 3}),
    ]
    return _figure(traces, barmode="group",
                   title={"text": f"{series.label}: capacity and requirement ({scenario})"},
                   xaxis={"title": {"text": "year"}, "dtick": 1},
                   yaxis={"title": {"text": f"{series.unit} per year"}})


def _country_colours(countries: list[str], covered: set[str]) -> dict[str, str]:
    """Covered nations always in vermillion, so they read the same in every chart."""
    palette = iter([c for c in OKABE_ITO if c != COVERED] * 2)
    return {country: COVERED if country in covered
            else OTHER if country in ("other", "unknown") else next(palette)
            for country in countries}


def control_shares(view: ForeignControl) -> dict[str, Any]:
    """Stacked shares of each stage and flow by ultimate controlling country."""
    rows = view.shares
    labels = list(dict.fromkeys(f"{r['stage']}: {r['flow']}" for r in rows))
    weight: dict[str, float] = {}
    for r in rows:
        weight[r["controller_country"]] = weight.get(r["controller_country"], 0.0) + (
            r["share_pct"] or 0.0)
    covered = set(view.covered_nations)
    ranked = sorted(weight, key=lambda c: (c not in covered, -weight[c]))
    drawn = [c for c in ranked if c != "unknown"][:MAX_COUNTRIES]
    groups = [*drawn, "other"]
    colours = _country_colours(groups, covered)
    share: dict[tuple[str, str], float] = {}
    for r in rows:
        key = r["controller_country"] if r["controller_country"] in drawn else "other"
        label = f"{r['stage']}: {r['flow']}"
        share[(label, key)] = share.get((label, key), 0.0) + (r["share_pct"] or 0.0)
    traces = [go.Bar(name=country, orientation="h", y=labels,
                     x=[round(share.get((label, country), 0.0), 1) for label in labels],
                     marker={"color": colours[country]},
                     hovertemplate=f"{country}: %{{x:.1f}}%<extra>%{{y}}</extra>")
              for country in groups if any(share.get((lb, country)) for lb in labels)]
    return _figure(traces, barmode="stack",
                   title={"text": f"Capacity by ultimate controlling country, {view.year}"},
                   xaxis={"title": {"text": "% of plausible North American capacity"},
                          "range": [0, 100]},
                   yaxis={"autorange": "reversed"},
                   height=max(360, 24 * len(labels) + 140),
                   margin={"l": 230, "r": 20, "t": 40, "b": 60})


def network_families(view: NetworkView) -> dict[str, Any]:
    """The bound split by cathode family, next to the cell capacity the policy counts."""
    traces = [go.Bar(name=family, x=["network bound"], y=[round(view.by_family[family], 1)],
                     marker={"color": FAMILY_COLOURS[family]})
              for family in ("layered", "phosphate")]
    traces.append(go.Bar(name="cell capacity counted", x=["cell capacity counted"],
                         y=[round(view.cell_capacity_gwh, 1)], marker={"color": OTHER}))
    return _figure(traces, barmode="stack",
                   title={"text": f"Network bound, {view.year} ({view.sourcing})"},
                   yaxis={"title": {"text": "GWh of cells per year"}})


def network_trend(view: NetworkView) -> dict[str, Any]:
    years = [r["year"] for r in view.trend]
    traces = [
        go.Scatter(name="network bound", x=years, y=[r["bound_gwh"] for r in view.trend],
                   mode="lines+markers", line={"color": NORTH_AMERICAN, "width": 3}),
        go.Scatter(name="cell capacity counted", x=years,
                   y=[r["cell_capacity_gwh"] for r in view.trend], mode="lines",
                   line={"color": OTHER, "dash": "dot"}),
    ]
    return _figure(traces, title={"text": f"Network bound by year ({view.sourcing})"},
                   xaxis={"title": {"text": "year"}, "dtick": 1},
                   yaxis={"title": {"text": "GWh of cells per year"}})


def network_made(view: NetworkView) -> dict[str, Any]:
    """Per flow the solution uses, the part made in North America and the part imported."""
    labels = [f"{r['stage']}: {r['flow']}" for r in view.flows]
    made = [r["made_pct"] for r in view.flows]
    traces = [
        go.Bar(name="made in North America", orientation="h", y=labels, x=made,
               marker={"color": NORTH_AMERICAN}),
        go.Bar(name="imported", orientation="h", y=labels,
               x=[round(100 - m, 1) for m in made], marker={"color": IMPORTED}),
    ]
    return _figure(traces, barmode="stack",
                   title={"text": "What the bound's chain makes and imports"},
                   xaxis={"title": {"text": "% of each flow used"}, "range": [0, 100]},
                   yaxis={"autorange": "reversed"},
                   height=max(320, 24 * len(labels) + 140),
                   margin={"l": 200, "r": 20, "t": 40, "b": 60})


def _node_ids(view: MaterialFlows) -> list[tuple[str, str, str]]:
    """(id, label, colour) of every node: per column a North American and an imported
    node, then cell demand."""
    nodes = []
    for step in view.steps:
        nodes.append((f"{step.key}:na",
                      f"{step.label}, North American ({step.north_american_gwh:,.0f} GWh)",
                      NORTH_AMERICAN))
        nodes.append((f"{step.key}:imported",
                      f"{step.label}, imported ({step.imported_gwh:,.0f} GWh)", IMPORTED))
    nodes.append(("demand", f"Cell demand ({view.demand_gwh:,.0f} GWh)", "#000000"))
    return nodes


def material_sankey(view: MaterialFlows) -> dict[str, Any]:
    nodes = _node_ids(view)
    index = {node_id: i for i, (node_id, _label, _colour) in enumerate(nodes)}
    colours = {node_id: colour for node_id, _label, colour in nodes}
    links = view.links
    trace = go.Sankey(
        arrangement="snap", valueformat=",.1f", valuesuffix=" GWh",
        node={"label": [label for _id, label, _colour in nodes],
              "color": [colour for _id, _label, colour in nodes],
              "pad": 18, "thickness": 16},
        link={"source": [index[link["source"]] for link in links],
              "target": [index[link["target"]] for link in links],
              "value": [link["gwh"] for link in links],
              "color": [_rgba(colours[link["source"]], 0.35) for link in links]})
    return _figure([trace],
                   title={"text": f"Material flows to {view.demand_gwh:,.0f} GWh of cells, "
                                  f"{view.year}, in GWh of cell demand"},
                   height=480, margin={"l": 20, "r": 20, "t": 50, "b": 20})


def scenario_bounds(view: ScenarioRun) -> dict[str, Any]:
    """The bound without and with the disruption, split by cathode family."""
    cases = [("without disruption", view.baseline)]
    if view.disrupted is not None:
        cases.append((f"without {view.removed_country}", view.disrupted))
    names = [name for name, _bound in cases]
    traces = [
        go.Bar(name="layered", x=names, y=[round(b.layered_gwh, 1) for _n, b in cases],
               marker={"color": FAMILY_COLOURS["layered"]}),
        go.Bar(name="phosphate", x=names, y=[round(b.phosphate_gwh, 1) for _n, b in cases],
               marker={"color": FAMILY_COLOURS["phosphate"]}),
    ]
    return _figure(traces, barmode="stack",
                   title={"text": f"Network bound, {view.year} ({view.sourcing})"},
                   yaxis={"title": {"text": "GWh of cells per year"}})


def scenario_sufficiency(view: ScenarioRun) -> dict[str, Any]:
    """Self-sufficiency per flow, with the disrupted case beside it when there is one."""
    rows = [r for r in view.gap if r["self_sufficiency_pct"] is not None]
    labels = [f"{r['stage']}: {r['flow']}" for r in rows]
    traces = [go.Bar(name="without disruption", orientation="h", y=labels,
                     x=[min(r["self_sufficiency_pct"], 200.0) for r in rows],
                     marker={"color": NORTH_AMERICAN})]
    if view.disrupted is not None:
        traces.append(go.Bar(name=f"without {view.removed_country}", orientation="h",
                             y=labels,
                             x=[min(r["self_sufficiency_disrupted_pct"] or 0.0, 200.0)
                                for r in rows],
                             marker={"color": COVERED}))
    return _figure(traces, barmode="group",
                   title={"text": f"Self-sufficiency by flow, {view.year}"},
                   xaxis={"title": {"text": "plausible capacity, % of requirement "
                                            "(capped at 200%)"}},
                   yaxis={"autorange": "reversed"},
                   height=max(360, (34 if view.disrupted else 22) * len(labels) + 140),
                   margin={"l": 290, "r": 20, "t": 40, "b": 60},
                   shapes=[{"type": "line", "x0": 100, "x1": 100, "y0": 0, "y1": 1,
                            "yref": "paper", "line": {"dash": "dot"}}])
