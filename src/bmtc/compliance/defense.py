"""Defense procurement rules for batteries, for one bill on one day: FY2024 NDAA s. 154
(DOD-1 to DOD-3, batteries produced by six listed companies; the "majority of components" is
read by cost and, side by side, by count of lines), 10 U.S.C. 4865 (DOD-4, FEOC-free functional
cell components, with disputed start dates) and FY2024 NDAA s. 805 (DOD-8, s. 1260H companies).

The rules are pure: the caller supplies each party's facts on the day
(`bmtc.compliance_service.supplier_facts` reads
them from an atlas). Unknown facts can make a result insufficient_data, never clear it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from bmtc.analysis.reference import Keys, ReferenceFile
from bmtc.compliance.bom import Bom, Component
from bmtc.compliance.schedule import Dated, check_no_overlap, load_compliance
from bmtc.screening.rules import crosses

ProgramType = Literal["new", "standard", "existing"]
ContractKind = Literal["direct", "indirect"]
Outcome = Literal["barred", "allowed", "not_in_effect", "insufficient_data", "waived"]
FEOC_RULESET = "feoc-doe-2024"


class DefenseRow(Dated):
    rule: str = Field(pattern=r"^DOD-\d+$")
    kind: Literal["prohibition", "definition", "waiver", "exception", "exclusion",
                  "assumption", "reading"]
    title: str = Field(min_length=1)
    threshold_pct: float | None = Field(default=None, gt=0, le=100)
    program_type: ProgramType | None = None
    contract_kind: ContractKind | None = None
    entities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    grounds: tuple[str, ...] = ()


class DefenseFile(ReferenceFile):
    row: tuple[DefenseRow, ...]

    unique_by: ClassVar[Keys] = {"row": lambda r: r.id}

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        check_no_overlap(self.row)
        return self

    def get(self, row_id: str) -> DefenseRow:
        return next(r for r in self.row if r.id == row_id)


@cache
def load_defense() -> DefenseFile:
    return load_compliance("defense.toml", DefenseFile)


@dataclass(frozen=True)
class Cited:
    """A fact's source: an atlas list entry with its publisher, date and confidence."""

    id: str
    citation: str
    confidence: str
    url: str | None = None


@dataclass(frozen=True)
class SupplierFacts:
    """One party on the day tested. None means not known (never "no")."""

    org_id: str | None
    listed_154: bool | None
    listed_1260h: bool | None
    feoc_status: str | None  # "feoc" / "clear"; "insufficient_data" counts as unknown
    list_154: Cited | None = None
    list_1260h: Cited | None = None
    basis: str = ""


@dataclass(frozen=True)
class DefenseInputs:
    program_type: ProgramType = "new"
    waiver: bool = False
    exempt_category: str | None = None
    feoc_licensed_technology: bool | None = None
    contract_kind: ContractKind = "direct"
    contractor: str | None = None  # the prime; the product's producer when not given


@dataclass
class RuleResult:
    rule: str
    in_effect: bool
    outcome: Outcome
    reasons: list[str]
    rows: list[DefenseRow]
    evidence: list[Cited] = field(default_factory=list)
    readings: dict[str, Outcome] = field(default_factory=dict)


@dataclass
class DefenseResult:
    product: str
    day: date
    rules: dict[str, RuleResult]  # "DOD-1/2", "DOD-4", "DOD-8"
    notes: list[str] = field(default_factory=list)

    def rows_used(self) -> list[DefenseRow]:
        return list({r.id: r for rule in self.rules.values() for r in rule.rows}.values())


def _who(name: str | None, facts: Mapping[str, SupplierFacts]) -> str:
    found = facts.get(name or "")
    label = name or "(not named)"
    return f"{label} ({found.org_id})" if found and found.org_id else label


def _fact(facts: Mapping[str, SupplierFacts], name: str | None,
          which: Literal["154", "1260h", "feoc"]) -> bool | None:
    found = facts.get(name or "")
    if found is None:
        return None
    if which == "feoc":
        known = found.feoc_status in ("feoc", "clear")
        return found.feoc_status == "feoc" if known else None
    return found.listed_154 if which == "154" else found.listed_1260h


def _majority(bom: Bom, facts: Mapping[str, SupplierFacts], assembled: list[bool | None],
              reading: Literal["cost", "count"], limit: float) -> tuple[Outcome, str]:
    """DOD-2 under one reading: listed entities' shares of the components, each on its own
    (two spellings of one atlas party are one entity)."""
    def weight(c: Component) -> float:
        return c.direct_cost if reading == "cost" else 1.0

    total = sum(weight(c) for c in bom.components)
    shares: dict[str, float] = {}
    unknown = 0.0
    for c in bom.components:
        flag = _fact(facts, c.supplier, "154")
        if flag is None:
            unknown += weight(c) / total
        elif flag:
            key = facts[c.supplier or ""].org_id or c.supplier or ""
            shares[key] = shares.get(key, 0.0) + weight(c) / total
    top, share = max(shares.items(), key=lambda kv: kv[1], default=("none", 0.0))
    outcome: Outcome = "allowed"
    if True in assembled or crosses(share, limit, inclusive=False):
        outcome = "barred"
    elif None in assembled or not assembled or crosses(share + unknown, limit,
                                                        inclusive=False):
        outcome = "insufficient_data"
    unit = "component cost" if reading == "cost" else "component lines"
    return outcome, (f"by {reading}: largest listed supplier {top} provides {share:.1%} of "
                     f"{unit} (listed entities together {sum(shares.values()):.1%}, status "
                     f"unknown {unknown:.1%}); a majority is more than {limit:g}% -> {outcome}")


