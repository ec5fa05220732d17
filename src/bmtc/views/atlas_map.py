"""The facility map as plain records: facilities projected to kilometres on a conic
equal-area projection, grouped on a grid whose cells shrink as the reader zooms in, and the
state and province boundaries from `views.geo`. No HTML, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bmtc.domain.model import Facility
from bmtc.domain.vocab import Stage, Status
from bmtc.views.geo import project

# Projected coordinates are sent rounded to 100 m: finer than any marker or any recorded
# facility location, and it keeps the page and the /map/points answers small.
PRECISION = 1
# About forty cells across the view: clusters big enough to read, small enough to place.
CELLS_ACROSS = 40
# Cell sizes are powers of two of this base, so clusters stay put while the reader pans and
# only change when the zoom level does.
CELL_BASE_KM = 1.0
MIN_CELL_KM = 0.25
# Facilities recorded at one place (the same city centroid, say) cannot be told apart by
# zooming; such a group carries its members so the reader can pick one from a list.
COLOCATED_KM = 0.1
# Points are sent for half a view beyond each edge, so a short pan shows markers at once.
VIEW_MARGIN = 0.5
# The opening view: the populated part of the continent (southern Mexico to the 60th
# parallel, the Pacific to Newfoundland), widened to take in every facility of the atlas.
HOME_LONLAT = ((-135.0, -52.0), (14.0, 60.0))
# A filtered map opens on its facilities, but never closer than this many kilometres across.
MIN_FITTED_KM = 1200.0

Box = tuple[float, float, float, float]




@dataclass(frozen=True)
class MapFacility:
    id: str
    name: str
    stage: str
    status: str
    country: str
    x: float | None
    y: float | None


def map_facilities(facilities: Iterable[Facility]) -> tuple[MapFacility, ...]:
    """Every facility, sorted by name, with its projected position when it has one."""
    ordered = sorted(facilities, key=lambda f: (f.name.casefold(), f.id))
    placed = [f for f in ordered if f.longitude is not None and f.latitude is not None]
    xs, ys = project([f.longitude or 0.0 for f in placed], [f.latitude or 0.0 for f in placed])
    where = {f.id: (round(float(x), PRECISION), round(float(y), PRECISION))
             for f, x, y in zip(placed, xs, ys, strict=True)}
    return tuple(
        MapFacility(id=f.id, name=f.name, stage=f.stage.value, status=f.status.value,
                    country=f.country, x=where[f.id][0] if f.id in where else None,
                    y=where[f.id][1] if f.id in where else None)
        for f in ordered
    )


@dataclass(frozen=True)
class MapFilter:
    stage: str | None = None
    status: str | None = None
    country: str | None = None

    def keeps(self, facility: MapFacility) -> bool:
        return ((self.stage is None or facility.stage == self.stage)
                and (self.status is None or facility.status == self.status)
                and (self.country is None or facility.country == self.country))


def map_filter(stage: str, status: str, country: str,
               countries: Iterable[str]) -> tuple[MapFilter, list[str]]:
    """The filter a form asks for, and what is wrong with it (an empty choice means all)."""
    problems = []
    choices = {"Stage": (stage, [s.value for s in Stage]),
               "Status": (status, [s.value for s in Status]),
               "Country": (country, sorted(countries))}
    for label, (value, allowed) in choices.items():
        if value and value not in allowed:
            problems.append(f"{label}: {value!r} is not one of {', '.join(allowed)}.")
    if problems:
        return MapFilter(), problems
    return MapFilter(stage=stage or None, status=status or None, country=country or None), []


def home_view(facilities: Sequence[MapFacility]) -> Box:
    """The opening view (x0, x1, y0, y1): the populated part of the continent and every
    facility, with a small margin."""
    (west, east), (south, north) = HOME_LONLAT
    lon = np.linspace(west, east, 45)
    edge_lon = np.concatenate([lon, lon, np.full(45, west), np.full(45, east)])
    edge_lat = np.concatenate([np.full(45, south), np.full(45, north),
                               np.linspace(south, north, 45), np.linspace(south, north, 45)])
    xs, ys = project(edge_lon, edge_lat)
    x_all = [*xs.tolist(), *(f.x for f in facilities if f.x is not None)]
    y_all = [*ys.tolist(), *(f.y for f in facilities if f.y is not None)]
    pad_x = (max(x_all) - min(x_all)) * 0.03
    pad_y = (max(y_all) - min(y_all)) * 0.03
    return (round(min(x_all) - pad_x), round(max(x_all) + pad_x),
            round(min(y_all) - pad_y), round(max(y_all) + pad_y))


def fitted_view(facilities: Sequence[MapFacility], home: Box) -> Box:
    """The opening view for a filtered map: its facilities with a margin, never narrower
    than a region (so one plant is shown in its surroundings), else the home view."""
    xs = [f.x for f in facilities if f.x is not None]
    ys = [f.y for f in facilities if f.y is not None]
    if not xs or not ys:
        return home
    half_w = max((max(xs) - min(xs)) * 0.55, MIN_FITTED_KM / 2)
    half_h = max((max(ys) - min(ys)) * 0.55, MIN_FITTED_KM / 2)
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return (round(cx - half_w), round(cx + half_w), round(cy - half_h), round(cy + half_h))


def cell_size(view_width: float) -> float:
    """The grid cell for a view this many kilometres wide: about a fortieth of it, rounded
    to a power of two so that panning never regroups the markers."""
    wanted = max(view_width, 1e-9) / CELLS_ACROSS / CELL_BASE_KM
    return max(MIN_CELL_KM, CELL_BASE_KM * 2.0 ** round(math.log2(wanted)))


def point_window(view: Box, cell: float) -> Box:
    """The area whose points are sent for a view: the view and half a view around it,
    widened to whole grid cells so that no group is cut in two."""
    x0, x1, y0, y1 = view
    # At least a cell each way, so even a view narrower than a cell has its points.
    mx, my = max((x1 - x0) * VIEW_MARGIN, cell), max((y1 - y0) * VIEW_MARGIN, cell)
    return (math.floor((x0 - mx) / cell) * cell, math.ceil((x1 + mx) / cell) * cell,
            math.floor((y0 - my) / cell) * cell, math.ceil((y1 + my) / cell) * cell)


def inside(facility: MapFacility, window: Box) -> bool:
    x0, x1, y0, y1 = window
    return (facility.x is not None and facility.y is not None
            and x0 <= facility.x < x1 and y0 <= facility.y < y1)


@dataclass(frozen=True)
class Cluster:
    members: tuple[MapFacility, ...]
    x: float
    y: float
    bounds: Box
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def colocated(self) -> bool:
        x0, x1, y0, y1 = self.bounds
        return max(x1 - x0, y1 - y0) <= COLOCATED_KM

    @property
    def summary(self) -> str:
        """The group in words: its size, its statuses, then what a click on it does."""
        statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in self.statuses.items())
        action = "click to list them" if self.colocated else "click to zoom in"
        return f"{len(self.members)} facilities: {statuses} ({action})"


@dataclass(frozen=True)
class Grouping:
    cell: float
    clusters: tuple[Cluster, ...]
    singles: tuple[MapFacility, ...]


def group(facilities: Iterable[MapFacility], cell: float) -> Grouping:
    """Facilities with a position on a grid of `cell` kilometres: a cluster for each cell
    holding more than one, the facility itself otherwise. Each facility lands in exactly one
    of them; those without a position are left out."""
    cells: dict[tuple[int, int], list[MapFacility]] = {}
    for f in facilities:
        if f.x is None or f.y is None:
            continue
        cells.setdefault((math.floor(f.x / cell), math.floor(f.y / cell)), []).append(f)
    clusters, singles = [], []
    for key in sorted(cells):
        members = cells[key]
        if len(members) == 1:
            singles.append(members[0])
        else:
            clusters.append(_cluster(members))
    return Grouping(cell=cell, clusters=tuple(clusters), singles=tuple(singles))


def _cluster(members: list[MapFacility]) -> Cluster:
    xs = [m.x for m in members if m.x is not None]
    ys = [m.y for m in members if m.y is not None]
    counts = Counter(m.status for m in members)
    order = [s.value for s in Status]
    return Cluster(
        members=tuple(members),
        x=round(sum(xs) / len(xs), PRECISION), y=round(sum(ys) / len(ys), PRECISION),
        bounds=(min(xs), max(xs), min(ys), max(ys)),
        statuses={s: counts[s] for s in sorted(counts, key=order.index)})


def grouping_record(grouping: Grouping, view: Box, total: int,
                    label: str) -> dict[str, Any]:
    """The JSON answer of /map/points (and the page's first one)."""
    return {
        "cell": grouping.cell,
        "view": list(view),
        "total": total,
        "shown": sum(len(c.members) for c in grouping.clusters) + len(grouping.singles),
        "label": label,
        "clusters": [_cluster_record(c) for c in grouping.clusters],
        "singles": [_facility_record(f) for f in grouping.singles],
    }


def _cluster_record(cluster: Cluster) -> dict[str, Any]:
    record: dict[str, Any] = {"count": len(cluster.members), "x": cluster.x, "y": cluster.y,
                              "bounds": list(cluster.bounds), "statuses": cluster.statuses,
                              "summary": cluster.summary}
    if cluster.colocated:
        record["members"] = [{k: v for k, v in _facility_record(m).items() if k not in "xy"}
                             for m in cluster.members]
    return record


def _facility_record(facility: MapFacility) -> dict[str, Any]:
    return {"id": facility.id, "name": facility.name, "stage": facility.stage,
            "status": facility.status, "x": facility.x, "y": facility.y}


def status_counts(facilities: Iterable[MapFacility]) -> dict[str, int]:
    counts = Counter(f.status for f in facilities)
    return {s.value: counts[s.value] for s in Status if counts[s.value]}


def map_label(placed: Sequence[MapFacility], unplaced: int, grouping: Grouping | None,
              described: str) -> str:
    """What the map shows, in words, for readers who cannot see it."""
    counts = status_counts(placed)
    parts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()) or "none"
    text = (f"Map of North America with {len(placed)} {described} facilities "
            f"by status: {parts}.")
    if grouping is not None:
        shown = sum(len(c.members) for c in grouping.clusters) + len(grouping.singles)
        text += (f" Around the current view: {shown} facilities, {len(grouping.singles)} "
                 f"marked singly and {len(grouping.clusters)} groups.")
    if unplaced:
        text += f" {unplaced} more have no recorded location and appear only in the list."
    return text


