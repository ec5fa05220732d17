"""The overview page: where the supply chain stands, in four figures and their tables."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bmtc.views.common import DEFAULT_YEAR
from bmtc.views.overview import overview
from bmtc.web.compute import computed
from bmtc.web.figures import overview as figures
from bmtc.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview_page(request: Request,
                  year: Annotated[int, Query(ge=2025, le=2035)] = DEFAULT_YEAR) -> Response:
    try:
        view = computed(request, ("overview", year),
                                          lambda dataset: overview(dataset, year))
    except ValueError as exc:
        # The default scenario's demand does not reach every year the form allows.
        return render(request, "error.html", status_code=422,
                      title="The overview cannot be drawn for that year", problems=[str(exc)])
    return render(request, "overview.html", view=view,
                  facilities_figure=figures.facilities_by_stage(view),
                  cells_figure=figures.cell_capacity(view),
                  sufficiency_figure=figures.self_sufficiency(view))
