"""Charts for the brief, drawn with matplotlib as SVG text.

The figures are built on `matplotlib.figure.Figure` and saved through the SVG canvas, never
through pyplot, so no interactive backend is ever chosen and nothing touches global figure
state; the Agg backend is selected for any pyplot use elsewhere in the same process. Text stays
text (`svg.fonttype = none`) in DejaVu Sans, which matplotlib ships: no font is fetched, and the
words in a chart are searchable in the PDF. The salt and the dropped date make the same data
draw the same bytes, so a brief built twice from one snapshot is identical.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common form of
# colour-vision deficiency. Black is last: it is kept for reference lines.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442",
           "#000000")
OTHER = "#BBBBBB"
WIDTH_IN = 6.6

_STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 8.5,
    "legend.frameon": False,
    "svg.image_inline": True,
}


@dataclass(frozen=True)
class Chart:
    svg: str
    alt: str


def _style(salt: str) -> dict[RcKeyType, Any]:
    return {**_STYLE, "svg.hashsalt": salt}


def _colour(index: int, name: str) -> str:
    return OTHER if name == "other" else PALETTE[index % (len(PALETTE) - 1)]


def _svg(figure: Figure, salt: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight",
                   metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    # Inline in HTML: no XML prolog or DOCTYPE, and a width that follows the page.
    text = text[text.index("<svg"):]
    # Several charts share one HTML page: prefix their ids so none repeats and every
    # internal reference (markers, clip paths) still finds its own chart's element.
    text = re.sub(r'id="([^"]+)"', rf'id="{salt}-\1"', text)
    text = re.sub(r'(href="#|url\(#)([^")]+)', rf"\g<1>{salt}-\2", text)
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r'<svg\1 width="100%"', text,
                  count=1)


def _listing(categories: Sequence[str], series: Mapping[str, Sequence[float]],
             fmt: str) -> str:
    parts = []
    for i, category in enumerate(categories):
        values = ", ".join(f"{name} {format(values[i], fmt)}" for name, values in series.items()
                           if values[i])
        parts.append(f"{category}: {values or 'none'}")
    return "; ".join(parts)


def bars(categories: Sequence[str], series: Mapping[str, Sequence[float]], *, salt: str,
         label: str, stacked: bool = True, value_format: str = ",.0f",
         reference: tuple[float, str] | None = None, limit: float | None = None,
         annotate: bool = False) -> Chart:
    """Horizontal bars, one row per category, stacked or side by side per series, first
    category at the top; `reference` draws a labelled vertical line (e.g. 100%)."""
    per_row = 0.12 if len(series) == 1 else 0.14 if stacked else 0.19
    height = max(1.6, per_row * len(categories) + 0.8)
    with rc_context(_style(salt)):
        figure = Figure(figsize=(WIDTH_IN, height))
        axes: Axes = figure.add_subplot()
        rows = list(range(len(categories)))[::-1]
        left = [0.0] * len(categories)
        width = 0.8 if stacked else 0.8 / max(len(series), 1)
        for i, (name, values) in enumerate(series.items()):
            clipped = [min(v, limit) if limit else v for v in values]
            offset = 0.0 if stacked else (i - (len(series) - 1) / 2) * width
            axes.barh([r + offset for r in rows], clipped, height=width,
                      left=left if stacked else None, color=_colour(i, name), label=name,
                      edgecolor="white", linewidth=0.4)
            if annotate:
                for row, value in zip(rows, values, strict=True):
                    axes.annotate(format(value, value_format), (min(value, limit or value),
                                                               row + offset),
                                  xytext=(3, 0), textcoords="offset points", va="center",
                                  fontsize=6.5)
            if stacked:
                left = [a + b for a, b in zip(left, clipped, strict=True)]
        axes.set_yticks(rows, list(categories))
        axes.set_xlabel(label)
        if reference is not None:
            axes.axvline(reference[0], color=PALETTE[-1], linewidth=0.9, linestyle="--")
            axes.annotate(reference[1], (reference[0], 1.0), xycoords=("data", "axes fraction"),
                          xytext=(3, -2), textcoords="offset points", va="top", fontsize=6.5)
        if len(series) > 1:
            axes.legend(loc="lower right", fontsize=6.5, ncols=min(len(series), 4),
                        bbox_to_anchor=(1.0, 1.0))
        axes.grid(axis="x", color="#DDDDDD", linewidth=0.5)
        axes.set_axisbelow(True)
        svg = _svg(figure, salt)
    kind = "Stacked horizontal bar chart" if stacked and len(series) > 1 else (
        "Horizontal bar chart")
    return Chart(svg, f"{kind} of {label}. {_listing(categories, series, value_format)}.")


def lines(years: Sequence[int], series: Mapping[str, Sequence[float]], *, salt: str,
          label: str, value_format: str = ",.1f") -> Chart:
    """One line per series over the years, with markers so the lines differ without colour."""
    markers = ("o", "s", "^", "D", "v", "P")
    with rc_context(_style(salt)):
        figure = Figure(figsize=(WIDTH_IN, 2.0))
        axes: Axes = figure.add_subplot()
        for i, (name, values) in enumerate(series.items()):
            axes.plot(list(years), list(values), color=_colour(i, name), label=name,
                      marker=markers[i % len(markers)], markersize=3.5, linewidth=1.4)
        axes.set_xticks(list(years), [str(y) for y in years])
        axes.set_ylabel(label)
        axes.set_ylim(bottom=0)
        axes.grid(axis="y", color="#DDDDDD", linewidth=0.5)
        axes.legend(loc="upper left", fontsize=6.5)
        svg = _svg(figure, salt)
    listing = _listing([str(y) for y in years], series, value_format)
    return Chart(svg, f"Line chart of {label} by year. {listing}.")
