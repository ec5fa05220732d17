"""Mounting the dashboard on the FastAPI application: its pages, its own scripts and styles,
and plotly.js served from the installed plotly package, so no page loads anything from
another site."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bmtc.server.auth import AuthError
from bmtc.store.store import Store
from bmtc.views import overview as overview_view
from bmtc.views.common import DEFAULT_YEAR
from bmtc.web.pages import (
    account,
    analysis,
    atlas_map,
    compliance,
    funding,
    members,
    overview,
    screening,
)
from bmtc.web.session import NeedsSignIn, sign_in_location
from bmtc.web.templating import render

# Pages run only scripts from this site; plotly adds style elements of its own at run time.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
PAGE_ROUTERS = (overview.router, account.router, atlas_map.router, analysis.router,
                screening.router, compliance.router, funding.router, members.router)


def page_policy(path: str) -> str | None:
    """The dashboard's policy for every path outside the API and its docs."""
    if path.startswith(("/api/", "/docs", "/openapi.json", "/healthz")):
        return None
    return PAGE_POLICY


def install(app: FastAPI) -> None:
    import plotly

    plotly_js = Path(str(files(plotly) / "package_data" / "plotly.min.js"))

    @app.get("/static/plotly/plotly.min.js", include_in_schema=False)
    def plotly_script() -> FileResponse:
        return FileResponse(plotly_js, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})
    app.mount("/static/bmtc", StaticFiles(directory=str(files("bmtc.web") / "static")),
              name="bmtc-static")
    for router in PAGE_ROUTERS:
        app.include_router(router)

    _html_errors_for_pages(app)

    @app.exception_handler(NeedsSignIn)
    async def _sign_in(request: Request, exc: NeedsSignIn) -> Response:
        if exc.signed_in:
            return render(request, "forbidden.html", status_code=403, role=exc.role)
        return RedirectResponse(sign_in_location(exc.next_path), status_code=303)




def _html_errors_for_pages(app: FastAPI) -> None:
    """Pages answer errors as pages; the API keeps its problem documents. Handlers are
    chosen by exception class, so the API's handlers are wrapped, not replaced."""
    for kind in (StarletteHTTPException, RequestValidationError, AuthError, DataError):
        api_handler = app.exception_handlers[kind]

        async def handler(request: Request, exc: Exception,
                          api_handler: Any = api_handler) -> Response:
            if page_policy(request.url.path) is None:
                response: Response = await api_handler(request, exc)
                return response
            if isinstance(exc, RequestValidationError):
                problems = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
                            for e in exc.errors()]
                return render(request, "error.html", status_code=422,
                              title="The request is not valid", problems=problems)
            if isinstance(exc, DataError):
                return render(request, "error.html", status_code=422,
                              title="The request is not valid",
                              problems=["a value cannot be used by the database (for example "
                                        "a NUL character)"])
            if isinstance(exc, AuthError):
                page = render(request, "error.html", status_code=exc.status, title=exc.title,
                              problems=[exc.detail] if exc.detail else [])
                page.headers.update({k: v for k, v in exc.headers.items()
                                     if k != "WWW-Authenticate"})
                return page
            assert isinstance(exc, StarletteHTTPException)
            titles = {404: "Page not found", 405: "Method not allowed"}
            return render(request, "error.html", status_code=exc.status_code,
                          title=titles.get(exc.status_code, str(exc.detail)), problems=[])

        app.add_exception_handler(kind, handler)


def warm(store: Store) -> None:
    """Compute the overview and project the map once at start-up, so the first visitors do
    not wait for them."""
    year = DEFAULT_YEAR
    store.memoised(("overview", year), lambda dataset: overview_view.overview(dataset, year))
    atlas_map.warm(store)
