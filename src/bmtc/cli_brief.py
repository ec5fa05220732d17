"""The `bmtc brief` command: the state-of-the-supply-chain brief as PDF or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bmtc.analysis.scenario import ScenarioError
from bmtc.brief.build import BriefError, build_brief
from bmtc.brief.render import PAPERS, output_format, write
from bmtc.cli import DbOption, Failed, _store, app, errors
from bmtc.domain.dates import parse_partial_date
from bmtc.service import initialise


@app.command()
def brief(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="File to write: .pdf (laid out for print) or .html "
                               "(self-contained).")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Only facts and statuses known on this date (YYYY, YYYY-MM or "
                        "YYYY-MM-DD); default: the atlas edition's date.")] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", help="Bundled scenario, demand preset id or YAML file (default: "
                           "post-2025-law).")] = None,
    paper: Annotated[str, typer.Option(help="Page size: a4 or letter.")] = "a4",
    db: DbOption = None,
) -> None:
    """A "State of the North American battery supply chain" brief of 8-15 pages."""
    try:
        output_format(output)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="-o / --output") from None
    if as_of is not None:
        try:
            parse_partial_date(as_of)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--as-of") from None
    if paper not in PAPERS:
        raise typer.BadParameter(f"{paper!r}; choose one of {', '.join(PAPERS)}",
                                 param_hint="--paper")
    if scenario is not None and Path(scenario).suffix in (".yaml", ".yml") and not Path(
            scenario).is_file():
        raise typer.BadParameter(f"{scenario}: does not exist", param_hint="--scenario")
    with _store(db) as store:
        # Like `bmtc serve`, a brief from a fresh store starts from the bundled atlas.
        if store.count_facilities() == 0:
            initialise(store)
        dataset = store.load()
    try:
        made = build_brief(dataset, scenario, as_of)
    except ScenarioError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scenario") from None
    except BriefError as exc:
        raise Failed(str(exc)) from None
    kind = write(made, output, paper)
    errors.print(f"Wrote the {kind.upper()} brief to {output} (snapshot {made.snapshot[:12]}, "
                 f"facts as of {made.facts_as_of}, scenario {made.scenario}).",
                 highlight=False, soft_wrap=True)
