"""Dashboard pages: screening one organization under a FEOC or PFE rule set, with its
verdict, every test, the evidence paths and the ownership graph."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bmtc.domain.dataset import Dataset
from bmtc.views.screening import (
    RULESETS,
    NoSingleParty,
    ScreeningView,
    find_party,
    parse_as_of,
    screening_view,
)
from bmtc.web.compute import computed
from bmtc.web.figures.screening import ownership_figure
from bmtc.web.templating import render, store_of

router = APIRouter(include_in_schema=False)
MAX_QUERY = 200


def atlas(request: Request) -> Dataset:
    """The loaded atlas, shared with every other memoised view until the atlas changes."""
    dataset: Dataset = store_of(request).atlas()
    return dataset


@router.get("/screening")
def screening_page(request: Request, org: str = "", ruleset: str = RULESETS[0],
                   as_of: str = "") -> Response:
    form = {"org": org.strip()[:MAX_QUERY], "ruleset": ruleset,
            "as_of": as_of.strip() or date.today().isoformat()}
    page: dict[str, Any] = {"form": form, "rulesets": RULESETS}
    if not form["org"]:
        return render(request, "screening/page.html", **page)
    problems = _form_problems(form)
    if problems:
        return render(request, "screening/page.html", status_code=422, problems=problems,
                      **page)
    found = find_party(atlas(request), form["org"])
    if isinstance(found, NoSingleParty):
        status = 404 if found.kind == "unknown" else 200
        return render(request, "screening/page.html", status_code=status, missing=found,
                      **page)
    day = parse_as_of(form["as_of"]).isoformat()
    try:
        # Screening walks the whole ownership graph; a verdict is kept until the atlas
        # changes, keyed by the resolved party so spellings of one name share it.
        view: ScreeningView = computed(request,
            ("web-screening", found.id, form["ruleset"], day),
            lambda dataset: screening_view(dataset, found.id, form["ruleset"], day))
    except ValueError as exc:
        return render(request, "screening/page.html", status_code=422,
                      problems=[str(exc)], **page)
    return render(request, "screening/page.html", result=view,
                  figure=ownership_figure(view), **page)


def _form_problems(form: dict[str, str]) -> list[str]:
    problems = []
    if form["ruleset"] not in RULESETS:
        problems.append(f"Rule set: choose one of {', '.join(RULESETS)}.")
    try:
        parse_as_of(form["as_of"])
    except ValueError:
        problems.append(f"As-of date: {form['as_of']!r} is not a date between 2000-01-01 "
                        "and 2100-12-31 (write it as YYYY-MM-DD).")
    return problems
