"""Benchmark of the supply-chain analytics: the network LP at atlas scale and the Monte Carlo.

Run from the project root:

    .venv/bin/python bench/bench_analysis.py            # 10,000 facilities, 12 years

It

- generates a deterministic synthetic atlas of `Node`s (seeded numpy RNG, no network) spread
  over every balanced flow of the chain: mines, lithium/nickel/cobalt/manganese refineries
  (some fed from their own site), pCAM, iron phosphate, layered and phosphate CAM (some lines
  serving both families), natural and synthetic AAM, LiPF6, electrolyte, separator, copper
  and aluminium foil, and cells of one or both families. Plants start in different years and
  ramp to nameplate; each stage grows at its own pace, so the stage that holds the bound back
  changes over the years;
- builds one `NetworkModel` without imports and solves every year with `solve_year` on the
  same model (each solve starts from the previous basis): target 2 s for build and all solves;
- runs `simulate` on the bundled atlas under the post-2025-law scenario (10,000 draws, seed 1;
  dataset loading excluded): target 30 s on 2 cores;
- runs it again with the same seed and checks that the percentiles are identical.

Figures are compared with bench/analysis_baseline.json (`--save-baseline` writes it). Targets
are reported, never enforced.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy

from benchlib import Figure, load_baseline, print_figures
from bmtc.analysis.conversions import FAMILIES, Family
from bmtc.analysis.flows import FLOWS, Flow
from bmtc.analysis.network import BALANCED, NetworkModel, Node, YearBound, solve_year
from bmtc.analysis.recipe import FEED_OF, Recipe, build_recipe
from bmtc.analytics_service import SimulationResult, scenario_named, simulate
from bmtc.screening_service import bundled_dataset

BENCH_DIR = Path(__file__).resolve().parent
BASELINE_PATH = BENCH_DIR / "analysis_baseline.json"

DEFAULT_FACILITIES = 10_000
DEFAULT_YEARS = 12
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20_260_101
QUICK = {"facilities": 1_000, "years": 12, "draws": 200}
FIRST_YEAR = 2026
RUNS = 3
SCENARIO = "post-2025-law"
SIMULATION_SEED = 1
MC_YEAR = 2030
TARGET_LP_S = 2.0
TARGET_MC_S = 30.0

# Share of the synthetic atlas's facilities on each flow: many small mines and cell, AAM and
# CAM lines, fewer refineries and component plants, roughly as a North American atlas has them.
FACILITY_SHARES: dict[Flow, float] = {
    Flow.LITHIUM_FEED: 0.09,
    Flow.NICKEL_FEED: 0.05,
    Flow.COBALT_FEED: 0.03,
    Flow.MANGANESE_FEED: 0.02,
    Flow.GRAPHITE_FEED: 0.04,
    Flow.LITHIUM_CHEMICAL: 0.06,
    Flow.NICKEL_CHEMICAL: 0.035,
    Flow.COBALT_CHEMICAL: 0.025,
    Flow.MANGANESE_CHEMICAL: 0.015,
    Flow.PCAM: 0.05,
    Flow.IRON_PHOSPHATE: 0.035,
    Flow.CAM_LAYERED: 0.07,
    Flow.CAM_PHOSPHATE: 0.05,
    Flow.AAM: 0.09,
    Flow.LIPF6: 0.025,
    Flow.ELECTROLYTE: 0.045,
    Flow.SEPARATOR: 0.045,
    Flow.COPPER_FOIL: 0.04,
    Flow.ALUMINUM_FOIL: 0.035,
    Flow.CELLS: 0.15,
}
# Each flow's capacity as a multiple of what the reference cell output needs: (multiple in the
# first year, change per year). Cells grow with the reference; separator, lithium chemicals,
# nickel chemicals and aluminium foil fall behind at different paces, so the weakest stage moves
# along the chain from cells to separator to refining over the horizon.
COVERAGE: dict[Flow, tuple[float, float]] = {
    Flow.CELLS: (1.0, 0.0),
    Flow.SEPARATOR: (1.12, -0.035),
    Flow.LITHIUM_CHEMICAL: (1.45, -0.07),
    Flow.NICKEL_CHEMICAL: (1.9, -0.09),
    Flow.ALUMINUM_FOIL: (1.7, -0.055),
}
DEFAULT_COVERAGE = (1.6, 0.0)
# The reference cell output: GWh a year in the first year and its yearly growth.
CELLS_FIRST_GWH = 120.0
CELLS_GROWTH = 0.2
LAYERED_SHARE = 0.6  # of the reference GWh, for sizing the family-specific flows
# Refineries that refine what their own site extracts (brine, clay, HPAL) and draw no feed.
INTEGRATED_SHARE: dict[Flow, float] = {
    Flow.LITHIUM_CHEMICAL: 0.35,
    Flow.NICKEL_CHEMICAL: 0.2,
    Flow.COBALT_CHEMICAL: 0.1,
    Flow.MANGANESE_CHEMICAL: 0.1,
}
NATURAL_AAM_SHARE = 0.55
# Families a line serves, with the chance of each: (layered only, phosphate only, both).
FAMILY_ODDS: dict[Flow, tuple[float, float, float]] = {
    Flow.CAM_LAYERED: (0.8, 0.0, 0.2),
    Flow.CAM_PHOSPHATE: (0.0, 0.85, 0.15),
    Flow.CELLS: (0.45, 0.25, 0.30),
}
MINED = {
    Flow.LITHIUM_FEED,
    Flow.NICKEL_FEED,
    Flow.COBALT_FEED,
    Flow.MANGANESE_FEED,
    Flow.GRAPHITE_FEED,
}


# --- measuring ----------------------------------------------------------------------------



@contextmanager
def clock() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    yield box
    box.append(time.perf_counter() - start)


def cores() -> int:
    # The CPUs this process may run on, which a container can set below the machine's count.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- the synthetic atlas ------------------------------------------------------------------


def requirement_per_gwh(recipe: Recipe) -> dict[Flow, float]:
    """What one GWh of the reference cell mix needs of each flow, upstream flows through the
    chain's coefficients; mined feed counts only what non-integrated refineries draw."""
    share: dict[Family, float] = {"layered": LAYERED_SHARE, "phosphate": 1.0 - LAYERED_SHARE}
    need: dict[Flow, float] = {flow: 0.0 for flow in BALANCED}
    need[Flow.CELLS] = 1.0
    for family in FAMILIES:
        for flow, derived in recipe.cell[family].items():
            need[flow] += share[family] * derived.value
    for family, cam_flow in (("layered", Flow.CAM_LAYERED), ("phosphate", Flow.CAM_PHOSPHATE)):
        for flow, derived in recipe.cam[family].items():
            need[flow] += need[cam_flow] * derived.value
    for flow, derived in recipe.pcam.items():
        need[flow] += need[Flow.PCAM] * derived.value
    need[Flow.LIPF6] += need[Flow.ELECTROLYTE] * recipe.electrolyte_lipf6.value
    need[Flow.LITHIUM_CHEMICAL] += need[Flow.LIPF6] * recipe.lipf6_lithium.value
    for chemical, (feed, _step) in FEED_OF.items():
        drawn = 1.0 - INTEGRATED_SHARE.get(chemical, 0.0)
        need[feed] += need[chemical] * drawn * recipe.feed[chemical].value
    need[Flow.GRAPHITE_FEED] += need[Flow.AAM] * NATURAL_AAM_SHARE * recipe.aam_feed.value
    return need


