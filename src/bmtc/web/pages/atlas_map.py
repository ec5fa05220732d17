"""Dashboard pages: the facility map with its filters and list, the grouped points map.js
asks for as the reader zooms, and the facility card (as a fragment for the map's side panel
and as a page of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import Source
from bmtc.domain.vocab import Stage, Status
from bmtc.store.store import Store
from bmtc.views.atlas_map import (
    Box,
    Grouping,
    MapFacility,
    MapFilter,
    cell_size,
    fitted_view,
    group,
    grouping_record,
    home_view,
    inside,
    map_facilities,
    map_filter,
    map_label,
    point_window,
)
from bmtc.views.facility_card import FacilityCard, facility_card, source_index
from bmtc.views.geo import boundary_paths
from bmtc.web.figures import STATUS_COLOURS
from bmtc.web.figures.atlas_map import label, map_figure, stage_key
from bmtc.web.templating import render, store_of

router = APIRouter(include_in_schema=False)
# The list under the map repeats what the map shows for keyboard and screen-reader users;
# beyond a few hundred rows a page stops being a usable list, and filters narrow it.
LIST_LIMIT = 200
# Projected kilometres: the continent spans about 10,000, so this bounds any sane view.
Coordinate = Annotated[float | None, Query(ge=-50_000, le=50_000)]
Choice = Annotated[str, Query(max_length=40)]
MIN_VIEW_KM = 1.0
COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "MX": "Mexico"}


@dataclass(frozen=True)
class MapData:
    facilities: tuple[MapFacility, ...]
    home: Box
    countries: tuple[str, ...]


def _map_data(dataset: Dataset) -> MapData:
    facilities = map_facilities(dataset.facilities)
    return MapData(facilities=facilities, home=home_view(facilities),
                   countries=tuple(sorted({f.country for f in facilities})))


def map_data(request: Request) -> MapData:
    """The projected atlas, kept until the next import changes it."""
    return _memoised_map_data(store_of(request))


def _memoised_map_data(store: Store) -> MapData:
    data: MapData = store.memoised(("web-map", "facilities"), _map_data)
    return data


def warm(store: Store) -> None:
    """Project the boundaries and the atlas once at start-up (about half a second), so the
    first visitor of the map does not wait for it."""
    boundary_paths()
    _memoised_map_data(store)


def sources(request: Request) -> dict[str, Source]:
    def index(dataset: Dataset) -> dict[str, Source]:
        entities: list[Any] = [*dataset.facilities, *dataset.organizations,
                               *dataset.relationships, *dataset.status_events,
                               *dataset.funding, *dataset.list_memberships]
        return source_index(e.source for e in entities)

    found: dict[str, Source] = store_of(request).memoised(("web-map", "sources"), index)
    return found


def _grouped(data: MapData, flt: MapFilter, view: Box) -> tuple[Grouping, dict[str, Any]]:
    """The filtered facilities around `view`, grouped for its zoom, and the JSON record
    of that grouping (see views.atlas_map)."""
    cell = cell_size(max(view[1] - view[0], MIN_VIEW_KM))
    window = point_window(view, cell)
    kept = [f for f in data.facilities if flt.keeps(f)]
    placed = [f for f in kept if f.x is not None]
    grouping = group((f for f in placed if inside(f, window)), cell)
    record = grouping_record(grouping, view, len(placed),
                             map_label(placed, len(kept) - len(placed), grouping,
                                       _described(flt)))
    record["filter"] = _form(flt)
    return grouping, record


def _form(flt: MapFilter) -> dict[str, str]:
    return {"stage": flt.stage or "", "status": flt.status or "", "country": flt.country or ""}


def _described(flt: MapFilter) -> str:
    """The filter in words, as an adjective phrase: "operating cathode"."""
    words = [label(v) for v in (flt.status, flt.stage) if v]
    if flt.country:
        words.append(COUNTRY_NAMES.get(flt.country, flt.country))
    return " ".join(words) if words else "recorded"


def _opening_view(data: MapData, flt: MapFilter) -> Box:
    if flt == MapFilter():
        return data.home
    return fitted_view([f for f in data.facilities if flt.keeps(f)], data.home)


def _view(x0: float | None, x1: float | None, y0: float | None, y1: float | None,
          opening: Box) -> Box | None:
    given = [v for v in (x0, x1, y0, y1) if v is not None]
    if not given:
        return opening
    if x0 is None or x1 is None or y0 is None or y1 is None:
        return None
    return (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))


@router.get("/map")
def map_page(request: Request, stage: Choice = "", status: Choice = "",
             country: Choice = "") -> Response:
    data = map_data(request)
    flt, problems = map_filter(stage, status, country, data.countries)
    view = _opening_view(data, flt)
    grouping, points = _grouped(data, flt, view)
    listed = [f for f in data.facilities if flt.keeps(f)]
    return render(
        request, "map/page.html", status_code=422 if problems else 200,
        problems=problems, form=_form(flt),
        stages=[s.value for s in Stage], statuses=[s.value for s in Status],
        countries=[(c, COUNTRY_NAMES.get(c, c)) for c in data.countries], stage_key=stage_key(),
        status_colours=[(label(s), STATUS_COLOURS[s]) for s in STATUS_COLOURS],
        figure=map_figure(boundary_paths(), grouping, view), points=points,
        listed=listed[:LIST_LIMIT], listed_total=len(listed), list_limit=LIST_LIMIT)


@router.get("/map/points")
def map_points(request: Request, stage: Choice = "", status: Choice = "",
               country: Choice = "", x0: Coordinate = None, x1: Coordinate = None,
               y0: Coordinate = None, y1: Coordinate = None) -> Response:
    """The filtered facilities around a view, grouped for its zoom (see views.atlas_map)."""
    data = map_data(request)
    flt, problems = map_filter(stage, status, country, data.countries)
    view = _view(x0, x1, y0, y1, _opening_view(data, flt))
    if view is None:
        problems.append("View: give all of x0, x1, y0 and y1, or none of them.")
    if problems or view is None:
        return JSONResponse({"problems": problems}, status_code=422)
    return JSONResponse(_grouped(data, flt, view)[1])


def _card(request: Request, facility_id: str) -> FacilityCard:
    found = store_of(request).facility_card(facility_id)
    if found is None:
        raise HTTPException(status_code=404)
    return facility_card(found, sources(request))


@router.get("/facility/{facility_id}/card")
def facility_card_fragment(request: Request, facility_id: str) -> Response:
    """The card alone, for the map's side panel."""
    return render(request, "map/card.html", card=_card(request, facility_id),
                  heading="h2")


@router.get("/facility/{facility_id}")
def facility_page(request: Request, facility_id: str) -> Response:
    return render(request, "map/facility.html", card=_card(request, facility_id),
                  heading="h1")
