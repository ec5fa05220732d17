"""Analytics through the CLI against the bundled atlas, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from bmtc.cli import Failed, app
from bmtc.domain.quantities import convert_mass

runner = CliRunner()


@pytest.fixture
def loaded(store_url: str) -> str:
    result = runner.invoke(app, ["init", "--quiet", "--db", store_url])
    assert result.exit_code == 0, result.output
    return store_url


@pytest.fixture(scope="module")
def sqlite_loaded(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'atlas.db'}"
    result = runner.invoke(app, ["init", "--quiet", "--db", url])
    assert result.exit_code == 0, result.output
    return url


def invoke_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gap_for_a_preset_is_sourced_and_consistent(loaded: str) -> None:
    report = invoke_json("gap", "--scenario", "us-total-argonne-2024", "--year", "2030",
                         "--db", loaded)
    assert report["year"] == 2030 and report["demand_gwh"] == pytest.approx(1080)
    assert report["demand_sources"] and report["mix_source"]
    rows = {r["flow"]: r for r in report["rows"]}
    assert rows["cells"]["requirement"] == pytest.approx(1080)
    lithium = rows["lithium_chemical"]
    assert lithium["requirement_lce"] == pytest.approx(
        convert_mass(lithium["requirement"], "contained_li", "lce"))
    for row in report["rows"]:
        assert row["gap"] == pytest.approx(row["plausible"] - row["requirement"])
        if row["flow"] not in ("cells", "packs"):
            assert row["sources"], row["flow"]
            assert row["confidence"] in ("primary", "secondary", "uncertain")


def test_network_na_is_explained(loaded: str) -> None:
    report = invoke_json("network", "--year", "2030", "--sourcing", "na", "--db", loaded)
    year = report["years"][0]
    assert year["year"] == 2030
    assert 0 <= year["bound_gwh"] <= report["summary"][0]["cell_capacity_gwh"] + 1e-6
    assert any("2030" in line and "GWh" in line for line in year["explanation"])
    assert report["coefficients"] and all(c["source"] for c in report["coefficients"])
    if year["bound_gwh"] > 0:
        assert year["binding_stages"], "a positive bound has a binding stage"


def test_allied_with_unbounded_imports_is_limited_by_cells(sqlite_loaded: str) -> None:
    na = invoke_json("network", "--year", "2030", "--db", sqlite_loaded)
    allied = invoke_json("network", "--year", "2030", "--sourcing", "allied",
                         "--db", sqlite_loaded)
    bound_na = na["years"][0]["bound_gwh"]
    bound_allied = allied["years"][0]["bound_gwh"]
    assert bound_allied >= bound_na
    assert bound_allied == pytest.approx(allied["summary"][0]["cell_capacity_gwh"], rel=1e-6)
    assert allied["years"][0]["binding_stages"][0]["stage"] == "cell"


def test_relaxing_a_stage_never_lowers_the_bound(sqlite_loaded: str) -> None:
    base = invoke_json("network", "--year", "2030", "--db", sqlite_loaded)
    relaxed = invoke_json("network", "--year", "2030", "--relax", "precursor",
                          "--db", sqlite_loaded)
    assert relaxed["years"][0]["bound_gwh"] >= base["years"][0]["bound_gwh"] - 1e-9


def test_text_and_csv_outputs(sqlite_loaded: str) -> None:
    text = runner.invoke(app, ["network", "--year", "2030", "--db", sqlite_loaded])
    assert text.exit_code == 0, text.output
    assert "North America could make at most" in " ".join(text.stdout.split())
    csv = runner.invoke(app, ["gap", "--csv", "--db", sqlite_loaded])
    assert csv.exit_code == 0, csv.output
    frame = pd.read_csv(io.StringIO(csv.stdout))
    assert {"flow", "requirement", "plausible", "gap", "self_sufficiency"} <= set(frame.columns)
    capacity = runner.invoke(app, ["capacity", "--by", "stage,country", "--year", "2030",
                                   "--csv", "--db", sqlite_loaded])
    assert capacity.exit_code == 0, capacity.output
    table = pd.read_csv(io.StringIO(capacity.stdout))
    assert set(table["year"]) == {2030}
    assert (table["plausible"] <= table["announced"] + 1e-6).all()


def test_capacity_slip_statistics(sqlite_loaded: str) -> None:
    report = invoke_json("capacity", "--slip", "--db", sqlite_loaded)
    assert report["facilities_with_history"] > 0
    pairs = {(t["from"], t["to"]) for t in report["transitions"]}
    assert ("under_construction", "paused") in pairs


def test_scenario_run_is_reproducible(sqlite_loaded: str) -> None:
    example = str(Path(__file__).parents[1] / "docs" / "scenarios"
                  / "quebec-cathode-outage.yaml")
    first = invoke_json("scenario", "run", example, "--draws", "200", "--db", sqlite_loaded)
    second = invoke_json("scenario", "run", example, "--draws", "200", "--db", sqlite_loaded)
    assert first["monte_carlo"] == second["monte_carlo"]
    assert first["monte_carlo"]["seed"] == 7
    assert len(first["disruptions"]) == 2
    assert first["disruption_cost_gwh"] >= -1e-9
    for row in first["monte_carlo"]["capacity"]:
        assert row["p10"] <= row["p50"] + 1e-9 <= row["p90"] + 2e-9


def test_bad_scenario_file_names_the_field(sqlite_loaded: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: t\nyear: 2030\ndemand: {presets: [us-ev-iea]}\n"
                   "mix: {nmc811: 0.5, lfp: 0.4}\nmix_source: x\n", encoding="utf-8")
    # Failed reaches the user through `main`, which prints it and exits with status 1.
    result = runner.invoke(app, ["scenario", "run", str(bad), "--db", sqlite_loaded])
    assert isinstance(result.exception, Failed)
    assert "bad.yaml" in str(result.exception) and "mix" in str(result.exception)
    missing = runner.invoke(app, ["gap", "--scenario", "no-such-thing", "--db", sqlite_loaded])
    assert isinstance(missing.exception, Failed) and "no scenario" in str(missing.exception)


def test_scenario_list_names_presets(sqlite_loaded: str) -> None:
    rows = invoke_json("scenario", "list")
    names = {r["name"] for r in rows}
    assert {"post-2025-law", "pre-2025-law", "us-total-argonne-2024"} <= names


def test_concentration_by_controller_and_covered_control(loaded: str) -> None:
    report = invoke_json("concentration", "--year", "2030", "--db", loaded)
    assert report["by"] == "controller_country" and "Merger Guidelines" in report["citation"]
    shares = pd.DataFrame(report["shares"])
    totals = shares.groupby(["stage", "flow"])["share"].sum()
    assert all(abs(total - 1) < 1e-9 for total in totals)
    cells = {r["flow"]: r for r in report["summary"]}["cells"]
    assert 0 < cells["hhi"] <= 10_000
    covered = {r["flow"]: r for r in report["covered_control"]}["cells"]
    assert 0 < covered["share"] < 1 and covered["covered"] <= covered["total"]
    located = invoke_json("concentration", "--year", "2030", "--by", "country", "--db", loaded)
    located_cells = {r["flow"]: r for r in located["summary"]}["cells"]
    assert {k for k, _ in located_cells["top"]} <= {"US", "CA", "MX"}


def test_world_concentration_from_reference(sqlite_loaded: str) -> None:
    rows = invoke_json("concentration", "--global")
    cobalt = next(r for r in rows if r["stage"] == "mining" and r["material"] == "cobalt")
    # DR Congo alone holds about 76% of cobalt mining (USGS 2024): HHI above 5,700.
    assert cobalt["hhi_listed"] >= 0.76 ** 2 * 10_000 - 1
    assert cobalt["hhi_listed"] <= cobalt["hhi_upper"] <= 10_000
