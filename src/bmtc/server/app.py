"""The FastAPI application: the store opened once per process (migrated, and loaded with the
bundled atlas when empty), the /api/v1 routes, problem documents for every error, and
security headers on every response."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from bmtc.server import DEFAULT_THREADS, THREADS_ENV, auth, problems
from bmtc.server.headers import DOCS_POLICY, SecurityHeaders
from bmtc.server.limits import BodyLimit
from bmtc.server.routes import router
from bmtc.service import initialise
from bmtc.store.store import Store
from bmtc.web import app as web
from bmtc.web.app import page_policy

WARM_TIMEOUT_S = 60



def _policy_for(path: str) -> str | None:
    if path == "/docs":
        return DOCS_POLICY
    return page_policy(path)


def create_app(url: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(
            os.environ.get(THREADS_ENV, DEFAULT_THREADS))
        given = getattr(app.state, "store", None)
        store = given or Store(url)
        if store.count_facilities() == 0:
            initialise(store)
        app.state.store = store
        # Warming runs beside the first requests; shutdown waits for it, since a thread
        # still inside the database driver when the interpreter exits can abort the process.
        warming = threading.Thread(target=web.warm, args=(store,), name="warm-pages")
        warming.start()
        try:
            yield
        finally:
            warming.join(timeout=WARM_TIMEOUT_S)
            if given is None:
                store.close()

    # FastAPI's own docs pages load Swagger UI from a CDN; the platform makes no calls off
    # the machine, so /docs is served below from the installed swagger-ui-bundle package.
    app = FastAPI(title="bmtc", version="1", lifespan=lifespan, docs_url=None,
                  redoc_url=None,
                  description="Evidence engine for the North American battery-materials "
                              "supply chain: atlas, screening, analytics and compliance.")
    problems.install(app)
    auth.install(app)
    app.include_router(router)
    app.add_middleware(BodyLimit)
    web.install(app)
    app.add_middleware(SecurityHeaders, policy_for=_policy_for)

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="bmtc API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """The factory `bmtc serve` hands to uvicorn: the store named by BMTC_DATABASE_URL."""
    return create_app(os.environ.get("BMTC_DATABASE_URL"))
