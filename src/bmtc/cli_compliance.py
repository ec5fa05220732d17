"""The compliance commands of the `bmtc` CLI: macr, credit45x, content, defense-check,
tariff, minerals, funding."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from bmtc import compliance_service as service
from bmtc.cli import DbOption, Failed, JsonOption, _print_json, _store, _table, app, console
from bmtc.compliance.audit import macr_audit, rule_rows, write_audit_excel
from bmtc.compliance.bom import Bom, read_bom
from bmtc.compliance.content import (
    HalfResult,
    Historic30dResult,
    historic_30d,
    origin_shares,
    value_added_test,
)
from bmtc.compliance.defense import DefenseInputs, assess_defense
from bmtc.compliance.policy import funding_table, is_critical, minerals_on, program_table
from bmtc.compliance.tariff import Applied, exposure, read_import_bill
from bmtc.domain.dataset import Dataset
from bmtc.io.problems import ImportFailed

BomArgument = Annotated[Path, typer.Argument(help="Bill of materials (.json, .csv or .xlsx).")]
YearOption = Annotated[int, typer.Option("--year", help="Year of sale (45X) or of the start "
                                                        "of construction (45Y / 48E).")]
_VERDICT_STYLE = {"pass": "bold green", "eligible": "bold green", "allowed": "bold green",
                  "fail": "bold red", "denied": "bold red", "barred": "bold red",
                  "insufficient_data": "bold yellow", "waived": "yellow",
                  "not_in_effect": "dim"}


def _bill(path: Path) -> Bom:
    try:
        return read_bom(path)
    except ImportFailed as exc:
        raise Failed("\n".join(str(p) for p in exc.problems)) from None


def _atlas(db: str | None) -> Dataset:
    with _store(db) as store:
        return store.load()


@app.command()
def macr(
    bill: BomArgument, year: YearOption,
    audit: Annotated[Path | None, typer.Option(
        "--audit", help="Write the audit trail to this .xlsx or .json file.")] = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Material-assistance cost ratio (IRC 7701(a)(52)): ratio, threshold, verdict, margin
    and which supplier swaps would flip it."""
    if audit is not None and audit.suffix.lower() not in (".xlsx", ".json"):
        raise typer.BadParameter("write the audit trail to a .xlsx or .json file",
                                 param_hint="--audit")
    if audit is not None and not audit.parent.is_dir():
        raise Failed(f"{audit}: the folder {audit.parent} does not exist")
    bom = _bill(bill)
    try:
        result, suppliers = service.check_macr(_atlas(db), bom, year)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    trail = macr_audit(result, bom, suppliers.resolved)
    if audit is not None:
        if audit.suffix.lower() == ".xlsx":
            write_audit_excel(trail, audit)
        else:
            audit.write_text(json.dumps(trail, indent=1, ensure_ascii=False), encoding="utf-8")
    if as_json:
        _print_json(trail)
        return
    summary = trail["summary"]
    style = _VERDICT_STYLE[result.verdict]
    console.print(f"[bold]{bom.product.name}[/bold] ({bom.product.type}), {year}")
    console.print(
        f"Ratio {result.ratio:.1%} against a threshold of {summary['threshold_pct']:g}% "
        f"({summary['threshold_rule']}, {summary['threshold_confidence']}): "
        f"[{style}]{result.verdict.upper()}[/{style}], margin {result.margin_pct:+.1f} points")
    rows = [{"line": ln["line"], "description": ln["description"],
             "supplier": ln["supplier"] or "", "cost": f"{ln['direct_cost']:,.2f}",
             "treated as": ln["treated_as"], "reason": ln["reason"]}
            for ln in trail["lines"]]
    console.print(_table("Lines", rows, ["line", "description", "supplier", "cost",
                                         "treated as", "reason"]))
    console.print(f"Sensitivity: {result.flip_note}"
                  + (f" (lines {', '.join(result.flip)})" if result.flip else ""))
    for note in result.notes:
        console.print(f"Note: {note}", highlight=False)
    if audit is not None:
        console.print(f"Audit trail written to {audit}")


