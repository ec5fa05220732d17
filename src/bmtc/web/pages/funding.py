"""Dashboard pages: the policy timeline from the compliance rule files and the atlas funding
awards, filterable by program and country."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bmtc.views.funding import FundingView, funding_view
from bmtc.web.figures.funding import awards_figure, policy_timeline
from bmtc.web.templating import render, store_of

router = APIRouter(include_in_schema=False)


@router.get("/funding")
def funding_page(request: Request, program: str = "", country: str = "") -> Response:
    view: FundingView = store_of(request).memoised(("web-funding",), funding_view)
    # Only values the atlas offers filter anything; another value is named as unknown
    # rather than silently showing nothing.
    problems = [f"{label}: {value!r} is not among the choices; showing every award."
                for label, value, known in (("Program", program, view.programs),
                                            ("Country", country, view.countries))
                if value and value not in known]
    chosen_program = program if program in view.programs else ""
    chosen_country = country if country in view.countries else ""
    awards = view.filtered(chosen_program, chosen_country)
    undrawn = sum(1 for a in awards if a.day is None or not a.amount)
    return render(request, "funding/page.html", status_code=422 if problems else 200,
                  view=view, awards=awards, problems=problems,
                  program=chosen_program, country=chosen_country, undrawn=undrawn,
                  timeline_figure=policy_timeline(view.events, date.today()),
                  awards_figure=awards_figure(awards))
