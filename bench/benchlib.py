"""Helpers the benchmark scripts share: the recorded baseline and the figures table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bmtc.store.database import resolve_url


def load_baseline(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def print_columns(rows: list[list[str]]) -> None:
    """Left-aligned columns, the first row as a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 6),
            "unit": self.unit,
            "target": self.target,
            "ok": self.ok,
            "detail": self.detail,
        }


def print_figures(figures: list[Figure], baseline: dict[str, Any] | None,
                  fmt: Callable[[float, str], str]) -> None:
    """The figures with their targets and, when a baseline exists, the ratio to it."""
    base = (baseline or {}).get("results", {})
    header = ["figure", "measured", "target", "ok"]
    if baseline is not None:
        header.append("vs baseline")
    lines = [header]
    for fig in figures:
        ok = fig.ok
        target = "-"
        if fig.target is not None:
            target = ("≥ " if fig.higher_is_better else "≤ ") + fmt(fig.target, fig.unit)
        line = [fig.name, fmt(fig.value, fig.unit), target,
                "-" if ok is None else ("ok" if ok else "MISS")]
        if baseline is not None:
            old = base.get(fig.name, {}).get("value")
            # A figure of zero (a bound of nothing, say) has no meaningful ratio.
            line.append(f"{fig.value / old:.2f}x" if old and abs(old) > 1e-9 else "n/a")
        lines.append(line)
    print_columns(lines)


# The local PostgreSQL server the benchmarks use (loopback only).
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    engine = create_engine(resolve_url(PG_BASE), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means: skip PostgreSQL
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh schema, dropped afterwards; yields the store URL that uses it."""
    admin = create_engine(resolve_url(PG_BASE), connect_args={"connect_timeout": 3})
    schema = f"bmtc_bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
