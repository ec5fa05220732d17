"""The FastAPI application: the store opened once per process (migrated, and loaded with the
bundled atlas when empty), the /api/v1 routes, problem documents for every error, and
security headers on every response."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from bmtc.server import auth, problems
from bmtc.server.limits import BodyLimit
from bmtc.server.routes import router
from bmtc.service import initialise
from bmtc.store.store import Store

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


def create_app(url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given = getattr(app.state, "store", None)
        store = given or Store(url)
        if store.count_facilities() == 0:
            initialise(store)
        app.state.store = store
        try:
            yield
        finally:
            if given is None:
                store.close()

    # The interactive docs pages load their scripts from a CDN; the platform makes no calls
    # off the machine, so it serves the OpenAPI document itself (/openapi.json) only.
    app = FastAPI(title="bmtc", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="Evidence engine for the North American battery-materials "
                              "supply chain: atlas, screening, analytics and compliance.")
    problems.install(app)
    auth.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimit)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.middleware("http")
    async def headers(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def app_from_env() -> FastAPI:
    """The factory `bmtc serve` hands to uvicorn: the store named by BMTC_DATABASE_URL."""
    return create_app(os.environ.get("BMTC_DATABASE_URL"))
