"""Duty exposure of an import bill: Section 301 on China-origin goods in the four-year-review
categories, AD/CVD cash deposits on active anode material from China, and the MFN rate the user
gives, each line on its entry date unless one date is asked for. Every rate names the dated row
it came from; IEEPA and Section 232 duties are not modelled, and every result says so."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bmtc.analysis.reference import Keys, ReferenceFile
from bmtc.compliance.schedule import Dated, check_no_overlap, load_compliance, on
from bmtc.domain.geo import normalize_country
from bmtc.domain.vocab import Confidence
from bmtc.io.problems import ImportFailed, Problem
from bmtc.io.readers import cell_value, open_workbook, sheet_rows

Category = Literal["li-ion-ev-battery", "li-ion-non-ev-battery", "battery-parts",
                   "natural-graphite", "permanent-magnets", "critical-minerals",
                   "electric-vehicles", "semiconductors", "solar-cells"]
CATEGORIES: tuple[str, ...] = get_args(Category)
Country = Annotated[str, AfterValidator(normalize_country)]
Hts = Annotated[str, Field(pattern=r"^\d{4}(\.?\d{2}){0,3}$")]
Measure = Literal["section-301", "ad", "cvd"]
NOT_MODELLED = (
    "IEEPA and Section 232 duties are not modelled: the duty owed may be higher.",
    "Section 301 is modelled only for the four-year-review categories; other China-origin "
    "goods may owe List 1-4A duties, and Section 301 exclusions are not applied.",
    "AD/CVD is modelled only for active anode material from China (A-570-194, C-570-195), "
    "on the whole value of lines flagged aam (or named in its scope).",
)


def _matches(hts: str, prefixes: Iterable[str]) -> bool:
    return any(hts.replace(".", "").startswith(p.replace(".", "")) for p in prefixes)


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


class Rule301(Dated):
    category: Category
    rate_pct: float = Field(ge=0)
    hts: tuple[Hts, ...] = ()
    origin: tuple[Country, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _series(self) -> Self:
        if self.series != self.category:
            raise ValueError("series must equal category")
        return self


class Section301File(ReferenceFile):
    rule: tuple[Rule301, ...]
    unique_by: ClassVar[Keys] = {"rule": lambda r: r.id}

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        check_no_overlap(self.rule)
        return self

    def category_of(self, hts: str) -> Category | None:
        """The one category whose HTS prefixes match; None when none or several do."""
        found = {r.category for r in self.rule if _matches(hts, r.hts)}
        return found.pop() if len(found) == 1 else None


class CaseEvent(Dated):
    kind: str = Field(min_length=1)


class Deposit(Dated):
    duty: Literal["ad", "cvd"]
    status: Literal["investigation", "provisional", "lapsed", "final-determination", "ended"]
    rate_pct: float = Field(ge=0)
    event: str
    exporter_match: str | None = Field(default=None, pattern=r"^[a-z0-9]+$")


class AamFile(ReferenceFile):
    cases: tuple[str, ...]
    origin: tuple[Country, ...]
    scope_hts: tuple[Hts, ...]
    ended: date | None = None
    orders_issued: bool
    outcome_confidence: Confidence
    event: tuple[CaseEvent, ...]
    deposit: tuple[Deposit, ...]
    unique_by: ClassVar[Keys] = {"event": lambda e: e.id, "deposit": lambda d: d.id}

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_no_overlap(self.event)
        check_no_overlap(self.deposit)
        events = {e.id for e in self.event}
        for d in self.deposit:
            if d.event not in events:
                raise ValueError(f"deposit {d.id}: unknown event {d.event!r}")
            if (d.exporter_match is None) != (d.series == f"aam-{d.duty}"):
                raise ValueError(f"deposit {d.id}: only exporter rows leave series aam-{d.duty}")
        return self

    def deposit_on(self, duty: str, day: date, exporter: str | None) -> Deposit | None:
        """The exporter's own row when one is in force, else the all-others row."""
        key = _fold(exporter or "")
        own = [d for d in self.deposit if d.duty == duty and d.exporter_match
               and d.exporter_match in key and d.applies_on(day)]
        return own[0] if own else on(self.deposit, f"aam-{duty}", day)


