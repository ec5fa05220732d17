"""The screening commands of the `bmtc` CLI: screen, ownership, match."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.tree import Tree

from bmtc.cli import DbOption, Failed, JsonOption, _print_json, _store, _table, app, console
from bmtc.domain.dataset import Dataset
from bmtc.io.writers import write_frame_csv
from bmtc.screening.rules import MODES, Mode, RuleSetError, bundled_rule_sets
from bmtc.screening.verdict import Determination
from bmtc.screening_service import (
    NotFound,
    graph_dataset,
    match_names,
    ownership_tree,
    read_match_queries,
    screen_everyone,
    screen_party,
)

RulesetOption = Annotated[str, typer.Option(
    "--ruleset", help="Rule set: feoc-doe-2024 or pfe-2025.")]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Date to screen as of (YYYY-MM-DD); default today.")]
ModeOption = Annotated[str | None, typer.Option(
    "--mode", help="Indirect attribution: control-chain or multiplicative (default: the rule "
                   "set's).")]
GraphOption = Annotated[Path | None, typer.Option(
    "--graph", help="Screen against this BODS / GLEIF / FollowTheMoney file alone, without "
                    "the store.")]

_STATUS_STYLE = {"feoc": "bold red", "specified": "bold red", "foreign_influenced": "red",
                 "insufficient_data": "yellow", "clear": "green"}


def _mode(value: str | None) -> Mode | None:
    if value is not None and value not in MODES:
        raise typer.BadParameter(f"{value!r}; choose one of {', '.join(MODES)}",
                                 param_hint="--mode")
    return value


def _ruleset(value: str) -> str:
    if value not in bundled_rule_sets():
        raise typer.BadParameter(f"{value!r}; choose one of {', '.join(bundled_rule_sets())}",
                                 param_hint="--ruleset")
    return value


def _dataset(graph: Path | None, db: str | None) -> Dataset:
    if graph is not None:
        if not graph.exists():
            raise Failed(f"{graph}: does not exist")
        return graph_dataset(graph)
    with _store(db) as store:
        return store.load()


@app.command("screen")
def screen_(
    query: Annotated[str | None, typer.Argument(help="Organization id or name.")] = None,
    graph: GraphOption = None,
    ruleset: RulesetOption = "feoc-doe-2024",
    as_of: AsOfOption = None,
    mode: ModeOption = None,
    taxable_year: Annotated[int | None, typer.Option(
        "--taxable-year", help="PFE: test as the law prescribes for this calendar taxable "
                               "year (lists on its first or last day).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Screen every party.")] = False,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="With --all: write the results (.parquet, .csv or .json).")]
    = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Is an organization a foreign entity of concern or a prohibited foreign entity, as of a
    date, and why? Prints the verdict, every test with its citation, paths and data gaps."""
    chosen_mode = _mode(mode)
    _ruleset(ruleset)
    dataset = _dataset(graph, db)
    try:
        if every:
            _screen_all(dataset, ruleset, as_of, chosen_mode, taxable_year, output, as_json)
            return
        if query is None:
            raise typer.BadParameter("give an organization, or --all", param_hint="QUERY")
        verdict = screen_party(dataset, query, ruleset, as_of=as_of, mode=chosen_mode,
                               taxable_year=taxable_year)
    except (NotFound, RuleSetError, ValueError) as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _print_json(verdict.to_json())
    else:
        _print_verdict(verdict)


def _screen_all(dataset: Dataset, ruleset: str, as_of: str | None, mode: Mode | None,
                taxable_year: int | None, output: Path | None, as_json: bool) -> None:
    with console.status("Screening every party..."):
        frame = screen_everyone(dataset, ruleset, as_of=as_of, mode=mode,
                                taxable_year=taxable_year)
    if output is not None:
        suffix = output.suffix.lower()
        if suffix == ".parquet":
            frame.to_parquet(output, index=False)
        elif suffix == ".csv":
            write_frame_csv(frame, output)
        elif suffix == ".json":
            frame.to_json(output, orient="records", indent=1)
        else:
            raise Failed(f"{output}: write .parquet, .csv or .json")
    counts = frame["status"].value_counts().to_dict()
    if as_json:
        _print_json({"ruleset": ruleset, "parties": len(frame), "status_counts": counts,
                     "output": str(output) if output else None})
        return
    console.print(_table(f"{ruleset}: {len(frame)} parties", [
        {"status": k, "parties": v} for k, v in counts.items()], ["status", "parties"]))
    if output is not None:
        console.print(f"Written to {output}")


