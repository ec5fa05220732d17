"""The ownership graph of a screened party: owners above what they hold, the evidence path in
vermillion with thicker lines, everything else in muted tones, and hover text on every party
and every holding."""

from __future__ import annotations

from typing import Any

from bmtc.views.screening import GraphEdge, GraphNode, ScreeningView
from bmtc.web.figures import OKABE_ITO, layout, plot_text

PATH_COLOUR = OKABE_ITO[3]  # vermillion
PARTY_COLOUR = OKABE_ITO[0]  # blue
SCREENED_COLOUR = OKABE_ITO[1]  # orange
EDGE_COLOUR = "#9aa3ad"
PATH_TRACE = "Evidence path"


def ownership_figure(view: ScreeningView) -> dict[str, Any]:
    where = {n.org_id: (n.x, n.layer) for n in view.nodes}
    names = {n.org_id: n.name for n in view.nodes}
    plain = [e for e in view.edges if not e.on_path]
    highlighted = [e for e in view.edges if e.on_path]
    traces = [
        _edge_trace(plain, where, "Holdings", EDGE_COLOUR, 1.5),
        _edge_trace(highlighted, where, PATH_TRACE, PATH_COLOUR, 4.0),
        _stake_trace(view.edges, where, names),
        _node_trace([n for n in view.nodes if not n.on_path and not n.screened],
                    "Owners", PARTY_COLOUR, "circle"),
        _node_trace([n for n in view.nodes if n.on_path and not n.screened],
                    "Parties on the evidence path", PATH_COLOUR, "circle"),
        _node_trace([n for n in view.nodes if n.screened], "Screened party",
                    SCREENED_COLOUR, "diamond"),
    ]
    layers = max((n.layer for n in view.nodes), default=0) + 1
    widest = max((abs(n.x) for n in view.nodes), default=0.0)
    hidden = {"visible": False, "zeroline": False, "showgrid": False, "fixedrange": True}
    return {
        "data": [t for t in traces if t["x"]],
        "layout": layout(
            height=max(320, 140 * layers),
            hovermode="closest",
            xaxis={**hidden, "range": [-widest - 1.2, widest + 1.2]},
            yaxis={**hidden, "range": [-0.6, layers - 0.4]},
            margin={"l": 20, "r": 20, "t": 30, "b": 60},
        ),
    }


def _edge_trace(edges: list[GraphEdge], where: dict[str, tuple[float, int]], name: str,
                colour: str, width: float) -> dict[str, Any]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for edge in edges:
        (x0, y0), (x1, y1) = where[edge.holder], where[edge.subject]
        # None breaks the line, so one trace draws every edge of its kind.
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return {"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys,
            "hoverinfo": "skip", "line": {"color": colour, "width": width}}


def _stake_trace(edges: tuple[GraphEdge, ...], where: dict[str, tuple[float, int]],
                 names: dict[str, str]) -> dict[str, Any]:
    """Invisible points halfway along each edge, carrying the holding's hover text."""
    xs, ys, texts = [], [], []
    for edge in edges:
        (x0, y0), (x1, y1) = where[edge.holder], where[edge.subject]
        xs.append((x0 + x1) / 2)
        ys.append((y0 + y1) / 2)
        texts.append(f"{plot_text(names[edge.holder])} holds {plot_text(edge.stake)} of "
                     f"{plot_text(names[edge.subject])}"
                     f"<br>source dated {plot_text(edge.source_date or 'undated')}"
                     + ("<br>on the evidence path" if edge.on_path else ""))
    return {"type": "scatter", "mode": "markers", "name": "Stakes", "x": xs, "y": ys,
            "hovertext": texts, "hoverinfo": "text", "showlegend": False,
            "marker": {"size": 12, "color": "rgba(0,0,0,0)"}}


def _node_trace(nodes: list[GraphNode], name: str, colour: str, symbol: str,
                ) -> dict[str, Any]:
    return {
        "type": "scatter", "mode": "markers+text", "name": name,
        "x": [n.x for n in nodes], "y": [n.layer for n in nodes],
        "text": [plot_text(n.name) for n in nodes], "textposition": "top center",
        "customdata": [n.org_id for n in nodes],
        "hovertext": [_node_hover(n) for n in nodes], "hoverinfo": "text",
        "marker": {"size": 18 if symbol == "diamond" else 13, "color": colour,
                   "symbol": symbol, "line": {"color": "#1b1f24", "width": 1}},
    }


def _node_hover(node: GraphNode) -> str:
    lines = [plot_text(node.name),
             plot_text(f"{node.kind or 'party'}, {node.country or 'country unknown'}")]
    if node.lists:
        lines.append("listed: " + plot_text(", ".join(node.lists)))
    return "<br>".join(lines)
