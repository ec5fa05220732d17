"""Compliance over a loaded atlas: suppliers in a bill are found among the stored parties and
screened under the prohibited-foreign-entity rules for the year, then handed to the pure
calculators in `bmtc.compliance`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bmtc.compliance.bom import Bom
from bmtc.compliance.content_rules import load_content_30d
from bmtc.compliance.credit45x import CreditResult, credit_45x, load_credit
from bmtc.compliance.defense import FEOC_RULESET, Cited, SupplierFacts
from bmtc.compliance.macr import (
    SERIES_BY_PRODUCT,
    MacrResult,
    SupplierStatus,
    check_year,
    macr,
    series_for,
    threshold_for,
)
from bmtc.compliance.schedule import on
from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import partial_date_start
from bmtc.domain.model import ListMembership
from bmtc.domain.vocab import ScreeningList
from bmtc.screening.rules import rule_set
from bmtc.screening_service import NotFound, resolve, screen_everyone

PFE_RULESET = "pfe-2025"


@dataclass
class Suppliers:
    """Each named supplier's status, and how its name was read."""

    statuses: dict[str, SupplierStatus]
    resolved: dict[str, str] = field(default_factory=dict)  # supplier text -> org id
    notes: list[str] = field(default_factory=list)


def pfe_verdicts(dataset: Dataset, year: int, ruleset: str = PFE_RULESET) -> dict[str, str]:
    """Every party's prohibited-foreign-entity status for a taxable year (the rule set's own
    testing dates), by organization id."""
    frame = screen_everyone(dataset, ruleset, taxable_year=year)
    return dict(zip(frame["org_id"], frame["status"], strict=True))


def _party(dataset: Dataset, name: str) -> str | None:
    try:
        return resolve(dataset, name).id
    except NotFound:
        return None


def supplier_statuses(dataset: Dataset, bom: Bom, year: int, ruleset: str = PFE_RULESET,
                      verdicts: dict[str, str] | None = None) -> Suppliers:
    """Suppliers found in the atlas take their screening verdict for the taxable year; others
    take the status the bill declares, or none."""
    rules = rule_set(ruleset)
    by_id = verdicts if verdicts is not None else pfe_verdicts(dataset, year, ruleset)
    found = Suppliers({})
    for component in bom.components:
        name = component.supplier
        if name is None or name in found.statuses:
            continue
        org_id = _party(dataset, name)
        if org_id is not None and org_id in by_id:
            basis = (f"{rules.id} {rules.version} screening of {org_id} for taxable year "
                     f"{year}")
            found.statuses[name] = SupplierStatus(by_id[org_id], basis)
            found.resolved[name] = org_id
            declared = component.declared_status
            if declared is not None and declared != by_id[org_id]:
                found.notes.append(f"{name}: the bill declares {declared}, screening finds "
                                   f"{by_id[org_id]}; the screening verdict is used")
        elif component.declared_status is not None:
            found.statuses[name] = SupplierStatus(component.declared_status,
                                                  "declared in the bill; supplier not in the atlas")
    return found


def check_macr(dataset: Dataset, bom: Bom, year: int,
               verdicts: dict[str, str] | None = None) -> tuple[MacrResult, Suppliers]:
    # The schedule and the bill's dates are checked before any screening, so a year the rule
    # does not reach is reported as such.
    check_year(bom, year)
    threshold_for(series_for(bom), year)
    suppliers = supplier_statuses(dataset, bom, year, verdicts=verdicts)
    result = macr(bom, year, suppliers.statuses)
    result.notes.extend(suppliers.notes)
    return result, suppliers


def taxpayer_status(dataset: Dataset, bom: Bom, year: int, ruleset: str = PFE_RULESET,
                    verdicts: dict[str, str] | None = None) -> tuple[str | None, str]:
    """The producer's PFE status for the taxable year, and how it was found."""
    producer = bom.product.producer
    if producer is None:
        return None, "no producer named in the bill"
    org_id = _party(dataset, producer)
    if org_id is None:
        return None, f"producer {producer!r} is not in the atlas"
    by_id = verdicts if verdicts is not None else pfe_verdicts(dataset, year, ruleset)
    return by_id.get(org_id), f"{ruleset} screening of {org_id} for taxable year {year}"