def _print_verdict(verdict: Determination) -> None:
    style = _STATUS_STYLE.get(verdict.status, "")
    console.print(f"[bold]{verdict.name}[/bold] ({verdict.org_id}): "
                  f"[{style}]{verdict.status.upper()}[/{style}] under {verdict.ruleset} "
                  f"{verdict.ruleset_version}, as of {verdict.as_of}, mode {verdict.mode}")
    if verdict.testing_dates and len(set(verdict.testing_dates.values())) > 1:
        console.print("Testing dates: " + ", ".join(
            f"{k} {v}" for k, v in verdict.testing_dates.items()))
    rows = [{"test": t.id, "outcome": _outcome(t.fired, t.in_effect), "detail": t.detail,
             "citation": t.citation, "confidence": t.confidence} for t in verdict.tests]
    console.print(_table("Tests", rows, ["test", "outcome", "detail", "citation",
                                         "confidence"]))
    for test_id, path in verdict.paths[:10]:
        hops = " -> ".join([path.source, *(f"{h.stake} -> {h.subject}" for h in path.hops)])
        product = f"{path.product_lo * 100:.4g}%"
        if path.product_hi != path.product_lo:
            product += f"-{path.product_hi * 100:.4g}%"
        console.print(f"Path ({test_id}): {hops}  [product {product}]", markup=False)
        for hop in path.hops:
            console.print(f"    {hop.holder} -> {hop.subject} {hop.stake}: {hop.source_url}",
                          markup=False, style="dim")
    for owner in verdict.owners:
        console.print(f"Owner: {owner['name']} ({owner['org_id']}) {owner['kind']} equity "
                      f"{owner['equity']}, voting {owner['voting']}; source "
                      f"{owner['source_url']} ({owner['source_as_of'] or 'undated'})",
                      markup=False)
    for gap in verdict.gaps:
        console.print(f"[yellow]Gap ({gap.kind}, {gap.party}):[/yellow] {gap.detail}")
    for note in verdict.unconfirmed:
        console.print(f"[dim]Unconfirmed: {note}[/dim]")
    for assumption in verdict.assumptions:
        console.print(f"[dim]Assumption: {assumption}[/dim]")


def _outcome(fired: bool | None, in_effect: bool) -> str:
    if not in_effect:
        return "not in effect"
    return {True: "MET", False: "no", None: "unknown"}[fired]


@app.command()
def ownership(
    query: Annotated[str, typer.Argument(help="Organization id or name.")],
    graph: GraphOption = None,
    as_of: AsOfOption = None,
    depth: Annotated[int, typer.Option(help="Levels of owners to show.")] = 8,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The ownership tree above an organization, with stakes and sources."""
    dataset = _dataset(graph, db)
    try:
        tree = ownership_tree(dataset, query, as_of, depth)
    except NotFound as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _print_json(tree)
        return
    root = Tree(_label(tree))
    _grow(root, tree)
    console.print(root)


def _label(node: dict[str, Any]) -> str:
    stake = node.get("stake")
    held = ""
    if stake:
        held = f" [cyan]{stake['kind']} equity {stake['equity']}"
        if stake["voting"] != stake["equity"]:
            held += f", voting {stake['voting']}"
        held += "[/cyan]"
    lists = f" [red]{', '.join(node['lists'])}[/red]" if node.get("lists") else ""
    country = f" ({node['country']})" if node.get("country") else ""
    again = " (shown above)" if node.get("repeated") else ""
    return f"{node['name']}{country} [dim]{node['org_id']}[/dim]{held}{lists}{again}"


def _grow(branch: Tree, node: dict[str, Any]) -> None:
    for owner in node["owners"]:
        _grow(branch.add(_label(owner)), owner)


@app.command("match")
def match_(
    file: Annotated[Path, typer.Argument(help="CSV, Excel or JSON with a `name` column "
                                              "(optional id, country, lei, aliases).")],
    limit: Annotated[int, typer.Option(help="Candidates per name.")] = 3,
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Write the candidates as CSV.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Match supplier names against the stored organizations: candidates with a score, a
    decision (match / possible) and the reasons for it."""
    if not file.exists():
        raise Failed(f"{file}: does not exist")
    try:
        queries = read_match_queries(file)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    with _store(db) as store:
        dataset = store.load()
    frame = match_names(dataset, queries, limit)
    if output is not None:
        write_frame_csv(frame, output)
    if as_json:
        _print_json(frame.to_dict("records"))
        return
    rows = [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]
    console.print(_table(f"Candidates for {len(queries)} names", rows,
                         ["query_name", "candidate_id", "candidate_name", "score", "decision",
                          "reasons"]))
