"""The state-of-the-supply-chain brief: PDF layout, pinned snapshot, footnotes, options.

The PDF is rendered once for the module (WeasyPrint takes seconds); the other checks build the
brief's HTML, which runs the same engines without the layout step.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from bmtc import analytics_service
from bmtc.brief import TITLE, Brief, number, percent
from bmtc.brief.build import as_of_view, build_brief, snapshot
from bmtc.brief.render import render_html
from bmtc.cli import app
from bmtc.domain.dataset import Dataset
from bmtc.service import bundled_atlas, import_path, initialise
from bmtc.store.store import Store

runner = CliRunner()


def _load(url: str) -> Dataset:
    with Store(url) as store:
        return store.load()


@pytest.fixture(scope="module")
def atlas_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('brief') / 'store.sqlite'}"
    with Store(url) as store:
        initialise(store)
    return url


@pytest.fixture(scope="module")
def pdf_text(atlas_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str]:
    out = tmp_path_factory.mktemp("pdf") / "brief.pdf"
    result = runner.invoke(app, ["brief", "--db", atlas_url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    pages = PdfReader(out).pages
    # Line breaks in the PDF fall wherever the layout put them; compare words, not lines.
    return len(pages), " ".join(" ".join(p.extract_text() for p in pages).split())


@pytest.fixture(scope="module")
def built(atlas_url: str) -> tuple[Brief, str]:
    brief = build_brief(_load(atlas_url))
    return brief, render_html(brief)


def test_pdf_has_the_pages_and_the_figures(atlas_url: str, pdf_text: tuple[int, str],
                                           built: tuple[Brief, str]) -> None:
    pages, text = pdf_text
    assert 8 <= pages <= 15
    assert TITLE in text
    assert built[0].snapshot in text
    assert "The gap in 2030" in text
    dataset = _load(atlas_url)
    frame, _ = analytics_service.gap(dataset, analytics_service.scenario_named(None), [2030])
    cells = frame[frame["flow"] == "cells"].iloc[0]
    assert f"plausible cell capacity is {number(cells['plausible'])} GWh" in text
    assert percent(cells["self_sufficiency"]) in text
    assert "Page 2 of" in text


def test_same_snapshot_gives_the_same_hash_and_document(atlas_url: str,
                                                        built: tuple[Brief, str]) -> None:
    again = build_brief(_load(atlas_url))
    assert again.snapshot == built[0].snapshot
    assert re.fullmatch(r"[0-9a-f]{64}", again.snapshot)
    assert render_html(again) == built[1]


def test_changing_a_facility_changes_the_hash(tmp_path: Path, atlas_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'changed.sqlite'}"
    folder = tmp_path / "atlas"
    with bundled_atlas() as bundled:
        shutil.copytree(bundled, folder)
    path = folder / "facilities.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["name"] += " (renamed)"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with Store(url) as store:
        initialise(store)
        unchanged = snapshot(store.load(), analytics_service.scenario_named(None))
        import_path(store, folder, "folder")
        changed = snapshot(store.load(), analytics_service.scenario_named(None))
    original = snapshot(_load(atlas_url), analytics_service.scenario_named(None))
    assert unchanged.sha256 == original.sha256
    assert changed.sha256 != original.sha256


def test_every_footnote_is_in_the_sources_list(built: tuple[Brief, str]) -> None:
    brief, html = built
    body = html[:html.index('<section id="sources"')]
    cited = [int(n) for n in re.findall(r'href="#src-(\d+)"', body)]
    listed = [int(n) for n in re.findall(r'<li id="src-(\d+)"', html)]
    assert cited and listed == list(range(1, len(listed) + 1))
    assert set(cited) == set(listed)
    # Numbered in reading order: each new number is the next one.
    assert list(dict.fromkeys(cited)) == listed
    assert [r.number for r in brief.references] == listed


def test_html_is_self_contained(built: tuple[Brief, str]) -> None:
    brief, html = built
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"""(src|url)\s*[=(]\s*["']?https?:""", html)
    figures = sum(1 for s in brief.sections for b in s.blocks if b.kind == "figure")
    assert html.count("<svg") == figures >= 5
    assert html.count('role="img" aria-label="') == figures
    assert brief.snapshot in html


def test_as_of_keeps_only_what_was_known(atlas_url: str) -> None:
    dataset = _load(atlas_url)
    earlier = as_of_view(dataset, "2024-06")
    assert 0 < len(earlier.facilities) < len(dataset.facilities)
    assert all(f.status_as_of[:7] <= "2024-06" for f in earlier.facilities)
    assert all(e.as_of[:7] <= "2024-06" for e in earlier.status_events)
    brief = build_brief(dataset, "pre-2025-law", "2024-06")
    assert brief.facts_as_of == "2024-06" and brief.scenario == "pre-2025-law"
    assert "2024-06-30" in brief.as_of_note
    assert brief.snapshot != build_brief(dataset).snapshot  # the scenario is in the hash


def test_bad_options_name_the_option(atlas_url: str, tmp_path: Path) -> None:
    suffix = runner.invoke(app, ["brief", "--db", atlas_url, "-o", str(tmp_path / "b.docx")])
    assert suffix.exit_code != 0 and "--output" in suffix.output and ".docx" in suffix.output
    unknown = runner.invoke(app, ["brief", "--db", atlas_url, "-o", str(tmp_path / "b.html"),
                                  "--scenario", "no-such-scenario"])
    assert unknown.exit_code != 0 and "--scenario" in unknown.output
    assert "no-such-scenario" in unknown.output
    day = runner.invoke(app, ["brief", "--db", atlas_url, "-o", str(tmp_path / "b.html"),
                              "--as-of", "2024-13"])
    assert day.exit_code != 0 and "--as-of" in day.output
    assert not list(tmp_path.iterdir())


def test_html_output_through_the_cli(atlas_url: str, tmp_path: Path,
                                     built: tuple[Brief, str]) -> None:
    out = tmp_path / "brief.html"
    result = runner.invoke(app, ["brief", "--db", atlas_url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == built[1]
