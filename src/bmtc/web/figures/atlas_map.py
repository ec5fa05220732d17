"""The facility map as an ordinary cartesian plotly figure over projected kilometres.
plotly's geographic traces fetch their outlines, tiles and glyphs from other sites, which
the dashboard never does; the boundaries here come from the package's own data. map.js
refills the marker traces (found by their `meta`) whenever the reader zooms or pans."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from bmtc.domain.vocab import Stage, Status
from bmtc.views.atlas_map import Box, Grouping, MapFacility
from bmtc.views.geo import BoundaryPaths
from bmtc.web.figures import STATUS_COLOURS, layout

STAGE_SYMBOLS = dict(zip(
    (s.value for s in Stage),
    ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon", "hexagon",
     "star", "cross", "x", "hourglass"), strict=True))
CLUSTER_COLOUR = "#3b4650"
INNER_LINE = {"color": "#c9ced4", "width": 0.6}
OUTLINE = {"color": "#8a939c", "width": 1}


def label(value: str) -> str:
    return value.replace("_", " ")


def cluster_size(count: int) -> float:
    return round(min(44.0, 18.0 + 5.0 * math.log2(count)), 1)


def boundary_traces(paths: BoundaryPaths) -> list[dict[str, Any]]:
    common = {"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
              "meta": "boundary"}
    return [
        {**common, "name": "state and province lines", "x": paths.inner[0],
         "y": paths.inner[1], "line": INNER_LINE},
        {**common, "name": "coasts and borders", "x": paths.outline[0],
         "y": paths.outline[1], "line": OUTLINE},
    ]


def cluster_trace(grouping: Grouping) -> dict[str, Any]:
    clusters = grouping.clusters
    return {
        "type": "scatter", "mode": "markers+text", "name": "groups (click to zoom)",
        "meta": "clusters", "legendgroup": "clusters", "showlegend": False,
        "x": [c.x for c in clusters], "y": [c.y for c in clusters],
        "text": [str(len(c.members)) for c in clusters],
        "customdata": [[i, c.summary] for i, c in enumerate(clusters)],
        "hovertemplate": "%{customdata[1]}<extra></extra>",
        "textfont": {"color": CLUSTER_COLOUR, "size": 11},
        # White with a dark ring: unlike any status colour, so a group never reads as one.
        "marker": {"color": "#ffffff", "opacity": 0.92,
                   "size": [cluster_size(len(c.members)) for c in clusters],
                   "line": {"color": CLUSTER_COLOUR, "width": 2}},
    }


def status_key(status: str) -> dict[str, Any]:
    """The legend entry of a status: a plain circle (the legend would otherwise show the
    shape of whichever facility comes first), which hides or shows the status's markers."""
    return {"type": "scatter", "mode": "markers", "name": label(status),
            "meta": "status-key", "legendgroup": f"status:{status}", "x": [None],
            "y": [None], "hoverinfo": "skip",
            "marker": {"color": STATUS_COLOURS[status], "size": 10, "symbol": "circle"}}


def status_trace(status: str, singles: tuple[MapFacility, ...]) -> dict[str, Any]:
    """One trace per status, so a status can be hidden from the legend."""
    shown = [f for f in singles if f.status == status]
    return {
        "type": "scatter", "mode": "markers", "name": label(status),
        "meta": f"status:{status}", "legendgroup": f"status:{status}", "showlegend": False,
        "x": [f.x for f in shown], "y": [f.y for f in shown],
        # Names go to plotly's hover labels, which read a little HTML: escaped here (and in
        # map.js) so a name is only ever text.
        "text": [escape(f.name, quote=False) for f in shown],
        "customdata": [[f.id, label(f.stage)] for f in shown],
        "hovertemplate": f"<b>%{{text}}</b><br>%{{customdata[1]}}, {label(status)}"
                         "<extra></extra>",
        "marker": {"color": STATUS_COLOURS[status], "size": 11,
                   "symbol": [STAGE_SYMBOLS[f.stage] for f in shown],
                   "line": {"color": "#ffffff", "width": 1}},
    }


def symbol_path(symbol: str, r: float = 5.0) -> str:
    """SVG path data of a plotly marker symbol of radius `r` around (0, 0), for the stage
    key drawn in HTML next to the map (readable by screen readers, unlike plotly's legend,
    and lighter for plotly to draw)."""
    if symbol == "circle":
        return f"M{r},0A{r},{r} 0 1,1 -{r},0A{r},{r} 0 1,1 {r},0Z"
    shapes = {
        "square": [(-r, -r), (r, -r), (r, r), (-r, r)],
        "diamond": [(0, -r), (r, 0), (0, r), (-r, 0)],
        "triangle-up": [(0, -r), (r, r * 0.8), (-r, r * 0.8)],
        "triangle-down": [(0, r), (r, -r * 0.8), (-r, -r * 0.8)],
        "pentagon": _polygon(5, r),
        "hexagon": _polygon(6, r),
        "star": [p for a, b in zip(_polygon(5, r), _polygon(5, r * 0.4, half=True),
                                    strict=True) for p in (a, b)],
        "cross": _cross(r),
        "x": [(round(x * 0.7071 - y * 0.7071, 2), round(x * 0.7071 + y * 0.7071, 2))
              for x, y in _cross(r)],
        "hourglass": [(-r, -r), (r, -r), (-r, r), (r, r)],
    }
    points = shapes[symbol]
    return "M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z"


def _polygon(sides: int, r: float, half: bool = False) -> list[tuple[float, float]]:
    """A regular polygon with a vertex at the top (half a step round with `half`)."""
    angles = (2 * math.pi * (i + (0.5 if half else 0.0)) / sides for i in range(sides))
    return [(round(r * math.sin(a), 2), round(-r * math.cos(a), 2)) for a in angles]


def _cross(r: float) -> list[tuple[float, float]]:
    w = r * 0.35
    return [(-w, -r), (w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w),
            (-r, w), (-r, -w), (-w, -w)]


def stage_key() -> list[dict[str, str]]:
    """The marker shape of each stage, as SVG path data for the page's key."""
    return [{"stage": label(stage), "path": symbol_path(symbol)}
            for stage, symbol in STAGE_SYMBOLS.items()]


def map_figure(paths: BoundaryPaths, grouping: Grouping, view: Box) -> dict[str, Any]:
    x0, x1, y0, y1 = view
    axis = {"visible": False, "showgrid": False, "zeroline": False}
    return {
        "data": [*boundary_traces(paths), cluster_trace(grouping),
                 *(status_trace(s.value, grouping.singles) for s in Status),
                 *(status_key(s.value) for s in Status)],
        "layout": layout(
            dragmode="pan", hovermode="closest", uirevision="map",
            # map.js gives markers it receives later the same shapes.
            meta={"stage_symbols": STAGE_SYMBOLS},
            margin={"l": 4, "r": 4, "t": 4, "b": 4},
            xaxis={**axis, "range": [x0, x1]},
            yaxis={**axis, "range": [y0, y1], "scaleanchor": "x", "scaleratio": 1},
            # Inside the map's south-east corner, open sea at every zoom that shows the whole
            # continent, so the map keeps the full width of the page.
            legend={"orientation": "v", "x": 0.995, "xanchor": "right", "y": 0.01,
                    "yanchor": "bottom", "bgcolor": "rgba(255,255,255,0.85)",
                    "bordercolor": "#d5d9de", "borderwidth": 1, "font": {"size": 12},
                    "title": {"text": "Status"}},
        ),
    }
