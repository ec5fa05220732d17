"""A comparable snapshot of every fact table in a store (timestamps and import log aside)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bmtc.store.schema import (
    changes,
    dataset_info,
    facilities,
    funding_awards,
    organizations,
    relationships,
    sources,
    status_events,
)
from bmtc.store.store import Store

_IGNORED = {"updated_at", "recorded_at", "import_id", "id_"}


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    result = {}
    with store.engine.connect() as conn:
        for table in (sources, dataset_info, organizations, relationships, facilities,
                      status_events, funding_awards, changes):
            columns = [c for c in table.columns if c.name not in _IGNORED]
            if table is changes:
                columns = [c for c in columns if c.name != "id"]
            rows = conn.execute(select(*columns)).all()
            result[table.name] = sorted(
                tuple(repr(v) for v in row) for row in rows
            )
    return result