@app.command()
def credit45x(bill: BomArgument, year: YearOption, db: DbOption = None,
              as_json: JsonOption = False) -> None:
    """Estimate of the 45X credit: amount, 100:1 cap, phase-out, and the PFE bars."""
    bom = _bill(bill)
    try:
        result, ratio = service.check_credit(_atlas(db), bom, year)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    payload: dict[str, Any] = {
        "product": bom.product.id, "year": year, "outcome": result.outcome,
        "per_unit_before_phaseout": result.per_unit_before_phaseout,
        "phaseout_pct": result.phaseout_pct, "per_unit": result.per_unit,
        "units": result.units, "total": result.total,
        "potential_total": result.potential_total, "steps": result.steps,
        "material_assistance": None if ratio is None else {
            "ratio": ratio.ratio, "verdict": ratio.verdict,
            "threshold_pct": ratio.threshold.threshold_pct},
        "rules": rule_rows(result.rows), "notes": result.notes,
    }
    if as_json:
        _print_json(payload)
        return
    style = _VERDICT_STYLE[result.outcome]
    console.print(f"[bold]{bom.product.name}[/bold], {year}: [{style}]{result.outcome}"
                  f"[/{style}], credit {result.total:,.2f} {bom.product.currency} for "
                  f"{result.units:g} units ({result.per_unit:,.2f} each)")
    for step in result.steps:
        console.print(f"- {step}", highlight=False)
    if result.outcome != "eligible":
        console.print(f"Without the bar the credit would be {result.potential_total:,.2f}.")
    for note in result.notes:
        console.print(f"Note: {note}", highlight=False)


def _applied(applied: Applied) -> dict[str, Any]:
    row = applied.row
    return {"status": applied.status, "rate_pct": applied.rate_pct,
            "rule": row.id if row else None, "citation": row.citation if row else None,
            "confidence": row.confidence.value if row else None, "event": applied.event,
            "reason": applied.reason}


