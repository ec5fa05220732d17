"""`bmtc serve`: the platform server."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from bmtc.cli import DbOption, _store, app, console
from bmtc.server import DEFAULT_THREADS, THREADS_ENV
from bmtc.service import initialise


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    threads: Annotated[int, typer.Option(
        help="Request threads per worker (database and engine calls run on them).",
        min=1, max=256)] = DEFAULT_THREADS,
    db: DbOption = None,
) -> None:
    """Serve the dashboard (/), the REST API (/api/v1, OpenAPI at /openapi.json) and its docs
    (/docs) on the embedded store, or on PostgreSQL with --db / BMTC_DATABASE_URL."""
    import uvicorn

    # Migrate and load the bundled atlas once, before the workers start, so they never race.
    with _store(db) as store:
        if store.count_facilities() == 0:
            initialise(store)
        console.print(f"bmtc serving {store.display_url} on http://{host}:{port}/")
    if db is not None:
        os.environ["BMTC_DATABASE_URL"] = db
    os.environ[THREADS_ENV] = str(threads)
    uvicorn.run("bmtc.server.app:app_from_env", factory=True, host=host, port=port,
                http="bmtc.server.protocol:NoDelayHttpToolsProtocol", loop="uvloop",
                workers=workers, timeout_graceful_shutdown=10, log_level="info")
