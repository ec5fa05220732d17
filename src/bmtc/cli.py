"""The `bmtc` command line. Exit codes: 0 ok, 1 bad input or failed check, 2 usage error."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from bmtc.analysis.atlas_stats import (
    capacity_totals,
    counts,
    quality_report,
    stage_country_matrix,
)
from bmtc.domain.vocab import PRODUCTS, Material, Stage, Status
from bmtc.io.ownership_files import OWNERSHIP_FORMATS
from bmtc.io.problems import ImportFailed
from bmtc.io.readers import FORMATS as TABLE_FORMATS
from bmtc.io.tables import TABLES
from bmtc.io.writers import EXPORT_FORMATS
from bmtc.service import ImportOutcome, export_path, import_path, initialise
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store

FORMATS = (*TABLE_FORMATS, *OWNERSHIP_FORMATS)

app = typer.Typer(
    name="bmtc", no_args_is_help=True, add_completion=False,
    help="Evidence engine for the North American battery-materials supply chain.",
)
console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="BMTC_DATABASE_URL",
                 help="Database URL (sqlite:///path or postgresql://...); default: embedded "
                      "SQLite file in the user data directory."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class Failed(Exception):
    """A check failed or input was bad: exit code 1."""


def _store(db: str | None) -> Store:
    return Store(db)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n")


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


def _print_summary(facilities: list[Any]) -> None:
    matrix = stage_country_matrix(facilities)
    present = {f.country for f in facilities}
    countries = [c for c in ("US", "CA", "MX") if c in present] + sorted(
        present - {"US", "CA", "MX"})
    table = Table(title="Facilities by stage and country")
    for column in ["stage", *countries, "total", "operating", "under constr.", "announced",
                   "paused", "cancelled/closed"]:
        table.add_column(column, justify="left" if column == "stage" else "right")
    for row in matrix:
        table.add_row(
            row["stage"], *(str(row.get(c, 0)) for c in countries), str(row["total"]),
            str(row["operating"]), str(row["under_construction"]), str(row["announced"]),
            str(row["paused"]), str(row["cancelled"] + row["closed"]),
        )
    total = sum(r["total"] for r in matrix)
    table.add_row("all", *(str(sum(r.get(c, 0) for r in matrix)) for c in countries),
                  str(total), *(str(sum(r[s] for r in matrix)) for s in
                                ("operating", "under_construction", "announced", "paused")),
                  str(sum(r["cancelled"] + r["closed"] for r in matrix)), style="bold")
    console.print(table)


def _report_import(outcome: ImportOutcome, as_json: bool) -> None:
    if as_json:
        _print_json({
            "file": outcome.file, "format": outcome.format, **outcome.summary.as_dict(),
            "out_of_scope": outcome.out_of_scope,
            "rejects_file": str(outcome.rejects_path) if outcome.rejects_path else None,
        })
        return
    table = Table(title=f"Imported {outcome.file} ({outcome.format})")
    for column in ("table", "inserted", "updated", "unchanged"):
        table.add_column(column, justify="right" if column != "table" else "left")
    for name, tally in outcome.summary.tables.items():
        table.add_row(name, str(tally.inserted), str(tally.updated), str(tally.unchanged))
    console.print(table)
    console.print(f"{outcome.summary.changes} field changes recorded in history.")
    if outcome.out_of_scope:
        console.print(f"{outcome.out_of_scope} rows outside the supply-chain stages were left "
                      "out (equipment, R&D, services, software, distributors).")
    if outcome.rejects_path:
        console.print(f"[yellow]{len(outcome.rejected)} rows rejected; reasons in "
                      f"{outcome.rejects_path}[/yellow]")


@app.command()
def init(db: DbOption = None, quiet: Annotated[bool, typer.Option("--quiet")] = False) -> None:
    """Create the store and load the bundled atlas (safe to run again)."""
    with _store(db) as store:
        with console.status("Loading the bundled atlas..."):
            outcome = initialise(store)
        dataset = store.load()
        if quiet:
            return
        info = dataset.info
        if info:
            console.print(f"[bold]{info.name}[/bold] version {info.version}, as of {info.as_of}")
        console.print(f"Store: {store.display_url}")
        added = sum(t.inserted + t.updated for t in outcome.summary.tables.values())
        console.print("Atlas loaded." if added else "Atlas already up to date; nothing changed.")
        _print_summary(dataset.facilities)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="File or dataset folder to import.")],
    fmt: Annotated[str | None, typer.Option("--format", help="One of: " + ", ".join(FORMATS))]
    = None,
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the good rows; write the bad ones to a reject file.")]
    = False,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows.")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Edition date for NAATBatt workbooks whose name carries none.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a CSV, Excel, JSON, GeoJSON, Parquet, NAATBatt workbook or dataset folder, or
    an ownership file (BODS 0.4, GLEIF Level 1 / Level 2, FollowTheMoney)."""
    if fmt is not None and fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}; choose one of {', '.join(FORMATS)}",
                                 param_hint="--format")
    with _store(db) as store, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=errors, transient=True, disable=as_json,
    ) as progress:
        task = progress.add_task(f"Reading {file.name}", total=None)

        def report(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        outcome = import_path(store, file, fmt, skip_invalid=skip_invalid,
                              rejects_path=rejects, as_of=as_of, progress=report)
    _report_import(outcome, as_json)


def _filter(stage: str | None, country: str | None, state: str | None, status: str | None,
            material: str | None, product: str | None, operator: str | None,
            owner_country: str | None, limit: int | None) -> FacilityFilter:
    checks = [("--stage", stage, [s.value for s in Stage]),
              ("--status", status, [s.value for s in Status]),
              ("--material", material, [m.value for m in Material]),
              ("--product", product, list(PRODUCTS))]
    for hint, value, allowed in checks:
        if value is not None and value not in allowed:
            raise typer.BadParameter(f"{value!r}; choose one of {', '.join(allowed)}",
                                     param_hint=hint)
    return FacilityFilter(
        stage=stage, country=country.upper() if country else None,
        state=state.upper() if state else None, status=status, material=material,
        product=product, operator=operator,
        owner_country=owner_country.upper() if owner_country else None, limit=limit,
    )


Stage_ = Annotated[str | None, typer.Option("--stage", help="Supply-chain stage.")]
Country_ = Annotated[str | None, typer.Option("--country", help="ISO country code (US, CA, MX).")]
State_ = Annotated[str | None, typer.Option("--state", help="State or province code (TN, QC).")]
Status_ = Annotated[str | None, typer.Option("--status", help="Facility status.")]
Material_ = Annotated[str | None, typer.Option("--material", help="Material (lithium, ...).")]
Product_ = Annotated[str | None, typer.Option("--product", help="Product code (nmc_cam, ...).")]
Operator_ = Annotated[str | None, typer.Option("--operator", help="Operator name or id.")]
OwnerCountry_ = Annotated[str | None, typer.Option(
    "--owner-country", help="Operated or owned (at any depth) from this HQ country.")]
Limit_ = Annotated[int | None, typer.Option("--limit", min=1, help="At most N rows.")]

_LIST_COLUMNS = ["id", "name", "operator_name", "stage", "state_province", "country", "status",
                 "status_as_of", "capacity_value", "capacity_unit", "capacity_basis"]


@app.command()
def facilities(
    stage: Stage_ = None, country: Country_ = None, state: State_ = None, status: Status_ = None,
    material: Material_ = None, product: Product_ = None, operator: Operator_ = None,
    owner_country: OwnerCountry_ = None, limit: Limit_ = None, db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List facilities (all matching rows unless --limit is given)."""
    flt = _filter(stage, country, state, status, material, product, operator, owner_country,
                  limit)
    with _store(db) as store:
        rows = store.facility_rows(flt)
    if as_json:
        _print_json([{k: v for k, v in r.items() if k not in ("source_id", "updated_at")}
                     for r in rows])
        return
    console.print(_table(f"{len(rows)} facilities", rows, _LIST_COLUMNS))


@app.command()
def facility(
    facility_id: Annotated[str, typer.Argument(metavar="ID")], db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one facility: operator, owners, capacity, status history, funding, sources."""
    with _store(db) as store:
        card = store.facility_card(facility_id)
    if card is None:
        raise Failed(f"no facility with id {facility_id!r}")
    f = card["facility"]
    if as_json:
        _print_json({
            "facility": f.model_dump(mode="json"),
            "operator": card["operator"].model_dump(mode="json") if card["operator"] else None,
            **{k: card[k] for k in ("owners", "status_history", "changes", "funding",
                                    "sources")},
        })
        return
    op = card["operator"]
    console.print(f"[bold]{f.name}[/bold]  ({f.id})")
    console.print(f"Operator: {op.name if op else f.operator_id}"
                  + (f" [{op.country_hq}]" if op and op.country_hq else ""))
    for owner in card["owners"]:
        share = f" {owner['equity_pct']}%" if owner["equity_pct"] else " (share unknown)"
        console.print(f"  {owner['kind']}: {owner['other_name']}"
                      f" [{owner['other_country'] or '?'}]{share}")
    place = ", ".join(p for p in (f.city, f.state_province, f.country) if p)
    console.print(f"Stage: {f.stage.value}   Products: {', '.join(f.products)}")
    console.print(f"Location: {place}" + (f" ({f.latitude}, {f.longitude}; "
                                           f"{f.coordinates_precision or 'precision unknown'})"
                                           if f.latitude is not None else ""))
    if f.capacity:
        c = f.capacity
        console.print(f"Capacity: {c.value:g} {c.unit} of {c.basis}"
                      + (f" ({c.year})" if c.year else ""))
    console.print(f"Status: {f.status.value} as of {f.status_as_of}"
                  + (f"; start year {f.start_year}" if f.start_year else ""))
    console.print(f"Verified: {'yes' if f.verified else 'no'}")
    if f.notes:
        console.print(f"Notes: {f.notes}")
    console.print(_table("Status history", card["status_history"],
                         ["as_of", "status", "source_url"]))
    if card["changes"]:
        console.print(_table("Recorded changes", card["changes"],
                             ["as_of", "field", "old_value", "new_value", "recorded_at"]))
    if card["funding"]:
        console.print(_table("Funding", card["funding"],
                             ["program", "agency", "instrument", "amount", "currency",
                              "award_status", "announced"]))
    console.print("Sources:")
    for url in card["sources"]:
        console.print(f"  {url}")


@app.command()
def orgs(
    country: Country_ = None,
    member: Annotated[bool | None, typer.Option(
        "--member/--non-member", help="Only coalition members, or only non-members.")] = None,
    limit: Limit_ = None, db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """List organizations."""
    with _store(db) as store:
        rows = store.organization_rows(country=country.upper() if country else None,
                                       member=member, limit=limit)
    if as_json:
        _print_json(rows)
        return
    console.print(_table(f"{len(rows)} organizations", rows,
                         ["id", "name", "kind", "country_hq", "coalition_member",
                          "facilities"]))


@app.command()
def org(
    org_id: Annotated[str, typer.Argument(metavar="ID")], db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one organization: owners, holdings, facilities, funding."""
    with _store(db) as store:
        card = store.organization_card(org_id)
    if card is None:
        raise Failed(f"no organization with id {org_id!r}")
    o = card["organization"]
    if as_json:
        _print_json({"organization": o.model_dump(mode="json"),
                     **{k: card[k] for k in ("owners", "holdings", "facilities", "funding")}})
        return
    console.print(f"[bold]{o.name}[/bold]  ({o.id}), {o.kind.value}")
    console.print(f"Incorporated: {o.country_incorporation or '?'}   HQ: {o.country_hq or '?'}"
                  + ("   coalition member" if o.coalition_member else ""))
    console.print(f"Source: {o.source.url}")
    console.print(_table("Owned by", card["owners"],
                         ["kind", "other_name", "other_country", "equity_pct", "valid_from",
                          "valid_to"]))
    console.print(_table("Holdings and agreements", card["holdings"],
                         ["kind", "other_name", "other_country", "equity_pct", "agreement"]))
    console.print(_table("Facilities operated", card["facilities"],
                         ["id", "name", "stage", "country", "status"]))


@app.command()
def stats(
    quality: Annotated[bool, typer.Option("--quality", help="Data-quality report.")] = False,
    stale_months: Annotated[int, typer.Option(help="Status older than this is stale.")] = 12,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Counts and capacity by stage x country x status (or a data-quality report)."""
    with _store(db) as store:
        dataset = store.load()
    info = dataset.info.model_dump() if dataset.info else None
    if quality:
        report = quality_report(dataset.facilities, dataset.organizations,
                                dataset.info.as_of if dataset.info else None, stale_months)
        if as_json:
            _print_json({"dataset": info, **report})
            return
        console.print(f"Data quality of {report['facilities']} facilities and "
                      f"{report['organizations']} organizations (as of {report['as_of']})")
        console.print(_table("Findings", [{"check": k, "count": v}
                                          for k, v in report["summary"].items()],
                             ["check", "count"]))
        console.print(_table("Share of facilities without capacity", [
            {"stage": k, "share": f"{v:.0%}"}
            for k, v in report["missing_capacity_share_by_stage"].items()],
            ["stage", "share"]))
        return
    by_status = counts(dataset.facilities)
    capacity = [asdict(c) for c in capacity_totals(dataset.facilities)]
    if as_json:
        _print_json({
            "dataset": info,
            "facilities": len(dataset.facilities),
            "organizations": len(dataset.organizations),
            "stages": sorted({f.stage.value for f in dataset.facilities}),
            "countries": sorted({f.country for f in dataset.facilities}),
            "by_stage_country_status": by_status,
            "capacity": capacity,
        })
        return
    _print_summary(dataset.facilities)
    console.print(_table("Capacity by stage, country, status and basis", capacity,
                         ["stage", "country", "status", "total", "unit", "basis",
                          "facilities"]))


@app.command("export")
def export_(
    fmt: Annotated[str, typer.Option("--format", help="One of: " + ", ".join(EXPORT_FORMATS))],
    output: Annotated[Path, typer.Option("-o", "--output", help="File (or folder) to write.")],
    table: Annotated[str, typer.Option(help="Table for CSV output.")] = "facilities",
    stage: Stage_ = None, country: Country_ = None, state: State_ = None, status: Status_ = None,
    material: Material_ = None, product: Product_ = None, operator: Operator_ = None,
    owner_country: OwnerCountry_ = None, db: DbOption = None,
) -> None:
    """Export facilities (filtered) and the tables they need."""
    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(f"{fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}",
                                 param_hint="--format")
    if table not in TABLES:
        raise typer.BadParameter(f"{table!r}; choose one of {', '.join(TABLES)}",
                                 param_hint="--table")
    flt = _filter(stage, country, state, status, material, product, operator, owner_country,
                  None)
    with _store(db) as store:
        count = export_path(store, output, fmt, flt, table)
    errors.print(f"Wrote {count} facilities to {output}")


@app.command()
def vocab(as_json: JsonOption = False) -> None:
    """The product codes, their stages and materials."""
    rows = [{"code": p.code, "label": p.label, "stages": ";".join(s.value for s in p.stages),
             "materials": ";".join(m.value for m in p.materials)} for p in PRODUCTS.values()]
    if as_json:
        _print_json(rows)
        return
    console.print(_table("Product vocabulary", rows, ["code", "label", "stages", "materials"]))




# Registers the screening commands on `app`; imported here, after `app` exists.
from bmtc import (  # noqa: E402, F401
    cli_accounts,
    cli_analysis,
    cli_brief,
    cli_compliance,
    cli_screening,
    cli_server,
)


def main() -> None:
    try:
        app()
    except ImportFailed as exc:
        errors.print("[red]Import failed; nothing was written.[/red]")
        errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        sys.exit(1)
    except Failed as exc:
        errors.print(str(exc), markup=False, style="red", soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
