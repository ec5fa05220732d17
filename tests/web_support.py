"""Shared by the dashboard tests: one platform per test module on a fresh SQLite file
(the bundled atlas is loaded on start), and reading the chart figures a page carries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bmtc.server.app import create_app

FIGURE = re.compile(r'<script type="application/json" id="([^"]+)-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("web")
    with TestClient(create_app(f"sqlite:///{folder / 'atlas.db'}")) as opened:
        yield opened


def figures(page: str) -> dict[str, dict[str, Any]]:
    """Every chart's figure on a page, by chart id."""
    return {chart_id: json.loads(text) for chart_id, text in FIGURE.findall(page)}


def figure(page: str, name: str) -> dict[str, Any]:
    found = figures(page)
    assert name in found, f"no figure {name} (found {sorted(found)})"
    return found[name]
