"""Rendering pages: one Jinja2 environment (autoescaping on), the navigation, and what every
page shows about the signed-in user and the data version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from bmtc.store.store import Store
from bmtc.web.session import WebUser, web_user

templates = Jinja2Templates(directory=str(files("bmtc.web") / "templates"))


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    role: str = "public"


NAVIGATION = (
    NavItem("/", "Overview"),
    NavItem("/map", "Map"),
    NavItem("/stages", "Stages"),
    NavItem("/control", "Foreign control"),
    NavItem("/network", "Network bound"),
    NavItem("/flows", "Material flows"),
    NavItem("/scenario", "Scenarios"),
    NavItem("/screening", "Screening"),
    NavItem("/compliance", "Compliance"),
    NavItem("/funding", "Funding & policy"),
    NavItem("/submit", "Submit figures", "member"),
    NavItem("/admin", "Admin", "admin"),
)


def figure_json(figure: dict[str, Any]) -> Markup:
    """A plotly figure as JSON safe to place inside a <script type="application/json">
    element: '<', '>' and '&' are escaped so the text can never close the element."""
    text = json.dumps(figure, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


templates.env.filters["figure_json"] = figure_json


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def render(request: Request, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    user: WebUser = web_user(request)
    info = store_of(request).info()
    base = {
        "user": user,
        "navigation": [n for n in NAVIGATION if user.may(n.role)],
        "current_path": request.url.path,
        "data_version": info.version if info else None,
        "data_as_of": str(info.as_of) if info and info.as_of else None,
    }
    response = templates.TemplateResponse(request, template, {**base, **context},
                                          status_code=status_code)
    # With no-referrer, browsers send "Origin: null" on form posts, and the sign-in form's
    # same-origin check could never pass; same-origin still tells other sites nothing.
    response.headers["Referrer-Policy"] = "same-origin"
    if user.signed_in:
        # The page carries the CSRF token and the user's own figures: keep it out of shared
        # and back-button caches.
        response.headers["Cache-Control"] = "no-store"
    return response
