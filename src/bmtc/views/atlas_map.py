"""The facility map as plain records: facilities projected to kilometres on a conic
equal-area projection, grouped on a grid whose cells shrink as the reader zooms in, and the
state and province boundaries as projected line paths. No HTML, no I/O beyond reading the
bundled boundary file."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bmtc.domain.model import Facility, Source
from bmtc.domain.vocab import Stage, Status

# Albers equal-area conic fitted to North America (the parameters of the U.S. national atlas
# and of Statistics Canada's Lambert-style maps): areas compare fairly from Mexico to Nunavut.
EARTH_RADIUS_KM = 6371.0088
STANDARD_PARALLELS = (29.5, 45.5)
ORIGIN = (-96.0, 37.5)
# Projected coordinates are sent rounded to 100 m: finer than any marker or any recorded
# facility location, and it keeps the page and the /map/points answers small.
PRECISION = 1
# Boundary vertices closer than this to the simplified line are dropped when the file is
# loaded, and the rest are sent to the nearest kilometre: at the full-continent view a pixel
# is about 8 km, so neither shows until the reader has zoomed in about fourfold, and the
# boundaries stay near 150 kB instead of 700 kB.
SIMPLIFY_KM = 2.0
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


def _projection_constants() -> tuple[float, float, float]:
    phi1, phi2 = (math.radians(p) for p in STANDARD_PARALLELS)
    n = (math.sin(phi1) + math.sin(phi2)) / 2
    c = math.cos(phi1) ** 2 + 2 * n * math.sin(phi1)
    rho0 = EARTH_RADIUS_KM * math.sqrt(c - 2 * n * math.sin(math.radians(ORIGIN[1]))) / n
    return n, c, rho0


_N, _C, _RHO0 = _projection_constants()


def project(lon: NDArray[np.float64] | Sequence[float],
            lat: NDArray[np.float64] | Sequence[float],
            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longitude and latitude in degrees to x (east) and y (north) in kilometres from the
    projection's origin (Snyder, Map Projections: A Working Manual, eqs. 14-1 to 14-4)."""
    lam = np.radians(np.asarray(lon, dtype=np.float64) - ORIGIN[0])
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    rho = EARTH_RADIUS_KM * np.sqrt(_C - 2 * _N * np.sin(phi)) / _N
    theta = _N * lam
    return rho * np.sin(theta), _RHO0 - rho * np.cos(theta)


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


@dataclass(frozen=True)
class BoundaryPaths:
    """Projected boundary lines, each a list of x and of y with None between paths:
    `outline` for coasts and international borders, `inner` for state and province lines
    within a country. Shared borders appear once."""

    outline: tuple[list[int | None], list[int | None]]
    inner: tuple[list[int | None], list[int | None]]
    features: int


def boundary_features() -> list[dict[str, Any]]:
    text = (files("bmtc.data") / "boundaries" / "na_admin1.geojson").read_text("utf-8")
    features: list[dict[str, Any]] = json.loads(text)["features"]
    return features


@cache
def boundary_paths() -> BoundaryPaths:
    """The bundled boundaries, projected and simplified once per process."""
    features = boundary_features()
    rings = list(_rings(features))
    owners: dict[tuple[tuple[float, float], ...], set[str]] = {}
    uses: Counter[tuple[tuple[float, float], ...]] = Counter()
    for country, ring in rings:
        for edge in _edges(ring):
            owners.setdefault(edge, set()).add(country)
            uses[edge] += 1
    drawn: set[tuple[tuple[float, float], ...]] = set()
    outline: list[list[tuple[float, float]]] = []
    inner: list[list[tuple[float, float]]] = []
    for _country, ring in rings:
        for is_inner, path in _chains(ring, drawn, owners, uses):
            (inner if is_inner else outline).append(path)
    return BoundaryPaths(outline=_projected(outline), inner=_projected(inner),
                         features=len(features))


def _rings(features: Iterable[dict[str, Any]],
           ) -> Iterable[tuple[str, list[tuple[float, float]]]]:
    for feature in features:
        geometry = feature["geometry"]
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        for polygon in polygons:
            for ring in polygon:
                yield feature["properties"]["country"], [(p[0], p[1]) for p in ring]


def _edges(ring: list[tuple[float, float]]) -> Iterable[tuple[tuple[float, float], ...]]:
    """Each edge of a ring, named the same whichever way a neighbour's ring runs along it."""
    for a, b in pairwise(ring):
        if a != b:
            yield (a, b) if a < b else (b, a)


def _chains(ring: list[tuple[float, float]], drawn: set[tuple[tuple[float, float], ...]],
            owners: Mapping[tuple[tuple[float, float], ...], set[str]],
            uses: Mapping[tuple[tuple[float, float], ...], int],
            ) -> Iterable[tuple[bool, list[tuple[float, float]]]]:
    """The not yet drawn stretches of a ring, each of one kind (inner or outline)."""
    path: list[tuple[float, float]] = []
    kind = False
    for a, b in pairwise(ring):
        if a == b:
            continue
        edge = (a, b) if a < b else (b, a)
        if edge in drawn:
            if len(path) > 1:
                yield kind, path
            path = []
            continue
        drawn.add(edge)
        is_inner = uses[edge] > 1 and len(owners[edge]) == 1
        if path and is_inner != kind:
            yield kind, path
            path = [a]
        if not path:
            path = [a]
        kind = is_inner
        path.append(b)
    if len(path) > 1:
        yield kind, path


