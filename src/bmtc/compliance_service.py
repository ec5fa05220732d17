"""Compliance over a loaded atlas: suppliers in a bill are found among the stored parties and
screened under the prohibited-foreign-entity rules for the year, then handed to the pure
calculators in `bmtc.compliance`."""

from __future__ import annotations

from dataclasses import dataclass, field

from bmtc.compliance.bom import Bom
from bmtc.compliance.credit45x import CreditResult, credit_45x
from bmtc.compliance.macr import MacrResult, SupplierStatus, macr
from bmtc.domain.dataset import Dataset
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
