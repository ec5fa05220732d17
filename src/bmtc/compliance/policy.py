"""Critical-mineral lists and funding programs as dated, cited data.

`minerals_on` and `is_critical` answer from the list editions in
`bmtc/data/compliance/critical-minerals.toml`, one answer per list, each naming the edition
it used. `funding_table` joins atlas awards to their facilities, recipients and programs
(`programs.toml`); `program_table` lists the programs themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, ClassVar, Literal, Self

import pandas as pd
from pydantic import AfterValidator, Field, model_validator

from bmtc.analysis.reference import Keys, ReferenceFile, SourcedConfidence
from bmtc.compliance.schedule import Dated, Strict, check_no_overlap, load_compliance, on
from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import parse_partial_date
from bmtc.domain.vocab import AwardStatus, FundingInstrument, Stage

EndedBy = Literal["agency", "recipient"]
# Sources use British spellings; the lists use American ones.
_SPELLING = {"aluminium": "aluminum", "caesium": "cesium", "sulphur": "sulfur"}
_QUALIFIED = re.compile(r"^(\w+) \((natural|synthetic)\)$")


def normalise(name: str) -> str:
    """The matching key of a mineral name: lower case, single spaces, "x (natural)" read as
    "natural x". Qualified and plain names stay different keys."""
    key = " ".join(name.lower().replace("_", " ").replace("-", " ").split())
    if match := _QUALIFIED.match(key):
        key = f"{match.group(2)} {match.group(1)}"
    return " ".join(_SPELLING.get(word, word) for word in key.split())


def _canonical(names: tuple[str, ...]) -> tuple[str, ...]:
    odd = [n for n in names if normalise(n) != n]
    if odd or len(set(names)) != len(names):
        raise ValueError(f"names repeat or are not canonical: {odd}")
    return names


Names = Annotated[tuple[str, ...], AfterValidator(_canonical)]


class CriticalList(Dated):
    title: str
    agency: str
    names_confidence: SourcedConfidence
    names: Names
    count: int | None = Field(default=None, gt=0)
    draft: bool = False
    includes: str | None = None
    listed_as: dict[str, str] = Field(default_factory=dict)
    groups: dict[str, Names] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _entries(self) -> Self:
        if self.count is not None and self.count != len(self.names):
            raise ValueError(f"{len(self.names)} names, but the source counts {self.count}")
        if stray := (set(self.listed_as) | set(self.groups)) - set(self.names):
            raise ValueError(f"{sorted(stray)} are described but not on the list")
        return self


class Finding(Strict):
    id: str
    text: str
    confidence: SourcedConfidence
    url: str | None = Field(default=None, pattern=r"^https?://")


class ListsFile(ReferenceFile):
    edition: tuple[CriticalList, ...]
    finding: tuple[Finding, ...] = ()
    unique_by: ClassVar[Keys] = {"edition": lambda e: e.id, "finding": lambda f: f.id}

    @model_validator(mode="after")
    def _series(self) -> Self:
        check_no_overlap(self.edition)
        series = {e.series for e in self.edition}
        if bad := [e.id for e in self.edition if e.includes and e.includes not in series]:
            raise ValueError(f"{bad}: `includes` names an unknown series")
        return self


class Program(Dated):
    title: str
    agency: str
    instrument: FundingInstrument
    amount_usd: float = Field(gt=0)
    amount_basis: str
    amount_confidence: SourcedConfidence
    stages: tuple[Stage, ...]
    award_labels: tuple[str, ...] = ()


class Round(Strict):
    id: str
    programs: tuple[str, ...] = Field(min_length=1)
    title: str
    announced: Annotated[str, AfterValidator(parse_partial_date)]
    amount_usd: float | None = Field(default=None, gt=0)
    projects: int | None = Field(default=None, gt=0)
    states: int | None = Field(default=None, gt=0)
    award_label: str | None = None
    citation: str
    url: str | None = Field(default=None, pattern=r"^https?://")
    confidence: SourcedConfidence
    note: str | None = None


class StatusTerm(Strict):
    term: str
    status: AwardStatus
    ended_by: EndedBy | None = None
    note: str | None = None


class ProgramsFile(ReferenceFile):
    program: tuple[Program, ...]
    round: tuple[Round, ...] = ()
    status_term: tuple[StatusTerm, ...] = ()
    unique_by: ClassVar[Keys] = {"program": lambda p: p.id, "round": lambda r: r.id,
                                 "status_term": lambda t: (t.term, t.ended_by)}

    @model_validator(mode="after")
    def _links(self) -> Self:
        known = {p.id for p in self.program}
        if bad := [r.id for r in self.round if not set(r.programs) <= known]:
            raise ValueError(f"rounds {bad} name unknown programs")
        return self


@cache
def load_lists() -> ListsFile:
    return load_compliance("critical-minerals.toml", ListsFile)


@cache
def load_programs() -> ProgramsFile:
    return load_compliance("programs.toml", ProgramsFile)


@dataclass(frozen=True)
class InForce:
    """A list edition in force on a day, with the edition it takes in by reference."""

    edition: CriticalList
    included: CriticalList | None = None

    @property
    def names(self) -> frozenset[str]:
        extra = self.included.names if self.included else ()
        return frozenset((*self.edition.names, *extra))


@dataclass(frozen=True)
class Membership:
    """Whether `name` is on one list. `matched` is the entry that put it there (a group for
    grouped entries), `via` the id of an incorporated edition when the match came from it.
    `related` are entries naming a broader or narrower form; they never count as a match."""

    name: str
    edition: CriticalList
    listed: bool
    matched: str | None = None
    via: str | None = None
    related: tuple[str, ...] = ()


def minerals_on(day: date, list_series: str | None = None, *,
                drafts: bool = False) -> list[InForce]:
    """The lists in force on `day`, one per series; drafts only when asked for (by `drafts`
    or by naming their series)."""
    editions = load_lists().edition
    known = sorted({e.series for e in editions})
    if list_series is not None and list_series not in known:
        raise ValueError(f"unknown list series {list_series!r} (one of: {known})")
    draft_series = {e.series for e in editions if e.draft}
    wanted = [list_series] if list_series else [
        s for s in known if drafts or s not in draft_series]
    found = []
    for series in wanted:
        row = on(editions, series, day)
        if row is not None:
            included = on(editions, row.includes, day) if row.includes else None
            found.append(InForce(row, included))
    return found


def _related(key: str, entry: str) -> bool:
    a, b = set(key.split()), set(entry.split())
    return key != entry and (a < b or b < a)


def _membership(key: str, listed: InForce) -> Membership:
    sources: list[tuple[CriticalList, str | None]] = [(listed.edition, None)]
    if listed.included is not None:
        sources.append((listed.included, listed.included.id))
    related = tuple(sorted(e for e in listed.names if _related(key, e)))
    for row, via in sources:
        if key in row.names:
            return Membership(key, listed.edition, True, key, via, related)
        for group, members in row.groups.items():
            if key in members:
                return Membership(key, listed.edition, True, group, via, related)
    return Membership(key, listed.edition, False, related=related)


def is_critical(name: str, day: date, *, drafts: bool = False) -> list[Membership]:
    """One answer per list in force on `day`, each citing the edition used."""
    key = normalise(name)
    return [_membership(key, listed) for listed in minerals_on(day, drafts=drafts)]


def status_for(term: str, ended_by: EndedBy | None = None) -> AwardStatus:
    """The atlas status for an agency's or reporter's term; "cancelled" needs `ended_by`."""
    matches = [t for t in load_programs().status_term if t.term == term.strip().lower()]
    if ended_by is not None and any(t.ended_by for t in matches):
        matches = [t for t in matches if t.ended_by == ended_by]
    if len(matches) != 1:
        raise ValueError(f"{term!r}: {len(matches)} mappings; say who ended the award"
                         if matches else f"{term!r} has no mapping to an award status")
    return matches[0].status


def programs_for(label: str) -> tuple[str, ...]:
    """Ids of the programs whose labels occur in an award's `program` text."""
    text = label.lower()
    return tuple(p.id for p in load_programs().program
                 if any(lab.lower() in text for lab in p.award_labels))