def facility_counts(total: int) -> dict[Flow, int]:
    """Facilities per flow, in FACILITY_SHARES proportions and summing to `total`."""
    flows = list(FACILITY_SHARES)
    shares = np.array([FACILITY_SHARES[f] for f in flows])
    exact = total * shares / shares.sum()
    counts = np.maximum(np.floor(exact).astype(int), 1)
    # The rounding remainder goes to the flows that lost the most to it.
    short = total - int(counts.sum())
    order = np.argsort(counts - exact)
    for i in range(max(short, 0)):
        counts[order[i % len(order)]] += 1
    return {flow: int(n) for flow, n in zip(flows, counts, strict=True)}


def flow_capacity(
    target: npt.NDArray[np.float64], count: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Capacity by facility and year whose sum follows `target` (a rising series): each year's
    increase is built by plants starting that year, sized lognormally and ramping over up to
    three years; plants of the first year are already running."""
    years = target.size
    step = np.diff(target, prepend=0.0).clip(min=0.0)
    start = rng.choice(years, size=count, p=step / step.sum())
    # One plant of each cohort at least, so no year's increase is lost for want of a plant.
    start[: min(count, years)] = np.arange(min(count, years))
    weight = rng.lognormal(0.0, 0.8, size=count)
    cohort = np.bincount(start, weights=weight, minlength=years)
    nameplate = step[start] * weight / cohort[start]
    ramp = np.where(start == 0, 1, rng.integers(1, 4, size=count))
    index = np.arange(years)[None, :]
    share = np.clip((index - start[:, None] + 1) / ramp[:, None], 0.0, 1.0)
    capacity: npt.NDArray[np.float64] = share * nameplate[:, None]
    return capacity


def synthetic_nodes(recipe: Recipe, facilities: int, years: int, seed: int) -> list[Node]:
    rng = np.random.default_rng(seed)
    need = requirement_per_gwh(recipe)
    span = np.arange(years)
    reference = CELLS_FIRST_GWH * (1.0 + CELLS_GROWTH) ** span
    nodes: list[Node] = []
    for flow, count in facility_counts(facilities).items():
        first, change = COVERAGE.get(flow, DEFAULT_COVERAGE)
        target = need[flow] * reference * first * (1.0 + change) ** span
        capacity = flow_capacity(np.maximum.accumulate(target), count, rng)
        # A mine's output is its own feed; flows.py marks every mined flow integrated.
        integrated = (
            np.ones(count, dtype=bool)
            if flow in MINED
            else rng.random(count) < INTEGRATED_SHARE.get(flow, 0.0)
        )
        natural = rng.random(count) < NATURAL_AAM_SHARE
        odds = FAMILY_ODDS.get(flow)
        served = rng.choice(3, size=count, p=odds) if odds else np.full(count, -1)
        stage = FLOWS[flow].stage.value
        for i in range(count):
            families: tuple[Family, ...] = ()
            if served[i] >= 0:
                families = (("layered",), ("phosphate",), FAMILIES)[int(served[i])]
            route = ("natural" if natural[i] else "synthetic") if flow is Flow.AAM else ""
            number = len(nodes) + 1
            nodes.append(
                Node(
                    f"SYN-{number:06d}",
                    f"Synthetic {flow.value} {number}",
                    stage,
                    flow,
                    families,
                    bool(integrated[i]),
                    route,
                    capacity[i],
                )
            )
    return nodes


# --- the network LP -----------------------------------------------------------------------


@dataclass
class LpRun:
    build_s: float
    solve_s: list[float]
    bounds: list[YearBound]


def weakest(bound: YearBound) -> str:
    """The stage `solve_year` ranks first; when it flags no facility as binding, the flow with
    the largest 1% gain from the row duals, marked as such (`solve_year` compares a facility's
    GWh per unit with an absolute tolerance, which a flow measured in m2 can stay under)."""
    if len(bound.stages):
        top = bound.stages.iloc[0]
        return f"{top['stage']} ({top['flow']})"
    gain = (bound.flows["gwh_per_unit"] * bound.flows["made"]).to_numpy(dtype=float)
    if not gain.size or float(gain.max()) <= 0.0:
        return "none"
    row = bound.flows.iloc[int(np.argmax(gain))]
    return f"{row['stage']} ({row['flow']}, from shadow prices only)"


def lp_run(nodes: list[Node], recipe: Recipe, years: int) -> LpRun:
    no_imports = {flow: 0.0 for flow in BALANCED}
    with clock() as built:
        model = NetworkModel(nodes, recipe, no_imports)
    solve_s: list[float] = []
    bounds: list[YearBound] = []
    for index in range(years):
        with clock() as took:
            bounds.append(solve_year(model, index, FIRST_YEAR + index))
        solve_s.append(took[0])
    return LpRun(built[0], solve_s, bounds)


def bench_lp(facilities: int, years: int, seed: int) -> list[Figure]:
    recipe = build_recipe()
    with clock() as generated:
        nodes = synthetic_nodes(recipe, facilities, years, seed)
    cells = np.sum([n.capacity for n in nodes if n.flow is Flow.CELLS], axis=0)
    both = sum(1 for n in nodes if len(n.families) > 1)
    print(
        f"  generated {len(nodes):,} facilities on {len({n.flow for n in nodes})} flows "
        f"({both:,} serving both families) in {generated[0] * 1000:.0f} ms"
    )
    # Best of a few runs, each on a fresh model, so a one-off stall does not set the figure;
    # the warm starts within a run are what is being measured.
    runs = [lp_run(nodes, recipe, years) for _ in range(RUNS)]
    best = min(runs, key=lambda run: run.build_s + sum(run.solve_s))
    stable = all(
        [b.cells_gwh for b in run.bounds] == [b.cells_gwh for b in runs[0].bounds] for run in runs
    )
    model = NetworkModel(nodes, recipe, {flow: 0.0 for flow in BALANCED})
    print(
        f"  LP: {len(model.columns):,} columns, {model.matrix.shape[0]} rows, "
        f"{model.matrix.nnz:,} non-zeros; best of {RUNS} runs, same bounds in every run: "
        f"{'yes' if stable else 'no'}"
    )
    print(f"  build {best.build_s * 1000:.1f} ms")
    for index, (bound, took) in enumerate(zip(best.bounds, best.solve_s, strict=True)):
        print(
            f"    {bound.year}  {took * 1000:6.1f} ms  bound {bound.cells_gwh:8.1f} GWh "
            f"of {cells[index]:8.1f} GWh cell capacity  weakest: {weakest(bound)}"
        )
    total = best.build_s + sum(best.solve_s)
    first, last = best.bounds[0], best.bounds[-1]
    print(
        f"  build + {years} solves: {total:.3f} s (target {TARGET_LP_S:g} s for "
        f"{DEFAULT_FACILITIES:,} x {DEFAULT_YEARS} years): "
        f"{'met' if total <= TARGET_LP_S else 'missed'}"
    )
    detail: dict[str, Any] = {
        "facilities": len(nodes),
        "years": years,
        "columns": len(model.columns),
        "rows": int(model.matrix.shape[0]),
        "nonzeros": int(model.matrix.nnz),
        "per_year_s": [round(s, 5) for s in best.solve_s],
        "bound_gwh": [round(b.cells_gwh, 3) for b in best.bounds],
        "weakest": [weakest(b) for b in best.bounds],
        "same_bounds_every_run": stable,
    }
    return [
        Figure("lp_generate_atlas", generated[0], "s"),
        Figure("lp_build", best.build_s, "s"),
        Figure("lp_solve_all_years", sum(best.solve_s), "s", detail=detail),
        Figure("lp_solve_per_year_mean", sum(best.solve_s) / years, "s"),
        Figure("lp_build_and_solve", total, "s", TARGET_LP_S),
        Figure(
            "lp_bound_first_year",
            first.cells_gwh,
            "GWh",
            detail={"year": first.year, "weakest": weakest(first)},
        ),
        Figure(
            "lp_bound_last_year",
            last.cells_gwh,
            "GWh",
            detail={"year": last.year, "weakest": weakest(last)},
        ),
    ]


# --- the Monte Carlo ----------------------------------------------------------------------


def percentile_row(frame: pd.DataFrame, **where: object) -> dict[str, float]:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if len(rows) != 1:
        raise ValueError(f"expected one row for {where}, found {len(rows)}")
    row = rows.iloc[0]
    return {p: float(row[p]) for p in ("p10", "p50", "p90")}


def timed_simulation(draws: int) -> tuple[float, SimulationResult]:
    dataset = bundled_dataset()
    with clock() as took:
        result = simulate(dataset, scenario_named(SCENARIO), draws=draws, seed=SIMULATION_SEED)
    return took[0], result


def _gwh(stats: dict[str, float]) -> str:
    # Round-off of order 1e-16 from the LP would otherwise print as a tiny negative or "5e-16".
    return " / ".join(f"{max(v, 0.0) + 0.0:,.1f}" for v in stats.values())


def bench_mc(draws: int) -> list[Figure]:
    seconds, result = timed_simulation(draws)
    bound = percentile_row(result.bounds, year=MC_YEAR)
    cells = percentile_row(result.capacity, flow=Flow.CELLS.value, year=MC_YEAR)
    print(
        f"  {SCENARIO}, {draws:,} draws, seed {SIMULATION_SEED}: {seconds:.2f} s "
        f"({draws / seconds:,.0f} draws/s) on {cores()} cores; target {TARGET_MC_S:g} s for "
        f"{DEFAULT_DRAWS:,} draws on 2 cores: {'met' if seconds <= TARGET_MC_S else 'missed'}"
    )
    print(f"  {MC_YEAR} network bound P10 / P50 / P90: {_gwh(bound)} GWh")
    print(f"  {MC_YEAR} cell capacity P10 / P50 / P90: {_gwh(cells)} GWh")
    again_s, again = timed_simulation(draws)
    same = bool(result.bounds.equals(again.bounds) and result.capacity.equals(again.capacity))
    print(
        f"  the same seed again ({again_s:.2f} s) gives identical percentiles: "
        f"{'yes' if same else 'no'}"
    )
    detail: dict[str, Any] = {
        "scenario": SCENARIO,
        "draws": draws,
        "seed": SIMULATION_SEED,
        "cores": cores(),
        "second_run_s": round(again_s, 4),
        "same_seed_identical": same,
        f"bound_{MC_YEAR}": bound,
        f"cells_{MC_YEAR}": cells,
    }
    return [
        Figure("mc_simulate", seconds, "s", TARGET_MC_S, detail=detail),
        Figure("mc_draws_per_second", draws / seconds, "draws/s"),
        Figure(f"mc_bound_{MC_YEAR}_p50", bound["p50"], "GWh", detail=bound),
        Figure(f"mc_cells_{MC_YEAR}_p50", cells["p50"], "GWh", detail=cells),
    ]


# --- reporting ----------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "GWh":
        return f"{max(value, 0.0) + 0.0:,.1f} GWh"
    return f"{value:,.0f} {unit}"



# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--facilities",
        type=int,
        default=None,
        help=f"synthetic facilities for the LP (default {DEFAULT_FACILITIES:,})",
    )
    parser.add_argument(
        "--years",
        type=int,
        default=None,
        help=f"years solved on the synthetic atlas (default {DEFAULT_YEARS})",
    )
    parser.add_argument(
        "--draws", type=int, default=None, help=f"Monte Carlo draws (default {DEFAULT_DRAWS:,})"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic atlas"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['facilities']:,} facilities, {QUICK['draws']} draws unless given",
    )
    parser.add_argument(
        "--save-baseline", action="store_true", help="write bench/analysis_baseline.json"
    )
    args = parser.parse_args(argv)
    defaults = (
        QUICK
        if args.quick
        else {"facilities": DEFAULT_FACILITIES, "years": DEFAULT_YEARS, "draws": DEFAULT_DRAWS}
    )
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 100 <= args.facilities <= 1_000_000:
        parser.error("--facilities must be between 100 and 1,000,000")
    if not 1 <= args.years <= 50:
        parser.error("--years must be between 1 and 50")
    if not 10 <= args.draws <= 200_000:
        parser.error("--draws must be between 10 and 200,000")
    if args.quick and args.save_baseline:
        parser.error("a --quick run is not a baseline; drop one of --quick, --save-baseline")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Progress lines should show up as they happen when the output goes to a file.
        sys.stdout.reconfigure(line_buffering=True)
    started = time.perf_counter()
    print(f"Network LP on a synthetic atlas ({args.facilities:,} facilities, {args.years} years):")
    figures = bench_lp(args.facilities, args.years, args.seed)
    print("\nMonte Carlo on the bundled atlas:")
    figures += bench_mc(args.draws)

    size = {
        "facilities": args.facilities,
        "years": args.years,
        "draws": args.draws,
        "seed": args.seed,
    }
    baseline = load_baseline(BASELINE_PATH)
    if baseline is not None:
        base_size = baseline.get("meta", {}).get("size")
        if base_size != size:
            print(
                f"\nNote: the baseline was measured with {base_size}, this run with {size}; "
                "its ratios are not comparable."
            )
    print()
    print_figures(figures, baseline, _fmt)
    results = {
        "meta": {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
            "highspy": version("highspy"),
            "platform": platform.platform(),
            "cores": cores(),
            "size": size,
        },
        "results": {fig.name: fig.as_dict() for fig in figures},
    }
    if args.save_baseline:
        BASELINE_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nBaseline written to {BASELINE_PATH}")
    elif baseline is None:
        print("\nNo baseline (bench/analysis_baseline.json); --save-baseline writes one.")
    print(f"\nTotal benchmark time {time.perf_counter() - started:.1f} s")
    missed = [f.name for f in figures if f.ok is False]
    if missed:
        print(f"Missed targets: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
