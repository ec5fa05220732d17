"""The Store: one database (SQLite file or PostgreSQL), migrated on open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from sqlalchemy import Engine, select

from bmtc.domain.dataset import Dataset
from bmtc.domain.model import DatasetInfo
from bmtc.store import queries
from bmtc.store.database import create_store_engine, display_url, migrate, resolve_url
from bmtc.store.schema import facilities, organizations
from bmtc.store.writer import ImportSummary, apply_dataset, chunks

PAGE_CACHE_ENTRIES = 512
MEMO_ENTRIES = 64
T = TypeVar("T")
_ID_TABLES = {"organizations": organizations, "facilities": facilities}


class Store:
    def __init__(self, url: str | None = None, *, create: bool = True):
        self.url = resolve_url(url)
        self.engine: Engine = create_store_engine(self.url)
        # Request handlers share the store across a thread pool, hence the lock.
        self._pages: LRUCache[tuple[Any, ...], tuple[list[dict[str, Any]], int]] = (
            LRUCache(PAGE_CACHE_ENTRIES))
        self._pages_lock = threading.Lock()
        self._memo: LRUCache[tuple[Any, ...], Any] = LRUCache(MEMO_ENTRIES)
        self._memo_lock = threading.Lock()
        self._key_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._atlas: tuple[tuple[int, int], Dataset] | None = None
        self._atlas_lock = threading.Lock()
        if create:
            migrate(self.engine)

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def existing_ids(self, table: str, ids: set[str]) -> set[str]:
        if not ids:
            return set()
        column = _ID_TABLES[table].c.id
        found: set[str] = set()
        with self.engine.connect() as conn:
            for part in chunks(sorted(ids)):
                found.update(r[0] for r in conn.execute(select(column).where(column.in_(part))))
        return found

    def apply(self, dataset: Dataset, *, file_name: str, file_sha256: str, fmt: str,
              actor: str, rejected: int = 0) -> ImportSummary:
        """Write the dataset in one transaction: all of it, or (on any error) none of it."""
        with self.engine.begin() as conn:
            return apply_dataset(conn, dataset, file_name=file_name, file_sha256=file_sha256,
                                 fmt=fmt, actor=actor, rejected=rejected)

    def load(self, flt: queries.FacilityFilter | None = None) -> Dataset:
        with self.engine.connect() as conn:
            return queries.load_dataset(conn, flt)

    def info(self) -> DatasetInfo | None:
        with self.engine.connect() as conn:
            return queries.dataset_meta(conn)

    def facility_rows(self, flt: queries.FacilityFilter) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return queries.facility_rows(conn, flt)

    def facility_card(self, facility_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return queries.facility_card(conn, facility_id)

    def organization_rows(self, **filters: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return queries.organization_rows(conn, **filters)

    def organization_card(self, org_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return queries.organization_card(conn, org_id)

    def count_facilities(self) -> int:
        with self.engine.connect() as conn:
            return queries.count_facilities(conn)

    def record_as_of(self, entity_type: str, entity_id: str, moment: datetime,
                     ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        with self.engine.connect() as conn:
            return queries.record_as_of(conn, entity_type, entity_id, moment)

    def memoised(self, key: tuple[Any, ...], compute: Callable[[Dataset], T],
                 admit: Callable[[], AbstractContextManager[object]] | None = None) -> T:
        """`compute` over the atlas, remembered until the next import changes the atlas.
        For read-only views (dashboard figures, analyses) that are costly to rebuild on
        every request; the result must not be modified by the caller. Concurrent requests
        for the same key wait for one computation rather than each running it. `admit`, when
        given, guards only an actual computation (a caller's share of the CPU, say)."""
        version = self.atlas_version()
        with self._memo_lock:
            if (version, *key) in self._memo:
                return cast(T, self._memo[(version, *key)])
            key_lock = self._key_locks.setdefault((version, *key), threading.Lock())
        with key_lock:
            try:
                with self._memo_lock:
                    if (version, *key) in self._memo:
                        return cast(T, self._memo[(version, *key)])
                with admit() if admit is not None else nullcontext():
                    value = compute(self.atlas(version))
                with self._memo_lock:
                    self._memo[(version, *key)] = value
            finally:
                with self._memo_lock:
                    self._key_locks.pop((version, *key), None)
        return value

    def atlas_version(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            return queries.atlas_version(conn)

    def atlas(self, version: tuple[int, int] | None = None) -> Dataset:
        """The whole atlas as loaded, shared by every memoised view of one version. It has
        its own slot, so no number of distinct views can push it out."""
        version = version or self.atlas_version()
        with self._atlas_lock:
            if self._atlas is None or self._atlas[0] != version:
                self._atlas = (version, self.load())
            return self._atlas[1]

    def facility_page(self, flt: queries.FacilityFilter, sort: str, descending: bool,
                      offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """One page of a facility search. Pages are kept per atlas version, so a popular
        search costs one small query until the next import changes the atlas."""
        with self.engine.connect() as conn:
            key = (queries.atlas_version(conn), flt, sort, descending, offset, limit)
            with self._pages_lock:
                cached = self._pages.get(key)
            if cached is None:
                cached = queries.facility_page(conn, flt, sort, descending, offset, limit)
                with self._pages_lock:
                    self._pages[key] = cached
        rows, total = cached
        return [dict(row) for row in rows], total
