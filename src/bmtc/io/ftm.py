"""FollowTheMoney entities (JSON lines, as Aleph and OpenSanctions export them) mapped onto
bmtc organizations, relationships and list memberships.

Sanctions become list memberships only where the authority and program name a list a bmtc
rule set consults (`sanction_list`). The others are not dropped: each is named in the
listed party's notes and returned in `FtmImport.unmapped_sanctions`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bmtc.domain.dataset import Dataset
from bmtc.domain.geo import normalize_country
from bmtc.domain.model import ListMembership, Organization, Relationship, Source
from bmtc.domain.percent import parse_percent
from bmtc.domain.vocab import Confidence, GovernmentLevel, Office, OrgKind, RelationshipKind
from bmtc.domain.vocab import ScreeningList as Lists
from bmtc.io.ownership_files import ProblemLog, add_shares, load_json_lines, unique_slugs

TABLE = "ftm"
_PARTIES = {
    "Company": OrgKind.COMPANY,
    "Organization": OrgKind.COMPANY,
    "LegalEntity": OrgKind.COMPANY,
    "PublicBody": OrgKind.STATE_BODY,
    "Person": OrgKind.PERSON,
}
_LINKS = {"Ownership": ("owner", "asset"), "Directorship": ("director", "organization")}
_GENERIC = {"Thing", "LegalEntity"}
_LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")
# OFAC lists other than the SDN list (sectoral, CMIC, non-SDN menu-based...), by the codes
# their programs carry.
_NOT_SDN = re.compile(r"\b(non-sdn|ns-\w+|ssi|sectoral|cmic|fse|capta|561)\b")


@dataclass
class FtmImport:
    dataset: Dataset
    unmapped_sanctions: list[str] = field(default_factory=list)
    # Entities outside the ownership graph (addresses, documents...), by schema.
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class _Entity:
    line: int
    id: str
    schema: str
    props: dict[str, list[str]]

    def all(self, name: str) -> list[str]:
        return self.props.get(name, [])

    def first(self, name: str) -> str | None:
        return next(iter(self.all(name)), None)


def sanction_list(authority: str, program: str) -> Lists | None:
    """The bmtc list a sanction belongs to, read from its authority and program names:
    UFLPA Entity List, DoD section 1260H list, NDAA FY2024 section 154(b), State Department
    FTO designations, and the OFAC SDN list (OFAC programs other than SDN are not mapped)."""
    text = f"{authority} {program}".lower()
    if "uflpa" in text or "forced labor prevention" in text:
        return Lists.UFLPA
    if "1260h" in text or "chinese military companies" in text:
        return Lists.DOD_1260H
    if "154(b)" in text:
        return Lists.NDAA_154B
    if "foreign terrorist organization" in text or re.search(r"\bfto\b", text):
        return Lists.FTO
    if re.search(r"\b(ofac|sdn)\b|office of foreign assets control", text):
        return None if _NOT_SDN.search(text) else Lists.OFAC_SDN
    return None


def load_ftm(path: Path) -> FtmImport:
    log, result = ProblemLog(path.name, TABLE), FtmImport(Dataset())
    entities = _entities(path, log)
    parties = {k: e for k, e in entities.items() if e.schema in _PARTIES}
    slugs = unique_slugs(parties, "ftm")
    notes: dict[str, list[str]] = defaultdict(list)
    links: dict[tuple[Any, ...], dict[str, Any]] = {}
    lists: dict[str, ListMembership] = {}
    for entity in sorted(entities.values(), key=lambda e: e.id):
        ends = _LINKS.get(entity.schema, ("entity",) if entity.schema == "Sanction" else ())
        if any(ref in entities and ref not in slugs for ref in map(entity.first, ends)):
            # Links to vessels, land and other assets are outside the ownership graph.
            result.skipped[f"{entity.schema} of a non-party"] += 1
            continue
        if entity.schema == "Sanction":
            if (ref := _ref(entity, "entity", slugs, log)) is None:
                continue
            if listed := sanction_list(*_labels(entity)):
                if member := _sanction(entity, listed, slugs[ref], parties[ref], log):
                    lists.setdefault(member.id, member)
            else:
                said = " / ".join(filter(None, _labels(entity))) or "no authority or program"
                result.unmapped_sanctions.append(f"{entity.id}: {said}")
                notes[ref].append(f"sanction not on a bmtc list: {said}")
        elif entity.schema in _LINKS:
            if fields := _link(entity, slugs, log):
                key = tuple(fields[k] for k in ("owner_id", "owned_id", "kind", "valid_from"))
                links[key] = _join(links[key], fields, entity, log) if key in links else fields
        elif entity.schema not in _PARTIES:
            result.skipped[entity.schema] += 1
    orgs = [_organization(e, slugs[k], notes[k], log) for k, e in sorted(parties.items())]
    rels = [log.build(Relationship, f.pop("line"), "properties", **f) for f in links.values()]
    log.check()
    result.dataset = Dataset(
        organizations=sorted((o for o in orgs if o), key=lambda o: o.id),
        relationships=sorted((r for r in rels if r), key=lambda r: r.id),
        list_memberships=sorted(lists.values(), key=lambda m: m.id),
    )
    return result


def read_ftm(path: Path) -> Dataset:
    """Read FollowTheMoney JSON lines; see `load_ftm` for what was left out."""
    return load_ftm(path).dataset


def _entities(path: Path, log: ProblemLog) -> dict[str, _Entity]:
    entities: dict[str, _Entity] = {}
    for line, raw in load_json_lines(path, TABLE):
        props = raw.get("properties", {}) if isinstance(raw, dict) else None
        key, schema = (raw.get(k) if isinstance(raw, dict) else None for k in ("id", "schema"))
        if not isinstance(key, str) or not key.strip() or not isinstance(schema, str):
            log.add(line, None, "an entity needs a string id and schema")
            continue
        if not isinstance(props, dict):
            log.add(line, "properties", "must be an object of property lists")
            continue
        values: dict[str, list[str]] = {}
        for name, raw_values in props.items():
            listed = raw_values if isinstance(raw_values, list) else [raw_values]
            if not all(isinstance(v, str | int | float) for v in listed):
                log.add(line, f"properties.{name}", "must be a list of strings")
            values[name] = [t for v in listed if (t := str(v).strip())]
        # An entity may be split over lines; the fragments are merged, as FtM tools do.
        held = entities.setdefault(key, _Entity(line, key, schema, {}))
        if schema != held.schema and held.schema not in _GENERIC and schema not in _GENERIC:
            log.add(line, "schema", f"{schema} conflicts with {held.schema} on line {held.line}")
        held.schema = held.schema if schema in _GENERIC else schema
        for name, found in values.items():
            held.props[name] = list(dict.fromkeys(held.all(name) + found))
    return entities


def _labels(entity: _Entity) -> tuple[str, str]:
    program = "; ".join(entity.all("program") + entity.all("programId"))
    return "; ".join(entity.all("authority")), program


def _ref(entity: _Entity, prop: str, slugs: dict[str, str], log: ProblemLog) -> str | None:
    ref = entity.first(prop)
    if ref in slugs:
        return ref
    reason = f"refers to no company, organization or person ({ref!r})" if ref else "is required"
    log.add(entity.line, f"properties.{prop}", reason)
    return None


def _source(entity: _Entity, log: ProblemLog) -> Source:
    urn = f"urn:ftm:{quote(entity.id, safe='')}"
    url, publisher = entity.first("sourceUrl"), entity.first("publisher")
    stamp = (entity.first("retrievedAt") or entity.first("modifiedAt") or "")[:10]
    as_of = log.date(stamp, entity.line, "properties.retrievedAt")
    # Like a BODS source without a URL, a named publisher alone makes the fact secondary.
    confidence = Confidence.SECONDARY if url or publisher else Confidence.UNSOURCED
    fields = {"url": url or urn, "publisher": publisher, "as_of": as_of, "confidence": confidence}
    return log.build(Source, entity.line, "properties.sourceUrl", **fields) or Source(url=urn)


def _countries(entity: _Entity, names: tuple[str, ...], unknown: list[str]) -> list[str]:
    found = []
    for code in (c for n in names for c in entity.all(n)):
        try:
            found.append(normalize_country(code))
        except ValueError:
            # FtM also has codes for former states and regions ("suhh", "zz"): kept in notes.
            unknown.append(code)
    return list(dict.fromkeys(found))


def _organization(
    entity: _Entity, org_id: str, notes: list[str], log: ProblemLog
) -> Organization | None:
    kind, topics = _PARTIES[entity.schema], set(entity.all("topics"))
    unknown: list[str] = []
    if kind is OrgKind.COMPANY and "gov.soe" in topics:
        kind = OrgKind.STATE_OWNED_ENTERPRISE
    if kind is not OrgKind.PERSON and "pol.party" in topics:
        kind = OrgKind.POLITICAL_PARTY
    name = entity.first("name") or None
    fields: dict[str, Any] = {"id": org_id, "name": name, "kind": kind}
    fields["aliases"] = tuple(a for a in entity.all("alias") if a != name and ";" not in a)
    if kind is OrgKind.PERSON:
        nationalities = _countries(entity, ("nationality", "citizenship"), unknown)
        # FtM carries no tax residence, so a non-US nationality leaves US-person status open.
        fields["us_person"] = True if "US" in nationalities else None
        fields["nationalities"] = tuple(nationalities)
        # Absence of the topic proves nothing: only a listed PEP is marked.
        fields["senior_political_figure"] = True if "role.pep" in topics else None
    else:
        where = ("jurisdiction", "country") if kind is OrgKind.STATE_BODY else ("jurisdiction",)
        fields["country_incorporation"] = next(iter(_countries(entity, where, unknown)), None)
        # FtM's generic `country` is where an entity is; a single one is taken as its seat.
        main = _countries(entity, ("mainCountry",), unknown)
        main = main or _countries(entity, ("country",), unknown)
        fields["country_principal_place"] = main[0] if len(main) == 1 else None
        lei = entity.first("leiCode")
        fields["lei"] = lei if lei and _LEI.match(lei) else None
    if kind is OrgKind.STATE_BODY:
        subnational = topics & {"gov.state", "gov.muni"}
        fields["government_level"] = (
            GovernmentLevel.SUBNATIONAL
            if subnational
            else (GovernmentLevel.NATIONAL if "gov.national" in topics else None)
        )
    facts = [f"FtM {entity.schema} {entity.id}", *sorted(notes)]
    facts += [f"unrecognised country codes: {', '.join(unknown)}"] if unknown else []
    fields.update(notes="; ".join(facts), source=_source(entity, log))
    return log.build(Organization, entity.line, "properties", **fields)


def _link(entity: _Entity, slugs: dict[str, str], log: ProblemLog) -> dict[str, Any] | None:
    ends = [_ref(entity, prop, slugs, log) for prop in _LINKS[entity.schema]]
    start = log.date(entity.first("startDate"), entity.line, "properties.startDate")
    end = log.date(entity.first("endDate"), entity.line, "properties.endDate")
    owner, owned = ends
    if owner is None or owned is None:
        return None
    if owner == owned:
        log.add(entity.line, "properties", f"self-ownership of {owner!r}")
        return None
    role = "; ".join(entity.all("role"))
    fields: dict[str, Any] = {
        "owner_id": slugs[owner],
        "owned_id": slugs[owned],
        "valid_from": start,
    }
    fields.update(valid_to=end, line=entity.line, source=_source(entity, log))
    fields["notes"] = "; ".join(filter(None, [f"FtM {entity.schema} {entity.id}", role]))
    if entity.schema == "Directorship":
        # As for BODS board chairs, officer_rights names the office the seat carries.
        chair = (Office.CHAIR,) if "chair" in role.lower() else ()
        kind = RelationshipKind.DIRECTORSHIP
        return fields | {"kind": kind, "board_seats_held": 1, "officer_rights": chair}
    share = None
    if text := entity.first("percentage"):
        try:
            share = parse_percent(text)
        except ValueError as exc:
            log.add(entity.line, "properties.percentage", str(exc))
            return None
    share_of = "voting_pct" if "voting" in role.lower() else "equity_pct"
    return fields | {"kind": RelationshipKind.OWNERSHIP, share_of: share}


def _join(
    held: dict[str, Any], new: dict[str, Any], entity: _Entity, log: ProblemLog
) -> dict[str, Any]:
    """Two FtM links with one key: shares add up (share classes), notes are kept."""
    for name in ("equity_pct", "voting_pct"):
        try:
            held[name] = add_shares(held.get(name), new.get(name))
        except ValueError as exc:
            log.add(entity.line, "properties.percentage", f"holdings {exc}")
    ends = [held["valid_to"], new["valid_to"]]
    held["valid_to"] = None if None in ends else max(ends)
    held["notes"] = f"{held['notes']}; {new['notes']}"
    return held


def _sanction(
    entity: _Entity, listed: Lists, org_id: str, party: _Entity, log: ProblemLog
) -> ListMembership | None:
    start = entity.first("listingDate") or entity.first("startDate")
    column = "properties.listingDate" if entity.first("listingDate") else "properties.startDate"
    fields = {
        "list_id": listed,
        "org_id": org_id,
        "listed_name": party.first("name"),
        "listed_from": log.date(start, entity.line, column),
        "listed_to": log.date(entity.first("endDate"), entity.line, "properties.endDate"),
        "notes": " / ".join(filter(None, _labels(entity))) or None,
        "source": _source(entity, log),
    }
    return log.build(ListMembership, entity.line, "properties", **fields)
