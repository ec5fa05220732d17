"""Shared fixtures: a store on each backend, and a small sample dataset folder.

PostgreSQL tests run against $BMTC_TEST_POSTGRES_URL, each in a schema of its own that is
dropped afterwards. Without the variable they are skipped; with it, an unreachable server is a
failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bmtc.store.database import resolve_url
from bmtc.store.store import Store

SAMPLE = Path(__file__).parent / "data" / "sample"
PG_ENV = "BMTC_TEST_POSTGRES_URL"


def _postgres_url(schema: str) -> str:
    base = resolve_url(os.environ[PG_ENV])
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    # Connection errors propagate: with the variable set, the server must be there.
    with postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture
def sample_folder(tmp_path: Path) -> Path:
    """A writable copy of the sample dataset folder."""
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target)
    return target


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server, dropped afterwards. Pre-ping: a test
    may restart the server, leaving pooled connections dead."""
    admin = create_engine(resolve_url(os.environ[PG_ENV]), pool_pre_ping=True)
    schema = f"bmtc_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_store_url(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store URL shared by one test module, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module') / 'atlas.db'}"
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    with postgres_schema() as url:
        yield url
