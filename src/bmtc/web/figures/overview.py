"""Overview figures: facilities by stage and status, cell capacity by status, and the
self-sufficiency of each flow in the target year."""

from __future__ import annotations

from typing import Any

from bmtc.views.overview import STATUS_GROUPS, Overview
from bmtc.web.figures import STATUS_COLOURS, layout


def facilities_by_stage(view: Overview) -> dict[str, Any]:
    stages = list(dict.fromkeys(r["stage"] for r in view.facility_counts))
    traces = [
        {"type": "bar", "name": status.replace("_", " "), "x": stages,
         "y": [next(r["facilities"] for r in view.facility_counts
                    if r["stage"] == s and r["status"] == status) for s in stages],
         "marker": {"color": STATUS_COLOURS[status]}}
        for status in STATUS_GROUPS
    ]
    return {"data": traces, "layout": layout(barmode="stack", yaxis={"title": "facilities"},
                                             title={"text": "Facilities by stage and status"})}


def cell_capacity(view: Overview) -> dict[str, Any]:
    statuses = [s for s in STATUS_GROUPS if s in view.cell_gwh]
    return {"data": [{"type": "bar", "orientation": "h",
                      "y": [s.replace("_", " ") for s in statuses],
                      "x": [view.cell_gwh[s] for s in statuses],
                      "marker": {"color": [STATUS_COLOURS[s] for s in statuses]}}],
            "layout": layout(xaxis={"title": "GWh per year"},
                             title={"text": "Cell capacity by status"},
                             margin={"l": 140, "r": 20, "t": 40, "b": 50})}


def self_sufficiency(view: Overview) -> dict[str, Any]:
    rows = [r for r in view.gap if r["self_sufficiency"] is not None]
    return {"data": [{"type": "bar", "orientation": "h",
                      "y": [f"{r['stage']}: {r['flow']}" for r in rows],
                      "x": [min(r["self_sufficiency"], 2.0) * 100 for r in rows],
                      "marker": {"color": ["#009E73" if r["self_sufficiency"] >= 1
                                           else "#D55E00" for r in rows]},
                      "hovertemplate": "%{y}: %{x:.0f}% of requirement<extra></extra>"}],
            "layout": layout(xaxis={"title": "plausible capacity, % of requirement "
                                             "(capped at 200%)"},
                             title={"text": f"Self-sufficiency in {view.year}"},
                             height=max(320, 22 * len(rows) + 120),
                             margin={"l": 260, "r": 20, "t": 40, "b": 50},
                             shapes=[{"type": "line", "x0": 100, "x1": 100, "y0": 0, "y1": 1,
                                      "yref": "paper", "line": {"dash": "dot"}}])}
