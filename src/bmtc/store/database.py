"""Where the store lives and how to open it: URL resolution, engine, migrations."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

ENV_VAR = "BMTC_DATABASE_URL"
PG_POOL_SIZE = 12


def default_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("bmtc", appauthor=False))
    return f"sqlite:///{data_dir / 'bmtc.sqlite'}"


def resolve_url(url: str | None = None) -> str:
    """The explicit URL, else $BMTC_DATABASE_URL, else the embedded SQLite file.

    `postgresql://` URLs are given the psycopg 3 driver; a bare path means a SQLite file.
    """
    chosen = url or os.environ.get(ENV_VAR) or default_url()
    if "://" not in chosen:
        chosen = f"sqlite:///{Path(chosen).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if chosen.startswith(prefix):
            chosen = "postgresql+psycopg://" + chosen[len(prefix):]
    return chosen


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def create_store_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Connections are kept open across requests: a server under load would otherwise open
    # and close one beyond the pool's size for nearly every request, and each new PostgreSQL
    # connection starts a backend process. Pre-ping lets the pool recover after a restart.
    return create_engine(url, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=0,
                         pool_timeout=30)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("bmtc.store") / "migrations"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head