def _projected(paths: list[list[tuple[float, float]]],
               ) -> tuple[list[int | None], list[int | None]]:
    xs_out: list[int | None] = []
    ys_out: list[int | None] = []
    for path in paths:
        lon, lat = zip(*path, strict=True)
        xs, ys = project(lon, lat)
        kept = simplify(np.column_stack([xs, ys]), SIMPLIFY_KM)
        if xs_out:
            xs_out.append(None)
            ys_out.append(None)
        xs_out.extend(np.rint(kept[:, 0]).astype(int).tolist())
        ys_out.extend(np.rint(kept[:, 1]).astype(int).tolist())
    return xs_out, ys_out


def simplify(points: NDArray[np.float64], tolerance: float) -> NDArray[np.float64]:
    """Ramer-Douglas-Peucker: the fewest vertices that keep the line within `tolerance`.
    Ends are kept, so paths meeting at a junction still meet."""
    if len(points) < 3:
        return points
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        start, direction = points[first], points[last] - points[first]
        offsets = points[first + 1:last] - start
        length = float(np.hypot(*direction))
        if length == 0.0:
            distances = np.hypot(offsets[:, 0], offsets[:, 1])
        else:
            distances = np.abs(direction[0] * offsets[:, 1]
                               - direction[1] * offsets[:, 0]) / length
        farthest = int(np.argmax(distances))
        if distances[farthest] > tolerance:
            split = first + 1 + farthest
            keep[split] = True
            stack.extend([(first, split), (split, last)])
    result: NDArray[np.float64] = points[keep]
    return result


@dataclass(frozen=True)
class SourceRef:
    url: str
    publisher: str | None
    as_of: str | None


@dataclass(frozen=True)
class FacilityCard:
    """Everything the card shows about one facility, each fact with its source."""

    facility: Facility
    operator_name: str | None
    operator_country: str | None
    capacity: str | None
    location: str
    owners: list[dict[str, Any]]
    history: list[dict[str, Any]]
    funding: list[dict[str, Any]]
    sources: list[SourceRef]


def source_index(sources: Iterable[Source]) -> dict[str, Source]:
    return {s.id: s for s in sources}


def facility_card(card: Mapping[str, Any], sources: Mapping[str, Source]) -> FacilityCard:
    """The store's facility card with every source resolved to its publisher and date."""
    facility: Facility = card["facility"]
    operator = card["operator"]
    refs: dict[str, SourceRef] = {}

    def ref(source_id: str | None, url: str | None) -> SourceRef | None:
        known = sources.get(source_id or "")
        if known is not None:
            found = SourceRef(known.url, known.publisher, known.as_of)
        elif url:
            found = SourceRef(url, None, None)
        else:
            return None
        refs.setdefault(f"{found.url}|{found.publisher}|{found.as_of}", found)
        return found

    ref(facility.source.id, facility.source.url)
    if operator is not None:
        ref(operator.source.id, operator.source.url)
    owners = [{"id": r["owner_id"], "name": r["other_name"], "country": r["other_country"],
               "kind": str(r["kind"]).replace("_", " "), "stake": _stake(r),
               "since": r["valid_from"], "until": r["valid_to"],
               "source": ref(r["source_id"], r.get("source_url"))} for r in card["owners"]]
    history = [{"status": str(h["status"]).replace("_", " "), "as_of": h["as_of"],
                "notes": h["notes"], "source": ref(h["source_id"], h.get("source_url"))}
               for h in card["status_history"]]
    funding = [{"program": a["program"], "agency": a["agency"],
                "instrument": str(a["instrument"]).replace("_", " "),
                "amount": _money(a["amount"], a["currency"]),
                "award_status": a["award_status"], "announced": a["announced"],
                "source": ref(a["source_id"], None)} for a in card["funding"]]
    return FacilityCard(
        facility=facility, operator_name=operator.name if operator else None,
        operator_country=operator.country_hq if operator else None,
        capacity=_capacity(facility), location=_location(facility), owners=owners,
        history=history, funding=funding,
        sources=sorted(refs.values(), key=lambda s: (s.publisher or s.url, s.as_of or "")))


def _stake(row: Mapping[str, Any]) -> str | None:
    # Stakes are kept as the source gave them: a number, a range ("25-50") or a bound (">50").
    parts = [f"{row[key]}% {label}"
             for key, label in (("equity_pct", "equity"), ("voting_pct", "voting"))
             if row.get(key) not in (None, "")]
    return ", ".join(parts) or None


def _money(amount: float | None, currency: str) -> str | None:
    return None if amount is None else f"{amount:,.0f} {currency}"


def _capacity(facility: Facility) -> str | None:
    capacity = facility.capacity
    if capacity is None:
        return None
    text = f"{capacity.value:,.6g} {capacity.unit} of {capacity.basis.replace('_', ' ')}"
    return text + (f" ({capacity.year})" if capacity.year else "")


def _location(facility: Facility) -> str:
    place = ", ".join(p for p in (facility.city, facility.state_province, facility.country)
                      if p)
    if facility.latitude is None or facility.longitude is None:
        return place + " (no coordinates recorded)"
    precision = f", {facility.coordinates_precision} precision" if (
        facility.coordinates_precision) else ""
    return f"{place} ({facility.latitude:.2f}, {facility.longitude:.2f}{precision})"
