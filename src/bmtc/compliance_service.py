"""Compliance over a loaded atlas: suppliers in a bill are found among the stored parties and
screened under the prohibited-foreign-entity rules for the year, then handed to the pure
calculators in `bmtc.compliance`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bmtc.compliance.bom import Bom
from bmtc.compliance.content_rules import load_content_30d
from bmtc.compliance.credit45x import CreditResult, credit_45x
from bmtc.compliance.defense import FEOC_RULESET, Cited, SupplierFacts
from bmtc.compliance.macr import MacrResult, SupplierStatus, macr
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


def supplier_statuses(dataset: Dataset, bom: Bom, year: int,
                      ruleset: str = PFE_RULESET) -> Suppliers:
    """Suppliers found in the atlas take their screening verdict for the taxable year (the
    rule set's own testing dates); others take the status the bill declares, or none."""
    rules = rule_set(ruleset)
    verdicts = screen_everyone(dataset, ruleset, taxable_year=year)
    by_id = dict(zip(verdicts["org_id"], verdicts["status"], strict=True))
    found = Suppliers({})
    for component in bom.components:
        name = component.supplier
        if name is None or name in found.statuses:
            continue
        try:
            org = resolve(dataset, name)
        except NotFound:
            org = None
        if org is not None and org.id in by_id:
            basis = (f"{rules.id} {rules.version} screening of {org.id} for taxable year "
                     f"{year}")
            found.statuses[name] = SupplierStatus(by_id[org.id], basis)
            found.resolved[name] = org.id
            declared = component.declared_status
            if declared is not None and declared != by_id[org.id]:
                found.notes.append(f"{name}: the bill declares {declared}, screening finds "
                                   f"{by_id[org.id]}; the screening verdict is used")
        elif component.declared_status is not None:
            found.statuses[name] = SupplierStatus(component.declared_status,
                                                  "declared in the bill; supplier not in the atlas")
    return found


def check_macr(dataset: Dataset, bom: Bom, year: int) -> tuple[MacrResult, Suppliers]:
    suppliers = supplier_statuses(dataset, bom, year)
    result = macr(bom, year, suppliers.statuses)
    result.notes.extend(suppliers.notes)
    return result, suppliers


def taxpayer_status(dataset: Dataset, bom: Bom, year: int,
                    ruleset: str = PFE_RULESET) -> tuple[str | None, str]:
    """The producer's PFE status for the taxable year, and how it was found."""
    producer = bom.product.producer
    if producer is None:
        return None, "no producer named in the bill"
    try:
        org = resolve(dataset, producer)
    except NotFound:
        return None, f"producer {producer!r} is not in the atlas"
    verdicts = screen_everyone(dataset, ruleset, taxable_year=year)
    status = dict(zip(verdicts["org_id"], verdicts["status"], strict=True)).get(org.id)
    return status, f"{ruleset} screening of {org.id} for taxable year {year}"


def check_credit(dataset: Dataset, bom: Bom, year: int) -> tuple[CreditResult, MacrResult]:
    ratio, _suppliers = check_macr(dataset, bom, year)
    status, basis = taxpayer_status(dataset, bom, year)
    result = credit_45x(bom, year, status, ratio)
    result.notes.append(f"taxpayer status: {status or 'unknown'} ({basis})")
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
