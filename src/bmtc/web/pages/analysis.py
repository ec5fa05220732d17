"""Dashboard pages: the analyses. Stage explorer, foreign control, network bound, material
flows and the scenario runner, each a GET form over the engines in `bmtc.analytics_service`.

Parameters arrive as plain text and are checked here rather than by FastAPI, so a bad value
re-renders the page's form with a message (status 422) instead of a JSON problem document.
Every result is cached per atlas version with `Store.memoised`; only valid parameters reach
the cache, so its size stays bounded by the choices the forms offer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bmtc.analysis.sourcing import POLICIES
from bmtc.views import analysis as views
from bmtc.views import flows
from bmtc.views.analysis import InvalidChoice
from bmtc.views.common import DEFAULT_YEAR
from bmtc.web.compute import computed
from bmtc.web.figures import analysis as figures
from bmtc.web.templating import render

router = APIRouter(include_in_schema=False)
# Parameters are cut to this length before use, which bounds what a message reflects; every
# choice the forms offer is shorter, so cutting never turns a bad value into a good one.
ECHO_LIMIT = 100
YES = ("1", "on", "true", "yes")


def _text(value: str | None) -> str | None:
    """An empty form field means "the default"."""
    if value is None or not value.strip():
        return None
    return value.strip()[:ECHO_LIMIT]


def _year(value: str | None, default: int) -> int:
    text = _text(value)
    if text is None:
        return default
    if not text.isdigit() or not views.YEAR_MIN <= int(text) <= views.YEAR_MAX:
        raise InvalidChoice(f"Year must be a whole number from {views.YEAR_MIN} to "
                            f"{views.YEAR_MAX}, not {text!r}.")
    return int(text)


def _choices(request: Request) -> dict[str, Any]:
    """What the forms offer: always valid, so a rejected request can show them again."""
    countries = computed(request, ("analysis", "countries"), views.atlas_countries)
    return {"scenarios": views.scenario_choices(),
            "stages": [(s, s.replace("_", " ")) for s in views.EXPLORER_STAGES],
            "policies": [(p, views.SOURCING_LABELS.get(p, p)) for p in POLICIES],
            "years": [(y, y) for y in range(views.YEAR_MIN, views.YEAR_MAX + 1)],
            "countries": [(c, c) for c in countries], "draws": views.UNCERTAINTY_DRAWS}


def _page(request: Request, template: str, form: dict[str, Any],
          build: Callable[[], dict[str, Any]]) -> Response:
    """The page with its results, or its form again with the reason the request failed.
    Engine ValueErrors (a year the pipeline cannot answer, a preset without that year)
    are the visitor's parameters too, so they are shown the same way."""
    context = {"form": form, **_choices(request)}
    try:
        results = build()
    except (ValueError, KeyError) as exc:  # InvalidChoice is a ValueError
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return render(request, template, status_code=422, error=str(message), **context)
    return render(request, template, **context, **results)


@router.get("/stages")
def stages_page(request: Request, stage: str | None = None,
                scenario: str | None = None) -> Response:
    asked, name = _text(stage) or "cell", _text(scenario)
    form = {"stage": asked, "scenario": name}

    def build() -> dict[str, Any]:
        chosen = views.check_stage(asked)
        view = computed(request,
            ("analysis", "stages", name, chosen),
            lambda dataset: views.stage_explorer(dataset, name, chosen))
        return {"view": view,
                "charts": [(s, figures.stage_flow(s, view.scenario)) for s in view.series]}

    return _page(request, "analysis/stages.html", form, build)


@router.get("/control")
def control_page(request: Request, year: str | None = None) -> Response:
    form: dict[str, Any] = {"year": _text(year) or DEFAULT_YEAR}

    def build() -> dict[str, Any]:
        chosen = _year(year, DEFAULT_YEAR)
        view = computed(request,
            ("analysis", "control", chosen),
            lambda dataset: views.foreign_control(dataset, chosen))
        return {"view": view, "shares_figure": figures.control_shares(view)}

    return _page(request, "analysis/control.html", form, build)


@router.get("/network")
def network_page(request: Request, year: str | None = None,
                 sourcing: str | None = None) -> Response:
    form: dict[str, Any] = {"year": _text(year) or DEFAULT_YEAR,
                            "sourcing": _text(sourcing) or "na"}

    def build() -> dict[str, Any]:
        chosen, policy = _year(year, DEFAULT_YEAR), views.check_sourcing(form["sourcing"])
        view = computed(request,
            ("analysis", "network", chosen, policy),
            lambda dataset: views.network_view(dataset, chosen, policy))
        return {"view": view, "families_figure": figures.network_families(view),
                "trend_figure": figures.network_trend(view),
                "made_figure": figures.network_made(view)}

    return _page(request, "analysis/network.html", form, build)


@router.get("/flows")
def flows_page(request: Request, year: str | None = None,
               scenario: str | None = None) -> Response:
    form: dict[str, Any] = {"year": _text(year) or DEFAULT_YEAR,
                            "scenario": _text(scenario)}

    def build() -> dict[str, Any]:
        name = form["scenario"]
        chosen = _year(year, views.default_year(views.resolve_scenario(name)))
        view = computed(request,
            ("analysis", "flows", name, chosen),
            lambda dataset: flows.material_flows(dataset, name, chosen))
        return {"view": view, "sankey_figure": figures.material_sankey(view)}

    return _page(request, "analysis/flows.html", form, build)


@router.get("/scenario")
def scenario_page(request: Request, scenario: str | None = None, year: str | None = None,
                  sourcing: str | None = None, remove_country: str | None = None,
                  uncertainty: str | None = None) -> Response:
    form: dict[str, Any] = {
        "scenario": _text(scenario), "year": _text(year) or DEFAULT_YEAR,
        "sourcing": _text(sourcing) or "na", "remove_country": _text(remove_country),
        "uncertainty": (_text(uncertainty) or "").lower() in YES}

    def build() -> dict[str, Any]:
        name, policy = form["scenario"], views.check_sourcing(form["sourcing"])
        chosen = _year(year, views.default_year(views.resolve_scenario(name)))
        country, spread = form["remove_country"], bool(form["uncertainty"])
        view = computed(request,
            ("analysis", "scenario", name, chosen, policy, country, spread),
            lambda dataset: views.scenario_run(dataset, name, chosen, policy, country,
                                               spread))
        return {"view": view, "bounds_figure": figures.scenario_bounds(view),
                "sufficiency_figure": figures.scenario_sufficiency(view)}

    return _page(request, "analysis/scenario.html", form, build)
