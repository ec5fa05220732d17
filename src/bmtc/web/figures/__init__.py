"""Plotly figures for the dashboard, built as plain dicts (``fig.to_plotly_json()``) from
view records. Colours are the Okabe-Ito palette, safe for the common colour-vision
deficiencies; status colours are fixed so a status looks the same on every page."""

from __future__ import annotations

import html
from typing import Any

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
             "#000000")
STATUS_COLOURS = {
    "operating": "#009E73",
    "under_construction": "#0072B2",
    "announced": "#E69F00",
    "paused": "#CC79A7",
    "cancelled": "#999999",
    "closed": "#555555",
}
BASE_LAYOUT: dict[str, Any] = {
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif",
             "size": 13},
    "margin": {"l": 60, "r": 20, "t": 40, "b": 60},
    "colorway": list(OKABE_ITO),
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "legend": {"orientation": "h", "y": -0.2},
}


def plot_text(value: object) -> str:
    """Text from the data for plotly labels and hover text, which read a little HTML
    (links, spans): escaped, so a name can never become markup."""
    return html.escape(str(value), quote=False)


def layout(**overrides: Any) -> dict[str, Any]:
    return {**BASE_LAYOUT, **overrides}
