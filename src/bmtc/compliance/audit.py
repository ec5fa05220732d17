"""Audit trails: everything a calculation rests on, as JSON and as an Excel workbook a
reviewer can check line by line (inputs, each line's treatment and reason, the rule rows with
citation and confidence, supplier resolutions, notes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bmtc.compliance.bom import Bom
from bmtc.compliance.macr import MacrResult
from bmtc.compliance.schedule import Dated
from bmtc.io.writers import append_text_row, neutralize


def rule_rows(rows: Sequence[Dated]) -> list[dict[str, Any]]:
    return [{"id": r.id, "series": r.series, "effective_from": r.effective_from.isoformat(),
             "effective_to": r.effective_to.isoformat() if r.effective_to else None,
             "citation": r.citation, "url": r.url, "confidence": r.confidence.value,
             "verified": r.verified, "note": r.note} for r in rows]


def macr_audit(result: MacrResult, bom: Bom, resolved: Mapping[str, str],
               generated: datetime | None = None) -> dict[str, Any]:
    """The JSON audit trail of one material-assistance calculation."""
    threshold = result.threshold
    return {
        "calculation": "material-assistance cost ratio, 26 U.S.C. 7701(a)(52)",
        "generated": (generated or datetime.now()).isoformat(timespec="seconds"),
        "bill": bom.file,
        "product": bom.product.model_dump(mode="json"),
        "year": result.year,
        "testing_date": result.testing_date.isoformat(),
        "series": result.series,
        "summary": {
            "total_direct_cost": result.total_cost,
            "prohibited_cost": result.pfe_cost,
            "unknown_cost": result.unknown_cost,
            "ratio": result.ratio,
            "ratio_if_unknown_prohibited": result.ratio_if_unknown_prohibited,
            "threshold_pct": threshold.threshold_pct,
            "threshold_rule": threshold.id,
            "threshold_confidence": threshold.confidence.value,
            "threshold_verified": threshold.verified,
            "verdict": result.verdict,
            "margin_pct_points": result.margin_pct,
        },
        "sensitivity": {"lines": result.flip, "explanation": result.flip_note},
        "lines": [{
            "line": ln.line, "description": ln.description, "supplier": ln.supplier,
            "supplier_org_id": resolved.get(ln.supplier or ""), "direct_cost": ln.direct_cost,
            "share_of_cost": ln.direct_cost / result.total_cost, "treated_as": ln.status,
            "reason": ln.reason, "rules": list(ln.rows),
        } for ln in result.lines],
        "rules": rule_rows(result.rows_used()),
        "notes": result.notes,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(sheet: Any, values: list[Any]) -> None:
    # Bill text is the user's: a description beginning "=" must stay text, not a formula.
    append_text_row(sheet, [neutralize(_cell(v)) for v in values])


def _table(sheet: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        _row(sheet, ["(none)"])
        return
    header = list(rows[0])
    _row(sheet, header)
    for row in rows:
        _row(sheet, [row.get(key) for key in header])
    sheet.freeze_panes = "A2"


def write_audit_excel(audit: Mapping[str, Any], path: Path) -> None:
    """The audit trail as a workbook: Summary, Lines, Rules, Product, Notes."""
    from openpyxl import Workbook

    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    for key in ("calculation", "generated", "bill", "year", "testing_date", "series"):
        _row(summary, [key, audit.get(key)])
    for key, value in audit["summary"].items():
        _row(summary, [key, value])
    _row(summary, ["sensitivity", audit["sensitivity"]["explanation"]])
    _row(summary, ["lines that would flip the verdict", audit["sensitivity"]["lines"]])
    _table(book.create_sheet("Lines"), audit["lines"])
    _table(book.create_sheet("Rules"), audit["rules"])
    product = book.create_sheet("Product")
    for key, value in audit["product"].items():
        _row(product, [key, value])
    notes = book.create_sheet("Notes")
    for note in audit["notes"] or ["(none)"]:
        _row(notes, [note])
    book.save(path)
