"""The analytics commands of the `bmtc` CLI: capacity, concentration, gap, network, scenario."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from bmtc import analytics_service as service
from bmtc.analysis.bound import BoundReport, explain
from bmtc.analysis.capacity import GROUPINGS, default_years, summarise
from bmtc.analysis.concentration import KEYS
from bmtc.analysis.scenario import Scenario, ScenarioError, bundled_scenarios
from bmtc.analysis.slip import slip_statistics
from bmtc.analysis.sourcing import POLICIES, Sourcing, check_relaxable
from bmtc.cli import DbOption, Failed, JsonOption, _print_json, _store, _table, app, console
from bmtc.domain.dataset import Dataset
from bmtc.domain.vocab import Stage
from bmtc.io.writers import write_frame_csv

CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
YearOption = Annotated[int | None, typer.Option("--year", help="Year (default: the "
                                                 "scenario's year).")]
ScenarioOption = Annotated[str | None, typer.Option(
    "--scenario", help="Bundled scenario, demand preset id or YAML file (default: "
                       "post-2025-law).")]

scenario_app = typer.Typer(help="Run and list scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


def _load(db: str | None) -> Dataset:
    with _store(db) as store:
        dataset = store.load()
    if not dataset.facilities:
        raise Failed("the store holds no facilities; run `bmtc init` first")
    return dataset


def _scenario(name: str | None) -> Scenario:
    try:
        return service.scenario_named(name)
    except ScenarioError as exc:
        raise Failed(str(exc)) from None


def _as_of_year(dataset: Dataset) -> int:
    return int(str(dataset.info.as_of)[:4]) if dataset.info else 2026


def _message(exc: Exception) -> str:
    # A KeyError's str() wraps its message in quotes; the message itself is what to show.
    return str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)


def _stage(value: str | None) -> str | None:
    if value is not None and value not in {s.value for s in Stage}:
        raise typer.BadParameter(f"{value!r}; choose one of {', '.join(s.value for s in Stage)}",
                                 param_hint="--stage")
    return value


def _csv(frame: pd.DataFrame) -> None:
    write_frame_csv(frame, sys.stdout)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


def _fmt(value: Any, column: str = "") -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        if value != value:  # NaN
            return ""
        if column.startswith("self_sufficiency") or column in ("utilisation", "share",
                                                                "coverage"):
            return f"{value:.1%}"
        if column.startswith("hhi"):
            return f"{value:,.0f}"
        if column == "year":
            return str(int(value))
        for threshold, size, suffix in ((1e9, 1e9, "bn"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
            if abs(value) >= threshold:
                return f"{value / size:,.1f}{suffix}"
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _show(title: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    rows = [{c: _fmt(r[c], c) for c in columns} for r in frame.to_dict("records")]
    console.print(_table(title, rows, list(columns)))


@app.command()
def capacity(
    year: Annotated[list[int] | None, typer.Option("--year", help="Year(s) to show.")] = None,
    by: Annotated[str, typer.Option(help="Group by: " + ", ".join(GROUPINGS))] = "stage,flow",
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    scenario: ScenarioOption = None,
    slip: Annotated[bool, typer.Option("--slip", help="Observed status transitions.")] = False,
    db: DbOption = None, as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """Capacity by stage and year: nameplate ("announced") and weighted ("plausible")."""
    _stage(stage)
    dataset = _load(db)
    if slip:
        summary = slip_statistics(dataset.facilities, dataset.status_events)
        if as_json:
            _print_json({"facilities_with_history": summary.facilities_with_history,
                         **summary.rates(), "transitions": _records(summary.transitions)})
        elif as_csv:
            _csv(summary.transitions)
        else:
            _show(f"Status transitions ({summary.facilities_with_history} facilities with "
                  "history)", summary.transitions, ["from", "to", "count", "median_months"])
            for key, value in summary.rates().items():
                console.print(f"{key}: {'n/a' if value is None else f'{value:.0%}'}")
        return
    chosen = _scenario(scenario) if scenario else None
    years = tuple(year) if year else default_years(_as_of_year(dataset))
    keys = [k.strip() for k in by.split(",") if k.strip()]
    built = service.prepare(dataset, chosen or service.scenario_named(None), years,
                            disrupted=chosen is not None).pipeline
    frame = built.frame if stage is None else built.frame[built.frame["stage"] == stage]
    try:
        table = summarise(frame, [*keys, "year"])
    except ValueError as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _print_json({"years": list(years), "weights": {k.value: v for k, v in
                                                        built.realisation.weights.items()},
                     "weights_source": built.realisation.source,
                     "capacity": _records(table),
                     "unquantified": _records(built.unconverted)})
    elif as_csv:
        _csv(table)
    else:
        columns = [*dict.fromkeys([*keys, "flow", "unit", "year"]), "announced", "plausible",
                   "facilities"]
        _show("Capacity (announced = nameplate; plausible = weighted by status)", table,
              columns)
        console.print(f"Weights: {built.realisation.source}; {len(built.unconverted)} "
                      "facilities have no usable capacity figure (see --json).")


@app.command()
def gap(
    year: YearOption = None, scenario: ScenarioOption = None, db: DbOption = None,
    as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """Demand turned into tonnes at every stage, set against capacity."""
    dataset = _load(db)
    chosen = _scenario(scenario)
    target = year or chosen.year
    try:
        frame, prepared = service.gap(dataset, chosen, [target])
    except (ValueError, KeyError) as exc:
        raise Failed(_message(exc)) from None
    demand = service.demand_for(chosen, [target])[0]
    if as_json:
        _print_json({"scenario": chosen.name, "title": chosen.title, "year": target,
                     "demand_gwh": demand.gwh, "demand_basis": demand.basis,
                     "demand_sources": list(demand.sources), "mix": chosen.mix,
                     "mix_source": chosen.mix_source, "capacity_measure": chosen.capacity,
                     "weights_source": prepared.pipeline.realisation.source,
                     "disruptions": prepared.notes,
                     "unquantified_facilities": service.unquantified_by_stage(prepared),
                     "rows": _records(frame)})
        return
    if as_csv:
        _csv(frame)
        return
    cited = "; ".join(dict.fromkeys(s.split("(")[0].split(":")[0].strip()
                                    for s in demand.sources))
    console.print(f"[bold]{chosen.title}[/bold] ({chosen.name}), {target}: demand "
                  f"{demand.gwh:,.0f} GWh ({demand.basis}; {cited}; full citations in --json)")
    console.print(f"Mix: {', '.join(f'{k} {v:.0%}' for k, v in chosen.mix.items())} "
                  f"({chosen.mix_source.strip()})")
    _show(f"Gap in {target} (plausible capacity minus requirement)", frame,
          ["stage", "flow", "unit", "requirement", "plausible", "gap", "self_sufficiency",
           "confidence"])
    weakest = frame[frame["self_sufficiency"].notna()].sort_values("self_sufficiency").head(3)
    names = ", ".join(f"{r.flow} ({r.self_sufficiency:.1%})" for r in weakest.itertuples())
    console.print(f"Least self-sufficient: {names}. Graphite feed assumes all anode material "
                  "is natural graphite. Sources per row: --json.")
    gaps = service.unquantified_by_stage(prepared)
    if gaps:
        console.print("Facilities with no usable capacity figure count as zero: "
                      + ", ".join(f"{stage} {count}" for stage, count in sorted(gaps.items()))
                      + ".")


@app.command(name="concentration")
def concentration_(
    year: Annotated[int | None, typer.Option("--year", help="Year (default: the atlas's "
                                             "year).")] = None,
    by: Annotated[str, typer.Option(help="country, state_province, operator_id or "
                                         "controller_country.")] = "controller_country",
    stage: Annotated[str | None, typer.Option(help="Only this stage.")] = None,
    measure: Annotated[str, typer.Option(help="plausible or nameplate.")] = "plausible",
    top: Annotated[int, typer.Option(help="How many leaders to name.", min=1)] = 5,
    ruleset: Annotated[str, typer.Option(help="Rule set naming the covered nations.")] =
    "feoc-doe-2024",
    world: Annotated[bool, typer.Option("--global", help="World concentration from the "
                                        "reference shares instead of the atlas.")] = False,
    db: DbOption = None, as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """Shares, HHI and top-N per stage and flow, by location or controlling country."""
    if world:
        _global_concentration(as_json, as_csv)
        return
    if by not in KEYS:
        raise typer.BadParameter(f"{by!r}; choose one of {', '.join(KEYS)}", param_hint="--by")
    if measure not in ("plausible", "nameplate"):
        raise typer.BadParameter("plausible or nameplate", param_hint="--measure")
    _stage(stage)
    dataset = _load(db)
    target = year or _as_of_year(dataset)
    result, covered = service.concentration_report(
        dataset, target, by, measure, top, ruleset)  # type: ignore[arg-type]
    summary, shares = result.summary, result.shares
    if stage is not None:
        summary = summary[summary["stage"] == stage]
        shares = shares[shares["stage"] == stage]
        covered = covered[covered["stage"] == stage]
    if as_json:
        _print_json({"year": target, "by": by, "measure": measure, "citation": result.citation,
                     "summary": _records(summary), "shares": _records(shares),
                     "covered_control": _records(covered), "ruleset": ruleset})
    elif as_csv:
        _csv(shares)
    else:
        shown = summary.assign(top=[", ".join(f"{k} {v:.0%}" for k, v in t[:3])
                                    for t in summary["top"]])
        _show(f"Concentration in {target} by {by} ({measure})", shown,
              ["stage", "flow", "total", "unit", "contributors", "hhi", "band", "top"])
        console.print(f"HHI bands: {result.citation}")
        _show(f"Located in North America, controlled from a covered nation ({ruleset})",
              covered, ["stage", "flow", "unit", "total", "covered", "share"])


def _global_concentration(as_json: bool, as_csv: bool) -> None:
    rows = service.global_concentration_rows()
    frame = pd.DataFrame(rows)
    if as_json:
        _print_json(rows)
    elif as_csv:
        _csv(frame)
    else:
        _show("World concentration (reference shares)", frame,
              ["stage", "material", "year", "coverage", "hhi_listed", "hhi_upper", "band",
               "top"])


def _report_json(report: BoundReport, lines_by_year: dict[int, list[str]]) -> dict[str, Any]:
    return {
        "sourcing": report.sourcing.policy, "sourcing_text": report.sourcing_text,
        "ruleset": report.sourcing.ruleset, "capacity_measure": report.measure,
        "summary": _records(report.summary()),
        "years": [{
            "year": b.year, "bound_gwh": b.cells_gwh, "by_family": b.by_family,
            "explanation": lines_by_year[b.year],
            "binding_stages": _records(b.stages),
            "shadow_prices": _records(b.flows),
            "binding_facilities": _records(b.facilities[b.facilities["binding"]]),
        } for b in report.years],
        "excluded": report.eligibility.excluded,
        "import_limits": {k.value: (None if v == float("inf") else v)
                          for k, v in report.imports.limits.items() if v},
        "import_notes": list(report.imports.notes),
        "coefficients": [{"what": label, "value": d.value, "source": d.source,
                          "confidence": d.confidence.value, "note": d.note}
                         for label, d in report.recipe.coefficients()],
    }


@app.command()
def network(
    year: YearOption = None,
    sourcing: Annotated[str | None, typer.Option(
        help="na, non-feoc or allied (default: the scenario's, na in the bundled ones).")
    ] = None,
    ruleset: Annotated[str, typer.Option(help="Rule set that excludes operators.")] =
    "feoc-doe-2024",
    imports: Annotated[list[str] | None, typer.Option(
        "--imports", help="Partner group imports may come from (repeat).")] = None,
    import_limit: Annotated[str, typer.Option(help="unbounded or reference.")] = "unbounded",
    relax: Annotated[list[str] | None, typer.Option(
        "--relax", help="Treat a stage as unconstrained (repeat).")] = None,
    scenario: ScenarioOption = None, db: DbOption = None,
    as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """The most cell GWh North America can make from eligible facilities, and what binds."""
    if sourcing is not None and sourcing not in POLICIES:
        raise typer.BadParameter(f"{sourcing!r}; choose one of {', '.join(POLICIES)}",
                                 param_hint="--sourcing")
    if import_limit not in ("unbounded", "reference"):
        raise typer.BadParameter("unbounded or reference", param_hint="--import-limit")
    try:
        stages = tuple(Stage(s) for s in relax or ())
        check_relaxable(stages)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--relax") from None
    dataset = _load(db)
    chosen = _scenario(scenario)
    target = year or chosen.year
    policy: Sourcing | None = None  # the scenario's own, disruptions' import cuts included
    if sourcing is not None or imports or relax or import_limit != "unbounded":
        base = Sourcing.named(sourcing or chosen.sourcing.policy,
                              ruleset=ruleset, partner_groups=imports,
                              import_limit=import_limit)  # type: ignore[arg-type]
        policy = Sourcing(base.policy, base.ruleset, base.partner_groups, base.import_limit,
                          relaxed_stages=stages)
    try:
        report, prepared = service.network(dataset, chosen, [target], policy)
    except (ValueError, KeyError) as exc:
        raise Failed(_message(exc)) from None
    lines = explain(report, target, service.unquantified_by_stage(prepared))
    bound = report.year(target)
    if as_json:
        _print_json(_report_json(report, {target: lines}))
    elif as_csv:
        _csv(bound.facilities)
    else:
        for line in lines:
            console.print(line, highlight=False)


@scenario_app.command("list")
def scenario_list(as_json: JsonOption = False) -> None:
    """Bundled scenarios and demand presets."""
    rows = [{"name": s.name, "title": s.title, "year": s.year} for s in
            bundled_scenarios().values()]
    rows += [{"name": p, "title": "demand preset", "year": ""} for p in service.preset_ids()]
    if as_json:
        _print_json(rows)
    else:
        console.print(_table("Scenarios", rows, ["name", "title", "year"]))


@scenario_app.command("run")
def scenario_run(
    file: Annotated[str, typer.Argument(help="Scenario YAML file or bundled name.")],
    draws: Annotated[int | None, typer.Option(help="Monte Carlo draws.", min=1)] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    db: DbOption = None, as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """Gap, network bound (with and without disruptions) and Monte Carlo percentiles."""
    if Path(file).suffix in (".yaml", ".yml") and not Path(file).is_file():
        raise Failed(f"{file}: does not exist")
    chosen = _scenario(file)
    dataset = _load(db)
    try:
        gap_frame, prepared = service.gap(dataset, chosen, [chosen.year])
        disrupted, _ = service.network(dataset, chosen, [chosen.year])
        baseline, _ = service.network(dataset, chosen, [chosen.year], disrupted=False)
        total = (draws or chosen.monte_carlo.draws) * len(
            chosen.monte_carlo.network_years or (chosen.year,))
        with Progress("Monte Carlo", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console if not (as_json or as_csv) else None,
                      disable=as_json or as_csv, transient=True) as bar:
            task = bar.add_task("draws", total=total)
            result = service.simulate(dataset, chosen, draws, seed,
                                      progress=lambda n: bar.advance(task, n))
    except (ValueError, KeyError) as exc:
        raise Failed(_message(exc)) from None
    cost = baseline.year(chosen.year).cells_gwh - disrupted.year(chosen.year).cells_gwh
    lines = explain(disrupted, chosen.year, service.unquantified_by_stage(prepared))
    if as_json:
        _print_json({"scenario": chosen.model_dump(mode="json"), "disruptions": prepared.notes,
                     "gap": _records(gap_frame),
                     "network": _report_json(disrupted, {chosen.year: lines}),
                     "network_without_disruptions_gwh": baseline.year(chosen.year).cells_gwh,
                     "disruption_cost_gwh": cost,
                     "monte_carlo": {"draws": result.draws, "seed": result.seed,
                                     "capacity": _records(result.capacity),
                                     "bound": _records(result.bounds)}})
        return
    if as_csv:
        _csv(result.capacity)
        return
    console.print(f"[bold]{chosen.title}[/bold] ({chosen.name}), {chosen.year}")
    for note in prepared.notes:
        console.print(f"Disruption: {note}")
    for line in lines:
        console.print(line, highlight=False)
    if chosen.disruptions:
        console.print(f"Without the disruptions the bound would be "
                      f"{baseline.year(chosen.year).cells_gwh:,.1f} GWh: they cost "
                      f"{cost:,.1f} GWh.")
    shown = result.capacity[result.capacity["year"] == chosen.year]
    _show(f"Monte Carlo, {result.draws} draws (seed {result.seed}): capacity in "
          f"{chosen.year}", shown, ["flow", "p10", "p50", "p90", "requirement",
                                    "self_sufficiency_p50"])
    if len(result.bounds):
        _show("Network bound (GWh)", result.bounds, ["year", "p10", "p50", "p90", "mean"])