def _round_for(label: str, programs: tuple[str, ...]) -> str | None:
    text = label.lower()
    for r in load_programs().round:
        if r.award_label and r.award_label.lower() in text and set(r.programs) & set(programs):
            return r.id
    return None


FUNDING_COLUMNS = [
    "award_id", "recipient_id", "recipient_name", "facility_id", "facility_name", "stage",
    "state", "country", "program", "program_ids", "round_id", "agency", "instrument", "amount",
    "currency", "award_status", "announced", "source_url", "source_publisher", "source_as_of",
    "source_confidence", "notes",
]


def funding_table(dataset: Dataset, stage: str | None = None, state: str | None = None,
                  program: str | None = None, status: str | None = None) -> pd.DataFrame:
    """Awards joined to facility (stage, state) and recipient, with their sources. `state` is
    a subdivision code ("TN"), or "US-TN" to fix the country. A stage or state filter drops
    awards not tied to a facility, since their location is unknown."""
    want_stage = Stage(stage) if stage else None
    want_status = AwardStatus(status) if status else None
    known = [p.id for p in load_programs().program]
    if program is not None and program not in known:
        raise ValueError(f"unknown program {program!r} (one of: {known})")
    country, _, region = state.strip().upper().rpartition("-") if state else ("", "", "")
    facilities = {f.id: f for f in dataset.facilities}
    orgs = {o.id: o for o in (*dataset.operator_stubs, *dataset.organizations)}
    rows = []
    for award in dataset.funding:
        site = facilities.get(award.facility_id) if award.facility_id else None
        ids = programs_for(award.program)
        if ((want_stage and (site is None or site.stage is not want_stage))
                or (state and (site is None or site.state_province != region
                               or country not in ("", site.country)))
                or (program and program not in ids)
                or (want_status and award.award_status is not want_status)):
            continue
        org = orgs.get(award.recipient_id)
        rows.append([
            award.id, award.recipient_id, org.name if org else None, award.facility_id,
            site.name if site else None, site.stage.value if site else None,
            site.state_province if site else None, site.country if site else None,
            award.program, ";".join(ids), _round_for(award.program, ids), award.agency,
            award.instrument.value, award.amount, award.currency, award.award_status.value,
            award.announced, award.source.url, award.source.publisher, award.source.as_of,
            award.source.confidence.value, award.notes,
        ])
    return pd.DataFrame(rows, columns=FUNDING_COLUMNS)


def program_table() -> pd.DataFrame:
    """One row per program, with its statute, amount and what the amount measures."""
    data = load_programs()
    frame = pd.DataFrame([p.model_dump(exclude={"series", "award_labels"}) for p in data.program])
    frame["stages"] = frame["stages"].map(";".join)
    frame["rounds"] = [";".join(r.id for r in data.round if p.id in r.programs)
                       for p in data.program]
    return frame.rename(columns={"citation": "statute"})