@dataclass(frozen=True)
class TariffRules:
    section301: Section301File
    aam: AamFile


@cache
def load_tariff_rules() -> TariffRules:
    return TariffRules(load_compliance("section-301.toml", Section301File),
                       load_compliance("aam-adcvd.toml", AamFile))


class ImportLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    line_id: str = Field(min_length=1)
    description: str = ""
    category: Category | Literal["other"] | None = None
    hts: Hts | None = None
    origin: Country
    value_usd: float = Field(ge=0, allow_inf_nan=False)
    entry_date: date
    mfn_pct: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    aam: bool | None = None
    exporter: str | None = None


COLUMNS = tuple(ImportLine.model_fields)
REQUIRED = ("line_id", "origin", "value_usd", "entry_date")


def lines_from_table(file: str, cells: Sequence[Sequence[Any]]) -> list[ImportLine]:
    """Validate a header row and data rows (row 1 = header); all or nothing."""
    numbered = [(n, r) for n, r in enumerate(cells, start=1) if any(str(c or "").strip()
                                                                     for c in r)]
    if not numbered:
        raise ImportFailed.single(file, "is empty")
    header = [str(c or "").strip() for c in numbered[0][1]]
    problems = [Problem(file, 1, h or None, "is not an import-bill column (one of: "
                        + ", ".join(COLUMNS) + ")") for h in header if h not in COLUMNS]
    problems += [Problem(file, 1, c, "column is missing") for c in REQUIRED if c not in header]
    lines: dict[str, ImportLine] = {}
    for number, row in numbered[1:] if not problems else []:
        if len(row) > len(header):
            problems.append(Problem(file, number, None, f"has {len(row)} cells, the header "
                                    f"{len(header)}"))
            continue
        record = {k: str(v).strip() for k, v in zip(header, row, strict=False)
                  if v is not None and str(v).strip()}
        try:
            line = ImportLine.model_validate(record)
        except ValidationError as exc:
            problems += [Problem(file, number, str(e["loc"][0]) if e["loc"] else None, e["msg"])
                         for e in exc.errors()]
            continue
        if line.line_id in lines:
            problems.append(Problem(file, number, "line_id", "repeats an earlier line"))
        lines[line.line_id] = line
    if problems:
        raise ImportFailed(problems)
    return list(lines.values())


