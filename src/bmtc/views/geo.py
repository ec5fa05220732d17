"""Map geometry: a conic equal-area projection for North America, and the bundled state and
province boundaries as projected, simplified line paths (each shared border drawn once)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

# Albers equal-area conic fitted to North America (the parameters of the U.S. national atlas
# and of Statistics Canada's Lambert-style maps): areas compare fairly from Mexico to Nunavut.
EARTH_RADIUS_KM = 6371.0088
STANDARD_PARALLELS = (29.5, 45.5)
ORIGIN = (-96.0, 37.5)


# Boundary vertices closer than this to the simplified line are dropped when the file is
# loaded, and the rest are sent to the nearest kilometre: at the full-continent view a pixel
# is about 8 km, so neither shows until the reader has zoomed in about fourfold, and the
# boundaries stay near 150 kB instead of 700 kB.
SIMPLIFY_KM = 2.0


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
    """The fewest vertices that keep the line within `tolerance` (Douglas-Peucker, by
    shapely). Ends are kept, so paths meeting at a junction still meet."""
    if len(points) < 3:
        return points
    line = shapely.LineString(points).simplify(tolerance, preserve_topology=False)
    result: NDArray[np.float64] = np.asarray(line.coords, dtype=np.float64)
    return result