def _section_154(bom: Bom, day: date, facts: Mapping[str, SupplierFacts],
                 inputs: DefenseInputs, data: DefenseFile) -> RuleResult:
    bar, definition, waiver = data.get("DOD-1"), data.get("DOD-2"), data.get("DOD-3")
    rows = [bar, definition, data.get("DOD-2-COST"), data.get("DOD-2-COUNT"), waiver]
    assemblers = list(dict.fromkeys(n for n in (bom.product.producer, inputs.contractor) if n))
    assembled = [_fact(facts, n, "154") for n in assemblers]
    reasons = [f"final product assembled by {_who(n, facts)}, which "
               f"{ {True: 'is', False: 'is not', None: 'may be'}[flag]} a s. 154 listed entity"
               for n, flag in zip(assemblers, assembled, strict=True)]
    if not assemblers:
        reasons.append("nobody is named as assembling the final product")
    readings: dict[str, Outcome] = {}
    for reading in ("cost", "count"):
        outcome, line = _majority(bom, facts, assembled, reading, definition.threshold_pct or 50)
        readings[reading] = "waived" if inputs.waiver and outcome == "barred" else outcome
        reasons.append(line)
    if readings["cost"] != readings["count"]:
        reasons.append(f"the readings disagree: by cost {readings['cost']}, by count "
                       f"{readings['count']}; the cost reading (DOD-2-COST) decides")
    outcome = readings["cost"]
    if outcome == "waived":
        reasons.append("barred unless waived; a DOD-3 waiver is recorded -> waived")
    elif outcome == "barred":
        reasons.append("barred unless waived under DOD-3 (" + "; ".join(waiver.grounds) + ")")
    named = {*(c.supplier for c in bom.components), *assemblers}
    evidence = list(dict.fromkeys(f.list_154 for n, f in facts.items()
                                  if n in named and f.listed_154 and f.list_154))
    if not bar.applies_on(day):
        reasons.insert(0, f"s. 154 applies from {bar.effective_from}; {day} is before it "
                       f"(were it in effect: {outcome})")
        return RuleResult("DOD-1/2", False, "not_in_effect", reasons, rows, evidence)
    return RuleResult("DOD-1/2", True, outcome, reasons, rows, evidence, readings)


def _test_4865(bom: Bom, facts: Mapping[str, SupplierFacts], inputs: DefenseInputs,
               exception: DefenseRow) -> tuple[Outcome, list[str]]:
    """The outcome if the requirement applies: barred, allowed or insufficient_data."""
    fcc = [c for c in bom.components if c.functional_cell_component]
    total = sum(c.direct_cost for c in fcc)
    if total <= 0:
        return "insufficient_data", ["no line with a cost is marked as a functional cell "
                                     "component, so the 95% test cannot be made"]
    barred: list[str] = []
    open_: list[str] = []
    reasons: list[str] = []
    cost = {True: 0.0, None: 0.0}
    for c in fcc:
        flag = _fact(facts, c.supplier, "feoc")
        if flag is not False:
            cost[flag] += c.direct_cost
            found = facts.get(c.supplier or "")
            basis = found.basis if found else "no facts"
            reasons.append(f"line {c.line} {c.description}: {_who(c.supplier, facts)} "
                           f"{'FEOC' if flag else f'FEOC status unknown ({basis})'}, "
                           f"{c.direct_cost / total:.1%} of functional-cell-component cost")
    assembled = _fact(facts, bom.product.producer, "feoc")
    if assembled or assembled is None:
        (barred if assembled else open_).append(
            f"final assembly by {_who(bom.product.producer, facts)}, "
            f"{'a FEOC' if assembled else 'whose FEOC status is unknown'}")
    if inputs.feoc_licensed_technology is not False:
        (barred if inputs.feoc_licensed_technology else open_).append(
            "technology licensed from a FEOC" if inputs.feoc_licensed_technology
            else "whether technology licensed from a FEOC is used is not stated")
    limit = exception.threshold_pct or 95
    best, worst = (total - cost[True]) / total, (total - cost[True] - cost[None]) / total
    if not crosses(best, limit, inclusive=False):
        barred.append(f"{best:.1%} of functional-cell-component cost is from non-FEOC "
                      f"sources; the exception (DOD-4-EXC) needs more than {limit:g}%")
    if cost[None] > 0:
        holds = "still hold" if crosses(worst, limit, inclusive=False) else "fail"
        open_.append(f"were the unknown lines FEOC, the non-FEOC share would be {worst:.1%} "
                     f"and the exception would {holds}")
    if barred:
        return "barred", reasons + barred
    if open_:
        return "insufficient_data", reasons + open_
    how = "the exception holds" if cost[True] > 0 else "no FEOC link found"
    return "allowed", [*reasons, f"{best:.1%} of functional-cell-component cost non-FEOC, "
                       f"final assembly non-FEOC, no FEOC-licensed technology: {how}"]