@app.command()
def tariff(
    imports: Annotated[Path, typer.Argument(help="Import bill (.csv or .xlsx): line_id, "
                                                 "description, category, hts, origin, "
                                                 "value_usd, entry_date, mfn_pct, aam, "
                                                 "exporter.")],
    on: Annotated[str | None, typer.Option(
        "--date", help="Value every line as if entered on this date (YYYY-MM-DD); default: "
                       "each line's entry date.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Duty exposure of an import bill: Section 301, AD/CVD on active anode material, MFN."""
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)",
                                 param_hint="--date") from None
    try:
        lines = read_import_bill(imports)
    except ImportFailed as exc:
        raise Failed("\n".join(str(p) for p in exc.problems)) from None
    result = exposure(lines, day)
    rows = [{
        "line": ex.line.line_id, "description": ex.line.description, "origin": ex.line.origin,
        "entry_date": ex.day.isoformat(), "category": ex.category,
        "value_usd": ex.line.value_usd, "section_301": _applied(ex.section301),
        "ad": _applied(ex.ad), "cvd": _applied(ex.cvd), "total_pct": ex.total_pct,
        "duty_usd": ex.duty_usd, "refundable_usd": ex.refundable_usd, "notes": list(ex.notes),
    } for ex in result.lines]
    if as_json:
        _print_json({"date": day.isoformat() if day else None, "lines": rows,
                     "value_usd": result.value_usd, "duty_usd": result.duty_usd,
                     "refundable_usd": result.refundable_usd,
                     "unresolved": list(result.unresolved), "notes": list(result.notes)})
        return
    shown = [{"line": ex.line.line_id, "description": ex.line.description,
              "origin": ex.line.origin, "date": ex.day.isoformat(),
              "category": ex.category or "UNCLASSIFIED", "value": f"{ex.line.value_usd:,.0f}",
              "301": _pct(ex.section301.rate_pct),
              "AD/CVD": _pct(_sum(ex.ad.rate_pct, ex.cvd.rate_pct)),
              "total": _pct(ex.total_pct),
              "duty": "?" if ex.duty_usd is None else f"{ex.duty_usd:,.0f}"}
             for ex in result.lines]
    console.print(_table("Duty exposure", shown, list(shown[0]) if shown else ["line"]))
    console.print(f"Total duty {result.duty_usd:,.2f} USD on {result.value_usd:,.2f} USD"
                  + (f"; undetermined lines: {', '.join(result.unresolved)}"
                     if result.unresolved else ""))
    if result.refundable_usd:
        console.print(f"AD/CVD deposits refundable (no order issued): "
                      f"{result.refundable_usd:,.2f} USD")
    for note in result.notes:
        console.print(f"Note: {note}", highlight=False)


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


@app.command("defense-check")
def defense_check(
    bill: BomArgument,
    on: Annotated[str, typer.Option("--date", help="Date of the DoD obligation or contract "
                                                   "(YYYY-MM-DD).")],
    program: Annotated[str, typer.Option(help="new, standard or existing acquisition "
                                              "program (10 U.S.C. 4865).")] = "new",
    waiver: Annotated[bool, typer.Option("--waiver", help="A §154 waiver is granted.")] = False,
    exempt: Annotated[str | None, typer.Option(
        "--exempt", help="Excluded category under 4865 (phone, laptop, medical_equipment, "
                         "cots_maintenance, rdte, ...).")] = None,
    licensed: Annotated[str | None, typer.Option(
        "--feoc-licensed-technology", help="yes or no; unknown when omitted.")] = None,
    contract: Annotated[str, typer.Option(help="direct or indirect (§805).")] = "direct",
    contractor: Annotated[str | None, typer.Option(help="The prime contractor (default: the "
                                                        "bill's producer).")] = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Defense procurement: NDAA FY2024 §154 battery ban, 10 U.S.C. 4865 sourcing and §805
    contracting with 1260H entities, as of a date."""
    try:
        day = date.fromisoformat(on)
    except ValueError:
        raise typer.BadParameter(f"{on!r} is not a date (YYYY-MM-DD)",
                                 param_hint="--date") from None
    for value, allowed, hint in ((program, ("new", "standard", "existing"), "--program"),
                                 (contract, ("direct", "indirect"), "--contract"),
                                 (licensed, (None, "yes", "no"), "--feoc-licensed-technology")):
        if value not in allowed:
            raise typer.BadParameter(f"{value!r}; choose one of "
                                     f"{', '.join(a for a in allowed if a)}", param_hint=hint)
    bom = _bill(bill)
    inputs = DefenseInputs(program, waiver, exempt,  # type: ignore[arg-type]
                           None if licensed is None else licensed == "yes",
                           contract, contractor)  # type: ignore[arg-type]
    try:
        atlas = _atlas(db)
        facts = service.supplier_facts(atlas, bom, day, contractor)
        result = assess_defense(bom, day, facts, inputs)
        result.notes.append(service.list_1260h_note(atlas))
    except ValueError as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _print_json({"product": bom.product.id, "date": day.isoformat(), "rules": {
            key: {"in_effect": r.in_effect, "outcome": r.outcome, "readings": r.readings,
                  "reasons": r.reasons, "rows": rule_rows(r.rows),
                  "evidence": [vars(c) for c in r.evidence]}
            for key, r in result.rules.items()}, "notes": result.notes})
        return
    console.print(f"[bold]{bom.product.name}[/bold], DoD procurement as of {day}")
    for key, rule in result.rules.items():
        style = _VERDICT_STYLE.get(rule.outcome, "bold")
        console.print(f"{key}: [{style}]{rule.outcome}[/{style}]"
                      + ("" if rule.in_effect else " (not yet in effect)"))
        for reason in rule.reasons:
            console.print(f"  - {reason}", highlight=False)
        if rule.readings:
            console.print("  readings: " + ", ".join(f"{k}: {v}"
                                                      for k, v in rule.readings.items()))
    for note in result.notes:
        console.print(f"Note: {note}", highlight=False)


def _day(value: str | None, hint: str) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)",
                                 param_hint=hint) from None


@app.command()
def minerals(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (YYYY-MM-DD); default "
                                                              "today.")] = None,
    name: Annotated[str | None, typer.Option(help="Is this mineral or material critical?")] =
    None,
    drafts: Annotated[bool, typer.Option("--drafts", help="Include draft lists.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Critical-mineral and critical-material lists in force on a date (USGS, DOE)."""
    day = _day(as_of, "--as-of")
    if name is not None:
        found = is_critical(name, day, drafts=drafts)
        rows = [{"list": m.edition.id, "title": m.edition.title, "listed": m.listed,
                 "matched": m.matched, "via": m.via, "related": list(m.related),
                 "citation": m.edition.citation, "confidence": m.edition.confidence.value}
                for m in found]
        if as_json:
            _print_json({"name": name, "as_of": day.isoformat(), "lists": rows})
            return
        shown = [{"list": m.edition.id, "listed": "yes" if m.listed else "no",
                  "matched": m.matched or "", "via": m.via or "",
                  "related": ", ".join(m.related), "confidence": m.edition.confidence.value}
                 for m in found]
        console.print(_table(f"Is {name!r} critical on {day}?", shown,
                             ["list", "listed", "matched", "via", "related", "confidence"]))
        return
    lists = minerals_on(day, drafts=drafts)
    payload = [{"list": f.edition.id, "title": f.edition.title,
                "in_force_from": f.edition.effective_from.isoformat(),
                "citation": f.edition.citation, "confidence": f.edition.confidence.value,
                "includes": f.included.id if f.included else None,
                "names": sorted(f.names)} for f in lists]
    if as_json:
        _print_json({"as_of": day.isoformat(), "lists": payload})
        return
    for listed in lists:
        edition = listed.edition
        console.print(f"[bold]{edition.title}[/bold] ({edition.id}, from "
                      f"{edition.effective_from}; {edition.citation}; "
                      f"{edition.confidence.value})"
                      + (f", with {listed.included.id}" if listed.included else ""))
        console.print(f"  {len(listed.names)}: " + ", ".join(sorted(listed.names)),
                      highlight=False)


@app.command()
def funding(
    stage: Annotated[str | None, typer.Option(help="Stage of the funded facility.")] = None,
    state: Annotated[str | None, typer.Option(help="State or province (TN, US-TN).")] = None,
    program: Annotated[str | None, typer.Option(help="Program id (see --programs).")] = None,
    status: Annotated[str | None, typer.Option(help="Award status.")] = None,
    programs: Annotated[bool, typer.Option("--programs", help="List the programs.")] = False,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Public funding awards tied to facilities and organizations, or the programs."""
    try:
        frame = program_table() if programs else funding_table(
            _atlas(db), stage=stage, state=state, program=program, status=status)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _print_json(json.loads(frame.to_json(orient="records", date_format="iso")))
        return
    if programs:
        columns = [c for c in ("id", "title", "agency", "amount", "instrument") if c in frame]
    else:
        columns = [c for c in ("award_id", "recipient", "program", "amount", "currency",
                               "award_status", "announced", "facility_id", "stage", "state")
                   if c in frame]
    rows = [{c: "" if v is None or v != v else (f"{v:,.0f}" if isinstance(v, float) else
                                                 str(v)) for c, v in r.items() if c in columns}
            for r in frame.to_dict("records")]
    console.print(_table("Programs" if programs else f"Funding awards ({len(rows)})", rows,
                         columns))


@app.command()
def content(
    bill: BomArgument,
    placed_in_service: Annotated[str | None, typer.Option(
        "--placed-in-service", help="Audit a past vehicle under the historic §30D test "
                                    "(YYYY-MM-DD).")] = None,
    acquired: Annotated[str | None, typer.Option(
        help="Date the vehicle was acquired (binding contract and payment).")] = None,
    db: DbOption = None, as_json: JsonOption = False,
) -> None:
    """Share of value by origin group, the 50% value-added test for minerals, and (with
    --placed-in-service) the historic §30D critical-mineral and battery-component test."""
    bom = _bill(bill)
    try:
        shares = origin_shares(bom)
    except ValueError as exc:
        raise Failed(str(exc)) from None
    tests = [value_added_test(c) for c in bom.components]
    tests = [t for t in tests if t.verdict != "not_applicable"]
    historic = None
    if placed_in_service is not None:
        placed = _day(placed_in_service, "--placed-in-service")
        bought = _day(acquired, "--acquired") if acquired else None
        try:
            statuses = service.supplier_feoc(_atlas(db), bom, placed)
            historic = historic_30d(bom, placed, bought, statuses)
        except ValueError as exc:
            raise Failed(str(exc)) from None
    if as_json:
        payload: dict[str, Any] = {
            "product": bom.product.id,
            "origin_shares": [{"group": s.group, "cost": s.cost, "share": s.share,
                               "lines": list(s.lines)} for s in shares],
            "value_added": [vars(t) for t in tests],
        }
        if historic is not None:
            payload["historic_30d"] = _historic_json(historic)
        _print_json(payload)
        return
    console.print(f"[bold]{bom.product.name}[/bold]")
    console.print(_table("Value by origin group", [
        {"group": s.group, "cost": f"{s.cost:,.2f}", "share": f"{s.share:.1%}",
         "lines": ", ".join(s.lines)} for s in shares], ["group", "cost", "share", "lines"]))
    for test in tests:
        console.print(f"50% value-added test, line {test.line}: {test.verdict} ({test.reason})",
                      highlight=False)
    if historic is not None:
        console.print(f"Historic §30D, placed in service {historic.placed_in_service}: credit "
                      f"${historic.credit:,.0f} (${historic.credit_if_resolved:,.0f} if every "
                      "undecided point were resolved in the vehicle's favour)")
        for check in historic.checks:
            console.print(f"- {check.name}: {check.verdict} ({check.reason})", highlight=False)
        for half in (historic.critical_minerals, historic.battery_components):
            share = "n/a" if half.share is None else f"{half.share:.1%}"
            console.print(f"- {half.half}: {half.verdict}, share {share} against "
                          f"{half.applicable.applicable_pct:g}% ({half.applicable.id}), "
                          f"${half.amount:,.0f}", highlight=False)
        for note in historic.notes:
            console.print(f"Note: {note}", highlight=False)


def _historic_json(result: Historic30dResult) -> dict[str, Any]:
    def half(h: HalfResult) -> dict[str, Any]:
        return {"verdict": h.verdict, "content": h.content, "amount": h.amount,
                "available": h.available, "applicable_pct": h.applicable.applicable_pct,
                "applicable_rule": h.applicable.id, "share": h.share,
                "share_if_unknown_qualifies": h.share_if_unknown_qualifies,
                "lines": [vars(ln) for ln in h.lines], "reasons": h.reasons}
    return {"placed_in_service": result.placed_in_service.isoformat(),
            "acquired": result.acquired.isoformat() if result.acquired else None,
            "checks": [vars(c) for c in result.checks],
            "critical_minerals": half(result.critical_minerals),
            "battery_components": half(result.battery_components),
            "credit": result.credit, "credit_if_resolved": result.credit_if_resolved,
            "rules": rule_rows(result.rows), "notes": result.notes}