def read_import_bill(path: Path) -> list[ImportLine]:
    """An import bill from CSV or Excel (first sheet); errors name file, row and column."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        book = open_workbook(path)
        rows = sheet_rows(book, book.sheet_names[0])
        return lines_from_table(path.name, [[cell_value(c) for c in r] for r in rows])
    try:
        text = path.read_text(encoding="utf-8-sig")
        cells = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed.single(path.name, f"cannot be read as CSV: {exc}") from None
    return lines_from_table(path.name, cells)


@dataclass(frozen=True)
class Applied:
    """One measure on one line: status, the rate used (None: undetermined) and its row."""

    measure: Measure
    status: str
    rate_pct: float | None
    row: Dated | None = None
    event: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class LineExposure:
    line: ImportLine
    day: date
    category: str | None  # None: unclassified
    section301: Applied
    ad: Applied
    cvd: Applied
    total_pct: float | None  # MFN + 301 + AD + CVD; None when any is undetermined
    duty_usd: float | None
    refundable_usd: float  # AD/CVD deposits returned because no order was issued
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Exposure:
    on: date | None
    lines: tuple[LineExposure, ...]
    value_usd: float
    duty_usd: float  # over lines whose total is determined
    refundable_usd: float
    unresolved: tuple[str, ...]  # ids of lines whose total is undetermined
    notes: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.unresolved


def _section301(line: ImportLine, day: date, rules: Section301File) -> tuple[str | None, Applied]:
    category = line.category or (rules.category_of(line.hts) if line.hts else None)
    if line.origin not in {o for r in rules.rule for o in r.origin}:
        return category, Applied("section-301", "not-covered", 0.0,
                                 reason=f"origin {line.origin} is not subject to Section 301")
    if category is None:
        return None, Applied("section-301", "unclassified", None, reason="no category given and "
                             f"HTS {line.hts or '(none)'} matches no encoded subheading")
    if category == "other":
        return category, Applied("section-301", "not-covered", 0.0,
                                 reason="category 'other' has no modelled Section 301 rate")
    row = on(rules.rule, category, day)
    if row is None:
        return category, Applied("section-301", "no-row", None,
                                 reason=f"no {category} row in force on {day}")
    return category, Applied("section-301", "applies", row.rate_pct, row)


def _adcvd(line: ImportLine, day: date, aam: AamFile) -> list[Applied]:
    named = line.hts is not None and _matches(line.hts, aam.scope_hts)
    subject = line.origin in aam.origin and (line.aam or (line.aam is None and named))
    out: list[Applied] = []
    for duty in ("ad", "cvd"):
        row = aam.deposit_on(duty, day, line.exporter)
        if not subject or row is None:
            out.append(Applied(duty, "not-applicable", 0.0))
        elif line.aam is None and row.rate_pct > 0:
            out.append(Applied(duty, "review", None, row, row.event, "HTS is named in the AAM "
                               "scope but the line does not say whether it is anode material"))
        else:
            out.append(Applied(duty, row.status, row.rate_pct, row, row.event))
    return out


def _line(line: ImportLine, day: date, rules: TariffRules) -> LineExposure:
    category, s301 = _section301(line, day, rules.section301)
    ad, cvd = _adcvd(line, day, rules.aam)
    notes = [f"{a.measure}: {a.reason}" for a in (s301, ad, cvd) if a.reason]
    inferred = rules.section301.category_of(line.hts) if line.hts else None
    if line.category and inferred and inferred != line.category:
        notes.append(f"category {line.category} given; HTS {line.hts} suggests {inferred}")
    if line.mfn_pct is None:
        notes.append("MFN rate not given: the total leaves it out")
    rates = [a.rate_pct for a in (s301, ad, cvd)]
    total = None if None in rates else sum(r or 0.0 for r in rates) + (line.mfn_pct or 0.0)
    aam, refundable = rules.aam, 0.0
    # With no order issued, deposits taken before the case ended are returned.
    if aam.ended and not aam.orders_issued and day < aam.ended:
        refundable = line.value_usd * sum(a.rate_pct or 0.0 for a in (ad, cvd)) / 100
    if refundable:
        notes.append(f"AD/CVD deposits refundable: the case ended on {aam.ended} without "
                     f"orders ({aam.outcome_confidence})")
    duty = None if total is None else line.value_usd * total / 100
    return LineExposure(line, day, category, s301, ad, cvd, total, duty, refundable,
                        tuple(notes))


def exposure(lines: Iterable[ImportLine], on: date | None = None,
             rules: TariffRules | None = None) -> Exposure:
    """Per line and in total: the rates in force on each line's entry date, or on `on`."""
    rules = rules or load_tariff_rules()
    results = tuple(_line(line, on or line.entry_date, rules) for line in lines)
    notes = list(NOT_MODELLED)
    unresolved = tuple(r.line.line_id for r in results if r.total_pct is None)
    if unresolved:
        notes.append("no total for " + ", ".join(unresolved) + ": the totals leave them out")
    no_mfn = [r.line.line_id for r in results if r.line.mfn_pct is None]
    if no_mfn:
        notes.append("MFN rate not given for " + ", ".join(no_mfn))
    used = {a.row.id: a.row for r in results for a in (r.section301, r.ad, r.cvd) if a.row}
    notes += [f"row {row.id} is {row.confidence}, not primary-verified"
              + (" (the result is indicative only)" if row.confidence == "uncertain" else "")
              + f": {row.citation}" for row in used.values() if not row.verified]
    return Exposure(on, results, sum(r.line.value_usd for r in results),
                    sum(r.duty_usd or 0.0 for r in results),
                    sum(r.refundable_usd for r in results), unresolved, tuple(notes))