def check_credit(dataset: Dataset, bom: Bom, year: int,
                 ) -> tuple[CreditResult, MacrResult | None]:
    """The credit, with the ratio and the taxpayer screening only where their bars apply in
    the year (from 2026); a product with no encoded threshold has no ratio, which leaves the
    credit undecided rather than granted."""
    check_year(bom, year)
    bars = load_credit().bar
    day = date(year, 12, 31)
    ratio: MacrResult | None = None
    notes: list[str] = []
    verdicts = pfe_verdicts(dataset, year) if on(bars, "prohibited_taxpayer", day) or on(
        bars, "material_assistance", day) else {}
    if on(bars, "material_assistance", day) is not None:
        if bom.product.type in SERIES_BY_PRODUCT:
            ratio, _suppliers = check_macr(dataset, bom, year, verdicts)
        else:
            notes.append(f"no material-assistance threshold is encoded for "
                         f"{bom.product.type} (none could be verified)")
    status: str | None = None
    if on(bars, "prohibited_taxpayer", day) is not None:
        status, basis = taxpayer_status(dataset, bom, year, verdicts=verdicts)
        notes.append(f"taxpayer status: {status or 'unknown'} ({basis})")
    result = credit_45x(bom, year, status, ratio)
    result.notes.extend(notes)
    if ratio is not None:
        # A denial or a pass on the ratio rests on its threshold and grandfather rows too.
        result.rows.extend(r for r in ratio.rows_used() if r not in result.rows)
        result.notes.extend(ratio.notes)
    return result, ratio


# Defense: list entries and FEOC verdicts of every party a bill names ---------------------

def _cite(entry: ListMembership | None) -> Cited | None:
    return None if entry is None else Cited(
        f"{entry.list_id.value}/{entry.org_id}/{entry.listed_from or '?'}",
        f"{entry.source.publisher or entry.source.url} ({entry.source.as_of or 'undated'})",
        entry.source.confidence.value, str(entry.source.url))


def supplier_facts(dataset: Dataset, bom: Bom, day: date,
                   contractor: str | None = None) -> dict[str, SupplierFacts]:
    """Facts on `day` for the producer, the contractor and every supplier named in the bill,
    keyed by the name as written: the atlas party it resolves to, the list entries in force
    and its FEOC screening verdict. A name that resolves to no party has unknown facts."""
    rules = rule_set(FEOC_RULESET)
    verdicts = screen_everyone(dataset, FEOC_RULESET, as_of=day.isoformat())
    status = dict(zip(verdicts["org_id"], verdicts["status"], strict=True))
    names = dict.fromkeys(n for n in (bom.product.producer, contractor,
                                      *(c.supplier for c in bom.components)) if n)
    facts: dict[str, SupplierFacts] = {}
    for name in names:
        try:
            org = resolve(dataset, name)
        except NotFound:
            facts[name] = SupplierFacts(None, None, None, None, basis="not found in the atlas")
            continue
        entries = [m for m in dataset.list_memberships
                   if m.org_id == org.id and m.in_force(day.isoformat())]
        on_154 = next((m for m in entries if m.list_id is ScreeningList.NDAA_154B), None)
        on_1260h = next((m for m in entries if m.list_id is ScreeningList.DOD_1260H), None)
        facts[name] = SupplierFacts(
            org.id, on_154 is not None, on_1260h is not None, status.get(org.id),
            _cite(on_154), _cite(on_1260h),
            f"atlas party {org.id}; {rules.id} {rules.version} screening as of {day}")
    return facts


# Historic 30D: FEOC verdicts of a bill's suppliers -----------------------------------------

def supplier_feoc(dataset: Dataset, bom: Bom, day: date,
                  ruleset: str | None = None) -> dict[str, SupplierStatus]:
    """Each bill supplier found in the atlas, with its verdict under the FEOC rule set the
    exclusion rows name, screened on `day` (or the rule set's first day, if later). Suppliers
    not found are left out, so they read as unknown; a bill's declared status answers the
    prohibited-foreign-entity test, not this one, and is not used."""
    rules = rule_set(ruleset or load_content_30d().exclusion[0].ruleset)
    as_of = max(day, partial_date_start(rules.effective_from))
    verdicts = screen_everyone(dataset, rules.id, as_of=as_of.isoformat())
    by_id = dict(zip(verdicts["org_id"], verdicts["status"], strict=True))
    late = "" if as_of == day else f" (its first day; the vehicle's date is {day})"
    found: dict[str, SupplierStatus] = {}
    for name in dict.fromkeys(c.supplier for c in bom.components if c.supplier is not None):
        try:
            org = resolve(dataset, name)
        except NotFound:
            continue
        if org.id in by_id:
            found[name] = SupplierStatus(by_id[org.id], f"{rules.id} {rules.version} "
                                         f"screening of {org.id} as of {as_of}{late}")
    return found


def list_1260h_note(dataset: Dataset) -> str:
    """How far the atlas's copy of the §1260H list reaches, for results that rely on it."""
    listed = {m.org_id for m in dataset.list_memberships
              if m.list_id is ScreeningList.DOD_1260H}
    return (f"the atlas records {len(listed)} §1260H entities (battery-chain names only; the "
            "official list named 134 in January 2025): 'not on the list' means not on the "
            "atlas's copy")
