"""Helpers the benchmark scripts share: the recorded baseline and the figures table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


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
