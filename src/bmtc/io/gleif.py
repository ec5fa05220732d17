"""GLEIF golden-copy CSV files: Level 1 (LEI-CDF, who is who) and Level 2 (RR-CDF, who owns
whom) mapped onto bmtc organizations and relationships.

Level 2 reports accounting consolidation, not shareholdings. Consolidation under IFRS 10 or
US GAAP (ASC 810) means the parent controls the child, and control usually, but not always,
comes from holding a majority. A direct consolidation edge therefore becomes an ownership
whose equity is the reported percentage when there is one and otherwise the presumption
`>50`, marked `secondary` and explained in its notes. Ultimate consolidation edges follow
from the direct ones and are counted, not stored.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bmtc.domain.dataset import Dataset
from bmtc.domain.dates import parse_partial_date
from bmtc.domain.geo import normalize_country
from bmtc.domain.model import Organization, Relationship, Source
from bmtc.domain.percent import PercentRange
from bmtc.domain.vocab import Confidence, OrgKind, RelationshipKind
from bmtc.io.ownership_files import ProblemLog
from bmtc.io.problems import ImportFailed

LEVEL1, LEVEL2 = "gleif-l1", "gleif-rr"
PUBLISHER = "GLEIF"
DIRECT, ULTIMATE = "IS_DIRECTLY_CONSOLIDATED_BY", "IS_ULTIMATELY_CONSOLIDATED_BY"
BRANCH = "IS_INTERNATIONAL_BRANCH_OF"
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
_NAME_COLUMN = re.compile(
    r"^Entity\.(OtherEntityNames\.OtherEntityName|"
    r"TransliteratedOtherEntityNames\.TransliteratedOtherEntityName)\.\d+$"
)
# Registrations that name no real entity: a cancelled or duplicated LEI.
_VOID = {"ANNULLED", "DUPLICATE"}
_PRESUMED = PercentRange(50, 100, low_open=True)


@dataclass
class Level2Import:
    dataset: Dataset
    # Rows read but not stored, by reason: the ultimate-consolidation edges, inactive or
    # unpublished records, and relationship types outside ownership (fund management...).
    skipped: Counter[str] = field(default_factory=Counter)


def gleif_org_id(lei: str) -> str:
    return f"lei-{lei.lower()}"


def gleif_source(
    lei: str, as_of: str | None, confidence: Confidence = Confidence.PRIMARY
) -> Source:
    return Source(
        url=f"https://search.gleif.org/#/record/{lei}",
        publisher=PUBLISHER,
        as_of=as_of,
        confidence=confidence,
    )


def read_gleif_level1(path: Path, leis: Collection[str] | None = None) -> Dataset:
    """Companies from an LEI-CDF golden-copy CSV; `leis` keeps only those records, since the
    full golden copy holds millions."""
    log, orgs = ProblemLog(path.name, LEVEL1), {}
    for row, cells in _rows(path, LEVEL1, ("LEI", "Entity.LegalName")):
        lei = cells.get("LEI", "").strip()
        if not _LEI.match(lei):
            log.add(row, "LEI", f"{lei!r} is not a 20-character LEI")
            continue
        status = cells.get("Registration.RegistrationStatus")
        if status in _VOID or (leis is not None and lei not in leis):
            continue
        if lei in orgs:
            log.add(row, "LEI", f"{lei} appears more than once")
            continue
        if org := _organization(lei, cells, row, log):
            orgs[lei] = org
    log.check()
    return Dataset(organizations=sorted(orgs.values(), key=lambda o: o.id))


def _organization(
    lei: str, cells: dict[str, str], row: int, log: ProblemLog
) -> Organization | None:
    # The legal jurisdiction ("US-DE") names the country of incorporation; the legal address
    # stands in when it is missing.
    countries: dict[str, str | None] = {}
    for name, column in (
        ("country_incorporation", "Entity.LegalJurisdiction"),
        ("country_incorporation", "Entity.LegalAddress.Country"),
        ("country_hq", "Entity.HeadquartersAddress.Country"),
    ):
        value = cells.get(column, "").split("-")[0].strip()
        try:
            if value and not countries.get(name):
                countries[name] = normalize_country(value)
        except ValueError:
            log.add(row, column, f"{value!r} is not an ISO 3166 country code")
    names = (v.strip() for k, v in cells.items() if _NAME_COLUMN.match(k) and v)
    category = cells.get("Entity.EntityCategory", "")
    facts = [
        f"GLEIF {label} {value}"
        for label, value in (
            ("entity category", category),
            ("entity status", cells.get("Entity.EntityStatus", "")),
            ("registration status", cells.get("Registration.RegistrationStatus", "")),
        )
        if value and value not in ("GENERAL", "ACTIVE", "ISSUED")
    ]
    return log.build(
        Organization,
        row,
        "",
        id=gleif_org_id(lei),
        name=cells.get("Entity.LegalName"),
        lei=lei,
        # GLEIF's own category for a government body; its level is not stated.
        kind=OrgKind.STATE_BODY if category == "RESIDENT_GOVERNMENT_ENTITY" else OrgKind.COMPANY,
        aliases=tuple(dict.fromkeys(n for n in names if n and ";" not in n)),
        notes="; ".join(facts) or None,
        source=gleif_source(lei, _day(cells.get("Registration.LastUpdateDate"))),
        **countries,
    )


def load_gleif_level2(path: Path, level1: Dataset | None = None) -> Level2Import:
    """Ownership edges from an RR-CDF golden-copy CSV, with what was skipped and why.

    Organizations found by LEI in `level1` (any Dataset) keep their ids there; other nodes
    become stub companies named by their LEI."""
    log, skipped = ProblemLog(path.name, LEVEL2), Counter[str]()
    known = {o.lei: o for o in (level1.organizations if level1 else []) if o.lei}
    orgs: dict[str, Organization] = {}
    rels: dict[str, Relationship] = {}
    needed = ("Relationship.StartNode.NodeID", "Relationship.EndNode.NodeID")
    for row, cells in _rows(path, LEVEL2, (*needed, "Relationship.RelationshipType")):
        kind = cells.get("Relationship.RelationshipType", "")
        status = cells.get("Relationship.RelationshipStatus", "ACTIVE")
        published = cells.get("Registration.RegistrationStatus", "PUBLISHED")
        if status != "ACTIVE" or published != "PUBLISHED":
            skipped["inactive or unpublished"] += 1
            continue
        if kind not in (DIRECT, BRANCH):
            skipped[kind or "no relationship type"] += 1
            continue
        child, parent = (cells.get(c, "").strip() for c in needed)
        bad = [(c, v) for c, v in zip(needed, (child, parent), strict=True) if not _LEI.match(v)]
        for column, value in bad:
            log.add(row, column, f"{value!r} is not a 20-character LEI")
        if child == parent and not bad:
            log.add(row, needed[1], f"{child} is consolidated by itself")
        if bad or child == parent:
            continue
        for lei in (child, parent):
            orgs.setdefault(lei, known.get(lei) or _stub(lei))
        if rel := _edge(orgs[parent].id, orgs[child].id, kind, cells, row, log):
            held = rels.get(rel.id)
            rels[rel.id] = rel if held is None else _join(held, rel)
    log.check()
    dataset = Dataset(
        organizations=sorted(orgs.values(), key=lambda o: o.id),
        relationships=sorted(rels.values(), key=lambda r: r.id),
    )
    return Level2Import(dataset, skipped)


def read_gleif_level2(path: Path, level1: Dataset | None = None) -> Dataset:
    return load_gleif_level2(path, level1).dataset


def _stub(lei: str) -> Organization:
    notes = "stub: named by a GLEIF relationship record, not in the Level 1 data given"
    return Organization(
        id=gleif_org_id(lei), name=lei, lei=lei, notes=notes, source=gleif_source(lei, None)
    )


def _edge(
    owner: str, owned: str, kind: str, cells: dict[str, str], row: int, log: ProblemLog
) -> Relationship | None:
    start = end = equity = None
    for n in range(1, 6):
        period = f"Relationship.Period.{n}."
        if cells.get(period + "periodType") == "RELATIONSHIP_PERIOD":
            start = log.date(cells.get(period + "startDate"), row, period + "startDate")
            end = log.date(cells.get(period + "endDate"), row, period + "endDate")
        quantity = f"Relationship.Quantifiers.{n}."
        if cells.get(quantity + "QuantifierUnits") == "PERCENTAGE":
            amount = cells.get(quantity + "QuantifierAmount", "")
            try:
                equity = PercentRange(float(amount), float(amount))
            except ValueError:
                log.add(row, quantity + "QuantifierAmount", f"{amount!r} is not a percentage")
    child_lei = cells["Relationship.StartNode.NodeID"].strip()
    as_of = _day(cells.get("Registration.LastUpdateDate"))
    if kind == BRANCH:
        # A branch has no legal personality of its own: the head office holds all of it.
        equity, note, confidence = PercentRange(100, 100), f"GLEIF {BRANCH}", Confidence.PRIMARY
    elif equity is None:
        note = f"GLEIF {DIRECT}: equity >50 presumed from accounting consolidation (control)"
        equity, confidence = _PRESUMED, Confidence.SECONDARY
    else:
        note, confidence = f"GLEIF {DIRECT}: consolidated share as reported", Confidence.PRIMARY
    return log.build(
        Relationship,
        row,
        "",
        owner_id=owner,
        owned_id=owned,
        kind=RelationshipKind.OWNERSHIP,
        equity_pct=equity,
        valid_from=start,
        valid_to=end,
        notes=note,
        source=gleif_source(child_lei, as_of, confidence),
    )


def _join(a: Relationship, b: Relationship) -> Relationship:
    """Two records of one edge: keep the reported figure over the presumption."""
    if a.equity_pct == _PRESUMED:
        return b
    return a


def _day(value: Any) -> str | None:
    try:
        return parse_partial_date(value.strip()[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def _rows(
    path: Path, table: str, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                columns = ", ".join(missing)
                raise ImportFailed.single(path.name, f"has no {columns} column (not {table}?)")
            for row, cells in enumerate(reader, start=2):
                yield row, {k: v or "" for k, v in cells.items() if isinstance(k, str)}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed.single(path.name, f"is not a readable CSV file: {exc}") from None