def _section_4865(bom: Bom, day: date, facts: Mapping[str, SupplierFacts],
                  inputs: DefenseInputs, data: DefenseFile) -> RuleResult:
    start, alternative = data.get(f"DOD-4-{inputs.program_type.upper()}"), data.get("DOD-4-ALT")
    exclusion = data.get("DOD-4-EXCL")
    rows = [start, alternative]
    would: Outcome
    if inputs.exempt_category is not None:
        if inputs.exempt_category not in exclusion.categories:
            raise ValueError(f"exempt_category {inputs.exempt_category!r} is not one of "
                             f"{', '.join(exclusion.categories)}")
        would, reasons = "allowed", [f"excluded category {inputs.exempt_category} (DOD-4-EXCL)"]
        rows.append(exclusion)
    else:
        would, reasons = _test_4865(bom, facts, inputs, data.get("DOD-4-EXC"))
        rows += [data.get("DOD-4-EXC"), data.get("DOD-4-RECYCLED")]
    in_effect = start.applies_on(day)
    outcome: Outcome = would if in_effect else "not_in_effect"
    if not in_effect:
        reasons.insert(0, f"applies to {inputs.program_type} programs from "
                       f"{start.effective_from}; {day} is before it (were it in effect: {would})")
    alt: Outcome = would if alternative.applies_on(day) else "not_in_effect"
    if alt != outcome:
        reasons.append(f"under the conflicting start date {alternative.effective_from} "
                       f"(DOD-4-ALT) the outcome would be {alt}")
    return RuleResult("DOD-4", in_effect, outcome, reasons, rows, [],
                      {"statute_dates": outcome, "alternative_start": alt})


def _section_805(bom: Bom, day: date, facts: Mapping[str, SupplierFacts],
                 inputs: DefenseInputs, data: DefenseFile) -> RuleResult:
    """The contractor is reached as the contract kind says; the bill's producer and
    suppliers are reached through it, so indirectly."""
    contractor = inputs.contractor or bom.product.producer
    parties = (bom.product.producer, *(c.supplier for c in bom.components))
    checks = [(contractor, f"contractor ({inputs.contract_kind})",
               data.get(f"DOD-8-{inputs.contract_kind.upper()}")),
              *((n, "supply chain (indirect)", data.get("DOD-8-INDIRECT"))
                for n in dict.fromkeys(parties) if n and n != contractor)]
    rows = list(dict.fromkeys(row for _, _, row in checks))
    reasons: list[str] = []
    evidence: list[Cited] = []
    found: set[bool | None] = set()
    for name, role, row in checks:
        if not row.applies_on(day):
            reasons.append(f"{role} {_who(name, facts)}: {row.id} applies from "
                           f"{row.effective_from}")
            continue
        flag = _fact(facts, name, "1260h")
        found.add(flag)
        state = {True: "on", False: "not on", None: "not known to be on or off"}[flag]
        reasons.append(f"{role} {_who(name, facts)} is {state} the s. 1260H list on {day} "
                       f"({row.id})")
        listing = facts[name or ""].list_1260h if flag else None
        if listing and listing not in evidence:
            evidence.append(listing)
    if not found:
        return RuleResult("DOD-8", False, "not_in_effect", reasons, rows, evidence)
    outcome: Outcome = ("barred" if True in found else
                        "insufficient_data" if None in found else "allowed")
    return RuleResult("DOD-8", True, outcome, reasons, rows, evidence)


def assess_defense(bom: Bom, day: date, facts: Mapping[str, SupplierFacts],
                   inputs: DefenseInputs | None = None,
                   data: DefenseFile | None = None) -> DefenseResult:
    """DOD-1/2, DOD-4 and DOD-8 for one bill on one day, each with the rows it used."""
    inputs = inputs or DefenseInputs()
    data = data or load_defense()
    if bom.total_cost() <= 0:
        raise ValueError(f"{bom.file}: the components' direct costs sum to zero")
    rules = {r.rule: r for r in (_section_154(bom, day, facts, inputs, data),
                                 _section_4865(bom, day, facts, inputs, data),
                                 _section_805(bom, day, facts, inputs, data))}
    result = DefenseResult(bom.product.id, day, rules)
    weak = [r.id for r in result.rows_used() if not r.verified]
    if weak:
        result.notes.append(f"rows {', '.join(weak)} are secondary or uncertain, not verified "
                            "against the statute text")
    return result
