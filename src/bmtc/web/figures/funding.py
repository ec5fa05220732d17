"""The policy timeline (one row per family of rules, a marker where each rule starts and a bar
while it runs) and the funding awards over time (amount on a log scale, one colour per
currency, since dollars of different countries are not added or compared as one)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bmtc.views.funding import Award, PolicyEvent
from bmtc.web.figures import OKABE_ITO, layout, plot_text

# Rules still in force are drawn this far past today, so an open end reads as open.
OPEN_END_YEARS = 2


def policy_timeline(events: tuple[PolicyEvent, ...], today: date) -> dict[str, Any]:
    groups = list(dict.fromkeys(e.group for e in sorted(events, key=lambda e: e.group)))
    horizon = date(today.year + OPEN_END_YEARS, 12, 31)
    traces = []
    for index, group in enumerate(groups):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        rows = [e for e in events if e.group == group]
        traces.append(_spans(rows, group, colour, horizon))
        traces.append({
            "type": "scatter", "mode": "markers", "name": group, "legendgroup": group,
            "x": [e.day.isoformat() for e in rows], "y": [group] * len(rows),
            "hovertext": [_event_hover(e) for e in rows], "hoverinfo": "text",
            "marker": {"color": colour, "size": 10, "symbol": "diamond",
                       "line": {"color": "#1b1f24", "width": 0.5}},
        })
    return {"data": traces, "layout": layout(
        height=max(360, 44 * len(groups) + 120), hovermode="closest", showlegend=False,
        margin={"l": 230, "r": 20, "t": 30, "b": 50},
        xaxis={"type": "date", "title": {"text": "Effective from"}},
        yaxis={"type": "category", "autorange": "reversed"},
        shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": today.isoformat(),
                 "x1": today.isoformat(), "y0": 0, "y1": 1,
                 "line": {"color": "#555e68", "dash": "dot", "width": 1}}],
        annotations=[{"x": today.isoformat(), "y": 1, "xref": "x", "yref": "paper",
                      "text": "today", "showarrow": False, "yanchor": "bottom"}],
    )}


def _spans(rows: list[PolicyEvent], group: str, colour: str, horizon: date,
           ) -> dict[str, Any]:
    xs: list[str | None] = []
    ys: list[str | None] = []
    for event in rows:
        end = event.until or max(horizon, event.day)
        xs += [event.day.isoformat(), end.isoformat(), None]
        ys += [group, group, None]
    return {"type": "scatter", "mode": "lines", "name": group, "legendgroup": group,
            "x": xs, "y": ys, "hoverinfo": "skip", "showlegend": False,
            "opacity": 0.35, "line": {"color": colour, "width": 8}}


def _event_hover(event: PolicyEvent) -> str:
    until = f" to {event.until}" if event.until else " (no end date)"
    return (f"{plot_text(event.label)}<br>{plot_text(event.rule_id)}: from {event.day}{until}"
            f"<br>{plot_text(event.citation)}<br>confidence: {plot_text(event.confidence)}")


def awards_figure(awards: tuple[Award, ...]) -> dict[str, Any]:
    drawn = [a for a in awards if a.day is not None and a.amount]
    currencies = sorted({a.currency for a in drawn})
    traces = []
    for index, currency in enumerate(currencies):
        rows = [a for a in drawn if a.currency == currency]
        traces.append({
            "type": "scatter", "mode": "markers", "name": currency,
            "x": [a.day.isoformat() for a in rows if a.day is not None],
            "y": [a.amount for a in rows],
            "hovertext": [_award_hover(a) for a in rows], "hoverinfo": "text",
            "marker": {"color": OKABE_ITO[index % len(OKABE_ITO)], "size": 11,
                       "line": {"color": "#1b1f24", "width": 0.5}},
        })
    return {"data": traces, "layout": layout(
        height=420, hovermode="closest",
        xaxis={"type": "date", "title": {"text": "Announced"}},
        yaxis={"type": "log", "title": {"text": "Amount (in the award's currency)"}},
    )}


def _award_hover(award: Award) -> str:
    return (f"{plot_text(award.recipient)}<br>{plot_text(award.program)} "
            f"({plot_text(award.agency)})"
            f"<br>{award.amount:,.0f} {plot_text(award.currency)}, {plot_text(award.status)}"
            f"<br>announced {plot_text(award.announced)}; source: "
            f"{plot_text(award.publisher or award.source_url)}")
